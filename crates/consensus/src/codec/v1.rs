//! Wire version 1's view-change shapes, for tests only: to check that such a message is
//! refused, and to measure what the same view change cost before version 2.

use super::{Cert_, votes_out};
use crate::types::*;
use alloy_primitives::{B256, Bytes};
use alloy_rlp::{Encodable, RlpEncodable};

#[derive(RlpEncodable)]
struct ViewChangeV1 {
    height: u64,
    new_view: u64,
    from: u32,
    /// Zero or one certificate, each with its payload.
    prepared: Vec<Cert_>,
    sig: Bytes,
}

#[derive(RlpEncodable)]
struct NewViewV1 {
    height: u64,
    view: u64,
    justification: Vec<ViewChangeV1>,
    digest: B256,
    payload: Bytes,
}

fn vc(vote: &ViewChange, payload: Option<&Bytes>) -> ViewChangeV1 {
    ViewChangeV1 {
        height: vote.height,
        new_view: vote.new_view,
        from: vote.from,
        prepared: vote
            .prepared
            .iter()
            .map(|p| Cert_ {
                height: p.height,
                view: p.view,
                digest: p.digest,
                payload: payload.cloned().unwrap_or_default(),
                prepares: votes_out(&p.prepares),
            })
            .collect::<Vec<_>>(),
        sig: vote.sig.clone(),
    }
}

fn tagged(kind: u8, body: &impl Encodable) -> Vec<u8> {
    let mut out = vec![kind];
    body.encode(&mut out);
    out
}

/// A version-1 view change: its certificate carries `payload` (the prepared proposal).
pub(crate) fn view_change(vote: &ViewChange, payload: Option<&Bytes>) -> Vec<u8> {
    tagged(5, &vc(vote, payload))
}

/// A version-1 new-view message: every justifying vote with its prepared payload (looked up
/// by digest with `payload_of`).
pub(crate) fn new_view(
    height: u64,
    view: u64,
    justification: &[ViewChange],
    payload_of: impl Fn(&B256) -> Option<Bytes>,
    digest: B256,
    payload: &Bytes,
) -> Vec<u8> {
    let justification = justification
        .iter()
        .map(|v| {
            let p = v.prepared.as_ref().and_then(|p| payload_of(&p.digest));
            vc(v, p.as_ref())
        })
        .collect();
    tagged(6, &NewViewV1 { height, view, justification, digest, payload: payload.clone() })
}

/// Any other message as version 1 wrote it (no version byte; the same kind and body).
pub(crate) fn unchanged(m: &Message) -> Vec<u8> {
    m.encode()[1..].to_vec()
}
