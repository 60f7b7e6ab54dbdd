// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// Cancun opcodes: TSTORE/TLOAD (EIP-1153) and MCOPY (EIP-5656).
contract Cancun {
    bool transient entered;
    uint256 public calls;

    /// Stores v transiently and reads it back in the same call.
    function roundTrip(uint256 v) external returns (uint256 r) {
        assembly {
            tstore(7, v)
            r := tload(7)
        }
    }

    /// Transient storage is cleared between transactions: always 0 in a fresh tx.
    function peek() external view returns (uint256 r) {
        assembly {
            r := tload(7)
        }
    }

    /// A reentrancy guard in transient storage; reentering reverts.
    function guarded(bool reenter) external returns (uint256) {
        require(!entered, "reentrant call");
        entered = true;
        calls += 1;
        if (reenter) {
            this.guarded(false);
        }
        entered = false;
        return calls;
    }

    /// Copies memory with MCOPY.
    function copy(bytes memory data) external pure returns (bytes memory out) {
        out = new bytes(data.length);
        assembly {
            mcopy(add(out, 32), add(data, 32), mload(data))
        }
    }
}
