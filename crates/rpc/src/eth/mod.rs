//! Ethereum JSON-RPC (`eth_*`, `net_*`, `web3_*`) for the group named by the URL path:
//! blocks, transactions, state and execution each in their own file; node facts and the
//! filter methods here.

pub mod block;
pub mod call;
pub mod state;
pub mod tags;
pub mod tx;

use crate::backend::GroupRef;
use crate::ctx::{Ctx, Req};
use crate::filters::{self, FilterKind};
use crate::jsonrpc::{METHOD_NOT_FOUND, Params, RpcError, RpcResult, quantity};
use crate::limits::busy_error;
use alloy_primitives::{Bytes, keccak256};
use alloy_rpc_types_eth::Filter;
use aurum_rpc_api as api;
use serde_json::{Value, json};
use std::time::Instant;

/// Serves one Ethereum method for group `g`.
pub fn dispatch(ctx: &Ctx, g: &GroupRef, req: &mut Req, method: &str, p: &Params) -> RpcResult {
    let b = &**g;
    if let Some(answer) = block::handle(b, method, p)
        .or_else(|| tx::handle(b, method, p))
        .or_else(|| state::handle(b, method, p))
        .or_else(|| call::handle(ctx, g, req, method, p))
    {
        return answer;
    }
    match method {
        api::ETH_CHAIN_ID => Ok(quantity(tags::web3_chain_id(b)?)),
        api::NET_VERSION => Ok(json!(tags::web3_chain_id(b)?.to_string())),
        api::NET_LISTENING => Ok(json!(true)),
        api::NET_PEER_COUNT => Ok(json!(format!("{:#x}", ctx.peer_list().len()))),
        api::WEB3_CLIENT_VERSION => Ok(json!(ctx.client_version)),
        api::WEB3_SHA3 => {
            let data: Bytes = p.req(0, "data")?;
            Ok(json!(keccak256(&data)))
        }
        api::ETH_SYNCING => Ok(json!(false)),
        api::ETH_ACCOUNTS => Ok(json!([])),
        api::ETH_GAS_PRICE | api::ETH_MAX_PRIORITY_FEE_PER_GAS | api::ETH_BLOB_BASE_FEE => {
            Ok(json!("0x0"))
        }
        api::ETH_GET_LOGS => {
            let filter: Filter = p.req(0, "filter")?;
            let (from, to) = filters::filter_range(b, &ctx.limits, &filter)?;
            get_logs(ctx, g, req, &filter, from, to)
        }
        api::ETH_NEW_FILTER => {
            let filter: Filter = p.req(0, "filter")?;
            let next = b.head()? + 1;
            let kind = FilterKind::Logs { filter: Box::new(filter), next };
            Ok(json!(ctx.filters.add(&ctx.limits, b.id(), req.client, kind)?))
        }
        api::ETH_NEW_BLOCK_FILTER => {
            let kind = FilterKind::Blocks { next: b.head()? + 1 };
            Ok(json!(ctx.filters.add(&ctx.limits, b.id(), req.client, kind)?))
        }
        api::ETH_NEW_PENDING_TRANSACTION_FILTER => {
            let (_, cursor) = b.pending_since(u64::MAX, 0);
            let kind = FilterKind::PendingTxs { cursor };
            Ok(json!(ctx.filters.add(&ctx.limits, b.id(), req.client, kind)?))
        }
        api::ETH_GET_FILTER_CHANGES => {
            let id: String = p.req(0, "filterId")?;
            ctx.filters.changes(b, &ctx.limits, &mut req.budget, &id)
        }
        api::ETH_GET_FILTER_LOGS => {
            let id: String = p.req(0, "filterId")?;
            let filter = ctx.filters.log_filter(b.id(), &id)?;
            let (from, to) = filters::filter_range(b, &ctx.limits, &filter)?;
            get_logs(ctx, g, req, &filter, from, to)
        }
        api::ETH_UNINSTALL_FILTER => {
            let id: String = p.req(0, "filterId")?;
            Ok(json!(ctx.filters.remove(&id)))
        }
        api::ETH_SUBSCRIBE | api::ETH_UNSUBSCRIBE => Err(RpcError::new(
            METHOD_NOT_FOUND,
            format!("{method} needs a WebSocket connection (ws:// on the same port)"),
        )),
        _ => Err(not_found(method)),
    }
}

/// A log query holding a place at the expensive-method gate.
fn get_logs(
    ctx: &Ctx,
    g: &GroupRef,
    req: &mut Req,
    filter: &Filter,
    from: u64,
    to: u64,
) -> RpcResult {
    let _permit = ctx
        .gate
        .acquire_until(Instant::now() + ctx.limits.call_timeout)
        .ok_or_else(|| busy_error(api::ETH_GET_LOGS, ctx.limits.max_expensive))?;
    Ok(Value::Array(filters::logs(&**g, &ctx.limits, &mut req.budget, filter, from, to)?))
}

/// The answer for a method the node does not serve.
pub fn not_found(method: &str) -> RpcError {
    RpcError::new(METHOD_NOT_FOUND, format!("the method {method} does not exist"))
        .with_data(json!({ "method": method }))
}
