// ethers v6 against a real `aurum up` chain: deploy an OpenZeppelin ERC20 compiled here with
// solc-js, transfer, read events, decode reverts, send back-to-back transactions, listen over
// polling filters and WebSocket, and read history. Run with `node --test` (AURUM_BIN set).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ethers } from "ethers";

import { startChain, stopChain, logTail } from "./lib/chain.mjs";
import { compileTestContracts } from "./lib/compile.mjs";

const CHAIN_ID = 20200n;
const SUPPLY = ethers.parseUnits("1000000", 18);
const ZERO = ethers.ZeroAddress;
const GAS = { gasPrice: 0n }; // the chain charges no gas: a fresh wallet pays 0
const TRANSFER_TOPIC = ethers.id("Transfer(address,address,uint256)");
const APPROVAL_TOPIC = ethers.id("Approval(address,address,uint256)");

const fresh = () => ethers.Wallet.createRandom().address;
const pad = (addr) => ethers.zeroPadValue(addr, 32);

function within(ms, promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function rejection(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail("expected a rejection");
}

describe("ethers v6 against aurum up", { timeout: 600_000 }, () => {
  let chain;
  let provider;
  let wallet;
  let artifacts;
  let token;
  let tokenAddr;
  let reverter;
  let deployTx;
  let deployReceipt;
  let transferReceipt; // the first wallet -> recipient transfer
  const recipient = fresh();
  const AMOUNT = ethers.parseUnits("1234.5", 18);

  before(
    async () => {
      artifacts = compileTestContracts(["AurumToken.sol", "Reverter.sol"]);
      chain = await startChain("js");
      provider = new ethers.JsonRpcProvider(chain.ready.rpc_url, Number(CHAIN_ID), {
        staticNetwork: true,
        pollingInterval: 200,
        // ethers reuses an identical request's answer for 250 ms by default, so back-to-back
        // sends would reuse one eth_getTransactionCount(addr, "pending"): ask the node each time.
        cacheTimeout: -1,
      });
      wallet = ethers.Wallet.createRandom().connect(provider);

      try {
        const tokenFactory = new ethers.ContractFactory(
          artifacts.AurumToken.abi,
          artifacts.AurumToken.bytecode,
          wallet,
        );
        token = await tokenFactory.deploy("Aurum Token", "AUR", SUPPLY, GAS);
        deployTx = token.deploymentTransaction();
        deployReceipt = await deployTx.wait(1, 60_000);
        await token.waitForDeployment();
        tokenAddr = await token.getAddress();

        const reverterFactory = new ethers.ContractFactory(
          artifacts.Reverter.abi,
          artifacts.Reverter.bytecode,
          wallet,
        );
        reverter = await reverterFactory.deploy(GAS);
        await reverter.waitForDeployment();
      } catch (e) {
        console.error("deployment failed; node log tail:\n" + logTail(chain));
        throw e;
      }
    },
    { timeout: 180_000 },
  );

  after(
    async () => {
      if (provider) provider.destroy();
      await stopChain(chain);
    },
    { timeout: 60_000 },
  );

  test("ready.json describes the node", () => {
    const r = chain.ready;
    assert.equal(r.group, "group0");
    assert.equal(r.chain_id, "chain0");
    assert.equal(r.crypto, "secp256k1");
    assert.equal(r.web3_chain_id, Number(CHAIN_ID));
    assert.equal(typeof r.pid, "number");
    assert.match(r.rpc_url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(r.ws_url, /^ws:\/\/127\.0\.0\.1:\d+$/);
  });

  test("eth_chainId is 20200 and gas is free", async () => {
    assert.equal(await provider.send("eth_chainId", []), ethers.toQuantity(CHAIN_ID));
    assert.equal(BigInt(await provider.send("eth_gasPrice", [])), 0n);
  });

  test("deployment receipt has status, block, gas, contract address and the mint log", async () => {
    const r = deployReceipt;
    assert.equal(r.status, 1);
    assert.equal(r.hash, deployTx.hash);
    assert.ok(Number.isInteger(r.blockNumber) && r.blockNumber > 0, `blockNumber ${r.blockNumber}`);
    assert.match(r.blockHash, /^0x[0-9a-f]{64}$/);
    assert.ok(r.gasUsed > 0n, `gasUsed ${r.gasUsed}`);
    assert.equal(r.to, null);
    assert.equal(r.from, wallet.address);
    assert.equal(r.contractAddress, ethers.getCreateAddress({ from: wallet.address, nonce: deployTx.nonce }));
    assert.equal(r.contractAddress, tokenAddr);
    assert.equal(deployTx.nonce, 0);

    assert.equal(r.logs.length, 1);
    const log = r.logs[0];
    assert.equal(log.address, tokenAddr);
    assert.deepEqual([...log.topics], [TRANSFER_TOPIC, pad(ZERO), pad(wallet.address)]);
    const parsed = token.interface.parseLog(log);
    assert.equal(parsed.name, "Transfer");
    assert.deepEqual([parsed.args.from, parsed.args.to, parsed.args.value], [ZERO, wallet.address, SUPPLY]);

    // The committed runtime code is what the chain stores.
    assert.equal(await provider.getCode(tokenAddr), artifacts.AurumToken.deployedBytecode);
    assert.equal(await token.name(), "Aurum Token");
    assert.equal(await token.symbol(), "AUR");
    assert.equal(await token.decimals(), 18n);
    assert.equal(await token.totalSupply(), SUPPLY);
    assert.equal(await token.balanceOf(wallet.address), SUPPLY);

    const tx = await provider.getTransaction(deployTx.hash);
    assert.equal(tx.from, wallet.address);
    assert.equal(tx.to, null);
    assert.equal(tx.blockNumber, r.blockNumber);
    assert.equal(tx.chainId, CHAIN_ID);
  });

  test("transfer moves the balance on both sides", async () => {
    const before = await token.balanceOf(wallet.address);
    assert.equal(await token.balanceOf(recipient), 0n);
    const tx = await token.transfer(recipient, AMOUNT, GAS);
    transferReceipt = await tx.wait(1, 60_000);
    assert.equal(transferReceipt.status, 1);
    assert.ok(transferReceipt.blockNumber > deployReceipt.blockNumber);
    assert.ok(transferReceipt.gasUsed > 0n);
    assert.equal(transferReceipt.to, tokenAddr);
    assert.equal(transferReceipt.contractAddress, null);
    assert.equal(await token.balanceOf(wallet.address), before - AMOUNT);
    assert.equal(await token.balanceOf(recipient), AMOUNT);
    assert.equal(await token.totalSupply(), SUPPLY);

    assert.equal(transferReceipt.logs.length, 1);
    const parsed = token.interface.parseLog(transferReceipt.logs[0]);
    assert.deepEqual([parsed.args.from, parsed.args.to, parsed.args.value], [wallet.address, recipient, AMOUNT]);
  });

  test("getLogs filters Transfer events by address, topics and block ranges", async () => {
    const D = deployReceipt.blockNumber;
    const T = transferReceipt.blockNumber;

    // The mint, alone in the deployment block.
    const mint = await provider.getLogs({ address: tokenAddr, topics: [TRANSFER_TOPIC], fromBlock: D, toBlock: D });
    assert.equal(mint.length, 1);
    assert.equal(mint[0].topics[1], pad(ZERO));
    assert.equal(mint[0].transactionHash, deployReceipt.hash);
    assert.equal(BigInt(mint[0].data), SUPPLY);

    // Our transfer, by recipient topic, in its own block.
    const byTo = await provider.getLogs({
      address: tokenAddr,
      topics: [TRANSFER_TOPIC, null, pad(recipient)],
      fromBlock: T,
      toBlock: T,
    });
    assert.equal(byTo.length, 1);
    const l = byTo[0];
    assert.equal(l.address, tokenAddr);
    assert.equal(l.blockNumber, T);
    assert.equal(l.blockHash, transferReceipt.blockHash);
    assert.equal(l.transactionHash, transferReceipt.hash);
    assert.equal(l.index, transferReceipt.logs[0].index);
    assert.equal(BigInt(l.data), AMOUNT);

    // By sender over [D, T]: the transfer only (the mint is from the zero address).
    const bySender = await provider.getLogs({
      address: tokenAddr,
      topics: [TRANSFER_TOPIC, pad(wallet.address)],
      fromBlock: D,
      toBlock: T,
    });
    assert.deepEqual(
      bySender.map((x) => x.transactionHash),
      [transferReceipt.hash],
    );

    // A range that ends before the transfer does not see it.
    const early = await provider.getLogs({
      address: tokenAddr,
      topics: [TRANSFER_TOPIC, null, pad(recipient)],
      fromBlock: D,
      toBlock: T - 1,
    });
    assert.equal(early.length, 0);

    // OR of topics, open range to latest, and hex block numbers via the raw method.
    const anyOf = await provider.getLogs({
      address: tokenAddr,
      topics: [[TRANSFER_TOPIC, APPROVAL_TOPIC]],
      fromBlock: 0,
      toBlock: "latest",
    });
    assert.deepEqual(
      anyOf.map((x) => x.transactionHash),
      [deployReceipt.hash, transferReceipt.hash],
    );
    const raw = await provider.send("eth_getLogs", [
      { address: tokenAddr, topics: [TRANSFER_TOPIC], fromBlock: ethers.toQuantity(T), toBlock: ethers.toQuantity(T) },
    ]);
    assert.equal(raw.length, 1);
    assert.equal(raw[0].removed, false);

    // Another address: nothing.
    assert.equal((await provider.getLogs({ address: fresh(), fromBlock: D, toBlock: T })).length, 0);

    // By block hash.
    const byHash = await provider.getLogs({ address: tokenAddr, blockHash: transferReceipt.blockHash });
    assert.deepEqual(
      byHash.map((x) => x.transactionHash),
      [transferReceipt.hash],
    );

    // The contract's typed filters.
    const q = await token.queryFilter(token.filters.Transfer(wallet.address, recipient), D, T);
    assert.equal(q.length, 1);
    assert.equal(q[0].args.value, AMOUNT);
  });

  test("a require() revert surfaces its reason string", async () => {
    const e = await rejection(reverter.failRequire(1));
    assert.equal(e.code, "CALL_EXCEPTION", e.message);
    assert.equal(e.reason, "x must exceed 10");
    assert.equal(e.revert?.name, "Error");
    assert.equal(await reverter.failRequire(11), 11n); // and a passing call still works

    // The same through eth_estimateGas (a transaction that would revert).
    const e2 = await rejection(reverter.failRequire.estimateGas(1, GAS));
    assert.equal(e2.code, "CALL_EXCEPTION", e2.message);
    assert.equal(reverter.interface.parseError(e2.data)?.args[0], "x must exceed 10");
  });

  test("a custom error decodes as Insufficient(1, 2)", async () => {
    const e = await rejection(reverter.failCustom(1, 2));
    assert.equal(e.code, "CALL_EXCEPTION", e.message);
    assert.equal(e.revert?.name, "Insufficient");
    assert.deepEqual([...e.revert.args], [1n, 2n]);
    const parsed = reverter.interface.parseError(e.data);
    assert.equal(parsed.name, "Insufficient");
    assert.equal(parsed.signature, "Insufficient(uint256,uint256)");
    assert.equal(parsed.args.available, 1n);
    assert.equal(parsed.args.required, 2n);
  });

  test("a transfer above the balance decodes ERC20InsufficientBalance", async () => {
    const balance = await token.balanceOf(wallet.address);
    const want = balance + 1n;

    // eth_call
    const e1 = await rejection(token.transfer.staticCall(recipient, want));
    assert.equal(e1.revert?.name, "ERC20InsufficientBalance", e1.message);
    assert.deepEqual([...e1.revert.args], [wallet.address, balance, want]);

    // sending: eth_estimateGas refuses it with the revert data
    const e2 = await rejection(token.transfer(recipient, want, GAS));
    assert.equal(e2.code, "CALL_EXCEPTION", e2.message);
    const parsed = token.interface.parseError(e2.data);
    assert.equal(parsed?.name, "ERC20InsufficientBalance");
    assert.deepEqual([...parsed.args], [wallet.address, balance, want]);

    // forced into a block with a fixed gas limit: mined with status 0, nothing moves
    const nonce = await wallet.getNonce("pending");
    const tx = await token.transfer(recipient, want, { ...GAS, gasLimit: 200_000n });
    assert.equal(tx.nonce, nonce);
    const e3 = await rejection(tx.wait(1, 60_000));
    assert.equal(e3.code, "CALL_EXCEPTION", e3.message);
    assert.equal(e3.receipt?.status, 0);
    const receipt = await provider.getTransactionReceipt(tx.hash);
    assert.equal(receipt.status, 0);
    assert.equal(receipt.logs.length, 0);
    assert.equal(await token.balanceOf(wallet.address), balance);
    assert.equal(await wallet.getNonce("latest"), nonce + 1);
  });

  test("legacy (type 0) and EIP-1559 (type 2) transactions with zero fees both land", async () => {
    const a = fresh();
    const t0 = await token.transfer(a, 5n, { type: 0, gasPrice: 0n });
    const t2 = await token.transfer(a, 6n, { type: 2, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n });
    const [r0, r2] = await Promise.all([t0.wait(1, 60_000), t2.wait(1, 60_000)]);
    assert.equal(r0.status, 1);
    assert.equal(r2.status, 1);
    assert.equal((await provider.getTransaction(t0.hash)).type, 0);
    assert.equal((await provider.getTransaction(t2.hash)).type, 2);
    assert.equal(await token.balanceOf(a), 11n);
  });

  test("20 back-to-back transfers from one wallet all land", async () => {
    const start = await wallet.getNonce("pending");
    const before = await token.balanceOf(wallet.address);
    const to = Array.from({ length: 20 }, fresh);
    const txs = [];
    for (let i = 0; i < 20; i++) {
      // no waiting: ethers takes each nonce from eth_getTransactionCount(addr, "pending")
      txs.push(await token.transfer(to[i], 1000n + BigInt(i), GAS));
    }
    assert.deepEqual(
      txs.map((t) => t.nonce),
      Array.from({ length: 20 }, (_, i) => start + i),
    );
    assert.equal(new Set(txs.map((t) => t.hash)).size, 20);
    const receipts = await within(
      120_000,
      Promise.all(txs.map((t) => t.wait(1, 120_000))),
      "20 receipts",
    );
    for (const r of receipts) assert.equal(r.status, 1);
    let sent = 0n;
    for (let i = 0; i < 20; i++) {
      assert.equal(await token.balanceOf(to[i]), 1000n + BigInt(i));
      sent += 1000n + BigInt(i);
    }
    assert.equal(await token.balanceOf(wallet.address), before - sent);
    assert.equal(await wallet.getNonce("latest"), start + 20);
  });

  test('contract.on("Transfer") sees an event over polling filters', async () => {
    const target = fresh();
    let resolveSeen;
    const seen = new Promise((r) => (resolveSeen = r));
    const listener = (from, to, value, event) => {
      if (to === target) resolveSeen({ from, to, value, event });
    };
    await token.on("Transfer", listener);
    try {
      const hashes = [];
      let got = null;
      // The filter is installed asynchronously: if the first event slipped by before it, a
      // second transfer must be seen.
      for (let attempt = 0; attempt < 3 && !got; attempt++) {
        const tx = await token.transfer(target, 7n, GAS);
        hashes.push(tx.hash);
        await tx.wait(1, 60_000);
        got = await within(15_000, seen, "the Transfer event").catch(() => null);
      }
      assert.ok(got, "no Transfer event reached the listener");
      assert.equal(got.from, wallet.address);
      assert.equal(got.value, 7n);
      assert.ok(hashes.includes(got.event.log.transactionHash));
    } finally {
      await token.off("Transfer", listener);
    }
  });

  test("a WebSocketProvider receives block events and contract events (eth_subscribe)", async () => {
    const ws = new ethers.WebSocketProvider(chain.ready.ws_url, Number(CHAIN_ID), { staticNetwork: true });
    try {
      assert.equal(await ws.send("eth_chainId", []), ethers.toQuantity(CHAIN_ID));
      let resolveBlock;
      const blockSeen = new Promise((r) => (resolveBlock = r));
      await ws.on("block", (n) => resolveBlock(n));
      // eth_subscribe("logs") through a contract bound to the WebSocket provider
      const target = fresh();
      let resolveLog;
      const logSeen = new Promise((r) => (resolveLog = r));
      const wsToken = token.connect(ws);
      await wsToken.on("Transfer", (from, to, value, event) => {
        if (to === target) resolveLog({ from, to, value, event });
      });

      let block = null;
      let log = null;
      let mined = 0;
      const hashes = [];
      // The subscriptions are made asynchronously: if the first block slipped by before them,
      // a later one must be seen. Blocks are made for transactions: make one each time.
      for (let attempt = 0; attempt < 3 && (block == null || log == null); attempt++) {
        const tx = await token.transfer(target, 3n, GAS);
        hashes.push(tx.hash);
        mined = (await tx.wait(1, 60_000)).blockNumber;
        block = block ?? (await within(15_000, blockSeen, "a block event").catch(() => null));
        log = log ?? (await within(15_000, logSeen, "a Transfer log").catch(() => null));
      }
      assert.ok(block != null, "no block event over WebSocket");
      assert.ok(
        Number.isInteger(block) && block > deployReceipt.blockNumber && block <= mined,
        `block ${block}, mined ${mined}`,
      );
      assert.ok(log != null, "no Transfer log over WebSocket");
      assert.equal(log.from, wallet.address);
      assert.equal(log.value, 3n);
      assert.ok(hashes.includes(log.event.log.transactionHash));
      await wsToken.removeAllListeners();
    } finally {
      await ws.destroy();
    }
  });

  test("eth_getBlockByNumber with full transactions includes the transfer", async () => {
    const r = transferReceipt;
    const raw = await provider.send("eth_getBlockByNumber", [ethers.toQuantity(r.blockNumber), true]);
    assert.equal(raw.hash, r.blockHash);
    assert.equal(BigInt(raw.number), BigInt(r.blockNumber));
    assert.equal(BigInt(raw.baseFeePerGas), 0n);
    const tx = raw.transactions.find((t) => typeof t === "object" && t.hash === r.hash);
    assert.ok(tx, `transfer ${r.hash} not in ${JSON.stringify(raw.transactions)}`);
    assert.equal(ethers.getAddress(tx.from), wallet.address);
    assert.equal(ethers.getAddress(tx.to), tokenAddr);
    assert.equal(tx.blockHash, r.blockHash);
    assert.equal(BigInt(tx.blockNumber), BigInt(r.blockNumber));
    assert.equal(BigInt(tx.transactionIndex), BigInt(r.index));
    assert.ok(tx.input.startsWith(token.interface.getFunction("transfer").selector));

    const hashesOnly = await provider.send("eth_getBlockByNumber", [ethers.toQuantity(r.blockNumber), false]);
    assert.ok(hashesOnly.transactions.includes(r.hash));

    // ethers' own block parsing, with prefetched transactions
    const block = await provider.getBlock(r.blockNumber, true);
    assert.equal(block.hash, r.blockHash);
    assert.ok(block.prefetchedTransactions.some((t) => t.hash === r.hash));
    const byHash = await provider.getBlock(r.blockHash);
    assert.equal(byHash.number, r.blockNumber);
  });

  test("eth_call at an earlier block returns the older balance", async () => {
    const D = deployReceipt.blockNumber;
    const now = await token.balanceOf(wallet.address);
    assert.ok(now < SUPPLY);
    assert.equal(await token.balanceOf(wallet.address, { blockTag: D }), SUPPLY);
    assert.equal(await token.balanceOf(recipient, { blockTag: D }), 0n);
    assert.equal(await token.balanceOf(recipient, { blockTag: transferReceipt.blockNumber }), AMOUNT);
    for (const tag of ["latest", "pending", "safe", "finalized"]) {
      assert.equal(await token.balanceOf(wallet.address, { blockTag: tag }), now, tag);
    }
    // before the deployment there is no code
    assert.equal(await provider.getCode(tokenAddr, D - 1), "0x");
    const data = token.interface.encodeFunctionData("balanceOf", [wallet.address]);
    assert.equal(await provider.call({ to: tokenAddr, data, blockTag: D - 1 }), "0x");
  });

  test("aurum up stops cleanly on SIGTERM", { timeout: 60_000 }, async () => {
    provider.destroy();
    provider = null;
    const nodePid = chain.ready.pid;
    const res = await stopChain(chain);
    assert.ok(!res.killed, `aurum up ignored SIGTERM for the grace period: ${JSON.stringify(res)}`);
    assert.equal(res.exit?.code, 0, `aurum up exit: ${JSON.stringify(res.exit)}`);
    assert.ok(res.nodeGone, `node process ${nodePid} outlived aurum up`);
  });
});
