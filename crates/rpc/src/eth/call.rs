//! Read-only execution (`eth_call`, `eth_estimateGas`, native `call`) under the call limits:
//! the gas cap, the batch's gas budget, a place at the expensive-method gate, and the
//! wall-clock timeout. A call runs on its own thread holding its gate place; the client is
//! answered at the deadline, and the place is released only when the run really ends, so
//! timed-out calls cannot pile up behind the answers.

use super::tags::state_block;
use crate::backend::{CallRequest, GroupRef};
use crate::convert;
use crate::ctx::{Ctx, Req};
use crate::jsonrpc::{
    EXECUTION_REVERTED, Params, RpcError, RpcResult, TX_REFUSED, hex_bytes, quantity,
};
use crate::limits::{busy_error, timeout_error};
use alloy_primitives::{Address, Bytes};
use alloy_rpc_types_eth::TransactionRequest;
use aurum_executor::CallOutcome;
use aurum_primitives::TxStatus;
use aurum_rpc_api as api;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Instant;

/// Serves `method` if it is an execution method.
pub fn handle(
    ctx: &Ctx,
    g: &GroupRef,
    req: &mut Req,
    method: &str,
    p: &Params,
) -> Option<RpcResult> {
    Some(match method {
        api::ETH_CALL => eth_call(ctx, g, req, p),
        api::ETH_ESTIMATE_GAS => estimate_gas(ctx, g, req, p),
        _ => return None,
    })
}

/// What to run: the state after block `at` (None: head), sender, target, input, gas asked.
pub struct CallArgs {
    pub at: Option<u64>,
    pub from: Address,
    pub to: Option<Address>,
    pub input: Bytes,
    pub gas: Option<u64>,
}

/// Runs one call under the limits; the block it read and the outcome.
pub fn run_call(
    ctx: &Ctx,
    g: &GroupRef,
    req: &mut Req,
    method: &str,
    args: CallArgs,
) -> RpcResult<(u64, CallOutcome)> {
    let limits = &ctx.limits;
    let cap = limits.call_gas_cap;
    let gas = args.gas.map_or(cap, |g| g.min(cap));
    req.budget.reserve_gas(gas)?;
    let deadline = Instant::now() + limits.call_timeout;
    let Some(permit) = ctx.gate.acquire_until(deadline) else {
        req.budget.refund_gas(gas);
        return Err(busy_error(method, limits.max_expensive));
    };
    let call =
        CallRequest { at: args.at, from: args.from, to: args.to, input: args.input, gas, deadline };
    let (done, answer) = mpsc::sync_channel(1);
    let backend = Arc::clone(g);
    std::thread::Builder::new()
        .name("rpc-call".into())
        .spawn(move || {
            let result = backend.call(call);
            drop(permit);
            let _ = done.send(result);
        })
        .map_err(RpcError::internal)?;
    let wait = deadline.saturating_duration_since(Instant::now());
    match answer.recv_timeout(wait) {
        Ok(result) => {
            if let Ok((_, out)) = &result {
                req.budget.refund_gas(gas.saturating_sub(out.gas_used));
            }
            result
        }
        Err(mpsc::RecvTimeoutError::Timeout) => Err(timeout_error(method, limits.call_timeout)),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(RpcError::internal(format!("{method}: the call thread ended without an answer")))
        }
    }
}

fn eth_args(req: &TransactionRequest, at: u64, gas: Option<u64>) -> CallArgs {
    CallArgs {
        at: Some(at),
        from: req.from.unwrap_or_default(),
        to: match req.to {
            Some(alloy_primitives::TxKind::Call(a)) => Some(a),
            _ => None,
        },
        input: req.input.input().cloned().unwrap_or_default(),
        gas,
    }
}

fn eth_call(ctx: &Ctx, g: &GroupRef, req: &mut Req, p: &Params) -> RpcResult {
    let tx: TransactionRequest = p.req(0, "transaction")?;
    let at = state_block(&**g, p.opt(1, "block")?)?;
    let (_, out) = run_call(ctx, g, req, api::ETH_CALL, eth_args(&tx, at, tx.gas))?;
    ok_or_revert(out).map(|o| hex_bytes(&o.output))
}

fn estimate_gas(ctx: &Ctx, g: &GroupRef, req: &mut Req, p: &Params) -> RpcResult {
    let tx: TransactionRequest = p.req(0, "transaction")?;
    let at = state_block(&**g, p.opt(1, "block")?)?;
    let cap = g.params(at + 1)?.tx_gas_limit.min(ctx.limits.call_gas_cap);
    let method = api::ETH_ESTIMATE_GAS;
    let first = run_call(ctx, g, req, method, eth_args(&tx, at, tx.gas.or(Some(cap))))?.1;
    let first = ok_or_revert(first)?;
    // Refunds and the 63/64 rule mean a tx can need more than it ends up using: pad,
    // check the padded limit, and fall back to the cap if it is not enough. No gas is
    // charged, so a generous estimate costs nothing.
    let padded = first.gas_used.saturating_add(first.gas_used / 4).saturating_add(10_000).min(cap);
    let again = run_call(ctx, g, req, method, eth_args(&tx, at, Some(padded)))?.1;
    Ok(quantity(if again.status.is_success() { padded } else { cap }))
}

/// Success passes; a revert becomes error 3 with the revert bytes; other failures say why.
pub fn ok_or_revert(out: CallOutcome) -> RpcResult<CallOutcome> {
    match out.status {
        TxStatus::Success => Ok(out),
        TxStatus::Reverted => {
            use alloy_sol_types::SolError;
            // geth's wording: the bare reason string, or the panic's description.
            let message = if let Ok(revert) = alloy_sol_types::Revert::abi_decode(&out.output) {
                format!("execution reverted: {}", revert.reason)
            } else if let Ok(panic) = alloy_sol_types::Panic::abi_decode(&out.output) {
                match panic.kind() {
                    Some(kind) => format!("execution reverted: {}", kind.as_str()),
                    None => format!("execution reverted: panic code {:#x}", panic.code),
                }
            } else {
                "execution reverted".to_string()
            };
            Err(RpcError::new(EXECUTION_REVERTED, message).with_data(hex_bytes(&out.output)))
        }
        other => Err(RpcError::new(
            TX_REFUSED,
            format!(
                "execution failed: {}{}",
                convert::status_name(other),
                failure_detail(&out.output)
            ),
        )),
    }
}

fn failure_detail(output: &[u8]) -> String {
    match std::str::from_utf8(output) {
        Ok(s) if !s.is_empty() => format!(" ({s})"),
        _ => String::new(),
    }
}
