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
    /// The PostgreSQL destination failed.
    #[cfg(feature = "postgres")]
    #[error("postgres destination `{url}`: {}", postgres_detail(source))]
    Postgres {
        /// The database, without password.
        url: String,
        /// The cause.
        #[source]
        source: postgres::Error,
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
    /// A safety check stopped the run before it changed anything it guards, such as a listing
    /// that would mark every known item deleted at once.
    #[error("refused: {0}")]
    Refused(String),
    /// The destination cannot do what was asked (JSON lines keep no tables to query or view).
    #[error("not supported: {0}")]
    Unsupported(String),
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

/// The server's own message (and detail) of a database error, which `postgres::Error`'s
/// `Display` leaves out.
#[cfg(feature = "postgres")]
fn postgres_detail(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{}: {detail}", db.message()),
            None => db.message().to_owned(),
        },
        // The cause too (a TLS handshake's "invalid peer certificate: UnknownIssuer").
        None => {
            let mut text = e.to_string();
            let mut cause = std::error::Error::source(e);
            while let Some(c) = cause {
                text.push_str(&format!(": {c}"));
                cause = c.source();
            }
            text
        }
    }
}

/// Refuses a deletion of `gone` of `known` items (`what`: "jobs", "repositories") when it would
/// remove all of them, or most of a sizeable set, at once, unless `allowed`: a server that
/// answers an empty or broken listing must not wipe the tables. The message names the override.
pub fn check_mass_delete(what: &str, known: usize, gone: usize, allowed: bool) -> Result<()> {
    let all = gone > 0 && gone == known;
    let most = gone >= 10 && gone * 2 > known;
    if allowed || !(all || most) {
        return Ok(());
    }
    Err(Error::Refused(format!(
        "the listing would mark {gone} of {known} known {what} deleted at once; if that is right, \
         run again with --allow-mass-delete"
    )))
}

/// The result type of cidata-sync.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mass_deletes_are_refused_unless_allowed() {
        assert!(check_mass_delete("jobs", 10, 0, false).is_ok());
        assert!(check_mass_delete("jobs", 0, 0, false).is_ok());
        assert!(check_mass_delete("jobs", 100, 9, false).is_ok());
        assert!(check_mass_delete("jobs", 100, 49, false).is_ok());
        assert!(check_mass_delete("jobs", 5, 4, false).is_ok());
        let all = check_mass_delete("jobs", 3, 3, false).unwrap_err();
        assert!(all.to_string().contains("3 of 3 known jobs"), "{all}");
        assert!(all.to_string().contains("--allow-mass-delete"), "{all}");
        assert!(check_mass_delete("jobs", 100, 51, false).is_err());
        assert!(check_mass_delete("jobs", 100, 100, true).is_ok());
    }
}
