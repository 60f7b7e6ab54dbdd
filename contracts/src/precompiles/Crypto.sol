// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.0;

/// @title Aurum Crypto precompile, at 0x100a. Available on every chain, whatever its suite.
interface ICrypto {
    function sm3(bytes calldata data) external view returns (bytes32);
    function keccak256Hash(bytes calldata data) external view returns (bytes32);
    /// @notice Verifies an SM2 signature (r, s) over a 32-byte message hash.
    /// @param publicKey x||y (64 bytes) or 0x04||x||y.
    /// @return ok and the SM account address of the key (SM3(x||y)[12:]), or (false, 0).
    function sm2Verify(bytes32 message, bytes calldata publicKey, bytes32 r, bytes32 s)
        external view returns (bool ok, address account);
}

ICrypto constant CRYPTO = ICrypto(address(0x100a));
