#![doc = include_str!("../README.md")]

mod destination;
mod engine;
mod error;
mod jsonl;
mod migration;
mod newest_first;
#[cfg(feature = "postgres")]
mod postgres;
mod record;
mod schema;
mod source;
mod sqlite;
mod table_def;
pub mod views;
mod watermark;

pub use destination::{
    Destination, DestinationUrl, OpenOptions, POSTGRES_SUPPORTED, State, TableCounts, WriteStats,
};
pub use engine::{Engine, Progress, RunStats};
pub use error::{Error, Result, check_mass_delete};
pub use jsonl::JsonLinesDestination;
pub use migration::Migration;
pub use newest_first::{Listed, NewestFirst, NumberRange};
#[cfg(feature = "postgres")]
pub use postgres::PostgresDestination;
pub use record::{
    Checkpoint, ItemReport, Operation, Record, RecordBuilder, Value, format_timestamp, now_ms,
    timestamp_text,
};
pub use schema::{Column, ColumnType, TableSchema};
pub use source::{Discovery, RequestCounts, Source, saved_state};
pub use sqlite::{STATE_TABLE, SqliteDestination};
pub use table_def::{ColumnDef, TableDef};
pub use watermark::{Advanced, MarkRule, advance_mark};

/// The SQLite bindings the destination uses, for queries of one's own with the same version.
pub use rusqlite;
