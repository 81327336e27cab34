//! What a source is: tables, a discovery of work, and partitions read as streams of operations.

use futures::stream::BoxStream;

use crate::destination::State;
use crate::error::Result;
use crate::migration::Migration;
use crate::record::Operation;
use crate::schema::TableSchema;

/// What discovery finds: operations to apply now (a listing's rows, deletions), and partitions to
/// read (each with its own checkpoint).
#[derive(Debug)]
pub enum Discovery<P> {
    /// Apply this operation.
    Operation(Operation),
    /// Read this partition.
    Partition(P),
    /// Discovery could not make a partition of one item (a job whose listing entry does not fit
    /// the tables, say): the item is reported as a failed partition and the run goes on with the
    /// others; its state does not move.
    Failed {
        /// The partition's key.
        partition: String,
        /// Why, naming the item.
        error: String,
    },
}

/// A partition's saved state decoded as `T` (the one way every source reads it): a state that
/// is missing, or of another shape (an earlier version's), is `T::default()`, so the partition is
/// read as new rather than on a misread state.
pub fn saved_state<T: serde::de::DeserializeOwned + Default>(state: &State, partition: &str) -> T {
    state
        .get(partition)
        .and_then(|v| T::deserialize(v).ok())
        .unwrap_or_default()
}

/// Requests a source has sent, for the run statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestCounts {
    /// HTTP requests, every attempt counted.
    pub requests: u64,
    /// Retried attempts.
    pub retries: u64,
}

/// A source of records: it knows its API; the engine knows none.
///
/// A run calls [`Source::discover`] with the state of every partition saved by earlier runs; the
/// discovery yields operations and the partitions that need reading (for example only the jobs
/// that changed). Each partition is read by [`Source::read`], concurrently with others, and ends
/// its stream with an [`Operation::Checkpoint`] of its new state, which the destination commits in
/// the same transaction as the rows before it.
pub trait Source: Send + Sync + 'static {
    /// A unit of work, carrying what reading it needs (its previous state, say).
    type Partition: Send + 'static;

    /// The source's name; saved state is keyed by it.
    fn name(&self) -> &str;

    /// The tables this source writes.
    fn tables(&self) -> Vec<TableSchema>;

    /// Rewrites of rows earlier versions of this source wrote (changed key formats, say), oldest
    /// first; each runs once per destination.
    fn migrations(&self) -> Vec<Migration> {
        Vec::new()
    }

    /// Finds the work of this run, given the saved state of every partition.
    fn discover(&self, state: State) -> BoxStream<'static, Result<Discovery<Self::Partition>>>;

    /// The partition's key (also its checkpoint's), for progress and errors.
    fn partition_key(&self, partition: &Self::Partition) -> String;

    /// Reads a partition: its rows, then its checkpoint.
    fn read(&self, partition: Self::Partition) -> BoxStream<'static, Result<Operation>>;

    /// Requests sent so far (monotonic).
    fn request_counts(&self) -> RequestCounts {
        RequestCounts::default()
    }
}
