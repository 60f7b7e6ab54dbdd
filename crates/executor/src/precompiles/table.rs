//! A table's own address (returned by `openTable`): the 3.x `Table` ABI (select, count,
//! insert, update, remove; by key and by conditions, 3.2 and 3.0/3.1 selectors) or, for a
//! table made by `createKVTable`, the `KVTable` ABI (get, set).

use super::abi::{Entry, IKVTable, ITable, UpdateField};
use super::call::{PcCall, PcError, PcResult};
use super::table_manager::{KIND_KV, load_meta, table_address_key};
use super::table_rows::{
    CODE_INSERT_KEY_EXIST, CODE_REMOVE_KEY_NOT_EXIST, CODE_UPDATE_KEY_NOT_EXIST, Row, Table,
};
use alloy_primitives::{Address, Bytes};
use alloy_sol_types::{SolCall, SolInterface};

/// Table addresses start with four zero bytes (see `table_address`); only such addresses
/// are looked up, so calls to ordinary contracts cost nothing extra.
pub(crate) fn may_be_table_address(address: &Address) -> bool {
    address[..4] == [0, 0, 0, 0]
}

/// The table at `address`, if one was created there.
pub(crate) fn resolve(call: &mut PcCall<'_, '_>, address: &Address) -> PcResult<Option<Table>> {
    let Some(path) = call.get(&table_address_key(address))? else { return Ok(None) };
    let path = String::from_utf8(path).map_err(|_| {
        PcError::Db(aurum_primitives::StateError(format!(
            "table address {address} maps to a non-UTF-8 path"
        )))
    })?;
    Ok(load_meta(call, &path)?.map(|meta| Table { path, meta }))
}

pub(crate) fn run(call: &mut PcCall<'_, '_>, table: Table, input: &[u8]) -> PcResult<Bytes> {
    call.charge_call(input.len())?;
    if table.meta.kind == KIND_KV {
        return run_kv(call, &table, input);
    }
    use ITable::ITableCalls as C;
    let decoded = C::abi_decode(input)
        .map_err(|e| PcError::input(format!("Table {}: bad call data: {e}", table.path)))?;
    let int32 = |v: i32| -> Bytes { ITable::insertCall::abi_encode_returns(&v).into() };
    let entries = |rows: Vec<(Vec<u8>, Row)>| -> Vec<Entry> {
        rows.into_iter().map(|(_, r)| Entry { key: r.key, fields: r.fields }).collect()
    };
    Ok(match decoded {
        C::select_0(c) => {
            let entry = match table.encode_key(&c.key)? {
                Ok(k) => match table.get(call, &k)? {
                    Some(fields) => Entry { key: c.key, fields },
                    None => Entry { key: String::new(), fields: vec![] },
                },
                Err(_) => Entry { key: String::new(), fields: vec![] },
            };
            ITable::select_0Call::abi_encode_returns(&entry).into()
        }
        C::select_1(c) => {
            let rows = table.select(call, &c.conditions, Some(&c.limit))?;
            ITable::select_1Call::abi_encode_returns(&entries(rows)).into()
        }
        C::select_2(c) => {
            let rows = table.select_v1(call, &c.conditions, Some(&c.limit))?;
            ITable::select_2Call::abi_encode_returns(&entries(rows)).into()
        }
        C::count_0(c) => {
            let n = table.count(call, &c.conditions)?;
            ITable::count_0Call::abi_encode_returns(&u32::try_from(n).unwrap_or(u32::MAX)).into()
        }
        C::count_1(c) => {
            let n = table.count_v1(call, &c.conditions)?;
            ITable::count_1Call::abi_encode_returns(&u32::try_from(n).unwrap_or(u32::MAX)).into()
        }
        C::insert(c) => int32(insert(call, &table, c.entry)?),
        C::update_0(c) => int32(update_key(call, &table, &c.key, &c.updateFields)?),
        C::update_1(c) => {
            let rows = table.select(call, &c.conditions, Some(&c.limit))?;
            int32(update_rows(call, &table, rows, &c.updateFields)?)
        }
        C::update_2(c) => {
            let rows = table.select_v1(call, &c.conditions, Some(&c.limit))?;
            int32(update_rows(call, &table, rows, &c.updateFields)?)
        }
        C::remove_0(c) => int32(remove_key(call, &table, &c.key)?),
        C::remove_1(c) => {
            let rows = table.select(call, &c.conditions, Some(&c.limit))?;
            int32(remove_rows(call, &table, rows)?)
        }
        C::remove_2(c) => {
            let rows = table.select_v1(call, &c.conditions, Some(&c.limit))?;
            int32(remove_rows(call, &table, rows)?)
        }
    })
}

fn insert(call: &mut PcCall<'_, '_>, table: &Table, entry: Entry) -> PcResult<i32> {
    call.require_write()?;
    if entry.fields.len() != table.meta.value_columns.len() {
        return Err(PcError::input(format!(
            "Table {}: insert has {} values for {} columns",
            table.path,
            entry.fields.len(),
            table.meta.value_columns.len()
        )));
    }
    let key = match table.encode_key(&entry.key)? {
        Ok(k) => k,
        Err(code) => return Ok(code),
    };
    if table.get(call, &key)?.is_some() {
        return Ok(CODE_INSERT_KEY_EXIST);
    }
    Ok(table.put(call, &key, &entry.fields)?.unwrap_or(1))
}

/// Applies update fields to a row's values.
fn apply(table: &Table, fields: &mut Vec<String>, updates: &[UpdateField]) -> PcResult<()> {
    for u in updates {
        if u.columnName == table.meta.key_column {
            return Err(PcError::input(format!(
                "Table {}: the key column cannot be updated",
                table.path
            )));
        }
        let Some(i) = table.meta.value_columns.iter().position(|c| *c == u.columnName) else {
            return Err(PcError::input(format!(
                "Table {}: {:?} is not a column",
                table.path, u.columnName
            )));
        };
        if fields.len() <= i {
            fields.resize(i + 1, String::new());
        }
        fields[i] = u.value.clone();
    }
    Ok(())
}

fn update_key(
    call: &mut PcCall<'_, '_>,
    table: &Table,
    key: &str,
    updates: &[UpdateField],
) -> PcResult<i32> {
    call.require_write()?;
    let key = match table.encode_key(key)? {
        Ok(k) => k,
        Err(code) => return Ok(code),
    };
    let Some(mut fields) = table.get(call, &key)? else { return Ok(CODE_UPDATE_KEY_NOT_EXIST) };
    apply(table, &mut fields, updates)?;
    Ok(table.put(call, &key, &fields)?.unwrap_or(1))
}

fn update_rows(
    call: &mut PcCall<'_, '_>,
    table: &Table,
    rows: Vec<(Vec<u8>, Row)>,
    updates: &[UpdateField],
) -> PcResult<i32> {
    call.require_write()?;
    let n = rows.len();
    for (key, mut row) in rows {
        apply(table, &mut row.fields, updates)?;
        if let Some(code) = table.put(call, &key, &row.fields)? {
            return Ok(code);
        }
    }
    Ok(i32::try_from(n).unwrap_or(i32::MAX))
}

fn remove_key(call: &mut PcCall<'_, '_>, table: &Table, key: &str) -> PcResult<i32> {
    call.require_write()?;
    let key = match table.encode_key(key)? {
        Ok(k) => k,
        Err(code) => return Ok(code),
    };
    if table.get(call, &key)?.is_none() {
        return Ok(CODE_REMOVE_KEY_NOT_EXIST);
    }
    table.delete(call, &key)?;
    Ok(1)
}

fn remove_rows(
    call: &mut PcCall<'_, '_>,
    table: &Table,
    rows: Vec<(Vec<u8>, Row)>,
) -> PcResult<i32> {
    call.require_write()?;
    let n = rows.len();
    for (key, _) in rows {
        table.delete(call, &key)?;
    }
    Ok(i32::try_from(n).unwrap_or(i32::MAX))
}

fn run_kv(call: &mut PcCall<'_, '_>, table: &Table, input: &[u8]) -> PcResult<Bytes> {
    let decoded = IKVTable::IKVTableCalls::abi_decode(input)
        .map_err(|e| PcError::input(format!("KVTable {}: bad call data: {e}", table.path)))?;
    Ok(match decoded {
        IKVTable::IKVTableCalls::get(c) => {
            let (found, value) = kv_get(call, table, &c.key)?;
            IKVTable::getCall::abi_encode_returns_tuple(&(found, value)).into()
        }
        IKVTable::IKVTableCalls::set(c) => {
            let code = kv_set(call, table, &c.key, c.value)?;
            IKVTable::setCall::abi_encode_returns(&code).into()
        }
    })
}

/// `(true, value)` if the key is set, else `(false, "")`.
pub(crate) fn kv_get(
    call: &mut PcCall<'_, '_>,
    table: &Table,
    key: &str,
) -> PcResult<(bool, String)> {
    let Ok(k) = table.encode_key(key)? else { return Ok((false, String::new())) };
    Ok(match table.get(call, &k)? {
        Some(mut fields) if !fields.is_empty() => (true, fields.swap_remove(0)),
        Some(_) => (true, String::new()),
        None => (false, String::new()),
    })
}

/// Sets a KV row; returns 1 or an error code.
pub(crate) fn kv_set(
    call: &mut PcCall<'_, '_>,
    table: &Table,
    key: &str,
    value: String,
) -> PcResult<i32> {
    call.require_write()?;
    let k = match table.encode_key(key)? {
        Ok(k) => k,
        Err(code) => return Ok(code),
    };
    Ok(table.put(call, &k, &[value])?.unwrap_or(1))
}
