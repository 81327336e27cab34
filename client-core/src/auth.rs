//! Credentials, held so that they never print.

use std::fmt;

use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, ErrorKind, Result};

/// How requests authenticate. `Debug` shows the scheme and the user name, never a secret.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Auth {
    /// No credentials.
    #[default]
    Anonymous,
    /// HTTP basic: a user name and a secret (an API token, an app password or a password).
    Basic {
        /// The user name (or an account e-mail, for Bitbucket API tokens).
        user: String,
        /// The token or password.
        secret: SecretString,
    },
    /// `Authorization: Bearer <token>`.
    Bearer(SecretString),
    /// A named header carrying the secret, such as CircleCI's `Circle-Token`.
    Header {
        /// The header's name.
        name: HeaderName,
        /// The header's value.
        value: SecretString,
    },
}

impl Auth {
    /// Basic authentication with `user` and `secret`.
    pub fn basic(user: impl Into<String>, secret: impl Into<String>) -> Auth {
        Auth::Basic {
            user: user.into(),
            secret: SecretString::from(secret.into()),
        }
    }

    /// Bearer authentication.
    pub fn bearer(token: impl Into<String>) -> Auth {
        Auth::Bearer(SecretString::from(token.into()))
    }

    /// A secret sent in the header `name`; fails if `name` is not a valid header name.
    pub fn header(name: &str, value: impl Into<String>) -> Result<Auth> {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("`{name}` is not a valid HTTP header name"),
            )
        })?;
        Ok(Auth::Header {
            name,
            value: SecretString::from(value.into()),
        })
    }

    /// Whether any credentials are configured.
    pub fn is_anonymous(&self) -> bool {
        matches!(self, Auth::Anonymous)
    }

    /// The header to send, marked sensitive so that HTTP tooling does not log it.
    pub(crate) fn header_value(&self) -> Result<Option<(HeaderName, HeaderValue)>> {
        let (name, value) = match self {
            Auth::Anonymous => return Ok(None),
            Auth::Basic { user, secret } => {
                let raw = format!("{user}:{}", secret.expose_secret());
                (
                    AUTHORIZATION,
                    format!("Basic {}", encode_base64(raw.as_bytes())),
                )
            }
            Auth::Bearer(token) => (AUTHORIZATION, format!("Bearer {}", token.expose_secret())),
            Auth::Header { name, value } => (name.clone(), value.expose_secret().to_owned()),
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            Error::new(
                ErrorKind::InvalidInput,
                "the credentials contain characters that cannot be sent in an HTTP header",
            )
        })?;
        value.set_sensitive(true);
        Ok(Some((name, value)))
    }
}

impl Auth {
    /// The secret strings these credentials put on the wire: the password or token, and the
    /// encoded header value. Non-empty ones only.
    fn wire_secrets(&self) -> Vec<String> {
        let mut out = match self {
            Auth::Anonymous => Vec::new(),
            Auth::Basic { user, secret } => {
                let raw = format!("{user}:{}", secret.expose_secret());
                vec![
                    secret.expose_secret().to_owned(),
                    encode_base64(raw.as_bytes()),
                ]
            }
            Auth::Bearer(token) => vec![token.expose_secret().to_owned()],
            Auth::Header { value, .. } => vec![value.expose_secret().to_owned()],
        };
        out.retain(|s| !s.is_empty());
        out
    }

    /// `body` with every occurrence of a secret of these credentials replaced by `***`: a server
    /// that echoes the request's headers into an error page must not get them into our errors.
    pub fn redact(&self, body: &[u8]) -> Vec<u8> {
        let mut out = body.to_vec();
        for secret in self.wire_secrets() {
            out = replace_all(&out, secret.as_bytes(), b"***");
        }
        out
    }
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(at) = rest.windows(needle.len()).position(|w| w == needle) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(with);
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Anonymous => f.write_str("Anonymous"),
            Auth::Basic { user, .. } => write!(f, "Basic {{ user: {user:?}, secret: [redacted] }}"),
            Auth::Bearer(_) => f.write_str("Bearer([redacted])"),
            Auth::Header { name, .. } => {
                write!(f, "Header {{ name: {name:?}, value: [redacted] }}")
            }
        }
    }
}

/// Standard base64 (RFC 4648) with padding, as basic auth needs; small enough not to need a crate.
pub fn encode_base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_removes_every_form_of_the_secret() {
        let auth = Auth::basic("alice", "s3cr3t");
        let header = format!("Basic {}", encode_base64(b"alice:s3cr3t"));
        let body = format!("<pre>Authorization: {header}\npassword=s3cr3t, again s3cr3t</pre>");
        let out = String::from_utf8(auth.redact(body.as_bytes())).unwrap();
        assert!(
            !out.contains("s3cr3t") && !out.contains(&encode_base64(b"alice:s3cr3t")),
            "{out}"
        );
        assert!(out.contains("Authorization: Basic ***"), "{out}");
        assert_eq!(Auth::bearer("tok").redact(b"a tok b"), b"a *** b");
        assert_eq!(Auth::Anonymous.redact(b"as is"), b"as is");
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode_base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn debug_never_shows_secrets() {
        let all = [
            Auth::basic("alice", "tok-123"),
            Auth::bearer("tok-123"),
            Auth::header("Circle-Token", "tok-123").unwrap(),
        ];
        for auth in all {
            let shown = format!("{auth:?}");
            assert!(!shown.contains("tok-123"), "{shown}");
            assert!(shown.contains("redacted"));
        }
    }

    #[test]
    fn basic_header_is_encoded_and_sensitive() {
        let (name, value) = Auth::basic("alice", "tok").header_value().unwrap().unwrap();
        assert_eq!(name, AUTHORIZATION);
        assert_eq!(value.to_str().unwrap(), "Basic YWxpY2U6dG9r");
        assert!(value.is_sensitive());
    }
}
