//! An in-memory stand-in for the network: whole nodes in one process exchange their
//! group's messages through a [`Hub`], which passes every message through a [`Links`]
//! policy that may deliver it, drop it, hold it back, duplicate it or change its bytes, and
//! may cut nodes off from each other. The in-process harness runs many seeded fault
//! scenarios on it quickly and without sockets; the real node uses the TCP network instead.

use crate::{InboundSender, PeerSender};
use aurum_network::{Module, NodeId};
use bytes::Bytes;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// One message on its way between two nodes.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    pub from: &'a NodeId,
    pub to: &'a NodeId,
    pub group: &'a str,
    pub module: Module,
    pub payload: &'a Bytes,
}

/// One copy of a message to hand over, after a delay (zero: at once).
#[derive(Debug, Clone)]
pub struct Handover {
    pub after: Duration,
    pub payload: Bytes,
}

/// What the links between nodes do to messages. Called with the hub locked, from the
/// sender's thread, so an implementation sees every message in one order.
pub trait Links: Send + 'static {
    /// Whether `from` can reach `to` at all now (a partition or a crashed link says no, and
    /// the sender is told the peer is unreachable, as the network would).
    fn reachable(&mut self, _from: &NodeId, _to: &NodeId) -> bool {
        true
    }
    /// The copies of a message that arrive: none (lost), one, or more (duplicated), each
    /// after its own delay (so later messages may overtake it) and possibly with other bytes.
    fn route(&mut self, message: &Envelope<'_>) -> Vec<Handover> {
        vec![Handover { after: Duration::ZERO, payload: message.payload.clone() }]
    }
}

/// Links that deliver everything at once, in order.
#[derive(Debug, Default, Clone, Copy)]
pub struct Perfect;
impl Links for Perfect {}

/// A message held back until `due`.
struct Held {
    due: Instant,
    seq: u64,
    from: NodeId,
    to: NodeId,
    group: String,
    module: Module,
    payload: Bytes,
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Held {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.seq).cmp(&(other.due, other.seq))
    }
}

struct State {
    links: Box<dyn Links>,
    /// Who listens on which group now (a crashed node is detached).
    attached: HashMap<(NodeId, String), InboundSender>,
    held: BinaryHeap<Reverse<Held>>,
    seq: u64,
    stopped: bool,
    /// Messages handed over and lost, for a scenario's report.
    delivered: u64,
    lost: u64,
}

struct Shared {
    state: Mutex<State>,
    /// Wakes the delivery thread when a held message may be due sooner.
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The in-memory network: attach each node's group queues, then give each node its
/// [`Hub::link`]. Dropping the hub stops its delivery thread.
pub struct Hub {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Hub {
    /// A hub whose messages go through `links`.
    pub fn new(links: impl Links) -> Hub {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                links: Box::new(links),
                attached: HashMap::new(),
                held: BinaryHeap::new(),
                seq: 0,
                stopped: false,
                delivered: 0,
                lost: 0,
            }),
            wake: Condvar::new(),
        });
        let s = Arc::clone(&shared);
        let thread =
            std::thread::Builder::new().name("hub".into()).spawn(move || deliver_held(&s)).ok();
        Hub { shared, thread }
    }

    /// Messages for `node` in `group` go to `inbound` from now on.
    pub fn attach(&self, node: NodeId, group: &str, inbound: InboundSender) {
        self.shared.lock().attached.insert((node, group.to_string()), inbound);
    }

    /// `node` no longer receives anything for `group` (it crashed or stopped); messages for
    /// it are lost and senders are told it is unreachable.
    pub fn detach(&self, node: &NodeId, group: &str) {
        self.shared.lock().attached.remove(&(*node, group.to_string()));
    }

    /// The sending side for `node`, to pass to [`crate::Consortium::start_linked`].
    pub fn link(&self, node: NodeId) -> Arc<dyn PeerSender> {
        Arc::new(HubLink { shared: Arc::clone(&self.shared), me: node })
    }

    /// (delivered, lost) message counts so far.
    pub fn counts(&self) -> (u64, u64) {
        let state = self.shared.lock();
        (state.delivered, state.lost)
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.shared.lock().stopped = true;
        self.shared.wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Hands held messages over when they are due.
fn deliver_held(shared: &Shared) {
    let mut state = shared.lock();
    loop {
        if state.stopped {
            return;
        }
        let now = Instant::now();
        match state.held.peek().map(|Reverse(h)| h.due) {
            Some(due) if due <= now => {
                if let Some(Reverse(h)) = state.held.pop() {
                    hand_over(&mut state, h.from, &h.to, &h.group, h.module, h.payload);
                }
            }
            Some(due) => {
                state = shared
                    .wake
                    .wait_timeout(state, due - now)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            None => state = shared.wake.wait(state).unwrap_or_else(PoisonError::into_inner),
        }
    }
}

fn hand_over(
    state: &mut State,
    from: NodeId,
    to: &NodeId,
    group: &str,
    module: Module,
    payload: Bytes,
) {
    let queued = state.attached.get(&(*to, group.to_string())).is_some_and(|inbound| {
        inbound.deliver(from, module, payload.into()) == crate::Delivered::Queued
    });
    if queued {
        state.delivered += 1;
    } else {
        state.lost += 1;
    }
}

/// One node's side of the hub.
struct HubLink {
    shared: Arc<Shared>,
    me: NodeId,
}

impl PeerSender for HubLink {
    fn send(&self, to: &NodeId, group: &str, module: Module, payload: Bytes) -> bool {
        let mut guard = self.shared.lock();
        let state = &mut *guard;
        if *to == self.me
            || !state.attached.contains_key(&(*to, group.to_string()))
            || !state.links.reachable(&self.me, to)
        {
            return false;
        }
        let message = Envelope { from: &self.me, to, group, module, payload: &payload };
        let copies = state.links.route(&message);
        if copies.is_empty() {
            state.lost += 1;
        }
        let mut sooner = false;
        for copy in copies {
            if copy.after.is_zero() {
                hand_over(state, self.me, to, group, module, copy.payload);
            } else {
                state.seq += 1;
                let due = Instant::now() + copy.after;
                sooner |= state.held.peek().is_none_or(|Reverse(h)| due < h.due);
                let held = Held {
                    due,
                    seq: state.seq,
                    from: self.me,
                    to: *to,
                    group: group.to_string(),
                    module,
                    payload: copy.payload,
                };
                state.held.push(Reverse(held));
            }
        }
        drop(guard);
        if sooner {
            self.shared.wake.notify_all();
        }
        true
    }

    fn connected(&self) -> Vec<NodeId> {
        let mut state = self.shared.lock();
        let mut peers: Vec<NodeId> =
            state.attached.keys().map(|(node, _)| *node).filter(|node| *node != self.me).collect();
        peers.sort();
        peers.dedup();
        peers.retain(|node| state.links.reachable(&self.me, node));
        peers
    }
}
