//! JSON lines on stdout, buffered, one object per line.

use std::io::{BufWriter, Stdout, Write};

use serde::Serialize;

/// Writes one JSON object per line to stdout.
pub struct JsonLines {
    out: BufWriter<Stdout>,
}

impl JsonLines {
    /// A writer on stdout.
    pub fn stdout() -> JsonLines {
        JsonLines {
            out: BufWriter::with_capacity(64 * 1024, std::io::stdout()),
        }
    }

    /// Writes `value` and a newline.
    /// Control characters are escaped, DEL and C1 included, so that a line shown on a terminal
    /// cannot drive it.
    pub fn write<T: Serialize>(&mut self, value: &T) -> std::io::Result<()> {
        let json = serde_json::to_vec(value).map_err(std::io::Error::other)?;
        self.out
            .write_all(&crate::terminal::escape_json_controls(&json))?;
        self.out.write_all(b"\n")
    }

    /// Flushes what is buffered.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Writes every item of `items` with `write`; an API error becomes a CLI error by `error`.
pub async fn write_each<T>(
    items: impl futures::Stream<Item = cidata_core::Result<T>>,
    out: &mut JsonLines,
    error: impl Fn(cidata_core::Error) -> crate::cli_error::CliError,
    write: impl Fn(&mut JsonLines, &T) -> std::io::Result<()>,
) -> Result<(), crate::cli_error::CliError> {
    use futures::TryStreamExt;
    let mut items = std::pin::pin!(items);
    while let Some(item) = items.try_next().await.map_err(&error)? {
        write(out, &item)?;
    }
    Ok(())
}
