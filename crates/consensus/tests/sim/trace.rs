//! One-line renderings of messages and inputs for `SIM_SEED=… replay` traces.

use alloy_primitives::B256;
use aurum_consensus::{Input, Message};

pub fn short(d: &B256) -> String {
    format!("{:x}", d)[..8].to_string()
}

/// One line per message for traces.
pub fn describe(m: &Message) -> String {
    match m {
        Message::PrePrepare { height, view, digest, .. } => {
            format!("PrePrepare(h={height} v={view} d={})", short(digest))
        }
        Message::Prepare { height, view, digest, .. } => {
            format!("Prepare(h={height} v={view} d={})", short(digest))
        }
        Message::Commit { height, view, digest, .. } => {
            format!("Commit(h={height} v={view} d={})", short(digest))
        }
        Message::Checkpoint { height, digest, block_hash, .. } => {
            format!("Checkpoint(h={height} d={} b={})", short(digest), short(block_hash))
        }
        Message::ViewChange { vote: vc, payload } => format!(
            "ViewChange(h={} to v={} from={} prepared={}{})",
            vc.height,
            vc.new_view,
            vc.from,
            vc.prepared.as_ref().map_or("-".into(), |c| format!(
                "v{}:{}",
                c.view,
                short(&c.digest)
            )),
            payload.as_ref().map_or(String::new(), |p| format!(" +payload {} B", p.len()))
        ),
        Message::NewView { height, view, justification, digest, .. } => format!(
            "NewView(h={height} v={view} d={} just={:?})",
            short(digest),
            justification.iter().map(|vc| vc.from).collect::<Vec<_>>()
        ),
        Message::Decided(d) => format!(
            "Decided(h={} d={} b={} cert={:?})",
            d.height,
            short(&d.digest),
            short(&d.block_hash),
            d.certificate.iter().map(|v| v.node).collect::<Vec<_>>()
        ),
        Message::Committed { height, view, digest, commits, .. } => format!(
            "Committed(h={height} v={view} d={} commits={:?})",
            short(digest),
            commits.iter().map(|v| v.node).collect::<Vec<_>>()
        ),
    }
}

pub fn describe_input(i: &Input) -> String {
    match i {
        Input::Tick { now_ms } => format!("Tick({now_ms})"),
        Input::Message { from, message } => format!("from {from}: {}", describe(message)),
        Input::Proposal { height, view, .. } => format!("Proposal(h={height} v={view})"),
        Input::Validated { height, view, digest, valid } => {
            format!("Validated(h={height} v={view} d={} {valid})", short(digest))
        }
        Input::Executed { height, digest, block_hash } => {
            format!("Executed(h={height} d={} b={})", short(digest), short(block_hash))
        }
    }
}
