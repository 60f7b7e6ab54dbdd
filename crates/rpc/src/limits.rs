//! What one client may ask of a node: sizes, batch work, execution gas and time, the
//! concurrency of expensive methods, and filter/subscription quotas. docs/rpc.md lists every
//! limit with its `[rpc]` key, default and error.

use crate::jsonrpc::{RpcError, TX_REFUSED};
use parking_lot::{Condvar, Mutex};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// EIP-1474's "limit exceeded": the request is valid but asks for more than the node serves.
pub const LIMIT_EXCEEDED: i64 = -32005;

/// Limits on what one request, batch, connection or client may ask for.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Request body (HTTP) or message (WebSocket) size.
    pub max_body_bytes: usize,
    /// Entries in one batch.
    pub max_batch: usize,
    /// Blocks one `eth_getLogs` (or one filter poll) may span.
    pub max_log_blocks: u64,
    /// Logs one answer may carry.
    pub max_logs: usize,
    /// Filters not polled for this long are dropped.
    pub filter_idle: Duration,
    /// Gas one `eth_call`/`eth_estimateGas`/`call` may use (a larger `gas` is lowered to it).
    pub call_gas_cap: u64,
    /// Wall-clock time one call may take before it is answered with a timeout.
    pub call_timeout: Duration,
    /// Expensive methods (calls, estimates, log queries) running at once, all clients.
    pub max_expensive: usize,
    /// Work one batch may do: gas of its calls together.
    pub batch_gas: u64,
    /// Work one batch may do: logs returned and blocks scanned by its log queries together.
    pub batch_logs: usize,
    pub batch_log_blocks: u64,
    /// Filters installed at once: all clients, and one remote address.
    pub max_filters: usize,
    pub max_filters_per_client: usize,
    /// Subscriptions held at once: one connection, and one remote address.
    pub max_subscriptions_per_connection: usize,
    pub max_subscriptions_per_client: usize,
    /// Pending-tx hashes one filter poll returns (the rest come next poll).
    pub max_pending_per_poll: usize,
    /// Slow-loris guard: a request's headers must arrive within this time.
    pub header_timeout: Duration,
    /// Request headers larger than this close the connection.
    pub max_header_bytes: usize,
    /// A request body must arrive within this time.
    pub body_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 8 * 1024 * 1024,
            max_batch: 1000,
            max_log_blocks: 10_000,
            max_logs: 10_000,
            filter_idle: Duration::from_secs(300),
            // geth's RPCGasCap: ~60x below the 3e9 tx cap, and at the gas rates revm reaches
            // here (hundreds of Mgas/s) it runs in well under the timeout.
            call_gas_cap: 50_000_000,
            // geth's RPCEVMTimeout.
            call_timeout: Duration::from_secs(5),
            max_expensive: 8,
            batch_gas: 100_000_000,
            batch_logs: 10_000,
            batch_log_blocks: 100_000,
            max_filters: 10_000,
            max_filters_per_client: 1_000,
            max_subscriptions_per_connection: 100,
            max_subscriptions_per_client: 1_000,
            max_pending_per_poll: 10_000,
            header_timeout: Duration::from_secs(30),
            max_header_bytes: 64 * 1024,
            body_timeout: Duration::from_secs(30),
        }
    }
}

/// Admits at most `max` holders at once; a permit is released when dropped, so work that
/// outlives its answer (a timed-out call) keeps its place until it really ends.
pub struct Gate {
    max: usize,
    used: Mutex<usize>,
    freed: Condvar,
}

/// One place in a [`Gate`].
#[must_use = "the place is released when the permit drops"]
pub struct Permit(Arc<Gate>);

impl Gate {
    pub fn new(max: usize) -> Arc<Gate> {
        Arc::new(Gate { max: max.max(1), used: Mutex::new(0), freed: Condvar::new() })
    }

    /// A place, waiting until `deadline` at most.
    pub fn acquire_until(self: &Arc<Self>, deadline: Instant) -> Option<Permit> {
        let mut used = self.used.lock();
        while *used >= self.max {
            if self.freed.wait_until(&mut used, deadline).timed_out() && *used >= self.max {
                return None;
            }
        }
        *used += 1;
        Some(Permit(Arc::clone(self)))
    }

    /// Places taken now.
    pub fn in_use(&self) -> usize {
        *self.used.lock()
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        *self.0.used.lock() -= 1;
        self.0.freed.notify_one();
    }
}

/// The work left to one request or batch: every expensive entry draws on it, and once it is
/// spent the remaining entries are refused (the cheap ones are still answered).
#[derive(Debug, Clone)]
pub struct Budget {
    pub gas: u64,
    pub logs: usize,
    pub log_blocks: u64,
}

impl Budget {
    /// The budget of one request or batch (never less than one call at the gas cap).
    pub fn batch(limits: &Limits) -> Budget {
        Budget {
            gas: limits.batch_gas.max(limits.call_gas_cap),
            logs: limits.batch_logs,
            log_blocks: limits.batch_log_blocks,
        }
    }

    /// Sets aside `gas` for a call (its gas limit); refused when less is left.
    pub fn reserve_gas(&mut self, gas: u64) -> Result<(), RpcError> {
        if self.gas < gas {
            return Err(batch_spent("gas", "[rpc] batch_gas"));
        }
        self.gas -= gas;
        Ok(())
    }

    /// Gives back what a call set aside but did not use.
    pub fn refund_gas(&mut self, unused: u64) {
        self.gas = self.gas.saturating_add(unused);
    }

    /// The log results and scanned blocks a log query may still use; refused when spent.
    pub fn log_allowance(&self) -> Result<(usize, u64), RpcError> {
        if self.logs == 0 || self.log_blocks == 0 {
            return Err(batch_spent(
                "log results or blocks scanned",
                "[rpc] batch_logs / batch_log_blocks",
            ));
        }
        Ok((self.logs, self.log_blocks))
    }

    /// Counts what a log query used.
    pub fn spend_logs(&mut self, logs: usize, blocks: u64) {
        self.logs = self.logs.saturating_sub(logs);
        self.log_blocks = self.log_blocks.saturating_sub(blocks);
    }
}

fn batch_spent(what: &str, key: &str) -> RpcError {
    RpcError::new(
        LIMIT_EXCEEDED,
        format!(
            "batch work limit reached: earlier entries of this batch used up its {what} ({key}); \
             send the remaining calls in another batch"
        ),
    )
    .with_data(json!({ "reason": "BatchWork" }))
}

/// The answer to a call that ran past the timeout.
pub fn timeout_error(method: &str, timeout: Duration) -> RpcError {
    RpcError::new(
        TX_REFUSED,
        format!(
            "execution aborted (timeout = {} ms): {method} ran longer than [rpc] call_timeout_ms; \
             lower the call's gas or split the work",
            timeout.as_millis()
        ),
    )
    .with_data(json!({ "reason": "Timeout", "timeoutMs": timeout.as_millis() as u64 }))
}

/// The answer when every expensive-method place stayed taken until the deadline.
pub fn busy_error(method: &str, max: usize) -> RpcError {
    RpcError::new(
        LIMIT_EXCEEDED,
        format!(
            "server busy: {max} expensive calls ([rpc] max_expensive) are running and none \
             finished within the call timeout; retry {method} later"
        ),
    )
    .with_data(json!({ "reason": "Busy", "maxExpensive": max }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_holds_places_until_permits_drop() {
        let gate = Gate::new(2);
        let a = gate.acquire_until(Instant::now()).unwrap();
        let _b = gate.acquire_until(Instant::now()).unwrap();
        assert!(gate.acquire_until(Instant::now() + Duration::from_millis(20)).is_none());
        let waiter = {
            let gate = Arc::clone(&gate);
            std::thread::spawn(move || {
                gate.acquire_until(Instant::now() + Duration::from_secs(30)).is_some()
            })
        };
        drop(a);
        assert!(waiter.join().unwrap());
        assert_eq!(gate.in_use(), 1);
    }

    #[test]
    fn budget_refuses_once_spent() {
        let mut b = Budget { gas: 100, logs: 5, log_blocks: 10 };
        b.reserve_gas(60).unwrap();
        b.refund_gas(50);
        b.reserve_gas(90).unwrap();
        let err = b.reserve_gas(1).unwrap_err();
        assert_eq!(err.code, LIMIT_EXCEEDED);
        assert!(err.message.contains("another batch"), "{}", err.message);
        assert_eq!(b.log_allowance().unwrap(), (5, 10));
        b.spend_logs(5, 3);
        assert!(b.log_allowance().is_err());
    }
}
