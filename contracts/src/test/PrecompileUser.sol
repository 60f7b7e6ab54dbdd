// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import "../precompiles/SystemConfig.sol";
import "../precompiles/Crypto.sol";

/// Calls platform precompiles from a contract.
contract PrecompileUser {
    function hashes(bytes calldata data) external view returns (bytes32 sm3, bytes32 keccak, bool same) {
        sm3 = CRYPTO.sm3(data);
        keccak = CRYPTO.keccak256Hash(data);
        same = keccak == keccak256(data);
    }

    function txGasLimit() external view returns (string memory, int256) {
        return SYSTEM_CONFIG.getValueByKey("tx_gas_limit");
    }

    /// A contract is not an admin: this reverts with the precompile's message.
    function trySetConfig(string calldata key, string calldata value) external returns (int32) {
        return SYSTEM_CONFIG.setValueByKey(key, value);
    }
}
