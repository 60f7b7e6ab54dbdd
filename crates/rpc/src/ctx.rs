//! What every handler shares: the limits, the expensive-method gate, the filters, the
//! node's peers, and per-client quotas; and what one request carries (its client and the
//! work left to its batch).

use crate::backend::PeerView;
use crate::filters::Registry;
use crate::jsonrpc::{RpcError, TX_REFUSED};
use crate::limits::{Budget, Gate, Limits};
use parking_lot::Mutex;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// State shared by all requests of one RPC service.
pub struct Ctx {
    pub limits: Limits,
    /// Places for expensive methods (calls, estimates, log queries).
    pub gate: Arc<Gate>,
    pub filters: Registry,
    pub peers: Option<Arc<dyn PeerView>>,
    pub client_version: String,
    /// Subscriptions held per remote address.
    subs_per_client: SubCounts,
}

impl Ctx {
    pub fn new(limits: Limits) -> Ctx {
        Ctx {
            gate: Gate::new(limits.max_expensive),
            limits,
            filters: Registry::default(),
            peers: None,
            client_version: format!("aurum/v{}/rust", env!("CARGO_PKG_VERSION")),
            subs_per_client: Arc::default(),
        }
    }

    /// One JSON object per connected peer.
    pub fn peer_list(&self) -> Vec<Value> {
        self.peers.as_ref().map(|p| p.peers()).unwrap_or_default()
    }

    /// A subscription place for `client`, released when the guard drops.
    pub fn take_subscription(&self, client: Option<IpAddr>) -> Result<SubGuard, RpcError> {
        let Some(ip) = client else { return Ok(SubGuard(None)) };
        let mut counts = self.subs_per_client.lock();
        let n = counts.entry(ip).or_default();
        if *n >= self.limits.max_subscriptions_per_client {
            return Err(RpcError::new(
                TX_REFUSED,
                format!(
                    "too many subscriptions from {ip} ({n}, [rpc] max_subscriptions_per_client); \
                     unsubscribe unused ones"
                ),
            )
            .with_data(json!({ "reason": "SubscriptionQuota" })));
        }
        *n += 1;
        Ok(SubGuard(Some((ip, Arc::clone(&self.subs_per_client)))))
    }
}

/// Subscriptions held, by remote address.
type SubCounts = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// Holds one subscription place of a remote address.
pub struct SubGuard(Option<(IpAddr, SubCounts)>);

impl Drop for SubGuard {
    fn drop(&mut self) {
        if let Some((ip, counts)) = self.0.take() {
            let mut counts = counts.lock();
            if let Some(n) = counts.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    counts.remove(&ip);
                }
            }
        }
    }
}

/// One request (or batch) in flight: who sent it and the work its batch has left.
pub struct Req {
    pub client: Option<IpAddr>,
    pub budget: Budget,
}

impl Req {
    pub fn new(limits: &Limits, client: Option<IpAddr>) -> Req {
        Req { client, budget: Budget::batch(limits) }
    }
}
