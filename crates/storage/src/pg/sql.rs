//! The SQL the backend speaks, kept to what PostgreSQL-compatible distributed engines also
//! run (CockroachDB, YugabyteDB, Citus): `BYTEA PRIMARY KEY` tables, `INSERT … SELECT FROM
//! UNNEST … ON CONFLICT DO UPDATE`, `= ANY($1)`, ordered range reads with `LIMIT`, plain
//! transactions. Every statement is sent with typed parameters in one round trip (parse,
//! bind and execute together), so there is no prepared-statement state to lose on reconnect.

use std::collections::HashMap;
use std::sync::Arc;

use tokio_postgres::Client;
use tokio_postgres::types::{ToSql, Type};

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
    client: Arc<Client>,
    table: String,
    req: Read,
) -> Result<Answer, tokio_postgres::Error> {
    let t = &table;
    match req {
        Read::Get(key) => {
            let sql = format!("SELECT v FROM \"{t}\" WHERE k = $1");
            let rows = client.query_typed(&sql, &[(&key, Type::BYTEA)]).await?;
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
            let rows = client.query_typed(&sql, &[(&keys, Type::BYTEA_ARRAY)]).await?;
            let mut found: HashMap<Key, Value> = HashMap::with_capacity(rows.len());
            for row in rows {
                found.insert(row.try_get(0)?, row.try_get(1)?);
            }
            Ok(Answer::Many(keys.iter().map(|k| found.get(k).cloned()).collect()))
        }
        Read::Scan { range, reverse, limit } => {
            let order = if reverse { "DESC" } else { "ASC" };
            let limit = if limit == 0 { String::new() } else { format!(" LIMIT {limit}") };
            let rows = match &range.upper {
                Some(upper) => {
                    let sql = format!(
                        "SELECT k, v FROM \"{t}\" WHERE k >= $1 AND k < $2 ORDER BY k {order}{limit}"
                    );
                    let params: [(&(dyn ToSql + Sync), Type); 2] =
                        [(&range.lower, Type::BYTEA), (upper, Type::BYTEA)];
                    client.query_typed(&sql, &params).await?
                }
                None => {
                    let sql =
                        format!("SELECT k, v FROM \"{t}\" WHERE k >= $1 ORDER BY k {order}{limit}");
                    client.query_typed(&sql, &[(&range.lower, Type::BYTEA)]).await?
                }
            };
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
            let params: [(&(dyn ToSql + Sync), Type); 2] =
                [(&key, Type::BYTEA), (&floor, Type::BYTEA)];
            let rows = client.query_typed(&sql, &params).await?;
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
    client: Arc<Client>,
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
                    let params: [(&(dyn ToSql + Sync), Type); 2] =
                        [(*keys, Type::BYTEA_ARRAY), (*values, Type::BYTEA_ARRAY)];
                    client.execute_typed(sql, &params).await
                }
                None => client.execute_typed(sql, &[(*keys, Type::BYTEA_ARRAY)]).await,
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
