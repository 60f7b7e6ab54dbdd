//! One admitted link's life: registration in the peer table, the reader (inbound frames,
//! keepalive answers, the dead-peer timeout) and the writer (control, consensus, then bulk
//! frames, and a ping every keepalive interval), and the one line saying why it ended.

use crate::cert::short_id;
use crate::frame::Control;
use crate::handshake::Admitted;
use crate::queue::SendQueue;
use crate::shared::{Inner, PeerConn, Registered};
use futures_util::{SinkExt, StreamExt};
use parking_lot::Mutex;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio::time::{MissedTickBehavior, interval, timeout};
use tokio_util::codec::LengthDelimitedCodecError;
use tracing::{debug, info, warn};

/// Frames written per flush at most, so a steady flood still gets flushed.
const FLUSH_EVERY: usize = 256;

/// Why a link ended; the first cause found wins.
#[derive(Debug, Clone)]
enum End {
    /// Nothing arrived within the dead-peer timeout.
    Timeout(Duration),
    /// The peer closed the connection.
    Closed,
    /// The peer sent a frame over `max_frame_bytes`.
    Oversized,
    /// Reading or writing failed.
    Error(String),
    /// This node closed it: shutdown, lists reloaded, or replaced by a newer connection.
    Local,
}

impl End {
    fn describe(&self, max_frame: usize) -> String {
        match self {
            End::Timeout(t) => format!("timeout: nothing received for {} ms", t.as_millis()),
            End::Closed => "closed by the peer".into(),
            End::Oversized => format!("error: it sent a frame over max_frame_bytes ({max_frame})"),
            End::Error(e) => format!("error: {e}"),
            End::Local => "closed by this node".into(),
        }
    }
}

/// The last ping written: its sequence number and when.
type PingSent = Mutex<Option<(u64, Instant)>>;

/// Registers an admitted connection and runs it until it ends. Returns `false` if it was a
/// duplicate of a preferred connection and was closed at once.
pub(crate) async fn run(
    inner: Arc<Inner>,
    admitted: Admitted,
    addr: SocketAddr,
    outbound: bool,
) -> bool {
    let Admitted { transport, last_read, peer, cert } = admitted;
    let cancel = inner.shutdown.child_token();
    if cancel.is_cancelled() {
        return false;
    }
    let queue = Arc::new(SendQueue::new(inner.limits.send_queue_bytes));
    let rtt_us = Arc::new(AtomicU64::new(0));
    let conn_id = inner.next_conn_id();
    let dialer = if outbound { inner.node_id } else { peer };
    let entry = PeerConn {
        conn_id,
        queue: Arc::clone(&queue),
        cancel: cancel.clone(),
        addr,
        dialer,
        cert: cert.describe(),
        since: Instant::now(),
        rtt_us: Arc::clone(&rtt_us),
    };
    let how = inner.register(peer, entry);
    if matches!(how, Registered::Duplicate) {
        debug!(
            "closing duplicate connection to {} at {addr}; keeping the other one",
            short_id(&peer)
        );
        return false;
    }
    let direction = if outbound { "outbound" } else { "inbound" };
    inner.log_linked(&peer, addr, &how, &format!("{direction}, {}", cert.describe()));

    let (mut sink, mut stream) = transport.split();
    let end: Mutex<Option<End>> = Mutex::new(None);
    let finish = |why: End| {
        end.lock().get_or_insert(why);
        cancel.cancel();
    };
    let ping_sent: PingSent = Mutex::new(None);
    let (keepalive, peer_timeout) = (inner.limits.keepalive, inner.limits.peer_timeout);

    let reader = async {
        // The timeout applies once the peer has shown it sends keepalives: a node built before
        // keepalive existed never does, and its link is kept as before.
        let mut armed = false;
        let mut warned_old = false;
        let linked = Instant::now();
        let mut check = interval(keepalive);
        check.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = check.tick() => {
                    let idle = last_read.idle();
                    if armed && idle >= peer_timeout {
                        inner.counters.timeouts.fetch_add(1, Relaxed);
                        finish(End::Timeout(idle));
                        break;
                    } else if !armed && !warned_old && linked.elapsed() >= peer_timeout {
                        warned_old = true;
                        info!(
                            "peer {} at {addr} sends no keepalives (an older version?): this link is not checked for liveness",
                            short_id(&peer)
                        );
                    }
                }
                item = stream.next() => match item {
                    Some(Ok(body)) if Control::is_control(&body) => {
                        armed = true;
                        match Control::decode(&body) {
                            Ok(Control::Ping(seq)) => queue.push_control(Control::Pong(seq).encode()),
                            Ok(Control::Pong(seq)) => {
                                if let Some((sent_seq, at)) = *ping_sent.lock()
                                    && sent_seq == seq
                                {
                                    rtt_us.store(at.elapsed().as_micros() as u64, Relaxed);
                                }
                            }
                            // A later version's control frame: ignored, so kinds can be added.
                            Err(e) => debug!("ignoring control frame from {}: {e}", short_id(&peer)),
                        }
                    }
                    Some(Ok(body)) => inner.dispatch(peer, body.freeze()),
                    Some(Err(e)) => {
                        if e.get_ref().is_some_and(|i| i.is::<LengthDelimitedCodecError>()) {
                            inner.counters.oversized.fetch_add(1, Relaxed);
                            finish(End::Oversized);
                        } else if matches!(
                            e.kind(),
                            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset
                        ) {
                            finish(End::Error(
                                "the connection dropped without a TLS close (the peer stopped or crashed?)".into(),
                            ));
                        } else {
                            finish(End::Error(format!("read failed: {e}")));
                        }
                        break;
                    }
                    None => {
                        finish(End::Closed);
                        break;
                    }
                },
            }
        }
    };
    let writer = async {
        let mut seq = 0u64;
        let mut next_ping = tokio::time::Instant::now();
        // Every await on the socket is raced against the cancel token: on a dead link a write
        // can block until TCP gives up, minutes later.
        let result: std::io::Result<()> = async {
            loop {
                // A ping is due every keepalive interval, busy or idle, so the peer's view of
                // this link and our round-trip figure stay fresh.
                let now = tokio::time::Instant::now();
                let first = if now >= next_ping {
                    next_ping = now + keepalive;
                    seq += 1;
                    *ping_sent.lock() = Some((seq, Instant::now()));
                    Some(Control::Ping(seq).encode())
                } else {
                    queue.pop()
                };
                let Some(first) = first else {
                    tokio::select! {
                        biased;
                        _ = cancel.cancelled() => return Ok(()),
                        _ = queue.ready() => {}
                        _ = tokio::time::sleep_until(next_ping) => {}
                    }
                    continue;
                };
                let batch = async {
                    sink.feed(first).await?;
                    for _ in 1..FLUSH_EVERY {
                        let Some(next) = queue.pop() else { break };
                        sink.feed(next).await?;
                    }
                    sink.flush().await
                };
                tokio::select! {
                    _ = cancel.cancelled() => return Ok(()),
                    r = batch => r?,
                }
            }
        }
        .await;
        if let Err(e) = result {
            finish(End::Error(format!("write failed: {e}")));
        }
        cancel.cancel();
    };
    tokio::join!(reader, writer);
    queue.close();
    let why = end.lock().take().unwrap_or(End::Local);
    let reason = why.describe(inner.limits.max_frame);
    if inner.unregister(&peer, conn_id, &reason) {
        let who = format!("peer {} at {addr} ({})", short_id(&peer), cert.describe());
        match why {
            _ if inner.shutdown.is_cancelled() => debug!("{who} disconnected: shutting down"),
            End::Timeout(_) | End::Oversized | End::Error(_) => {
                warn!("{who} is gone: {reason}; redialing if it is a configured peer")
            }
            End::Closed | End::Local => info!("{who} is gone: {reason}"),
        }
    } else {
        debug!("connection to {} at {addr} ended: {reason}", short_id(&peer));
    }
    // Sends close_notify unless the link is dead; bounded so a stuck peer cannot hold a task,
    // and detached so the dialer can redial at once.
    if !matches!(why, End::Timeout(_)) {
        let mut sink = sink;
        tokio::spawn(async move {
            let _ = timeout(Duration::from_secs(1), sink.close()).await;
        });
    }
    true
}
