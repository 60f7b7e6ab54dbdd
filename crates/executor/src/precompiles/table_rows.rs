//! Rows of a table: key encoding (lexicographic, or numerical keys stored so that byte
//! order is numeric order), row values, and condition matching.

use super::abi::{Condition, ConditionV1, Limit};
use super::call::{PcCall, PcError, PcResult};
use super::table_manager::{ORDER_NUMERICAL, TableMeta};
use aurum_primitives::state::{table_row_key, table_rows_prefix};
use std::cmp::Ordering;

pub const CODE_TABLE_KEY_VALUE_LENGTH_OVERFLOW: i32 = -50005;
pub const CODE_TABLE_FIELD_VALUE_LENGTH_OVERFLOW: i32 = -50006;
pub const CODE_INSERT_KEY_EXIST: i32 = -51506;
pub const CODE_UPDATE_KEY_NOT_EXIST: i32 = -51507;
pub const CODE_REMOVE_KEY_NOT_EXIST: i32 = -51508;

/// Longest key (bytes). FISCO BCOS 3.x allows 255, enough for hex hashes as keys.
pub const MAX_KEY_LEN: usize = 255;
/// Largest single field value.
pub const MAX_VALUE_LEN: usize = 16 * 1024 * 1024;
/// Largest `Limit.count`: at most this many rows are materialised by one select.
pub const MAX_LIMIT_COUNT: u32 = 500;
/// Most bytes (keys and values) of the rows one select, update or remove by conditions
/// materialises; past it the call reverts saying how to page. A row larger than this is
/// still read whole by key (`select(string)`).
pub const MAX_SELECT_BYTES: usize = 4 * 1024 * 1024;

/// Condition operators, in ABI order.
pub const GT: u8 = 0;
pub const GE: u8 = 1;
pub const LT: u8 = 2;
pub const LE: u8 = 3;
pub const EQ: u8 = 4;
pub const NE: u8 = 5;
pub const STARTS_WITH: u8 = 6;
pub const ENDS_WITH: u8 = 7;
pub const CONTAINS: u8 = 8;

/// An opened table.
pub(crate) struct Table {
    pub path: String,
    pub meta: TableMeta,
}

/// A row as the ABI shows it.
pub(crate) struct Row {
    pub key: String,
    pub fields: Vec<String>,
}

impl Row {
    /// Bytes of key and values.
    fn size(&self) -> usize {
        self.fields.iter().fold(self.key.len(), |n, f| n.saturating_add(f.len()))
    }
}

/// A compiled condition: column index (0 = key, i = value column i-1), operator, operand.
struct Cond {
    column: usize,
    op: u8,
    value: String,
}

impl Table {
    fn numerical(&self) -> bool {
        self.meta.key_order == ORDER_NUMERICAL
    }

    /// The stored row key for a user key. Numerical keys must be canonical int64 decimals.
    pub(crate) fn encode_key(&self, key: &str) -> PcResult<Result<Vec<u8>, i32>> {
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return Ok(Err(CODE_TABLE_KEY_VALUE_LENGTH_OVERFLOW));
        }
        if !self.numerical() {
            return Ok(Ok(key.as_bytes().to_vec()));
        }
        match parse_i64(key) {
            Some(n) => Ok(Ok(((n as u64) ^ (1 << 63)).to_be_bytes().to_vec())),
            None => Err(PcError::input(format!("the key {key:?} cannot be converted to an int64"))),
        }
    }

    fn decode_key(&self, stored: &[u8]) -> PcResult<String> {
        if self.numerical() {
            let bytes: [u8; 8] = stored.try_into().map_err(|_| corrupt(&self.path))?;
            Ok(((u64::from_be_bytes(bytes) ^ (1 << 63)) as i64).to_string())
        } else {
            String::from_utf8(stored.to_vec()).map_err(|_| corrupt(&self.path))
        }
    }

    fn decode_fields(&self, bytes: &[u8]) -> PcResult<Vec<String>> {
        let mut fields: Vec<String> =
            alloy_rlp::Decodable::decode(&mut &bytes[..]).map_err(|_| corrupt(&self.path))?;
        // Columns appended after a row was written read as empty.
        fields.resize(self.meta.value_columns.len().max(fields.len()), String::new());
        Ok(fields)
    }

    pub(crate) fn get(
        &self,
        call: &mut PcCall<'_, '_>,
        key: &[u8],
    ) -> PcResult<Option<Vec<String>>> {
        match call.get(&table_row_key(&self.path, key))? {
            None => Ok(None),
            Some(bytes) => self.decode_fields(&bytes).map(Some),
        }
    }

    /// Writes a row; returns an error code if a value is too long.
    pub(crate) fn put(
        &self,
        call: &mut PcCall<'_, '_>,
        key: &[u8],
        fields: &[String],
    ) -> PcResult<Option<i32>> {
        if fields.iter().any(|f| f.len() > MAX_VALUE_LEN) {
            return Ok(Some(CODE_TABLE_FIELD_VALUE_LENGTH_OVERFLOW));
        }
        let mut encoded = Vec::new();
        alloy_rlp::encode_list::<String, String>(fields, &mut encoded);
        call.put(table_row_key(&self.path, key), Some(encoded))?;
        Ok(None)
    }

    pub(crate) fn delete(&self, call: &mut PcCall<'_, '_>, key: &[u8]) -> PcResult<()> {
        call.put(table_row_key(&self.path, key), None)
    }

    /// Rows matching all conditions (none = every row) in key order, after `limit`.
    /// Returns stored keys with the rows.
    pub(crate) fn select(
        &self,
        call: &mut PcCall<'_, '_>,
        conds: &[Condition],
        limit: Option<&Limit>,
    ) -> PcResult<Vec<(Vec<u8>, Row)>> {
        let compiled = conds
            .iter()
            .map(|c| self.compile(c.op, &c.field, &c.value))
            .collect::<PcResult<Vec<_>>>()?;
        self.select_compiled(call, &compiled, limit)
    }

    /// 3.0/3.1 conditions: GT/GE/LT/LE on the key.
    pub(crate) fn select_v1(
        &self,
        call: &mut PcCall<'_, '_>,
        conds: &[ConditionV1],
        limit: Option<&Limit>,
    ) -> PcResult<Vec<(Vec<u8>, Row)>> {
        let compiled = Self::compile_v1(conds)?;
        self.select_compiled(call, &compiled, limit)
    }

    fn compile_v1(conds: &[ConditionV1]) -> PcResult<Vec<Cond>> {
        conds
            .iter()
            .map(|c| {
                if c.op > LE {
                    return Err(PcError::input(format!(
                        "condition operator {} does not exist",
                        c.op
                    )));
                }
                Ok(Cond { column: 0, op: c.op, value: c.value.clone() })
            })
            .collect()
    }

    fn compile(&self, op: u8, field: &str, value: &str) -> PcResult<Cond> {
        if op > CONTAINS {
            return Err(PcError::input(format!("condition operator {op} does not exist")));
        }
        let column = if field == self.meta.key_column {
            0
        } else {
            self.meta.value_columns.iter().position(|c| c == field).map(|i| i + 1).ok_or_else(
                || PcError::input(format!("condition field {field:?} is not a column")),
            )?
        };
        if column == 0 && self.numerical() && op <= NE && parse_i64(value).is_none() {
            return Err(PcError::input(format!(
                "the key {value:?} cannot be converted to an int64"
            )));
        }
        Ok(Cond { column, op, value: value.to_string() })
    }

    fn select_compiled(
        &self,
        call: &mut PcCall<'_, '_>,
        conds: &[Cond],
        limit: Option<&Limit>,
    ) -> PcResult<Vec<(Vec<u8>, Row)>> {
        let (offset, count) = match limit {
            Some(l) => {
                if l.count > MAX_LIMIT_COUNT || l.offset.checked_add(l.count).is_none() {
                    return Err(PcError::input(format!(
                        "limit overflow: count must be at most {MAX_LIMIT_COUNT}"
                    )));
                }
                (l.offset as usize, l.count as usize)
            }
            None => (0, usize::MAX),
        };
        let mut out = Vec::new();
        let mut matched = 0usize;
        let mut bytes = 0usize;
        self.scan_matching(call, conds, |row_key, row| {
            if out.len() >= count {
                return Ok(false);
            }
            if matched >= offset {
                bytes = bytes.saturating_add(row.size());
                if bytes > MAX_SELECT_BYTES {
                    return Err(PcError::input(format!(
                        "Table {}: the selected rows exceed {MAX_SELECT_BYTES} bytes after {} \
                         rows; select fewer rows per call (a smaller Limit.count, then the \
                         next offset) or read large rows by key",
                        self.path,
                        out.len()
                    )));
                }
                out.push((row_key, row));
            }
            matched += 1;
            Ok(out.len() < count)
        })?;
        Ok(out)
    }

    /// How many rows match all conditions; no row is kept.
    pub(crate) fn count(&self, call: &mut PcCall<'_, '_>, conds: &[Condition]) -> PcResult<usize> {
        let compiled = conds
            .iter()
            .map(|c| self.compile(c.op, &c.field, &c.value))
            .collect::<PcResult<Vec<_>>>()?;
        self.count_compiled(call, &compiled)
    }

    /// [`Table::count`] with 3.0/3.1 conditions.
    pub(crate) fn count_v1(
        &self,
        call: &mut PcCall<'_, '_>,
        conds: &[ConditionV1],
    ) -> PcResult<usize> {
        self.count_compiled(call, &Self::compile_v1(conds)?)
    }

    fn count_compiled(&self, call: &mut PcCall<'_, '_>, compiled: &[Cond]) -> PcResult<usize> {
        let mut n = 0usize;
        self.scan_matching(call, compiled, |_, _| {
            n += 1;
            Ok(true)
        })?;
        Ok(n)
    }

    /// Streams the table's rows in key order, handing each one matching all `conds` to
    /// `on_match` until it returns false.
    fn scan_matching(
        &self,
        call: &mut PcCall<'_, '_>,
        conds: &[Cond],
        mut on_match: impl FnMut(Vec<u8>, Row) -> PcResult<bool>,
    ) -> PcResult<()> {
        let prefix = table_rows_prefix(&self.path);
        call.scan_with(&prefix, |stored_key, bytes| {
            let row_key = stored_key.get(prefix.len()..).unwrap_or_default().to_vec();
            let row = Row { key: self.decode_key(&row_key)?, fields: self.decode_fields(bytes)? };
            if conds.iter().all(|c| self.matches(c, &row)) {
                on_match(row_key, row)
            } else {
                Ok(true)
            }
        })
    }

    fn matches(&self, c: &Cond, row: &Row) -> bool {
        let target = match c.column {
            0 => row.key.as_str(),
            i => row.fields.get(i - 1).map_or("", String::as_str),
        };
        let ordering = || {
            if c.column == 0 && !self.numerical() {
                return target.as_bytes().cmp(c.value.as_bytes());
            }
            match (parse_i64(target), parse_i64(&c.value)) {
                (Some(a), Some(b)) => a.cmp(&b),
                _ => target.as_bytes().cmp(c.value.as_bytes()),
            }
        };
        match c.op {
            GT => ordering() == Ordering::Greater,
            GE => ordering() != Ordering::Less,
            LT => ordering() == Ordering::Less,
            LE => ordering() != Ordering::Greater,
            EQ => ordering() == Ordering::Equal,
            NE => ordering() != Ordering::Equal,
            STARTS_WITH => target.starts_with(c.value.as_str()),
            ENDS_WITH => target.ends_with(c.value.as_str()),
            CONTAINS => target.contains(c.value.as_str()),
            _ => false,
        }
    }
}

/// A canonical int64 decimal (what `to_string` would print).
fn parse_i64(s: &str) -> Option<i64> {
    let n: i64 = s.parse().ok()?;
    (n.to_string() == s).then_some(n)
}

fn corrupt(path: &str) -> PcError {
    PcError::Db(aurum_primitives::StateError(format!("a row of table {path} is unreadable")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(order: u8) -> Table {
        Table {
            path: "/tables/t".into(),
            meta: TableMeta {
                kind: 0,
                key_order: order,
                key_column: "k".into(),
                value_columns: vec!["v".into()],
            },
        }
    }

    fn key(t: &Table, k: &str) -> Vec<u8> {
        t.encode_key(k).expect("no revert").expect("no code")
    }

    #[test]
    fn numerical_keys_sort_numerically_and_round_trip() {
        let t = table(ORDER_NUMERICAL);
        let keys = ["-9223372036854775808", "-10", "-1", "0", "2", "10", "9223372036854775807"];
        let encoded: Vec<Vec<u8>> = keys.iter().map(|k| key(&t, k)).collect();
        assert!(encoded.windows(2).all(|w| w[0] < w[1]));
        for (k, e) in keys.iter().zip(&encoded) {
            assert_eq!(t.decode_key(e).expect("decodes"), *k);
        }
        for bad in ["01", "+1", "1.0", "x", "9223372036854775808"] {
            assert!(t.encode_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn key_length_limits() {
        let t = table(0);
        assert_eq!(t.encode_key("").expect("code"), Err(CODE_TABLE_KEY_VALUE_LENGTH_OVERFLOW));
        assert!(t.encode_key(&"a".repeat(MAX_KEY_LEN)).expect("ok").is_ok());
        assert_eq!(
            t.encode_key(&"a".repeat(MAX_KEY_LEN + 1)).expect("code"),
            Err(CODE_TABLE_KEY_VALUE_LENGTH_OVERFLOW)
        );
    }

    #[test]
    fn value_conditions_compare_numbers_as_numbers() {
        let t = table(0);
        let row = Row { key: "b".into(), fields: vec!["9".into()] };
        let cond = |op, column, value: &str| Cond { column, op, value: value.into() };
        assert!(t.matches(&cond(LT, 1, "10"), &row));
        assert!(t.matches(&cond(GT, 0, "a"), &row));
        assert!(t.matches(&cond(NE, 1, "09"), &row));
        assert!(t.matches(&cond(CONTAINS, 1, "9"), &row));
        assert!(!t.matches(&cond(STARTS_WITH, 0, "a"), &row));
    }
}
