// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// Failure modes: reason strings, custom errors, panics, rolled-back writes, gas burning.
contract Reverter {
    error Insufficient(uint256 available, uint256 required);

    uint256 public value;

    function failWithReason(string calldata reason) external pure {
        revert(reason);
    }

    function failRequire(uint256 x) external pure returns (uint256) {
        require(x > 10, "x must exceed 10");
        return x;
    }

    function failCustom(uint256 available, uint256 required) external pure {
        revert Insufficient(available, required);
    }

    function divide(uint256 a, uint256 b) external pure returns (uint256) {
        return a / b;
    }

    function set(uint256 v) external {
        value = v;
    }

    function setThenFail(uint256 v) external {
        value = v;
        revert("rolled back");
    }

    /// Hashes `rounds` times and stores the result: a knob for gas use.
    function burn(uint256 rounds) external returns (bytes32 acc) {
        for (uint256 i = 0; i < rounds; i++) {
            acc = keccak256(abi.encodePacked(acc, i));
        }
        value = uint256(acc);
    }
}
