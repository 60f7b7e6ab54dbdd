//! WebSocket sessions: requests answered in order, and `eth_subscribe` (`newHeads`, `logs`,
//! resumable with `fromBlock`) pushing notifications through the same writer, within the
//! per-connection and per-client subscription caps.

use crate::ctx::{Req, SubGuard};
use crate::eth::block::eth_head;
use crate::filters::block_logs;
use crate::jsonrpc::{self, RpcError, RpcResult, TX_REFUSED, parse_request, response};
use crate::service::Rpc;
use aurum_rpc_api as api;
use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;

/// A live subscription: its push task and its place in the client's quota.
struct Sub {
    task: AbortHandle,
    _place: SubGuard,
}

/// What one connection holds.
struct Session {
    rpc: Arc<Rpc>,
    group: Option<String>,
    client: Option<IpAddr>,
    subs: HashMap<String, Sub>,
    out: mpsc::Sender<String>,
    /// Subscriptions created by the message being answered, started after the answer.
    starts: Vec<oneshot::Sender<()>>,
}

/// One WebSocket connection.
pub async fn session(
    rpc: Arc<Rpc>,
    group: Option<String>,
    client: Option<IpAddr>,
    socket: WebSocket,
) {
    let (mut sink, mut stream) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<String>(1024);
    let writer = tokio::spawn(async move {
        while let Some(text) = out_rx.recv().await {
            if sink.send(Message::Text(text.into())).await.is_err() {
                break;
            }
        }
    });
    let mut s =
        Session { rpc, group, client, subs: HashMap::new(), out: out_tx, starts: Vec::new() };
    while let Some(Ok(msg)) = stream.next().await {
        let text = match msg {
            Message::Text(t) => t.as_str().to_owned(),
            Message::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
            Message::Close(_) => break,
            _ => continue,
        };
        let answer = s.answer(&text).await;
        if let Some(answer) = answer
            && s.out.send(answer.to_string()).await.is_err()
        {
            break;
        }
        // New subscriptions start only now, so their first notification follows the answer
        // that carries their id.
        for go in s.starts.drain(..) {
            let _ = go.send(());
        }
    }
    for (_, sub) in s.subs.drain() {
        sub.task.abort();
    }
    drop(s);
    let _ = writer.await;
}

impl Session {
    /// Answers one message: a request or a batch, subscriptions included.
    async fn answer(&mut self, text: &str) -> Option<Value> {
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                let err = RpcError::new(jsonrpc::PARSE_ERROR, format!("parse error: {e}"));
                return Some(response(Value::Null, Err(err)));
            }
        };
        let mut req = Some(Req::new(self.rpc.limits(), self.client));
        match value {
            Value::Array(items) => {
                if let Some(err) = self.rpc.check_batch(items.len()) {
                    return Some(err);
                }
                let mut answers = Vec::new();
                for item in items {
                    answers.extend(self.one(item, &mut req).await);
                }
                (!answers.is_empty()).then_some(Value::Array(answers))
            }
            other => self.one(other, &mut req).await,
        }
    }

    /// One request; `req` carries the batch's work budget across entries.
    async fn one(&mut self, value: Value, req: &mut Option<Req>) -> Option<Value> {
        let method = value.get("method").and_then(Value::as_str);
        if matches!(method, Some(api::ETH_SUBSCRIBE | api::ETH_UNSUBSCRIBE)) {
            return match parse_request(value) {
                Err(resp) => Some(resp),
                Ok(r) => {
                    let wants_answer = r.id.is_some();
                    let answer = self.subscription(r);
                    wants_answer.then_some(answer)
                }
            };
        }
        let (rpc, group) = (Arc::clone(&self.rpc), self.group.clone());
        let mut batch = req.take()?;
        let done = tokio::task::spawn_blocking(move || {
            let answer = rpc.handle_value(group.as_deref(), value, &mut batch);
            (answer, batch)
        })
        .await;
        match done {
            Ok((answer, batch)) => {
                *req = Some(batch);
                answer
            }
            Err(e) => {
                *req = Some(Req::new(self.rpc.limits(), self.client));
                Some(response(Value::Null, Err(RpcError::internal(e))))
            }
        }
    }

    fn subscription(&mut self, req: jsonrpc::Request) -> Value {
        let id = req.id.clone().unwrap_or(Value::Null);
        let result = if req.method == api::ETH_UNSUBSCRIBE {
            req.params.req::<String>(0, "subscriptionId").map(|sub| match self.subs.remove(&sub) {
                Some(sub) => {
                    sub.task.abort();
                    json!(true)
                }
                None => json!(false),
            })
        } else {
            self.subscribe(&req.params)
        };
        response(id, result)
    }

    fn subscribe(&mut self, params: &jsonrpc::Params) -> RpcResult {
        let max = self.rpc.limits().max_subscriptions_per_connection;
        if self.subs.len() >= max {
            return Err(RpcError::new(
                TX_REFUSED,
                format!(
                    "too many subscriptions on this connection ({max}, [rpc] \
                     max_subscriptions_per_connection)"
                ),
            )
            .with_data(json!({ "reason": "SubscriptionQuota" })));
        }
        let place = self.rpc.ctx.take_subscription(self.client)?;
        let (go, started) = oneshot::channel();
        let (sub, task) = start(&self.rpc, self.group.as_deref(), params, &self.out, started)?;
        self.subs.insert(sub.clone(), Sub { task, _place: place });
        self.starts.push(go);
        Ok(json!(sub))
    }
}

fn start(
    rpc: &Arc<Rpc>,
    group: Option<&str>,
    params: &jsonrpc::Params,
    out: &mpsc::Sender<String>,
    started: oneshot::Receiver<()>,
) -> RpcResult<(String, AbortHandle)> {
    let g = rpc.path_group(group)?;
    let kind: String = params.req(0, "subscription")?;
    let options: Option<Value> = params.opt(1, "options")?;
    let from_block = match options.as_ref().and_then(|o| o.get("fromBlock")) {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value::<alloy_eips::BlockNumberOrTag>(v.clone())
                .map_err(|e| RpcError::invalid_params(format!("'fromBlock': {e}")))?,
        ),
    };
    let head = g.head()?;
    let mut next = match from_block {
        Some(alloy_eips::BlockNumberOrTag::Number(n)) => n,
        Some(alloy_eips::BlockNumberOrTag::Earliest) => 0,
        _ => head + 1,
    };
    let filter = match kind.as_str() {
        "newHeads" => None,
        "logs" => {
            let mut opts = options.unwrap_or_else(|| json!({}));
            if let Value::Object(o) = &mut opts {
                // The range is the subscription's own: from `fromBlock`, following the head.
                o.remove("fromBlock");
                o.remove("toBlock");
            }
            Some(
                serde_json::from_value::<alloy_rpc_types_eth::Filter>(opts)
                    .map_err(|e| RpcError::invalid_params(format!("'options': {e}")))?,
            )
        }
        other => {
            return Err(RpcError::invalid_params(format!(
                "'subscription': unsupported kind '{other}' (newHeads, logs)"
            )));
        }
    };
    let sub = format!("{:#x}", rand::random::<u128>());
    let out = out.clone();
    let sub_id = sub.clone();
    let mut heads = g.subscribe_head();
    let task = tokio::spawn(async move {
        if started.await.is_err() {
            return;
        }
        loop {
            let head = *heads.borrow_and_update();
            while next <= head {
                let (g2, filter2, n) = (Arc::clone(&g), filter.clone(), next);
                let items = tokio::task::spawn_blocking(move || match &filter2 {
                    None => eth_head(&*g2, n).map(|h| vec![h]),
                    Some(f) => block_logs(&*g2, f, n),
                })
                .await;
                let Ok(Ok(items)) = items else { return };
                for item in items {
                    let note = json!({
                        "jsonrpc": "2.0",
                        "method": api::ETH_SUBSCRIPTION,
                        "params": { "subscription": sub_id, "result": item },
                    });
                    if out.send(note.to_string()).await.is_err() {
                        return;
                    }
                }
                next += 1;
            }
            if heads.changed().await.is_err() {
                return;
            }
        }
    });
    Ok((sub, task.abort_handle()))
}
