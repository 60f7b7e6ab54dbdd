//! Wire encoding of [`Message`]s: a version byte, a kind byte, then RLP. Decoding is exact
//! (trailing bytes are an error) so one message has one encoding.
//!
//! Versions: wire version 1 had no version byte (a message began with its kind, 1 to 8) and
//! its view-change and new-view messages carried every prepared payload, so a new-view message
//! could outgrow a network frame. Version 2 begins with `0x80 | 2`; its view changes carry
//! digests and signatures only (plus one payload to the new leader). A version-1 message is
//! refused with [`CodecError::WireVersion`], never read as something else: no version-2
//! leading byte is a version-1 kind.

use crate::types::*;
use alloy_primitives::{B256, Bytes};
use alloy_rlp::{Decodable, Encodable, RlpDecodable, RlpEncodable};

/// The wire version this node writes and the only one it reads.
pub const WIRE_VERSION: u8 = 2;
/// Leading byte of a versioned message: the high bit marks it (version 1's leading byte, its
/// kind, was 1 to 8).
const VERSION_FLAG: u8 = 0x80;
/// The largest kind byte of wire version 1 (which had no version byte).
const V1_LAST_KIND: u8 = 8;

/// Why bytes are not a consensus message (or a consensus record).
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// Nothing to decode.
    #[error("empty consensus message")]
    Empty,
    /// A message of another wire version, e.g. from a node of another release.
    #[error(
        "consensus message of wire version {found}, this node speaks version {expected} \
         (version 2 changed what view changes carry): the sender runs an incompatible release"
    )]
    WireVersion {
        /// The version the message was written in.
        found: u8,
        /// [`WIRE_VERSION`].
        expected: u8,
    },
    /// The leading byte is neither a version marker nor a version-1 kind.
    #[error("not a consensus message: leading byte {0:#04x}")]
    NotVersioned(u8),
    /// A kind this version does not define.
    #[error("unknown consensus message kind {0}")]
    UnknownKind(u8),
    /// The RLP body does not decode.
    #[error("malformed consensus message: {0}")]
    Rlp(#[from] alloy_rlp::Error),
    /// A field holds more than its one allowed entry.
    #[error("malformed consensus message: {0}")]
    Malformed(&'static str),
    /// Bytes after a complete message.
    #[error("trailing bytes after a consensus message")]
    Trailing,
}

#[derive(RlpEncodable, RlpDecodable)]
struct Vote_ {
    node: u32,
    sig: Bytes,
}

/// A prepared certificate with its payload: only in the local record, never on the wire.
#[derive(RlpEncodable, RlpDecodable)]
struct Cert_ {
    height: u64,
    view: u64,
    digest: B256,
    payload: Bytes,
    prepares: Vec<Vote_>,
}

#[derive(RlpEncodable, RlpDecodable)]
struct Proof_ {
    height: u64,
    view: u64,
    digest: B256,
    prepares: Vec<Vote_>,
}

#[derive(RlpEncodable, RlpDecodable)]
struct ViewChange_ {
    height: u64,
    new_view: u64,
    from: u32,
    /// Zero or one proof (RLP has no option type).
    prepared: Vec<Proof_>,
    sig: Bytes,
}

#[derive(RlpEncodable, RlpDecodable)]
struct ViewChangeMsg_ {
    vote: ViewChange_,
    /// Zero or one payload.
    payload: Vec<Bytes>,
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

/// Zero or one entry, as an option; more is malformed.
fn at_most_one<T>(v: Vec<T>, what: &'static str) -> Result<Option<T>, CodecError> {
    if v.len() > 1 {
        return Err(CodecError::Malformed(what));
    }
    Ok(v.into_iter().next())
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
fn proof_out(c: &PreparedProof) -> Proof_ {
    Proof_ { height: c.height, view: c.view, digest: c.digest, prepares: votes_out(&c.prepares) }
}
fn proof_in(c: Proof_) -> PreparedProof {
    PreparedProof {
        height: c.height,
        view: c.view,
        digest: c.digest,
        prepares: votes_in(c.prepares),
    }
}
fn vc_out(v: &ViewChange) -> ViewChange_ {
    ViewChange_ {
        height: v.height,
        new_view: v.new_view,
        from: v.from,
        prepared: v.prepared.iter().map(proof_out).collect(),
        sig: v.sig.clone(),
    }
}
fn vc_in(v: ViewChange_) -> Result<ViewChange, CodecError> {
    Ok(ViewChange {
        height: v.height,
        new_view: v.new_view,
        from: v.from,
        prepared: at_most_one(v.prepared, "a view change with two prepared certificates")?
            .map(proof_in),
        sig: v.sig,
    })
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

fn exact<T: Decodable>(mut body: &[u8]) -> Result<T, CodecError> {
    let v = T::decode(&mut body)?;
    if !body.is_empty() {
        return Err(CodecError::Trailing);
    }
    Ok(v)
}

/// Bytes before the RLP body: version, kind.
const HEADER: usize = 2;

impl Message {
    /// Hands the message's kind and wire body to `f` (one place that says how each message
    /// is laid out, for both [`Message::encode`] and [`Message::encoded_len`]).
    fn with_body<R>(&self, f: impl FnOnce(u8, &dyn Encodable) -> R) -> R {
        match self {
            Message::PrePrepare { height, view, digest, payload } => f(
                1,
                &PrePrepare_ {
                    height: *height,
                    view: *view,
                    digest: *digest,
                    payload: payload.clone(),
                },
            ),
            Message::Prepare { height, view, digest, sig } => {
                f(2, &Vote4 { height: *height, view: *view, digest: *digest, sig: sig.clone() })
            }
            Message::Commit { height, view, digest, sig } => {
                f(3, &Vote4 { height: *height, view: *view, digest: *digest, sig: sig.clone() })
            }
            Message::Checkpoint { height, digest, block_hash, sig } => f(
                4,
                &Checkpoint_ {
                    height: *height,
                    digest: *digest,
                    block_hash: *block_hash,
                    sig: sig.clone(),
                },
            ),
            Message::ViewChange { vote, payload } => f(
                5,
                &ViewChangeMsg_ { vote: vc_out(vote), payload: payload.iter().cloned().collect() },
            ),
            Message::NewView { height, view, justification, digest, payload } => f(
                6,
                &NewView_ {
                    height: *height,
                    view: *view,
                    justification: justification.iter().map(vc_out).collect(),
                    digest: *digest,
                    payload: payload.clone(),
                },
            ),
            Message::Decided(d) => f(7, &decision_out(d)),
            Message::Committed { height, view, digest, payload, commits } => f(
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

    /// The wire encoding (version [`WIRE_VERSION`]).
    pub fn encode(&self) -> Vec<u8> {
        self.with_body(|kind, body| {
            let mut out = Vec::with_capacity(HEADER + body.length());
            out.push(VERSION_FLAG | WIRE_VERSION);
            out.push(kind);
            body.encode(&mut out);
            out
        })
    }

    /// `self.encode().len()`, without building the encoding: what the message costs on the
    /// wire (the network adds its frame header: group id and module).
    pub fn encoded_len(&self) -> usize {
        self.with_body(|_, body| HEADER + body.length())
    }

    /// Decodes one message of wire version [`WIRE_VERSION`]; any other version, or bytes that
    /// are not exactly one message, is an error.
    pub fn decode(bytes: &[u8]) -> Result<Message, CodecError> {
        let (&lead, rest) = bytes.split_first().ok_or(CodecError::Empty)?;
        if lead & VERSION_FLAG == 0 {
            return Err(if (1..=V1_LAST_KIND).contains(&lead) {
                CodecError::WireVersion { found: 1, expected: WIRE_VERSION }
            } else {
                CodecError::NotVersioned(lead)
            });
        }
        let version = lead & !VERSION_FLAG;
        if version != WIRE_VERSION {
            return Err(CodecError::WireVersion { found: version, expected: WIRE_VERSION });
        }
        let (&kind, body) = rest.split_first().ok_or(CodecError::Empty)?;
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
            5 => {
                let m: ViewChangeMsg_ = exact(body)?;
                Message::ViewChange {
                    vote: vc_in(m.vote)?,
                    payload: at_most_one(m.payload, "a view change with two payloads")?,
                }
            }
            6 => {
                let m: NewView_ = exact(body)?;
                Message::NewView {
                    height: m.height,
                    view: m.view,
                    justification: m
                        .justification
                        .into_iter()
                        .map(vc_in)
                        .collect::<Result<_, _>>()?,
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

/// Tag of the persisted record's encoding (local, unchanged by wire version 2: the lock keeps
/// its payload on disk).
const PERSISTED_TAG: u8 = 1;

impl Persisted {
    /// The record's encoding, for the driver's durable store.
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
        let mut out = Vec::with_capacity(1 + p.length());
        out.push(PERSISTED_TAG);
        p.encode(&mut out);
        out
    }

    /// Decodes what [`Persisted::encode`] wrote.
    pub fn decode(bytes: &[u8]) -> Result<Persisted, CodecError> {
        let (&kind, body) = bytes.split_first().ok_or(CodecError::Empty)?;
        if kind != PERSISTED_TAG {
            return Err(CodecError::UnknownKind(kind));
        }
        let p: Persisted_ = exact(body)?;
        Ok(Persisted {
            height: p.height,
            view: p.view,
            prepared_votes: p.prepared_votes.into_iter().map(|v| (v.view, v.digest)).collect(),
            commit_votes: p.commit_votes.into_iter().map(|v| (v.view, v.digest)).collect(),
            locked: at_most_one(p.locked, "a record with two locks")?.map(cert_in),
            proposal: at_most_one(p.proposal, "a record with two proposals")?
                .map(|p| (p.view, p.digest, p.payload)),
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
mod tests;
#[cfg(test)]
pub(crate) mod v1;
