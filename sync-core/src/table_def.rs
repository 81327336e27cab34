//! A table defined once: each column with its type and how its value is read from a row, so the
//! schema and the records come from one list and cannot drift apart.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::record::{Record, Value};
use crate::schema::{Column, ColumnType, TableSchema};

/// A column and how to read its value from a row of type `T`.
pub struct ColumnDef<T> {
    /// The column's name.
    pub name: &'static str,
    /// Its type.
    pub ty: ColumnType,
    /// Bookkeeping (`synced_at`): a change of it alone is no change of the row.
    pub volatile: bool,
    /// The name of the source that wrote the row, filled in by the engine (see
    /// [`Column::source_name`]).
    pub source_name: bool,
    /// Its value for a row.
    pub value: fn(&T) -> Value,
}

impl<T> ColumnDef<T> {
    /// A column.
    pub const fn new(name: &'static str, ty: ColumnType, value: fn(&T) -> Value) -> ColumnDef<T> {
        ColumnDef {
            name,
            ty,
            volatile: false,
            source_name: false,
            value,
        }
    }

    /// A bookkeeping column (see [`Column::volatile`]).
    pub const fn volatile(
        name: &'static str,
        ty: ColumnType,
        value: fn(&T) -> Value,
    ) -> ColumnDef<T> {
        ColumnDef {
            name,
            ty,
            volatile: true,
            source_name: false,
            value,
        }
    }

    /// A text column holding the name of the source that wrote the row (`server`): NULL in
    /// the record, filled in by the [`Engine`](crate::Engine), which knows the source.
    pub const fn source_name(name: &'static str) -> ColumnDef<T> {
        ColumnDef {
            name,
            ty: ColumnType::Text,
            volatile: false,
            source_name: true,
            value: |_| Value::Null,
        }
    }
}

/// A table whose rows are read from values of type `T`.
///
/// ```
/// use cidata_sync::{ColumnDef, ColumnType, TableDef, Value};
/// struct Run { id: String, seconds: Option<i64> }
/// static RUNS: TableDef<Run> = TableDef {
///     name: "runs",
///     key: &["id"],
///     columns: &[
///         ColumnDef::new("id", ColumnType::Text, |r| r.id.clone().into()),
///         ColumnDef::new("duration_ms", ColumnType::Integer, |r| r.seconds.map(|s| s * 1000).into()),
///     ],
///     soft_delete: None,
/// };
/// let schema = RUNS.schema();
/// let record = RUNS.record(&Run { id: "a".into(), seconds: Some(2) }).unwrap();
/// assert_eq!(record.values, vec![Value::Text("a".into()), Value::Integer(2000)]);
/// assert_eq!(schema.columns.len(), 2);
/// ```
pub struct TableDef<T: 'static> {
    /// The table's name.
    pub name: &'static str,
    /// The primary key's columns.
    pub key: &'static [&'static str],
    /// The columns, in order.
    pub columns: &'static [ColumnDef<T>],
    /// The timestamp column a soft delete sets (`deleted_at`), if rows are marked deleted.
    pub soft_delete: Option<&'static str>,
}

impl<T> TableDef<T> {
    /// The table's schema.
    pub fn schema(&self) -> TableSchema {
        let mut schema = TableSchema::new(self.name).primary_key(self.key.iter().copied());
        schema.soft_delete = self.soft_delete.map(str::to_owned);
        schema.columns = self
            .columns
            .iter()
            .map(|c| {
                let mut column = Column::new(c.name, c.ty);
                column.volatile = c.volatile;
                column.source_name = c.source_name;
                column
            })
            .collect();
        schema
    }

    /// The record of `row`; an error names a value that does not fit its column or a NULL key.
    pub fn record(&self, row: &T) -> Result<Record> {
        let values: Vec<Value> = self.columns.iter().map(|c| (c.value)(row)).collect();
        for (c, v) in self.columns.iter().zip(&values) {
            if !v.fits(c.ty) {
                return Err(Error::Record(format!(
                    "{}.{}: a {:?} column cannot hold {v:?}",
                    self.name, c.name, c.ty
                )));
            }
            if *v == Value::Null && self.key.contains(&c.name) {
                return Err(Error::Record(format!(
                    "{}.{}: the primary key cannot be NULL",
                    self.name, c.name
                )));
            }
        }
        Ok(Record {
            table: Arc::from(self.name),
            values,
        })
    }
}
