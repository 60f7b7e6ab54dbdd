//! Ethereum state methods: nonce, balance, code, storage at a block.

use super::tags::state_block;
use crate::backend::Backend;
use crate::jsonrpc::{Params, RpcResult, hex_bytes, quantity};
use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{Address, B256, U256};
use aurum_rpc_api as api;
use serde_json::json;

/// Serves `method` if it is a state method.
pub fn handle(g: &dyn Backend, method: &str, p: &Params) -> Option<RpcResult> {
    Some(match method {
        api::ETH_GET_TRANSACTION_COUNT => tx_count(g, p),
        api::ETH_GET_BALANCE => balance(g, p),
        api::ETH_GET_CODE => code(g, p),
        api::ETH_GET_STORAGE_AT => storage(g, p),
        _ => return None,
    })
}

fn tx_count(g: &dyn Backend, p: &Params) -> RpcResult {
    let address: Address = p.req(0, "address")?;
    let tag: Option<BlockId> = p.opt(1, "block")?;
    if matches!(tag, Some(BlockId::Number(BlockNumberOrTag::Pending))) {
        return Ok(quantity(g.pending_nonce(&address)?));
    }
    let at = state_block(g, tag)?;
    Ok(quantity(g.account(&address, at)?.map_or(0, |a| a.nonce)))
}

fn balance(g: &dyn Backend, p: &Params) -> RpcResult {
    let address: Address = p.req(0, "address")?;
    let at = state_block(g, p.opt(1, "block")?)?;
    let balance = g.account(&address, at)?.map_or(U256::ZERO, |a| a.balance);
    Ok(json!(format!("{balance:#x}")))
}

fn code(g: &dyn Backend, p: &Params) -> RpcResult {
    let address: Address = p.req(0, "address")?;
    let at = state_block(g, p.opt(1, "block")?)?;
    Ok(hex_bytes(&g.code(&address, at)?))
}

fn storage(g: &dyn Backend, p: &Params) -> RpcResult {
    let address: Address = p.req(0, "address")?;
    let slot: U256 = p.req(1, "slot")?;
    let at = state_block(g, p.opt(2, "block")?)?;
    Ok(json!(B256::from(g.storage(&address, &slot, at)?)))
}
