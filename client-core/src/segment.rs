//! One URL path segment, percent-encoded: a Jenkins job name, a CircleCI project slug, a
//! Bitbucket `{uuid}`.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What a segment keeps unencoded: RFC 3986's unreserved characters. Everything else, `/`
/// included, is encoded, so the value stays one segment whatever it holds.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes `segment` as one URL path segment.
///
/// ```
/// assert_eq!(cidata_core::encode_segment("gh/acme/web"), "gh%2Facme%2Fweb");
/// assert_eq!(cidata_core::encode_segment("{a1-b2}"), "%7Ba1-b2%7D");
/// ```
pub fn encode_segment(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}
