//! Native (FISCO BCOS-named) methods: the group is parameter 0, numbers are JSON numbers.

use crate::backend::{Backend, GroupRef};
use crate::convert;
use crate::ctx::{Ctx, Req};
use crate::eth::call::{CallArgs, run_call};
use crate::eth::tx::{placement, refused};
use crate::jsonrpc::{Params, RpcError, RpcResult, hex_bytes};
use alloy_primitives::{Address, B256, Bytes};
use aurum_primitives::state::NodeRole;
use aurum_rpc_api as api;
use aurum_txpool::RawFormat;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashSet;

/// Serves native `method` for group `g`; None if it is not a group method.
pub fn dispatch(
    ctx: &Ctx,
    g: &GroupRef,
    req: &mut Req,
    method: &str,
    p: &Params,
) -> Option<RpcResult> {
    let b = &**g;
    Some(match method {
        api::GET_GROUP_INFO => group_info(b),
        api::GET_GROUP_PEERS => group_peers(ctx, b),
        api::GET_GROUP_NODE_INFO => group_node_info(b),
        api::GET_BLOCK_NUMBER => b.head().map(|h| json!(h)),
        api::SEND_TRANSACTION => send(b, p),
        api::CALL => call(ctx, g, req, p),
        api::GET_TRANSACTION => {
            p.req::<B256>(1, "hash").and_then(|h| Ok(native_tx(b, &h)?.unwrap_or(Value::Null)))
        }
        api::GET_TRANSACTION_RECEIPT => {
            p.req::<B256>(1, "hash").and_then(|h| Ok(native_receipt(b, &h)?.unwrap_or(Value::Null)))
        }
        api::GET_BLOCK_BY_NUMBER => p.req::<u64>(1, "number").and_then(|n| block_of(b, n, p)),
        api::GET_BLOCK_BY_HASH => {
            p.req::<B256>(1, "hash").and_then(|h| match b.block_number(&h)? {
                Some(n) => block_of(b, n, p),
                None => Ok(Value::Null),
            })
        }
        api::GET_BLOCK_HASH_BY_NUMBER => {
            p.req::<u64>(1, "number").and_then(|n| Ok(json!(b.block_hash(n)?)))
        }
        api::GET_CODE => code(b, p),
        api::GET_SYSTEM_CONFIG_BY_KEY => system_config(b, p),
        api::GET_TOTAL_TRANSACTION_COUNT => total_tx_count(b),
        api::GET_PENDING_TX_SIZE => Ok(json!(b.pending_count())),
        api::GET_GROUP_STATS => Ok(group_stats(b)),
        api::GET_SEALER_LIST => sealer_list(b),
        api::GET_OBSERVER_LIST => observer_list(b),
        api::GET_TRANSACTION_BY_HASH_WITH_PROOF => tx_with_proof(b, p),
        api::GET_TRANSACTION_RECEIPT_BY_HASH_WITH_PROOF => receipt_with_proof(b, p),
        _ => return None,
    })
}

fn header_at(g: &dyn Backend, n: u64) -> RpcResult<aurum_primitives::Header> {
    g.header(n)?.ok_or_else(|| RpcError::internal(format!("block {n} is missing")))
}

fn sealers_json(g: &dyn Backend, h: u64) -> RpcResult<Value> {
    let nodes = g.consensus_nodes_at(h)?;
    Ok(json!(
        nodes
            .sealers_at(h + 1)
            .iter()
            .map(|n| json!({ "nodeId": hex::encode(n.node_id), "weight": n.weight }))
            .collect::<Vec<_>>()
    ))
}

fn observers_json(g: &dyn Backend, h: u64) -> RpcResult<Value> {
    let nodes = g.consensus_nodes_at(h)?;
    Ok(json!(
        nodes
            .nodes
            .iter()
            .filter(|n| n.role() == NodeRole::Observer)
            .map(|n| hex::encode(n.node_id))
            .collect::<Vec<_>>()
    ))
}

fn group_info(g: &dyn Backend) -> RpcResult {
    let h = g.head()?;
    let params = g.params(h + 1)?;
    Ok(json!({
        "groupId": g.id(),
        "chainId": g.chain_id(),
        "crypto": g.crypto(),
        "web3ChainId": params.web3_chain_id,
        "genesisHash": g.genesis_hash(),
        "blockNumber": h,
        "sealers": sealers_json(g, h)?,
        "observers": observers_json(g, h)?,
    }))
}

/// The group's members (sealers and observers) this node is linked to.
fn group_peers(ctx: &Ctx, g: &dyn Backend) -> RpcResult {
    let nodes = g.consensus_nodes_at(g.head()?)?;
    let linked: HashSet<String> =
        ctx.peer_list().iter().filter_map(|p| p["nodeId"].as_str().map(str::to_owned)).collect();
    Ok(json!(
        nodes
            .nodes
            .iter()
            .map(|n| hex::encode(n.node_id))
            .filter(|id| linked.contains(id))
            .collect::<Vec<_>>()
    ))
}

/// This node as the group sees it: its id, its role and the group's head here.
fn group_node_info(g: &dyn Backend) -> RpcResult {
    let h = g.head()?;
    let nodes = g.consensus_nodes_at(h)?;
    let me = g.node_id_hex();
    let role = match nodes.nodes.iter().find(|n| hex::encode(n.node_id) == me) {
        Some(n) if n.role() == NodeRole::Sealer => "sealer",
        Some(_) => "observer",
        None => "none",
    };
    Ok(json!({ "groupId": g.id(), "nodeId": me, "role": role, "blockNumber": h }))
}

fn send(g: &dyn Backend, p: &Params) -> RpcResult {
    let raw: Bytes = p.req(1, "tx")?;
    // Our encoding, or a legacy Ethereum tx as is (typed envelopes need
    // eth_sendRawTransaction or the 0x02 tag).
    Ok(json!(g.submit_raw(&raw, RawFormat::Wire).map_err(refused)?))
}

fn call(ctx: &Ctx, g: &GroupRef, req: &mut Req, p: &Params) -> RpcResult {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Args {
        #[serde(default)]
        from: Option<Address>,
        to: Address,
        #[serde(default)]
        data: Bytes,
        #[serde(default)]
        block_number: Option<u64>,
    }
    let args: Args = p.req(1, "call")?;
    let run = CallArgs {
        at: args.block_number,
        from: args.from.unwrap_or_default(),
        to: Some(args.to),
        input: args.data,
        gas: None,
    };
    let (at, out) = run_call(ctx, g, req, api::CALL, run)?;
    Ok(json!({
        "blockNumber": at,
        "status": out.status.code(),
        "statusName": convert::status_name(out.status),
        "output": hex_bytes(&out.output),
        "gasUsed": out.gas_used,
    }))
}

fn native_tx(g: &dyn Backend, hash: &B256) -> RpcResult<Option<Value>> {
    if let Some(stored) = g.transaction(hash)? {
        let at = placement(g, &stored)?;
        return Ok(Some(convert::native_tx(&stored.tx, *hash, stored.sender, Some(at))));
    }
    Ok(g.pending(hash).map(|tx| convert::native_tx(&tx.tx, tx.hash, tx.sender, None)))
}

fn native_receipt(g: &dyn Backend, hash: &B256) -> RpcResult<Option<Value>> {
    let Some(stored) = g.transaction(hash)? else { return Ok(None) };
    let Some(receipt) = g.receipt(hash)? else { return Ok(None) };
    let at = placement(g, &stored)?;
    Ok(Some(convert::native_receipt(&receipt, *hash, stored.sender, stored.tx.to(), at)))
}

fn block_of(g: &dyn Backend, number: u64, p: &Params) -> RpcResult {
    let only_header = p.opt::<bool>(2, "onlyHeader")?.unwrap_or(false);
    let only_hashes = p.opt::<bool>(3, "onlyTxHash")?.unwrap_or(true);
    let Some(header) = g.header(number)? else { return Ok(Value::Null) };
    let hash = g.header_hash(&header);
    let signatures = match g.certificate(number)? {
        Some(cert) => json!(
            cert.signatures
                .iter()
                .map(|s| json!({ "sealerIndex": s.sealer_index, "signature": s.signature }))
                .collect::<Vec<_>>()
        ),
        None => json!([]),
    };
    let mut obj = convert::native_header(&header, hash, signatures);
    if !only_header {
        let hashes = g.block_tx_hashes(number)?.unwrap_or_default();
        obj["transactions"] = if only_hashes {
            json!(hashes)
        } else {
            let mut txs = Vec::with_capacity(hashes.len());
            for h in &hashes {
                txs.push(native_tx(g, h)?.unwrap_or(Value::Null));
            }
            Value::Array(txs)
        };
    }
    Ok(obj)
}

fn code(g: &dyn Backend, p: &Params) -> RpcResult {
    let address: Address = p.req(1, "address")?;
    let at = match p.opt::<u64>(2, "blockNumber")? {
        Some(n) => n,
        None => g.head()?,
    };
    Ok(hex_bytes(&g.code(&address, at)?))
}

fn system_config(g: &dyn Backend, p: &Params) -> RpcResult {
    let key: String = p.req(1, "key")?;
    Ok(match g.system_config(&key, g.head()? + 1)? {
        Some(e) => json!({ "key": key, "value": e.value, "enableNumber": e.enable_number }),
        None => Value::Null,
    })
}

fn total_tx_count(g: &dyn Backend) -> RpcResult {
    Ok(json!({ "blockNumber": g.head()?, "transactionCount": g.total_tx_count()? }))
}

fn group_stats(g: &dyn Backend) -> Value {
    let stats = g.stats();
    let (admitted, admit_time) = g.admission_stats();
    json!({
        "blocks": stats.blocks,
        "transactions": stats.txs,
        "executeMs": stats.execute.as_secs_f64() * 1e3,
        "commitMs": stats.commit.as_secs_f64() * 1e3,
        "admitted": admitted,
        "admitMs": admit_time.as_secs_f64() * 1e3,
        "pending": g.pending_count(),
    })
}

fn sealer_list(g: &dyn Backend) -> RpcResult {
    sealers_json(g, g.head()?)
}

fn observer_list(g: &dyn Backend) -> RpcResult {
    observers_json(g, g.head()?)
}

fn tx_with_proof(g: &dyn Backend, p: &Params) -> RpcResult {
    let hash: B256 = p.req(1, "hash")?;
    let Some(tx) = native_tx(g, &hash)? else { return Ok(Value::Null) };
    let Some((loc, path)) = g.tx_proof(&hash)? else { return Ok(Value::Null) };
    let header = header_at(g, loc.number)?;
    Ok(json!({
        "transaction": tx,
        "proof": { "blockNumber": loc.number, "index": loc.index, "leaf": hash,
                   "root": header.tx_root, "path": path },
    }))
}

fn receipt_with_proof(g: &dyn Backend, p: &Params) -> RpcResult {
    let hash: B256 = p.req(1, "hash")?;
    let Some(receipt) = native_receipt(g, &hash)? else { return Ok(Value::Null) };
    let Some((loc, path)) = g.receipt_proof(&hash)? else { return Ok(Value::Null) };
    let raw: Bytes = serde_json::from_value(receipt["raw"].clone()).map_err(RpcError::internal)?;
    let header = header_at(g, loc.number)?;
    Ok(json!({
        "receipt": receipt,
        "proof": { "blockNumber": loc.number, "index": loc.index,
                   "leaf": g.suite().hash(&raw), "root": header.receipt_root, "path": path },
    }))
}
