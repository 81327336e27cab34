//! The engine: discovery, partitions read concurrently (bounded), operations batched into
//! transactions that end at checkpoints, progress events, run statistics.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::mpsc;

use crate::destination::{Destination, TableCounts, WriteStats};
use crate::error::{Error, Result};
use crate::record::{Operation, Value};
use crate::source::{Discovery, Source};

/// Something that happened during a run, for progress displays.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// Discovery found this many partitions to read.
    Discovered {
        /// Partitions to read.
        partitions: u64,
    },
    /// A partition started.
    PartitionStarted {
        /// Its key.
        key: String,
    },
    /// A partition finished (with an error message if it failed).
    PartitionFinished {
        /// Its key.
        key: String,
        /// Why it failed.
        error: Option<String>,
    },
    /// A batch was committed.
    Committed {
        /// Rows inserted, changed or deleted by it.
        rows: u64,
    },
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Wall time.
    pub duration: Duration,
    /// Rows per table.
    pub tables: BTreeMap<String, TableCounts>,
    /// Checkpoints whose state changed.
    pub checkpoints: u64,
    /// Partitions read.
    pub partitions: u64,
    /// Partitions that failed, with the reason; their state did not move, so the next run reads them again.
    pub failed_partitions: Vec<(String, String)>,
    /// Items not final yet (running builds), carried over to be read again next run.
    pub non_final: u64,
    /// Items the source reported instead of trusting (a number that makes no sense, an item
    /// that breaks its listing's contract); each was logged as a warning.
    pub reported: Vec<crate::record::ItemReport>,
    /// HTTP requests sent by the source.
    pub requests: u64,
    /// Retried attempts.
    pub retries: u64,
    /// Transactions committed.
    pub transactions: u64,
}

impl RunStats {
    /// Rows inserted or changed, all tables.
    pub fn rows_upserted(&self) -> u64 {
        self.tables.values().map(|c| c.upserted).sum()
    }

    /// Rows newly marked deleted, all tables.
    pub fn rows_deleted(&self) -> u64 {
        self.tables.values().map(|c| c.deleted).sum()
    }

    fn absorb(&mut self, w: WriteStats) {
        for (table, counts) in w.tables {
            self.tables.entry(table).or_default().add(counts);
        }
        self.checkpoints += w.checkpoints;
        self.transactions += 1;
    }
}

type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Runs sources into destinations.
///
/// ```no_run
/// # async fn demo<S: cidata_sync::Source>(source: S) -> cidata_sync::Result<()> {
/// let destination = cidata_sync::DestinationUrl::parse("sqlite://ci-sync.db")?.open()?;
/// let stats = cidata_sync::Engine::new().concurrency(4).run(std::sync::Arc::new(source), destination).await?;
/// println!("{} rows in {:?}", stats.rows_upserted(), stats.duration);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Engine {
    concurrency: usize,
    batch_size: usize,
    batch_bytes: usize,
    progress: Option<ProgressFn>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("concurrency", &self.concurrency)
            .field("batch_size", &self.batch_size)
            .field("batch_bytes", &self.batch_bytes)
            .finish()
    }
}

impl Engine {
    /// An engine reading 4 partitions at a time, committing at every checkpoint, every 5,000
    /// operations and every 1 MiB of records.
    pub fn new() -> Engine {
        Engine {
            concurrency: 4,
            batch_size: 5_000,
            batch_bytes: 1 << 20,
            progress: None,
        }
    }

    /// Partitions read at the same time.
    pub fn concurrency(mut self, n: usize) -> Engine {
        self.concurrency = n.max(1);
        self
    }

    /// Operations per transaction at most (a checkpoint also ends one).
    pub fn batch_size(mut self, n: usize) -> Engine {
        self.batch_size = n.max(1);
        self
    }

    /// Bytes of records per transaction at most (estimated; default 1 MiB): a batch is held in
    /// memory until it is written, so this bounds the writer's memory when partitions are long
    /// (a job of 1,000 builds) and checkpoints rare. Commits in WAL mode are cheap, so smaller
    /// batches cost little.
    pub fn batch_bytes(mut self, n: usize) -> Engine {
        self.batch_bytes = n.max(1);
        self
    }

    /// Receives progress events.
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Engine {
        self.progress = Some(Arc::new(f));
        self
    }

    fn emit(&self, p: Progress) {
        if let Some(f) = &self.progress {
            f(p);
        }
    }

    /// Runs `source` into `destination`. A failing partition does not stop the others (it is
    /// reported in [`RunStats::failed_partitions`]); a failing discovery or destination stops the run.
    pub async fn run<S: Source>(
        &self,
        source: Arc<S>,
        destination: Box<dyn Destination>,
    ) -> Result<RunStats> {
        let started = Instant::now();
        let before = source.request_counts();
        let name = source.name().to_owned();
        let tables = source.tables();
        let migrations = source.migrations();
        // Per table, the column the source's name goes in, if any.
        let source_columns: HashMap<String, usize> = tables
            .iter()
            .filter_map(|t| {
                let at = t.columns.iter().position(|c| c.source_name)?;
                Some((t.name.clone(), at))
            })
            .collect();

        let (destination, state) = {
            let name = name.clone();
            let mut destination = destination;
            blocking(move || {
                destination.prepare(&name, &tables)?;
                destination.migrate(&migrations)?;
                let state = destination.load_state(&name)?;
                Ok((destination, state))
            })
            .await?
        };

        // Bounded: a fast source waits for the writer instead of filling memory.
        let (tx, rx) = mpsc::channel::<Operation>(512);
        let writer = {
            let engine = self.clone();
            let name = name.clone();
            tokio::task::spawn_blocking(move || {
                engine.write_loop(&name, &source_columns, destination, rx)
            })
        };

        let stats = Arc::new(Mutex::new(RunStats::default()));
        let (ptx, prx) = mpsc::channel::<S::Partition>(self.concurrency * 4);
        let discovery = {
            let tx = tx.clone();
            let source = source.clone();
            let stats = stats.clone();
            async move {
                let mut found = 0u64;
                let mut stream = source.discover(state);
                while let Some(item) = stream.next().await {
                    match item? {
                        Discovery::Operation(Operation::Report(report)) => {
                            tracing::warn!(partition = %report.partition, item = %report.item, problem = %report.problem, "item reported, not trusted");
                            lock(&stats).reported.push(report);
                        }
                        Discovery::Operation(op) => send(&tx, op).await?,
                        Discovery::Partition(p) => {
                            found += 1;
                            if ptx.send(p).await.is_err() {
                                break;
                            }
                        }
                        Discovery::Failed { partition, error } => {
                            tracing::warn!(%partition, %error, "partition failed in discovery; it will be read again next run");
                            lock(&stats)
                                .failed_partitions
                                .push((partition.clone(), error.clone()));
                            self.emit(Progress::PartitionFinished {
                                key: partition,
                                error: Some(error),
                            });
                        }
                    }
                }
                drop(ptx);
                self.emit(Progress::Discovered { partitions: found });
                Ok::<_, Error>(())
            }
        };
        let partitions = {
            let stats = stats.clone();
            let tx = tx.clone();
            let source = source.clone();
            tokio_stream_of(prx).for_each_concurrent(self.concurrency, move |partition| {
                let key = source.partition_key(&partition);
                let mut ops = source.read(partition);
                let tx = tx.clone();
                let stats = stats.clone();
                async move {
                    self.emit(Progress::PartitionStarted { key: key.clone() });
                    let mut error = None;
                    while let Some(op) = ops.next().await {
                        let op = match op {
                            Ok(op) => op,
                            Err(e) => {
                                error = Some(e.to_string());
                                break;
                            }
                        };
                        if let Operation::Checkpoint(cp) = &op {
                            lock(&stats).non_final += cp.non_final;
                        }
                        if let Operation::Report(report) = op {
                            tracing::warn!(partition = %report.partition, item = %report.item, problem = %report.problem, "item reported, not trusted");
                            lock(&stats).reported.push(report);
                            continue;
                        }
                        if send(&tx, op).await.is_err() {
                            // The destination stopped: the run ends with its error, and this
                            // partition is not at fault.
                            break;
                        }
                    }
                    {
                        let mut s = lock(&stats);
                        s.partitions += 1;
                        if let Some(e) = &error {
                            tracing::warn!(partition = %key, error = %e, "partition failed; it will be read again next run");
                            s.failed_partitions.push((key.clone(), e.clone()));
                        }
                    }
                    self.emit(Progress::PartitionFinished { key, error });
                }
            })
        };
        let (discovered, ()) = tokio::join!(discovery, partitions);
        drop(tx);
        let written = writer
            .await
            .map_err(|e| Error::Engine(format!("the writer thread failed: {e}")))?;

        let mut stats = std::mem::take(&mut *lock(&stats));
        let written = written?;
        for w in written {
            stats.absorb(w);
        }
        discovered?;
        let after = source.request_counts();
        stats.requests = after.requests.saturating_sub(before.requests);
        stats.retries = after.retries.saturating_sub(before.retries);
        stats.duration = started.elapsed();
        Ok(stats)
    }

    /// Receives operations, commits a transaction at every checkpoint and every `batch_size` operations.
    fn write_loop(
        &self,
        source: &str,
        source_columns: &HashMap<String, usize>,
        mut destination: Box<dyn Destination>,
        mut rx: mpsc::Receiver<Operation>,
    ) -> Result<Vec<WriteStats>> {
        let mut results = Vec::new();
        let mut batch: Vec<Operation> = Vec::with_capacity(self.batch_size.min(1024));
        let mut bytes = 0usize;
        let mut commit =
            |batch: &mut Vec<Operation>, results: &mut Vec<WriteStats>| -> Result<()> {
                if batch.is_empty() {
                    return Ok(());
                }
                let w = destination.write(source, batch)?;
                let rows = w.tables.values().map(|c| c.upserted + c.deleted).sum();
                self.emit(Progress::Committed { rows });
                results.push(w);
                batch.clear();
                Ok(())
            };
        while let Some(mut op) = rx.blocking_recv() {
            if let Operation::Upsert(record) = &mut op
                && let Some(&at) = source_columns.get(&*record.table)
                && let Some(value @ Value::Null) = record.values.get_mut(at)
            {
                *value = Value::Text(source.to_owned());
            }
            let checkpoint = matches!(op, Operation::Checkpoint(_));
            bytes += op.size_bytes();
            batch.push(op);
            if checkpoint || batch.len() >= self.batch_size || bytes >= self.batch_bytes {
                commit(&mut batch, &mut results)?;
                bytes = 0;
            }
        }
        commit(&mut batch, &mut results)?;
        Ok(results)
    }
}

async fn send(tx: &mpsc::Sender<Operation>, op: Operation) -> Result<()> {
    tx.send(op)
        .await
        .map_err(|_| Error::Engine("the destination stopped (see its error)".into()))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn tokio_stream_of<T: Send + 'static>(
    mut rx: mpsc::Receiver<T>,
) -> impl futures::Stream<Item = T> + Send {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Engine(format!("a blocking task failed: {e}")))?
}
