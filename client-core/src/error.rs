//! One error type for every client crate: what went wrong, where, and whether a retry can help.

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;
use url::Url;

/// How many bytes of a response body an error keeps, so that a log line stays short.
pub const BODY_SNIPPET_LIMIT: usize = 300;

/// The broad class of a failure; pick behaviour on this, not on the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The server refused the credentials (401) or the permissions (403).
    Auth,
    /// The resource does not exist (404, 410).
    NotFound,
    /// The server asked us to slow down (429).
    RateLimited,
    /// The server failed (5xx).
    Server,
    /// Any other 4xx status: the request itself was wrong.
    Client,
    /// A 3xx status that was not followed (for instance a redirect to another origin).
    Redirect,
    /// The connection failed, broke, or timed out.
    Transport,
    /// The body was not the JSON the model expects.
    Decode,
    /// The body was something else than what was asked for, such as an HTML page where JSON was
    /// expected (a login page of a reverse proxy, an error page).
    UnexpectedContent,
    /// A URL pointed to another origin than the configured one and was refused.
    ForeignOrigin,
    /// A paginated listing went over its page cap.
    PageLimit,
    /// A paginated listing could not be read whole: a page after the first failed (a 404 there
    /// does not mean "no more"), a cursor came back that was already used, or a page brought no
    /// item the listing had not already given. Never the end of a list: what was read is a part.
    IncompleteList,
    /// The caller's input (a URL, a name, a configuration value) was invalid.
    InvalidInput,
    /// An operation waited longer than its deadline (not an HTTP timeout: see [`ErrorKind::Transport`]).
    Timeout,
    /// The server answered with data that breaks the API's own rules (a missing `Location`, a bad header).
    Protocol,
    /// The server cancelled what we waited for (a queued build that was cancelled).
    Cancelled,
    /// The resource exists but does not offer this API (wfapi on a freestyle job).
    NotSupported,
    /// A response body was larger than the client's limit (see
    /// [`HttpClientBuilder::max_response_bytes`](crate::HttpClientBuilder::max_response_bytes)).
    TooLarge,
}

impl ErrorKind {
    /// A short lowercase label, stable enough for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Auth => "authentication failed",
            ErrorKind::NotFound => "not found",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::Server => "server error",
            ErrorKind::Client => "request rejected",
            ErrorKind::Redirect => "redirect not followed",
            ErrorKind::Transport => "transport error",
            ErrorKind::Decode => "could not decode response",
            ErrorKind::UnexpectedContent => "unexpected content",
            ErrorKind::ForeignOrigin => "refused URL of another origin",
            ErrorKind::PageLimit => "page limit reached",
            ErrorKind::IncompleteList => "listing cut short",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Protocol => "protocol error",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::NotSupported => "not supported by this resource",
            ErrorKind::TooLarge => "response too large",
        }
    }

    /// The kind an HTTP error status maps to.
    pub fn from_status(status: StatusCode) -> ErrorKind {
        match status.as_u16() {
            401 | 403 => ErrorKind::Auth,
            404 | 410 => ErrorKind::NotFound,
            429 => ErrorKind::RateLimited,
            300..=399 => ErrorKind::Redirect,
            400..=499 => ErrorKind::Client,
            _ => ErrorKind::Server,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from any client of the SDK.
///
/// It carries what a caller, a log line and a retry need: the [`ErrorKind`], the HTTP status, the
/// method and URL (never with credentials), the server's `Retry-After`, a short snippet of the body, and
/// for decode failures the JSON path of the offending value.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: Option<String>,
    status: Option<StatusCode>,
    method: Option<String>,
    url: Option<Url>,
    retry_after: Option<Duration>,
    body_snippet: Option<String>,
    json_path: Option<String>,
    content_type: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// A new error of `kind` with a human message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                message: Some(message.into()),
                status: None,
                method: None,
                url: None,
                retry_after: None,
                body_snippet: None,
                json_path: None,
                content_type: None,
                source: None,
            }),
        }
    }

    /// An error for an HTTP status, with the start of the body it came with.
    pub fn from_status(status: StatusCode, body: &[u8]) -> Error {
        let mut err = Error::new(ErrorKind::from_status(status), "");
        // JSON APIs say why: CircleCI `{"message"}`, Bitbucket `{"error": {"message", "detail"}}`.
        err.inner.message = api_message(body);
        err.inner.status = Some(status);
        err.inner.body_snippet = snippet(body);
        err
    }

    /// Sets the request this error belongs to; the URL is stored without user name or password.
    pub fn with_request(mut self, method: &str, url: &Url) -> Error {
        self.inner.method = Some(method.to_owned());
        self.inner.url = Some(redact_url(url));
        self
    }

    /// Sets the server's `Retry-After`.
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Error {
        self.inner.retry_after = retry_after;
        self
    }

    /// Sets the JSON path where decoding failed.
    pub fn with_json_path(mut self, path: impl Into<String>) -> Error {
        self.inner.json_path = Some(path.into());
        self
    }

    /// Sets the content type the response had.
    pub fn with_content_type(mut self, content_type: Option<String>) -> Error {
        self.inner.content_type = content_type;
        self
    }

    /// Sets a body snippet (shortened to [`BODY_SNIPPET_LIMIT`] bytes).
    pub fn with_body(mut self, body: &[u8]) -> Error {
        self.inner.body_snippet = snippet(body);
        self
    }

    /// Sets the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Error {
        self.inner.source = Some(Box::new(source));
        self
    }

    /// Changes the kind (keeps everything else): a 404 on page 2 of a listing is not "not found"
    /// but [`ErrorKind::IncompleteList`].
    pub fn with_kind(mut self, kind: ErrorKind) -> Error {
        self.inner.kind = kind;
        self
    }

    /// Replaces the message (keeps everything else).
    pub fn with_message(mut self, message: impl Into<String>) -> Error {
        self.inner.message = Some(message.into());
        self
    }

    /// The broad class of the failure.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The HTTP status, if the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        self.inner.status
    }

    /// The URL of the request, without credentials.
    pub fn url(&self) -> Option<&Url> {
        self.inner.url.as_ref()
    }

    /// The HTTP method of the request.
    pub fn method(&self) -> Option<&str> {
        self.inner.method.as_deref()
    }

    /// How long the server asked us to wait, if it said so.
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// The first bytes of the response body (lossy UTF-8, white space folded).
    pub fn body_snippet(&self) -> Option<&str> {
        self.inner.body_snippet.as_deref()
    }

    /// For decode failures, the JSON path of the value that did not fit (e.g. `allBuilds[3].number`).
    pub fn json_path(&self) -> Option<&str> {
        self.inner.json_path.as_deref()
    }

    /// The `Content-Type` of the response, where one was read.
    pub fn content_type(&self) -> Option<&str> {
        self.inner.content_type.as_deref()
    }

    /// Whether repeating the same idempotent request may succeed: 408, 429, 500, 502, 503, 504,
    /// connect errors and timeouts.
    pub fn is_retryable(&self) -> bool {
        match self.inner.status {
            Some(s) => matches!(s.as_u16(), 408 | 429 | 500 | 502 | 503 | 504),
            None => self.inner.kind == ErrorKind::Transport,
        }
    }

    /// Whether the server refused the credentials or the permissions.
    pub fn is_auth(&self) -> bool {
        self.inner.kind == ErrorKind::Auth
    }

    /// Whether the resource does not exist.
    pub fn is_not_found(&self) -> bool {
        self.inner.kind == ErrorKind::NotFound
    }

    /// Whether the body could not be decoded into the model.
    pub fn is_decode(&self) -> bool {
        self.inner.kind == ErrorKind::Decode
    }
}

/// How many characters of a decoded query string an error line shows.
const QUERY_SHOWN: usize = 48;

/// A URL as an error line shows it: origin and path in full, the query decoded and cut short (a
/// Jenkins `tree=` query runs to a kilobyte once percent-encoded).
pub fn short_url(url: &Url) -> String {
    let mut out = format!("{}{}", url.origin().ascii_serialization(), url.path());
    if url.query().is_some_and(|q| !q.is_empty()) {
        let query: Vec<String> = url
            .query_pairs()
            .map(|(k, v)| {
                if v.is_empty() {
                    k.into_owned()
                } else {
                    format!("{k}={v}")
                }
            })
            .collect();
        let query = query.join("&");
        out.push('?');
        match query.char_indices().nth(QUERY_SHOWN) {
            Some((cut, _)) => {
                out.push_str(&query[..cut]);
                out.push('…');
            }
            None => out.push_str(&query),
        }
    }
    out
}

/// The text of an HTML `<title>`, cut to 80 characters.
fn html_title(body: &str) -> Option<&str> {
    let lower = body.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    let end = start + lower[start..].find("</title>")?;
    let title = body[start..end].trim();
    let cut = title.char_indices().nth(80).map_or(title.len(), |(i, _)| i);
    (!title.is_empty()).then(|| &title[..cut])
}

/// One short line: kind, status, method, URL (query shortened), JSON path, message, `Retry-After`.
/// The alternate form (`{:#}`) adds the full URL and the start of the body.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.write_str(i.kind.as_str())?;
        if let Some(status) = i.status {
            write!(f, " (HTTP {})", status.as_u16())?;
        }
        if let Some(url) = &i.url {
            let shown = if f.alternate() {
                url.to_string()
            } else {
                short_url(url)
            };
            match &i.method {
                Some(m) => write!(f, " for {m} {shown}")?,
                None => write!(f, " for {shown}")?,
            }
        }
        if let Some(path) = &i.json_path {
            write!(f, " at JSON path `{path}`")?;
        }
        if let Some(msg) = &i.message {
            write!(f, ": {msg}")?;
        }
        if matches!(i.kind, ErrorKind::UnexpectedContent) {
            // The page's title is the clue to who answered (a proxy's "Sign in", a captive portal).
            let title = i.body_snippet.as_deref().and_then(html_title);
            match (&i.content_type, title) {
                (Some(ct), Some(title)) => write!(f, " (got {ct}, page title \"{title}\")")?,
                (Some(ct), None) => write!(f, " (got {ct})")?,
                (None, Some(title)) => write!(f, " (page title \"{title}\")")?,
                (None, None) => {}
            }
        }
        if let Some(ra) = i.retry_after {
            write!(f, " (retry after {}s)", ra.as_secs())?;
        }
        if f.alternate()
            && let Some(body) = &i.body_snippet
            && !body.is_empty()
        {
            write!(f, "; body starts: {body}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Error")
            .field("kind", &i.kind)
            .field("status", &i.status)
            .field("method", &i.method)
            .field("url", &i.url.as_ref().map(Url::as_str))
            .field("message", &i.message)
            .field("json_path", &i.json_path)
            .field("retry_after", &i.retry_after)
            .field("body_snippet", &i.body_snippet)
            .field("source", &i.source)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

impl From<reqwest::Error> for Error {
    fn from(err: reqwest::Error) -> Error {
        if err.is_redirect() {
            // The redirect policy's reason (a loop, too many) is the cause; never retried.
            let why = std::error::Error::source(&err)
                .map_or_else(|| "redirects not followed".to_owned(), |s| s.to_string());
            let mut out = Error::new(ErrorKind::Redirect, why);
            if let Some(url) = err.url() {
                out.inner.url = Some(redact_url(url));
            }
            return out;
        }
        let what = if err.is_timeout() {
            "request timed out"
        } else if err.is_connect() {
            "could not connect"
        } else if err.is_body() || err.is_decode() {
            "the response body broke off"
        } else {
            "request failed"
        };
        let mut out = Error::new(ErrorKind::Transport, what);
        if let Some(url) = err.url() {
            out.inner.url = Some(redact_url(url));
        }
        // reqwest's own message can repeat the URL with credentials: keep it as a source without the URL.
        out.with_source(err.without_url())
    }
}

/// The result type of every client crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A copy of `url` without user name and password.
pub fn redact_url(url: &Url) -> Url {
    let mut url = url.clone();
    // These only fail on URLs that cannot have credentials at all, which then have none to remove.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url
}

fn snippet(body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let cut = &body[..body.len().min(BODY_SNIPPET_LIMIT * 4)];
    let text = String::from_utf8_lossy(cut);
    let mut out = String::with_capacity(BODY_SNIPPET_LIMIT);
    for word in text.split_whitespace() {
        let sep = usize::from(!out.is_empty());
        let room = BODY_SNIPPET_LIMIT.saturating_sub(out.len() + sep);
        if sep == 1 && room > 0 {
            out.push(' ');
        }
        if word.len() > room {
            // Minified bodies are one long word: keep what fits, cut on a character boundary.
            let cut = (0..=room)
                .rev()
                .find(|&i| word.is_char_boundary(i))
                .unwrap_or(0);
            out.push_str(&word[..cut]);
            out.push('…');
            break;
        }
        out.push_str(word);
    }
    Some(out)
}

/// The reason a JSON error body gives: `message`, or `error.message` with `error.detail`; cut to
/// one short line.
fn api_message(body: &[u8]) -> Option<String> {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        // A short plain-text body says why too (Bitbucket's `Login failed`, `Not Found`); an
        // HTML page does not (its title is shown where it matters).
        let text = std::str::from_utf8(body).ok()?.trim();
        let plain =
            !text.is_empty() && text.len() <= 120 && !text.contains('\n') && !text.starts_with('<');
        return plain.then(|| text.to_owned());
    };
    let text = |v: &serde_json::Value| {
        v.as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let message = match value.get("error") {
        Some(error) if error.is_object() => {
            let message = error.get("message").and_then(text)?;
            match error.get("detail").and_then(text) {
                Some(detail) => format!("{message}: {detail}"),
                None => message,
            }
        }
        _ => value.get("message").and_then(text)?,
    };
    let line = message.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_error_bodies_give_the_message() {
        let circleci =
            Error::from_status(StatusCode::NOT_FOUND, br#"{"message":"Project not found"}"#);
        assert_eq!(
            circleci.to_string(),
            "not found (HTTP 404): Project not found"
        );
        let bitbucket = Error::from_status(
            StatusCode::GONE,
            br#"{"type": "error", "error": {"message": "Resource removed", "detail": "use /user/workspaces"}}"#,
        );
        assert!(
            bitbucket
                .to_string()
                .ends_with(": Resource removed: use /user/workspaces")
        );
        let html = Error::from_status(StatusCode::NOT_FOUND, b"<html>Not Found</html>");
        assert_eq!(html.to_string(), "not found (HTTP 404)");
        let plain = Error::from_status(StatusCode::UNAUTHORIZED, b"Login failed\n");
        assert_eq!(
            plain.to_string(),
            "authentication failed (HTTP 401): Login failed"
        );
    }

    #[test]
    fn url_in_error_has_no_credentials() {
        let url = Url::parse("https://alice:s3cret@ci.example.com/jenkins/api/json").unwrap();
        let err = Error::from_status(StatusCode::UNAUTHORIZED, b"<html>nope</html>")
            .with_request("GET", &url);
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(!shown.contains("alice"), "{shown}");
        assert!(shown.contains("https://ci.example.com/jenkins/api/json"));
        assert_eq!(err.kind(), ErrorKind::Auth);
        assert!(!err.is_retryable());
    }

    #[test]
    fn retryable_statuses() {
        for code in [408u16, 429, 500, 502, 503, 504] {
            let err = Error::from_status(StatusCode::from_u16(code).unwrap(), b"");
            assert!(err.is_retryable(), "{code}");
        }
        for code in [400u16, 401, 403, 404, 405, 409, 501] {
            let err = Error::from_status(StatusCode::from_u16(code).unwrap(), b"");
            assert!(!err.is_retryable(), "{code}");
        }
    }

    #[test]
    fn the_line_is_short_and_the_alternate_form_complete() {
        let tree = format!(
            "jobs[{}]",
            "name,url,color,fullName,displayName,".repeat(30)
        );
        let mut url = Url::parse("https://ci.example.com/jenkins/api/json").unwrap();
        url.query_pairs_mut().append_pair("tree", &tree);
        let err = Error::from_status(
            StatusCode::UNAUTHORIZED,
            "<html>x</html>".repeat(40).as_bytes(),
        )
        .with_request("GET", &url);
        let line = err.to_string();
        assert!(line.len() < 160, "{} characters: {line}", line.len());
        assert!(
            line.starts_with("authentication failed (HTTP 401) for GET https://ci.example.com/jenkins/api/json?tree=jobs[name,url,"),
            "{line}"
        );
        assert!(line.ends_with('…') && !line.contains("<html>"), "{line}");
        let full = format!("{err:#}");
        assert!(
            full.contains(url.as_str()) && full.contains("body starts: <html>"),
            "{full}"
        );
        let plain = Url::parse("https://ci.example.com/job/a/api/json").unwrap();
        assert_eq!(short_url(&plain), plain.as_str());
    }

    #[test]
    fn snippet_is_short_and_folded() {
        let body = "  <html>\n\n  <body>".to_owned() + &"x ".repeat(1000);
        let err = Error::from_status(StatusCode::BAD_GATEWAY, body.as_bytes());
        let s = err.body_snippet().unwrap();
        assert!(s.starts_with("<html> <body>x x"), "{s}");
        assert!(s.len() <= BODY_SNIPPET_LIMIT + '…'.len_utf8());
        let minified = format!("{{\"message\":\"{}\"}}", "é".repeat(400));
        let err = Error::from_status(StatusCode::BAD_REQUEST, minified.as_bytes());
        let s = err.body_snippet().unwrap();
        assert!(
            s.starts_with("{\"message\":\"éé") && s.ends_with('…'),
            "{s}"
        );
        assert!(s.len() <= BODY_SNIPPET_LIMIT + '…'.len_utf8());
    }
}
