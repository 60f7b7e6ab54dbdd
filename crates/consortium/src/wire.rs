//! Messages of the sync and gossip modules: a kind byte, then RLP (decoded exactly).

use alloy_primitives::Bytes;
use alloy_rlp::{Decodable, Encodable, RlpDecodable, RlpEncodable};

#[derive(Debug, thiserror::Error)]
#[error("malformed {what} message: {reason}")]
pub struct WireError {
    what: &'static str,
    reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct BlockWithCert {
    /// `Block::encode()`.
    pub block: Bytes,
    /// `CommitCertificate::encode()`.
    pub certificate: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncMessage {
    /// The sender's head block number (said every half second).
    Status {
        head: u64,
    },
    /// Send me blocks `from..from+count`.
    Request {
        from: u64,
        count: u64,
    },
    Blocks(Vec<BlockWithCert>),
}

#[derive(RlpEncodable, RlpDecodable)]
struct Range {
    from: u64,
    count: u64,
}

fn tagged(kind: u8, body: &impl Encodable) -> Vec<u8> {
    let mut out = vec![kind];
    body.encode(&mut out);
    out
}

fn exact<T: Decodable>(what: &'static str, mut body: &[u8]) -> Result<T, WireError> {
    let v = T::decode(&mut body).map_err(|e| WireError { what, reason: e.to_string() })?;
    if !body.is_empty() {
        return Err(WireError { what, reason: "trailing bytes".into() });
    }
    Ok(v)
}

impl SyncMessage {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            SyncMessage::Status { head } => tagged(1, head),
            SyncMessage::Request { from, count } => {
                tagged(2, &Range { from: *from, count: *count })
            }
            SyncMessage::Blocks(blocks) => tagged(3, blocks),
        }
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let Some((&kind, body)) = bytes.split_first() else {
            return Err(WireError { what: "sync", reason: "empty".into() });
        };
        match kind {
            1 => Ok(SyncMessage::Status { head: exact("sync status", body)? }),
            2 => {
                let r: Range = exact("sync request", body)?;
                Ok(SyncMessage::Request { from: r.from, count: r.count })
            }
            3 => Ok(SyncMessage::Blocks(exact("sync blocks", body)?)),
            k => Err(WireError { what: "sync", reason: format!("unknown kind {k}") }),
        }
    }
}

/// A gossip frame: encoded txs.
pub fn encode_tx_batch(txs: &[Bytes]) -> Vec<u8> {
    tagged(1, &txs.to_vec())
}

pub fn decode_tx_batch(bytes: &[u8]) -> Result<Vec<Bytes>, WireError> {
    match bytes.split_first() {
        Some((1, body)) => exact("tx gossip", body),
        _ => Err(WireError { what: "tx gossip", reason: "unknown kind".into() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_garbage() {
        let msgs = [
            SyncMessage::Status { head: 7 },
            SyncMessage::Request { from: 3, count: 16 },
            SyncMessage::Blocks(vec![BlockWithCert {
                block: Bytes::from_static(b"b"),
                certificate: Bytes::from_static(b"c"),
            }]),
        ];
        for m in msgs {
            let mut bytes = m.encode();
            assert_eq!(SyncMessage::decode(&bytes).unwrap(), m);
            bytes.push(0);
            assert!(SyncMessage::decode(&bytes).is_err());
        }
        assert!(SyncMessage::decode(&[]).is_err());
        assert!(SyncMessage::decode(&[9]).is_err());
        let batch = vec![Bytes::from_static(b"tx1"), Bytes::from_static(b"tx2")];
        assert_eq!(decode_tx_batch(&encode_tx_batch(&batch)).unwrap(), batch);
        assert!(decode_tx_batch(&[1, 0xff]).is_err());
    }
}
