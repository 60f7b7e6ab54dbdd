//! What the RPC server records per method. Methods outside the catalogue (typos, probes)
//! share the `method="other"` series, so a client cannot grow the series count.

use metrics::{Counter, Histogram, counter, histogram};
use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Instant;

pub const REQUESTS: &str = "aurum_rpc_requests_total";
pub const ERRORS: &str = "aurum_rpc_errors_total";
pub const DURATION: &str = "aurum_rpc_request_duration_seconds";

pub(crate) const HELP: &[(&str, &str)] = &[
    (REQUESTS, "JSON-RPC calls served, by method (a batch counts each of its calls)."),
    (ERRORS, "JSON-RPC calls answered with an error object, by method."),
    (DURATION, "Time to serve one JSON-RPC call, by method."),
];

struct Method {
    requests: Counter,
    errors: Counter,
    duration: Histogram,
}

impl Method {
    fn new(name: &'static str) -> Self {
        Method {
            requests: counter!(REQUESTS, "method" => name),
            errors: counter!(ERRORS, "method" => name),
            duration: histogram!(DURATION, "method" => name),
        }
    }
}

/// Handles for every method of the catalogue, each made at its first call (so methods
/// never called add no series; after that, finding one is a map lookup and an atomic load).
pub struct Rpc {
    methods: HashMap<&'static str, OnceLock<Method>>,
    other: OnceLock<Method>,
}

impl Rpc {
    pub fn new(methods: impl IntoIterator<Item = &'static str>) -> Self {
        Rpc {
            methods: methods.into_iter().map(|m| (m, OnceLock::new())).collect(),
            other: OnceLock::new(),
        }
    }

    /// One call of `method`, started at `started`; `ok` false if answered with an error.
    pub fn served(&self, method: &str, started: Instant, ok: bool) {
        let m = match self.methods.get_key_value(method) {
            Some((name, m)) => m.get_or_init(|| Method::new(name)),
            None => self.other.get_or_init(|| Method::new("other")),
        };
        m.requests.increment(1);
        if !ok {
            m.errors.increment(1);
        }
        m.duration.record(started.elapsed().as_secs_f64());
    }
}
