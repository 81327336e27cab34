//! Singer-style JSON lines: `SCHEMA`, `RECORD` and `STATE` messages to stdout or a file, so that
//! existing Singer targets and loaders can consume a sync.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json, json};

use crate::destination::{Destination, State, TableCounts, WriteStats};
use crate::error::{Error, Result};
use crate::record::{Operation, Value, format_timestamp};
use crate::schema::TableSchema;

/// Singer messages on stdout or in a file. Without a state file every run is a full sync, and
/// the `STATE` messages it writes are for the consumer to keep; with one
/// ([`JsonLinesDestination::with_state_file`]) a run starts from the state it holds and rewrites it
/// after the records each checkpoint covers, the Singer way.
///
/// ```no_run
/// # async fn demo(source: std::sync::Arc<impl cidata_sync::Source>) -> cidata_sync::Result<()> {
/// use cidata_sync::{Engine, JsonLinesDestination};
/// // Singer messages on stdout, for any Singer target: `... | target-postgres`.
/// let destination = JsonLinesDestination::open(None)?;
/// Engine::new().run(source, Box::new(destination)).await?;
/// # Ok(()) }
/// ```
pub struct JsonLinesDestination {
    out: BufWriter<Box<dyn Write + Send>>,
    name: String,
    tables: HashMap<String, TableSchema>,
    state: Map<String, Json>,
    state_file: Option<PathBuf>,
}

impl std::fmt::Debug for JsonLinesDestination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JsonLinesDestination({})", self.name)
    }
}

impl JsonLinesDestination {
    /// Writes to `path`, or to stdout when `None`.
    pub fn open(path: Option<&Path>) -> Result<JsonLinesDestination> {
        let (out, name): (Box<dyn Write + Send>, String) = match path {
            None => (Box::new(std::io::stdout()), "jsonl://-".to_owned()),
            Some(p) => {
                let file = File::create(p).map_err(|source| Error::Io {
                    what: format!("creating {}", p.display()),
                    source,
                })?;
                (Box::new(file), format!("jsonl://{}", p.display()))
            }
        };
        Ok(JsonLinesDestination {
            out: BufWriter::new(out),
            name,
            tables: HashMap::new(),
            state: Map::new(),
            state_file: None,
        })
    }

    /// Appends to `path` (created if missing): for a second source writing into the same file.
    pub fn open_append(path: &Path) -> Result<JsonLinesDestination> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| Error::Io {
                what: format!("opening {}", path.display()),
                source,
            })?;
        Ok(JsonLinesDestination {
            out: BufWriter::new(Box::new(file)),
            name: format!("jsonl://{}", path.display()),
            tables: HashMap::new(),
            state: Map::new(),
            state_file: None,
        })
    }

    /// Writes to any writer (for tests and embedding).
    pub fn to_writer(writer: impl Write + Send + 'static) -> JsonLinesDestination {
        JsonLinesDestination {
            out: BufWriter::new(Box::new(writer)),
            name: "jsonl://writer".into(),
            tables: HashMap::new(),
            state: Map::new(),
            state_file: None,
        }
    }

    /// Keeps the state in `path`: a JSON object of each source's bookmarks
    /// (`{"jenkins": {"job:app": {...}}}`), read when a run starts (missing: a first run) and
    /// replaced, atomically, after the records of every batch with a checkpoint are written.
    pub fn with_state_file(mut self, path: impl Into<PathBuf>) -> JsonLinesDestination {
        self.state_file = Some(path.into());
        self
    }

    fn read_state_file(path: &Path) -> Result<Map<String, Json>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
            Err(source) => {
                return Err(Error::Io {
                    what: format!("reading the state file {}", path.display()),
                    source,
                });
            }
        };
        match serde_json::from_str::<Json>(&text) {
            Ok(Json::Object(map)) => Ok(map),
            Ok(_) => Err(Error::State {
                partition: path.display().to_string(),
                message: "the state file is not a JSON object of sources".into(),
            }),
            Err(e) => Err(Error::State {
                partition: path.display().to_string(),
                message: e.to_string(),
            }),
        }
    }

    /// Replaces `source`'s entry of the state file, through a temporary file renamed over it.
    fn save_state_file(&self, path: &Path, source: &str) -> Result<()> {
        let mut all = Self::read_state_file(path)?;
        all.insert(source.to_owned(), Json::Object(self.state.clone()));
        let io = |source| Error::Io {
            what: format!("writing the state file {}", path.display()),
            source,
        };
        let temporary = path.with_extension("tmp");
        std::fs::write(&temporary, Json::Object(all).to_string()).map_err(io)?;
        std::fs::rename(&temporary, path).map_err(io)
    }

    fn emit(&mut self, message: &Json) -> Result<()> {
        serde_json::to_writer(&mut self.out, message)
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"))
            .map_err(|source| Error::Io {
                what: format!("writing {}", self.name),
                source,
            })
    }
}

fn schema_message(t: &TableSchema) -> Json {
    let mut properties = Map::new();
    for c in &t.columns {
        let mut p = json!({ "type": ["null", c.ty.json_schema_type()] });
        if c.ty == crate::schema::ColumnType::Timestamp {
            p["format"] = json!("date-time");
        }
        properties.insert(c.name.clone(), p);
    }
    json!({
        "type": "SCHEMA",
        "stream": t.name,
        "schema": { "type": "object", "properties": properties },
        "key_properties": t.primary_key,
    })
}

impl Destination for JsonLinesDestination {
    fn prepare(&mut self, _source: &str, tables: &[TableSchema]) -> Result<()> {
        for t in tables {
            t.validate()?;
            self.emit(&schema_message(t))?;
            self.tables.insert(t.name.clone(), t.clone());
        }
        Ok(())
    }

    fn load_state(&mut self, source: &str) -> Result<State> {
        let Some(path) = &self.state_file else {
            return Ok(State::new());
        };
        let mut all = Self::read_state_file(path)?;
        self.state = match all.remove(source) {
            Some(Json::Object(bookmarks)) => bookmarks,
            Some(_) => {
                return Err(Error::State {
                    partition: path.display().to_string(),
                    message: format!("the state of `{source}` is not an object"),
                });
            }
            None => Map::new(),
        };
        Ok(self.state.clone().into_iter().collect())
    }

    fn write(&mut self, source: &str, batch: &[Operation]) -> Result<WriteStats> {
        let mut stats = WriteStats::default();
        let now = format_timestamp(crate::record::now_ms());
        for op in batch {
            match op {
                Operation::Upsert(record) => {
                    let t = self.tables.get(&*record.table).ok_or_else(|| {
                        Error::Record(format!("table `{}` was not prepared", record.table))
                    })?;
                    let fields: Map<String, Json> = t
                        .columns
                        .iter()
                        .zip(&record.values)
                        .map(|(c, v)| (c.name.clone(), v.to_json()))
                        .collect();
                    let message = json!({ "type": "RECORD", "stream": &*record.table, "record": fields, "time_extracted": now });
                    self.emit(&message)?;
                    stats
                        .tables
                        .entry(record.table.to_string())
                        .or_insert_with(TableCounts::default)
                        .upserted += 1;
                }
                // Reports are the engine's; nothing to write.
                Operation::Report(_) => {}
                Operation::SoftDelete { table, key, at_ms } => {
                    let t = self.tables.get(&**table).ok_or_else(|| {
                        Error::Record(format!("table `{table}` was not prepared"))
                    })?;
                    let mut fields: Map<String, Json> = t
                        .primary_key
                        .iter()
                        .cloned()
                        .zip(key.iter().map(Value::to_json))
                        .collect();
                    let at = Value::Timestamp(*at_ms).to_json();
                    if let Some(sd) = &t.soft_delete {
                        fields.insert(sd.clone(), at.clone());
                    }
                    // The Stitch/Singer convention for deleted rows.
                    fields.insert("_sdc_deleted_at".into(), at);
                    self.emit(&json!({ "type": "RECORD", "stream": &**table, "record": fields, "time_extracted": now }))?;
                    stats.tables.entry(table.to_string()).or_default().deleted += 1;
                }
                Operation::SoftDeleteWhere {
                    table,
                    matching,
                    at_ms,
                } => {
                    let t = self.tables.get(&**table).ok_or_else(|| {
                        Error::Record(format!("table `{table}` was not prepared"))
                    })?;
                    // No row list here: one record holds the values the deleted rows share, and
                    // `delete_where` names the columns that select them.
                    let at = Value::Timestamp(*at_ms).to_json();
                    let mut fields = Map::new();
                    for (column, value) in matching {
                        fields.insert(column.to_string(), value.to_json());
                    }
                    if let Some(sd) = &t.soft_delete {
                        fields.insert(sd.clone(), at.clone());
                    }
                    fields.insert("_sdc_deleted_at".into(), at);
                    let columns: Vec<&str> = matching.iter().map(|(c, _)| &**c).collect();
                    self.emit(&json!({ "type": "RECORD", "stream": &**table, "record": fields, "delete_where": columns, "time_extracted": now }))?;
                    stats.tables.entry(table.to_string()).or_default().deleted += 1;
                }
                Operation::Checkpoint(cp) => {
                    self.state.insert(cp.partition.clone(), cp.state.clone());
                    let message = json!({ "type": "STATE", "value": { "source": source, "bookmarks": self.state } });
                    self.emit(&message)?;
                    stats.checkpoints += 1;
                }
            }
        }
        self.out.flush().map_err(|source| Error::Io {
            what: format!("writing {}", self.name),
            source,
        })?;
        // The records first, then the state that covers them.
        if let Some(path) = &self.state_file
            && stats.checkpoints > 0
        {
            self.save_state_file(path, source)?;
        }
        Ok(stats)
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}
