//! The `Bitbucket` client: the ways people authenticate, connection settings, and the paging every
//! list shares.

use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use cidata_core::raw::Keyed;
use cidata_core::{
    Auth, BaseUrl, Cursor, HttpClient, HttpClientBuilder, Next, Page, PageLimits, Result,
    RetryPolicy, Url, paginate,
};
use futures::{Stream, TryStreamExt};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Bitbucket Cloud's API.
pub const DEFAULT_BASE_URL: &str = "https://api.bitbucket.org/2.0/";

/// Builds a [`Bitbucket`] client.
///
/// ```no_run
/// # fn main() -> cidata_bitbucket::Result<()> {
/// use cidata_bitbucket::Bitbucket;
/// // An API token (account e-mail + token), the way Atlassian recommends since 2025:
/// let bitbucket = Bitbucket::builder().api_token("alice@example.com", "ATATT...").build()?;
/// // An app password (being retired), or an access token (repository, project, workspace, OAuth):
/// let old = Bitbucket::builder().app_password("alice", "app-password").build()?;
/// let bot = Bitbucket::builder().access_token("ATCTT...").build()?;
/// # Ok(()) }
/// ```
#[must_use]
pub struct BitbucketBuilder {
    base_url: String,
    auth: Option<Auth>,
    http: HttpClientBuilder,
    pagelen: u32,
    concurrency: usize,
}

impl fmt::Debug for BitbucketBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BitbucketBuilder")
            .field("base_url", &self.base_url)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl BitbucketBuilder {
    /// The API's base URL (default [`DEFAULT_BASE_URL`]); its path is kept.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// A username and an app password (basic auth; Atlassian is retiring app passwords).
    pub fn app_password(
        mut self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.auth = Some(Auth::basic(username, password));
        self
    }

    /// An Atlassian account's e-mail and an API token (basic auth).
    pub fn api_token(mut self, email: impl Into<String>, token: impl Into<String>) -> Self {
        self.auth = Some(Auth::basic(email, token));
        self
    }

    /// A repository, project or workspace access token, or an OAuth token (bearer).
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.auth = Some(Auth::bearer(token));
        self
    }

    /// Items per page of every list, 10 to 100 (default 100: fewer requests).
    pub fn pagelen(mut self, pagelen: u32) -> Self {
        self.pagelen = pagelen.clamp(10, 100);
        self
    }

    /// Requests that fan out keep this many in flight. Default 8.
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

    /// The retry policy for reads. Bitbucket often answers 429 without `Retry-After`; the
    /// policy's own backoff applies then.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.http = self.http.retry(retry);
        self
    }

    /// A client-side rate limit counted per hour, as Bitbucket counts (1,000 requests an hour
    /// for most endpoints with an app password or token).
    pub fn rate_limit_per_hour(mut self, per_hour: NonZeroU32, burst: NonZeroU32) -> Self {
        self.http = self.http.rate_limit_per_hour(per_hour, burst);
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

    /// The `User-Agent` (default `cidata-bitbucket/VERSION`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.http = self.http.user_agent(user_agent);
        self
    }

    /// Builds the client. Without credentials requests are anonymous (public data only).
    pub fn build(self) -> Result<Bitbucket> {
        let mut http = self.http.base_url(self.base_url);
        if let Some(auth) = self.auth {
            http = http.auth(auth);
        }
        Ok(Bitbucket {
            http: http.build()?,
            pagelen: self.pagelen,
            concurrency: self.concurrency,
        })
    }
}

/// An async client of Bitbucket Cloud's API 2.0. Cheap to clone; clones share connections and
/// counters.
///
/// ```no_run
/// use futures::TryStreamExt;
/// use cidata_bitbucket::{Bitbucket, Filter, FilterValue, Query};
///
/// # async fn demo() -> cidata_bitbucket::Result<()> {
/// let bitbucket = Bitbucket::builder().api_token("alice@example.com", "...").build()?;
/// let changed = Query::new()
///     .filter(Filter::gte("updated_on", FilterValue::Time("2026-01-01T00:00:00Z".into())))
///     .sort_asc("updated_on");
/// let repos: Vec<_> = bitbucket.repositories("acme", &changed).try_collect().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Bitbucket {
    pub(crate) http: HttpClient,
    pub(crate) pagelen: u32,
    pub(crate) concurrency: usize,
}

impl fmt::Debug for Bitbucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bitbucket")
            .field("base", &self.http.base().to_string())
            .finish_non_exhaustive()
    }
}

/// One page of a Bitbucket list. `next` is absent on the last page (and on pipeline and step
/// pages, where Bitbucket leaves it out: those are paged by number). `values` is required: a page
/// without it (`{}`, `{"values": null}` from a proxy) is an error, never an empty last page.
#[derive(Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
struct ListPage<T> {
    values: Vec<Keyed<T>>,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    page: Option<i64>,
    /// The server's count of the list's items (not on every list; Prism makes it negative).
    #[serde(default)]
    size: Option<i64>,
}

/// How a list goes to its next page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Paging {
    /// Follow `next` links only.
    Links,
    /// Follow `next` links; without one, ask for the next page number while pages are full
    /// (pipelines and steps, BCLOUD-13806).
    LinksThenNumbers,
}

impl Bitbucket {
    /// A builder for Bitbucket Cloud ([`DEFAULT_BASE_URL`]).
    pub fn builder() -> BitbucketBuilder {
        BitbucketBuilder {
            base_url: DEFAULT_BASE_URL.to_owned(),
            auth: None,
            http: HttpClient::builder(DEFAULT_BASE_URL)
                .user_agent(concat!("cidata-bitbucket/", env!("CARGO_PKG_VERSION"))),
            pagelen: 100,
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
    pub fn url(&self, path: &str, query: &[(&str, String)]) -> Result<Url> {
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
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.http.get_json(self.url(path, &[])?).await
    }

    /// Every item of the list at `path`, following `next` links (never to another origin). The
    /// list is whole or the stream ends with an error ([`cidata_core::paginate`]): a page without
    /// `values`, a repeated link, a page of items already listed (`?page=` ignored), a 404 after
    /// the first page, more pages than the server's `size` allows.
    pub fn list<T>(
        &self,
        path: String,
        query: Vec<(&'static str, String)>,
    ) -> impl Stream<Item = Result<T>> + Send + 'static
    where
        T: DeserializeOwned + Send + 'static,
    {
        self.list_with(path, query, Paging::Links)
    }

    pub(crate) fn list_with<T>(
        &self,
        path: String,
        mut query: Vec<(&'static str, String)>,
        paging: Paging,
    ) -> impl Stream<Item = Result<T>> + Send + 'static
    where
        T: DeserializeOwned + Send + 'static,
    {
        if !query.iter().any(|(k, _)| *k == "pagelen") {
            query.insert(0, ("pagelen", self.pagelen.to_string()));
        }
        let asked: i64 = query
            .iter()
            .find(|(k, _)| *k == "pagelen")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(10);
        let client = self.clone();
        let pages = paginate(
            self.base().clone(),
            PageLimits::default(),
            move |cursor: Option<Cursor>| {
                let client = client.clone();
                let path = path.clone();
                let query = query.clone();
                async move {
                    let (url, number) = match cursor {
                        None => (client.url(&path, &query)?, 1),
                        Some(Cursor::Link(url)) => (url, 0),
                        Some(Cursor::Token(page)) => {
                            let number: i64 = page.parse().unwrap_or(1);
                            let mut query = query.clone();
                            query.push(("page", page));
                            (client.url(&path, &query)?, number)
                        }
                    };
                    let page: ListPage<T> = client.http.get_json(url.clone()).await?;
                    // Full by the size asked for, not the one the page claims (a bogus claim must
                    // not keep the paging going).
                    let full = page.values.len() as i64 >= asked.max(1);
                    let next = match page.next {
                        Some(href) if !href.is_empty() => Next::Link(href),
                        _ if paging == Paging::LinksThenNumbers && full => {
                            let current = page.page.unwrap_or(number).max(1);
                            Next::Token((current + 1).to_string())
                        }
                        _ => Next::End,
                    };
                    let total = page.size.and_then(|n| u64::try_from(n).ok());
                    Ok(Page::keyed(page.values, next)
                        .with_total(total)
                        .fetched_from(url))
                }
            },
        );
        pages
            .map_ok(|page| futures::stream::iter(page.items.into_iter().map(Ok)))
            .try_flatten()
    }
}
