//! PostgreSQL as a destination shared by many writers (feature `postgres`): the same tables and
//! columns as SQLite with native types (`jsonb`, `timestamptz`, `boolean`), multi-row upserts that
//! write only real changes, state in the same transaction as its rows, and an advisory lock per
//! source so that two processes never sync the same source at once.

use std::collections::HashMap;
use std::sync::Arc;

use postgres::{Client, Config, NoTls};

use crate::destination::{Destination, State, WriteStats, redacted_url, state_from_rows};
use crate::error::{Error, Result};
use crate::migration::Migration;
use crate::record::{Operation, Record, Value, format_timestamp, now_ms};
use crate::schema::{ColumnType, TableSchema};
use crate::sqlite::{STATE_TABLE, match_conditions};

/// Rows per multi-row `INSERT`: far below PostgreSQL's 65,535 parameters for any table here.
const ROWS_PER_STATEMENT: usize = 500;

/// The first half of every advisory lock key of ci-sync (the second is a hash of a name).
const LOCK_NAMESPACE: i32 = 0x0c15_0c15;

/// A PostgreSQL database as a destination. Connects on first use (from the engine's blocking
/// thread), so that building one never blocks an async caller.
///
/// ```no_run
/// # async fn demo(source: std::sync::Arc<impl cidata_sync::Source>) -> cidata_sync::Result<()> {
/// use cidata_sync::{Engine, PostgresDestination};
/// // TLS by rustls with `sslmode=require` (and the system's roots, or `sslrootcert=`).
/// let destination = PostgresDestination::new("postgres://ci@db.example.com/ci?sslmode=require")?
///     .wait_for_lock(true);
/// Engine::new().run(source, Box::new(destination)).await?;
/// # Ok(()) }
/// ```
pub struct PostgresDestination {
    config: Config,
    shown: String,
    tls: bool,
    /// `sslrootcert`: a PEM file of CA certificates trusted besides the system's.
    root_cert: Option<std::path::PathBuf>,
    wait_for_lock: bool,
    client: Option<Client>,
    tables: HashMap<String, TableSql>,
    abort_after_statements: Option<u64>,
}

struct TableSql {
    schema: TableSchema,
    /// Placeholder casts per column (`$1::text::bigint`), in column order.
    casts: Vec<&'static str>,
    /// `INSERT INTO t (cols) VALUES`.
    insert_head: String,
    /// `ON CONFLICT ... DO UPDATE ... WHERE ... IS DISTINCT FROM ...`.
    conflict_tail: String,
}

impl std::fmt::Debug for PostgresDestination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PostgresDestination({})", self.shown)
    }
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

fn pg_type(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Text => "text",
        ColumnType::Integer => "bigint",
        ColumnType::Real => "double precision",
        ColumnType::Boolean => "boolean",
        ColumnType::Timestamp => "timestamptz",
        ColumnType::Json => "jsonb",
    }
}

/// Every value is sent as text and cast in SQL: one binding path for every column type.
fn cast(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Text => "::text",
        ColumnType::Integer => "::text::bigint",
        ColumnType::Real => "::text::double precision",
        ColumnType::Boolean => "::text::boolean",
        ColumnType::Timestamp => "::text::timestamptz",
        ColumnType::Json => "::text::jsonb",
    }
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        // PostgreSQL's text and jsonb cannot hold U+0000 (SQLite can): it becomes U+FFFD, the
        // replacement character, rather than failing the whole batch.
        Value::Text(s) => Some(if s.contains('\0') {
            s.replace('\0', "\u{fffd}")
        } else {
            s.clone()
        }),
        Value::Json(s) => Some(without_nul_escapes(s)),
        Value::Integer(i) => Some(i.to_string()),
        Value::Real(f) => Some(f.to_string()),
        Value::Boolean(b) => Some(b.to_string()),
        Value::Timestamp(ms) => crate::record::timestamp_text(*ms),
    }
}

/// `json` with every `\u0000` escape replaced by `\ufffd`, which jsonb accepts. Escapes are
/// read pairwise, so an escaped backslash followed by `u0000` (`\\u0000`) is left alone.
fn without_nul_escapes(json: &str) -> String {
    if !json.contains("\\u0000") {
        return json.to_owned();
    }
    let mut out = String::with_capacity(json.len());
    let mut rest = json;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let escape = &rest[at..];
        if let Some(after) = escape.strip_prefix("\\u0000") {
            out.push_str("\\ufffd");
            rest = after;
        } else {
            // The backslash and the character it escapes (a backslash too, perhaps).
            let len = 1 + escape[1..].chars().next().map_or(0, char::len_utf8);
            out.push_str(&escape[..len]);
            rest = &escape[len..];
        }
    }
    out.push_str(rest);
    out
}

impl PostgresDestination {
    /// A destination for `url` (`postgres://user@host:5432/db?sslmode=require`). The password may
    /// be in the URL or in `PGPASSWORD`. `sslmode`: `disable`, `prefer` (default), `require`,
    /// `verify-ca` or `verify-full`; TLS is rustls with the system's roots and those of
    /// `sslrootcert=/path/ca.pem`, certificates and host names always checked (stricter than
    /// libpq's `require`).
    pub fn new(url: &str) -> Result<PostgresDestination> {
        let shown = redacted_url(url);
        let bad = |why: String| Error::Config(format!("destination `{shown}`: {why}"));
        // tokio-postgres knows `require` but not libpq's verify modes; rustls verifies the
        // certificate and host name in every TLS mode, so they all mean `require` here.
        let normalised = url
            .replace("sslmode=verify-full", "sslmode=require")
            .replace("sslmode=verify-ca", "sslmode=require");
        // `sslrootcert` (libpq's): CA certificates to trust besides the system's; tokio-postgres
        // does not know it, so it is taken out of the URL here.
        let (normalised, root_cert) = take_query_param(&normalised, "sslrootcert");
        let mut config: Config = normalised.parse().map_err(|e| bad(format!("{e}")))?;
        if config.get_password().is_none()
            && let Ok(password) = std::env::var("PGPASSWORD")
        {
            config.password(password);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        let tls = !matches!(config.get_ssl_mode(), postgres::config::SslMode::Disable);
        Ok(PostgresDestination {
            config,
            shown,
            tls,
            root_cert: root_cert.map(std::path::PathBuf::from),
            wait_for_lock: false,
            client: None,
            tables: HashMap::new(),
            abort_after_statements: None,
        })
    }

    /// Every transaction of the session read-only (`default_transaction_read_only`): for readers
    /// such as the dashboard.
    pub fn read_only(mut self, read_only: bool) -> PostgresDestination {
        if read_only {
            self.config.options("-c default_transaction_read_only=on");
        }
        self
    }

    /// Waits for another process that syncs the same source to finish, instead of stopping with
    /// [`Error::Refused`].
    pub fn wait_for_lock(mut self, wait: bool) -> PostgresDestination {
        self.wait_for_lock = wait;
        self
    }

    /// Fault injection for crash tests: abort the whole process after `n` more statements of
    /// [`Destination::write`], inside a transaction, as a `kill -9` would.
    #[doc(hidden)]
    pub fn abort_after_statements(&mut self, n: u64) {
        self.abort_after_statements = Some(n);
    }

    fn error(&self, e: postgres::Error) -> Error {
        Error::Postgres {
            url: self.shown.clone(),
            source: e,
        }
    }

    fn client(&mut self) -> Result<&mut Client> {
        if self.client.is_none() {
            let connected = if self.tls {
                self.config
                    .connect(tls_connector(self.root_cert.as_deref())?)
            } else {
                self.config.connect(NoTls)
            };
            let client = connected.map_err(|e| self.error(e))?;
            self.client = Some(client);
        }
        Ok(self.client.as_mut().expect("connected just above"))
    }

    /// Takes the source's advisory lock for this session (released when the process ends).
    fn lock_source(&mut self, source: &str) -> Result<()> {
        let wait = self.wait_for_lock;
        let key = format!("ci-sync source {source}");
        let client = self.client()?;
        let got: bool = if wait {
            client
                .execute(
                    "SELECT pg_advisory_lock($1, hashtext($2))",
                    &[&LOCK_NAMESPACE, &key],
                )
                .map(|_| true)
        } else {
            client
                .query_one(
                    "SELECT pg_try_advisory_lock($1, hashtext($2))",
                    &[&LOCK_NAMESPACE, &key],
                )
                .map(|row| row.get(0))
        }
        .map_err(|e| self.error(e))?;
        if got {
            Ok(())
        } else {
            Err(Error::Refused(format!(
                "another ci-sync process is syncing source `{source}` into {}; it holds the lock until it ends (--wait-for-lock waits for it)",
                self.shown
            )))
        }
    }

    fn existing_columns(
        client: &mut impl postgres::GenericClient,
        table: &str,
    ) -> std::result::Result<Option<Vec<String>>, postgres::Error> {
        let rows = client.query(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1",
            &[&table],
        )?;
        Ok((!rows.is_empty()).then(|| rows.iter().map(|r| r.get(0)).collect()))
    }

    fn prepare_tables(&mut self, tables: &[TableSchema]) -> Result<()> {
        let client = self.client.as_mut().expect("connected by prepare");
        let mut tx = client.transaction()?;
        // DDL of concurrent processes takes turns: two first runs must not both create a table.
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext('ddl'))",
            &[&LOCK_NAMESPACE],
        )?;
        tx.batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {STATE_TABLE} (source text NOT NULL, partition text NOT NULL, \
             state jsonb NOT NULL, non_final bigint NOT NULL, updated_at timestamptz NOT NULL, \
             PRIMARY KEY (source, partition));
             CREATE TABLE IF NOT EXISTS _ci_sync_meta (key text PRIMARY KEY, value text NOT NULL);"
        ))?;
        for t in tables {
            match Self::existing_columns(&mut tx, &t.name)? {
                None => {
                    let cols: Vec<String> = t
                        .columns
                        .iter()
                        .map(|c| format!("{} {}", quote(&c.name), pg_type(c.ty)))
                        .collect();
                    let key: Vec<String> = t.primary_key.iter().map(|k| quote(k)).collect();
                    tx.batch_execute(&format!(
                        "CREATE TABLE {} ({}, PRIMARY KEY ({}))",
                        quote(&t.name),
                        cols.join(", "),
                        key.join(", ")
                    ))?;
                }
                Some(existing) => {
                    // A newer version added columns: add them; nothing is ever dropped.
                    for c in t.columns.iter().filter(|c| !existing.contains(&c.name)) {
                        tx.batch_execute(&format!(
                            "ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}",
                            quote(&t.name),
                            quote(&c.name),
                            pg_type(c.ty)
                        ))?;
                        tracing::info!(table = %t.name, column = %c.name, "added a column");
                    }
                }
            }
        }
        tx.commit()?;
        for t in tables {
            self.tables.insert(t.name.clone(), table_sql(t));
        }
        Ok(())
    }

    /// Upserts `records` (all of one table) with multi-row statements; returns (changed, unchanged).
    fn upsert(
        tx: &mut postgres::Transaction<'_>,
        t: &TableSql,
        records: &[&Record],
    ) -> std::result::Result<(u64, u64), postgres::Error> {
        // One statement may not touch a row twice: the last record of a key wins, as it would
        // one statement at a time.
        let key_at: Vec<usize> = t
            .schema
            .primary_key
            .iter()
            .filter_map(|k| t.schema.columns.iter().position(|c| &c.name == k))
            .collect();
        let mut last: HashMap<Vec<Option<String>>, usize> = HashMap::new();
        for (i, r) in records.iter().enumerate() {
            last.insert(key_at.iter().map(|&k| as_text(&r.values[k])).collect(), i);
        }
        let mut kept: Vec<usize> = last.into_values().collect();
        kept.sort_unstable();
        let mut changed = 0;
        for chunk in kept.chunks(ROWS_PER_STATEMENT) {
            let width = t.casts.len();
            let mut sql = t.insert_head.clone();
            let mut params: Vec<Option<String>> = Vec::with_capacity(chunk.len() * width);
            for (row, &i) in chunk.iter().enumerate() {
                sql.push_str(if row == 0 { " (" } else { ", (" });
                for (col, cast) in t.casts.iter().enumerate() {
                    if col > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!("${}{cast}", row * width + col + 1));
                }
                sql.push(')');
                params.extend(records[i].values.iter().map(as_text));
            }
            sql.push_str(&t.conflict_tail);
            let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                .iter()
                .map(|p| p as &(dyn postgres::types::ToSql + Sync))
                .collect();
            changed += tx.execute(sql.as_str(), &refs)?;
        }
        Ok((changed, records.len() as u64 - changed))
    }
}

impl From<postgres::Error> for Error {
    fn from(source: postgres::Error) -> Error {
        Error::Postgres {
            url: String::new(),
            source,
        }
    }
}

fn table_sql(t: &TableSchema) -> TableSql {
    let cols: Vec<String> = t.columns.iter().map(|c| quote(&c.name)).collect();
    let key: Vec<String> = t.primary_key.iter().map(|k| quote(k)).collect();
    let rest: Vec<&crate::schema::Column> = t
        .columns
        .iter()
        .filter(|c| !t.primary_key.contains(&c.name))
        .collect();
    let compared: Vec<&crate::schema::Column> =
        rest.iter().copied().filter(|c| !c.volatile).collect();
    let conflict_tail = if compared.is_empty() {
        format!(" ON CONFLICT ({}) DO NOTHING", key.join(", "))
    } else {
        let sets: Vec<String> = rest
            .iter()
            .map(|c| format!("{q} = excluded.{q}", q = quote(&c.name)))
            .collect();
        let old: Vec<String> = compared
            .iter()
            .map(|c| format!("{}.{}", quote(&t.name), quote(&c.name)))
            .collect();
        let new: Vec<String> = compared
            .iter()
            .map(|c| format!("excluded.{}", quote(&c.name)))
            .collect();
        format!(
            " ON CONFLICT ({}) DO UPDATE SET {} WHERE ({}) IS DISTINCT FROM ({})",
            key.join(", "),
            sets.join(", "),
            old.join(", "),
            new.join(", ")
        )
    };
    TableSql {
        schema: t.clone(),
        casts: t.columns.iter().map(|c| cast(c.ty)).collect(),
        insert_head: format!(
            "INSERT INTO {} ({}) VALUES",
            quote(&t.name),
            cols.join(", ")
        ),
        conflict_tail,
    }
}

/// rustls with the system's root certificates (and `SSL_CERT_FILE`, which rustls-native-certs
/// reads) and those of `sslrootcert`, certificate and host name checked.
fn tls_connector(
    root_cert: Option<&std::path::Path>,
) -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for cert in found.certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = root_cert {
        let bad = |why: String| Error::Config(format!("sslrootcert {}: {why}", path.display()));
        let mut added = 0;
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(e.to_string()))? {
            roots
                .add(cert.map_err(|e| bad(e.to_string()))?)
                .map_err(|e| bad(e.to_string()))?;
            added += 1;
        }
        if added == 0 {
            return Err(bad("no PEM certificate in it".into()));
        }
        tracing::warn!(
            "sslrootcert {}: trusting its certificates besides the system's",
            path.display()
        );
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS for PostgreSQL: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// `url` without the query parameter `name`, and its value (percent-decoded), if there.
fn take_query_param(url: &str, name: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut value = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.split_once('=') {
            Some((k, v)) if k == name => {
                value = Some(percent_decode(v));
                false
            }
            _ => true,
        })
        .collect();
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (url, value)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Destination for PostgresDestination {
    fn prepare(&mut self, source: &str, tables: &[TableSchema]) -> Result<()> {
        for t in tables {
            t.validate()?;
        }
        self.lock_source(source)?;
        let shown = self.shown.clone();
        self.prepare_tables(tables).map_err(|e| with_url(e, &shown))
    }

    fn migrate(&mut self, migrations: &[Migration]) -> Result<()> {
        let shown = self.shown.clone();
        let client = self.client()?;
        for m in migrations {
            let mut tx = client.transaction().map_err(|e| pg(e, &shown))?;
            tx.execute(
                "SELECT pg_advisory_xact_lock($1, hashtext('ddl'))",
                &[&LOCK_NAMESPACE],
            )
            .map_err(|e| pg(e, &shown))?;
            let done = tx
                .query_opt(
                    "SELECT value FROM _ci_sync_meta WHERE key = $1",
                    &[&m.meta_key()],
                )
                .map_err(|e| pg(e, &shown))?
                .is_some();
            if done {
                continue;
            }
            for sql in &m.statements {
                tx.batch_execute(sql)
                    .map_err(|e| Error::Schema(format!("migration `{}`: `{sql}`: {e}", m.name)))?;
            }
            tx.execute(
                "INSERT INTO _ci_sync_meta (key, value) VALUES ($1, $2)",
                &[&m.meta_key(), &format_timestamp(now_ms())],
            )
            .map_err(|e| pg(e, &shown))?;
            tx.commit().map_err(|e| pg(e, &shown))?;
            tracing::info!(migration = %m.name, "migrated");
        }
        Ok(())
    }

    fn load_state(&mut self, source: &str) -> Result<State> {
        let shown = self.shown.clone();
        let rows = self
            .client()?
            .query(
                &format!("SELECT partition, state::text FROM {STATE_TABLE} WHERE source = $1"),
                &[&source],
            )
            .map_err(|e| pg(e, &shown))?;
        state_from_rows(rows.iter().map(|row| (row.get(0), row.get(1))))
    }

    fn write(&mut self, source: &str, batch: &[Operation]) -> Result<WriteStats> {
        let shown = self.shown.clone();
        let tables = std::mem::take(&mut self.tables);
        let mut abort = self.abort_after_statements.take();
        let result = (|| -> Result<WriteStats> {
            let client = self.client()?;
            let mut tx = client.transaction().map_err(|e| pg(e, &shown))?;
            let mut stats = WriteStats::default();
            // Upserts wait, grouped by table, until a soft delete (which may concern them) or the
            // end: a job's builds, artifacts and stages become three multi-row statements, not
            // three per build. Rows of one key keep their order (the last one wins).
            let mut pending: Vec<(&str, Vec<&Record>)> = Vec::new();
            let flush = |tx: &mut postgres::Transaction<'_>,
                         pending: &mut Vec<(&str, Vec<&Record>)>,
                         stats: &mut WriteStats,
                         abort: &mut Option<u64>|
             -> Result<()> {
                for (table, run) in pending.drain(..) {
                    count_statement(abort);
                    let t = tables.get(table).ok_or_else(|| {
                        Error::Record(format!("table `{table}` was not prepared"))
                    })?;
                    if let Some(bad) = run.iter().find(|r| r.values.len() != t.casts.len()) {
                        return Err(Error::Record(format!(
                            "a `{}` record has {} values for {} columns",
                            bad.table,
                            bad.values.len(),
                            t.casts.len()
                        )));
                    }
                    let (changed, unchanged) =
                        Self::upsert(tx, t, &run).map_err(|e| pg(e, &shown))?;
                    let counts = stats.tables.entry(table.to_owned()).or_default();
                    counts.upserted += changed;
                    counts.unchanged += unchanged;
                }
                Ok(())
            };
            for op in batch {
                match op {
                    Operation::Upsert(record) => {
                        match pending.iter_mut().find(|(t, _)| *t == &*record.table) {
                            Some((_, run)) => run.push(record),
                            None => pending.push((&record.table, vec![record])),
                        }
                        continue;
                    }
                    Operation::SoftDelete { .. } | Operation::SoftDeleteWhere { .. } => {
                        flush(&mut tx, &mut pending, &mut stats, &mut abort)?;
                    }
                    Operation::Checkpoint(_) => {}
                    // Reports are the engine's; nothing to write.
                    Operation::Report(_) => continue,
                }
                count_statement(&mut abort);
                match op {
                    Operation::Upsert(_) | Operation::Report(_) => {}
                    Operation::SoftDelete { table, key, at_ms } => {
                        let t = tables.get(&**table).ok_or_else(|| {
                            Error::Record(format!("table `{table}` was not prepared"))
                        })?;
                        let matching: Vec<(std::sync::Arc<str>, Value)> = t
                            .schema
                            .primary_key
                            .iter()
                            .map(|k| std::sync::Arc::from(k.as_str()))
                            .zip(key.iter().cloned())
                            .collect();
                        let changed = soft_delete(&mut tx, t, table, &matching, *at_ms, &shown)?;
                        stats.tables.entry(table.to_string()).or_default().deleted += changed;
                    }
                    Operation::SoftDeleteWhere {
                        table,
                        matching,
                        at_ms,
                    } => {
                        let t = tables.get(&**table).ok_or_else(|| {
                            Error::Record(format!("table `{table}` was not prepared"))
                        })?;
                        let changed = soft_delete(&mut tx, t, table, matching, *at_ms, &shown)?;
                        stats.tables.entry(table.to_string()).or_default().deleted += changed;
                    }
                    Operation::Checkpoint(cp) => {
                        let changed = tx
                            .execute(
                                &format!(
                                    "INSERT INTO {STATE_TABLE} AS s (source, partition, state, non_final, updated_at) \
                                     VALUES ($1, $2, $3::text::jsonb, $4, now()) \
                                     ON CONFLICT (source, partition) DO UPDATE SET state = excluded.state, \
                                     non_final = excluded.non_final, updated_at = excluded.updated_at \
                                     WHERE s.state IS DISTINCT FROM excluded.state OR s.non_final IS DISTINCT FROM excluded.non_final"
                                ),
                                &[&source, &cp.partition, &cp.state.to_string(), &(cp.non_final as i64)],
                            )
                            .map_err(|e| pg(e, &shown))?;
                        stats.checkpoints += changed;
                    }
                }
            }
            flush(&mut tx, &mut pending, &mut stats, &mut abort)?;
            tx.commit().map_err(|e| pg(e, &shown))?;
            Ok(stats)
        })();
        self.tables = tables;
        self.abort_after_statements = abort;
        result
    }

    fn describe(&self) -> String {
        self.shown.clone()
    }

    fn dialect(&self) -> Option<crate::views::Dialect> {
        Some(crate::views::Dialect::Postgres)
    }

    fn table_names(&mut self) -> Result<Vec<String>> {
        let shown = self.shown.clone();
        let rows = self
            .client()?
            .query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
                &[],
            )
            .map_err(|e| pg(e, &shown))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn execute_ddl(&mut self, statements: &[String]) -> Result<()> {
        let shown = self.shown.clone();
        let mut tx = self.client()?.transaction().map_err(|e| pg(e, &shown))?;
        // One process at a time replaces the views (two `ci-sync run` may end together).
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext('ddl'))",
            &[&LOCK_NAMESPACE],
        )
        .map_err(|e| pg(e, &shown))?;
        for sql in statements {
            tx.batch_execute(sql)
                .map_err(|e| Error::Schema(format!("`{sql}`: {e}")))?;
        }
        tx.commit().map_err(|e| pg(e, &shown))
    }

    fn query(&mut self, sql: &str) -> Result<Vec<Vec<Value>>> {
        use postgres::types::Type;
        let shown = self.shown.clone();
        let rows = self.client()?.query(sql, &[]).map_err(|e| pg(e, &shown))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut values = Vec::with_capacity(row.len());
            for (i, column) in row.columns().iter().enumerate() {
                let ty = column.type_();
                let value = if *ty == Type::BOOL {
                    row.try_get::<_, Option<bool>>(i)
                        .map(|v| v.map(Value::Boolean))
                } else if *ty == Type::INT2 {
                    row.try_get::<_, Option<i16>>(i)
                        .map(|v| v.map(|n| Value::Integer(n.into())))
                } else if *ty == Type::INT4 {
                    row.try_get::<_, Option<i32>>(i)
                        .map(|v| v.map(|n| Value::Integer(n.into())))
                } else if *ty == Type::INT8 {
                    row.try_get::<_, Option<i64>>(i)
                        .map(|v| v.map(Value::Integer))
                } else if *ty == Type::FLOAT4 {
                    row.try_get::<_, Option<f32>>(i)
                        .map(|v| v.map(|x| Value::Real(x.into())))
                } else if *ty == Type::FLOAT8 {
                    row.try_get::<_, Option<f64>>(i).map(|v| v.map(Value::Real))
                } else if *ty == Type::TIMESTAMPTZ || *ty == Type::TIMESTAMP {
                    row.try_get::<_, Option<std::time::SystemTime>>(i)
                        .map(|v| v.map(|t| Value::Timestamp(system_time_ms(t))))
                } else {
                    // Text and anything that decodes as text; other types need a cast in the
                    // query (`CAST(x AS text)`, `CAST(x AS double precision)`).
                    row.try_get::<_, Option<String>>(i)
                        .map(|v| v.map(Value::Text))
                };
                let value = value.map_err(|e| {
                    Error::Schema(format!(
                        "column `{}` of type {ty}: {e} (cast it in the query)",
                        column.name()
                    ))
                })?;
                values.push(value.unwrap_or(Value::Null));
            }
            out.push(values);
        }
        Ok(out)
    }
}

fn system_time_ms(t: std::time::SystemTime) -> i64 {
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// Sets the soft-delete column of `table`'s rows that hold `matching`'s values (a primary key,
/// or the columns of `SoftDeleteWhere`) and are not marked yet; returns how many it marked.
fn soft_delete(
    tx: &mut postgres::Transaction<'_>,
    t: &TableSql,
    table: &str,
    matching: &[(std::sync::Arc<str>, Value)],
    at_ms: i64,
    shown: &str,
) -> Result<u64> {
    let sd = soft_delete_column(t, table)?;
    let conditions = match_conditions(&t.schema, matching, |n| {
        format!("${}{}", n + 2, cast(column_type(t, &matching[n].0)))
    })?;
    let sql = format!(
        "UPDATE {} SET {q} = $1::text::timestamptz WHERE {conditions} AND {q} IS NULL",
        quote(table),
        q = quote(sd)
    );
    let mut params = vec![Some(format_timestamp(at_ms))];
    params.extend(matching.iter().map(|(_, v)| as_text(v)));
    let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params
        .iter()
        .map(|p| p as &(dyn postgres::types::ToSql + Sync))
        .collect();
    tx.execute(sql.as_str(), &refs).map_err(|e| pg(e, shown))
}

/// Fault injection for crash tests: aborts the process when the count of statements left is 0.
fn count_statement(left: &mut Option<u64>) {
    if let Some(left) = left.as_mut() {
        if *left == 0 {
            std::process::abort();
        }
        *left -= 1;
    }
}

fn soft_delete_column<'a>(t: &'a TableSql, table: &str) -> Result<&'a str> {
    t.schema
        .soft_delete
        .as_deref()
        .ok_or_else(|| Error::Record(format!("table `{table}` has no soft-delete column")))
}

fn column_type(t: &TableSql, name: &str) -> ColumnType {
    t.schema
        .columns
        .iter()
        .find(|c| c.name == name)
        .map_or(ColumnType::Text, |c| c.ty)
}

fn pg(e: postgres::Error, url: &str) -> Error {
    Error::Postgres {
        url: url.to_owned(),
        source: e,
    }
}

fn with_url(e: Error, url: &str) -> Error {
    match e {
        Error::Postgres { url: u, source } if u.is_empty() => Error::Postgres {
            url: url.to_owned(),
            source,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_characters_become_replacement_characters() {
        let text = as_text(&Value::Text("a\0b".into())).unwrap();
        assert_eq!(text, "a\u{fffd}b");
        let json = serde_json::json!({"log": "a\0b", "path": "C:\\u0000"}).to_string();
        let safe = without_nul_escapes(&json);
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["log"], "a\u{fffd}b");
        assert_eq!(back["path"], "C:\\u0000", "an escaped backslash is kept");
    }

    #[test]
    fn sslrootcert_is_taken_out_of_the_url() {
        assert_eq!(
            take_query_param(
                "postgres://h/db?sslmode=require&sslrootcert=%2Ftmp%2Fca.pem",
                "sslrootcert"
            ),
            (
                "postgres://h/db?sslmode=require".to_owned(),
                Some("/tmp/ca.pem".to_owned())
            )
        );
        assert_eq!(
            take_query_param("postgres://h/db?sslrootcert=ca.pem", "sslrootcert"),
            ("postgres://h/db".to_owned(), Some("ca.pem".to_owned()))
        );
        assert_eq!(
            take_query_param("postgres://h/db", "sslrootcert"),
            ("postgres://h/db".to_owned(), None)
        );
    }

    #[test]
    fn urls_are_shown_without_password_or_options() {
        assert_eq!(
            redacted_url("postgres://alice:s3cr@t/x@db.example.com:5432/ci?sslmode=require"),
            "postgres://alice@db.example.com:5432/ci"
        );
        assert_eq!(redacted_url("postgres://db/ci"), "postgres://db/ci");
        let err = PostgresDestination::new("postgres://alice:pw@host:notaport/db").unwrap_err();
        assert!(!err.to_string().contains("pw"), "{err}");
    }

    #[test]
    fn upserts_compare_every_column_but_the_volatile_ones() {
        let t = TableSchema::new("t")
            .column("id", ColumnType::Text)
            .column("v", ColumnType::Json)
            .volatile_column("synced_at", ColumnType::Timestamp)
            .primary_key(["id"]);
        let sql = table_sql(&t);
        assert_eq!(
            sql.casts,
            ["::text", "::text::jsonb", "::text::timestamptz"]
        );
        assert!(
            sql.conflict_tail
                .ends_with("WHERE (\"t\".\"v\") IS DISTINCT FROM (excluded.\"v\")"),
            "{}",
            sql.conflict_tail
        );
        assert!(
            sql.conflict_tail
                .contains("\"synced_at\" = excluded.\"synced_at\"")
        );
    }
}
