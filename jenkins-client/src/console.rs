//! Progressive console output: a stream of log chunks that follows `X-Text-Size` offsets and
//! `X-More-Data`, in constant memory whatever the size of the log.

use std::time::Duration;

use bytes::Bytes;
use cidata_core::{Error, ErrorKind, Request, Result};
use futures::{Stream, StreamExt, TryStreamExt};

use crate::{Jenkins, JobPath};

/// How to read a console log.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ConsoleOptions {
    /// The byte offset to start from: 0, or a `resume_from` of an earlier read.
    pub start: u64,
    /// Keep polling while the build runs, until the log is complete. Without it, one read returns
    /// what the log holds now.
    pub follow: bool,
    /// The pause between polls while following (default: the client's, 2 s).
    pub poll_interval: Option<Duration>,
}

impl ConsoleOptions {
    /// Read what is there now, from the start.
    pub fn snapshot() -> ConsoleOptions {
        ConsoleOptions::default()
    }

    /// Follow the log until the build ends.
    pub fn follow() -> ConsoleOptions {
        ConsoleOptions {
            follow: true,
            ..ConsoleOptions::default()
        }
    }

    /// Starts at byte `offset` (a `resume_from` value).
    pub fn from_offset(mut self, offset: u64) -> ConsoleOptions {
        self.start = offset;
        self
    }

    /// Sets the pause between polls.
    pub fn poll_interval(mut self, interval: Duration) -> ConsoleOptions {
        self.poll_interval = Some(interval);
        self
    }
}

/// A piece of console output.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsoleChunk {
    /// Bytes of the log, as the server sent them (console annotations stripped by Jenkins). A
    /// boundary can fall inside a UTF-8 character: use [`ConsoleText`] for text.
    pub bytes: Bytes,
    /// Set on the last chunk of each poll: the offset to resume from after it (the server's
    /// `X-Text-Size`, which is not the count of bytes received).
    pub resume_from: Option<u64>,
    /// Set on the last chunk of each poll: whether the build may still write more.
    pub more_data: Option<bool>,
}

impl Jenkins {
    /// The console log of a build as a stream of chunks (`logText/progressiveText`).
    ///
    /// ```no_run
    /// # async fn demo(jenkins: cidata_jenkins::Jenkins) -> cidata_jenkins::Result<()> {
    /// use futures::TryStreamExt;
    /// use cidata_jenkins::{ConsoleOptions, JobPath};
    /// let job = JobPath::from_full_name("team/app")?;
    /// let mut log = std::pin::pin!(jenkins.console_text(&job, 42, ConsoleOptions::follow()));
    /// while let Some(text) = log.try_next().await? {
    ///     print!("{text}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn console(
        &self,
        job: &JobPath,
        number: u64,
        options: ConsoleOptions,
    ) -> impl Stream<Item = Result<ConsoleChunk>> + Send + 'static {
        let url = self.url(&format!(
            "{}{number}/logText/progressiveText",
            job.url_path()
        ));
        self.progressive_text(url, options)
    }

    /// Any `progressiveText` endpoint as a stream of chunks (a build's console, a Pipeline step's
    /// log at `.../execution/node/ID/log/logText/progressiveText`). `url` must be of the configured
    /// origin; `start` is added as its query.
    pub fn progressive_text(
        &self,
        url: Result<cidata_core::Url>,
        options: ConsoleOptions,
    ) -> impl Stream<Item = Result<ConsoleChunk>> + Send + 'static {
        let jenkins = self.clone();
        let pause = options.poll_interval.unwrap_or(self.console_poll);
        async_stream::try_stream! {
            let endpoint = url?;
            let mut start = options.start;
            loop {
                let mut url = endpoint.clone();
                url.query_pairs_mut().append_pair("start", &start.to_string());
                let resp = jenkins.http.send(Request::get(url.clone())).await?;
                let size: u64 = resp
                    .header_str("X-Text-Size")
                    .and_then(|v| v.trim().parse().ok())
                    .ok_or_else(|| {
                        Error::new(ErrorKind::Protocol, "the response has no valid `X-Text-Size` header")
                            .with_request("GET", &url)
                    })?;
                let more = resp.header_str("X-More-Data").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
                if size < start {
                    // Jenkins restarts from 0 for an offset past the end: that would repeat the log.
                    Err(Error::new(
                        ErrorKind::InvalidInput,
                        format!("console offset {start} is past the end of the log ({size} bytes)"),
                    )
                    .with_request("GET", &url))?;
                }
                let mut body = std::pin::pin!(resp.bytes_stream());
                while let Some(bytes) = body.try_next().await? {
                    if !bytes.is_empty() {
                        yield ConsoleChunk { bytes, resume_from: None, more_data: None };
                    }
                }
                yield ConsoleChunk { bytes: Bytes::new(), resume_from: Some(size), more_data: Some(more) };
                start = size;
                if !more || !options.follow {
                    break;
                }
                tokio::time::sleep(pause).await;
            }
        }
    }

    /// The console log as text: chunks decoded as UTF-8 without ever splitting a character, invalid
    /// bytes replaced with U+FFFD (never an error).
    pub fn console_text(
        &self,
        job: &JobPath,
        number: u64,
        options: ConsoleOptions,
    ) -> impl Stream<Item = Result<String>> + Send + 'static {
        ConsoleText::decode(self.console(job, number, options).map_ok(|c| c.bytes))
    }
}

/// Decodes a stream of byte chunks as UTF-8 text that never splits a character: an incomplete
/// character at the end of a chunk waits for the next; invalid bytes become U+FFFD, exactly as
/// `String::from_utf8_lossy` of the whole would give.
#[derive(Debug, Default)]
pub struct ConsoleText {
    pending: Vec<u8>,
}

impl ConsoleText {
    /// A new decoder.
    pub fn new() -> ConsoleText {
        ConsoleText::default()
    }

    /// Decodes `bytes`, keeping an incomplete trailing character for later.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        let mut input = std::mem::take(&mut self.pending);
        input.extend_from_slice(bytes);
        let mut out = String::with_capacity(input.len());
        let mut rest: &[u8] = &input;
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    out.push_str(valid);
                    break;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    // Safe by construction: `valid_up_to` marks the end of valid UTF-8.
                    out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match e.error_len() {
                        Some(n) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            rest = &after[n..];
                        }
                        None => {
                            self.pending = after.to_vec();
                            break;
                        }
                    }
                }
            }
        }
        out
    }

    /// Ends the input: a dangling incomplete character becomes U+FFFD.
    pub fn finish(&mut self) -> String {
        let pending = std::mem::take(&mut self.pending);
        String::from_utf8_lossy(&pending).into_owned()
    }

    /// Adapts a stream of chunks into a stream of text; empty pieces are skipped.
    pub fn decode<S>(chunks: S) -> impl Stream<Item = Result<String>> + Send + 'static
    where
        S: Stream<Item = Result<Bytes>> + Send + 'static,
    {
        async_stream::try_stream! {
            let mut decoder = ConsoleText::new();
            let mut chunks = std::pin::pin!(chunks);
            while let Some(bytes) = chunks.next().await {
                let text = decoder.push(&bytes?);
                if !text.is_empty() {
                    yield text;
                }
            }
            let tail = decoder.finish();
            if !tail.is_empty() {
                yield tail;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_split(bytes: &[u8], cuts: &[usize]) -> String {
        let mut d = ConsoleText::new();
        let mut out = String::new();
        let mut last = 0;
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        for cut in cuts {
            out += &d.push(&bytes[last..cut]);
            last = cut;
        }
        out += &d.push(&bytes[last..]);
        out + &d.finish()
    }

    #[test]
    fn never_splits_a_character() {
        let text = "héllo → wörld 🎉";
        let bytes = text.as_bytes();
        for cut in 0..=bytes.len() {
            assert_eq!(decode_split(bytes, &[cut]), text, "cut at {cut}");
        }
    }

    #[test]
    fn invalid_bytes_are_replaced() {
        assert_eq!(decode_split(b"a\xffb\xe2\x82", &[2]), "a\u{fffd}b\u{fffd}");
    }

    proptest! {
        #[test]
        fn matches_lossy_decoding_of_the_whole(
            bytes in proptest::collection::vec(any::<u8>(), 0..64),
            cuts in proptest::collection::vec(any::<usize>(), 0..6),
        ) {
            prop_assert_eq!(decode_split(&bytes, &cuts), String::from_utf8_lossy(&bytes).into_owned());
        }

        #[test]
        fn valid_text_survives_any_split(text in "\\PC{0,40}", cuts in proptest::collection::vec(any::<usize>(), 0..6)) {
            prop_assert_eq!(decode_split(text.as_bytes(), &cuts), text);
        }
    }
}
