//! The SQL the backend speaks, kept to what PostgreSQL-compatible distributed engines also
//! run (CockroachDB, YugabyteDB, Citus): `BYTEA PRIMARY KEY` tables, `INSERT … SELECT FROM
//! UNNEST … ON CONFLICT DO UPDATE`, `= ANY($1)`, ordered range reads with `LIMIT`, plain
//! transactions. Statements are prepared once per connection (a new connection prepares
//! them again), so a read is one bind-and-execute round trip.

use std::collections::HashMap;
use std::sync::Arc;

use tokio_postgres::types::{ToSql, Type};

use super::conn::Conn;
use crate::{Key, KeyRange, Value};

/// The table holding [`crate::META_NAMESPACE`]: schema version, store id, namespace registry.
pub(crate) const META_TABLE: &str = "aurum_meta";

/// The table of a namespace: `kv_` + a readable part + a hash of the full name, so any
/// namespace name maps to a short, safe, distinct identifier.
pub(crate) fn table_name(ns: &str) -> String {
    let mut name = String::from("kv_");
    for c in ns.chars().take(40) {
        name.push(if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' });
    }
    // FNV-1a: stable across builds and platforms (the name is stored data).
    let mut hash: u32 = 0x811c_9dc5;
    for b in ns.as_bytes() {
        hash = (hash ^ u32::from(*b)).wrapping_mul(0x0100_0193);
    }
    name.push_str(&format!("_{hash:08x}"));
    name
}

pub(crate) fn create_table(table: &str) -> String {
    format!("CREATE TABLE IF NOT EXISTS \"{table}\" (k BYTEA PRIMARY KEY, v BYTEA NOT NULL)")
}

/// One read, against the live database or inside a snapshot's transaction.
#[derive(Debug, Clone)]
pub(crate) enum Read {
    Get(Key),
    Multi(Vec<Key>),
    Scan { range: KeyRange, reverse: bool, limit: usize },
    Last { key: Key, floor: Key },
}

pub(crate) enum Answer {
    One(Option<Value>),
    Many(Vec<Option<Value>>),
    Entries(Vec<(Key, Value)>),
    Entry(Option<(Key, Value)>),
}

pub(crate) async fn read(
    client: Arc<Conn>,
    table: String,
    req: Read,
) -> Result<Answer, tokio_postgres::Error> {
    let t = &table;
    let bytea = Type::BYTEA;
    match req {
        Read::Get(key) => {
            let st =
                client.statement(&format!("SELECT v FROM \"{t}\" WHERE k = $1"), &[bytea]).await?;
            let rows = client.query(&st, &[&key]).await?;
            Ok(Answer::One(match rows.first() {
                Some(row) => Some(row.try_get(0)?),
                None => None,
            }))
        }
        Read::Multi(keys) => {
            if keys.is_empty() {
                return Ok(Answer::Many(Vec::new()));
            }
            let sql = format!("SELECT k, v FROM \"{t}\" WHERE k = ANY($1)");
            let st = client.statement(&sql, &[Type::BYTEA_ARRAY]).await?;
            let rows = client.query(&st, &[&keys]).await?;
            let mut found: HashMap<Key, Value> = HashMap::with_capacity(rows.len());
            for row in rows {
                found.insert(row.try_get(0)?, row.try_get(1)?);
            }
            Ok(Answer::Many(keys.iter().map(|k| found.get(k).cloned()).collect()))
        }
        Read::Scan { range, reverse, limit } => {
            let order = if reverse { "DESC" } else { "ASC" };
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let mut sql = format!("SELECT k, v FROM \"{t}\" WHERE k >= $1");
            let mut types = vec![Type::BYTEA];
            let mut params: Vec<&(dyn ToSql + Sync)> = vec![&range.lower];
            if let Some(upper) = &range.upper {
                sql.push_str(&format!(" AND k < ${}", params.len() + 1));
                types.push(Type::BYTEA);
                params.push(upper);
            }
            sql.push_str(&format!(" ORDER BY k {order}"));
            if limit > 0 {
                sql.push_str(&format!(" LIMIT ${}", params.len() + 1));
                types.push(Type::INT8);
                params.push(&limit);
            }
            let st = client.statement(&sql, &types).await?;
            let rows = client.query(&st, &params).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push((row.try_get(0)?, row.try_get(1)?));
            }
            Ok(Answer::Entries(out))
        }
        Read::Last { key, floor } => {
            let sql = format!(
                "SELECT k, v FROM \"{t}\" WHERE k <= $1 AND k >= $2 ORDER BY k DESC LIMIT 1"
            );
            let st = client.statement(&sql, &[bytea.clone(), bytea]).await?;
            let rows = client.query(&st, &[&key, &floor]).await?;
            Ok(Answer::Entry(match rows.first() {
                Some(row) => Some((row.try_get(0)?, row.try_get(1)?)),
                None => None,
            }))
        }
    }
}

/// The net effect of a batch on one table: keys to upsert with their values, keys to delete
/// (disjoint: the last op on a key decided which).
#[derive(Debug, Default)]
pub(crate) struct TableWrites {
    pub table: String,
    pub put_keys: Vec<Key>,
    pub put_values: Vec<Value>,
    pub deletes: Vec<Key>,
}

/// Applies every table's writes in one transaction: `BEGIN`, then all statements pipelined
/// (one round trip), then `COMMIT`. Re-running it after an unknown outcome gives the same
/// state: upserts and deletes are idempotent.
pub(crate) async fn apply(
    client: Arc<Conn>,
    writes: Arc<Vec<TableWrites>>,
    durable: bool,
) -> Result<(), tokio_postgres::Error> {
    // A store opened with `sync = false` turns synchronous_commit off for its session; a
    // durable batch turns it back on for its own transaction.
    let begin = if durable { "BEGIN; SET LOCAL synchronous_commit = on" } else { "BEGIN" };
    client.batch_execute(begin).await?;
    let mut statements = Vec::new();
    for w in writes.iter() {
        let t = &w.table;
        if !w.put_keys.is_empty() {
            let sql = format!(
                "INSERT INTO \"{t}\" (k, v) SELECT * FROM UNNEST($1::BYTEA[], $2::BYTEA[]) \
                 ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"
            );
            statements.push((sql, &w.put_keys, Some(&w.put_values)));
        }
        if !w.deletes.is_empty() {
            statements.push((format!("DELETE FROM \"{t}\" WHERE k = ANY($1)"), &w.deletes, None));
        }
    }
    let pending = statements.iter().map(|(sql, keys, values)| {
        let client = &client;
        async move {
            match values {
                Some(values) => {
                    let types = [Type::BYTEA_ARRAY, Type::BYTEA_ARRAY];
                    let st = client.statement(sql, &types).await?;
                    client.execute(&st, &[*keys, *values]).await
                }
                None => {
                    let st = client.statement(sql, &[Type::BYTEA_ARRAY]).await?;
                    client.execute(&st, &[*keys]).await
                }
            }
        }
    });
    let results = futures_util::future::join_all(pending).await;
    if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
        // The transaction is aborted; end it so the connection can be reused.
        let _ = client.batch_execute("ROLLBACK").await;
        return Err(e);
    }
    client.batch_execute("COMMIT").await
}
