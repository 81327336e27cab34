//! CSRF crumbs: fetched once, sent with the session cookie they were issued with (crumbs are bound
//! to the web session since Jenkins 2.176.2), never printed.

use std::fmt;
use std::sync::Arc;

use cidata_core::header::{COOKIE, HeaderName, HeaderValue, SET_COOKIE};
use cidata_core::{Error, ErrorKind, HttpClient, Request, Result, decode_json};
use tokio::sync::Mutex;

use crate::models::Crumb;

/// When POSTs carry a crumb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CrumbPolicy {
    /// API-token auth: Jenkins exempts it from CSRF checks.
    Never,
    /// Password or anonymous: fetch one, unless the server says CSRF protection is off (404).
    WhenEnabled,
}

/// The headers that prove a POST comes from our session.
pub(crate) struct CrumbHeaders {
    field: HeaderName,
    crumb: HeaderValue,
    cookie: Option<HeaderValue>,
}

impl CrumbHeaders {
    pub(crate) fn apply(&self, req: Request) -> Request {
        let req = req.header(self.field.clone(), self.crumb.clone());
        match &self.cookie {
            Some(cookie) => req.header(COOKIE, cookie.clone()),
            None => req,
        }
    }
}

impl fmt::Debug for CrumbHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CrumbHeaders {{ field: {:?}, crumb: [redacted], cookie: [redacted] }}",
            self.field
        )
    }
}

enum State {
    Unknown,
    Disabled,
    Ready(Arc<CrumbHeaders>),
}

/// The crumb of a client, shared by its clones.
pub(crate) struct CrumbCache {
    policy: CrumbPolicy,
    state: Mutex<State>,
}

impl CrumbCache {
    pub(crate) fn new(policy: CrumbPolicy) -> CrumbCache {
        CrumbCache {
            policy,
            state: Mutex::new(State::Unknown),
        }
    }

    /// The crumb to send, fetching it on first use; `None` when not needed.
    pub(crate) async fn get(&self, http: &HttpClient) -> Result<Option<Arc<CrumbHeaders>>> {
        if self.policy == CrumbPolicy::Never {
            return Ok(None);
        }
        let mut state = self.state.lock().await;
        match &*state {
            State::Disabled => return Ok(None),
            State::Ready(c) => return Ok(Some(c.clone())),
            State::Unknown => {}
        }
        let fetched = fetch(http).await?;
        *state = match &fetched {
            Some(c) => State::Ready(c.clone()),
            None => State::Disabled,
        };
        Ok(fetched)
    }

    /// Forgets the crumb (after the server rejected it).
    pub(crate) fn invalidate(&self) {
        if let Ok(mut state) = self.state.try_lock() {
            *state = State::Unknown;
        }
    }
}

async fn fetch(http: &HttpClient) -> Result<Option<Arc<CrumbHeaders>>> {
    let url = http.base().join("crumbIssuer/api/json")?;
    let resp = match http.send(Request::get(url.clone())).await {
        Ok(resp) => resp,
        // No crumb issuer: CSRF protection is off.
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    let cookies: Vec<String> = resp
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(|pair| pair.trim().to_owned())
        .filter(|pair| pair.contains('='))
        .collect();
    let body = resp.bytes().await?;
    let crumb: Crumb = decode_json(&body).map_err(|e| e.with_request("GET", &url))?;
    let bad = || {
        Error::new(
            ErrorKind::Protocol,
            "the crumb issuer returned a crumb that is not a valid header",
        )
        .with_request("GET", &url)
    };
    let field = HeaderName::from_bytes(crumb.crumb_request_field.as_bytes()).map_err(|_| bad())?;
    let mut value = HeaderValue::from_str(&crumb.crumb).map_err(|_| bad())?;
    value.set_sensitive(true);
    let cookie = if cookies.is_empty() {
        None
    } else {
        let mut v = HeaderValue::from_str(&cookies.join("; ")).map_err(|_| bad())?;
        v.set_sensitive(true);
        Some(v)
    };
    Ok(Some(Arc::new(CrumbHeaders {
        field,
        crumb: value,
        cookie,
    })))
}
