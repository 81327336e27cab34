//! Tables: typed columns and a primary key.

use crate::error::{Error, Result};

/// The type of a column. Destinations map it to their own types (SQLite: TEXT, INTEGER, REAL;
/// timestamps as ISO-8601 UTC text; JSON as text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// UTF-8 text.
    Text,
    /// A 64-bit integer.
    Integer,
    /// A 64-bit float.
    Real,
    /// true or false.
    Boolean,
    /// An instant, in milliseconds since the epoch; written as UTC.
    Timestamp,
    /// A JSON document.
    Json,
}

impl ColumnType {
    /// The name used in JSON schemas (`string`, `integer`, ...).
    pub fn json_schema_type(self) -> &'static str {
        match self {
            ColumnType::Text | ColumnType::Timestamp => "string",
            ColumnType::Integer => "integer",
            ColumnType::Real => "number",
            ColumnType::Boolean => "boolean",
            ColumnType::Json => "object",
        }
    }
}

/// A column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column's name.
    pub name: String,
    /// Its type.
    pub ty: ColumnType,
    /// Bookkeeping (like `synced_at`): written with the row, but a change in it alone is no change
    /// of the row, so that a replay writes nothing.
    pub volatile: bool,
    /// Holds the name of the source that wrote the row (`server`), filled in by the
    /// [`Engine`](crate::Engine): rows of several servers of one kind share the table.
    pub source_name: bool,
}

impl Column {
    /// A column of `name` and `ty`.
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Column {
        Column {
            name: name.into(),
            ty,
            volatile: false,
            source_name: false,
        }
    }

    /// Marks the column as bookkeeping (see [`Column::volatile`]).
    pub fn volatile(mut self) -> Column {
        self.volatile = true;
        self
    }

    /// Marks the column as the source's name (see [`Column::source_name`]).
    pub fn source_name(mut self) -> Column {
        self.source_name = true;
        self
    }
}

/// A table: a name, typed columns, a primary key, and optionally the column that soft deletes set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSchema {
    /// The table's name.
    pub name: String,
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// The primary key's columns.
    pub primary_key: Vec<String>,
    /// The timestamp column a soft delete sets (`deleted_at`).
    pub soft_delete: Option<String>,
}

impl TableSchema {
    /// A table with no column yet.
    pub fn new(name: impl Into<String>) -> TableSchema {
        TableSchema {
            name: name.into(),
            columns: Vec::new(),
            primary_key: Vec::new(),
            soft_delete: None,
        }
    }

    /// Adds a column.
    pub fn column(mut self, name: &str, ty: ColumnType) -> TableSchema {
        self.columns.push(Column::new(name, ty));
        self
    }

    /// Adds a bookkeeping column (see [`Column::volatile`]).
    pub fn volatile_column(mut self, name: &str, ty: ColumnType) -> TableSchema {
        self.columns.push(Column::new(name, ty).volatile());
        self
    }

    /// Sets the primary key.
    pub fn primary_key<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        columns: I,
    ) -> TableSchema {
        self.primary_key = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the column that soft deletes set (it must be a timestamp column).
    pub fn soft_delete(mut self, column: &str) -> TableSchema {
        self.soft_delete = Some(column.to_owned());
        self
    }

    /// The position of a column.
    pub fn index_of(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == column)
    }

    /// Checks names, the key and the soft-delete column.
    pub fn validate(&self) -> Result<()> {
        let bad = |why: String| Err(Error::Schema(format!("table `{}`: {why}", self.name)));
        if !is_identifier(&self.name) {
            return bad("the name must be letters, digits and `_`".into());
        }
        for (i, c) in self.columns.iter().enumerate() {
            if !is_identifier(&c.name) {
                return bad(format!(
                    "column `{}`: the name must be letters, digits and `_`",
                    c.name
                ));
            }
            if self.columns[..i].iter().any(|o| o.name == c.name) {
                return bad(format!("column `{}` appears twice", c.name));
            }
        }
        if self.primary_key.is_empty() {
            return bad("no primary key".into());
        }
        for k in &self.primary_key {
            if self.index_of(k).is_none() {
                return bad(format!("key column `{k}` is not a column"));
            }
        }
        if let Some(sd) = &self.soft_delete {
            match self.index_of(sd).map(|i| self.columns[i].ty) {
                Some(ColumnType::Timestamp) => {}
                _ => {
                    return bad(format!(
                        "soft-delete column `{sd}` must be a timestamp column"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Starts a record of this table.
    pub fn record(&self) -> crate::RecordBuilder<'_> {
        crate::RecordBuilder::new(self)
    }
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !s.as_bytes()[0].is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_what_is_wrong() {
        let ok = TableSchema::new("t")
            .column("id", ColumnType::Text)
            .primary_key(["id"]);
        assert!(ok.validate().is_ok());
        let no_key = TableSchema::new("t").column("id", ColumnType::Text);
        assert!(
            no_key
                .validate()
                .unwrap_err()
                .to_string()
                .contains("no primary key")
        );
        let bad_name = TableSchema::new("t; drop")
            .column("id", ColumnType::Text)
            .primary_key(["id"]);
        assert!(bad_name.validate().is_err());
        let twice = ok.clone().column("id", ColumnType::Integer);
        assert!(twice.validate().unwrap_err().to_string().contains("twice"));
        let bad_sd = ok
            .clone()
            .column("gone", ColumnType::Text)
            .soft_delete("gone");
        assert!(bad_sd.validate().is_err());
    }
}
