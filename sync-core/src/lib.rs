//! The sync engine of the CI data SDK, thin and generic: it knows no API.
//!
//! - Vocabulary: [`TableSchema`]s of typed columns with a primary key, [`Record`]s, and
//!   [`Operation`]s (upsert, soft delete, checkpoint of a partition's state).
//! - A [`Source`] discovers the work of a run from its saved [`State`], and reads partitions as
//!   streams of operations ending in a checkpoint.
//! - The [`Engine`] reads partitions concurrently (bounded) and commits every checkpoint in the
//!   same transaction as the rows before it: state never gets ahead of durable rows, a replay
//!   changes nothing, and a killed run resumes to the same database.
//! - Destinations: [`SqliteDestination`] (the embedded default, WAL, state in the same database)
//!   and [`JsonLinesDestination`] (Singer `SCHEMA` / `RECORD` / `STATE` messages).

mod destination;
mod engine;
mod error;
mod jsonl;
mod migration;
mod record;
mod schema;
mod source;
mod sqlite;

pub use destination::{Destination, DestinationUrl, State, TableCounts, WriteStats};
pub use engine::{Engine, Progress, RunStats};
pub use error::{Error, Result};
pub use jsonl::JsonLinesDestination;
pub use migration::Migration;
pub use record::{Checkpoint, Operation, Record, RecordBuilder, Value, format_timestamp, now_ms};
pub use schema::{Column, ColumnType, TableSchema};
pub use source::{Discovery, RequestCounts, Source};
pub use sqlite::{STATE_TABLE, SqliteDestination};

/// The SQLite bindings the destination uses, for queries of one's own with the same version.
pub use rusqlite;
