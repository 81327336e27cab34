//! Values, records and the operations a source emits.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::schema::{ColumnType, TableSchema};

/// A value of a column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL / JSON null.
    Null,
    /// Text.
    Text(String),
    /// An integer.
    Integer(i64),
    /// A float.
    Real(f64),
    /// A boolean.
    Boolean(bool),
    /// An instant in milliseconds since the epoch.
    Timestamp(i64),
    /// A JSON document, as text.
    Json(String),
}

impl Value {
    /// Whether the value fits a column of type `ty` (NULL fits every column).
    pub fn fits(&self, ty: ColumnType) -> bool {
        matches!(
            (self, ty),
            (Value::Null, _)
                | (Value::Text(_), ColumnType::Text)
                | (Value::Integer(_), ColumnType::Integer)
                | (Value::Real(_), ColumnType::Real)
                | (Value::Integer(_), ColumnType::Real)
                | (Value::Boolean(_), ColumnType::Boolean)
                | (Value::Timestamp(_), ColumnType::Timestamp)
                | (Value::Json(_), ColumnType::Json)
        )
    }

    /// A timestamp from milliseconds, or NULL.
    pub fn timestamp(ms: Option<i64>) -> Value {
        ms.map_or(Value::Null, Value::Timestamp)
    }

    /// The value as JSON (timestamps as RFC 3339 UTC text, JSON documents parsed).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Text(s) => serde_json::Value::String(s.clone()),
            Value::Integer(i) => (*i).into(),
            Value::Real(f) => {
                serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
            }
            Value::Boolean(b) => (*b).into(),
            Value::Timestamp(ms) => {
                timestamp_text(*ms).map_or(serde_json::Value::Null, serde_json::Value::String)
            }
            Value::Json(text) => serde_json::from_str(text)
                .unwrap_or_else(|_| serde_json::Value::String(text.clone())),
        }
    }
}

/// Now, in milliseconds since the epoch (what `synced_at` and soft deletes record).
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Milliseconds since the epoch as RFC 3339 UTC with milliseconds (`2024-05-01T12:00:00.123Z`);
/// outside the years -9999 to 9999, the number itself.
pub fn format_timestamp(ms: i64) -> String {
    timestamp_text(ms).unwrap_or_else(|| ms.to_string())
}

/// Milliseconds since the epoch as RFC 3339 UTC with milliseconds, or `None` outside the years
/// -9999 to 9999: a destination stores such a time as NULL (the source's number and `raw` keep
/// what the server sent) rather than fail the batch.
pub fn timestamp_text(ms: i64) -> Option<String> {
    jiff::Timestamp::from_millisecond(ms)
        .ok()
        .map(|ts| format!("{ts:.3}"))
}

macro_rules! value_from {
    ($($t:ty => $v:ident $(as $cast:ty)?),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from(x: $t) -> Value {
                Value::$v(x $(as $cast)?)
            }
        }
    )*};
}

value_from!(String => Text, i64 => Integer, i32 => Integer as i64, u32 => Integer as i64, f64 => Real, bool => Boolean);

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_owned())
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Value {
        i64::try_from(n).map_or(Value::Real(n as f64), Value::Integer)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(x: Option<T>) -> Value {
        x.map_or(Value::Null, Into::into)
    }
}

/// A row of a table: values in the order of the table's columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The table's name.
    pub table: Arc<str>,
    /// One value per column, in column order.
    pub values: Vec<Value>,
}

impl Value {
    /// The bytes the value holds, inline and on the heap (an estimate for bounding batches).
    pub fn size_bytes(&self) -> usize {
        std::mem::size_of::<Value>()
            + match self {
                Value::Text(s) | Value::Json(s) => s.len(),
                _ => 0,
            }
    }
}

impl Record {
    /// The bytes the record holds (an estimate for bounding batches).
    pub fn size_bytes(&self) -> usize {
        std::mem::size_of::<Record>() + self.values.iter().map(Value::size_bytes).sum::<usize>()
    }
}

/// Builds a [`Record`] by column name, checking names and types.
#[derive(Debug)]
pub struct RecordBuilder<'a> {
    schema: &'a TableSchema,
    values: Vec<Value>,
    error: Option<String>,
}

impl<'a> RecordBuilder<'a> {
    pub(crate) fn new(schema: &'a TableSchema) -> RecordBuilder<'a> {
        RecordBuilder {
            schema,
            values: vec![Value::Null; schema.columns.len()],
            error: None,
        }
    }

    /// Sets a column.
    pub fn set(mut self, column: &str, value: impl Into<Value>) -> RecordBuilder<'a> {
        let value = value.into();
        match self.schema.index_of(column) {
            Some(i) if value.fits(self.schema.columns[i].ty) => self.values[i] = value,
            Some(i) => {
                self.error.get_or_insert(format!(
                    "{}.{column}: a {:?} column cannot hold {value:?}",
                    self.schema.name, self.schema.columns[i].ty
                ));
            }
            None => {
                self.error.get_or_insert(format!(
                    "table `{}` has no column `{column}`",
                    self.schema.name
                ));
            }
        }
        self
    }

    /// The record; an error names the first bad column or a NULL in the primary key.
    pub fn build(self) -> Result<Record> {
        if let Some(e) = self.error {
            return Err(Error::Record(e));
        }
        for k in &self.schema.primary_key {
            if let Some(i) = self.schema.index_of(k)
                && self.values[i] == Value::Null
            {
                return Err(Error::Record(format!(
                    "{}.{k}: the primary key cannot be NULL",
                    self.schema.name
                )));
            }
        }
        Ok(Record {
            table: Arc::from(self.schema.name.as_str()),
            values: self.values,
        })
    }
}

/// The saved state of one partition, committed together with the rows before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// The partition (a Jenkins job, a CircleCI project, ...).
    pub partition: String,
    /// Its state: whatever the source needs to resume, as JSON.
    pub state: serde_json::Value,
    /// Items of this partition not final yet (running builds), re-read next run.
    pub non_final: u64,
}

/// What a source asks the destination to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    /// Insert or update a row by its primary key.
    Upsert(Record),
    /// Mark a row deleted (sets the table's soft-delete column), keeping it.
    SoftDelete {
        /// The table.
        table: Arc<str>,
        /// The primary key's values.
        key: Vec<Value>,
        /// When it was seen gone, in milliseconds since the epoch.
        at_ms: i64,
    },
    /// Mark deleted every row that holds each of `matching`'s values in its column (the builds
    /// of a deleted job of one server, the stages of a deleted build), keeping them. Rows
    /// already marked keep their first date.
    SoftDeleteWhere {
        /// The table.
        table: Arc<str>,
        /// Columns of the table and the values the rows to mark hold in them (at least one).
        matching: Vec<(Arc<str>, Value)>,
        /// When they were seen gone, in milliseconds since the epoch.
        at_ms: i64,
    },
    /// Save a partition's state, atomically with every operation before it.
    Checkpoint(Checkpoint),
    /// An item the source could not take as the server gave it (a number or time that makes no
    /// sense, an item that breaks the listing's contract): the engine reports it (a warning and
    /// [`RunStats::reported`](crate::RunStats::reported)); nothing is written.
    Report(ItemReport),
}

/// An item reported by a source instead of trusted, with what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemReport {
    /// The partition it was read in.
    pub partition: String,
    /// The item: its URL or its id and number.
    pub item: String,
    /// What was wrong with it, and what the source did instead.
    pub problem: String,
}

impl Operation {
    /// The checkpoint of `partition` with its `state` serialized (the one way every source
    /// writes its state), counting `non_final` items carried over (0 for an interim checkpoint,
    /// which the run's total must not count twice).
    pub fn checkpoint<T: serde::Serialize>(
        partition: impl Into<String>,
        state: &T,
        non_final: u64,
    ) -> crate::Result<Operation> {
        let state = serde_json::to_value(state)
            .map_err(|e| crate::Error::Record(format!("a state does not serialize: {e}")))?;
        Ok(Operation::Checkpoint(Checkpoint {
            partition: partition.into(),
            state,
            non_final,
        }))
    }

    /// The bytes the operation holds (an estimate for bounding batches).
    pub fn size_bytes(&self) -> usize {
        std::mem::size_of::<Operation>()
            + match self {
                Operation::Upsert(record) => record.size_bytes(),
                Operation::SoftDelete { key, .. } => key.iter().map(Value::size_bytes).sum(),
                Operation::SoftDeleteWhere { matching, .. } => {
                    matching.iter().map(|(_, v)| v.size_bytes()).sum()
                }
                Operation::Checkpoint(cp) => cp.partition.len() + 256,
                Operation::Report(r) => r.partition.len() + r.item.len() + r.problem.len(),
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_checks_columns_types_and_keys() {
        let t = TableSchema::new("t")
            .column("id", ColumnType::Text)
            .column("n", ColumnType::Integer)
            .primary_key(["id"]);
        let r = t.record().set("id", "a").set("n", 3i64).build().unwrap();
        assert_eq!(r.values, vec![Value::Text("a".into()), Value::Integer(3)]);
        assert!(
            t.record()
                .set("id", "a")
                .set("nope", 1i64)
                .build()
                .unwrap_err()
                .to_string()
                .contains("no column `nope`")
        );
        assert!(t.record().set("id", "a").set("n", "text").build().is_err());
        assert!(
            t.record()
                .set("n", 1i64)
                .build()
                .unwrap_err()
                .to_string()
                .contains("primary key")
        );
    }

    #[test]
    fn timestamps_are_utc_with_milliseconds() {
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format_timestamp(1_700_000_000_123),
            "2023-11-14T22:13:20.123Z"
        );
    }
}
