//! One connection's outbound queue: two lanes bounded in bytes, and the link-control slot.
//!
//! Policy (see [`SendQueue::push`]):
//! - **Consensus lane** (module `Consensus`) is written before anything else, so a flood of
//!   gossip or sync never delays a vote.
//! - **Bulk lane** (tx gossip, sync): one group may hold at most half of it, so a flooded
//!   group leaves room for the others.
//! - Each lane holds at most `limit` bytes of frame bodies. A frame that does not fit is
//!   **refused** (the caller's `send` returns `false` and it is counted); frames already queued
//!   are never dropped, so what was accepted is delivered in order unless the link dies. A lane
//!   (or a group's share) that holds nothing takes one frame of any size, so a frame up to
//!   `max_frame_bytes` can always be sent over an idle link even when `limit` is smaller: a
//!   lane never holds more than `max(limit, max_frame_bytes)`.
//! - Keepalive frames bypass both lanes (one slot, answered before anything else): they are
//!   tiny and a refused pong would make a healthy peer look dead.

use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::Notify;

/// Which lane a frame travels on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lane {
    Consensus,
    Bulk,
}

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The lane holds `limit` bytes already.
    LaneFull,
    /// The frame's group holds half of the bulk lane already.
    GroupShare,
    /// The connection is closing.
    Closed,
}

#[derive(Default)]
struct State {
    consensus: VecDeque<Bytes>,
    consensus_bytes: usize,
    bulk: VecDeque<(Arc<str>, Bytes)>,
    bulk_bytes: usize,
    /// Bulk bytes queued per group (entries removed when they reach zero).
    groups: HashMap<Arc<str>, usize>,
    /// A link-control frame to write before any queued frame (the latest pong).
    control: Option<Bytes>,
    closed: bool,
}

/// The outbound queue of one connection, shared by senders (any thread) and its writer task.
pub(crate) struct SendQueue {
    state: Mutex<State>,
    ready: Notify,
    limit: usize,
}

impl SendQueue {
    /// A queue whose lanes each hold at most `limit` bytes (see the module docs).
    pub fn new(limit: usize) -> Self {
        Self { state: Mutex::default(), ready: Notify::new(), limit }
    }

    /// Queues `body` on `lane`; never blocks. Returns the bytes the lane then holds. Refused
    /// frames are not queued.
    pub fn push(&self, lane: Lane, group: &str, body: Bytes) -> Result<usize, Refused> {
        let len = body.len();
        let fits = |held: usize, limit: usize| held == 0 || held.saturating_add(len) <= limit;
        let mut s = self.state.lock();
        if s.closed {
            return Err(Refused::Closed);
        }
        let held = match lane {
            Lane::Consensus => {
                if !fits(s.consensus_bytes, self.limit) {
                    return Err(Refused::LaneFull);
                }
                s.consensus_bytes += len;
                s.consensus.push_back(body);
                s.consensus_bytes
            }
            Lane::Bulk => {
                if !fits(s.bulk_bytes, self.limit) {
                    return Err(Refused::LaneFull);
                }
                let share = self.limit / 2;
                let key = match s.groups.get_key_value(group) {
                    Some((k, &held)) => {
                        if !fits(held, share) {
                            return Err(Refused::GroupShare);
                        }
                        Arc::clone(k)
                    }
                    None => Arc::from(group),
                };
                *s.groups.entry(Arc::clone(&key)).or_insert(0) += len;
                s.bulk_bytes += len;
                s.bulk.push_back((key, body));
                s.bulk_bytes
            }
        };
        drop(s);
        self.ready.notify_one();
        Ok(held)
    }

    /// Sets the link-control frame to write next (replacing one not yet written).
    pub fn push_control(&self, body: Bytes) {
        self.state.lock().control = Some(body);
        self.ready.notify_one();
    }

    /// The next frame to write: control, then consensus, then bulk.
    pub fn pop(&self) -> Option<Bytes> {
        let mut s = self.state.lock();
        if let Some(c) = s.control.take() {
            return Some(c);
        }
        if let Some(body) = s.consensus.pop_front() {
            s.consensus_bytes -= body.len();
            return Some(body);
        }
        let (group, body) = s.bulk.pop_front()?;
        s.bulk_bytes -= body.len();
        if let Some(held) = s.groups.get_mut(&group) {
            *held -= body.len();
            if *held == 0 {
                s.groups.remove(&group);
            }
        }
        Some(body)
    }

    /// Resolves when a frame may have been queued since the last call (no wake-up is lost).
    pub async fn ready(&self) {
        self.ready.notified().await;
    }

    /// Refuses every later push and frees what is queued.
    pub fn close(&self) {
        let mut s = self.state.lock();
        let control = s.control.take();
        *s = State { closed: true, ..State::default() };
        drop(control);
    }

    /// Bytes queued on (consensus lane, bulk lane).
    pub fn queued_bytes(&self) -> (usize, usize) {
        let s = self.state.lock();
        (s.consensus_bytes, s.bulk_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: usize) -> Bytes {
        Bytes::from(vec![0u8; n])
    }

    #[test]
    fn lanes_are_bounded_in_bytes_and_consensus_goes_first() {
        let q = SendQueue::new(1000);
        for _ in 0..4 {
            q.push(Lane::Bulk, "a", frame(100)).unwrap();
        }
        // Group a holds half the bulk lane: its next frame is refused, group b's is not.
        assert_eq!(q.push(Lane::Bulk, "a", frame(200)), Err(Refused::GroupShare));
        q.push(Lane::Bulk, "a", frame(100)).unwrap();
        q.push(Lane::Bulk, "b", frame(450)).unwrap();
        assert_eq!(q.push(Lane::Bulk, "c", frame(100)), Err(Refused::LaneFull));
        assert_eq!(q.queued_bytes(), (0, 950));
        // The consensus lane has its own budget.
        q.push(Lane::Consensus, "a", frame(1000)).unwrap();
        assert_eq!(q.push(Lane::Consensus, "a", frame(1)), Err(Refused::LaneFull));
        assert_eq!(q.pop().map(|b| b.len()), Some(1000));
        assert_eq!(q.pop().map(|b| b.len()), Some(100));
        // Freed bulk bytes make room again.
        q.push(Lane::Bulk, "c", frame(100)).unwrap();
        q.push_control(frame(9));
        assert_eq!(q.pop().map(|b| b.len()), Some(9));
        q.close();
        assert_eq!(q.queued_bytes(), (0, 0));
        assert!(q.pop().is_none());
        assert_eq!(q.push(Lane::Consensus, "a", frame(1)), Err(Refused::Closed));
    }

    #[test]
    fn an_empty_lane_takes_one_frame_over_the_limit() {
        let q = SendQueue::new(100);
        q.push(Lane::Consensus, "g", frame(500)).unwrap();
        assert_eq!(q.push(Lane::Consensus, "g", frame(1)), Err(Refused::LaneFull));
        q.push(Lane::Bulk, "g", frame(500)).unwrap();
        assert_eq!(q.push(Lane::Bulk, "h", frame(1)), Err(Refused::LaneFull));
        assert_eq!(q.pop().map(|b| b.len()), Some(500));
        q.push(Lane::Consensus, "g", frame(60)).unwrap();
        assert_eq!(q.queued_bytes(), (60, 500));
    }
}
