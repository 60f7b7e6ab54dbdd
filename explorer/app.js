// Aurum block explorer: plain JS, no build step. Everything it shows comes from the node's
// public JSON-RPC (docs/rpc.md); `?rpc=URL` points it at another node.
"use strict";

const RPC = new URLSearchParams(location.search).get("rpc") || location.origin + "/";
// keccak-256("Transfer(address,address,uint256)"): ERC-20 and ERC-721 transfers.
const TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
const TPS_BLOCKS = 30;
const PAGE = 20;

let group = "group0";
let timer = null;
let nextId = 1;

async function post(body) {
  const r = await fetch(RPC, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return r.json();
}

async function rpc(method, ...params) {
  const answer = await post({ jsonrpc: "2.0", id: nextId++, method, params });
  if (answer.error) throw new Error(`${method}: ${answer.error.message}`);
  return answer.result;
}

// Several calls in one JSON-RPC batch; answers in the order asked.
async function batch(calls) {
  if (calls.length === 0) return [];
  const first = nextId;
  const answers = await post(calls.map(([method, ...params]) => ({ jsonrpc: "2.0", id: nextId++, method, params })));
  const byId = new Map((Array.isArray(answers) ? answers : [answers]).map(a => [a.id, a]));
  return calls.map((_, i) => { const a = byId.get(first + i); return a && !a.error ? a.result : null; });
}

const g = (method, ...params) => rpc(method, group, ...params);

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}
const num = v => (typeof v === "string" && v.startsWith("0x") ? parseInt(v, 16) : Number(v));
const short = h => (h && h.length > 20 ? `${h.slice(0, 10)}…${h.slice(-8)}` : h || "");
const link = (href, text, cls = "mono") => `<a class="${cls}" href="${href}">${esc(text)}</a>`;
const blockLink = n => link(`#/block/${n}`, n, "");
const txLink = (h, full) => link(`#/tx/${h}`, full ? h : short(h));
const addrLink = (a, full) => (a ? link(`#/address/${a}`, full ? a : short(a)) : `<span class="muted">—</span>`);
const time = ms => new Date(num(ms)).toLocaleString();
const kv = rows => `<table>${rows.map(([k, v]) => `<tr class="kv"><td class="k">${esc(k)}</td><td>${v}</td></tr>`).join("")}</table>`;

function show(html) { document.getElementById("main").innerHTML = html; }
function status(text) { document.getElementById("status").textContent = text; }

function every(ms, f) {
  clearInterval(timer);
  f();
  timer = setInterval(f, ms);
}

// ---- overview ----------------------------------------------------------------------------

async function overview() {
  show(`<h1>Overview of ${esc(group)}</h1>
    <div class="cards">
      <div class="card"><div class="label">Height</div><div class="value" id="height">…</div></div>
      <div class="card"><div class="label">TPS (last ${TPS_BLOCKS} blocks)</div><div class="value" id="tps">…</div></div>
      <div class="card"><div class="label">Pending txs</div><div class="value" id="pending">…</div></div>
      <div class="card"><div class="label">Total txs</div><div class="value" id="total">…</div></div>
    </div>
    <h2>Transactions per block</h2><svg class="chart" id="chart" viewBox="0 0 300 100" preserveAspectRatio="none"></svg>
    <h2>Nodes</h2><div id="nodes"></div>
    <h2>Latest blocks</h2><div id="latest"></div>`);
  every(1000, refreshOverview);
}

async function refreshOverview() {
  const height = await g("getBlockNumber");
  const [pending, total, sealers, observers, me] = await batch([
    ["getPendingTxSize", group], ["getTotalTransactionCount", group], ["getSealerList", group],
    ["getObserverList", group], ["getGroupNodeInfo", group],
  ]);
  const from = Math.max(0, height - TPS_BLOCKS + 1);
  const numbers = [];
  for (let n = height; n >= from; n--) numbers.push(n);
  const blocks = (await batch(numbers.map(n => ["getBlockByNumber", group, n, false, true]))).filter(Boolean);
  const el = id => document.getElementById(id);
  if (!el("height")) return;
  el("height").textContent = height;
  el("pending").textContent = pending ?? "?";
  el("total").textContent = total ? total.transactionCount : "?";
  const txs = blocks.slice(0, -1).reduce((s, b) => s + (b.transactions || []).length, 0);
  const span = blocks.length > 1 ? (num(blocks[0].timestamp) - num(blocks[blocks.length - 1].timestamp)) / 1000 : 0;
  el("tps").textContent = span > 0 ? (txs / span).toFixed(1) : "0";
  const counts = blocks.map(b => (b.transactions || []).length).reverse();
  const max = Math.max(1, ...counts);
  const w = 300 / Math.max(counts.length, 1);
  el("chart").innerHTML = counts.map((c, i) =>
    `<rect x="${i * w + 0.5}" y="${100 - (c / max) * 98}" width="${Math.max(w - 1, 0.5)}" height="${(c / max) * 98}"><title>${c} txs</title></rect>`).join("");
  const rows = (sealers || []).map(s => `<tr><td class="mono">${esc(short(s.nodeId))}</td><td>sealer</td><td>${s.weight}</td>
      <td>${me && me.nodeId === s.nodeId ? `this node, at ${me.blockNumber}` : ""}</td></tr>`)
    .concat((observers || []).map(o => `<tr><td class="mono">${esc(short(o))}</td><td>observer</td><td></td><td></td></tr>`));
  el("nodes").innerHTML = `<table class="list"><tr><th>Node</th><th>Role</th><th>Weight</th><th></th></tr>${rows.join("")}</table>`;
  el("latest").innerHTML = blockTable(blocks.slice(0, 10));
  status(`height ${height} · ${new Date().toLocaleTimeString()}`);
}

function blockTable(blocks) {
  return `<table class="list"><tr><th>Block</th><th class="wide">Hash</th><th>Txs</th><th>Time</th></tr>${blocks.map(b =>
    `<tr><td>${blockLink(b.number)}</td><td class="wide mono">${esc(short(b.hash))}</td><td>${(b.transactions || []).length}</td><td>${esc(time(b.timestamp))}</td></tr>`).join("")}</table>`;
}

// ---- blocks --------------------------------------------------------------------------------

async function blockList(top) {
  const height = await g("getBlockNumber");
  const start = top === undefined ? height : Math.min(top, height);
  const numbers = [];
  for (let n = start; n >= 0 && n > start - PAGE; n--) numbers.push(n);
  const blocks = (await batch(numbers.map(n => ["getBlockByNumber", group, n, false, true]))).filter(Boolean);
  const older = start - PAGE >= 0 ? `<p>${link(`#/blocks/${start - PAGE}`, "Older blocks →", "")}</p>` : "";
  show(`<h1>Blocks of ${esc(group)}</h1>${blockTable(blocks)}${older}`);
}

async function blockPage(id) {
  const block = /^0x[0-9a-fA-F]{64}$/.test(id) ? await g("getBlockByHash", id, false, true) : await g("getBlockByNumber", num(id), false, true);
  if (!block) return show(`<p class="error">No block ${esc(id)} in ${esc(group)}.</p>`);
  const sealers = (await g("getSealerList").catch(() => [])) || [];
  const signers = (block.signatures || []).map(s => {
    const node = sealers[s.sealerIndex];
    return `<div class="mono">#${s.sealerIndex} ${esc(node ? short(node.nodeId) : "?")}</div>`;
  }).join("");
  const txs = block.transactions || [];
  show(`<h1>Block ${esc(block.number)}</h1>${kv([
    ["Hash", `<span class="mono">${esc(block.hash)}</span>`],
    ["Parent", block.number > 0 ? link(`#/block/${block.number - 1}`, block.parentHash) : esc(block.parentHash)],
    ["Time", esc(time(block.timestamp))],
    ["Proposer", `sealer #${esc(block.proposer)}`],
    ["Gas used", esc(block.gasUsed)],
    ["State root", `<span class="mono">${esc(block.stateRoot)}</span>`],
    ["Signed by", signers || `<span class="muted">genesis</span>`],
  ])}<h2>${txs.length} transactions</h2>
  <table class="list">${txs.map((h, i) => `<tr><td>${i}</td><td>${txLink(h, true)}</td></tr>`).join("")}</table>
  <p>${link(`#/block/${block.number + 1}`, "Next block →", "")}</p>`);
}

// ---- transactions --------------------------------------------------------------------------

function args(list) {
  return (list || []).map(a => `<div><span class="muted">${esc(a.type)}</span> <b>${esc(a.name)}</b> = <span class="mono">${esc(a.value)}</span></div>`).join("");
}

function callText(f) {
  return `${f.name}(${(f.args || []).map(a => `${a.name ? a.name + ": " : ""}${a.value}`).join(", ")})`;
}

async function txPage(hash) {
  const [tx, receipt, decoded] = await batch([["getTransaction", group, hash], ["getTransactionReceipt", group, hash], ["decodeTransaction", group, hash]]);
  if (!tx) return show(`<p class="error">No transaction ${esc(hash)} in ${esc(group)}.</p>`);
  const ok = receipt && num(receipt.status) === 0;
  const rows = [
    ["Hash", `<span class="mono">${esc(tx.hash)}</span>`],
    ["Status", receipt ? `<span class="${ok ? "ok" : "bad"}">${esc(receipt.statusName || receipt.status)}</span>` : "pending"],
    ["Block", tx.blockNumber != null ? blockLink(tx.blockNumber) : "pending"],
    ["From", addrLink(tx.from, true)],
    ["To", tx.to ? addrLink(tx.to, true) : `contract creation → ${addrLink(receipt && receipt.contractAddress, true)}`],
    ["Type", esc(tx.type)],
    ["Gas used", receipt ? esc(receipt.gasUsed) : "—"],
  ];
  if (decoded && decoded.revertReason) rows.push(["Revert reason", `<span class="bad" id="revert">${esc(decoded.revertReason)}</span>`]);
  let call = `<h2>Input</h2>`;
  if (decoded && decoded.function) {
    const f = decoded.function;
    call += `<div class="call" id="call"><div class="mono">${esc(callText(f))}</div><div class="muted">${esc(f.signature)}</div>${args(f.args)}</div>`;
  } else {
    call += `<p class="muted">${decoded && decoded.abiKnown ? "The ABI has no function with this selector." : "No ABI registered for this contract (registerAbi)."}</p>`;
  }
  call += `<div class="mono muted">${esc(tx.input)}</div>`;
  const logs = (receipt && receipt.logs) || [];
  const events = (decoded && decoded.events) || [];
  const eventHtml = logs.map((log, i) => {
    const d = events[i] && events[i].event;
    return d
      ? `<div class="call event"><div class="mono">${esc(callText(d))}</div><div class="muted">${esc(d.signature)} · ${addrLink(log.address)}</div>${args(d.args)}</div>`
      : `<div class="call"><div class="muted">log of ${addrLink(log.address)}</div><div class="mono">${esc((log.topics || []).join(" "))}</div><div class="mono">${esc(log.data)}</div></div>`;
  }).join("");
  show(`<h1>Transaction</h1>${kv(rows)}${call}<h2>Events (${logs.length})</h2><div id="events">${eventHtml || `<p class="muted">none</p>`}</div>`);
}

// ---- accounts and contracts ----------------------------------------------------------------

async function addressPage(address) {
  const [code, abi, height] = await batch([["getCode", group, address], ["getAbi", group, address], ["getBlockNumber", group]]);
  const isContract = code && code !== "0x";
  const pad = "0x" + "0".repeat(24) + address.slice(2).toLowerCase();
  const from = Math.max(0, (height || 0) - 999);
  const filter = t => ({ fromBlock: "0x" + from.toString(16), toBlock: "latest", topics: t });
  const ethUrl = RPC.replace(/\/$/, "") + "/" + encodeURIComponent(group);
  const logs = async f => {
    const r = await fetch(ethUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method: "eth_getLogs", params: [f] }) });
    const a = await r.json();
    return a.result || [];
  };
  const own = isContract ? await logs({ ...filter([TRANSFER_TOPIC]), address }) : [];
  const sent = await logs(filter([TRANSFER_TOPIC, pad]));
  const received = await logs(filter([TRANSFER_TOPIC, null, pad]));
  const seen = new Set();
  const transfers = [...own, ...sent, ...received].filter(l => { const k = l.transactionHash + l.logIndex; if (seen.has(k)) return false; seen.add(k); return true; })
    .sort((a, b) => num(b.blockNumber) - num(a.blockNumber)).slice(0, 50);
  const topicAddr = t => (t ? "0x" + t.slice(26) : "");
  const rows = transfers.map(l => `<tr><td>${blockLink(num(l.blockNumber))}</td><td>${txLink(l.transactionHash)}</td><td>${addrLink(l.address)}</td>
    <td>${addrLink(topicAddr(l.topics[1]))}</td><td>${addrLink(topicAddr(l.topics[2]))}</td>
    <td class="mono">${l.topics.length > 3 ? "id " + BigInt(l.topics[3]).toString() : BigInt(l.data === "0x" ? 0 : l.data).toString()}</td></tr>`).join("");
  show(`<h1>${isContract ? "Contract" : "Account"} <span class="mono">${esc(address)}</span></h1>${kv([
    ["Code", isContract ? `${(code.length - 2) / 2} bytes` : "none (an account)"],
    ["ABI", abi ? `${abi.codeHash ? `registered (code hash <span class="mono">${esc(short(abi.codeHash))}</span>)` : "built in (a precompile)"}: ${abi.abi.filter(x => x.type === "function").map(x => esc(x.name)).join(", ")}` : `<span class="muted">not registered</span>`],
  ])}<h2>Token transfers (ERC-20 / ERC-721, last 1000 blocks)</h2>
  <table class="list"><tr><th>Block</th><th>Tx</th><th>Token</th><th>From</th><th>To</th><th>Amount</th></tr>${rows}</table>`);
}

// ---- search, routing -----------------------------------------------------------------------

async function search(q) {
  q = q.trim();
  document.getElementById("q").value = q;
  if (/^\d+$/.test(q)) return (location.hash = `#/block/${q}`);
  if (/^0x[0-9a-fA-F]{40}$/.test(q)) return (location.hash = `#/address/${q}`);
  if (/^0x[0-9a-fA-F]{64}$/.test(q)) {
    const [tx, block] = await batch([["getTransaction", group, q], ["getBlockByHash", group, q, true, true]]);
    if (tx) return (location.hash = `#/tx/${q}`);
    if (block) return (location.hash = `#/block/${q}`);
  }
  show(`<p class="error">Nothing found for “${esc(q)}” in ${esc(group)}: give a block number, a tx or block hash (0x + 64 hex) or an address (0x + 40 hex).</p>`);
}

async function route() {
  clearInterval(timer);
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  try {
    switch (parts[0]) {
      case "": return await overview();
      case "blocks": return await blockList(parts[1] !== undefined ? num(parts[1]) : undefined);
      case "block": return await blockPage(parts[1]);
      case "tx": return await txPage(parts[1]);
      case "address": return await addressPage(parts[1]);
      case "search": return await search(parts.slice(1).join("/"));
      default: show(`<p class="error">No page ${esc(location.hash)}.</p>`);
    }
  } catch (e) {
    show(`<p class="error">${esc(e.message)}</p>`);
  }
}

async function start() {
  const stored = new URLSearchParams(location.search).get("group") || localStorage.getItem("aurum.group");
  const select = document.getElementById("group");
  try {
    const groups = await rpc("getGroupList");
    group = groups.includes(stored) ? stored : groups[0] || group;
    select.innerHTML = groups.map(x => `<option${x === group ? " selected" : ""}>${esc(x)}</option>`).join("");
  } catch (e) {
    status(e.message);
  }
  select.addEventListener("change", () => { group = select.value; localStorage.setItem("aurum.group", group); route(); });
  document.getElementById("search").addEventListener("submit", ev => { ev.preventDefault(); search(document.getElementById("q").value); });
  window.addEventListener("hashchange", route);
  route();
}

start();
