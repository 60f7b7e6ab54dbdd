//! Ethereum block methods: blocks by number or hash, tx counts, fee history, and the head
//! shape `newHeads` pushes.

use super::tags::{tag_number, web3_chain_id};
use crate::backend::Backend;
use crate::convert::{self, Placement};
use crate::jsonrpc::{Params, RpcError, RpcResult, quantity};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, B256, U256};
use aurum_primitives::VerifiedTx;
use aurum_rpc_api as api;
use serde_json::{Value, json};

/// Serves `method` if it is a block method.
pub fn handle(g: &dyn Backend, method: &str, p: &Params) -> Option<RpcResult> {
    Some(match method {
        api::ETH_BLOCK_NUMBER => g.head().map(quantity),
        api::ETH_GET_BLOCK_BY_NUMBER => by_number(g, p),
        api::ETH_GET_BLOCK_BY_HASH => by_hash(g, p),
        api::ETH_GET_BLOCK_TRANSACTION_COUNT_BY_NUMBER => count_by_number(g, p),
        api::ETH_GET_BLOCK_TRANSACTION_COUNT_BY_HASH => count_by_hash(g, p),
        api::ETH_FEE_HISTORY => fee_history(g, p),
        _ => return None,
    })
}

fn by_number(g: &dyn Backend, p: &Params) -> RpcResult {
    let tag: BlockNumberOrTag = p.req(0, "block")?;
    let full = p.opt::<bool>(1, "fullTransactions")?.unwrap_or(false);
    let Some(n) = tag_number(g, tag)? else { return Ok(Value::Null) };
    eth_block(g, n, full)
}

fn by_hash(g: &dyn Backend, p: &Params) -> RpcResult {
    let hash: B256 = p.req(0, "hash")?;
    let full = p.opt::<bool>(1, "fullTransactions")?.unwrap_or(false);
    match g.block_number(&hash)? {
        Some(n) => eth_block(g, n, full),
        None => Ok(Value::Null),
    }
}

fn count_by_number(g: &dyn Backend, p: &Params) -> RpcResult {
    let tag: BlockNumberOrTag = p.req(0, "block")?;
    let Some(n) = tag_number(g, tag)? else { return Ok(Value::Null) };
    Ok(g.block_tx_hashes(n)?.map_or(Value::Null, |h| quantity(h.len() as u64)))
}

fn count_by_hash(g: &dyn Backend, p: &Params) -> RpcResult {
    let hash: B256 = p.req(0, "hash")?;
    let Some(n) = g.block_number(&hash)? else { return Ok(Value::Null) };
    Ok(g.block_tx_hashes(n)?.map_or(Value::Null, |h| quantity(h.len() as u64)))
}

fn fee_history(g: &dyn Backend, p: &Params) -> RpcResult {
    let count: U256 = p.req(0, "blockCount")?;
    let newest: BlockNumberOrTag = p.req(1, "newestBlock")?;
    let percentiles: Option<Vec<f64>> = p.opt(2, "rewardPercentiles")?;
    if let Some(ps) = &percentiles
        && (ps.len() > 100
            || ps.iter().any(|x| !(0.0..=100.0).contains(x))
            || ps.windows(2).any(|w| w[0] > w[1]))
    {
        return Err(RpcError::invalid_params(
            "'rewardPercentiles': at most 100 ascending values within [0, 100]",
        ));
    }
    let newest = tag_number(g, newest)?.unwrap_or(g.head()?);
    let count = count.saturating_to::<u64>().clamp(1, 1024).min(newest + 1);
    let oldest = newest + 1 - count;
    let mut ratios = Vec::new();
    let mut rewards = Vec::new();
    for n in oldest..=newest {
        let header =
            g.header(n)?.ok_or_else(|| RpcError::internal(format!("block {n} is missing")))?;
        // No block gas limit: report usage against the per-tx cap times the tx count limit.
        let params = g.params(n)?;
        let capacity = (params.tx_gas_limit as f64) * (params.tx_count_limit as f64);
        ratios.push(json!(if capacity > 0.0 { header.gas_used as f64 / capacity } else { 0.0 }));
        if let Some(ps) = &percentiles {
            rewards.push(json!(ps.iter().map(|_| "0x0").collect::<Vec<_>>()));
        }
    }
    let mut out = json!({
        "oldestBlock": quantity(oldest),
        "baseFeePerGas": vec!["0x0"; count as usize + 1],
        "gasUsedRatio": ratios,
    });
    if percentiles.is_some() {
        out["reward"] = json!(rewards);
    }
    Ok(out)
}

/// Block `number` in Ethereum shape (null if there is none).
pub fn eth_block(g: &dyn Backend, number: u64, full: bool) -> RpcResult {
    let Some(block) = g.block(number)? else { return Ok(Value::Null) };
    let hash = g.header_hash(&block.header);
    let hashes = g.block_tx_hashes(number)?.unwrap_or_default();
    let txs = if full {
        let chain = web3_chain_id(g)?;
        let mut out = Vec::with_capacity(hashes.len());
        for (i, h) in hashes.iter().enumerate() {
            if let Some(stored) = g.transaction(h)? {
                let at = Placement { block_number: number, block_hash: hash, index: i as u32 };
                let tx = VerifiedTx { tx: stored.tx, hash: *h, sender: stored.sender };
                out.push(convert::eth_tx(&tx, Some(at), chain));
            }
        }
        Value::Array(out)
    } else {
        json!(hashes)
    };
    let nodes = g.consensus_nodes_at(number.saturating_sub(1))?;
    let miner = nodes
        .sealers_at(number)
        .get(block.header.proposer as usize)
        .map_or(Address::ZERO, |n| convert::node_address(g.suite(), n.node_id.as_slice()));
    let size = block.encode().len();
    Ok(convert::eth_block(&block.header, hash, miner, txs, hashes.len(), size))
}

/// A block's header in Ethereum shape (for newHeads notifications).
pub fn eth_head(g: &dyn Backend, n: u64) -> RpcResult {
    let mut block = eth_block(g, n, false)?;
    if let Value::Object(obj) = &mut block {
        obj.remove("transactions");
        obj.remove("uncles");
    }
    Ok(block)
}
