// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

contract Child {
    uint256 public immutable tag;
    address public immutable creator;

    constructor(uint256 tag_) {
        tag = tag_;
        creator = msg.sender;
    }
}

/// Deploys children with CREATE2 and predicts their addresses.
contract Factory {
    event Deployed(address indexed child, bytes32 indexed salt);

    function deploy(bytes32 salt, uint256 tag) external returns (address child) {
        child = address(new Child{salt: salt}(tag));
        emit Deployed(child, salt);
    }

    function initCodeHash(uint256 tag) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(type(Child).creationCode, abi.encode(tag)));
    }

    function predict(bytes32 salt, uint256 tag) external view returns (address) {
        bytes32 h = keccak256(abi.encodePacked(bytes1(0xff), address(this), salt, initCodeHash(tag)));
        return address(uint160(uint256(h)));
    }
}
