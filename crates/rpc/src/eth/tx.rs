//! Ethereum transaction methods: lookups, receipts, raw submission, and the shared
//! placement and refusal helpers native methods use too.

use super::tags::web3_chain_id;
use crate::backend::Backend;
use crate::convert::{self, Placement};
use crate::jsonrpc::{Params, RpcError, RpcResult, TX_REFUSED};
use alloy_primitives::{B256, Bytes};
use aurum_ledger::StoredTx;
use aurum_primitives::VerifiedTx;
use aurum_rpc_api as api;
use aurum_txpool::{AdmitError, RawFormat};
use serde_json::{Value, json};

/// Serves `method` if it is a transaction method.
pub fn handle(g: &dyn Backend, method: &str, p: &Params) -> Option<RpcResult> {
    Some(match method {
        api::ETH_GET_TRANSACTION_BY_HASH => by_hash(g, p),
        api::ETH_GET_TRANSACTION_RECEIPT => {
            p.req::<B256>(0, "hash").and_then(|hash| eth_receipt(g, &hash))
        }
        api::ETH_SEND_RAW_TRANSACTION => send_raw(g, p),
        _ => return None,
    })
}

fn by_hash(g: &dyn Backend, p: &Params) -> RpcResult {
    let hash: B256 = p.req(0, "hash")?;
    let chain = web3_chain_id(g)?;
    if let Some(stored) = g.transaction(&hash)? {
        let at = placement(g, &stored)?;
        let tx = VerifiedTx { tx: stored.tx, hash, sender: stored.sender };
        return Ok(convert::eth_tx(&tx, Some(at), chain));
    }
    Ok(g.pending(&hash).map_or(Value::Null, |tx| convert::eth_tx(&tx, None, chain)))
}

fn send_raw(g: &dyn Backend, p: &Params) -> RpcResult {
    let raw: Bytes = p.req(0, "data")?;
    Ok(json!(g.submit_raw(&raw, RawFormat::Ethereum).map_err(refused)?))
}

fn eth_receipt(g: &dyn Backend, hash: &B256) -> RpcResult {
    let Some(stored) = g.transaction(hash)? else { return Ok(Value::Null) };
    let at = placement(g, &stored)?;
    let receipts = g.block_receipts(at.block_number)?.unwrap_or_default();
    let Some(receipt) = receipts.get(at.index as usize) else { return Ok(Value::Null) };
    let before = &receipts[..at.index as usize];
    let cumulative = before.iter().map(|r| r.gas_used).sum::<u64>() + receipt.gas_used;
    let first_log = before.iter().map(|r| r.logs.len()).sum();
    Ok(convert::eth_receipt(receipt, &stored.tx, *hash, stored.sender, at, cumulative, first_log))
}

/// Where a committed tx is.
pub fn placement(g: &dyn Backend, stored: &StoredTx) -> RpcResult<Placement> {
    let n = stored.location.number;
    let block_hash =
        g.block_hash(n)?.ok_or_else(|| RpcError::internal(format!("block {n} is missing")))?;
    Ok(Placement { block_number: n, block_hash, index: stored.location.index })
}

/// A pool refusal as the client sees it (a storage failure is an internal error instead).
pub fn refused(e: AdmitError) -> RpcError {
    if let AdmitError::Ledger(_) = e {
        return RpcError::internal(e);
    }
    RpcError::new(TX_REFUSED, format!("transaction refused: {e}"))
        .with_data(json!({ "reason": e.reason() }))
}
