//! Progress of a sync: a bar on a terminal (logs printed above it, never through it), plain lines
//! otherwise, nothing with `--quiet`.

use std::sync::atomic::{AtomicU64, Ordering};

use cidata_sync::Progress;
use tracing_indicatif::span_ext::IndicatifSpanExt;

/// What this process has committed so far, over every pass: a signal's message reports it.
pub static COMMITTED: Committed = Committed {
    transactions: AtomicU64::new(0),
    rows: AtomicU64::new(0),
    partitions: AtomicU64::new(0),
};

/// Counters of committed work.
#[derive(Debug)]
pub struct Committed {
    /// Transactions committed.
    pub transactions: AtomicU64,
    /// Rows they inserted, changed or marked deleted.
    pub rows: AtomicU64,
    /// Partitions finished without error (their checkpoints are committed).
    pub partitions: AtomicU64,
}

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// A progress bar (stderr is a terminal).
    Bar,
    /// A line now and then.
    Plain,
    /// Nothing.
    Quiet,
}

/// Turns engine events into a bar or lines.
#[derive(Debug)]
pub struct Reporter {
    display: Display,
    label: String,
    span: tracing::Span,
    total: AtomicU64,
    done: AtomicU64,
}

impl Reporter {
    /// A reporter for one sync pass labelled `label`.
    pub fn new(display: Display, label: &str) -> Reporter {
        let span = match display {
            Display::Bar => {
                let span = tracing::info_span!("sync", pass = label);
                let style = indicatif::ProgressStyle::with_template(
                    "{spinner} {msg} [{bar:30}] {pos}/{len} {elapsed}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
                span.pb_set_style(&style);
                span.pb_set_message(&format!("{label}: listing"));
                span.pb_start();
                span
            }
            _ => tracing::Span::none(),
        };
        Reporter {
            display,
            label: label.to_owned(),
            span,
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
        }
    }

    /// Handles one engine event.
    pub fn event(&self, p: Progress) {
        match p {
            Progress::Discovered { partitions } => {
                self.total.store(partitions, Ordering::Relaxed);
                match self.display {
                    Display::Bar => {
                        self.span.pb_set_length(partitions);
                        self.span
                            .pb_set_message(&format!("{}: syncing", self.label));
                    }
                    Display::Plain => {
                        eprintln!("ci-sync: {}: {partitions} to read", self.label)
                    }
                    Display::Quiet => {}
                }
            }
            Progress::PartitionFinished { key, error } => {
                let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
                if error.is_none() {
                    COMMITTED.partitions.fetch_add(1, Ordering::Relaxed);
                }
                if let Some(e) = error {
                    tracing::warn!("{key} failed (it is read again next run): {e}");
                }
                match self.display {
                    Display::Bar => self.span.pb_inc(1),
                    Display::Plain => {
                        let total = self.total.load(Ordering::Relaxed);
                        if total >= 10 && done.is_multiple_of((total / 10).max(1)) {
                            eprintln!("ci-sync: {done}/{total} jobs");
                        }
                    }
                    Display::Quiet => {}
                }
            }
            Progress::Committed { rows } => {
                COMMITTED.transactions.fetch_add(1, Ordering::Relaxed);
                COMMITTED.rows.fetch_add(rows, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}
