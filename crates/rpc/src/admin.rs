//! Group lifecycle methods, served only by the admin listener's service.

use crate::backend::GroupAdmin;
use crate::jsonrpc::{METHOD_NOT_FOUND, Params, RpcError, RpcResult, TX_REFUSED};
use aurum_rpc_api as api;
use serde_json::{Value, json};

/// Whether `method` is a lifecycle method.
pub fn is_lifecycle(method: &str) -> bool {
    api::method(method).is_some_and(|m| m.scope == api::Scope::Admin)
}

/// Serves a lifecycle method; without `admin` (the public listener) it names the admin one.
pub fn lifecycle(admin: Option<&dyn GroupAdmin>, method: &str, p: &Params) -> RpcResult {
    let Some(admin) = admin else {
        return Err(RpcError::new(
            METHOD_NOT_FOUND,
            format!("{method} is an admin method: call it on the node's admin listener"),
        )
        .with_data(json!({ "method": method })));
    };
    let failed = |e: String| RpcError::new(TX_REFUSED, e);
    match method {
        api::GET_GROUP_STATUS => return Ok(admin.list()),
        api::GENERATE_GROUP => {
            let genesis: Value = p.req(0, "genesis")?;
            return admin.generate(genesis).map_err(failed);
        }
        _ => {}
    }
    let group: String = p.req(0, "group")?;
    match method {
        api::START_GROUP => admin.start(&group),
        api::STOP_GROUP => admin.stop(&group),
        api::REMOVE_GROUP => admin.remove(&group),
        _ => admin.recover(&group),
    }
    .map_err(failed)?;
    Ok(json!(true))
}
