// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.0;

/// @title Aurum Consensus precompile, at 0x1003.
/// @notice Manages the group's sealers and observers. Node ids are the hex of the node's
/// 64-byte public key. Changes apply from the next block. Admin accounts only.
/// Return codes: 0 success, -51100 bad node id, -51101 would remove the last sealer,
/// -51102 bad weight, -51103 unknown node.
interface IConsensus {
    function addSealer(string calldata nodeId, uint256 weight) external returns (int32);
    function addObserver(string calldata nodeId) external returns (int32);
    function remove(string calldata nodeId) external returns (int32);
    function setWeight(string calldata nodeId, uint256 weight) external returns (int32);
}

IConsensus constant CONSENSUS = IConsensus(address(0x1003));
