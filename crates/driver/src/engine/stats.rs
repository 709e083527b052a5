//! The engine's counters: requests, failures by kind, and the QUERY_STATS reply.

use core::net::SocketAddr;
use core::sync::atomic::{AtomicU64, Ordering};

use wsk_sample_ioctl::{FixedDestination, Stats};

use super::Engine;
use crate::failure::FailureKind;
use crate::wsk::Family;

impl Engine {
    pub fn count_request(&self) {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_failure(&self, kind: FailureKind) {
        let counter = match kind {
            FailureKind::Validation => &self.stats.failed_validation,
            FailureKind::NoResources => &self.stats.failed_no_resources,
            FailureKind::NotReady => &self.stats.failed_not_ready,
            FailureKind::Transport => &self.stats.failed_transport,
            FailureKind::Cancelled => &self.stats.failed_cancelled,
            FailureKind::Busy => &self.stats.failed_busy,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn local_address(&self, family: Family) -> Option<SocketAddr> {
        let state = self.family(family);
        if state.socket.load(Ordering::Acquire).is_null() {
            return None;
        }
        state.local().to_socket_addr()
    }

    pub(super) fn fixed_destination(&self, family: Family) -> Option<FixedDestination> {
        self.family(family).fixed()
    }

    pub fn stats(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            requests: get(&self.stats.requests),
            datagrams_sent: get(&self.stats.datagrams_sent),
            bytes_sent: get(&self.stats.bytes_sent),
            in_flight: self.families.iter().map(|f| f.gate.in_flight()).sum(),
            failed_validation: get(&self.stats.failed_validation),
            failed_no_resources: get(&self.stats.failed_no_resources),
            failed_not_ready: get(&self.stats.failed_not_ready),
            failed_transport: get(&self.stats.failed_transport),
            failed_cancelled: get(&self.stats.failed_cancelled),
            failed_busy: get(&self.stats.failed_busy),
            pool_slots: self.slots.slot_count(),
            pool_free: self.slots.free_slots(),
            slot_size: self.slots.slot_size(),
            local_v4: self.local_address(Family::V4),
            local_v6: self.local_address(Family::V6),
            fixed_v4: self.fixed_destination(Family::V4),
            fixed_v6: self.fixed_destination(Family::V6),
            batches: get(&self.batches),
        }
    }
}
