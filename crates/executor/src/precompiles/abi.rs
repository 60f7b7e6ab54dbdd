//! The Solidity ABIs of the FISCO BCOS 3.x precompiles, as deployed contracts call them.
//! Overloads get numbered variants (`select_0`, `select_1`, …) in declaration order.

#![allow(missing_docs, clippy::too_many_arguments)]

use alloy_sol_types::sol;

sol! {
    /// 0x1000.
    interface ISystemConfig {
        function setValueByKey(string key, string value) external returns (int32);
        function getValueByKey(string key) external view returns (string, int256);
    }

    /// 0x1003.
    interface IConsensus {
        function addSealer(string nodeId, uint256 weight) external returns (int32);
        function addObserver(string nodeId) external returns (int32);
        function remove(string nodeId) external returns (int32);
        function setWeight(string nodeId, uint256 weight) external returns (int32);
    }

    /// 0x100a.
    interface ICrypto {
        function sm3(bytes data) external view returns (bytes32);
        function keccak256Hash(bytes data) external view returns (bytes32);
        function sm2Verify(bytes32 message, bytes publicKey, bytes32 r, bytes32 s)
            external view returns (bool, address);
    }

    /// 3.2+ table description (keyOrder: 0 lexicographic, 1 numerical).
    struct TableInfo { uint8 keyOrder; string keyColumn; string[] valueColumns; }
    /// 3.0/3.1 table description.
    struct TableInfoV1 { string keyColumn; string[] valueColumns; }
    struct Entry { string key; string[] fields; }
    struct UpdateField { string columnName; string value; }
    /// 3.2+ condition on any column.
    struct Condition { uint8 op; string field; string value; }
    /// 3.0/3.1 condition on the key column (GT, GE, LT, LE only).
    struct ConditionV1 { uint8 op; string value; }
    struct Limit { uint32 offset; uint32 count; }

    /// 0x1002.
    interface ITableManager {
        function createTable(string path, TableInfo tableInfo) external returns (int32);
        function createTable(string path, TableInfoV1 tableInfo) external returns (int32);
        function createKVTable(string tableName, string keyField, string valueField)
            external returns (int32);
        function openTable(string path) external view returns (address);
        function appendColumns(string path, string[] newColumns) external returns (int32);
        function descWithKeyOrder(string tableName) external view returns (TableInfo);
        function desc(string tableName) external view returns (TableInfoV1);
    }

    /// A table's own address (from `openTable`).
    interface ITable {
        function select(string key) external view returns (Entry);
        function select(Condition[] conditions, Limit limit) external view returns (Entry[]);
        function select(ConditionV1[] conditions, Limit limit) external view returns (Entry[]);
        function count(Condition[] conditions) external view returns (uint32);
        function count(ConditionV1[] conditions) external view returns (uint32);
        function insert(Entry entry) external returns (int32);
        function update(string key, UpdateField[] updateFields) external returns (int32);
        function update(Condition[] conditions, Limit limit, UpdateField[] updateFields)
            external returns (int32);
        function update(ConditionV1[] conditions, Limit limit, UpdateField[] updateFields)
            external returns (int32);
        function remove(string key) external returns (int32);
        function remove(Condition[] conditions, Limit limit) external returns (int32);
        function remove(ConditionV1[] conditions, Limit limit) external returns (int32);
    }

    /// A KV table's own address (from `openTable` on a table made by `createKVTable`).
    interface IKVTable {
        function get(string key) external view returns (bool, string);
        function set(string key, string value) external returns (int32);
    }

    /// 0x1009, the 3.0-rc KV interface: the table name is the first argument.
    /// 0x1006 (2.x names; the `…Internal` names are what 2.x contracts compiled against).
    interface IParallelConfig {
        function registerParallelFunction(address contractAddress, string functionName,
            uint256 criticalSize) external returns (int256);
        function unregisterParallelFunction(address contractAddress, string functionName)
            external returns (int256);
        function registerParallelFunctionInternal(address contractAddress, string functionName,
            uint256 criticalSize) external returns (int256);
        function unregisterParallelFunctionInternal(address contractAddress, string functionName)
            external returns (int256);
    }

    /// 0x100c.
    interface IDagTransfer {
        function userAdd(string user, uint256 balance) external returns (uint256);
        function userSave(string user, uint256 balance) external returns (uint256);
        function userDraw(string user, uint256 balance) external returns (uint256);
        function userBalance(string user) external view returns (uint256, uint256);
        function userTransfer(string user_a, string user_b, uint256 amount)
            external returns (uint256);
    }

    interface IKVTableLegacy {
        function createTable(string tableName, string keyField, string valueField)
            external returns (int32);
        function get(string tableName, string key) external view returns (bool, string);
        function set(string tableName, string key, string value) external returns (int32);
        function desc(string tableName) external view returns (string, string);
    }
}
