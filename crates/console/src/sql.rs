//! Tables in SQL over the Table precompiles (TableManager 0x1002, and the table address that
//! `openTable` returns), in the reference console's dialect: the key column alone in WHERE,
//! `LIKE 'x%'` / `'%x'` / `'%x%'` as starts-with / ends-with / contains, a key typed integer
//! ordered numerically, unquoted words as strings. Parsing is sqlparser's; anything outside
//! the dialect is refused with the part named.

use crate::error::{CmdResult, CommandError};
use crate::{Console, Output};
use alloy_json_abi::JsonAbi;
use alloy_primitives::{Address, U256};
use aurum_sdk::{DynSolValue, parse_artifact};
use sqlparser::ast::{
    AlterTableOperation, AssignmentTarget, BinaryOperator, ColumnOption, CreateTable, DataType,
    Expr, FromTable, LimitClause, SelectItem, SetExpr, Statement, TableConstraint, TableFactor,
    TableObject, UnaryOperator, Value,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

const TABLE_MANAGER: Address =
    Address::new([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x02]);
const TABLE_MANAGER_ABI: &str = include_str!("../../../contracts/artifacts/ITableManager.json");
const TABLE_ABI: &str = include_str!("../../../contracts/artifacts/ITable.json");
/// The most rows one select/update/remove touches (the precompile's limit).
const MAX_ROWS: u32 = 500;

/// A condition operator code of the Table precompile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Gt = 0,
    Ge = 1,
    Lt = 2,
    Le = 3,
    Eq = 4,
    Ne = 5,
    StartsWith = 6,
    EndsWith = 7,
    Contains = 8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cond {
    pub op: Op,
    pub field: String,
    pub value: String,
}

/// One statement of the dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sql {
    Create {
        table: String,
        key: String,
        numeric_key: bool,
        columns: Vec<String>,
    },
    Alter {
        table: String,
        columns: Vec<String>,
    },
    Desc {
        table: String,
    },
    Insert {
        table: String,
        columns: Vec<String>,
        values: Vec<String>,
    },
    Select {
        table: String,
        columns: Option<Vec<String>>,
        conds: Vec<Cond>,
        offset: u32,
        count: u32,
    },
    Update {
        table: String,
        sets: Vec<(String, String)>,
        conds: Vec<Cond>,
        offset: u32,
        count: u32,
    },
    Delete {
        table: String,
        conds: Vec<Cond>,
        offset: u32,
        count: u32,
    },
}

fn unsupported(what: impl std::fmt::Display) -> CommandError {
    CommandError::new(format!("unsupported SQL: {what}"))
        .next("see help create / insert / select / update / delete for the dialect")
}

/// Parses one statement of the dialect.
pub fn parse(line: &str) -> CmdResult<Sql> {
    let line = line.trim().trim_end_matches(';');
    // sqlparser reads `desc t` as a DESCRIBE; reading it ourselves keeps the name exact.
    let mut words = line.split_whitespace();
    if words.next().is_some_and(|w| w.eq_ignore_ascii_case("desc")) {
        return match (words.next(), words.next()) {
            (Some(t), None) => Ok(Sql::Desc { table: t.to_owned() }),
            _ => Err(unsupported("desc takes one table name")),
        };
    }
    let mut statements = Parser::parse_sql(&GenericDialect {}, line).map_err(|e| {
        CommandError::new(format!("cannot parse the SQL: {e}"))
            .next("see help select (and create, insert, update, delete) for examples")
    })?;
    if statements.len() != 1 {
        return Err(unsupported("one statement at a time"));
    }
    match statements.remove(0) {
        Statement::CreateTable(c) => create(c),
        Statement::AlterTable(a) => {
            let mut columns = Vec::new();
            for op in a.operations {
                match op {
                    AlterTableOperation::AddColumn { column_def, .. } => {
                        columns.push(column_def.name.value)
                    }
                    other => return Err(unsupported(format!("ALTER TABLE … {other}"))),
                }
            }
            Ok(Sql::Alter { table: a.name.to_string(), columns })
        }
        Statement::Insert(i) => {
            let TableObject::TableName(name) = i.table else {
                return Err(unsupported("INSERT into a table function"));
            };
            let columns: Vec<String> = i.columns.iter().map(|c| c.to_string()).collect();
            let Some(source) = i.source else { return Err(unsupported("INSERT without VALUES")) };
            let SetExpr::Values(values) = *source.body else {
                return Err(unsupported("INSERT … SELECT"));
            };
            let [row] = values.rows.as_slice() else {
                return Err(unsupported("more than one row per INSERT"));
            };
            let values = row.content.iter().map(literal).collect::<CmdResult<Vec<_>>>()?;
            if !columns.is_empty() && columns.len() != values.len() {
                return Err(CommandError::new(format!(
                    "{} columns but {} values",
                    columns.len(),
                    values.len()
                ))
                .next("give one value per column"));
            }
            Ok(Sql::Insert { table: name.to_string(), columns, values })
        }
        Statement::Query(q) => {
            let (offset, count) = limit(q.limit_clause.as_ref())?;
            if q.order_by.is_some() {
                return Err(unsupported("ORDER BY (rows come in key order)"));
            }
            let SetExpr::Select(select) = *q.body else {
                return Err(unsupported("only SELECT … FROM one table"));
            };
            let [from] = select.from.as_slice() else {
                return Err(unsupported("SELECT from more than one table"));
            };
            if !from.joins.is_empty() {
                return Err(unsupported("JOIN"));
            }
            let TableFactor::Table { name, .. } = &from.relation else {
                return Err(unsupported(format!("FROM {}", from.relation)));
            };
            let mut columns = Vec::new();
            let mut all = false;
            for item in &select.projection {
                match item {
                    SelectItem::Wildcard(_) => all = true,
                    SelectItem::UnnamedExpr(Expr::Identifier(i)) => columns.push(i.value.clone()),
                    other => return Err(unsupported(format!("selecting {other}"))),
                }
            }
            let conds = conditions(select.selection.as_ref())?;
            let columns = if all { None } else { Some(columns) };
            Ok(Sql::Select { table: name.to_string(), columns, conds, offset, count })
        }
        Statement::Update(u) => {
            let TableFactor::Table { name, .. } = &u.table.relation else {
                return Err(unsupported(format!("UPDATE {}", u.table.relation)));
            };
            let mut sets = Vec::new();
            for a in &u.assignments {
                let AssignmentTarget::ColumnName(c) = &a.target else {
                    return Err(unsupported("tuple assignment"));
                };
                sets.push((c.to_string(), literal(&a.value)?));
            }
            let conds = conditions(u.selection.as_ref())?;
            let count = match &u.limit {
                Some(e) => number(e)?,
                None => MAX_ROWS,
            };
            Ok(Sql::Update { table: name.to_string(), sets, conds, offset: 0, count })
        }
        Statement::Delete(d) => {
            let tables = match &d.from {
                FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
            };
            let [from] = tables.as_slice() else {
                return Err(unsupported("DELETE from more than one table"));
            };
            let TableFactor::Table { name, .. } = &from.relation else {
                return Err(unsupported(format!("DELETE FROM {}", from.relation)));
            };
            let conds = conditions(d.selection.as_ref())?;
            let count = match &d.limit {
                Some(e) => number(e)?,
                None => MAX_ROWS,
            };
            Ok(Sql::Delete { table: name.to_string(), conds, offset: 0, count })
        }
        other => {
            let shown = other.to_string();
            let head: String = shown.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
            Err(unsupported(head))
        }
    }
}

fn create(c: CreateTable) -> CmdResult<Sql> {
    let mut key: Option<String> = None;
    for constraint in &c.constraints {
        match constraint {
            TableConstraint::PrimaryKey(pk) => {
                let [column] = pk.columns.as_slice() else {
                    return Err(unsupported("a primary key of several columns"));
                };
                key = Some(column.column.expr.to_string());
            }
            other => return Err(unsupported(format!("constraint {other}"))),
        }
    }
    for column in &c.columns {
        let is_pk = column.options.iter().any(|o| matches!(o.option, ColumnOption::PrimaryKey(_)));
        if is_pk {
            key = Some(column.name.value.clone());
        }
    }
    let Some(key) = key else {
        return Err(CommandError::new("the table has no primary key")
            .next("add primary key(<column>) to the column list"));
    };
    let Some(key_def) = c.columns.iter().find(|col| col.name.value == key) else {
        return Err(CommandError::new(format!("the primary key {key} is not a column"))
            .next("declare the key column in the list"));
    };
    let numeric_key = matches!(
        key_def.data_type,
        DataType::Int(_)
            | DataType::Integer(_)
            | DataType::BigInt(_)
            | DataType::SmallInt(_)
            | DataType::TinyInt(_)
            | DataType::IntUnsigned(_)
            | DataType::IntegerUnsigned(_)
            | DataType::BigIntUnsigned(_)
    );
    let columns: Vec<String> = c
        .columns
        .iter()
        .filter(|col| col.name.value != key)
        .map(|col| col.name.value.clone())
        .collect();
    Ok(Sql::Create { table: c.name.to_string(), key, numeric_key, columns })
}

/// A value: a quoted string, a number, or a bare word (the reference reads it as a string).
fn literal(e: &Expr) -> CmdResult<String> {
    match e {
        Expr::Identifier(i) => Ok(i.value.clone()),
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Ok(s.clone()),
            Value::Number(n, _) => Ok(n.to_string()),
            Value::Boolean(b) => Ok(b.to_string()),
            other => Err(unsupported(format!("the value {other}"))),
        },
        Expr::UnaryOp { op: UnaryOperator::Minus, expr } => Ok(format!("-{}", literal(expr)?)),
        other => Err(unsupported(format!("the expression {other}"))),
    }
}

fn number(e: &Expr) -> CmdResult<u32> {
    literal(e)?.parse().map_err(|_| {
        CommandError::new(format!("'{e}' is not a row count"))
            .next("give a whole number such as 10")
    })
}

/// `LIMIT n`, `LIMIT off, n` or `LIMIT n OFFSET off`; at most 500 rows.
fn limit(clause: Option<&LimitClause>) -> CmdResult<(u32, u32)> {
    let (offset, count) = match clause {
        None => (0, MAX_ROWS),
        Some(LimitClause::LimitOffset { limit, offset, .. }) => {
            let count = match limit {
                Some(e) => number(e)?,
                None => MAX_ROWS,
            };
            let offset = match offset {
                Some(o) => number(&o.value)?,
                None => 0,
            };
            (offset, count)
        }
        Some(LimitClause::OffsetCommaLimit { offset, limit }) => (number(offset)?, number(limit)?),
    };
    if count > MAX_ROWS {
        return Err(CommandError::new(format!("LIMIT {count} is over {MAX_ROWS} rows"))
            .next("page with LIMIT offset, 500"));
    }
    Ok((offset, count))
}

/// WHERE: comparisons of a column with a value, joined by AND.
fn conditions(selection: Option<&Expr>) -> CmdResult<Vec<Cond>> {
    let mut out = Vec::new();
    if let Some(e) = selection {
        collect(e, &mut out)?;
    }
    Ok(out)
}

fn collect(e: &Expr, out: &mut Vec<Cond>) -> CmdResult<()> {
    match e {
        Expr::Nested(inner) => collect(inner, out),
        Expr::BinaryOp { left, op: BinaryOperator::And, right } => {
            collect(left, out)?;
            collect(right, out)
        }
        Expr::BinaryOp { left, op, right } => {
            let op = match op {
                BinaryOperator::Eq => Op::Eq,
                BinaryOperator::NotEq => Op::Ne,
                BinaryOperator::Gt => Op::Gt,
                BinaryOperator::GtEq => Op::Ge,
                BinaryOperator::Lt => Op::Lt,
                BinaryOperator::LtEq => Op::Le,
                other => return Err(unsupported(format!("the operator {other} in WHERE"))),
            };
            let Expr::Identifier(field) = left.as_ref() else {
                return Err(unsupported(format!(
                    "{left} on the left of {op:?} (put the column first)"
                )));
            };
            out.push(Cond { op, field: field.value.clone(), value: literal(right)? });
            Ok(())
        }
        Expr::Like { negated: false, expr, pattern, escape_char: None, .. } => {
            let Expr::Identifier(field) = expr.as_ref() else {
                return Err(unsupported(format!("LIKE on {expr}")));
            };
            let p = literal(pattern)?;
            let inner = p.trim_matches('%');
            if inner.contains('%') || inner.contains('_') {
                return Err(unsupported(format!(
                    "the LIKE pattern '{p}' (use 'x%', '%x' or '%x%')"
                )));
            }
            let op = match (p.starts_with('%'), p.ends_with('%') && p.len() > 1) {
                (false, true) => Op::StartsWith,
                (true, false) => Op::EndsWith,
                (true, true) => Op::Contains,
                (false, false) => Op::Eq,
            };
            out.push(Cond { op, field: field.value.clone(), value: inner.to_owned() });
            Ok(())
        }
        other => Err(unsupported(format!("the condition {other}"))),
    }
}

fn tuple(items: Vec<DynSolValue>) -> DynSolValue {
    DynSolValue::Tuple(items)
}
fn s(v: &str) -> DynSolValue {
    DynSolValue::String(v.to_owned())
}
fn strings(v: &[String]) -> DynSolValue {
    DynSolValue::Array(v.iter().map(|x| s(x)).collect())
}
fn uint(v: u64, bits: usize) -> DynSolValue {
    DynSolValue::Uint(U256::from(v), bits)
}

/// A table's definition as `descWithKeyOrder` gives it.
struct TableInfo {
    address: Address,
    key: String,
    columns: Vec<String>,
}

impl Console {
    pub(crate) fn sql(&mut self, line: &str) -> CmdResult<Output> {
        let statement = parse(line)?;
        let manager = parse_artifact(TABLE_MANAGER_ABI)?.0;
        let table_abi = parse_artifact(TABLE_ABI)?.0;
        match statement {
            Sql::Create { table, key, numeric_key, columns } => {
                let info = tuple(vec![uint(u64::from(numeric_key), 8), s(&key), strings(&columns)]);
                self.table_tx(&manager, TABLE_MANAGER, "createTable", vec![s(&table), info])?;
                Ok(Output::text(format!("Create '{table}' Ok.")))
            }
            Sql::Alter { table, columns } => {
                self.open(&manager, &table)?;
                self.table_tx(
                    &manager,
                    TABLE_MANAGER,
                    "appendColumns",
                    vec![s(&table), strings(&columns)],
                )?;
                Ok(Output::text(format!("Alter '{table}' Ok.")))
            }
            Sql::Desc { table } => {
                let info = self.open(&manager, &table)?;
                Ok(Output::Json(
                    serde_json::json!({ "key": info.key, "valueFields": info.columns }),
                ))
            }
            Sql::Insert { table, columns, values } => {
                let info = self.open(&manager, &table)?;
                let named: Vec<(String, String)> = if columns.is_empty() {
                    std::iter::once(&info.key).chain(&info.columns).cloned().zip(values).collect()
                } else {
                    columns.into_iter().zip(values).collect()
                };
                for (c, _) in &named {
                    if *c != info.key && !info.columns.contains(c) {
                        return Err(CommandError::new(format!("{table} has no column {c}"))
                            .next(format!("run desc {table}")));
                    }
                }
                let get = |c: &str| named.iter().find(|(n, _)| n == c).map(|(_, v)| v.clone());
                let Some(key) = get(&info.key) else {
                    return Err(CommandError::new(format!(
                        "the insert gives no value for the key {}",
                        info.key
                    ))
                    .next("every row needs its key"));
                };
                let fields: Vec<String> =
                    info.columns.iter().map(|c| get(c).unwrap_or_default()).collect();
                let entry = tuple(vec![s(&key), strings(&fields)]);
                let n = self.table_tx(&table_abi, info.address, "insert", vec![entry])?;
                Ok(Output::text(format!("Insert OK: {n} row(s) affected.")))
            }
            Sql::Select { table, columns, conds, offset, count } => {
                let info = self.open(&manager, &table)?;
                let conds = self.key_only(&info, conds)?;
                let shown = columns.unwrap_or_else(|| {
                    std::iter::once(info.key.clone()).chain(info.columns.iter().cloned()).collect()
                });
                for c in &shown {
                    if *c != info.key && !info.columns.contains(c) {
                        return Err(CommandError::new(format!("{table} has no column {c}"))
                            .next(format!("run desc {table}")));
                    }
                }
                let client = self.block_on_client()?;
                let out = self.runtime.block_on(client.call(
                    info.address,
                    &table_abi,
                    "select((uint8,string,string)[],(uint32,uint32))",
                    &[
                        conditions_value(&conds),
                        tuple(vec![uint(offset.into(), 32), uint(count.into(), 32)]),
                    ],
                ))?;
                let rows = entries(out.first()).into_iter().map(|(key, fields)| {
                    shown
                        .iter()
                        .map(|c| {
                            if *c == info.key {
                                key.clone()
                            } else {
                                let i =
                                    info.columns.iter().position(|x| x == c).unwrap_or(usize::MAX);
                                fields.get(i).cloned().unwrap_or_default()
                            }
                        })
                        .collect()
                });
                let headers: Vec<&str> = shown.iter().map(String::as_str).collect();
                Ok(Output::table(&headers, rows.collect()))
            }
            Sql::Update { table, sets, conds, offset, count } => {
                let info = self.open(&manager, &table)?;
                let conds = self.key_only(&info, conds)?;
                for (c, _) in &sets {
                    if !info.columns.contains(c) {
                        return Err(CommandError::new(format!("{table} has no value column {c}"))
                            .next(format!("run desc {table} (the key cannot be updated)")));
                    }
                }
                let fields =
                    DynSolValue::Array(sets.iter().map(|(c, v)| tuple(vec![s(c), s(v)])).collect());
                let limit = tuple(vec![uint(offset.into(), 32), uint(count.into(), 32)]);
                let n = self.table_tx(
                    &table_abi,
                    info.address,
                    "update((uint8,string,string)[],(uint32,uint32),(string,string)[])",
                    vec![conditions_value(&conds), limit, fields],
                )?;
                Ok(Output::text(format!("Update OK: {n} row(s) affected.")))
            }
            Sql::Delete { table, conds, offset, count } => {
                let info = self.open(&manager, &table)?;
                let conds = self.key_only(&info, conds)?;
                let limit = tuple(vec![uint(offset.into(), 32), uint(count.into(), 32)]);
                let n = self.table_tx(
                    &table_abi,
                    info.address,
                    "remove((uint8,string,string)[],(uint32,uint32))",
                    vec![conditions_value(&conds), limit],
                )?;
                Ok(Output::text(format!("Remove OK: {n} row(s) affected.")))
            }
        }
    }

    /// WHERE may only name the key column (the precompile indexes nothing else).
    fn key_only(&self, info: &TableInfo, conds: Vec<Cond>) -> CmdResult<Vec<Cond>> {
        if conds.is_empty() {
            return Err(CommandError::new("a WHERE on the key column is needed")
                .next(format!("add where {} = <value> (or >, <, LIKE 'x%')", info.key)));
        }
        if let Some(c) = conds.iter().find(|c| c.field != info.key) {
            return Err(CommandError::new(format!(
                "WHERE on {}: only the key column {} can be used",
                c.field, info.key
            ))
            .next(format!("filter on {}", info.key)));
        }
        Ok(conds)
    }

    fn open(&mut self, manager: &JsonAbi, table: &str) -> CmdResult<TableInfo> {
        let client = self.block_on_client()?;
        let addr =
            self.runtime.block_on(client.call(TABLE_MANAGER, manager, "openTable", &[s(table)]))?;
        let address = match addr.first() {
            Some(DynSolValue::Address(a)) if !a.is_zero() => *a,
            _ => {
                return Err(CommandError::new(format!(
                    "no table {table} in {}",
                    self.session.group()
                ))
                .next(format!(
                    "create it: create table {table}(k varchar, v varchar, primary key(k))"
                )));
            }
        };
        let desc = self.runtime.block_on(client.call(
            TABLE_MANAGER,
            manager,
            "descWithKeyOrder",
            &[s(table)],
        ))?;
        let Some(DynSolValue::Tuple(parts)) = desc.first() else {
            return Err(CommandError::new(format!(
                "descWithKeyOrder({table}) answered no table info"
            )));
        };
        let key = match parts.get(1) {
            Some(DynSolValue::String(k)) => k.clone(),
            _ => String::new(),
        };
        let columns = match parts.get(2) {
            Some(DynSolValue::Array(cols)) => cols
                .iter()
                .filter_map(|c| if let DynSolValue::String(s) = c { Some(s.clone()) } else { None })
                .collect(),
            _ => Vec::new(),
        };
        Ok(TableInfo { address, key, columns })
    }

    /// Sends a table write and returns its int32 result; a negative one is an error.
    fn table_tx(
        &mut self,
        abi: &JsonAbi,
        to: Address,
        f: &str,
        args: Vec<DynSolValue>,
    ) -> CmdResult<i64> {
        let key = self.accounts.signer()?.key.clone();
        let client = self.block_on_client()?;
        let outcome = self.runtime.block_on(client.send(&key, to, abi, f, &args))?;
        let code = match outcome.output.first() {
            Some(DynSolValue::Int(i, _)) => i.as_i64(),
            Some(DynSolValue::Uint(u, _)) => u.saturating_to::<i64>(),
            _ => 0,
        };
        if code < 0 {
            return Err(CommandError::new(format!(
                "the table precompile answered {code}: {}",
                table_code(code)
            ))
            .next("see the error codes in help create"));
        }
        Ok(code)
    }
}

fn table_code(code: i64) -> &'static str {
    match code {
        -50001 => "the table already exists",
        -50002 => "the table name is too long (50 characters at most)",
        -50003 => "a column name is too long (64 at most)",
        -50004 => "the column names are too long together (1024 at most)",
        -50005 => "the key value is too long (64 at most)",
        -50006 => "a value is too large (16 MiB at most)",
        -50007 => "a column is named twice",
        -50008 => "a name has an illegal character",
        -51506 => "a row with that key exists already",
        -51507 | -51508 => "no row with that key",
        _ => "refused",
    }
}

fn conditions_value(conds: &[Cond]) -> DynSolValue {
    DynSolValue::Array(
        conds.iter().map(|c| tuple(vec![uint(c.op as u64, 8), s(&c.field), s(&c.value)])).collect(),
    )
}

/// `Entry[]` as (key, fields) pairs.
fn entries(v: Option<&DynSolValue>) -> Vec<(String, Vec<String>)> {
    let Some(DynSolValue::Array(items)) = v else { return Vec::new() };
    items
        .iter()
        .filter_map(|e| match e {
            DynSolValue::Tuple(parts) => {
                match parts.as_slice() {
                    [DynSolValue::String(k), DynSolValue::Array(fields)] => Some((
                        k.clone(),
                        fields
                            .iter()
                            .map(|f| {
                                if let DynSolValue::String(s) = f {
                                    s.clone()
                                } else {
                                    String::new()
                                }
                            })
                            .collect(),
                    )),
                    _ => None,
                }
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(op: Op, field: &str, value: &str) -> Cond {
        Cond { op, field: field.into(), value: value.into() }
    }

    #[test]
    fn the_reference_dialect_parses() {
        assert_eq!(
            parse("create table t_demo(id int, name varchar, age varchar, primary key(id))")
                .unwrap(),
            Sql::Create {
                table: "t_demo".into(),
                key: "id".into(),
                numeric_key: true,
                columns: vec!["name".into(), "age".into()]
            }
        );
        assert_eq!(
            parse("create table t(k varchar primary key, v varchar)").unwrap(),
            Sql::Create {
                table: "t".into(),
                key: "k".into(),
                numeric_key: false,
                columns: vec!["v".into()]
            }
        );
        assert_eq!(
            parse("insert into t (k, v) values (fred, 'a b')").unwrap(),
            Sql::Insert {
                table: "t".into(),
                columns: vec!["k".into(), "v".into()],
                values: vec!["fred".into(), "a b".into()]
            }
        );
        assert_eq!(
            parse("SELECT * FROM t WHERE k >= 3 AND k < 10 LIMIT 2, 5").unwrap(),
            Sql::Select {
                table: "t".into(),
                columns: None,
                conds: vec![cond(Op::Ge, "k", "3"), cond(Op::Lt, "k", "10")],
                offset: 2,
                count: 5
            }
        );
        let Sql::Select { conds, .. } = parse("select v from t where k like 'ab%'").unwrap() else {
            panic!()
        };
        assert_eq!(conds, vec![cond(Op::StartsWith, "k", "ab")]);
        let Sql::Select { conds, .. } = parse("select v from t where k like '%ab%'").unwrap()
        else {
            panic!()
        };
        assert_eq!(conds, vec![cond(Op::Contains, "k", "ab")]);
        assert_eq!(
            parse("update t set v = 2 where k = fred").unwrap(),
            Sql::Update {
                table: "t".into(),
                sets: vec![("v".into(), "2".into())],
                conds: vec![cond(Op::Eq, "k", "fred")],
                offset: 0,
                count: 500
            }
        );
        assert_eq!(
            parse("delete from t where k = fred").unwrap(),
            Sql::Delete {
                table: "t".into(),
                conds: vec![cond(Op::Eq, "k", "fred")],
                offset: 0,
                count: 500
            }
        );
        assert_eq!(
            parse("alter table t add c varchar").unwrap(),
            Sql::Alter { table: "t".into(), columns: vec!["c".into()] }
        );
        assert_eq!(parse("desc t").unwrap(), Sql::Desc { table: "t".into() });
    }

    #[test]
    fn the_unsupported_part_is_named() {
        let e = |sql: &str| parse(sql).unwrap_err().to_string();
        assert!(e("select * from a join b on a.k = b.k where a.k = 1").contains("JOIN"));
        assert!(
            e("select * from t where k = 1 or k = 2").contains("OR"),
            "{}",
            e("select * from t where k = 1 or k = 2")
        );
        assert!(e("select * from t order by k").contains("ORDER BY"));
        assert!(e("select count(k) from t").contains("count"));
        assert!(e("select * from t where k like 'a%b'").contains("LIKE pattern"));
        assert!(e("select * from t limit 501").contains("500"));
        assert!(e("create table t(k varchar, v varchar)").contains("primary key"));
        assert!(e("drop table t").contains("DROP TABLE"), "{}", e("drop table t"));
        assert!(e("selec * from t").contains("cannot parse"));
    }
}
