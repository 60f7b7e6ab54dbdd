//! HTTP and WebSocket serving: [`router`] (mountable beside other routes) and [`serve`],
//! which accepts connections itself so every listener gets the slow-loris guards (a header
//! read timeout, a header size cap, a body read timeout).

use crate::jsonrpc::{INVALID_REQUEST, RpcError, response};
use crate::service::Rpc;
use crate::ws;
use axum::Router;
use axum::body::Body;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::Value;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower_service::Service;

/// The remote address of a request's connection (set by [`serve`]; absent when the router
/// is served by other code, then per-client quotas do not apply).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// The JSON-RPC routes: `POST /` and `POST /{group}` (HTTP), `GET` of the same paths
/// (WebSocket). Static routes merged beside it (`/metrics`, `/health`) take precedence over
/// `/{group}`.
pub fn router(rpc: Arc<Rpc>) -> Router {
    Router::new()
        .route("/", post(post_default).get(ws_default))
        .route("/{group}", post(post_group).get(ws_group))
        .with_state(rpc)
}

/// Serves `rpc` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    rpc: Arc<Rpc>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(Arc::clone(&rpc));
    serve_router(listener, app, &rpc, shutdown).await
}

/// Serves `app` (a [`router`], possibly with more routes) on `listener` with `rpc`'s
/// connection limits until `shutdown` resolves; then waits for open requests to finish.
pub async fn serve_router(
    listener: TcpListener,
    app: Router,
    rpc: &Rpc,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = rpc.limits();
    let (header_timeout, max_header) = (limits.header_timeout, limits.max_header_bytes);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "RPC accept failed; retrying in 50 ms");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let mut stop = stop_rx.clone();
        conns.spawn(async move {
            let svc = hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ClientAddr(peer));
                let mut app = app.clone();
                async move { app.call(req.map(Body::new)).await }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_header_size(max_header)
                .max_buf_size(max_header.max(8192));
            let conn = builder.serve_connection(TokioIo::new(stream), svc).with_upgrades();
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = async { let _ = stop.wait_for(|s| *s).await; } => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
        while conns.try_join_next().is_some() {}
    }
    let _ = stop_tx.send(true);
    while conns.join_next().await.is_some() {}
    Ok(())
}

fn client_of(req: &Request) -> Option<IpAddr> {
    req.extensions().get::<ClientAddr>().map(|c| c.0.ip())
}

async fn post_default(State(rpc): State<Arc<Rpc>>, req: Request) -> Response {
    http_call(rpc, None, req).await
}

async fn post_group(
    State(rpc): State<Arc<Rpc>>,
    Path(group): Path<String>,
    req: Request,
) -> Response {
    http_call(rpc, Some(group), req).await
}

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn envelope_error(status: StatusCode, message: String) -> Response {
    let err = response(Value::Null, Err(RpcError::new(INVALID_REQUEST, message)));
    json_response(status, err.to_string())
}

async fn http_call(rpc: Arc<Rpc>, group: Option<String>, req: Request) -> Response {
    let client = client_of(&req);
    let limits = rpc.limits();
    let max = limits.max_body_bytes;
    let too_large = || {
        envelope_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("invalid request: body exceeds {max} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared
        && n > max as u64
    {
        // Read (and drop) a body up to twice the limit before answering: closing with most
        // of it unread would reset the connection, and the client would see a broken pipe
        // instead of the 413. Bigger ones are cut off at once.
        if n <= 2 * max as u64 {
            let drain = axum::body::to_bytes(req.into_body(), 2 * max);
            let _ = tokio::time::timeout(limits.body_timeout, drain).await;
        }
        return too_large();
    }
    let read = axum::body::to_bytes(req.into_body(), max);
    let body = match tokio::time::timeout(limits.body_timeout, read).await {
        Ok(Ok(body)) => body,
        Ok(Err(e)) if format!("{e}").contains("length limit") => return too_large(),
        Ok(Err(e)) => {
            return envelope_error(StatusCode::BAD_REQUEST, format!("invalid request: {e}"));
        }
        Err(_) => {
            return envelope_error(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "invalid request: the body did not arrive within {} s ([rpc] body_timeout_ms)",
                    limits.body_timeout.as_secs()
                ),
            );
        }
    };
    let answer =
        tokio::task::spawn_blocking(move || rpc.handle_text(group.as_deref(), &body, client)).await;
    match answer {
        Ok(Some(value)) => json_response(StatusCode::OK, value.to_string()),
        Ok(None) => StatusCode::OK.into_response(),
        Err(e) => {
            let err = response(Value::Null, Err(RpcError::internal(e)));
            json_response(StatusCode::INTERNAL_SERVER_ERROR, err.to_string())
        }
    }
}

async fn ws_default(State(rpc): State<Arc<Rpc>>, req: Request) -> Response {
    ws_upgrade(rpc, None, req).await
}

async fn ws_group(
    State(rpc): State<Arc<Rpc>>,
    Path(group): Path<String>,
    req: Request,
) -> Response {
    ws_upgrade(rpc, Some(group), req).await
}

async fn ws_upgrade(rpc: Arc<Rpc>, group: Option<String>, req: Request) -> Response {
    use axum::extract::FromRequest;
    let client = client_of(&req);
    let ws = match WebSocketUpgrade::from_request(req, &()).await {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let max = rpc.limits().max_body_bytes;
    ws.max_message_size(max).on_upgrade(move |socket| ws::session(rpc, group, client, socket))
}
