//! What the p2p network records: frames and bytes per lane and direction, refused handshakes
//! by reason, and (at scrape time) peers per direction. The network is the node's, not a
//! group's: these carry no `group` label.

use metrics::{Counter, counter, gauge};
use std::sync::LazyLock;

pub const FRAMES: &str = "aurum_p2p_frames_total";
pub const BYTES: &str = "aurum_p2p_bytes_total";
pub const DROPPED: &str = "aurum_p2p_dropped_frames_total";
pub const REFUSED: &str = "aurum_p2p_refused_handshakes_total";
pub const PEERS: &str = "aurum_p2p_peers";

pub(crate) const HELP: &[(&str, &str)] = &[
    (FRAMES, "Frames queued to peers (direction=out) or received from them (in), per lane."),
    (BYTES, "Frame body bytes queued to peers (out) or received (in), per lane."),
    (
        DROPPED,
        "Frames dropped: out (a peer's send lane was full), in (a group's inbound queue was full).",
    ),
    (
        REFUSED,
        "Peers this node refused at the handshake, by reason: certificate, blacklist, whitelist, hello, other.",
    ),
    (PEERS, "Peers connected now, by direction (out: this node dialed)."),
];

/// Which lane a frame travels: `consensus` (PBFT messages, sent first) or `bulk` (gossip,
/// sync).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    Consensus,
    Bulk,
}

struct Handles {
    /// [lane][direction: out, in]
    frames: [[Counter; 2]; 2],
    bytes: [[Counter; 2]; 2],
    dropped: [Counter; 2],
}

const LANES: [&str; 2] = ["consensus", "bulk"];
const DIRS: [&str; 2] = ["out", "in"];

static HANDLES: LazyLock<Handles> = LazyLock::new(|| Handles {
    frames: LANES.map(|l| DIRS.map(|d| counter!(FRAMES, "lane" => l, "direction" => d))),
    bytes: LANES.map(|l| DIRS.map(|d| counter!(BYTES, "lane" => l, "direction" => d))),
    dropped: DIRS.map(|d| counter!(DROPPED, "direction" => d)),
});

fn lane_index(lane: Lane) -> usize {
    match lane {
        Lane::Consensus => 0,
        Lane::Bulk => 1,
    }
}

/// A frame of `bytes` queued to a peer.
pub fn sent(lane: Lane, bytes: usize) {
    let h = &*HANDLES;
    h.frames[lane_index(lane)][0].increment(1);
    h.bytes[lane_index(lane)][0].increment(bytes as u64);
}

/// A frame of `bytes` received from a peer.
pub fn received(lane: Lane, bytes: usize) {
    let h = &*HANDLES;
    h.frames[lane_index(lane)][1].increment(1);
    h.bytes[lane_index(lane)][1].increment(bytes as u64);
}

/// A frame dropped on the way out (`outbound`) or in.
pub fn dropped(outbound: bool) {
    HANDLES.dropped[usize::from(!outbound)].increment(1);
}

/// The reason label of a refusal line (the network's own wording, see its `verify` module).
pub fn refusal_kind(reason: &str) -> &'static str {
    let r = reason.to_ascii_lowercase();
    if r.contains("blacklist") {
        "blacklist"
    } else if r.contains("whitelist") {
        "whitelist"
    } else if r.contains("hello") {
        "hello"
    } else if ["certificate", "trusted ca", "expired", "not valid", "rejected"]
        .iter()
        .any(|w| r.contains(w))
    {
        "certificate"
    } else {
        "other"
    }
}

/// This node refused a peer at the handshake (rare: no handle kept).
pub fn refused(reason: &str) {
    counter!(REFUSED, "reason" => refusal_kind(reason)).increment(1);
}

/// Peers connected now (set at scrape time).
pub fn peers(outbound: usize, inbound: usize) {
    gauge!(PEERS, "direction" => "out").set(outbound as f64);
    gauge!(PEERS, "direction" => "in").set(inbound as f64);
}

#[cfg(test)]
mod tests {
    use super::refusal_kind;

    #[test]
    fn refusal_lines_map_to_few_reasons() {
        assert_eq!(refusal_kind("node id ab is blacklisted"), "blacklist");
        assert_eq!(refusal_kind("node id ab is not on the whitelist"), "whitelist");
        assert_eq!(refusal_kind("x: malformed Hello: eof"), "hello");
        assert_eq!(
            refusal_kind("certificate \"n\" does not chain to any trusted CA"),
            "certificate"
        );
        assert_eq!(refusal_kind("its certificate expired at 2020"), "certificate");
        assert_eq!(refusal_kind("something new"), "other");
    }
}
