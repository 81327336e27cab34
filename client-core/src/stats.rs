//! Request counters that a sync run or a benchmark reads.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters shared by every clone of a client. Cheap to clone (it is an `Arc`).
#[derive(Debug, Clone, Default)]
pub struct RequestStats {
    inner: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    bytes_received: AtomicU64,
    failures: AtomicU64,
}

/// A point-in-time copy of [`RequestStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// HTTP requests sent, every attempt counted.
    pub requests: u64,
    /// Attempts that were repeats of a failed one.
    pub retries: u64,
    /// Response body bytes read (after decompression).
    pub bytes_received: u64,
    /// Requests that ended in an error after all attempts.
    pub failures: u64,
}

impl StatsSnapshot {
    /// The counters accumulated since `earlier`.
    pub fn since(&self, earlier: &StatsSnapshot) -> StatsSnapshot {
        StatsSnapshot {
            requests: self.requests.saturating_sub(earlier.requests),
            retries: self.retries.saturating_sub(earlier.retries),
            bytes_received: self.bytes_received.saturating_sub(earlier.bytes_received),
            failures: self.failures.saturating_sub(earlier.failures),
        }
    }
}

impl RequestStats {
    /// Reads the counters.
    pub fn snapshot(&self) -> StatsSnapshot {
        let c = &self.inner;
        StatsSnapshot {
            requests: c.requests.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            bytes_received: c.bytes_received.load(Ordering::Relaxed),
            failures: c.failures.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn add_request(&self) {
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_retry(&self) {
        self.inner.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_failure(&self) {
        self.inner.failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_bytes(&self, n: usize) {
        self.inner
            .bytes_received
            .fetch_add(n as u64, Ordering::Relaxed);
    }
}
