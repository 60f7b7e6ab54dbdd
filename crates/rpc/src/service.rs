//! The RPC service of one node: its groups, shared state, and the dispatch of one request
//! or batch to the domain that serves it.

use crate::admin;
use crate::backend::{GroupAdmin, GroupRef, PeerView};
use crate::ctx::{Ctx, Req};
use crate::eth;
use crate::jsonrpc::*;
use crate::limits::Limits;
use crate::native;
use aurum_group::Group;
use aurum_primitives::Transaction;
use aurum_rpc_api as api;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

/// The groups a node serves, shared between its listeners and its group lifecycle.
pub type GroupMap = Arc<parking_lot::RwLock<BTreeMap<String, Arc<Group>>>>;

/// The RPC service of one node: its groups and per-client filter state.
pub struct Rpc {
    groups: GroupMap,
    admin: Option<Arc<dyn GroupAdmin>>,
    default_group: String,
    pub(crate) ctx: Ctx,
    metrics: aurum_metrics::rpc::Rpc,
    extension: Option<Arc<dyn crate::backend::Extension>>,
}

impl Rpc {
    pub fn new(groups: Vec<Arc<Group>>, default_group: String, limits: Limits) -> Self {
        let map = groups.into_iter().map(|g| (g.id().to_string(), g)).collect();
        Self::shared(Arc::new(parking_lot::RwLock::new(map)), default_group, limits)
    }

    /// An RPC service over a group map others may change (groups started and stopped).
    pub fn shared(groups: GroupMap, default_group: String, limits: Limits) -> Self {
        let metrics = aurum_metrics::rpc::Rpc::new(api::METHODS.iter().map(|m| m.name));
        Rpc { groups, admin: None, default_group, ctx: Ctx::new(limits), metrics, extension: None }
    }

    /// Serves the node's peers (a node without a network has none).
    pub fn with_peers(mut self, peers: Arc<dyn PeerView>) -> Self {
        self.ctx.peers = Some(peers);
        self
    }

    /// Serves the catalogue's group methods this crate does not (see [`crate::Extension`]).
    pub fn with_extension(mut self, extension: Arc<dyn crate::backend::Extension>) -> Self {
        self.extension = Some(extension);
        self
    }

    /// Serves the group lifecycle methods (only for the admin listener's service).
    pub fn with_admin(mut self, admin: Arc<dyn GroupAdmin>) -> Self {
        self.admin = Some(admin);
        self
    }

    /// The limits this service enforces.
    pub fn limits(&self) -> &Limits {
        &self.ctx.limits
    }

    /// Expensive calls running now (calls still running after their timeout included).
    pub fn expensive_in_flight(&self) -> usize {
        self.ctx.gate.in_use()
    }

    /// A served group by name.
    pub fn group(&self, name: &str) -> RpcResult<GroupRef> {
        match self.groups.read().get(name) {
            Some(g) => Ok(Arc::clone(g) as GroupRef),
            None => Err(RpcError::new(UNKNOWN_GROUP, format!("unknown group '{name}'"))
                .with_data(json!({ "group": name }))),
        }
    }

    /// The group an Ethereum request is for: the URL path, or the default group.
    pub fn path_group(&self, path: Option<&str>) -> RpcResult<GroupRef> {
        self.group(path.unwrap_or(&self.default_group))
    }

    /// Handles one HTTP or WebSocket body from `client`: a request or a batch. None =
    /// nothing to answer (only notifications).
    pub fn handle_text(
        &self,
        path: Option<&str>,
        body: &[u8],
        client: Option<IpAddr>,
    ) -> Option<Value> {
        let value: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                return Some(response(
                    Value::Null,
                    Err(RpcError::new(PARSE_ERROR, format!("parse error: {e}"))),
                ));
            }
        };
        let mut req = Req::new(&self.ctx.limits, client);
        match value {
            Value::Array(items) => {
                if let Some(err) = self.check_batch(items.len()) {
                    return Some(err);
                }
                self.prefetch_sends(&items);
                let out: Vec<Value> = items
                    .into_iter()
                    .filter_map(|v| self.handle_value(path, v, &mut req))
                    .collect();
                (!out.is_empty()).then_some(Value::Array(out))
            }
            other => self.handle_value(path, other, &mut req),
        }
    }

    /// The error answer for a batch of `len` calls, if it is empty or too long.
    pub fn check_batch(&self, len: usize) -> Option<Value> {
        let max = self.ctx.limits.max_batch;
        let message = if len == 0 {
            "invalid request: empty batch".to_string()
        } else if len > max {
            format!("invalid request: a batch of {len} calls exceeds the limit of {max}")
        } else {
            return None;
        };
        Some(response(Value::Null, Err(RpcError::new(INVALID_REQUEST, message))))
    }

    /// A batch of native `sendTransaction`s: warm the ledger's read cache for admitting them
    /// all at once (see `TxPool::prefetch`). Items that do not parse are left to the normal
    /// path, which answers them.
    fn prefetch_sends(&self, items: &[Value]) {
        let mut by_group: HashMap<String, Vec<Transaction>> = HashMap::new();
        for item in items {
            if item.get("method").and_then(Value::as_str) != Some(api::SEND_TRANSACTION) {
                continue;
            }
            let params = item.get("params").and_then(Value::as_array);
            let group = params.and_then(|p| p.first()).and_then(Value::as_str);
            let raw = params.and_then(|p| p.get(1)).and_then(Value::as_str);
            let (Some(group), Some(raw)) = (group, raw) else { continue };
            let Ok(bytes) = hex::decode(raw.trim_start_matches("0x")) else { continue };
            if bytes.first().is_some_and(|b| *b >= 0xc0) {
                continue;
            }
            if let Ok(tx) = Transaction::decode(&bytes) {
                by_group.entry(group.to_owned()).or_default().push(tx);
            }
        }
        for (group, txs) in by_group {
            if let Ok(g) = self.group(&group) {
                g.prefetch(&txs);
            }
        }
    }

    /// Handles one request object (not a batch) as part of `req`'s batch.
    pub fn handle_value(&self, path: Option<&str>, value: Value, req: &mut Req) -> Option<Value> {
        match parse_request(value) {
            Err(resp) => Some(resp),
            Ok(r) => {
                let started = std::time::Instant::now();
                let result = self.dispatch(path, &r.method, &r.params, req);
                self.metrics.served(&r.method, started, result.is_ok());
                r.id.map(|id| response(id, result))
            }
        }
    }

    /// Serves one method.
    pub fn dispatch(
        &self,
        path: Option<&str>,
        method: &str,
        p: &Params,
        req: &mut Req,
    ) -> RpcResult {
        if method.starts_with("eth_") || method.starts_with("net_") || method.starts_with("web3_") {
            return eth::dispatch(&self.ctx, &self.path_group(path)?, req, method, p);
        }
        if admin::is_lifecycle(method) {
            return admin::lifecycle(self.admin.as_deref(), method, p);
        }
        match method {
            api::GET_GROUP_LIST => return Ok(json!(self.groups.read().keys().collect::<Vec<_>>())),
            api::GET_PEERS => return Ok(Value::Array(self.ctx.peer_list())),
            _ => {}
        }
        if api::method(method).is_none_or(|m| m.scope != api::Scope::Group) {
            return Err(eth::not_found(method));
        }
        let name: String = p.req(0, "group")?;
        let g = self.group(&name)?;
        if let Some(answer) = self.extension.as_ref().and_then(|e| e.call(&g, method, p)) {
            return answer;
        }
        native::dispatch(&self.ctx, &g, req, method, p)
            .unwrap_or_else(|| Err(eth::not_found(method)))
    }
}
