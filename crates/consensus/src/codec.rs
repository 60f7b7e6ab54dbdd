//! Wire encoding of [`Message`]s: a kind byte, then RLP. Decoding is exact (trailing bytes
//! are an error) so one message has one encoding.

use crate::types::*;
use alloy_primitives::{B256, Bytes};
use alloy_rlp::{Decodable, Encodable, RlpDecodable, RlpEncodable};

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("empty consensus message")]
    Empty,
    #[error("unknown consensus message kind {0}")]
    UnknownKind(u8),
    #[error("malformed consensus message: {0}")]
    Rlp(#[from] alloy_rlp::Error),
    #[error("trailing bytes after a consensus message")]
    Trailing,
}

#[derive(RlpEncodable, RlpDecodable)]
struct Vote_ {
    node: u32,
    sig: Bytes,
}

#[derive(RlpEncodable, RlpDecodable)]
struct Cert_ {
    height: u64,
    view: u64,
    digest: B256,
    payload: Bytes,
    prepares: Vec<Vote_>,
}

#[derive(RlpEncodable, RlpDecodable)]
struct ViewChange_ {
    height: u64,
    new_view: u64,
    from: u32,
    /// Zero or one certificate (RLP has no option type).
    prepared: Vec<Cert_>,
    sig: Bytes,
}

#[derive(RlpEncodable, RlpDecodable)]
struct Vote4 {
    height: u64,
    view: u64,
    digest: B256,
    sig: Bytes,
}

#[derive(RlpEncodable, RlpDecodable)]
struct PrePrepare_ {
    height: u64,
    view: u64,
    digest: B256,
    payload: Bytes,
}

#[derive(RlpEncodable, RlpDecodable)]
struct Checkpoint_ {
    height: u64,
    digest: B256,
    block_hash: B256,
    sig: Bytes,
}

#[derive(RlpEncodable, RlpDecodable)]
struct NewView_ {
    height: u64,
    view: u64,
    justification: Vec<ViewChange_>,
    digest: B256,
    payload: Bytes,
}

#[derive(RlpEncodable, RlpDecodable)]
struct Decision_ {
    height: u64,
    digest: B256,
    payload: Bytes,
    block_hash: B256,
    certificate: Vec<Vote_>,
}

#[derive(RlpEncodable, RlpDecodable)]
struct Committed_ {
    height: u64,
    view: u64,
    digest: B256,
    payload: Bytes,
    commits: Vec<Vote_>,
}

fn votes_out(v: &[Vote]) -> Vec<Vote_> {
    v.iter().map(|v| Vote_ { node: v.node, sig: v.sig.clone() }).collect()
}
fn votes_in(v: Vec<Vote_>) -> Vec<Vote> {
    v.into_iter().map(|v| Vote { node: v.node, sig: v.sig }).collect()
}
fn cert_out(c: &PreparedCert) -> Cert_ {
    Cert_ {
        height: c.height,
        view: c.view,
        digest: c.digest,
        payload: c.payload.clone(),
        prepares: votes_out(&c.prepares),
    }
}
fn cert_in(c: Cert_) -> PreparedCert {
    PreparedCert {
        height: c.height,
        view: c.view,
        digest: c.digest,
        payload: c.payload,
        prepares: votes_in(c.prepares),
    }
}
fn vc_out(v: &ViewChange) -> ViewChange_ {
    ViewChange_ {
        height: v.height,
        new_view: v.new_view,
        from: v.from,
        prepared: v.prepared.iter().map(cert_out).collect(),
        sig: v.sig.clone(),
    }
}
fn vc_in(v: ViewChange_) -> ViewChange {
    ViewChange {
        height: v.height,
        new_view: v.new_view,
        from: v.from,
        prepared: v.prepared.into_iter().next().map(cert_in),
        sig: v.sig,
    }
}
fn decision_out(d: &Decision) -> Decision_ {
    Decision_ {
        height: d.height,
        digest: d.digest,
        payload: d.payload.clone(),
        block_hash: d.block_hash,
        certificate: votes_out(&d.certificate),
    }
}
fn decision_in(d: Decision_) -> Decision {
    Decision {
        height: d.height,
        digest: d.digest,
        payload: d.payload,
        block_hash: d.block_hash,
        certificate: votes_in(d.certificate),
    }
}

fn tagged(kind: u8, body: &impl Encodable) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + body.length());
    out.push(kind);
    body.encode(&mut out);
    out
}

fn exact<T: Decodable>(mut body: &[u8]) -> Result<T, CodecError> {
    let v = T::decode(&mut body)?;
    if !body.is_empty() {
        return Err(CodecError::Trailing);
    }
    Ok(v)
}

impl Message {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Message::PrePrepare { height, view, digest, payload } => tagged(
                1,
                &PrePrepare_ {
                    height: *height,
                    view: *view,
                    digest: *digest,
                    payload: payload.clone(),
                },
            ),
            Message::Prepare { height, view, digest, sig } => tagged(
                2,
                &Vote4 { height: *height, view: *view, digest: *digest, sig: sig.clone() },
            ),
            Message::Commit { height, view, digest, sig } => tagged(
                3,
                &Vote4 { height: *height, view: *view, digest: *digest, sig: sig.clone() },
            ),
            Message::Checkpoint { height, digest, block_hash, sig } => tagged(
                4,
                &Checkpoint_ {
                    height: *height,
                    digest: *digest,
                    block_hash: *block_hash,
                    sig: sig.clone(),
                },
            ),
            Message::ViewChange(vc) => tagged(5, &vc_out(vc)),
            Message::NewView { height, view, justification, digest, payload } => tagged(
                6,
                &NewView_ {
                    height: *height,
                    view: *view,
                    justification: justification.iter().map(vc_out).collect(),
                    digest: *digest,
                    payload: payload.clone(),
                },
            ),
            Message::Decided(d) => tagged(7, &decision_out(d)),
            Message::Committed { height, view, digest, payload, commits } => tagged(
                8,
                &Committed_ {
                    height: *height,
                    view: *view,
                    digest: *digest,
                    payload: payload.clone(),
                    commits: votes_out(commits),
                },
            ),
        }
    }

    pub fn decode(bytes: &[u8]) -> Result<Message, CodecError> {
        let (&kind, body) = bytes.split_first().ok_or(CodecError::Empty)?;
        Ok(match kind {
            1 => {
                let m: PrePrepare_ = exact(body)?;
                Message::PrePrepare {
                    height: m.height,
                    view: m.view,
                    digest: m.digest,
                    payload: m.payload,
                }
            }
            2 | 3 => {
                let m: Vote4 = exact(body)?;
                let (height, view, digest, sig) = (m.height, m.view, m.digest, m.sig);
                if kind == 2 {
                    Message::Prepare { height, view, digest, sig }
                } else {
                    Message::Commit { height, view, digest, sig }
                }
            }
            4 => {
                let m: Checkpoint_ = exact(body)?;
                Message::Checkpoint {
                    height: m.height,
                    digest: m.digest,
                    block_hash: m.block_hash,
                    sig: m.sig,
                }
            }
            5 => Message::ViewChange(vc_in(exact(body)?)),
            6 => {
                let m: NewView_ = exact(body)?;
                Message::NewView {
                    height: m.height,
                    view: m.view,
                    justification: m.justification.into_iter().map(vc_in).collect(),
                    digest: m.digest,
                    payload: m.payload,
                }
            }
            7 => Message::Decided(decision_in(exact(body)?)),
            8 => {
                let m: Committed_ = exact(body)?;
                Message::Committed {
                    height: m.height,
                    view: m.view,
                    digest: m.digest,
                    payload: m.payload,
                    commits: votes_in(m.commits),
                }
            }
            k => return Err(CodecError::UnknownKind(k)),
        })
    }
}

impl Persisted {
    pub fn encode(&self) -> Vec<u8> {
        let p = Persisted_ {
            height: self.height,
            view: self.view,
            prepared_votes: self.prepared_votes.iter().map(|(v, d)| (*v, *d).into()).collect(),
            commit_votes: self.commit_votes.iter().map(|(v, d)| (*v, *d).into()).collect(),
            locked: self.locked.iter().map(cert_out).collect(),
            proposal: self
                .proposal
                .iter()
                .map(|(v, d, p)| PrePrepare_ {
                    height: self.height,
                    view: *v,
                    digest: *d,
                    payload: p.clone(),
                })
                .collect(),
        };
        tagged(1, &p)
    }

    pub fn decode(bytes: &[u8]) -> Result<Persisted, CodecError> {
        let (&kind, body) = bytes.split_first().ok_or(CodecError::Empty)?;
        if kind != 1 {
            return Err(CodecError::UnknownKind(kind));
        }
        let p: Persisted_ = exact(body)?;
        Ok(Persisted {
            height: p.height,
            view: p.view,
            prepared_votes: p.prepared_votes.into_iter().map(|v| (v.view, v.digest)).collect(),
            commit_votes: p.commit_votes.into_iter().map(|v| (v.view, v.digest)).collect(),
            locked: p.locked.into_iter().next().map(cert_in),
            proposal: p.proposal.into_iter().next().map(|p| (p.view, p.digest, p.payload)),
        })
    }
}

#[derive(RlpEncodable, RlpDecodable)]
struct ViewDigest {
    view: u64,
    digest: B256,
}

impl From<(u64, B256)> for ViewDigest {
    fn from((view, digest): (u64, B256)) -> Self {
        ViewDigest { view, digest }
    }
}

#[derive(RlpEncodable, RlpDecodable)]
struct Persisted_ {
    height: u64,
    view: u64,
    prepared_votes: Vec<ViewDigest>,
    commit_votes: Vec<ViewDigest>,
    locked: Vec<Cert_>,
    proposal: Vec<PrePrepare_>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(n: u8) -> B256 {
        B256::repeat_byte(n)
    }

    #[test]
    fn every_message_kind_round_trips() {
        let cert = PreparedCert {
            height: 5,
            view: 1,
            digest: b(1),
            payload: Bytes::from_static(b"payload"),
            prepares: vec![Vote { node: 0, sig: Bytes::from_static(b"s0") }],
        };
        let vc = ViewChange {
            height: 5,
            new_view: 2,
            from: 3,
            prepared: Some(cert.clone()),
            sig: Bytes::from_static(b"vc"),
        };
        let messages = vec![
            Message::PrePrepare { height: 5, view: 0, digest: b(2), payload: Bytes::new() },
            Message::Prepare { height: 5, view: 0, digest: b(2), sig: Bytes::from_static(b"p") },
            Message::Commit { height: 5, view: 0, digest: b(2), sig: Bytes::from_static(b"c") },
            Message::Checkpoint { height: 5, digest: b(2), block_hash: b(3), sig: Bytes::new() },
            Message::ViewChange(vc.clone()),
            Message::ViewChange(ViewChange { prepared: None, ..vc.clone() }),
            Message::NewView {
                height: 5,
                view: 2,
                justification: vec![vc],
                digest: b(1),
                payload: Bytes::from_static(b"payload"),
            },
            Message::Decided(Decision {
                height: 4,
                digest: b(4),
                payload: Bytes::from_static(b"x"),
                block_hash: b(5),
                certificate: vec![Vote { node: 1, sig: Bytes::from_static(b"s1") }],
            }),
            Message::Committed {
                height: 5,
                view: 0,
                digest: b(2),
                payload: Bytes::from_static(b"y"),
                commits: vec![],
            },
        ];
        for m in messages {
            assert_eq!(Message::decode(&m.encode()).unwrap(), m);
        }
        let p = Persisted {
            height: 9,
            view: 2,
            prepared_votes: vec![(0, b(1)), (2, b(2))],
            commit_votes: vec![(0, b(1))],
            locked: Some(cert),
            proposal: Some((2, b(2), Bytes::from_static(b"z"))),
        };
        assert_eq!(Persisted::decode(&p.encode()).unwrap(), p);
        assert_eq!(
            Persisted::decode(&Persisted::default().encode()).unwrap(),
            Persisted::default()
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(Message::decode(&[]).is_err());
        assert!(Message::decode(&[9, 0xc0]).is_err());
        assert!(Message::decode(&[2, 0xc0]).is_err());
        let mut m =
            Message::Prepare { height: 1, view: 0, digest: b(1), sig: Bytes::new() }.encode();
        m.push(0);
        assert!(matches!(Message::decode(&m), Err(CodecError::Trailing)));
        for len in 0..m.len() - 1 {
            assert!(Message::decode(&m[..len]).is_err());
        }
    }
}
