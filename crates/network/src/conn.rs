//! Keeping links up: the accept loop for inbound connections and one dialer per configured
//! peer address (redial with backoff from 100 ms to 1 s, so a healed partition is bridged
//! within about a second however long it lasted).

use crate::handshake::{self, Failure};
use crate::link;
use crate::shared::Inner;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::sleep;
use tracing::{debug, warn};

const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// Low enough that a long partition does not leave the dialers sleeping for many seconds after
/// it heals; one TCP connect a second to an unreachable peer costs nothing.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// A configured peer failing to link for this long is logged at WARN (before, at DEBUG).
const UNREACHABLE_WARN_AFTER: Duration = Duration::from_secs(10);
/// A connection that lasted this long resets the dialer's backoff.
const STABLE_AFTER: Duration = Duration::from_secs(2);

pub(crate) async fn accept_loop(inner: Arc<Inner>, listener: TcpListener) {
    loop {
        tokio::select! {
            _ = inner.shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, addr)) => {
                    tokio::spawn(inbound(inner.clone(), tcp, addr));
                }
                Err(e) => {
                    // Usually out of file descriptors: the operator should raise the limit.
                    if inner.first_in_window("accept failed") {
                        warn!(
                            "accepting a connection on {} failed (out of file descriptors? check ulimit -n): {e}",
                            inner.local_addr
                        );
                    }
                    sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
}

async fn inbound(inner: Arc<Inner>, tcp: TcpStream, addr: SocketAddr) {
    let admitted = tokio::select! {
        _ = inner.shutdown.cancelled() => return,
        r = handshake::accept(&inner, tcp) => r,
    };
    match admitted {
        Ok(admitted) => {
            link::run(inner, admitted, addr, false).await;
        }
        Err(Failure::Refused { reason, .. }) => inner.refused(addr, &reason),
        Err(Failure::Failed(reason)) => {
            // Strangers probing the port are not worth a WARN; a peer refusing us is.
            if reason.contains("refused our") {
                inner.failed(addr, &reason, Duration::ZERO);
            } else {
                debug!("inbound connection from {addr}: {reason}");
            }
        }
    }
}

/// Keeps `addr` connected: dial, run, and redial with backoff (100 ms doubling to 1 s).
pub(crate) async fn dial_loop(inner: Arc<Inner>, addr: SocketAddr) {
    let mut backoff = MIN_BACKOFF;
    // When the attempts to reach this address started failing.
    let mut failing_since: Option<Instant> = None;
    loop {
        if inner.shutdown.is_cancelled() {
            return;
        }
        // While the node behind this address is connected (perhaps through its own dial to
        // us), there is nothing to do; wait for the peer table to change.
        let known = inner.addr_ids.lock().get(&addr).copied();
        if let Some(id) = known {
            if id == inner.node_id {
                warn!(
                    "not dialing {addr}: it is this node's own address; remove it from [p2p] peers"
                );
                return;
            }
            if inner.is_connected(&id) {
                let changed = inner.peers_changed.notified();
                tokio::select! {
                    _ = inner.shutdown.cancelled() => return,
                    _ = changed => {}
                    _ = sleep(Duration::from_secs(1)) => {}
                }
                backoff = MIN_BACKOFF;
                continue;
            }
        }
        let attempt = tokio::select! {
            _ = inner.shutdown.cancelled() => return,
            r = handshake::connect(&inner, addr) => r,
        };
        match attempt {
            Ok(admitted) => {
                failing_since = None;
                inner.addr_ids.lock().insert(addr, admitted.peer);
                let started = Instant::now();
                if link::run(inner.clone(), admitted, addr, true).await
                    && started.elapsed() >= STABLE_AFTER
                {
                    backoff = MIN_BACKOFF;
                }
            }
            Err(Failure::Refused { reason, node_id }) => {
                if let Some(id) = node_id {
                    inner.addr_ids.lock().insert(addr, id);
                }
                inner.refused(addr, &reason);
            }
            Err(Failure::Failed(reason)) => {
                // A peer refusing us needs the operator now; one not up yet (a chain starting,
                // a node restarting, a short partition) only once it stays away.
                let since = *failing_since.get_or_insert_with(Instant::now);
                if reason.contains("refused our") || since.elapsed() >= UNREACHABLE_WARN_AFTER {
                    inner.failed(addr, &reason, since.elapsed());
                } else {
                    debug!("peer {addr}: {reason}; retrying");
                }
            }
        }
        tokio::select! {
            _ = inner.shutdown.cancelled() => return,
            _ = sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
