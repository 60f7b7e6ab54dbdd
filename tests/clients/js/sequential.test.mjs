// A dApp's ordinary loop on every node of a 4-node chain: send a tx, `await tx.wait()`, send
// the next — 200 rounds per node, as a new user writes it with ethers v6. Each round must
// succeed: no refusal (a stale nonce would re-sign a used one) and no timeout (ethers confirms
// a tx on a block event after its receipt; the chain seals one trailing empty block after
// the last tx, so one always comes).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ethers } from "ethers";

import { startChain, stopChain, nodeReady, logTail } from "./lib/chain.mjs";

const ROUNDS = Number(process.env.AURUM_SEQUENTIAL_ROUNDS || 200);
const WAIT_MS = 30_000;

describe("sequential send + wait on every node", { timeout: 1_800_000 }, () => {
  let chain;
  before(async () => {
    chain = await startChain("seq");
  });
  after(async () => {
    await stopChain(chain);
  });

  for (let k = 0; k < 4; k++) {
    test(`${ROUNDS} rounds of send + tx.wait() against node ${k}`, async () => {
      const ready = await nodeReady(chain, k);
      const options = { staticNetwork: true, pollingInterval: 100 };
      // ethers v6 answers an identical request from a 250 ms cache by default, so a
      // getNonce("pending") right after a fast wait() returns the nonce it just used. The
      // node cannot see a request ethers never sends: clients that send right after a
      // confirmation must turn the cache off (or use ethers' NonceManager).
      if (process.env.AURUM_ETHERS_CACHE !== "default") options.cacheTimeout = -1;
      const provider = new ethers.JsonRpcProvider(ready.rpc_url, Number(ready.web3_chain_id), options);
      const wallet = ethers.Wallet.createRandom().connect(provider);
      const to = ethers.Wallet.createRandom().address;
      const failures = [];
      const started = Date.now();
      for (let i = 0; i < ROUNDS; i++) {
        try {
          const tx = await wallet.sendTransaction({ to, value: 0n, gasPrice: 0n, data: ethers.toBeHex(i, 4) });
          assert.equal(tx.nonce, i, `round ${i}: ethers signed nonce ${tx.nonce}`);
          const receipt = await tx.wait(1, WAIT_MS);
          assert.equal(receipt.status, 1, `round ${i}: failed receipt`);
        } catch (e) {
          failures.push(`round ${i}: ${e.shortMessage || e.message}`);
          if (failures.length >= 5) break;
        }
      }
      const seconds = (Date.now() - started) / 1000;
      console.log(`node ${k}: ${ROUNDS} rounds in ${seconds.toFixed(1)} s, ${failures.length} failed`);
      provider.destroy();
      assert.deepEqual(failures, [], `${failures.join("\n")}\n${logTail(chain, 30)}`);
    });
  }
});
