//! The origin guard: every URL a server hands us is resolved against the configured base here, and
//! only here, so that credentials never travel to another origin.

use std::fmt;

use url::{Position, Url};

use crate::error::{Error, ErrorKind, Result};

/// The configured base URL of a server: an `http` or `https` origin plus an optional context path
/// (`https://ci.example.com/jenkins/`). It always ends with `/` and never holds credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct BaseUrl {
    url: Url,
}

impl BaseUrl {
    /// Parses a base URL. A missing trailing `/` is added (so `https://host/jenkins` keeps its
    /// context path); a query or fragment is dropped. Credentials in the URL are refused: pass them
    /// to the client builder instead, where they are kept secret.
    pub fn parse(input: &str) -> Result<BaseUrl> {
        let invalid = |why: &str| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("invalid base URL `{}`: {why}", strip_userinfo(input)),
            )
        };
        let mut url = Url::parse(input.trim()).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("it has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                "it holds credentials; pass them to the client builder instead",
            ));
        }
        url.set_query(None);
        url.set_fragment(None);
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(BaseUrl { url })
    }

    /// The base URL, ending with `/`.
    pub fn as_url(&self) -> &Url {
        &self.url
    }

    /// The context path, `/` for a server at the root, `/jenkins/` behind a prefix.
    pub fn context_path(&self) -> &str {
        self.url.path()
    }

    /// Whether `url` has the same scheme, host and port as the base.
    pub fn is_same_origin(&self, url: &Url) -> bool {
        url.origin() == self.url.origin()
    }

    /// Joins a path relative to the base (`job/a/api/json`), keeping the context path. A leading `/`
    /// is taken as relative to the base too, never as a way out of the context path.
    pub fn join(&self, relative: &str) -> Result<Url> {
        let relative = relative.trim_start_matches('/');
        self.url.join(relative).map_err(|e| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("cannot join `{relative}` to the base URL: {e}"),
            )
        })
    }

    /// Resolves a URL or path that a server returned, rebasing it onto the configured base.
    ///
    /// Servers such as Jenkins build their `url` fields from a configured root URL that can be stale,
    /// plain `http` behind a TLS proxy, `localhost`, or unset, and return origin-relative hrefs that
    /// include the context path. So:
    /// - `queue/item/7/` (relative) resolves against the base;
    /// - `/jenkins/job/a/` (origin-relative) keeps its path on the base origin, and a path without
    ///   the context path gets it added;
    /// - an absolute URL of another origin is treated as stale: its path (and query) are rebased the
    ///   same way onto the base origin. Requests therefore only ever go to the configured origin.
    pub fn rebase(&self, href: &str) -> Result<Url> {
        let href = href.trim();
        if href.is_empty() {
            return Err(Error::new(ErrorKind::InvalidInput, "empty URL"));
        }
        match Url::parse(href) {
            Ok(abs) => {
                if self.is_same_origin(&abs) {
                    return Ok(abs);
                }
                if !matches!(abs.scheme(), "http" | "https") {
                    return Err(Error::new(
                        ErrorKind::ForeignOrigin,
                        format!("refused URL `{}`: not http(s)", strip_userinfo(href)),
                    ));
                }
                self.rebase_path(&abs[Position::BeforePath..])
            }
            Err(url::ParseError::RelativeUrlWithoutBase) if href.starts_with("//") => {
                let abs = Url::parse(&format!("{}:{href}", self.url.scheme())).map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidInput,
                        format!("invalid URL `{href}`: {e}"),
                    )
                })?;
                self.rebase_path(&abs[Position::BeforePath..])
            }
            Err(url::ParseError::RelativeUrlWithoutBase) => self.rebase_path(href),
            Err(e) => Err(Error::new(
                ErrorKind::InvalidInput,
                format!("invalid URL `{}`: {e}", strip_userinfo(href)),
            )),
        }
    }

    /// Resolves a URL or path strictly: relative ones against the base, absolute ones only if they
    /// are of the base's origin. This is the rule for `next` links and redirects.
    pub fn same_origin(&self, href: &str) -> Result<Url> {
        let url = match Url::parse(href.trim()) {
            Ok(abs) => abs,
            Err(url::ParseError::RelativeUrlWithoutBase) => self.rebase_path(href.trim())?,
            Err(e) => {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!("invalid URL `{}`: {e}", strip_userinfo(href)),
                ));
            }
        };
        if self.is_same_origin(&url) {
            Ok(url)
        } else {
            Err(Error::new(
                ErrorKind::ForeignOrigin,
                format!(
                    "refused URL `{}`: the configured origin is {}",
                    strip_userinfo(href),
                    self.url.origin().ascii_serialization()
                ),
            ))
        }
    }

    /// `path_and_query` is either origin-relative (`/x/y?q`) or base-relative (`x/y?q`).
    fn rebase_path(&self, path_and_query: &str) -> Result<Url> {
        let context = self.context_path();
        let target = if let Some(without_slash) = path_and_query.strip_prefix('/') {
            if context == "/" || path_and_query.starts_with(context) {
                let mut origin = self.url.clone();
                origin.set_path("/");
                return origin.join(path_and_query).map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidInput,
                        format!("invalid path `{path_and_query}`: {e}"),
                    )
                });
            }
            // The context path with no trailing slash is the base itself.
            if path_and_query == context.trim_end_matches('/') {
                return Ok(self.url.clone());
            }
            without_slash
        } else {
            path_and_query
        };
        self.url.join(target).map_err(|e| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("invalid path `{target}`: {e}"),
            )
        })
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BaseUrl({})", self.url)
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.url, f)
    }
}

/// Removes `user:password@` from a URL-looking string, for messages.
/// `input` without anything that may be credentials, for messages about URLs that did not parse:
/// everything between the scheme and the last `@` goes. A password may hold `/` or `@` itself, so
/// the last `@` (before any query) is taken, even if that hides part of a path that holds one.
fn strip_userinfo(input: &str) -> String {
    let Some(scheme_end) = input.find("://") else {
        return input.to_owned();
    };
    let host_start = scheme_end + 3;
    let end = input[host_start..]
        .find(['?', '#'])
        .map_or(input.len(), |i| i + host_start);
    match input[host_start..end].rfind('@') {
        Some(at) => format!(
            "{}***@{}",
            &input[..host_start],
            &input[host_start + at + 1..]
        ),
        None => input.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(s: &str) -> BaseUrl {
        BaseUrl::parse(s).unwrap()
    }

    #[test]
    fn invalid_urls_are_reported_without_their_credentials() {
        for input in [
            "http://alice:pa/ss@host/",
            "http://alice:p@ss@host/",
            "http://alice:s3cr/t@host:99999/",
            "ftp://alice:s3cr@t@host/",
        ] {
            let err = BaseUrl::parse(input).unwrap_err();
            let shown = format!("{err} {err:#} {err:?}");
            for secret in ["pa/ss", "p@ss", "s3cr", "ss@"] {
                assert!(!shown.contains(secret), "{input}: {shown}");
            }
            assert!(shown.contains("***@"), "{input}: {shown}");
        }
        assert_eq!(strip_userinfo("https://host/a"), "https://host/a");
        assert_eq!(strip_userinfo("not a url"), "not a url");
    }

    #[test]
    fn parse_adds_trailing_slash_and_refuses_credentials() {
        assert_eq!(
            base("https://h/jenkins").as_url().as_str(),
            "https://h/jenkins/"
        );
        assert_eq!(base("https://h").context_path(), "/");
        let err = BaseUrl::parse("https://bob:pw@h/").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(!err.to_string().contains("pw"), "{err}");
        assert!(BaseUrl::parse("ftp://h/").is_err());
        assert!(BaseUrl::parse("not a url").is_err());
    }

    #[test]
    fn rebase_stale_origins_onto_base() {
        let b = base("https://ci.example.com/jenkins/");
        let cases = [
            (
                "http://localhost:8080/jenkins/job/a/",
                "https://ci.example.com/jenkins/job/a/",
            ),
            (
                "http://ci.example.com:443/jenkins/job/a/",
                "https://ci.example.com/jenkins/job/a/",
            ),
            (
                "http://0.0.0.0:8080/job/a/1/",
                "https://ci.example.com/jenkins/job/a/1/",
            ),
            (
                "/jenkins/job/a/wfapi/describe",
                "https://ci.example.com/jenkins/job/a/wfapi/describe",
            ),
            (
                "/job/a/wfapi/describe",
                "https://ci.example.com/jenkins/job/a/wfapi/describe",
            ),
            (
                "queue/item/130/",
                "https://ci.example.com/jenkins/queue/item/130/",
            ),
            (
                "https://ci.example.com/jenkins/job/x%20y/",
                "https://ci.example.com/jenkins/job/x%20y/",
            ),
            (
                "//evil.example/jenkins/job/a/",
                "https://ci.example.com/jenkins/job/a/",
            ),
            ("/jenkins", "https://ci.example.com/jenkins/"),
            (
                "http://other/job/a/?q=1",
                "https://ci.example.com/jenkins/job/a/?q=1",
            ),
        ];
        for (href, want) in cases {
            assert_eq!(b.rebase(href).unwrap().as_str(), want, "{href}");
        }
    }

    #[test]
    fn rebase_at_root_context() {
        let b = base("http://127.0.0.1:9000/");
        assert_eq!(
            b.rebase("https://jenkins.corp/job/a/").unwrap().as_str(),
            "http://127.0.0.1:9000/job/a/"
        );
        assert!(b.rebase("javascript:alert(1)").is_err());
        assert!(b.rebase("").is_err());
    }

    #[test]
    fn same_origin_refuses_foreign() {
        let b = base("https://api.example.com/2.0/");
        assert!(
            b.same_origin("https://api.example.com/2.0/x?page=2")
                .is_ok()
        );
        let err = b.same_origin("http://example.com/next").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ForeignOrigin);
        assert!(b.same_origin("https://api.example.com:8443/x").is_err());
    }

    #[test]
    fn userinfo_is_stripped_from_messages() {
        assert_eq!(strip_userinfo("https://a:b@h/x"), "https://***@h/x");
        // An `@` in a path cannot be told from one in a password: hiding too much is the safe side.
        assert_eq!(strip_userinfo("https://h/x@y"), "https://***@y");
        assert_eq!(strip_userinfo("https://h/x?q=a@b"), "https://h/x?q=a@b");
    }
}
