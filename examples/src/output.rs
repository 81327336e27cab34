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
    pub fn write<T: Serialize>(&mut self, value: &T) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, value).map_err(|e| match e.io_error_kind() {
            Some(kind) => std::io::Error::new(kind, e),
            None => std::io::Error::other(e),
        })?;
        self.out.write_all(b"\n")
    }

    /// Flushes what is buffered.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
