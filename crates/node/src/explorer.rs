//! The block explorer at `/explorer`: static files embedded in the binary (no Node.js at
//! run time). The page reads only the public JSON-RPC of the node that serves it, so the same
//! files work against any node.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

const INDEX: &str = include_str!("../../../explorer/index.html");
const APP: &str = include_str!("../../../explorer/app.js");
const STYLE: &str = include_str!("../../../explorer/style.css");

fn asset(kind: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

/// `/explorer` and its files.
pub(crate) fn router() -> Router {
    Router::new()
        .route("/explorer", get(|| async { Redirect::permanent("/explorer/") }))
        .route("/explorer/", get(|| async { asset("text/html; charset=utf-8", INDEX) }))
        .route("/explorer/app.js", get(|| async { asset("text/javascript; charset=utf-8", APP) }))
        .route("/explorer/style.css", get(|| async { asset("text/css; charset=utf-8", STYLE) }))
        .route("/explorer/{*rest}", get(|| async { (StatusCode::NOT_FOUND, "no such file\n") }))
}
