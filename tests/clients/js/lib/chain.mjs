// Starts a real single-node chain with `aurum up` in a temp dir and stops it again.
// The binary comes from AURUM_BIN. Readiness is DIR/node0/ready.json (polled, never a fixed
// sleep). Every process started here is stopped by pid: SIGTERM, then SIGKILL after a grace
// period, and a synchronous SIGKILL on process exit in case the test runner dies first.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const READY_DEADLINE_MS = 60_000;
const STOP_GRACE_MS = 20_000;

const live = new Set(); // chains not yet stopped, for the exit hook

function alive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
}

function killQuiet(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function killAllNow() {
  for (const chain of live) {
    // `aurum up` leads its own process group (detached): kill the group, then the node.
    killQuiet(-chain.proc.pid, "SIGKILL");
    if (chain.ready) killQuiet(chain.ready.pid, "SIGKILL");
  }
  live.clear();
}
process.on("exit", killAllNow);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.once(sig, () => {
    killAllNow();
    process.kill(process.pid, sig);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function logTail(chain, lines = 60) {
  try {
    const text = fs.readFileSync(chain.logPath, "utf8").split("\n");
    return text.slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export async function startChain(label = "js") {
  const bin = process.env.AURUM_BIN;
  if (!bin) throw new Error("AURUM_BIN is not set: point it at the aurum binary (tests/clients/run.sh does)");
  if (!fs.existsSync(bin)) throw new Error(`AURUM_BIN=${bin} does not exist: build it with cargo build --release`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `aurum-${label}-`));
  const dir = path.join(tmp, "chain");
  const logPath = path.join(tmp, "aurum.log");
  const logFd = fs.openSync(logPath, "a");
  // A 4-node PBFT chain by default (AURUM_CLIENT_NODES=1 for a solo sealer): the clients
  // talk to node 0, their txs are gossiped and ordered by consensus.
  const nodes = process.env.AURUM_CLIENT_NODES || "4";
  const proc = spawn(bin, ["up", "--nodes", nodes, "--dir", dir, "--rpc-port", "0", "--p2p-port", "0"], {
    stdio: ["ignore", logFd, logFd],
    detached: true, // own process group, so a SIGKILL fallback reaches the node child too
  });
  fs.closeSync(logFd);
  const chain = { tmp, dir, logPath, proc, ready: null, exited: null };
  proc.on("exit", (code, signal) => {
    chain.exited = { code, signal };
  });
  live.add(chain);

  const readyPath = path.join(dir, "node0", "ready.json");
  const deadline = Date.now() + READY_DEADLINE_MS;
  try {
    for (;;) {
      if (chain.exited) {
        throw new Error(`aurum up exited before ready (${JSON.stringify(chain.exited)}):\n${logTail(chain)}`);
      }
      try {
        const ready = JSON.parse(fs.readFileSync(readyPath, "utf8"));
        if (ready && ready.rpc_url && ready.ws_url) {
          chain.ready = ready;
          return chain;
        }
      } catch {
        // absent or half written: read again
      }
      if (Date.now() > deadline) {
        throw new Error(`no ${readyPath} within ${READY_DEADLINE_MS / 1000}s:\n${logTail(chain)}`);
      }
      await sleep(100);
    }
  } catch (e) {
    await stopChain(chain, { keep: true });
    throw e;
  }
}

async function waitExit(chain, ms) {
  const deadline = Date.now() + ms;
  while (!chain.exited && Date.now() < deadline) await sleep(50);
  return chain.exited != null;
}

async function waitGone(pid, ms) {
  const deadline = Date.now() + ms;
  while (alive(pid) && Date.now() < deadline) await sleep(50);
  return !alive(pid);
}

// Stops the chain: SIGTERM to `aurum up`, SIGKILL to its group after the grace period, and the
// node process (pid from ready.json) if it outlived it. Returns what happened, for assertions.
export async function stopChain(chain, { keep = false } = {}) {
  if (!chain || !live.has(chain)) return null;
  const result = { cleanExit: false, exit: null, nodeGone: true, killed: false };
  if (!chain.exited) {
    killQuiet(chain.proc.pid, "SIGTERM");
    if (!(await waitExit(chain, STOP_GRACE_MS))) {
      result.killed = true;
      killQuiet(-chain.proc.pid, "SIGKILL");
      await waitExit(chain, 5_000);
    }
  }
  result.exit = chain.exited;
  result.cleanExit = !result.killed && chain.exited != null && chain.exited.code === 0;
  if (chain.ready && chain.ready.pid) {
    // The node may take a moment longer than its parent; then it must be gone.
    result.nodeGone = await waitGone(chain.ready.pid, 5_000);
    if (!result.nodeGone) {
      killQuiet(chain.ready.pid, "SIGKILL");
      await waitGone(chain.ready.pid, 5_000);
    }
  }
  live.delete(chain);
  if (!keep && !process.env.AURUM_KEEP_TMP) {
    fs.rmSync(chain.tmp, { recursive: true, force: true });
  } else {
    console.error(`aurum chain dir kept: ${chain.tmp}`);
  }
  return result;
}

// Node K's ready.json (each node writes its own once it serves), polled until present.
export async function nodeReady(chain, k) {
  const readyPath = path.join(chain.dir, `node${k}`, "ready.json");
  const deadline = Date.now() + READY_DEADLINE_MS;
  for (;;) {
    try {
      const ready = JSON.parse(fs.readFileSync(readyPath, "utf8"));
      if (ready && ready.rpc_url) return ready;
    } catch {
      // absent or half written: read again
    }
    if (Date.now() > deadline) throw new Error(`no ${readyPath} within ${READY_DEADLINE_MS / 1000}s`);
    await sleep(100);
  }
}
