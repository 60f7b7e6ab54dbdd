//! Log queries (`eth_getLogs`, filter polls, `logs` subscriptions) and installed filters,
//! with their quotas: a global cap and one per remote address, so one client filling its
//! share cannot stop another from installing a filter.

use crate::backend::Backend;
use crate::convert::{self, Placement};
use crate::jsonrpc::{RpcError, RpcResult, TX_REFUSED};
use crate::limits::{Budget, LIMIT_EXCEEDED, Limits};
use alloy_eips::BlockNumberOrTag;
use alloy_rpc_types_eth::{Filter, FilterBlockOption};
use parking_lot::Mutex;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

/// What a filter reports on each poll.
pub enum FilterKind {
    Blocks {
        next: u64,
    },
    Logs {
        filter: Box<Filter>,
        next: u64,
    },
    /// The pool's arrival cursor: each poll reads only what arrived since.
    PendingTxs {
        cursor: u64,
    },
}

struct Entry {
    group: String,
    owner: Option<IpAddr>,
    kind: FilterKind,
    last_poll: Instant,
}

/// Installed filters of one RPC service.
#[derive(Default)]
pub struct Registry {
    filters: Mutex<HashMap<String, Entry>>,
}

/// The error for an unknown, idle-dropped or other-group filter id.
pub fn filter_not_found() -> RpcError {
    RpcError::new(TX_REFUSED, "filter not found (unknown id, or idle for more than 5 minutes)")
}

impl Registry {
    /// Installs a filter for `owner`, within the global and per-client caps.
    pub fn add(
        &self,
        limits: &Limits,
        group: &str,
        owner: Option<IpAddr>,
        kind: FilterKind,
    ) -> RpcResult<String> {
        let id = format!("{:#x}", rand::random::<u128>());
        let mut filters = self.filters.lock();
        let idle = limits.filter_idle;
        filters.retain(|_, f| f.last_poll.elapsed() < idle);
        if let Some(ip) = owner {
            let mine = filters.values().filter(|f| f.owner == Some(ip)).count();
            if mine >= limits.max_filters_per_client {
                return Err(RpcError::new(
                    TX_REFUSED,
                    format!(
                        "too many filters from {ip} ({mine}, [rpc] max_filters_per_client); \
                         uninstall unused ones or let them expire"
                    ),
                )
                .with_data(json!({ "reason": "FilterQuota" })));
            }
        }
        if filters.len() >= limits.max_filters {
            return Err(RpcError::new(
                TX_REFUSED,
                format!(
                    "too many filters ({}, [rpc] max_filters); uninstall unused ones or retry later",
                    limits.max_filters
                ),
            )
            .with_data(json!({ "reason": "FilterQuota" })));
        }
        filters.insert(
            id.clone(),
            Entry { group: group.to_owned(), owner, kind, last_poll: Instant::now() },
        );
        Ok(id)
    }

    pub fn remove(&self, id: &str) -> bool {
        self.filters.lock().remove(id).is_some()
    }

    /// The log filter `id` (for `eth_getFilterLogs`), marking it polled.
    pub fn log_filter(&self, group: &str, id: &str) -> RpcResult<Filter> {
        let mut filters = self.filters.lock();
        let entry = filters.get_mut(id).ok_or_else(filter_not_found)?;
        if entry.group != group {
            return Err(filter_not_found());
        }
        entry.last_poll = Instant::now();
        match &entry.kind {
            FilterKind::Logs { filter, .. } => Ok((**filter).clone()),
            _ => Err(RpcError::invalid_params("'filterId': not a log filter")),
        }
    }

    /// What filter `id` has seen since its last poll.
    pub fn changes(
        &self,
        g: &dyn Backend,
        limits: &Limits,
        budget: &mut Budget,
        id: &str,
    ) -> RpcResult {
        let h = g.head()?;
        // The kind is taken out for the poll so storage reads run without the registry lock.
        let (mut kind, group) = {
            let mut filters = self.filters.lock();
            let entry = filters.get_mut(id).ok_or_else(filter_not_found)?;
            if entry.group != g.id() {
                return Err(filter_not_found());
            }
            entry.last_poll = Instant::now();
            let kind = match &entry.kind {
                FilterKind::Blocks { next } => FilterKind::Blocks { next: *next },
                FilterKind::Logs { filter, next } => {
                    FilterKind::Logs { filter: filter.clone(), next: *next }
                }
                FilterKind::PendingTxs { cursor } => FilterKind::PendingTxs { cursor: *cursor },
            };
            (kind, entry.group.clone())
        };
        let out = match &mut kind {
            FilterKind::Blocks { next } => {
                let mut hashes = Vec::new();
                while *next <= h && hashes.len() < limits.max_log_blocks as usize {
                    hashes.push(json!(g.block_hash(*next)?));
                    *next += 1;
                }
                Value::Array(hashes)
            }
            FilterKind::Logs { filter, next } => {
                let to = match filter.block_option.get_to_block() {
                    Some(BlockNumberOrTag::Number(n)) => (*n).min(h),
                    _ => h,
                };
                let from = match filter.block_option.get_from_block() {
                    Some(BlockNumberOrTag::Number(n)) => (*n).max(*next),
                    _ => *next,
                };
                // One poll covers at most the getLogs block limit; the rest comes next poll.
                let to = to.min(from.saturating_add(limits.max_log_blocks - 1));
                // Past the log limit a poll returns whole blocks up to it and resumes there
                // next poll; only a single block over the limit is an error.
                let (logs, stopped) = scan(g, limits, budget, filter, from, to)?;
                match stopped {
                    Some((why, stop)) if stop == from => return Err(too_much(why, from, stop)),
                    Some((_, stop)) => *next = (*next).max(stop),
                    None => *next = (*next).max(to + 1),
                }
                Value::Array(logs)
            }
            FilterKind::PendingTxs { cursor } => {
                let (hashes, next) = g.pending_since(*cursor, limits.max_pending_per_poll);
                *cursor = next;
                json!(hashes)
            }
        };
        if let Some(entry) = self.filters.lock().get_mut(id)
            && entry.group == group
        {
            entry.kind = kind;
        }
        Ok(out)
    }
}

/// The block range of a log query, checked against the block limit.
pub fn filter_range(g: &dyn Backend, limits: &Limits, filter: &Filter) -> RpcResult<(u64, u64)> {
    let h = g.head()?;
    let (from, to) = match &filter.block_option {
        FilterBlockOption::AtBlockHash(hash) => {
            let n = g
                .block_number(hash)?
                .ok_or_else(|| RpcError::new(TX_REFUSED, format!("unknown block {hash}")))?;
            (n, n)
        }
        FilterBlockOption::Range { from_block, to_block } => {
            let resolve = |t: &Option<BlockNumberOrTag>| match t {
                None => h,
                Some(BlockNumberOrTag::Earliest) => 0,
                Some(BlockNumberOrTag::Number(n)) => *n,
                Some(_) => h,
            };
            // A range starting past the head is empty (not the head's logs again).
            (resolve(from_block), resolve(to_block).min(h))
        }
    };
    if from > to {
        return Ok((1, 0)); // empty
    }
    if to - from >= limits.max_log_blocks {
        let max = limits.max_log_blocks;
        return Err(RpcError::new(
            LIMIT_EXCEEDED,
            format!(
                "query spans {} blocks; the limit is {max} ([rpc] max_log_blocks): page through \
                 it with fromBlock/toBlock ranges of at most {max} blocks, starting with \
                 fromBlock={from:#x}, toBlock={:#x}",
                to - from + 1,
                from + max - 1
            ),
        )
        .with_data(json!({ "reason": "LogRange", "maxBlocks": max, "from": from, "to": to })));
    }
    Ok((from, to))
}

/// Logs matching `filter` in blocks `from..=to`, in chain order, within the answer's log
/// limit and what is left of the batch's work; past a limit, an error saying how to page.
pub fn logs(
    g: &dyn Backend,
    limits: &Limits,
    budget: &mut Budget,
    filter: &Filter,
    from: u64,
    to: u64,
) -> RpcResult<Vec<Value>> {
    match scan(g, limits, budget, filter, from, to)? {
        (out, None) => Ok(out),
        (_, Some((why, stop))) => Err(too_much(why, from, stop)),
    }
}

/// Why a log scan stopped early, and the block it stopped at.
type Stop = (String, u64);

/// Like [`logs`], but a limit ends the scan at a block boundary: the logs of the blocks
/// before it, and where it stopped with why.
fn scan(
    g: &dyn Backend,
    limits: &Limits,
    budget: &mut Budget,
    filter: &Filter,
    from: u64,
    to: u64,
) -> RpcResult<(Vec<Value>, Option<Stop>)> {
    let mut out = Vec::new();
    if from > to {
        return Ok((out, None));
    }
    let (logs_left, blocks_left) = budget.log_allowance()?;
    let max_logs = limits.max_logs.min(logs_left);
    let mut scanned = 0u64;
    let mut stopped = None;
    for n in from..=to {
        if scanned == blocks_left {
            let why = format!(
                "this batch has scanned its {} blocks ([rpc] batch_log_blocks)",
                limits.batch_log_blocks
            );
            stopped = Some((why, n));
            break;
        }
        scanned += 1;
        let before = out.len();
        out.extend(block_logs(g, filter, n)?);
        if out.len() > max_logs {
            out.truncate(before);
            let why = if max_logs < limits.max_logs {
                format!("this batch has returned its {} logs ([rpc] batch_logs)", limits.batch_logs)
            } else {
                format!("the query matches more than {max_logs} logs ([rpc] max_logs)")
            };
            stopped = Some((why, n));
            break;
        }
    }
    budget.spend_logs(out.len(), scanned);
    Ok((out, stopped))
}

/// A log query stopped at block `stop`: say how to page from there.
fn too_much(why: String, from: u64, stop: u64) -> RpcError {
    let page = if stop > from {
        format!(
            "query fromBlock={from:#x} toBlock={:#x} first, then continue from fromBlock={stop:#x}",
            stop - 1
        )
    } else {
        format!("block {stop:#x} alone exceeds it: narrow the address/topics filter")
    };
    RpcError::new(LIMIT_EXCEEDED, format!("{why}: {page}"))
        .with_data(json!({ "reason": "LogCount", "resumeFrom": stop }))
}

/// The logs of block `n` that match `filter`.
pub fn block_logs(g: &dyn Backend, filter: &Filter, n: u64) -> RpcResult<Vec<Value>> {
    let mut out = Vec::new();
    let Some(header) = g.header(n)? else { return Ok(out) };
    if !filter.matches_bloom(header.logs_bloom) {
        return Ok(out);
    }
    let hash = g.header_hash(&header);
    let receipts = g.block_receipts(n)?.unwrap_or_default();
    let tx_hashes = g.block_tx_hashes(n)?.unwrap_or_default();
    let mut log_index = 0;
    for (i, (receipt, tx_hash)) in receipts.iter().zip(&tx_hashes).enumerate() {
        for log in &receipt.logs {
            if filter.matches(log) {
                let at = Placement { block_number: n, block_hash: hash, index: i as u32 };
                out.push(convert::eth_log(log, at, *tx_hash, log_index));
            }
            log_index += 1;
        }
    }
    Ok(out)
}
