//! Batches: one request, one WskSendMessages, one IRP; datagrams packed into one slot and
//! described by list nodes over its single MDL; the WskSendTo fallback; pool resizing.
// The kernel model these tests drive exists off Windows only.
#![cfg(not(target_os = "windows"))]

use test_fixtures::{Receiver, Rig, pattern};
use wdk_model::{CompletionMode, Fault, FaultSite, KernelConfig};
use wsk_sample_ioctl::status::*;
use wsk_sample_ioctl::{
    BATCH_HEADER_SIZE, BATCH_REPLY_SIZE, BatchReply, ConfigAction, Destination, Family,
    IOCTL_WSK_SAMPLE_SEND_BATCH, MAX_BATCH_DATAGRAMS, POOL_TAG, encode_batch,
};

fn datagrams(count: usize, size: usize, seed: u8) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| pattern(size + i % 7, seed.wrapping_add(i as u8)))
        .collect()
}

/// Every datagram arrives byte for byte; in order when the batch went out as one
/// WskSendMessages. The WskSendTo fallback issues independent IRPs, which may complete (and
/// leave) in any order, as UDP allows.
fn assert_arrive(receiver: &Receiver, payloads: &[Vec<u8>], in_order: bool) {
    let mut received: Vec<Vec<u8>> = payloads.iter().map(|_| receiver.receive().0).collect();
    if in_order {
        assert!(
            received == payloads,
            "datagrams arrive byte for byte, in order"
        );
    } else {
        let mut expected = payloads.to_vec();
        expected.sort();
        received.sort();
        assert!(received == expected, "every datagram arrives byte for byte");
    }
}

fn batch_arrives_in_order(config: KernelConfig, batched: bool) {
    let rig = Rig::with(config);
    for (receiver, count) in [(Receiver::v4(), 100usize), (Receiver::v6(), 50)] {
        // Warm up: create the socket so the measurement sees only the batches.
        rig.send_ok(receiver.address(), b"warm-up");
        receiver.receive();
        let before = rig.kernel.counters();
        // The WskSendTo fallback gives a slot its part IRPs the first time it carries such a
        // batch; from the second round on, every mode allocates nothing.
        let mut steady = before;
        let mut pool_steady = rig.kernel.pool_in_use(POOL_TAG);
        for round in 0..3u8 {
            if round == 1 {
                steady = rig.kernel.counters();
                pool_steady = rig.kernel.pool_in_use(POOL_TAG);
            }
            let payloads = datagrams(count, 64, round);
            let slices: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
            let result = rig.send_batch(Destination::Address(receiver.address()), &slices);
            assert_eq!(
                result.status, STATUS_SUCCESS,
                "batch failed: {:#010x}",
                result.status
            );
            let reply = BatchReply::decode(&result.output).expect("reply");
            assert_eq!(reply.datagrams_sent as usize, count);
            assert_eq!(
                reply.bytes_sent as usize,
                payloads.iter().map(Vec::len).sum::<usize>()
            );
            assert_arrive(&receiver, &payloads, batched);
        }
        let after = rig.kernel.counters();
        let batches = 3;
        if batched {
            assert_eq!(
                after.wsk_send_messages - before.wsk_send_messages,
                batches,
                "one WskSendMessages per batch"
            );
            assert_eq!(
                after.irp_allocations, before.irp_allocations,
                "a batch goes out on its slot's IRP: none allocated"
            );
        } else {
            assert!(
                steady.irp_allocations - before.irp_allocations <= count as u64,
                "the first fallback batch allocates at most one IRP per datagram"
            );
            assert_eq!(after.wsk_send_messages, before.wsk_send_messages);
            assert_eq!(
                after.wsk_send_to - before.wsk_send_to,
                batches * count as u64,
                "the fallback sends each datagram"
            );
        }
        assert_eq!(
            after.irp_allocations, steady.irp_allocations,
            "no IRP allocation per batch"
        );
        assert_eq!(after.irp_frees, before.irp_frees, "a slot's IRPs are kept");
        assert_eq!(
            after.pool_allocations, steady.pool_allocations,
            "no pool allocation per batch"
        );
        assert_eq!(
            after.mdl_allocations, before.mdl_allocations,
            "no MDL allocation per batch"
        );
        assert_eq!(rig.kernel.pool_in_use(POOL_TAG), pool_steady);
        receiver.assert_nothing_more();
    }
    let stats = rig.stats();
    assert_eq!(stats.batches, 6);
    assert_eq!(stats.datagrams_sent, 2 + 3 * 150);
    assert_eq!(stats.pool_free, stats.pool_slots);
    rig.finish();
}

#[test]
fn a_batch_goes_out_with_one_send_messages_on_its_slots_irp() {
    batch_arrives_in_order(KernelConfig::default(), true);
}

#[test]
fn a_batch_goes_out_with_inline_completion() {
    batch_arrives_in_order(
        KernelConfig {
            completion: CompletionMode::Inline,
            ..KernelConfig::default()
        },
        true,
    );
}

#[test]
fn without_send_messages_a_batch_falls_back_to_send_to() {
    batch_arrives_in_order(
        KernelConfig {
            send_messages_supported: false,
            ..KernelConfig::default()
        },
        false,
    );
}

#[test]
fn a_batch_can_use_the_fixed_destination() {
    for send_messages_supported in [true, false] {
        let rig = Rig::with(KernelConfig {
            send_messages_supported,
            ..KernelConfig::default()
        });
        let receiver = Receiver::v6();
        assert_eq!(
            rig.configure(ConfigAction::FixedRemote(receiver.address())),
            STATUS_SUCCESS
        );
        let payloads = datagrams(20, 100, 9);
        let slices: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
        let before = rig.kernel.counters().wsk_send_to_null_remote;
        let result = rig.send_batch(Destination::Fixed(Family::V6), &slices);
        assert_eq!(result.status, STATUS_SUCCESS);
        assert_arrive(&receiver, &payloads, send_messages_supported);
        // A batch names the fixed destination explicitly: PFN_WSK_SEND_MESSAGES documents no
        // NULL RemoteAddress fallback (the model refuses one), and the WskSendTo fallback
        // does the same for simplicity.
        let null_sends = rig.kernel.counters().wsk_send_to_null_remote - before;
        assert_eq!(null_sends, 0, "NULL RemoteAddress used by a batch");
        rig.finish();
    }
}

#[test]
fn the_largest_batch_fits_one_slot() {
    let rig = Rig::new();
    let receiver = Receiver::v4();
    let payloads: Vec<Vec<u8>> = (0..MAX_BATCH_DATAGRAMS)
        .map(|i| pattern(256, i as u8))
        .collect();
    let slices: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
    let result = rig.send_batch(Destination::Address(receiver.address()), &slices);
    assert_eq!(result.status, STATUS_SUCCESS);
    for expected in &payloads {
        assert_eq!(&receiver.receive().0, expected);
    }
    rig.finish();
}

#[test]
fn malformed_batches_are_refused() {
    let rig = Rig::new();
    let receiver = Receiver::v4();
    let to = Destination::Address(receiver.address());
    let two: [&[u8]; 2] = [b"ab", b"cd"];
    let mut valid = vec![0u8; BATCH_HEADER_SIZE + 8 + 4];
    encode_batch(to, &two, &mut valid).expect("valid");
    let with = |at: usize, bytes: &[u8]| {
        let mut input = valid.clone();
        input[at..at + bytes.len()].copy_from_slice(bytes);
        input
    };
    let cases: Vec<(&str, Vec<u8>, usize, i32)> = vec![
        (
            "empty",
            vec![],
            BATCH_REPLY_SIZE,
            STATUS_INFO_LENGTH_MISMATCH,
        ),
        (
            "count 0",
            with(40, &0u32.to_le_bytes()),
            BATCH_REPLY_SIZE,
            STATUS_INVALID_BUFFER_SIZE,
        ),
        (
            "count above the maximum",
            with(40, &257u32.to_le_bytes()),
            BATCH_REPLY_SIZE,
            STATUS_INVALID_BUFFER_SIZE,
        ),
        (
            "total above one slot",
            with(44, &70_000u32.to_le_bytes()),
            BATCH_REPLY_SIZE,
            STATUS_INVALID_BUFFER_SIZE,
        ),
        (
            "lengths disagree with the total",
            with(48, &1u32.to_le_bytes()),
            BATCH_REPLY_SIZE,
            STATUS_INFO_LENGTH_MISMATCH,
        ),
        (
            "a zero-length datagram",
            {
                let mut v = with(48, &0u32.to_le_bytes());
                v[52..56].copy_from_slice(&4u32.to_le_bytes());
                v
            },
            BATCH_REPLY_SIZE,
            STATUS_INVALID_BUFFER_SIZE,
        ),
        (
            "unknown flags",
            with(2, &4u16.to_le_bytes()),
            BATCH_REPLY_SIZE,
            STATUS_INVALID_PARAMETER,
        ),
        (
            "output too small",
            valid.clone(),
            BATCH_REPLY_SIZE - 1,
            STATUS_BUFFER_TOO_SMALL,
        ),
    ];
    for (what, input, output, expected) in cases {
        let status = rig
            .ioctl(IOCTL_WSK_SAMPLE_SEND_BATCH, &input, output)
            .status;
        assert_eq!(status, expected, "{what}: got {status:#010x}");
    }
    assert_eq!(rig.kernel.counters().wsk_send_messages, 0);
    receiver.assert_nothing_more();
    rig.finish();
}

#[test]
fn the_pool_is_resized_while_idle() {
    let rig = Rig::new();
    let receiver = Receiver::v4();
    assert_eq!(rig.configure(ConfigAction::PoolSlots(4)), STATUS_SUCCESS);
    let stats = rig.stats();
    assert_eq!((stats.pool_slots, stats.pool_free), (4, 4));
    // Four 64 KiB buffers plus their list nodes and the engine: the memory really shrank. The
    // receive buffers (both families, built at load) are counted apart.
    let (_, bytes) = rig.kernel.pool_in_use(POOL_TAG);
    let receive =
        2 * wsk_sample_driver::RECEIVE_BUFFERS * wsk_sample_driver::RECEIVE_BUFFER_SIZE as usize;
    let bytes = bytes - receive;
    assert!(
        (4 * 65_536..6 * 65_536).contains(&bytes),
        "{bytes} bytes of pool for 4 slots"
    );
    for i in 0..20u8 {
        rig.send_ok(receiver.address(), &[i]);
        assert_eq!(receiver.receive().0, vec![i]);
    }
    assert_eq!(rig.configure(ConfigAction::PoolSlots(64)), STATUS_SUCCESS);
    assert_eq!(rig.stats().pool_slots, 64);
    let mut raw = [0u8; wsk_sample_ioctl::CONFIG_REQUEST_SIZE];
    ConfigAction::PoolSlots(1).encode(&mut raw).expect("valid");
    raw[40..48].copy_from_slice(&1000u64.to_le_bytes());
    let too_many = rig
        .ioctl(wsk_sample_ioctl::IOCTL_WSK_SAMPLE_CONFIGURE, &raw, 0)
        .status;
    assert_eq!(too_many, STATUS_INVALID_BUFFER_SIZE);
    assert_eq!(rig.stats().pool_slots, 64);
    rig.finish();
}

#[test]
fn a_failed_batch_counts_no_bytes() {
    // IoStatus.Information is defined only on success; the model leaves a value no driver may
    // count on a failed call.
    let rig = Rig::with(KernelConfig {
        faults: vec![Fault {
            site: FaultSite::WskSendMessages,
            nth: 1,
            status: STATUS_NETWORK_UNREACHABLE,
        }],
        ..KernelConfig::default()
    });
    let receiver = Receiver::v4();
    let payloads = datagrams(5, 40, 3);
    let slices: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
    let result = rig.send_batch(Destination::Address(receiver.address()), &slices);
    assert_eq!(result.status, STATUS_NETWORK_UNREACHABLE);
    let stats = rig.stats();
    assert_eq!(stats.bytes_sent, 0, "a failed batch adds no bytes");
    assert_eq!(stats.datagrams_sent, 0);
    assert_eq!(stats.failed_transport, 1);
    rig.finish();
}
