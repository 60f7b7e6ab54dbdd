//! JSON-RPC 2.0 over HTTP and WebSocket (one port): native methods with a group parameter
//! and `eth_*` for the group named by the URL path (`/` = the default group, `/G` = group
//! G). The contract, limits included, is docs/rpc.md; method names come from
//! `aurum-rpc-api`.
//!
//! Built on axum rather than a JSON-RPC framework because the group comes from the path,
//! errors must match geth's shapes byte for byte (code 3 with revert data, -32602 naming
//! the parameter), and the body limit must answer in JSON-RPC rather than plain text.
//!
//! Layout (imports only point down this list, so there are no cycles): `jsonrpc`, `limits`,
//! `backend` (the seams a group implements) and `convert` at the bottom; `filters`; `ctx`;
//! the domains `eth::{tags, block, tx, state, call}`, `eth` (node facts, filter methods),
//! `native`, `admin`; `service` (dispatch); `ws`, `server` on top.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod admin;
pub mod backend;
mod convert;
mod ctx;
mod eth;
mod filters;
pub mod jsonrpc;
pub mod limits;
mod native;
mod server;
mod service;
mod ws;

pub use backend::{
    Backend, BlockReader, Call, CallRequest, Extension, GroupAdmin, GroupMeta, GroupRef, PeerView,
    StateAt, TxReader, TxSubmit,
};
pub use ctx::Req;
pub use limits::Limits;
pub use server::{ClientAddr, router, serve, serve_router};
pub use service::{GroupMap, Rpc};
