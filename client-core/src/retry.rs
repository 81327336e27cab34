//! When and how long to wait before repeating a request.

use std::time::{Duration, SystemTime};

use backon::ExponentialBuilder;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// Retry settings: exponential backoff with jitter, capped, honouring the server's `Retry-After`
/// within a maximum. Only idempotent requests are ever retried, and only on 408, 429, 500, 502, 503,
/// 504, connect errors and timeouts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included (1 means no retry). Default 5.
    pub max_attempts: u32,
    /// The first backoff delay. Default 250 ms.
    pub min_delay: Duration,
    /// The longest backoff delay. Default 10 s.
    pub max_delay: Duration,
    /// The longest wait a server's `Retry-After` can impose. Default 60 s.
    pub max_retry_after: Duration,
    /// Randomise delays so that many clients do not retry in step. Default on.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            min_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    pub(crate) fn backoff(&self) -> ExponentialBuilder {
        let builder = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_attempts.saturating_sub(1) as usize);
        if self.jitter {
            builder.with_jitter()
        } else {
            builder
        }
    }

    /// The delay to use before the next attempt: the server's wish, clamped, over our own backoff.
    pub(crate) fn delay(&self, backoff: Duration, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(wish) => wish.min(self.max_retry_after),
            None => backoff,
        }
    }
}

/// Reads `Retry-After` as delay-seconds or as an HTTP date (a date in the past means "now").
pub fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(
            parse_retry_after(&headers("7")),
            Some(Duration::from_secs(7))
        );
        let future = SystemTime::now() + Duration::from_secs(30);
        let d = parse_retry_after(&headers(&httpdate::fmt_http_date(future))).unwrap();
        assert!(
            d <= Duration::from_secs(30) && d >= Duration::from_secs(28),
            "{d:?}"
        );
        assert_eq!(
            parse_retry_after(&headers("Wed, 21 Oct 2015 07:28:00 GMT")),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after(&headers("soon")), None);
        assert_eq!(parse_retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn retry_after_is_clamped() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.delay(Duration::from_millis(5), Some(Duration::from_secs(3600))),
            p.max_retry_after
        );
        assert_eq!(
            p.delay(Duration::from_millis(5), None),
            Duration::from_millis(5)
        );
    }
}
