// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.0;

/// @title Aurum SystemConfig precompile, at 0x1000.
/// @notice Group system parameters. A new value applies from the next block.
/// Keys: tx_count_limit, tx_gas_limit, consensus_leader_period, compatibility_version,
/// web3_chain_id, feature_balance, auth_check_status.
interface ISystemConfig {
    /// @return 0 on success, -51300 if the value is invalid for the key.
    /// Only admin accounts may call it (others revert).
    function setValueByKey(string calldata key, string calldata value) external returns (int32);

    /// @return value and the block number from which it applies ("" and -1 when unset).
    function getValueByKey(string calldata key) external view returns (string memory, int256);
}

ISystemConfig constant SYSTEM_CONFIG = ISystemConfig(address(0x1000));
