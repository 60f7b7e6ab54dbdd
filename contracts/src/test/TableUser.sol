// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import "../precompiles/Table.sol";
import "../precompiles/KVTable.sol";

/// A contract keeping its data in a table and a KV table instead of contract storage.
contract TableUser {
    event Written(string id, int32 code);

    ITable public immutable people;
    IKVTable public immutable settings;

    constructor() {
        string[] memory cols = new string[](2);
        cols[0] = "name";
        cols[1] = "age";
        require(TABLE_MANAGER.createTable("t_people", TableInfo(KeyOrder.Lexicographic, "id", cols)) == 0, "createTable");
        require(TABLE_MANAGER.createKVTable("t_settings", "k", "v") == 0, "createKVTable");
        people = ITable(TABLE_MANAGER.openTable("t_people"));
        settings = IKVTable(TABLE_MANAGER.openTable("t_settings"));
    }

    function insert(string memory id, string memory name, string memory age) public returns (int32 code) {
        string[] memory fields = new string[](2);
        fields[0] = name;
        fields[1] = age;
        code = people.insert(Entry(id, fields));
        emit Written(id, code);
    }

    function get(string calldata id) external view returns (string memory, string memory, string memory) {
        Entry memory e = people.select(id);
        if (e.fields.length == 0) {
            return ("", "", "");
        }
        return (e.key, e.fields[0], e.fields[1]);
    }

    function setAge(string calldata id, string calldata age) external returns (int32) {
        UpdateField[] memory u = new UpdateField[](1);
        u[0] = UpdateField("age", age);
        return people.update(id, u);
    }

    function remove(string calldata id) external returns (int32) {
        return people.remove(id);
    }

    /// Ids of people strictly older than `age`, paged.
    function olderThan(string calldata age, uint32 offset, uint32 count) external view returns (string[] memory ids) {
        Condition[] memory c = new Condition[](1);
        c[0] = Condition(ConditionOP.GT, "age", age);
        Entry[] memory rows = people.select(c, Limit(offset, count));
        ids = new string[](rows.length);
        for (uint256 i = 0; i < rows.length; i++) {
            ids[i] = rows[i].key;
        }
    }

    function countNamed(string calldata name) external view returns (uint32) {
        Condition[] memory c = new Condition[](1);
        c[0] = Condition(ConditionOP.EQ, "name", name);
        return people.count(c);
    }

    function renameWhere(string calldata from, string calldata to) external returns (int32) {
        Condition[] memory c = new Condition[](1);
        c[0] = Condition(ConditionOP.EQ, "name", from);
        UpdateField[] memory u = new UpdateField[](1);
        u[0] = UpdateField("name", to);
        return people.update(c, Limit(0, 500), u);
    }

    function removeIdsStartingWith(string calldata prefix) external returns (int32) {
        Condition[] memory c = new Condition[](1);
        c[0] = Condition(ConditionOP.STARTS_WITH, "id", prefix);
        return people.remove(c, Limit(0, 500));
    }

    /// Inserts, then reverts: the row must not survive.
    function insertThenRevert(string calldata id) external {
        insert(id, "ghost", "0");
        revert("undo the insert");
    }

    /// Inserts through a reverted inner call and a kept one; returns whether each row exists.
    function partialRollback(string calldata kept, string calldata dropped) external returns (bool, bool) {
        insert(kept, "kept", "1");
        try this.insertThenRevert(dropped) {} catch {}
        Entry memory a = people.select(kept);
        Entry memory b = people.select(dropped);
        return (a.fields.length != 0, b.fields.length != 0);
    }

    function setSetting(string calldata k, string calldata v) external returns (int32) {
        return settings.set(k, v);
    }

    function getSetting(string calldata k) external view returns (bool, string memory) {
        return settings.get(k);
    }

    function legacyGet(string calldata k) external view returns (bool, string memory) {
        return KV_TABLE.get("t_settings", k);
    }
}
