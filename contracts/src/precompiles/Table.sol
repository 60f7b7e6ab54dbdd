// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.0;

/// @title Aurum tables: TableManager at 0x1002, and each table at the address openTable returns.
/// Tables live under /tables/<name>; names are letters, digits and '_' (at most 50).
/// Return codes: -50001 table exists, -50002 name too long, -50003 field name too long,
/// -50004 value field names too long in total, -50005 key empty or too long (255),
/// -50006 value too long (16 MiB), -50007 duplicate field, -50008 illegal name,
/// -51506 insert: key exists, -51507 update: no such key, -51508 remove: no such key.

/// Key order of a table: lexicographic, or numerical (keys are int64 decimals).
enum KeyOrder { Lexicographic, Numerical }

struct TableInfo {
    KeyOrder keyOrder;
    string keyColumn;
    string[] valueColumns;
}

struct Entry {
    string key;
    string[] fields;
}

struct UpdateField {
    string columnName;
    string value;
}

enum ConditionOP { GT, GE, LT, LE, EQ, NE, STARTS_WITH, ENDS_WITH, CONTAINS }

/// A condition on the key column or a value column. GT..LE compare the key in table order;
/// value columns compare as integers when both sides are int64 decimals, else as bytes.
struct Condition {
    ConditionOP op;
    string field;
    string value;
}

/// At most 500 rows per call.
struct Limit {
    uint32 offset;
    uint32 count;
}

interface ITableManager {
    function createTable(string calldata path, TableInfo calldata tableInfo) external returns (int32);
    function createKVTable(string calldata tableName, string calldata keyField, string calldata valueField)
        external returns (int32);
    /// @return the table's address, or 0 if there is no such table.
    function openTable(string calldata path) external view returns (address);
    function appendColumns(string calldata path, string[] calldata newColumns) external returns (int32);
    function descWithKeyOrder(string calldata tableName) external view returns (TableInfo memory);
}

interface ITable {
    /// @return the row, or an empty entry if the key is absent.
    function select(string calldata key) external view returns (Entry memory);
    /// @notice Rows matching all conditions (no condition: every row), in key order.
    function select(Condition[] calldata conditions, Limit calldata limit) external view returns (Entry[] memory);
    function count(Condition[] calldata conditions) external view returns (uint32);
    /// @return 1 on success, or an error code.
    function insert(Entry calldata entry) external returns (int32);
    function update(string calldata key, UpdateField[] calldata updateFields) external returns (int32);
    /// @return the number of rows changed.
    function update(Condition[] calldata conditions, Limit calldata limit, UpdateField[] calldata updateFields)
        external returns (int32);
    function remove(string calldata key) external returns (int32);
    /// @return the number of rows removed.
    function remove(Condition[] calldata conditions, Limit calldata limit) external returns (int32);
}

interface IKVTable {
    function get(string calldata key) external view returns (bool, string memory);
    /// @return 1 on success, or an error code.
    function set(string calldata key, string calldata value) external returns (int32);
}

ITableManager constant TABLE_MANAGER = ITableManager(address(0x1002));
