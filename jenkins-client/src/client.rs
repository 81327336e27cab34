//! The `Jenkins` client: connection settings, single reads, and the plumbing the other modules share.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use cidata_core::{
    Auth, BaseUrl, Error, ErrorKind, HttpClient, HttpClientBuilder, Request, Result, RetryPolicy,
    Url,
};
use serde::de::DeserializeOwned;

use crate::crumb::{CrumbCache, CrumbPolicy};
use crate::models::{Build, Job, Queue, QueueItem, Root, TestReport, View};
use crate::{JobPath, Tree};

/// Builds a [`Jenkins`] client.
///
/// ```no_run
/// # fn main() -> cidata_jenkins::Result<()> {
/// let token = std::env::var("JENKINS_API_TOKEN").unwrap_or_default();
/// let jenkins = cidata_jenkins::Jenkins::builder("https://ci.example.com/jenkins/")
///     .basic_auth("alice", token)
///     .page_size(200)
///     .build()?;
/// # Ok(()) }
/// ```
#[must_use]
pub struct JenkinsBuilder {
    http: HttpClientBuilder,
    crumbs: CrumbPolicy,
    page_size: u32,
    folder_depth: u32,
    console_poll: Duration,
    concurrency: usize,
}

impl JenkinsBuilder {
    /// Authenticates with a user and an API token (basic auth). POSTs need no CSRF crumb.
    pub fn basic_auth(mut self, user: impl Into<String>, api_token: impl Into<String>) -> Self {
        self.http = self.http.auth(Auth::basic(user, api_token));
        self.crumbs = CrumbPolicy::Never;
        self
    }

    /// Authenticates with a user and a password. POSTs fetch a CSRF crumb and send it with the
    /// session cookie it was issued with.
    pub fn password_auth(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.http = self.http.auth(Auth::basic(user, password));
        self.crumbs = CrumbPolicy::WhenEnabled;
        self
    }

    /// Uses any [`Auth`] (a bearer token from an SSO proxy, a header). Crumbs are fetched for POSTs.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.http = self.http.auth(auth);
        self.crumbs = CrumbPolicy::WhenEnabled;
        self
    }

    /// Forces CSRF crumbs on or off for POSTs, whatever the auth.
    pub fn csrf_crumbs(mut self, enabled: bool) -> Self {
        self.crumbs = if enabled {
            CrumbPolicy::WhenEnabled
        } else {
            CrumbPolicy::Never
        };
        self
    }

    /// Builds per page of `allBuilds{M,N}` listings. Default 100.
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// Folder levels nested in one job-listing request before descending with another. Default 5.
    pub fn folder_depth(mut self, levels: u32) -> Self {
        self.folder_depth = levels.clamp(1, 20);
        self
    }

    /// The pause between polls of a running build's console. Default 2 s.
    pub fn console_poll_interval(mut self, interval: Duration) -> Self {
        self.console_poll = interval;
        self
    }

    /// How many requests listings that fan out (such as reading many builds) keep in flight. Default 4.
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// How long to wait for a connection. Default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.http = self.http.connect_timeout(timeout);
        self
    }

    /// The deadline of one request (and of each read of a streamed body). Default 60 s.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.http = self.http.request_timeout(Some(timeout));
        self
    }

    /// Trusts the CA certificates of `pem` besides the system's roots (a company CA); see
    /// [`cidata_core::HttpClientBuilder::extra_root_certificates_pem`].
    pub fn extra_root_certificates_pem(mut self, pem: Vec<u8>) -> Self {
        self.http = self.http.extra_root_certificates_pem(pem);
        self
    }

    /// The largest JSON response accepted, after decompression (default
    /// [`cidata_core::DEFAULT_MAX_RESPONSE_BYTES`]); a larger one is an
    /// [`ErrorKind::TooLarge`](cidata_core::ErrorKind::TooLarge) error naming the URL.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.http = self.http.max_response_bytes(limit);
        self
    }

    /// The retry policy for idempotent requests. Triggers and other POSTs are never retried.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.http = self.http.retry(retry);
        self
    }

    /// A client-side rate limit.
    pub fn rate_limit(mut self, per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        self.http = self.http.rate_limit(per_second, burst);
        self
    }

    /// The `User-Agent` (default `cidata-jenkins/VERSION`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.http = self.http.user_agent(user_agent);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Jenkins> {
        let http = self.http.build()?;
        Ok(Jenkins {
            http,
            crumbs: Arc::new(CrumbCache::new(self.crumbs)),
            page_size: self.page_size,
            folder_depth: self.folder_depth,
            console_poll: self.console_poll,
            concurrency: self.concurrency,
        })
    }
}

/// An async client of one Jenkins server. Cheap to clone; clones share connections and counters.
///
/// ```no_run
/// # async fn demo() -> cidata_jenkins::Result<()> {
/// use futures::TryStreamExt;
/// use cidata_jenkins::{Jenkins, JobPath};
/// let jenkins = Jenkins::builder("https://ci.example.com/").basic_auth("alice", "token").build()?;
/// let mut jobs = std::pin::pin!(jenkins.jobs());
/// while let Some(entry) = jobs.try_next().await? {
///     println!("{} {:?}", entry.path, entry.job.color);
/// }
/// let path = JobPath::from_full_name("team/app")?;
/// let builds: Vec<_> = jenkins.builds(&path).try_collect().await?;
/// println!("{} builds, {} requests", builds.len(), jenkins.stats().snapshot().requests);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Jenkins {
    pub(crate) http: HttpClient,
    pub(crate) crumbs: Arc<CrumbCache>,
    pub(crate) page_size: u32,
    pub(crate) folder_depth: u32,
    pub(crate) console_poll: Duration,
    pub(crate) concurrency: usize,
}

impl AsRef<Jenkins> for Jenkins {
    fn as_ref(&self) -> &Jenkins {
        self
    }
}

impl fmt::Debug for Jenkins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jenkins")
            .field("http", &self.http)
            .field("page_size", &self.page_size)
            .field("folder_depth", &self.folder_depth)
            .finish_non_exhaustive()
    }
}

impl Jenkins {
    /// Starts a builder for the server at `base_url` (which may carry a context path such as
    /// `https://host/jenkins/`). Without auth settings the client is anonymous.
    pub fn builder(base_url: impl Into<String>) -> JenkinsBuilder {
        JenkinsBuilder {
            http: HttpClient::builder(base_url)
                .user_agent(concat!("cidata-jenkins/", env!("CARGO_PKG_VERSION"))),
            crumbs: CrumbPolicy::WhenEnabled,
            page_size: 100,
            folder_depth: 5,
            console_poll: Duration::from_secs(2),
            concurrency: 4,
        }
    }

    /// An anonymous client with default settings.
    pub fn anonymous(base_url: impl Into<String>) -> Result<Jenkins> {
        Jenkins::builder(base_url).build()
    }

    /// The transport (for counters, the base URL, or requests this crate does not model).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The configured base URL.
    pub fn base(&self) -> &BaseUrl {
        self.http.base()
    }

    /// Request counters.
    pub fn stats(&self) -> &cidata_core::RequestStats {
        self.http.stats()
    }

    /// How many requests fan-out listings keep in flight.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// The URL of `path` below the base (`job/a/lastBuild/buildNumber`).
    pub fn url(&self, path: &str) -> Result<Url> {
        self.base().join(path)
    }

    /// The `api/json` URL of an object at `prefix` (`""` for the root, `job/a/`, `job/a/12/`), with a
    /// `tree=` query when given. `depth` is never sent: use a tree.
    pub fn api_url(&self, prefix: &str, tree: Option<&Tree>) -> Result<Url> {
        let mut prefix = prefix.trim_start_matches('/').to_owned();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        let mut url = self.url(&format!("{prefix}api/json"))?;
        if let Some(tree) = tree.filter(|t| !t.is_empty()) {
            url.query_pairs_mut().append_pair("tree", &tree.to_string());
        }
        Ok(url)
    }

    /// The URL of a job: `BASE/job/a/job/b/`.
    pub fn job_url(&self, job: &JobPath) -> Result<Url> {
        self.url(&job.url_path())
    }

    /// The URL of a build: `BASE/job/a/42/`.
    pub fn build_url(&self, job: &JobPath, number: u64) -> Result<Url> {
        self.url(&format!("{}{number}/", job.url_path()))
    }

    /// Escape hatch: GETs `prefix` + `api/json` with an optional tree and decodes it into any type.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        prefix: &str,
        tree: Option<&Tree>,
    ) -> Result<T> {
        self.http.get_json(self.api_url(prefix, tree)?).await
    }

    /// Exploration only: GETs `prefix` + `api/json?depth=N`. `depth` re-embeds whole object graphs
    /// (a node at depth 1 repeats the whole server root) and brings big servers to 504s, so nothing
    /// in this crate sends it; prefer a [`Tree`].
    pub async fn get_json_at_depth<T: DeserializeOwned>(
        &self,
        prefix: &str,
        depth: u32,
    ) -> Result<T> {
        let mut url = self.api_url(prefix, None)?;
        url.query_pairs_mut()
            .append_pair("depth", &depth.to_string());
        self.http.get_json(url).await
    }

    /// The server root (`/api/json`): top-level jobs, views, settings.
    pub async fn root(&self, tree: Option<&Tree>) -> Result<Root> {
        self.get_json("", tree).await
    }

    /// One job, all of its fields or those of `tree`.
    pub async fn job(&self, job: &JobPath, tree: Option<&Tree>) -> Result<Job> {
        self.get_json(&job.url_path(), tree).await
    }

    /// One build.
    pub async fn build(&self, job: &JobPath, number: u64, tree: Option<&Tree>) -> Result<Build> {
        self.get_json(&format!("{}{number}/", job.url_path()), tree)
            .await
    }

    /// The test report of a build; `None` when the build recorded no tests (Jenkins answers 404).
    pub async fn test_report(
        &self,
        job: &JobPath,
        number: u64,
        tree: Option<&Tree>,
    ) -> Result<Option<TestReport>> {
        match self
            .get_json(&format!("{}{number}/testReport/", job.url_path()), tree)
            .await
        {
            Ok(report) => Ok(Some(report)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The number of the newest build (`/lastBuild/buildNumber`); `None` if the job never built.
    pub async fn last_build_number(&self, job: &JobPath) -> Result<Option<u64>> {
        let url = self.url(&format!("{}lastBuild/buildNumber", job.url_path()))?;
        let text = match self.http.send(Request::get(url.clone())).await {
            Ok(resp) => resp.text().await?,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        text.trim().parse().map(Some).map_err(|_| {
            Error::new(
                ErrorKind::UnexpectedContent,
                "expected a build number as text",
            )
            .with_request("GET", &url)
            .with_body(text.as_bytes())
        })
    }

    /// The queue.
    pub async fn queue(&self, tree: Option<&Tree>) -> Result<Queue> {
        self.get_json("queue/", tree).await
    }

    /// One queue item (`/queue/item/N/api/json`); items vanish about five minutes after they leave.
    pub async fn queue_item(&self, id: u64) -> Result<QueueItem> {
        self.get_json(&format!("queue/item/{id}/"), None).await
    }

    /// One view by name.
    pub async fn view(&self, name: &str, tree: Option<&Tree>) -> Result<View> {
        self.get_json(&format!("view/{}/", crate::encode_segment(name)), tree)
            .await
    }

    /// Sends a POST to `url` (below the base), with a crumb when the policy asks for one. Never
    /// retried; if a cached crumb was rejected (403), one new crumb is fetched and the POST sent once more.
    pub async fn post(&self, url: Url, form: &[(&str, &str)]) -> Result<cidata_core::Response> {
        let build = |crumb: Option<&crate::crumb::CrumbHeaders>| {
            let mut req = Request::post(url.clone());
            if !form.is_empty() {
                req = req.form(form.iter().copied());
            }
            if let Some(c) = crumb {
                req = c.apply(req);
            }
            req
        };
        let crumb = self.crumbs.get(&self.http).await?;
        match self.http.send(build(crumb.as_deref())).await {
            Err(e) if e.status().map(|s| s.as_u16()) == Some(403) && crumb.is_some() => {
                self.crumbs.invalidate();
                let fresh = self.crumbs.get(&self.http).await?;
                self.http.send(build(fresh.as_deref())).await
            }
            other => other,
        }
    }
}
