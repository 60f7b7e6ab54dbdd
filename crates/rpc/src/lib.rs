//! JSON-RPC 2.0 over HTTP and WebSocket (one port): native methods with a group parameter
//! and `eth_*` for the group named by the URL path (`/` = the default group, `/G` = group
//! G). The contract is docs/rpc.md.
//!
//! Built on axum rather than a JSON-RPC framework because the group comes from the path,
//! errors must match geth's shapes byte for byte (code 3 with revert data, -32602 naming
//! the parameter), and the body limit must answer in JSON-RPC rather than plain text.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod convert;
pub mod jsonrpc;
mod methods;

pub use methods::{GroupAdmin, GroupMap, Limits, PeerView, Rpc};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures_util::{SinkExt, StreamExt};
use jsonrpc::{INVALID_REQUEST, RpcError, RpcResult, parse_request, response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;

/// Subscriptions one WebSocket connection may hold.
const MAX_SUBSCRIPTIONS: usize = 100;

/// Serves `rpc` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    rpc: Arc<Rpc>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limit = rpc.limits.max_body_bytes;
    let app = Router::new()
        .route("/", post(post_default).get(ws_default))
        .route("/{group}", post(post_group).get(ws_group))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(rpc);
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

async fn post_default(
    State(rpc): State<Arc<Rpc>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    http_call(rpc, None, body).await
}

async fn post_group(
    State(rpc): State<Arc<Rpc>>,
    Path(group): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    http_call(rpc, Some(group), body).await
}

async fn http_call(
    rpc: Arc<Rpc>,
    group: Option<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(rejection) => {
            let status = rejection.status();
            let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                format!("invalid request: body exceeds {} bytes", rpc.limits.max_body_bytes)
            } else {
                format!("invalid request: {}", rejection.body_text())
            };
            let err = response(Value::Null, Err(RpcError::new(INVALID_REQUEST, message)));
            return (status, [(header::CONTENT_TYPE, "application/json")], err.to_string())
                .into_response();
        }
    };
    let answer =
        tokio::task::spawn_blocking(move || rpc.handle_text(group.as_deref(), &body)).await;
    match answer {
        Ok(Some(value)) => {
            ([(header::CONTENT_TYPE, "application/json")], value.to_string()).into_response()
        }
        Ok(None) => StatusCode::OK.into_response(),
        Err(e) => {
            let err = response(Value::Null, Err(RpcError::internal(e)));
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "application/json")],
                err.to_string(),
            )
                .into_response()
        }
    }
}

async fn ws_default(State(rpc): State<Arc<Rpc>>, ws: WebSocketUpgrade) -> Response {
    let max = rpc.limits.max_body_bytes;
    ws.max_message_size(max).on_upgrade(move |socket| ws_session(rpc, None, socket))
}

async fn ws_group(
    State(rpc): State<Arc<Rpc>>,
    Path(group): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    let max = rpc.limits.max_body_bytes;
    ws.max_message_size(max).on_upgrade(move |socket| ws_session(rpc, Some(group), socket))
}

/// One WebSocket connection: requests answered in order; subscriptions push notifications
/// through the same writer.
async fn ws_session(rpc: Arc<Rpc>, group: Option<String>, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<String>(1024);
    let writer = tokio::spawn(async move {
        while let Some(text) = out_rx.recv().await {
            if sink.send(Message::Text(text.into())).await.is_err() {
                break;
            }
        }
    });
    let mut subs: HashMap<String, AbortHandle> = HashMap::new();
    while let Some(Ok(msg)) = stream.next().await {
        let text = match msg {
            Message::Text(t) => t.as_str().to_owned(),
            Message::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
            Message::Close(_) => break,
            _ => continue,
        };
        let mut starts = Vec::new();
        let answer =
            ws_answer(&rpc, group.as_deref(), &text, &mut subs, &out_tx, &mut starts).await;
        if let Some(answer) = answer
            && out_tx.send(answer.to_string()).await.is_err()
        {
            break;
        }
        // New subscriptions start only now, so their first notification follows the answer
        // that carries their id.
        for go in starts {
            let _ = go.send(());
        }
    }
    for (_, handle) in subs {
        handle.abort();
    }
    drop(out_tx);
    let _ = writer.await;
}

/// Answers one WebSocket message: a request or a batch, subscriptions included.
async fn ws_answer(
    rpc: &Arc<Rpc>,
    group: Option<&str>,
    text: &str,
    subs: &mut HashMap<String, AbortHandle>,
    out: &mpsc::Sender<String>,
    starts: &mut Vec<oneshot::Sender<()>>,
) -> Option<Value> {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let err = RpcError::new(jsonrpc::PARSE_ERROR, format!("parse error: {e}"));
            return Some(response(Value::Null, Err(err)));
        }
    };
    match value {
        Value::Array(items) => {
            if let Some(err) = rpc.check_batch(items.len()) {
                return Some(err);
            }
            let mut answers = Vec::new();
            for item in items {
                answers.extend(ws_one(rpc, group, item, subs, out, starts).await);
            }
            (!answers.is_empty()).then_some(Value::Array(answers))
        }
        other => ws_one(rpc, group, other, subs, out, starts).await,
    }
}

async fn ws_one(
    rpc: &Arc<Rpc>,
    group: Option<&str>,
    value: Value,
    subs: &mut HashMap<String, AbortHandle>,
    out: &mpsc::Sender<String>,
    starts: &mut Vec<oneshot::Sender<()>>,
) -> Option<Value> {
    let method = value.get("method").and_then(Value::as_str);
    if matches!(method, Some("eth_subscribe" | "eth_unsubscribe")) {
        return match parse_request(value) {
            Err(resp) => Some(resp),
            Ok(req) => {
                let wants_answer = req.id.is_some();
                let answer = handle_subscription(rpc, group, req, subs, out, starts);
                wants_answer.then_some(answer)
            }
        };
    }
    let (rpc, group) = (Arc::clone(rpc), group.map(str::to_owned));
    tokio::task::spawn_blocking(move || rpc.handle_value(group.as_deref(), value))
        .await
        .unwrap_or_else(|e| Some(response(Value::Null, Err(RpcError::internal(e)))))
}

fn handle_subscription(
    rpc: &Arc<Rpc>,
    group: Option<&str>,
    req: jsonrpc::Request,
    subs: &mut HashMap<String, AbortHandle>,
    out: &mpsc::Sender<String>,
    starts: &mut Vec<oneshot::Sender<()>>,
) -> Value {
    let id = req.id.clone().unwrap_or(Value::Null);
    let result = if req.method == "eth_unsubscribe" {
        req.params.req::<String>(0, "subscriptionId").map(|sub| match subs.remove(&sub) {
            Some(handle) => {
                handle.abort();
                json!(true)
            }
            None => json!(false),
        })
    } else {
        if subs.len() >= MAX_SUBSCRIPTIONS {
            return response(
                id,
                Err(RpcError::new(
                    jsonrpc::TX_REFUSED,
                    format!("too many subscriptions on this connection ({MAX_SUBSCRIPTIONS})"),
                )),
            );
        }
        let (go, started) = oneshot::channel();
        subscribe(rpc, group, &req.params, out, started).map(|(sub, handle)| {
            subs.insert(sub.clone(), handle);
            starts.push(go);
            json!(sub)
        })
    };
    response(id, result)
}

fn subscribe(
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
    let head = methods::head(&g)?;
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
    let rpc = Arc::clone(rpc);
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
                let (rpc2, g2, filter2, n) =
                    (Arc::clone(&rpc), Arc::clone(&g), filter.clone(), next);
                let items = tokio::task::spawn_blocking(move || match &filter2 {
                    None => rpc2.eth_head(&g2, n).map(|h| vec![h]),
                    Some(f) => rpc2.block_logs(&g2, f, n),
                })
                .await;
                let Ok(Ok(items)) = items else { return };
                for item in items {
                    let note = json!({
                        "jsonrpc": "2.0",
                        "method": "eth_subscription",
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
