// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.0;

/// @title Aurum KVTable precompile at 0x1009 (the 3.0-rc interface: table name first).
/// Reaches the same tables as TableManager.createKVTable.
interface IKVTableFactory {
    function createTable(string calldata tableName, string calldata keyField, string calldata valueField)
        external returns (int32);
    function get(string calldata tableName, string calldata key) external view returns (bool, string memory);
    function set(string calldata tableName, string calldata key, string calldata value) external returns (int32);
    function desc(string calldata tableName) external view returns (string memory keyField, string memory valueFields);
}

IKVTableFactory constant KV_TABLE = IKVTableFactory(address(0x1009));
