//! Triggering builds, waiting for them to leave the queue, stopping them. Triggers are not
//! idempotent: they are sent once and never retried automatically.

use std::time::{Duration, Instant};

use cidata_core::header::LOCATION;
use cidata_core::{Error, ErrorKind, Result};

use crate::models::{BuildRef, QueueState};
use crate::{Jenkins, JobPath};

/// A build waiting in the queue, as a trigger returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueuedBuild {
    /// The queue item's id.
    pub queue_id: u64,
    /// The queue item's URL, from `Location`.
    pub url: String,
}

/// How long and how often to poll a queue item.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WaitOptions {
    /// Give up after this long. Default 10 minutes.
    pub timeout: Duration,
    /// Pause between polls. Default 1 s.
    pub poll_interval: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            timeout: Duration::from_secs(600),
            poll_interval: Duration::from_secs(1),
        }
    }
}

impl WaitOptions {
    /// Sets the timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the pause between polls.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }
}

impl Jenkins {
    /// Triggers a build of a job without parameters (`POST job/X/build`).
    pub async fn trigger(&self, job: &JobPath) -> Result<QueuedBuild> {
        self.trigger_at(job, "build", &[]).await
    }

    /// Triggers a build with parameters (`POST job/X/buildWithParameters`); parameters left out take
    /// their defaults, so an empty list builds with all defaults.
    pub async fn trigger_with_parameters(
        &self,
        job: &JobPath,
        parameters: &[(&str, &str)],
    ) -> Result<QueuedBuild> {
        self.trigger_at(job, "buildWithParameters", parameters)
            .await
    }

    async fn trigger_at(
        &self,
        job: &JobPath,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> Result<QueuedBuild> {
        let url = self.url(&format!("{}{endpoint}", job.url_path()))?;
        let resp = self.post(url.clone(), form).await?;
        let location = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let location = location.ok_or_else(|| {
            Error::new(
                ErrorKind::Protocol,
                "the trigger was accepted but the answer has no `Location` header",
            )
            .with_request("POST", &url)
        })?;
        let queue_id = queue_id_from(&location).ok_or_else(|| {
            Error::new(
                ErrorKind::Protocol,
                format!("`Location: {location}` is not a queue item URL"),
            )
            .with_request("POST", &url)
        })?;
        Ok(QueuedBuild {
            queue_id,
            url: location,
        })
    }

    /// Polls a queue item until it becomes a build, bounded by `options.timeout`. A cancelled item is
    /// an [`ErrorKind::Cancelled`] error; a 404 before the item was first seen is tolerated (Jenkins
    /// may not show it yet), one after it is an error (items vanish about 5 minutes after leaving).
    pub async fn wait_for_build(&self, queue_id: u64, options: WaitOptions) -> Result<BuildRef> {
        let started = Instant::now();
        let mut seen = false;
        loop {
            match self.queue_item(queue_id).await {
                Ok(item) => {
                    seen = true;
                    match item.state() {
                        QueueState::Started(build) => return Ok(build),
                        QueueState::Cancelled => {
                            return Err(Error::new(
                                ErrorKind::Cancelled,
                                format!("queue item {queue_id} was cancelled before it started"),
                            ));
                        }
                        _ => {}
                    }
                }
                Err(e) if e.is_not_found() && !seen => {}
                Err(e) => return Err(e),
            }
            if started.elapsed() + options.poll_interval > options.timeout {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "queue item {queue_id} did not start within {:?}",
                        options.timeout
                    ),
                ));
            }
            tokio::time::sleep(options.poll_interval).await;
        }
    }

    /// Stops (aborts) a running build (`POST job/X/N/stop`).
    pub async fn stop_build(&self, job: &JobPath, number: u64) -> Result<()> {
        let url = self.url(&format!("{}{number}/stop", job.url_path()))?;
        self.post(url, &[]).await.map(drop)
    }
}

/// The id in `.../queue/item/130/`.
fn queue_id_from(location: &str) -> Option<u64> {
    let rest = &location[location.rfind("queue/item/")? + "queue/item/".len()..];
    rest.trim_end_matches('/').parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_queue_ids() {
        assert_eq!(queue_id_from("http://h/jenkins/queue/item/130/"), Some(130));
        assert_eq!(queue_id_from("queue/item/7"), Some(7));
        assert_eq!(queue_id_from("http://h/job/a/"), None);
        assert_eq!(queue_id_from("http://h/queue/item/x/"), None);
    }
}
