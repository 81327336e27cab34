//! Faults the simulator injects, as servers behind proxies and load balancers give them: a seeded
//! fraction of GET requests answered with 429 (with and without `Retry-After`), 502, a 503 HTML
//! page, a connection reset, a body cut short, or an answer slower than the client's timeout; and
//! a service that goes down after some requests and stays down.

use std::collections::HashSet;
use std::time::Duration;

/// What to inject (see [`super::Simulator::set_faults`]).
#[derive(Debug, Clone, PartialEq)]
pub struct FaultPlan {
    /// The fraction of GET requests answered with a fault, 0.0 to 1.0.
    pub rate: f64,
    /// The seed of the choice of requests and faults.
    pub seed: u64,
    /// How long a slow answer takes: more than the client's timeout.
    pub slow: Duration,
}

impl FaultPlan {
    /// `rate` of the requests faulty, seeded by `seed`, slow answers taking 3 s.
    pub fn new(rate: f64, seed: u64) -> FaultPlan {
        FaultPlan {
            rate,
            seed,
            slow: Duration::from_secs(3),
        }
    }
}

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429 with `Retry-After: 1`.
    TooManyRequestsRetryAfter,
    /// 429 without `Retry-After`.
    TooManyRequests,
    /// 502 with a short text body, as a proxy gives it.
    BadGateway,
    /// 503 with an HTML page, as a load balancer gives it.
    UnavailableHtml,
    /// The connection closed without an answer.
    Reset,
    /// The answer's body cut in the middle (its `Content-Length` promises more).
    Truncated,
    /// The right answer, after [`FaultPlan::slow`].
    Slow,
}

const KINDS: [Fault; 7] = [
    Fault::TooManyRequestsRetryAfter,
    Fault::TooManyRequests,
    Fault::BadGateway,
    Fault::UnavailableHtml,
    Fault::Reset,
    Fault::Truncated,
    Fault::Slow,
];

/// The injector's state: the plan, its random sequence, and the requests whose last answer was
/// a fault (their next attempt is answered: faults are transient, as the real ones are).
#[derive(Debug)]
pub(crate) struct Injector {
    plan: FaultPlan,
    rng: u64,
    faulted: HashSet<String>,
    injected: u64,
}

impl Injector {
    pub(crate) fn new(plan: FaultPlan) -> Injector {
        // xorshift must not start at 0.
        let rng = plan.seed ^ 0x9e37_79b9_7f4a_7c15;
        Injector {
            plan,
            rng: if rng == 0 { 1 } else { rng },
            faulted: HashSet::new(),
            injected: 0,
        }
    }

    fn next(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }

    /// The fault for a request of `target` (path and query), if any.
    pub(crate) fn pick(&mut self, target: &str) -> Option<Fault> {
        if self.faulted.remove(target) {
            return None;
        }
        let roll = self.next();
        let unit = (roll >> 11) as f64 / (1u64 << 53) as f64;
        if unit >= self.plan.rate {
            return None;
        }
        self.faulted.insert(target.to_owned());
        self.injected += 1;
        Some(KINDS[(self.next() % KINDS.len() as u64) as usize])
    }

    pub(crate) fn slow(&self) -> Duration {
        self.plan.slow
    }

    pub(crate) fn injected(&self) -> u64 {
        self.injected
    }
}

/// A service that answers normally for some requests, then 503 for good.
#[derive(Debug, Clone)]
pub(crate) struct Outage {
    /// The path prefix of the service (`/jenkins/`, `/api/v2/`, `/2.0/`).
    pub(crate) prefix: String,
    /// Requests of that service still answered before it goes down.
    pub(crate) answered_before_down: u64,
}

/// The page a load balancer shows for a service that is down.
pub(crate) const UNAVAILABLE_PAGE: &str = "<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head>\
<body><h1>Service Unavailable</h1><p>The server is temporarily unable to service your request.</p></body></html>";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_kept_and_a_retry_is_answered() {
        let mut injector = Injector::new(FaultPlan::new(0.1, 7));
        let faults = (0..10_000)
            .filter(|i| injector.pick(&format!("/r{i}")).is_some())
            .count();
        assert!((900..1100).contains(&faults), "{faults}");
        // The same request right after its fault gets an answer.
        let mut injector = Injector::new(FaultPlan::new(1.0, 7));
        assert!(injector.pick("/a").is_some());
        assert!(injector.pick("/a").is_none());
        assert!(injector.pick("/a").is_some());
        // The same seed, the same faults.
        let picks = |seed| {
            let mut injector = Injector::new(FaultPlan::new(0.5, seed));
            (0..50)
                .map(|i| injector.pick(&format!("/r{i}")))
                .collect::<Vec<_>>()
        };
        assert_eq!(picks(3), picks(3));
        assert_ne!(picks(3), picks(4));
    }
}
