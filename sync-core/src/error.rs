//! Errors of a sync run.

/// What can go wrong in a sync run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The source failed (an API error, with its own details).
    #[error("source: {0}")]
    Source(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// A table definition is invalid.
    #[error("schema: {0}")]
    Schema(String),
    /// A record does not fit its table.
    #[error("record: {0}")]
    Record(String),
    /// The SQLite destination failed.
    #[error("sqlite destination `{path}`: {source}")]
    Sqlite {
        /// The database file.
        path: String,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
    /// Writing a file or stdout failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being written.
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A destination URL or setting is invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// The engine itself failed: a worker or the writer thread stopped.
    #[error("sync engine: {0}")]
    Engine(String),
    /// Saved state could not be read.
    #[error("state of partition `{partition}`: {message}")]
    State {
        /// The partition.
        partition: String,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// Wraps any source error.
    pub fn source(err: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::Source(Box::new(err))
    }
}

/// The result type of cidata-sync.
pub type Result<T, E = Error> = std::result::Result<T, E>;
