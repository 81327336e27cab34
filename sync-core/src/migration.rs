//! One-time rewrites of rows an older version wrote, such as keys whose format changed.
//!
//! Columns a newer version adds need no migration (destinations add them); a migration is for
//! what adding cannot fix. Each is named, runs once per database inside one transaction, and is
//! recorded so that it never runs again. Its statements are plain SQL that SQLite and PostgreSQL
//! both accept (`||`, `substr`, `UPDATE ... SET ... WHERE ...`).

/// A named list of SQL statements that rewrites existing rows once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// A name unique across every source and version, such as `jenkins-2-hash-ids`.
    pub name: String,
    /// The tables it touches, which must exist (a database without them has nothing to rewrite).
    pub tables: Vec<String>,
    /// The statements, run in order.
    pub statements: Vec<String>,
}

impl Migration {
    /// A migration of `tables` by `statements`.
    pub fn new<T, S>(name: impl Into<String>, tables: T, statements: S) -> Migration
    where
        T: IntoIterator,
        T::Item: Into<String>,
        S: IntoIterator,
        S::Item: Into<String>,
    {
        Migration {
            name: name.into(),
            tables: tables.into_iter().map(Into::into).collect(),
            statements: statements.into_iter().map(Into::into).collect(),
        }
    }

    /// The key that records it as applied in a destination's metadata.
    pub fn meta_key(&self) -> String {
        format!("migration:{}", self.name)
    }
}
