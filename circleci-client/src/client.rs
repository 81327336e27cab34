//! The `CircleCi` client: connection settings and the plumbing every endpoint shares.

use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use cidata_core::raw::Keyed;
use cidata_core::{
    Auth, BaseUrl, Cursor, Error, ErrorKind, HttpClient, HttpClientBuilder, Next, Page, PageLimits,
    Request, Result, RetryPolicy, Url, paginate,
};
use futures::{Stream, TryStreamExt};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// CircleCI's cloud API.
pub const DEFAULT_BASE_URL: &str = "https://circleci.com/api/v2/";

/// Builds a [`CircleCi`] client.
///
/// ```no_run
/// # fn main() -> cidata_circleci::Result<()> {
/// let token = std::env::var("CIRCLECI_TOKEN").unwrap_or_default();
/// let circleci = cidata_circleci::CircleCi::builder().token(token).build()?;
/// // CircleCI server, or a test double: any base URL, its path kept.
/// let server = cidata_circleci::CircleCi::builder()
///     .base_url("https://circleci.example.com/api/v2/")
///     .token("...")
///     .build()?;
/// # Ok(()) }
/// ```
#[must_use]
pub struct CircleCiBuilder {
    base_url: String,
    token: Option<String>,
    http: HttpClientBuilder,
    concurrency: usize,
}

impl fmt::Debug for CircleCiBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircleCiBuilder")
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

impl CircleCiBuilder {
    /// The API's base URL (default [`DEFAULT_BASE_URL`]); a path such as `/api/v2/` is kept.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// A personal or project API token, sent as the `Circle-Token` header.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Requests that fan out (such as the jobs of many workflows) keep this many in flight.
    /// Default 8.
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// How long to wait for a connection. Default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.http = self.http.connect_timeout(timeout);
        self
    }

    /// The deadline of one request. Default 60 s.
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

    /// The retry policy for reads. Actions (trigger, rerun, cancel, approve) are never retried.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.http = self.http.retry(retry);
        self
    }

    /// A client-side rate limit (CircleCI answers `x-ratelimit-*` headers and 429s).
    pub fn rate_limit(mut self, per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        self.http = self.http.rate_limit(per_second, burst);
        self
    }

    /// A header sent with every request (a proxy's, or Prism's `Prefer` in tests).
    pub fn header(
        mut self,
        name: cidata_core::header::HeaderName,
        value: cidata_core::header::HeaderValue,
    ) -> Self {
        self.http = self.http.default_header(name, value);
        self
    }

    /// The `User-Agent` (default `cidata-circleci/VERSION`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.http = self.http.user_agent(user_agent);
        self
    }

    /// Builds the client. Without a token requests are anonymous (public projects only).
    pub fn build(self) -> Result<CircleCi> {
        let mut http = self.http.base_url(self.base_url);
        if let Some(token) = self.token {
            http = http.auth(Auth::header("Circle-Token", token)?);
        }
        Ok(CircleCi {
            http: http.build()?,
            concurrency: self.concurrency,
        })
    }
}

/// An async client of the CircleCI API v2. Cheap to clone; clones share connections and counters.
///
/// ```no_run
/// use futures::TryStreamExt;
/// use cidata_circleci::{CircleCi, ProjectSlug};
///
/// # async fn demo() -> cidata_circleci::Result<()> {
/// let circleci = CircleCi::builder().token("...").build()?;
/// let slug: ProjectSlug = "gh/acme/web".parse()?;
/// let mut pipelines = std::pin::pin!(circleci.pipelines(&slug, Some("main")));
/// while let Some(pipeline) = pipelines.try_next().await? {
///     let workflows: Vec<_> = circleci.workflows(pipeline.id.as_deref().unwrap_or_default()).try_collect().await?;
///     println!("#{:?}: {} workflows", pipeline.number, workflows.len());
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CircleCi {
    pub(crate) http: HttpClient,
    pub(crate) concurrency: usize,
}

impl fmt::Debug for CircleCi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircleCi")
            .field("base", &self.http.base().to_string())
            .finish_non_exhaustive()
    }
}

/// One page of a CircleCI list. `next_page_token` may be null, empty or missing on the last page;
/// `items` is required: a page without it (`{}`, `{"items": null}`, `{"message": ...}` from a
/// proxy) is an error, never an empty last page.
#[derive(Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
struct ListPage<T> {
    items: Vec<Keyed<T>>,
    #[serde(default)]
    next_page_token: Option<String>,
}

impl CircleCi {
    /// A builder for the cloud API ([`DEFAULT_BASE_URL`]).
    pub fn builder() -> CircleCiBuilder {
        CircleCiBuilder {
            base_url: DEFAULT_BASE_URL.to_owned(),
            token: None,
            http: HttpClient::builder(DEFAULT_BASE_URL)
                .user_agent(concat!("cidata-circleci/", env!("CARGO_PKG_VERSION"))),
            concurrency: 8,
        }
    }

    /// The underlying HTTP client (for endpoints this crate does not model).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The base URL requests go to.
    pub fn base(&self) -> &BaseUrl {
        self.http.base()
    }

    /// Requests, retries and bytes so far.
    pub fn stats(&self) -> &cidata_core::RequestStats {
        self.http.stats()
    }

    /// How many requests fan-outs keep in flight.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// The URL of `path` (relative to the base, already encoded) with `query`.
    pub fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url> {
        let mut url = self.base().join(path)?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in query {
                pairs.append_pair(name, value);
            }
        }
        Ok(url)
    }

    /// GETs `path` and decodes its JSON.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T> {
        self.http.get_json(self.url(path, query)?).await
    }

    /// Every item of a CircleCI list at `path`, page after page (`page-token`), as a stream.
    /// The list is whole or the stream ends with an error ([`cidata_core::paginate`]): a page
    /// without `items`, a repeated token (Prism's static token is always `"string"`), a page of
    /// items already listed, a 404 after the first page are [`ErrorKind::IncompleteList`] or
    /// [`ErrorKind::Decode`] errors naming the URL.
    pub fn list<T>(
        &self,
        path: String,
        query: Vec<(&'static str, String)>,
    ) -> impl Stream<Item = Result<T>> + Send + 'static
    where
        T: DeserializeOwned + Send + 'static,
    {
        let client = self.clone();
        let pages = paginate(
            self.base().clone(),
            PageLimits::default(),
            move |cursor: Option<Cursor>| {
                let client = client.clone();
                let path = path.clone();
                let mut query = query.clone();
                async move {
                    if let Some(Cursor::Token(token)) = cursor {
                        query.push(("page-token", token));
                    }
                    let pairs: Vec<(&str, &str)> =
                        query.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    let url = client.url(&path, &pairs)?;
                    let page: ListPage<T> = client.http.get_json(url.clone()).await?;
                    let next = match page.next_page_token {
                        Some(token) if !token.is_empty() => Next::Token(token),
                        _ => Next::End,
                    };
                    Ok(Page::keyed(page.items, next).fetched_from(url))
                }
            },
        );
        pages
            .map_ok(|page| futures::stream::iter(page.items.into_iter().map(Ok)))
            .try_flatten()
    }

    /// POSTs to `path`, with a JSON body if any, and decodes the answer. Never retried: an action
    /// that reached the server must not run twice.
    pub async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<T> {
        let url = self.url(path, &[])?;
        let mut request = Request::post(url).idempotent(false);
        if let Some(body) = body {
            let bytes = serde_json::to_vec(body).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidInput,
                    format!("the request body does not encode: {e}"),
                )
            })?;
            request = request.body(bytes, "application/json");
        }
        self.http.send_json(request).await
    }
}
