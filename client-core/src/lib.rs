//! Shared HTTP plumbing for the CI data SDK's client crates (`cidata-jenkins`, `cidata-wfapi`):
//! one transport with auth that never leaks, retries with backoff that honour `Retry-After`, an
//! optional client-side rate limit, one typed [`Error`], an origin guard for every URL a server
//! hands back, a generic paginator ([`paginate`]), and request counters.
//!
//! ```no_run
//! # async fn demo() -> cidata_core::Result<()> {
//! use cidata_core::{Auth, HttpClient};
//! let client = HttpClient::builder("https://ci.example.com/jenkins/")
//!     .auth(Auth::basic("alice", std::env::var("TOKEN").unwrap_or_default()))
//!     .build()?;
//! let url = client.base().join("api/json")?;
//! let root: serde_json::Value = client.get_json(url).await?;
//! println!("{root} after {} requests", client.stats().snapshot().requests);
//! # Ok(()) }
//! ```

mod auth;
mod error;
mod json_path;
mod list_guard;
mod origin;
mod paginate;
pub mod raw;
mod read_ahead;
mod retry;
mod segment;
mod stats;
mod string_enum;
mod transport;

pub use auth::{Auth, encode_base64};
pub use error::{BODY_SNIPPET_LIMIT, Error, ErrorKind, Result, redact_url, short_url};
pub use list_guard::{ListGuard, MAX_EMPTY_PAGES_IN_A_ROW, PageFacts, item_key};
pub use origin::BaseUrl;
pub use paginate::{Cursor, Next, Page, PageLimits, items, paginate};
pub use read_ahead::read_ahead;
pub use retry::{RetryPolicy, parse_retry_after};
pub use segment::encode_segment;
pub use stats::{RequestStats, StatsSnapshot};
pub use transport::{
    DEFAULT_MAX_RESPONSE_BYTES, Expect, HttpClient, HttpClientBuilder, Request, Response,
    decode_json,
};

pub use reqwest::header;
pub use reqwest::{Method, StatusCode};
pub use secrecy::{ExposeSecret, SecretString};
pub use url::Url;

#[doc(hidden)]
pub use serde as __serde;

// The README's examples are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
