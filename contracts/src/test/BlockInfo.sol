// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// Exposes the block and call context the EVM sees.
contract BlockInfo {
    event Seen(uint256 number, uint256 timestamp, uint256 chainId, address sender, address origin);

    uint256 public lastNumber;
    uint256 public lastTimestamp;
    uint256 public lastChainId;
    address public lastSender;

    function record() external {
        lastNumber = block.number;
        lastTimestamp = block.timestamp;
        lastChainId = block.chainid;
        lastSender = msg.sender;
        emit Seen(block.number, block.timestamp, block.chainid, msg.sender, tx.origin);
    }

    function info() external view returns (uint256, uint256, uint256, address) {
        return (block.number, block.timestamp, block.chainid, msg.sender);
    }
}
