// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

interface IParallelConfig {
    function registerParallelFunction(address contractAddress, string calldata functionName, uint256 criticalSize)
        external
        returns (int256);
    function unregisterParallelFunction(address contractAddress, string calldata functionName)
        external
        returns (int256);
}

/// Balances by name whose transfers run in parallel: `enableParallel` declares (through
/// ParallelConfig at 0x1006) that `transfer` and `set` conflict only through their name
/// arguments. `transferCounted` also bumps one shared counter, and `declareWrongly`
/// declares it by names anyway: a wrong declaration, which must never change a result.
contract ParallelOk {
    IParallelConfig constant CONFIG = IParallelConfig(address(0x1006));

    mapping(string => uint256) private balances;
    uint256 public transfers;

    function set(string calldata name, uint256 amount) external {
        balances[name] = amount;
    }

    function balanceOf(string calldata name) external view returns (uint256) {
        return balances[name];
    }

    function transfer(string calldata from, string calldata to, uint256 amount) external {
        require(balances[from] >= amount, "insufficient balance");
        balances[from] -= amount;
        balances[to] += amount;
    }

    function transferCounted(string calldata from, string calldata to, uint256 amount) external {
        require(balances[from] >= amount, "insufficient balance");
        balances[from] -= amount;
        balances[to] += amount;
        transfers += 1;
    }

    function enableParallel() external {
        require(CONFIG.registerParallelFunction(address(this), "transfer(string,string,uint256)", 2) == 0);
        require(CONFIG.registerParallelFunction(address(this), "set(string,uint256)", 1) == 0);
    }

    function disableParallel() external {
        require(CONFIG.unregisterParallelFunction(address(this), "transfer(string,string,uint256)") == 0);
        require(CONFIG.unregisterParallelFunction(address(this), "set(string,uint256)") == 0);
    }

    function declareWrongly() external {
        require(CONFIG.registerParallelFunction(address(this), "transferCounted(string,string,uint256)", 2) == 0);
    }
}
