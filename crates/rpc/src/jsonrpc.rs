//! JSON-RPC 2.0 envelopes: request validation, typed errors, positional params.

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const INTERNAL_ERROR: i64 = -32603;
pub const TX_REFUSED: i64 = -32000;
pub const UNKNOWN_GROUP: i64 = -32001;
/// geth's code for "execution reverted", with the revert bytes as `data`.
pub const EXECUTION_REVERTED: i64 = 3;

#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError { code, message: message.into(), data: None }
    }
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }
    pub fn invalid_params(message: impl std::fmt::Display) -> Self {
        RpcError::new(INVALID_PARAMS, format!("invalid params: {message}"))
    }
    pub fn internal(err: impl std::fmt::Display) -> Self {
        // The detail is logged; clients get a plain statement.
        tracing::error!(error = %err, "internal error serving RPC");
        RpcError::new(INTERNAL_ERROR, format!("internal error: {err}"))
    }
    pub fn to_json(&self) -> Value {
        let mut obj = json!({ "code": self.code, "message": self.message });
        if let Some(data) = &self.data {
            obj["data"] = data.clone();
        }
        obj
    }
}

pub type RpcResult<T = Value> = Result<T, RpcError>;

pub fn response(id: Value, result: RpcResult) -> Value {
    match result {
        Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        Err(err) => json!({ "jsonrpc": "2.0", "id": id, "error": err.to_json() }),
    }
}

/// A validated request.
pub struct Request {
    pub id: Option<Value>,
    pub method: String,
    pub params: Params,
}

/// Validates one request object; on failure, the error response (with the id if readable).
pub fn parse_request(value: Value) -> Result<Request, Value> {
    let Value::Object(mut obj) = value else {
        return Err(response(
            Value::Null,
            Err(RpcError::new(INVALID_REQUEST, "invalid request: expected a JSON object")),
        ));
    };
    let id = obj.remove("id");
    let id_for_error = id.clone().unwrap_or(Value::Null);
    if !matches!(id, None | Some(Value::Null | Value::Number(_) | Value::String(_))) {
        return Err(response(
            Value::Null,
            Err(RpcError::new(
                INVALID_REQUEST,
                "invalid request: 'id' must be a number, string or null",
            )),
        ));
    }
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(response(
            id_for_error,
            Err(RpcError::new(INVALID_REQUEST, "invalid request: 'jsonrpc' must be \"2.0\"")),
        ));
    }
    let method = match obj.remove("method") {
        Some(Value::String(m)) => m,
        _ => {
            return Err(response(
                id_for_error,
                Err(RpcError::new(INVALID_REQUEST, "invalid request: 'method' must be a string")),
            ));
        }
    };
    let params = match obj.remove("params") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items,
        Some(Value::Object(_)) => {
            return Err(response(
                id_for_error,
                Err(RpcError::invalid_params("params must be an array (by-position)")),
            ));
        }
        Some(_) => {
            return Err(response(
                id_for_error,
                Err(RpcError::new(INVALID_REQUEST, "invalid request: 'params' must be an array")),
            ));
        }
    };
    Ok(Request { id, method, params: Params(params) })
}

/// Positional params, read by index with a name for error messages.
pub struct Params(pub Vec<Value>);

impl Params {
    /// A required parameter.
    pub fn req<T: DeserializeOwned>(&self, index: usize, name: &str) -> RpcResult<T> {
        match self.0.get(index) {
            None | Some(Value::Null) => Err(RpcError::invalid_params(format!(
                "missing parameter '{name}' (position {index})"
            ))),
            Some(v) => decode(v, name),
        }
    }

    /// An optional parameter (absent or null = None).
    pub fn opt<T: DeserializeOwned>(&self, index: usize, name: &str) -> RpcResult<Option<T>> {
        match self.0.get(index) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => decode(v, name).map(Some),
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn decode<T: DeserializeOwned>(value: &Value, name: &str) -> RpcResult<T> {
    T::deserialize(value).map_err(|e| RpcError::invalid_params(format!("'{name}': {e}")))
}

/// `0x`-prefixed lower-case hex quantity.
pub fn quantity(n: impl Into<u128>) -> Value {
    Value::String(format!("{:#x}", n.into()))
}

pub fn hex_bytes(bytes: &[u8]) -> Value {
    Value::String(format!("0x{}", hex::encode(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_malformed_envelopes_with_reasons() {
        let err = parse_request(json!([1])).err().unwrap();
        assert_eq!(err["error"]["code"], INVALID_REQUEST);
        let err = parse_request(json!({"id": 1, "method": "x"})).err().unwrap();
        assert_eq!(err["error"]["code"], INVALID_REQUEST);
        assert_eq!(err["id"], 1);
        let err = parse_request(json!({"jsonrpc": "2.0", "id": 1, "method": 5})).err().unwrap();
        assert!(err["error"]["message"].as_str().unwrap().contains("method"));
        let err = parse_request(json!({"jsonrpc": "2.0", "id": {}, "method": "m"})).err().unwrap();
        assert_eq!(err["error"]["code"], INVALID_REQUEST);
    }

    #[test]
    fn params_name_the_bad_field() {
        let req =
            parse_request(json!({"jsonrpc": "2.0", "id": 1, "method": "m", "params": ["g", "zz"]}))
                .ok()
                .unwrap();
        let err = req.params.req::<alloy_primitives::B256>(1, "hash").unwrap_err();
        assert_eq!(err.code, INVALID_PARAMS);
        assert!(err.message.contains("'hash'"), "{}", err.message);
        let err = req.params.req::<String>(2, "key").unwrap_err();
        assert!(err.message.contains("missing parameter 'key'"));
        assert_eq!(req.params.opt::<String>(2, "key").unwrap(), None);
    }
}
