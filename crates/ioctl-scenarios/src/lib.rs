//! IOCTL fuzzing through the whole DeviceIoControl path of the kernel model: the operation
//! generator and the invariants, in one crate for both drivers of it.
//!
//! * `fuzz/fuzz_targets/ioctl.rs` (libFuzzer, `cargo fuzz run ioctl`; the fuzz crate is its own
//!   workspace and depends on this crate by path) builds a [`Scenario`] from the fuzzer's bytes
//!   with `arbitrary` and calls [`run`].
//! * `crates/driver/tests/ioctl_properties.rs` (`cargo test`; this crate is a dev-dependency of
//!   the driver crate) feeds [`Scenario::from_bytes`] with proptest's random bytes and calls
//!   [`run`].
//!
//! The kernel model exists off Windows only, and so does this crate's content.
//!
//! # What a scenario is
//!
//! One kernel per scenario ([`Kernel::boot`] with the scenario's completion mode — async, inline
//! or delayed up to 255 µs —, WskSendMessages support, and in a third of the scenarios one
//! injected failure: the nth call at one allocation or WSK call site fails), the real driver
//! loaded, one administrator read/write handle, then up to [`MAX_OPS`] operations:
//!
//! * a raw IOCTL: any `u32` code (biased to the four real codes, their function neighbours and
//!   their access/method/device-type variants), input up to [`MAX_BUFFER`] bytes and any output
//!   length up to [`MAX_BUFFER`];
//! * a valid request (send, batch, configure, query stats) made by the ABI crate's encoders;
//! * a mutated valid request: bit flips, field overwrites with boundary values, inserts,
//!   removals, truncation, extension, optionally sent with another code;
//! * a fresh open (administrator, LocalSystem or a standard user; read-only, write-only, no
//!   access or read/write) followed by a request on that handle;
//! * a statistics check;
//! * two to four of the above requests at once, each from its own thread (then replies are
//!   checked for what does not depend on the order: validation statuses, reply contents,
//!   distinct sequence numbers, and the statistics once all have completed; whatever a racing
//!   configure request changed is unknown until a later one sets it again).
//!
//! # Where datagrams may go
//!
//! Every destination the driver could use is on 127.0.0.1 or ::1, at the port of a sink this
//! module binds (and drains) or the discard port 9. Valid requests are built that way; for raw and
//! mutated inputs [`guard`] decodes the input with the ABI crate's own decoders (the ones the
//! driver uses on the same bytes) and rewrites any other decodable destination or bind address to
//! an allowed one before the IOCTL is issued. The model's loopback-only policy stays on as a
//! second net, and a STATUS_NETWORK_UNREACHABLE (its refusal) is reported as a finding.
//!
//! # Invariants
//!
//! After every operation: no panic; `kernel.violations()` is empty; the IOCTL completed (a
//! [`HarnessError::RequestNotCompleted`] is a hang); `information <= output_len` and
//! `output.len() <= output_len`; the status is STATUS_SUCCESS or an error (never
//! STATUS_PENDING, never an informational or warning status but the documented
//! STATUS_DEVICE_BUSY) and one the ABI crate names;
//! errors carry no information and no output. The status is predicted from the ABI crate where
//! the driver's validation decides it (access bits, unknown code, buffer sizes, every decoder
//! error), and must match exactly. Replies must decode, have the exact size, agree with the
//! request (bytes sent, datagram count, increasing sequence numbers) and hold no run of
//! [`POISON_RUN`] bytes of the model's 0xC5 fill. Statistics must agree with what the scenario
//! did (requests that reached the driver, failures, pool size, fixed destinations, nothing in
//! flight, every slot free, datagram, byte and batch counters within bounds), both when a
//! scenario asks and once more at its end. Then the unload report must be clean: no violation
//! and no leak. A load stopped by an injected failure must fail with a clear status and leave
//! nothing behind.
//!
//! `IOCTL_FUZZ_TRACE=1` prints every IOCTL and its result to stderr.
//!
//! ## Why the 0xC5 check is sound for the replies
//!
//! The model fills the METHOD_BUFFERED system buffer past the input with 0xC5, so an output
//! byte the driver forgot to write shows as 0xC5. Four 0xC5 bytes in a row can still be
//! legitimate only where a field can hold them:
//!
//! * send reply: version 1, reserved 0, bytes_sent <= 65,527 (its two high bytes are 0), and a
//!   sequence number, which would have to reach 0xC5C5_C5C5 (3.3 × 10⁹): a kernel lives for
//!   one scenario, at most 32 × 4 × 256 sequence numbers. Every window crossing a field
//!   boundary holds a zero high byte.
//! * batch reply: datagrams <= 256, bytes <= 65,536, first sequence as above.
//! * statistics: every counter is bounded by what one scenario can do (≤ 129 requests, ≤ 32,768
//!   datagrams, ≤ 10 MB), pool figures by 256 slots of 65,536 bytes, kinds by 2: all far below
//!   0xC5C5_C5C5, so no window inside or across those fields is all 0xC5. The four address
//!   fields (bytes 96..224) are not scanned: IPv6 flow info and scope id, port and octets echo
//!   what the caller configured (a caller may set flow info 0xC5C5_C5C5). They are covered by
//!   [`Stats::decode`] instead, which refuses a poisoned family, reserved field or unused octet,
//!   and by comparing the fixed destinations with the ones the scenario configured.
//!
//! So a run of four 0xC5 bytes in a scanned region is uninitialised output, never a value. The
//! check sees only what lies past the input: input and output share one buffer, so a reply
//! byte left unwritten inside the input's length shows the caller's own byte instead. There the
//! decoders and the reply checks (bytes sent, datagram count, sequence numbers) take over.
#![cfg(not(target_os = "windows"))]

use std::fmt::{self, Write as _};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, UdpSocket};
use std::sync::OnceLock;
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use wdk_model::harness::{Access, Handle, HarnessError, IoMode, IoResult, Kernel};
use wdk_model::{Caller, CompletionMode, Fault, FaultSite, KernelConfig};
use wsk_sample_ioctl::status::{
    STATUS_ACCESS_DENIED, STATUS_BUFFER_TOO_SMALL, STATUS_DEVICE_BUSY, STATUS_DEVICE_NOT_READY,
    STATUS_INFO_LENGTH_MISMATCH, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_ADDRESS,
    STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER, STATUS_NETWORK_UNREACHABLE,
    STATUS_NOT_SUPPORTED, STATUS_PENDING, STATUS_SUCCESS, STATUS_UNSUCCESSFUL,
};
use wsk_sample_ioctl::{
    BATCH_REPLY_SIZE, BatchReply, CONFIG_REQUEST_SIZE, ConfigAction, Destination, Family,
    FixedDestination, IOCTL_WSK_SAMPLE_CONFIGURE, IOCTL_WSK_SAMPLE_QUERY_STATS,
    IOCTL_WSK_SAMPLE_SEND, IOCTL_WSK_SAMPLE_SEND_BATCH, MAX_BATCH_BYTES, MAX_BATCH_DATAGRAMS,
    MAX_POOL_SLOTS, SEND_REPLY_SIZE, STATS_REPLY_SIZE, SendReply, Stats, USER_DEVICE_PATH,
    WIRE_ADDRESS_SIZE, batch_request_len, decode_batch_request, decode_send_request,
    encode_address, encode_batch, encode_send, send_request_len, status,
};

/// Operations per scenario, at most.
pub const MAX_OPS: usize = 32;
/// Largest input and output length generated (70 KiB: past every request the ABI allows).
pub const MAX_BUFFER: usize = 70 * 1024;
/// The model's fill for uninitialised memory and the unwritten part of the system buffer.
pub const POISON: u8 = 0xC5;
/// This many poison bytes in a row in a reply is uninitialised output (see the module docs).
pub const POISON_RUN: usize = 4;
/// The discard port: nobody listens on it here, so datagrams to it are dropped on loopback.
pub const DISCARD_PORT: u16 = 9;
/// The driver's slot size (stats report it).
const SLOT_SIZE: u32 = 65_536;
/// The driver's pool size at load.
const DEFAULT_POOL_SLOTS: u32 = 32;
/// Explicit leading bytes of a raw input, at most.
const MAX_HEAD: usize = 512;
/// Requests issued at the same time by a concurrent operation, at most.
const MAX_CONCURRENT: usize = 4;
/// Mutations applied to one valid request, at most.
const MAX_MUTATIONS: usize = 8;
/// Offset of the address field in send, batch and configure requests.
const ADDRESS_AT: usize = 8;

// ---------------------------------------------------------------------------------------------
// Loopback sinks
// ---------------------------------------------------------------------------------------------

/// UDP receivers on 127.0.0.1 and ::1, drained by a thread each for the life of the process.
#[derive(Debug)]
pub struct Sinks {
    /// The IPv4 sink.
    pub v4: SocketAddr,
    /// The IPv6 sink.
    pub v6: SocketAddr,
}

/// The process's sinks, bound on first use.
pub fn sinks() -> &'static Sinks {
    static SINKS: OnceLock<Sinks> = OnceLock::new();
    SINKS.get_or_init(|| Sinks {
        v4: sink(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))),
        v6: sink(SocketAddr::from((Ipv6Addr::LOCALHOST, 0))),
    })
}

fn sink(bind: SocketAddr) -> SocketAddr {
    let socket = UdpSocket::bind(bind).expect("bind a loopback sink");
    let address = socket.local_addr().expect("the sink's address");
    std::thread::Builder::new()
        .name(format!("ioctl-sink-{}", address.port()))
        .spawn(move || {
            let mut buffer = vec![0u8; 65_536];
            loop {
                if socket.recv(&mut buffer).is_err() {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        })
        .expect("start a sink thread");
    address
}

impl Sinks {
    fn port(&self, family: Family) -> u16 {
        match family {
            Family::V4 => self.v4.port(),
            Family::V6 => self.v6.port(),
        }
    }

    fn destination(&self, v6: bool, target: Target) -> SocketAddr {
        let family = if v6 { Family::V6 } else { Family::V4 };
        let port = match target {
            Target::Sink => self.port(family),
            Target::Discard => DISCARD_PORT,
        };
        loopback(family, port)
    }
}

fn loopback(family: Family, port: u16) -> SocketAddr {
    match family {
        Family::V4 => SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        Family::V6 => SocketAddr::from((Ipv6Addr::LOCALHOST, port)),
    }
}

// ---------------------------------------------------------------------------------------------
// The destination guard
// ---------------------------------------------------------------------------------------------

/// A destination the driver may send to: loopback, at a sink's port or the discard port.
pub fn allowed_destination(address: &SocketAddr) -> bool {
    let family = Family::of(address);
    let port = address.port();
    let host = match address {
        SocketAddr::V4(v4) => *v4.ip() == Ipv4Addr::LOCALHOST,
        SocketAddr::V6(v6) => *v6.ip() == Ipv6Addr::LOCALHOST,
    };
    host && (port == sinks().port(family) || port == DISCARD_PORT)
}

/// A local address the driver may bind to: loopback or the wildcard, port 0 or a sink's port
/// (which is taken, so that bind fails).
pub fn allowed_bind(address: &SocketAddr) -> bool {
    let family = Family::of(address);
    let host = match address {
        SocketAddr::V4(v4) => *v4.ip() == Ipv4Addr::LOCALHOST || v4.ip().is_unspecified(),
        SocketAddr::V6(v6) => *v6.ip() == Ipv6Addr::LOCALHOST || v6.ip().is_unspecified(),
    };
    host && (address.port() == 0 || address.port() == sinks().port(family))
}

/// The allowed destination an unwanted one is rewritten to (same family; IPv6 keeps its flow
/// info and scope id, which the fuzzer may still vary).
fn tame_destination(address: SocketAddr) -> SocketAddr {
    let family = Family::of(&address);
    let ports = [sinks().port(family), DISCARD_PORT];
    let port = ports[usize::from(address.port()) % ports.len()];
    match address {
        SocketAddr::V4(_) => SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)),
        SocketAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(
            Ipv6Addr::LOCALHOST,
            port,
            v6.flowinfo(),
            v6.scope_id(),
        )),
    }
}

fn tame_bind(address: SocketAddr) -> SocketAddr {
    let family = Family::of(&address);
    let ports = [0, sinks().port(family)];
    let port = ports[usize::from(address.port()) % ports.len()];
    match address {
        SocketAddr::V4(v4) => {
            let ip = if v4.ip().is_unspecified() {
                Ipv4Addr::UNSPECIFIED
            } else {
                Ipv4Addr::LOCALHOST
            };
            SocketAddr::V4(SocketAddrV4::new(ip, port))
        }
        SocketAddr::V6(v6) => {
            let ip = if v6.ip().is_unspecified() {
                Ipv6Addr::UNSPECIFIED
            } else {
                Ipv6Addr::LOCALHOST
            };
            SocketAddr::V6(SocketAddrV6::new(ip, port, v6.flowinfo(), v6.scope_id()))
        }
    }
}

/// The address a request would make the driver use, decoded as the driver decodes it: a
/// destination (`true`) or a bind address (`false`). `None` when the driver would refuse the
/// request or it names no address.
fn address_in(code: u32, input: &[u8]) -> Option<(SocketAddr, bool)> {
    let destination = |d: Destination| match d {
        Destination::Address(a) => Some((a, true)),
        Destination::Fixed(_) => None,
    };
    match code {
        IOCTL_WSK_SAMPLE_SEND => decode_send_request(input)
            .ok()
            .and_then(|r| destination(r.destination)),
        IOCTL_WSK_SAMPLE_SEND_BATCH => decode_batch_request(input)
            .ok()
            .and_then(|r| destination(r.destination)),
        IOCTL_WSK_SAMPLE_CONFIGURE => match ConfigAction::decode(input).ok()? {
            ConfigAction::Bind(a) => Some((a, false)),
            ConfigAction::FixedRemote(a) | ConfigAction::FixedSendTo(a) => Some((a, true)),
            ConfigAction::ClearFixed(_) | ConfigAction::PoolSlots(_) => None,
        },
        _ => None,
    }
}

/// Rewrites any destination or bind address in `input` that is not allowed, then checks the
/// result. Returns whether it rewrote; `Err` if the input still names an address outside the
/// allowed set (a bug of this harness, never of the driver).
pub fn guard(code: u32, input: &mut [u8]) -> Result<bool, String> {
    let mut rewrote = false;
    // Receiving is never turned on: a pended receive waits for a datagram the scenario does not
    // send (tests/receive.rs covers receiving). A well-formed "receive" or "echo" mode request
    // becomes "off", which the driver accepts and which changes nothing.
    if code == wsk_sample_ioctl::IOCTL_WSK_SAMPLE_RECEIVE_MODE
        && wsk_sample_ioctl::ModeRequest::decode(input)
            .is_ok_and(|r| r.mode != wsk_sample_ioctl::ReceiveMode::Off)
        && let Some(mode) = input.get_mut(4..6)
    {
        mode.copy_from_slice(&0u16.to_le_bytes());
        rewrote = true;
    }
    if let Some((address, is_destination)) = address_in(code, input) {
        let allowed = if is_destination {
            allowed_destination(&address)
        } else {
            allowed_bind(&address)
        };
        if !allowed {
            let tamed = if is_destination {
                tame_destination(address)
            } else {
                tame_bind(address)
            };
            let mut wire = [0u8; WIRE_ADDRESS_SIZE];
            encode_address(Some(tamed), &mut wire);
            if let Some(field) = input.get_mut(ADDRESS_AT..ADDRESS_AT + WIRE_ADDRESS_SIZE) {
                field.copy_from_slice(&wire);
                rewrote = true;
            }
        }
    }
    match address_in(code, input) {
        Some((a, true)) if !allowed_destination(&a) => {
            Err(format!("harness: destination {a} escaped the guard"))
        }
        Some((a, false)) if !allowed_bind(&a) => {
            Err(format!("harness: bind address {a} escaped the guard"))
        }
        _ => Ok(rewrote),
    }
}

// ---------------------------------------------------------------------------------------------
// Control codes
// ---------------------------------------------------------------------------------------------

/// One of the driver's four control codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum RealCode {
    /// IOCTL_WSK_SAMPLE_SEND.
    Send,
    /// IOCTL_WSK_SAMPLE_QUERY_STATS.
    QueryStats,
    /// IOCTL_WSK_SAMPLE_CONFIGURE.
    Configure,
    /// IOCTL_WSK_SAMPLE_SEND_BATCH.
    SendBatch,
}

impl RealCode {
    /// The control code.
    pub const fn code(self) -> u32 {
        match self {
            RealCode::Send => IOCTL_WSK_SAMPLE_SEND,
            RealCode::QueryStats => IOCTL_WSK_SAMPLE_QUERY_STATS,
            RealCode::Configure => IOCTL_WSK_SAMPLE_CONFIGURE,
            RealCode::SendBatch => IOCTL_WSK_SAMPLE_SEND_BATCH,
        }
    }
}

/// A control code: mostly a real one, else a near miss, else anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeSpec {
    /// A real code.
    Real(RealCode),
    /// A real code with its function number moved by a few.
    Neighbour(RealCode, i8),
    /// A real code with other required-access bits.
    AccessBits(RealCode, u8),
    /// A real code with another transfer method.
    Method(RealCode, u8),
    /// A real code with another device type.
    DeviceType(RealCode, u16),
    /// Any code.
    Any(u32),
}

impl<'a> Arbitrary<'a> for CodeSpec {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u.int_in_range(0u8..=15)? {
            0..=7 => CodeSpec::Real(u.arbitrary()?),
            8..=9 => CodeSpec::Neighbour(u.arbitrary()?, u.int_in_range(-4i8..=4)?),
            10..=11 => CodeSpec::AccessBits(u.arbitrary()?, u.int_in_range(0u8..=3)?),
            12 => CodeSpec::Method(u.arbitrary()?, u.int_in_range(0u8..=3)?),
            13 => CodeSpec::DeviceType(u.arbitrary()?, u.arbitrary()?),
            _ => CodeSpec::Any(u.arbitrary()?),
        })
    }
}

impl CodeSpec {
    /// The control code.
    pub fn code(self) -> u32 {
        const FUNCTION: u32 = 0xFFF << 2;
        const ACCESS: u32 = 3 << 14;
        match self {
            CodeSpec::Real(real) => real.code(),
            CodeSpec::Neighbour(real, delta) => {
                let code = real.code();
                let function = (((code & FUNCTION) >> 2) as i32 + i32::from(delta)).clamp(0, 0xFFF);
                (code & !FUNCTION) | ((function as u32) << 2)
            }
            CodeSpec::AccessBits(real, access) => {
                (real.code() & !ACCESS) | ((u32::from(access) & 3) << 14)
            }
            CodeSpec::Method(real, method) => (real.code() & !3) | (u32::from(method) & 3),
            CodeSpec::DeviceType(real, device) => {
                (real.code() & 0xFFFF) | (u32::from(device) << 16)
            }
            CodeSpec::Any(code) => code,
        }
    }
}

/// The reply size of a code (16 for codes the driver does not know).
fn reply_size(code: u32) -> usize {
    match code {
        IOCTL_WSK_SAMPLE_SEND => SEND_REPLY_SIZE,
        IOCTL_WSK_SAMPLE_QUERY_STATS => STATS_REPLY_SIZE,
        IOCTL_WSK_SAMPLE_CONFIGURE => 0,
        IOCTL_WSK_SAMPLE_SEND_BATCH => BATCH_REPLY_SIZE,
        _ => SEND_REPLY_SIZE,
    }
}

/// The output buffer length of an IOCTL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum OutLen {
    /// No output buffer.
    Zero,
    /// The code's reply size moved by `n / 16` (-8 ..= 7).
    Reply(i8),
    /// Up to 255 bytes.
    Small(u8),
    /// Up to [`MAX_BUFFER`].
    Any(u32),
    /// [`MAX_BUFFER`].
    Max,
}

impl OutLen {
    /// The length for `code`.
    pub fn resolve(self, code: u32) -> usize {
        match self {
            OutLen::Zero => 0,
            OutLen::Reply(delta) => (reply_size(code) as i64 + i64::from(delta) / 16)
                .clamp(0, MAX_BUFFER as i64) as usize,
            OutLen::Small(n) => usize::from(n),
            OutLen::Any(n) => n as usize % (MAX_BUFFER + 1),
            OutLen::Max => MAX_BUFFER,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Raw inputs
// ---------------------------------------------------------------------------------------------

/// A raw input buffer: explicit leading bytes, extended (or cut) to a length with a fill.
#[derive(Clone, Debug, PartialEq, Eq, Arbitrary)]
pub struct Bytes {
    /// The first bytes.
    #[arbitrary(with = head)]
    pub head: Vec<u8>,
    /// The total length.
    pub len: LenSpec,
    /// What follows the head.
    pub fill: Fill,
}

fn head(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<u8>> {
    let max = if u.ratio(1u8, 4)? { MAX_HEAD } else { 64 };
    let len = u.int_in_range(0..=max)?;
    Ok(u.bytes(len.min(u.len()))?.to_vec())
}

/// How long a raw input is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum LenSpec {
    /// Just the head.
    Head,
    /// Any length up to [`MAX_BUFFER`].
    Exact(u32),
    /// A length the ABI cares about, moved by `n / 16` (-8 ..= 7).
    Near(Landmark, i8),
}

/// Lengths the ABI cares about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum Landmark {
    /// A send or batch header (48) and a configure request (48).
    Header,
    /// A send request with the largest IPv4 payload.
    SendMaxV4,
    /// A send request with the largest IPv6 payload.
    SendMaxV6,
    /// A batch of 256 datagrams and 65,536 bytes.
    BatchMax,
    /// The stats reply.
    Stats,
    /// [`MAX_BUFFER`].
    Max,
}

impl Landmark {
    fn value(self) -> usize {
        match self {
            Landmark::Header => CONFIG_REQUEST_SIZE,
            Landmark::SendMaxV4 => send_request_len(Family::V4.max_payload()),
            Landmark::SendMaxV6 => send_request_len(Family::V6.max_payload()),
            Landmark::BatchMax => batch_request_len(MAX_BATCH_DATAGRAMS, MAX_BATCH_BYTES),
            Landmark::Stats => STATS_REPLY_SIZE,
            Landmark::Max => MAX_BUFFER,
        }
    }
}

/// What fills a raw input after its head.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum Fill {
    /// Zeros.
    Zero,
    /// One byte, repeated.
    Byte(u8),
    /// The model's poison byte.
    Poison,
    /// A pattern from a seed.
    Pattern(u8),
}

fn pattern(length: usize, seed: u8) -> impl Iterator<Item = u8> {
    (0..length).map(move |i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8)
}

impl Bytes {
    /// The buffer.
    pub fn build(&self) -> Vec<u8> {
        let len = match self.len {
            LenSpec::Head => self.head.len(),
            LenSpec::Exact(n) => n as usize % (MAX_BUFFER + 1),
            LenSpec::Near(landmark, delta) => (landmark.value() as i64 + i64::from(delta) / 16)
                .clamp(0, MAX_BUFFER as i64) as usize,
        };
        let mut bytes = Vec::with_capacity(len);
        bytes.extend_from_slice(&self.head[..len.min(self.head.len())]);
        let rest = len - bytes.len();
        match self.fill {
            Fill::Zero => bytes.resize(len, 0),
            Fill::Byte(b) => bytes.resize(len, b),
            Fill::Poison => bytes.resize(len, POISON),
            Fill::Pattern(seed) => bytes.extend(pattern(rest, seed)),
        }
        bytes
    }
}

// ---------------------------------------------------------------------------------------------
// Valid requests
// ---------------------------------------------------------------------------------------------

/// Which allowed port a destination uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum Target {
    /// The family's sink.
    Sink,
    /// The discard port.
    Discard,
}

/// Where a valid send or batch goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum Dest {
    /// An explicit loopback destination.
    Address {
        /// IPv6 (::1) rather than IPv4 (127.0.0.1).
        v6: bool,
        /// Which port.
        target: Target,
    },
    /// The socket's fixed destination (STATUS_INVALID_ADDRESS if none is set).
    Fixed {
        /// The IPv6 socket rather than the IPv4 one.
        v6: bool,
    },
}

impl Dest {
    fn resolve(self) -> Destination {
        match self {
            Dest::Address { v6, target } => Destination::Address(sinks().destination(v6, target)),
            Dest::Fixed { v6 } => Destination::Fixed(if v6 { Family::V6 } else { Family::V4 }),
        }
    }
}

/// A payload length within 1 ..= the family maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum Size {
    /// 1 ..= 16.
    Tiny(u8),
    /// 1 ..= 1,472.
    Small(u16),
    /// 1 ..= the maximum.
    Any(u16),
    /// The maximum.
    Max,
    /// The maximum less up to 255.
    MaxMinus(u8),
}

impl Size {
    fn resolve(self, max: usize) -> usize {
        match self {
            Size::Tiny(n) => 1 + usize::from(n) % 16,
            Size::Small(n) => 1 + usize::from(n) % 1_472,
            Size::Any(n) => 1 + usize::from(n) % max,
            Size::Max => max,
            Size::MaxMinus(n) => max - usize::from(n),
        }
    }
}

/// How many datagrams a batch carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum Count {
    /// One.
    One,
    /// 1 ..= 8.
    Few(u8),
    /// 1 ..= 256.
    Any(u8),
    /// 256.
    Max,
}

/// How many bytes a batch carries in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum Total {
    /// One byte per datagram.
    Min,
    /// Anything allowed.
    Any(u16),
    /// As much as allowed.
    Max,
}

/// The shape of a valid batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub struct Shape {
    /// Datagrams.
    pub count: Count,
    /// Bytes in all.
    pub total: Total,
    /// Put the bytes in the last datagrams rather than spread them evenly.
    pub skew: bool,
    /// Payload pattern seed.
    pub seed: u8,
}

impl Shape {
    /// The datagram lengths.
    fn lengths(self, max: usize) -> Vec<usize> {
        let count = match self.count {
            Count::One => 1,
            Count::Few(n) => 1 + usize::from(n) % 8,
            Count::Any(n) => 1 + usize::from(n),
            Count::Max => MAX_BATCH_DATAGRAMS,
        };
        let most = MAX_BATCH_BYTES.min(count * max);
        let total = match self.total {
            Total::Min => count,
            Total::Any(n) => count + usize::from(n) % (most - count + 1),
            Total::Max => most,
        };
        let mut lengths = vec![1usize; count];
        let mut left = total - count;
        if self.skew {
            for length in lengths.iter_mut().rev() {
                let add = left.min(max - 1);
                *length += add;
                left -= add;
            }
        } else {
            let (each, extra) = (left / count, left % count);
            for (index, length) in lengths.iter_mut().enumerate() {
                *length += each + usize::from(index < extra);
            }
        }
        lengths
    }
}

/// A pool size in range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum Slots {
    /// One slot.
    One,
    /// 1 ..= 8.
    Few(u8),
    /// 1 ..= 256.
    Any(u8),
    /// 256.
    Max,
}

/// A valid configure request (every address allowed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum Config {
    /// Bind the family's socket.
    Bind {
        /// The IPv6 socket.
        v6: bool,
        /// The wildcard address rather than loopback.
        wildcard: bool,
        /// The sink's port (taken: the bind fails) rather than port 0.
        taken: bool,
    },
    /// A fixed remote address.
    FixedRemote {
        /// The IPv6 socket.
        v6: bool,
        /// Which port.
        target: Target,
    },
    /// A fixed send-to address.
    FixedSendTo {
        /// The IPv6 socket.
        v6: bool,
        /// Which port.
        target: Target,
    },
    /// Clear the fixed address.
    ClearFixed {
        /// The IPv6 socket.
        v6: bool,
    },
    /// Resize the pool.
    PoolSlots(Slots),
}

impl Config {
    fn action(self) -> ConfigAction {
        let family = |v6| if v6 { Family::V6 } else { Family::V4 };
        match self {
            Config::Bind {
                v6,
                wildcard,
                taken,
            } => {
                let port = if taken { sinks().port(family(v6)) } else { 0 };
                ConfigAction::Bind(match (v6, wildcard) {
                    (false, false) => SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
                    (false, true) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)),
                    (true, false) => SocketAddr::from((Ipv6Addr::LOCALHOST, port)),
                    (true, true) => SocketAddr::from((Ipv6Addr::UNSPECIFIED, port)),
                })
            }
            Config::FixedRemote { v6, target } => {
                ConfigAction::FixedRemote(sinks().destination(v6, target))
            }
            Config::FixedSendTo { v6, target } => {
                ConfigAction::FixedSendTo(sinks().destination(v6, target))
            }
            Config::ClearFixed { v6 } => ConfigAction::ClearFixed(family(v6)),
            Config::PoolSlots(slots) => ConfigAction::PoolSlots(match slots {
                Slots::One => 1,
                Slots::Few(n) => 1 + u32::from(n) % 8,
                Slots::Any(n) => 1 + u32::from(n),
                Slots::Max => MAX_POOL_SLOTS,
            }),
        }
    }
}

/// A request the driver accepts (built with the ABI crate's encoders).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum Valid {
    /// One datagram.
    Send {
        /// Where.
        dest: Dest,
        /// How long.
        size: Size,
        /// Payload pattern seed.
        seed: u8,
    },
    /// A batch.
    Batch {
        /// Where.
        dest: Dest,
        /// Its shape.
        shape: Shape,
    },
    /// A configure request.
    Config(Config),
    /// A stats query.
    Stats,
}

impl Valid {
    /// The control code.
    pub fn code(self) -> u32 {
        match self {
            Valid::Send { .. } => IOCTL_WSK_SAMPLE_SEND,
            Valid::Batch { .. } => IOCTL_WSK_SAMPLE_SEND_BATCH,
            Valid::Config(_) => IOCTL_WSK_SAMPLE_CONFIGURE,
            Valid::Stats => IOCTL_WSK_SAMPLE_QUERY_STATS,
        }
    }

    /// The input buffer.
    pub fn encode(self) -> Vec<u8> {
        match self {
            Valid::Send { dest, size, seed } => {
                let destination = dest.resolve();
                let payload: Vec<u8> =
                    pattern(size.resolve(destination.family().max_payload()), seed).collect();
                let mut input = vec![0u8; send_request_len(payload.len())];
                encode_send(destination, &payload, &mut input).expect("a valid send request");
                input
            }
            Valid::Batch { dest, shape } => {
                let destination = dest.resolve();
                let lengths = shape.lengths(destination.family().max_payload());
                let total: usize = lengths.iter().sum();
                let bytes: Vec<u8> = pattern(total, shape.seed).collect();
                let mut datagrams = Vec::with_capacity(lengths.len());
                let mut offset = 0;
                for length in lengths {
                    datagrams.push(&bytes[offset..offset + length]);
                    offset += length;
                }
                let mut input = vec![0u8; batch_request_len(datagrams.len(), total)];
                encode_batch(destination, &datagrams, &mut input).expect("a valid batch");
                input
            }
            Valid::Config(config) => {
                let mut input = [0u8; CONFIG_REQUEST_SIZE];
                config
                    .action()
                    .encode(&mut input)
                    .expect("a valid configure request");
                input.to_vec()
            }
            Valid::Stats => Vec::new(),
        }
    }
}

/// The output length of a valid request: its reply size, perhaps with room to spare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum ValidOut {
    /// Exactly the reply size.
    Exact,
    /// The reply size plus up to 4,095 bytes.
    Spare(u16),
}

// ---------------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------------

/// Header fields worth aiming at (offsets shared by send, batch and configure requests).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum Field {
    /// 0: version.
    Version,
    /// 2: flags (configure: family).
    Flags,
    /// 4: header size (configure: action).
    HeaderSize,
    /// 8: address family.
    Family,
    /// 10: port.
    Port,
    /// 12: flow info.
    FlowInfo,
    /// 16: scope id.
    ScopeId,
    /// 20: the address's reserved field.
    AddressReserved,
    /// 24: the address octets.
    Octets,
    /// 28: the IPv4-unused octets.
    UnusedOctets,
    /// 40: payload length / batch count / configure value.
    Length,
    /// 44: reserved / batch total.
    Reserved,
    /// 48: the payload / the first batch length.
    Body,
}

impl Field {
    const fn offset(self) -> usize {
        match self {
            Field::Version => 0,
            Field::Flags => 2,
            Field::HeaderSize => 4,
            Field::Family => 8,
            Field::Port => 10,
            Field::FlowInfo => 12,
            Field::ScopeId => 16,
            Field::AddressReserved => 20,
            Field::Octets => 24,
            Field::UnusedOctets => 28,
            Field::Length => 40,
            Field::Reserved => 44,
            Field::Body => 48,
        }
    }
}

/// Where a mutation applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum At {
    /// A header field.
    Field(Field),
    /// Anywhere in the header.
    Header(u8),
    /// Anywhere.
    Anywhere(u32),
    /// Counting back from the end.
    FromEnd(u8),
}

impl At {
    /// The offset in a buffer of `len` bytes (at most `len`).
    fn resolve(self, len: usize) -> usize {
        match self {
            At::Field(field) => field.offset().min(len),
            At::Header(n) => (usize::from(n) % 48).min(len),
            At::Anywhere(n) => n as usize % (len + 1),
            At::FromEnd(n) => len.saturating_sub(usize::from(n)),
        }
    }
}

/// Values worth writing into a length, count, size or flags field.
const INTERESTING: [u32; 30] = [
    0,
    1,
    2,
    3,
    23,
    47,
    48,
    49,
    255,
    256,
    257,
    1_024,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x1_0000,
    0x1_0001,
    65_507,
    65_508,
    65_527,
    65_528,
    65_535,
    65_536 - 48,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFF,
    0xFFFF_FFFE,
    0xC5C5_C5C5,
    0x0100_007F,
    0x0101_0101,
];

/// A value for a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum Value {
    /// A boundary value.
    Interesting(u8),
    /// Any value.
    Raw(u32),
}

impl Value {
    fn get(self) -> u32 {
        match self {
            Value::Interesting(n) => INTERESTING[usize::from(n) % INTERESTING.len()],
            Value::Raw(v) => v,
        }
    }
}

/// One change to a valid request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum Mutation {
    /// Flip one bit.
    FlipBit(At, u8),
    /// Overwrite one byte.
    SetByte(At, u8),
    /// Overwrite a little-endian u16 (what fits).
    SetU16(At, Value),
    /// Overwrite a little-endian u32 (what fits).
    SetU32(At, Value),
    /// Insert up to 255 copies of a byte.
    Insert(At, u8, u8),
    /// Remove up to 65,535 bytes.
    Remove(At, u16),
    /// Cut the buffer there.
    Truncate(At),
    /// Append up to 65,535 copies of a byte.
    Append(u16, u8),
}

impl Mutation {
    /// Applies the mutation; the buffer never grows past [`MAX_BUFFER`].
    pub fn apply(self, bytes: &mut Vec<u8>) {
        let len = bytes.len();
        let write = |bytes: &mut Vec<u8>, at: usize, value: &[u8]| {
            for (offset, byte) in value.iter().enumerate() {
                if let Some(slot) = bytes.get_mut(at + offset) {
                    *slot = *byte;
                }
            }
        };
        match self {
            Mutation::FlipBit(at, bit) => {
                if let Some(byte) = bytes.get_mut(at.resolve(len)) {
                    *byte ^= 1 << (bit % 8);
                }
            }
            Mutation::SetByte(at, value) => write(bytes, at.resolve(len), &[value]),
            Mutation::SetU16(at, value) => {
                write(bytes, at.resolve(len), &(value.get() as u16).to_le_bytes())
            }
            Mutation::SetU32(at, value) => {
                write(bytes, at.resolve(len), &value.get().to_le_bytes())
            }
            Mutation::Insert(at, count, byte) => {
                let at = at.resolve(len);
                let count = usize::from(count).min(MAX_BUFFER - len.min(MAX_BUFFER));
                bytes.splice(at..at, std::iter::repeat_n(byte, count));
            }
            Mutation::Remove(at, count) => {
                let at = at.resolve(len);
                let end = (at + usize::from(count)).min(len);
                bytes.drain(at..end);
            }
            Mutation::Truncate(at) => bytes.truncate(at.resolve(len)),
            Mutation::Append(count, byte) => {
                let count = usize::from(count).min(MAX_BUFFER - len.min(MAX_BUFFER));
                bytes.extend(std::iter::repeat_n(byte, count));
            }
        }
    }
}

fn mutations(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<Mutation>> {
    let count = u.int_in_range(1..=MAX_MUTATIONS)?;
    (0..count).map(|_| u.arbitrary()).collect()
}

// ---------------------------------------------------------------------------------------------
// Operations and scenarios
// ---------------------------------------------------------------------------------------------

/// One IOCTL.
#[derive(Clone, Debug, PartialEq, Eq, Arbitrary)]
pub enum Request {
    /// Any code, any bytes, any output length.
    Raw {
        /// The code.
        code: CodeSpec,
        /// The input.
        input: Bytes,
        /// The output length.
        output: OutLen,
    },
    /// A valid request.
    Valid {
        /// The request.
        request: Valid,
        /// The output length.
        output: ValidOut,
    },
    /// A valid request, mutated.
    Mutated {
        /// The request before mutation.
        request: Valid,
        /// What is done to its bytes.
        #[arbitrary(with = mutations)]
        mutations: Vec<Mutation>,
        /// Another code to send it with (`None`: its own).
        code: Option<CodeSpec>,
        /// The output length.
        output: OutLen,
    },
}

impl Request {
    /// The code, the input and the output length.
    pub fn build(&self) -> (u32, Vec<u8>, usize) {
        match self {
            Request::Raw {
                code,
                input,
                output,
            } => {
                let code = code.code();
                (code, input.build(), output.resolve(code))
            }
            Request::Valid { request, output } => {
                let code = request.code();
                let output = reply_size(code)
                    + match output {
                        ValidOut::Exact => 0,
                        ValidOut::Spare(n) => usize::from(*n) % 4_096,
                    };
                (code, request.encode(), output)
            }
            Request::Mutated {
                request,
                mutations,
                code,
                output,
            } => {
                let code = code.map_or(request.code(), CodeSpec::code);
                let mut input = request.encode();
                for mutation in mutations {
                    mutation.apply(&mut input);
                }
                (code, input, output.resolve(code))
            }
        }
    }
}

/// Who opens the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum Who {
    /// An elevated administrator (allowed by the SDDL).
    Administrator,
    /// LocalSystem (allowed).
    System,
    /// A standard user (denied, unless the handle asks for no data access).
    User,
}

/// What a handle is opened for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum Rights {
    /// Read only.
    Read,
    /// Write only.
    Write,
    /// Neither.
    Neither,
    /// Both.
    ReadWrite,
}

impl Rights {
    fn access(self) -> Access {
        match self {
            Rights::Read => Access::READ,
            Rights::Write => Access {
                read: false,
                write: true,
            },
            Rights::Neither => Access {
                read: false,
                write: false,
            },
            Rights::ReadWrite => Access::READ_WRITE,
        }
    }
}

/// One step of a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// An IOCTL on the scenario's administrator read/write handle.
    Request(Request),
    /// Open another handle, then an IOCTL on it (if the open succeeds).
    Open {
        /// Who.
        who: Who,
        /// For what.
        rights: Rights,
        /// The IOCTL.
        request: Request,
    },
    /// Query the statistics and check them against what the scenario did.
    CheckStats,
    /// Two to four IOCTLs on the scenario's handle at the same time, each from its own thread.
    Concurrent(Vec<Request>),
}

impl<'a> Arbitrary<'a> for Op {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u.int_in_range(0u8..=9)? {
            0..=5 => Op::Request(u.arbitrary()?),
            6 => Op::Open {
                who: u.arbitrary()?,
                rights: u.arbitrary()?,
                request: u.arbitrary()?,
            },
            7 => Op::CheckStats,
            _ => {
                let count = u.int_in_range(2..=MAX_CONCURRENT)?;
                Op::Concurrent(
                    (0..count)
                        .map(|_| u.arbitrary())
                        .collect::<Result<_, _>>()?,
                )
            }
        })
    }
}

/// Where completions come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum Completion {
    /// On a provider thread.
    Async,
    /// On the caller's thread, before the WSK call returns.
    Inline,
    /// On a provider thread after this many microseconds.
    Delayed(u8),
}

/// One fuzz input: a kernel's knobs and what is done to the driver.
#[derive(Clone, Debug, PartialEq, Eq, Arbitrary)]
pub struct Scenario {
    /// Completion mode.
    pub completion: Completion,
    /// Whether the provider offers WskSendMessages.
    pub send_messages: bool,
    /// One injected failure (a third of the scenarios).
    #[arbitrary(with = fault)]
    pub fault: Option<FaultSpec>,
    /// The operations, in order.
    #[arbitrary(with = operations)]
    pub ops: Vec<Op>,
}

/// Statuses an injected WSK failure completes with. Not STATUS_IO_TIMEOUT or
/// STATUS_DEVICE_BUSY: on a close those mean "the provider still has the socket", after which
/// the driver leaks its engine on purpose (documented); not STATUS_NETWORK_UNREACHABLE, which
/// is the model's refusal of a non-loopback destination and a finding here.
const FAULT_STATUSES: [i32; 5] = [
    STATUS_INSUFFICIENT_RESOURCES,
    STATUS_UNSUCCESSFUL,
    STATUS_DEVICE_NOT_READY,
    STATUS_INVALID_PARAMETER,
    STATUS_NOT_SUPPORTED,
];

/// One injected failure: the `nth` call at a site fails (allocations return NULL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultSpec {
    /// Where.
    pub site: FaultSite,
    /// Which call, from 1.
    pub nth: u64,
    /// With what (WSK calls).
    pub status: i32,
}

fn fault(u: &mut Unstructured<'_>) -> arbitrary::Result<Option<FaultSpec>> {
    if !u.ratio(1u8, 3)? {
        return Ok(None);
    }
    let site = FaultSite::ALL[u.choose_index(FaultSite::ALL.len())?];
    // Early calls are where the driver starts up (each family's socket takes three IRPs, and
    // load allocates 32 slots with a buffer and an MDL each), so reach past load sometimes.
    let nth = if u.ratio(3u8, 4)? {
        u.int_in_range(1..=12)?
    } else {
        u.int_in_range(1..=40)?
    };
    let status = FAULT_STATUSES[u.choose_index(FAULT_STATUSES.len())?];
    Ok(Some(FaultSpec { site, nth, status }))
}

fn operations(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<Op>> {
    let count = u.int_in_range(1..=MAX_OPS)?;
    let mut ops = Vec::with_capacity(count);
    for _ in 0..count {
        if u.is_empty() && !ops.is_empty() {
            break;
        }
        ops.push(u.arbitrary()?);
    }
    Ok(ops)
}

impl Scenario {
    /// The scenario these bytes describe (never fails: a short input gives a short scenario).
    pub fn from_bytes(bytes: &[u8]) -> Scenario {
        Scenario::arbitrary_take_rest(Unstructured::new(bytes)).unwrap_or(Scenario {
            completion: Completion::Async,
            send_messages: true,
            fault: None,
            ops: vec![Op::CheckStats],
        })
    }

    fn config(&self) -> KernelConfig {
        KernelConfig {
            completion: match self.completion {
                Completion::Async => CompletionMode::Async,
                Completion::Inline => CompletionMode::Inline,
                Completion::Delayed(us) => {
                    CompletionMode::Delayed(Duration::from_micros(us.into()))
                }
            },
            send_messages_supported: self.send_messages,
            faults: self
                .fault
                .iter()
                .map(|f| Fault {
                    site: f.site,
                    nth: f.nth,
                    status: f.status,
                })
                .collect(),
            // A request that has not completed in 20 s is a hang: the driver's own bounds are
            // 5 s per control call and 2 s for the provider capture.
            request_timeout: Duration::from_secs(20),
            ..KernelConfig::default()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Running a scenario
// ---------------------------------------------------------------------------------------------

/// What a scenario did, for coverage accounting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// IOCTLs issued.
    pub ioctls: u64,
    /// IOCTLs that reached the driver.
    pub reached_driver: u64,
    /// Successful sends, batches, configure requests and stats queries.
    pub sends_ok: u64,
    /// See `sends_ok`.
    pub batches_ok: u64,
    /// See `sends_ok`.
    pub configs_ok: u64,
    /// See `sends_ok`.
    pub stats_ok: u64,
    /// Requests that decoded but failed at run time (transport, state).
    pub runtime_errors: u64,
    /// Inputs whose destination the guard rewrote.
    pub rewritten: u64,
}

/// A broken invariant, with what led to it.
#[derive(Clone, Debug)]
pub struct Finding {
    /// What broke.
    pub what: String,
    /// Where: the operation and the IOCTL.
    pub context: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n{}", self.what, self.context)
    }
}

impl std::error::Error for Finding {}

/// What the ABI says the driver must do with a request.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// The I/O manager refuses it for the handle's access (it never reaches the driver).
    Denied,
    /// The driver's validation refuses it with this status.
    Refused(i32),
    /// A stats query with room for the reply: always succeeds.
    Stats,
    /// A send that passed validation.
    Send {
        family: Family,
        fixed: bool,
        length: usize,
    },
    /// A batch that passed validation.
    Batch {
        family: Family,
        fixed: bool,
        count: usize,
        total: usize,
    },
    /// A configure request that passed validation.
    Configure(ConfigAction),
    /// Receive counters: always succeed, and nothing was ever received.
    ReceiveStats,
    /// Receiving turned off (it never was on): success, or refused while sends are in flight.
    ReceiveOff,
}

fn expect(code: u32, input: &[u8], output_len: usize, access: Access) -> Expect {
    let required = (code >> 14) & 3;
    if (required & 1 != 0 && !access.read) || (required & 2 != 0 && !access.write) {
        return Expect::Denied;
    }
    let too_small = |reply: usize| output_len < reply;
    match code {
        IOCTL_WSK_SAMPLE_SEND if too_small(SEND_REPLY_SIZE) => {
            Expect::Refused(STATUS_BUFFER_TOO_SMALL)
        }
        IOCTL_WSK_SAMPLE_SEND_BATCH if too_small(BATCH_REPLY_SIZE) => {
            Expect::Refused(STATUS_BUFFER_TOO_SMALL)
        }
        IOCTL_WSK_SAMPLE_QUERY_STATS if too_small(STATS_REPLY_SIZE) => {
            Expect::Refused(STATUS_BUFFER_TOO_SMALL)
        }
        IOCTL_WSK_SAMPLE_QUERY_STATS => Expect::Stats,
        IOCTL_WSK_SAMPLE_SEND | IOCTL_WSK_SAMPLE_SEND_BATCH | IOCTL_WSK_SAMPLE_CONFIGURE
            if input.is_empty() =>
        {
            Expect::Refused(STATUS_INFO_LENGTH_MISMATCH)
        }
        IOCTL_WSK_SAMPLE_SEND => match decode_send_request(input) {
            Err(e) => Expect::Refused(e.ntstatus()),
            Ok(r) => Expect::Send {
                family: r.destination.family(),
                fixed: matches!(r.destination, Destination::Fixed(_)),
                length: r.payload.len(),
            },
        },
        IOCTL_WSK_SAMPLE_SEND_BATCH => match decode_batch_request(input) {
            Err(e) => Expect::Refused(e.ntstatus()),
            Ok(r) => Expect::Batch {
                family: r.destination.family(),
                fixed: matches!(r.destination, Destination::Fixed(_)),
                count: r.count(),
                total: r.total_length(),
            },
        },
        IOCTL_WSK_SAMPLE_CONFIGURE => match ConfigAction::decode(input) {
            Err(e) => Expect::Refused(e.ntstatus()),
            Ok(action) => Expect::Configure(action),
        },
        wsk_sample_ioctl::IOCTL_WSK_SAMPLE_RECEIVE_STATS
            if too_small(wsk_sample_ioctl::RECEIVE_STATS_SIZE) =>
        {
            Expect::Refused(STATUS_BUFFER_TOO_SMALL)
        }
        wsk_sample_ioctl::IOCTL_WSK_SAMPLE_RECEIVE_STATS => Expect::ReceiveStats,
        wsk_sample_ioctl::IOCTL_WSK_SAMPLE_RECEIVE
            if too_small(wsk_sample_ioctl::RECEIVE_HEADER_SIZE) =>
        {
            Expect::Refused(STATUS_BUFFER_TOO_SMALL)
        }
        wsk_sample_ioctl::IOCTL_WSK_SAMPLE_RECEIVE
        | wsk_sample_ioctl::IOCTL_WSK_SAMPLE_RECEIVE_MODE
            if input.is_empty() =>
        {
            Expect::Refused(STATUS_INFO_LENGTH_MISMATCH)
        }
        // Receiving is never on (see `guard`): a well-formed receive is refused.
        wsk_sample_ioctl::IOCTL_WSK_SAMPLE_RECEIVE => {
            match wsk_sample_ioctl::ReceiveRequest::decode(input) {
                Err(e) => Expect::Refused(e.ntstatus()),
                Ok(_) => Expect::Refused(wsk_sample_ioctl::status::STATUS_INVALID_DEVICE_STATE),
            }
        }
        wsk_sample_ioctl::IOCTL_WSK_SAMPLE_RECEIVE_MODE => {
            match wsk_sample_ioctl::ModeRequest::decode(input) {
                Err(e) => Expect::Refused(e.ntstatus()),
                Ok(_) => Expect::ReceiveOff,
            }
        }
        _ => Expect::Refused(STATUS_INVALID_DEVICE_REQUEST),
    }
}

/// An IOCTL ready to issue: guarded input and its predicted outcome.
#[derive(Debug)]
struct Prepared {
    code: u32,
    input: Vec<u8>,
    output_len: usize,
    expected: Expect,
}

/// `IOCTL_FUZZ_TRACE=1` prints every IOCTL and its result to stderr.
fn tracing() -> bool {
    static TRACE: OnceLock<bool> = OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("IOCTL_FUZZ_TRACE").is_some_and(|v| v == "1"))
}

fn family_index(family: Family) -> usize {
    match family {
        Family::V4 => 0,
        Family::V6 => 1,
    }
}

/// A run of [`POISON_RUN`] poison bytes: its offset.
fn poison_at(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(POISON_RUN)
        .position(|w| w.iter().all(|&b| b == POISON))
}

fn name(status: i32) -> String {
    match status::name(status) {
        Some(name) => format!("{name} ({status:#010x})"),
        None => format!("{status:#010x}"),
    }
}

/// What the scenario has done to the driver, as the driver should report it.
#[derive(Debug)]
struct Tracker {
    /// A failure is injected: a send may fail (socket creation) before its destination is
    /// looked at.
    faulty: bool,
    reached_driver: u64,
    failures: u64,
    validation_failures: u64,
    /// The pool size, unless concurrent configuration made it unknown.
    pool_slots: Option<u32>,
    /// Each family's fixed destination, unless concurrent configuration made it unknown.
    fixed: [Option<Option<FixedDestination>>; 2],
    /// The highest sequence number reported before the current operation.
    last_sequence: u64,
    /// Sequence numbers reported during the current operation (several when concurrent).
    sequences: Vec<(u64, u64)>,
    datagrams: (u64, u64),
    bytes: (u64, u64),
    batches: (u64, u64),
}

impl Default for Tracker {
    fn default() -> Self {
        Tracker {
            faulty: false,
            reached_driver: 0,
            failures: 0,
            validation_failures: 0,
            pool_slots: Some(DEFAULT_POOL_SLOTS),
            fixed: [Some(None), Some(None)],
            last_sequence: 0,
            sequences: Vec::new(),
            datagrams: (0, 0),
            bytes: (0, 0),
            batches: (0, 0),
        }
    }
}

struct Runner {
    kernel: Kernel,
    handle: Handle,
    tracker: Tracker,
    summary: Summary,
}

/// Fails with `$what` (a format string) unless `$cond`.
macro_rules! ensure {
    ($cond:expr, $($what:tt)+) => {
        if !$cond {
            return Err(format!($($what)+));
        }
    };
}

impl Runner {
    fn violations(&self) -> Result<(), String> {
        let violations = self.kernel.violations();
        ensure!(
            violations.is_empty(),
            "the model recorded {} violation(s):\n{}",
            violations.len(),
            violations
                .iter()
                .map(|v| format!("  {v}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        Ok(())
    }

    /// Guards the input and predicts the outcome.
    fn prepare(
        &mut self,
        access: Access,
        code: u32,
        mut input: Vec<u8>,
        output_len: usize,
    ) -> Result<Prepared, String> {
        if guard(code, &mut input)? {
            self.summary.rewritten += 1;
        }
        let expected = expect(code, &input, output_len, access);
        self.summary.ioctls += 1;
        Ok(Prepared {
            code,
            input,
            output_len,
            expected,
        })
    }

    /// Checks everything about one result.
    fn verify(
        &mut self,
        p: &Prepared,
        result: Result<IoResult, HarnessError>,
        concurrent: bool,
    ) -> Result<(), String> {
        let describe = |r: &IoResult| {
            format!(
                "status {}, information {}, {} output byte(s)",
                name(r.status),
                r.information,
                r.output.len()
            )
        };
        let expected = p.expected;
        let result = match result {
            Ok(result) => result,
            Err(HarnessError::RequestNotCompleted) => {
                return Err(format!(
                    "hang: IOCTL {:#010x} was not completed within 20 s (expected {expected:?})",
                    p.code
                ));
            }
            Err(e) => return Err(format!("DeviceIoControl failed in the harness: {e}")),
        };
        if tracing() {
            eprintln!(
                "ioctl {:#010x} in {} out {}{}: {expected:?} -> {}",
                p.code,
                p.input.len(),
                p.output_len,
                if concurrent { " (concurrent)" } else { "" },
                describe(&result)
            );
        }
        self.violations()
            .map_err(|v| format!("{v}\n(result: {})", describe(&result)))?;
        self.check(expected, p.output_len, &result, concurrent)
            .map_err(|what| {
                format!(
                    "{what}\n(IOCTL {:#010x}: expected {expected:?}; got {})",
                    p.code,
                    describe(&result)
                )
            })
    }

    /// Issues one IOCTL on `handle` (default: the scenario's) and checks its result.
    fn ioctl(
        &mut self,
        handle: Option<&Handle>,
        access: Access,
        code: u32,
        input: Vec<u8>,
        output_len: usize,
    ) -> Result<(), String> {
        let prepared = self.prepare(access, code, input, output_len)?;
        let handle = handle.unwrap_or(&self.handle);
        let result =
            self.kernel
                .device_io_control(handle, code, &prepared.input, prepared.output_len);
        self.verify(&prepared, result, false)?;
        self.end_op()
    }

    /// Issues several IOCTLs at once, each from its own thread, on the scenario's handle; checks
    /// each result once all have completed.
    fn concurrent(&mut self, requests: &[Request]) -> Result<(), String> {
        let mut prepared = Vec::with_capacity(requests.len());
        for request in requests {
            let (code, input, output_len) = request.build();
            prepared.push(self.prepare(Access::READ_WRITE, code, input, output_len)?);
        }
        let (kernel, handle) = (&self.kernel, &self.handle);
        let results: Vec<_> = std::thread::scope(|scope| {
            let threads: Vec<_> = prepared
                .iter()
                .map(|p| {
                    scope.spawn(move || {
                        kernel.device_io_control(handle, p.code, &p.input, p.output_len)
                    })
                })
                .collect();
            threads
                .into_iter()
                .map(|t| {
                    t.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        for (index, (p, result)) in prepared.iter().zip(results).enumerate() {
            self.verify(p, result, true)
                .map_err(|what| format!("concurrent request #{index}: {what}"))?;
        }
        self.end_op()
    }

    /// Records a successful reply's sequence numbers `first .. first + count`: above every
    /// number reported before this operation, and not overlapping another reply's.
    fn sequence(&mut self, first: u64, count: u64) -> Result<(), String> {
        let t = &mut self.tracker;
        let last = first + count - 1;
        ensure!(
            first > t.last_sequence,
            "sequence {first} after {}",
            t.last_sequence
        );
        if let Some(other) = t.sequences.iter().find(|(a, b)| first <= *b && *a <= last) {
            return Err(format!(
                "sequences {first}..={last} overlap {}..={} of a concurrent reply",
                other.0, other.1
            ));
        }
        t.sequences.push((first, last));
        Ok(())
    }

    /// After an operation: its sequence numbers become the floor for the next.
    fn end_op(&mut self) -> Result<(), String> {
        let t = &mut self.tracker;
        if let Some(highest) = t.sequences.iter().map(|&(_, last)| last).max() {
            t.last_sequence = t.last_sequence.max(highest);
        }
        t.sequences.clear();
        Ok(())
    }

    /// Checks one result; `concurrent` when other requests ran at the same time.
    fn check(
        &mut self,
        expected: Expect,
        output_len: usize,
        r: &IoResult,
        concurrent: bool,
    ) -> Result<(), String> {
        let status = r.status;
        // Every result, whatever the request.
        ensure!(
            r.information <= output_len as u64,
            "information {} exceeds the output length {output_len}",
            r.information
        );
        ensure!(
            r.output.len() <= output_len,
            "{} output bytes exceed the output length {output_len}",
            r.output.len()
        );
        ensure!(status != STATUS_PENDING, "completed with STATUS_PENDING");
        // STATUS_DEVICE_BUSY (0x80000011) has warning severity, yet the ABI documents it as a
        // failure (a request racing a reconfiguration): NT_SUCCESS is false, and with
        // information 0 (checked below) the I/O manager copies nothing back.
        ensure!(
            status == STATUS_SUCCESS || (status as u32) >> 30 == 3 || status == STATUS_DEVICE_BUSY,
            "status {} is neither success nor an error",
            name(status)
        );
        ensure!(
            status::name(status).is_some(),
            "status {status:#010x} is not one the ABI documents"
        );
        ensure!(
            status != STATUS_NETWORK_UNREACHABLE,
            "STATUS_NETWORK_UNREACHABLE: the model refused a non-loopback destination"
        );
        if status < 0 {
            ensure!(
                r.information == 0 && r.output.is_empty(),
                "a failed request carries information {} and {} output bytes",
                r.information,
                r.output.len()
            );
        } else {
            ensure!(
                r.output.len() as u64 == r.information,
                "success with information {} but {} output bytes",
                r.information,
                r.output.len()
            );
        }
        if !matches!(expected, Expect::Denied) {
            self.tracker.reached_driver += 1;
            self.summary.reached_driver += 1;
            if status < 0 {
                self.tracker.failures += 1;
            }
        }
        match expected {
            Expect::Denied => {
                ensure!(
                    status == STATUS_ACCESS_DENIED,
                    "the handle lacks the code's access bits, but the request was not denied"
                );
            }
            Expect::Refused(wanted) => {
                ensure!(
                    status == wanted,
                    "validation should refuse this with {}",
                    name(wanted)
                );
                self.tracker.validation_failures += 1;
            }
            Expect::Stats => {
                ensure!(status == STATUS_SUCCESS, "a stats query failed");
                self.check_stats(&r.output, concurrent)?;
                self.summary.stats_ok += 1;
            }
            Expect::Send {
                family,
                fixed,
                length,
            } => {
                self.tracker.datagrams.1 += 1;
                self.tracker.bytes.1 += length as u64;
                let no_fixed = self.tracker.fixed[family_index(family)] == Some(None);
                if fixed && no_fixed && !self.tracker.faulty && !concurrent {
                    ensure!(
                        status == STATUS_INVALID_ADDRESS,
                        "a send to the fixed destination of a socket without one must fail \
                         with STATUS_INVALID_ADDRESS"
                    );
                }
                if status < 0 {
                    self.summary.runtime_errors += 1;
                    return Ok(());
                }
                ensure!(
                    r.information == SEND_REPLY_SIZE as u64,
                    "a send reply of {} bytes",
                    r.information
                );
                if let Some(at) = poison_at(&r.output) {
                    return Err(format!(
                        "uninitialised send reply: 0xC5 run at offset {at}: {:02x?}",
                        r.output
                    ));
                }
                let reply = SendReply::decode(&r.output)
                    .map_err(|e| format!("the send reply does not decode: {e}"))?;
                ensure!(
                    reply.bytes_sent as usize == length,
                    "sent {} of {length} bytes but reported success",
                    reply.bytes_sent
                );
                self.sequence(reply.sequence, 1)?;
                self.tracker.datagrams.0 += 1;
                self.tracker.bytes.0 += length as u64;
                self.summary.sends_ok += 1;
            }
            Expect::Batch {
                family,
                fixed,
                count,
                total,
            } => {
                self.tracker.datagrams.1 += count as u64;
                self.tracker.bytes.1 += total as u64;
                self.tracker.batches.1 += 1;
                let no_fixed = self.tracker.fixed[family_index(family)] == Some(None);
                if fixed && no_fixed && !self.tracker.faulty && !concurrent {
                    ensure!(
                        status == STATUS_INVALID_ADDRESS,
                        "a batch to the fixed destination of a socket without one must fail \
                         with STATUS_INVALID_ADDRESS"
                    );
                }
                if status < 0 {
                    self.summary.runtime_errors += 1;
                    return Ok(());
                }
                ensure!(
                    r.information == BATCH_REPLY_SIZE as u64,
                    "a batch reply of {} bytes",
                    r.information
                );
                if let Some(at) = poison_at(&r.output) {
                    return Err(format!(
                        "uninitialised batch reply: 0xC5 run at offset {at}: {:02x?}",
                        r.output
                    ));
                }
                let reply = BatchReply::decode(&r.output)
                    .map_err(|e| format!("the batch reply does not decode: {e}"))?;
                ensure!(
                    reply.datagrams_sent as usize == count && reply.bytes_sent == total as u64,
                    "batch of {count} datagrams / {total} bytes reported {} / {}",
                    reply.datagrams_sent,
                    reply.bytes_sent
                );
                self.sequence(reply.first_sequence, count as u64)?;
                self.tracker.datagrams.0 += count as u64;
                self.tracker.bytes.0 += total as u64;
                self.tracker.batches.0 += 1;
                self.summary.batches_ok += 1;
            }
            Expect::ReceiveStats => {
                ensure!(status == STATUS_SUCCESS, "a receive stats query failed");
                let stats = wsk_sample_ioctl::ReceiveStats::decode(&r.output)
                    .map_err(|e| format!("malformed receive stats: {e}"))?;
                ensure!(
                    stats.datagrams == 0 && stats.posted == 0,
                    "receive counters moved without receiving: {stats:?}"
                );
            }
            Expect::ReceiveOff => {
                ensure!(
                    status == STATUS_SUCCESS || status == STATUS_DEVICE_BUSY,
                    "turning receiving off failed"
                );
                if status < 0 {
                    self.summary.runtime_errors += 1;
                }
            }
            Expect::Configure(action) => {
                ensure!(
                    r.information == 0,
                    "a configure request completed with information {}",
                    r.information
                );
                let t = &mut self.tracker;
                if concurrent {
                    // Racing requests may apply in any order: what this one changes is unknown
                    // until a later sequential request sets it again.
                    match action.family() {
                        Some(family) => t.fixed[family_index(family)] = None,
                        None => t.pool_slots = None,
                    }
                } else if let ConfigAction::Bind(a) = action {
                    // Binding closes and recreates the socket, which loses its fixed
                    // destination, whether or not the new bind succeeds.
                    t.fixed[family_index(Family::of(&a))] = Some(None);
                }
                if status < 0 {
                    self.summary.runtime_errors += 1;
                    return Ok(());
                }
                if !concurrent {
                    match action {
                        ConfigAction::Bind(_) => {}
                        ConfigAction::FixedRemote(a) => {
                            t.fixed[family_index(Family::of(&a))] =
                                Some(Some(FixedDestination::Remote(a)));
                        }
                        ConfigAction::FixedSendTo(a) => {
                            t.fixed[family_index(Family::of(&a))] =
                                Some(Some(FixedDestination::SendTo(a)));
                        }
                        ConfigAction::ClearFixed(family) => {
                            t.fixed[family_index(family)] = Some(None);
                        }
                        ConfigAction::PoolSlots(n) => t.pool_slots = Some(n),
                    }
                }
                self.summary.configs_ok += 1;
            }
        }
        Ok(())
    }

    /// Checks a stats reply against the tracker (which already counts the stats query); only
    /// its form when other requests were running at the same time.
    fn check_stats(&self, output: &[u8], concurrent: bool) -> Result<(), String> {
        ensure!(
            output.len() == STATS_REPLY_SIZE,
            "a stats reply of {} bytes",
            output.len()
        );
        // Scanned: header and counters (0..96), kinds, batches, busy and reserved (224..256).
        for range in [0..96, 224..STATS_REPLY_SIZE] {
            if let Some(at) = poison_at(&output[range.clone()]) {
                return Err(format!(
                    "uninitialised stats reply: 0xC5 run at offset {}: {:02x?}",
                    range.start + at,
                    output
                ));
            }
        }
        let stats =
            Stats::decode(output).map_err(|e| format!("the stats reply does not decode: {e}"))?;
        ensure!(
            stats.slot_size == SLOT_SIZE,
            "slot size {}",
            stats.slot_size
        );
        if concurrent {
            return Ok(());
        }
        let t = &self.tracker;
        let within = |v: u64, (lo, hi): (u64, u64)| lo <= v && v <= hi;
        ensure!(
            stats.requests == t.reached_driver,
            "stats count {} requests; {} reached the driver",
            stats.requests,
            t.reached_driver
        );
        ensure!(
            stats.failed_total() == t.failures,
            "stats count {} failures; {} requests failed",
            stats.failed_total(),
            t.failures
        );
        ensure!(
            stats.failed_validation >= t.validation_failures,
            "stats count {} validation failures; validation refused {}",
            stats.failed_validation,
            t.validation_failures
        );
        ensure!(
            stats.in_flight == 0,
            "{} in flight with no request outstanding",
            stats.in_flight
        );
        ensure!(
            stats.pool_free == stats.pool_slots,
            "pool {}/{} free with no request outstanding",
            stats.pool_free,
            stats.pool_slots
        );
        ensure!(
            t.pool_slots.is_none_or(|n| n == stats.pool_slots),
            "{} pool slots; configured {:?}",
            stats.pool_slots,
            t.pool_slots
        );
        ensure!(
            t.fixed[0].is_none_or(|f| f == stats.fixed_v4)
                && t.fixed[1].is_none_or(|f| f == stats.fixed_v6),
            "fixed destinations {:?} / {:?}; configured {:?} / {:?}",
            stats.fixed_v4,
            stats.fixed_v6,
            t.fixed[0],
            t.fixed[1]
        );
        ensure!(
            within(stats.datagrams_sent, t.datagrams),
            "{} datagrams sent; expected within {:?}",
            stats.datagrams_sent,
            t.datagrams
        );
        ensure!(
            within(stats.bytes_sent, t.bytes),
            "{} bytes sent; expected within {:?}",
            stats.bytes_sent,
            t.bytes
        );
        ensure!(
            within(stats.batches, t.batches),
            "{} batches; expected within {:?}",
            stats.batches,
            t.batches
        );
        Ok(())
    }

    fn op(&mut self, op: &Op) -> Result<(), String> {
        match op {
            Op::Request(request) => {
                let (code, input, output_len) = request.build();
                self.ioctl(None, Access::READ_WRITE, code, input, output_len)
            }
            Op::Open {
                who,
                rights,
                request,
            } => {
                let caller = match who {
                    Who::Administrator => Caller::Administrator,
                    Who::System => Caller::System,
                    Who::User => Caller::User,
                };
                let access = rights.access();
                let opened = self.kernel.open(USER_DEVICE_PATH, access, caller);
                // The SDDL grants a standard user nothing, so any open asking for data
                // access is denied; one asking for none is granted (a handle that can send only
                // FILE_ANY_ACCESS codes, and the driver has none).
                let user_denied = *who == Who::User && (access.read || access.write);
                match (user_denied, opened) {
                    (true, Err(HarnessError::AccessDenied)) => Ok(()),
                    (true, other) => Err(format!(
                        "a standard user's open for {access:?} was not denied by the SDDL: \
                         {other:?}"
                    )),
                    (false, Err(e)) => Err(format!("{who:?} could not open the device: {e}")),
                    (false, Ok(handle)) => {
                        let (code, input, output_len) = request.build();
                        self.ioctl(Some(&handle), access, code, input, output_len)
                    }
                }
            }
            Op::CheckStats => self.ioctl(
                None,
                Access::READ_WRITE,
                IOCTL_WSK_SAMPLE_QUERY_STATS,
                Vec::new(),
                STATS_REPLY_SIZE,
            ),
            Op::Concurrent(requests) => self.concurrent(requests),
        }
    }
}

fn context(scenario: &Scenario, index: Option<usize>) -> String {
    let mut text = format!(
        "scenario: completion {:?}, WskSendMessages {}, fault {:?}, {} op(s)",
        scenario.completion,
        scenario.send_messages,
        scenario.fault,
        scenario.ops.len()
    );
    if let Some(index) = index {
        let op = &scenario.ops[index];
        let _ = write!(text, "\nat op #{index}: {op:?}");
        let requests = match op {
            Op::Request(r) | Op::Open { request: r, .. } => std::slice::from_ref(r),
            Op::Concurrent(requests) => requests.as_slice(),
            Op::CheckStats => &[],
        };
        for request in requests {
            let (code, mut input, output_len) = request.build();
            let rewrote = guard(code, &mut input).unwrap_or(false);
            let shown = input.len().min(96);
            let _ = write!(
                text,
                "\nIOCTL {code:#010x}, {} input byte(s){}, output length {output_len}; input \
                 starts {:02x?}",
                input.len(),
                if rewrote {
                    " (destination rewritten to loopback)"
                } else {
                    ""
                },
                &input[..shown]
            );
        }
    } else {
        let _ = write!(text, "\nat unload");
    }
    text
}

/// Runs a scenario on a fresh kernel and checks every invariant (see the module docs).
pub fn run(scenario: &Scenario) -> Result<Summary, Finding> {
    let fail = |index: Option<usize>, what: String| Finding {
        what,
        context: context(scenario, index),
    };
    let _ = sinks();
    let mut kernel = Kernel::boot(scenario.config());
    if let Err(error) = kernel.load(wsk_sample_driver::driver_entry) {
        // Only an injected failure may stop the load, with its status, leaving nothing behind.
        let expected = scenario.fault.is_some_and(|f| {
            matches!(error, HarnessError::DriverEntryFailed(s) | HarnessError::DeviceAddFailed(s)
                if s == f.status || s == STATUS_INSUFFICIENT_RESOURCES)
        });
        if !expected {
            return Err(fail(None, format!("the driver did not load: {error}")));
        }
        let report = kernel.unload();
        if !report.is_clean() {
            return Err(fail(
                None,
                format!("the failed load left something behind:\n{report}"),
            ));
        }
        return Ok(Summary::default());
    }
    // Overlapped, so that the concurrent operations really overlap in the driver.
    let handle = kernel
        .open_with(
            USER_DEVICE_PATH,
            Access::READ_WRITE,
            Caller::Administrator,
            IoMode::Overlapped,
        )
        .map_err(|e| fail(None, format!("the device did not open: {e}")))?;
    let mut runner = Runner {
        kernel,
        handle,
        tracker: Tracker {
            faulty: scenario.fault.is_some(),
            ..Tracker::default()
        },
        summary: Summary::default(),
    };
    for (index, op) in scenario.ops.iter().enumerate() {
        runner.op(op).map_err(|what| fail(Some(index), what))?;
    }
    // A last look at the statistics, then unload.
    runner
        .op(&Op::CheckStats)
        .map_err(|what| fail(None, format!("final stats check: {what}")))?;
    // An orderly unload needs the handle closed (with it open, removal is vetoed).
    drop(runner.handle);
    let report = runner.kernel.unload();
    if !report.is_clean() {
        return Err(fail(None, format!("unload report is not clean:\n{report}")));
    }
    Ok(runner.summary)
}
