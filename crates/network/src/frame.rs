//! Frame bodies. The u32 big-endian length prefix is added by the codec; these functions deal
//! with what is inside: the Hello (first frame each way), routed messages and link-control
//! frames (keepalive).
//!
//! A link-control frame is laid out as a routed frame with an empty group and module byte
//! [`CONTROL_MODULE`] (0, which no [`Module`] uses): `0x00 || 0x00 || kind (u8) || seq (u64
//! BE)`. Nodes built before keepalive existed read it as a frame for an unknown module and drop
//! it (counted in their `unrouted` statistic, logged at DEBUG), so they stay connected; a node
//! that never receives a keepalive from a peer does not apply the dead-peer timeout to it.

use crate::{Module, NodeId, PROTOCOL_VERSION};
use bytes::{BufMut, Bytes, BytesMut};

/// Longest group id on the wire (its length is one byte).
pub const MAX_GROUP_LEN: usize = 255;

/// Encodes a routed frame body: `group len (u8) || group || module (u8) || payload`.
/// `None` if the group id is longer than [`MAX_GROUP_LEN`].
pub fn encode_message(group: &str, module: Module, payload: &[u8]) -> Option<Bytes> {
    let glen = u8::try_from(group.len()).ok()?;
    let mut buf = BytesMut::with_capacity(2 + group.len() + payload.len());
    buf.put_u8(glen);
    buf.put_slice(group.as_bytes());
    buf.put_u8(module as u8);
    buf.put_slice(payload);
    Some(buf.freeze())
}

/// The module byte of link-control frames; no [`Module`] has it.
pub const CONTROL_MODULE: u8 = 0;

/// A link-control frame: a keepalive ping, or the pong answering it (same `seq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Sent every keepalive interval; the peer answers with a [`Control::Pong`] of the same
    /// `seq`.
    Ping(u64),
    /// The answer to [`Control::Ping`]; the round-trip time is measured from it.
    Pong(u64),
}

impl Control {
    /// The whole frame body: `0x00 (empty group) || CONTROL_MODULE || kind || seq (u64 BE)`.
    pub fn encode(self) -> Bytes {
        let (kind, seq) = match self {
            Control::Ping(s) => (1u8, s),
            Control::Pong(s) => (2u8, s),
        };
        let mut buf = BytesMut::with_capacity(11);
        buf.put_u8(0);
        buf.put_u8(CONTROL_MODULE);
        buf.put_u8(kind);
        buf.put_u64(seq);
        buf.freeze()
    }

    /// `true` if `body` is a link-control frame (of any kind, known or not).
    pub fn is_control(body: &[u8]) -> bool {
        body.len() >= 2 && body[0] == 0 && body[1] == CONTROL_MODULE
    }

    /// Decodes a link-control frame body; an unknown kind or a wrong length is an error (the
    /// link ignores it, so later kinds can be added without breaking this version).
    pub fn decode(body: &[u8]) -> Result<Control, String> {
        if !Self::is_control(body) || body.len() != 11 {
            return Err(format!("link-control frame of {} bytes is malformed", body.len()));
        }
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&body[3..11]);
        let seq = u64::from_be_bytes(seq);
        match body[2] {
            1 => Ok(Control::Ping(seq)),
            2 => Ok(Control::Pong(seq)),
            other => Err(format!("unknown link-control kind {other}")),
        }
    }
}

/// A decoded routed frame. The module is kept as its byte so unknown modules can be reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The group id the frame is for.
    pub group: String,
    /// The module byte ([`Module`] as `u8`).
    pub module: u8,
    /// What the module gets.
    pub payload: Bytes,
}

/// Decodes a routed frame body; the payload shares the frame's buffer.
pub fn decode_message(body: Bytes) -> Result<Message, String> {
    let glen = *body.first().ok_or("empty frame")? as usize;
    if body.len() < 2 + glen {
        return Err(format!("frame of {} bytes is shorter than its header", body.len()));
    }
    let group = std::str::from_utf8(&body[1..1 + glen])
        .map_err(|_| "group id is not UTF-8".to_string())?
        .to_string();
    let module = body[1 + glen];
    Ok(Message { group, module, payload: body.slice(2 + glen..) })
}

/// The first frame each way: protocol version, node id, and the node key's signature over the
/// suite hash of the TLS exporter (see [`crate::Network`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    /// The sender's protocol version ([`PROTOCOL_VERSION`]).
    pub version: u16,
    /// The sender's node id; must be the one in its certificate.
    pub node_id: NodeId,
    /// The node key's signature over the suite hash of the TLS exporter.
    pub signature: Vec<u8>,
}

impl Hello {
    /// Our Hello at [`PROTOCOL_VERSION`].
    pub fn new(node_id: NodeId, signature: Vec<u8>) -> Self {
        Self { version: PROTOCOL_VERSION, node_id, signature }
    }

    /// `version (u16 BE) || node id (64) || signature length (u16 BE) || signature`.
    pub fn encode(&self) -> Bytes {
        let mut buf = BytesMut::with_capacity(2 + 64 + 2 + self.signature.len());
        buf.put_u16(self.version);
        buf.put_slice(&self.node_id.0);
        buf.put_u16(u16::try_from(self.signature.len()).unwrap_or(0));
        buf.put_slice(&self.signature);
        buf.freeze()
    }

    /// Decodes a Hello; exactly one value, no trailing bytes.
    pub fn decode(b: &[u8]) -> Result<Hello, String> {
        if b.len() < 68 {
            return Err(format!("Hello of {} bytes is too short", b.len()));
        }
        let version = u16::from_be_bytes([b[0], b[1]]);
        let mut id = [0u8; 64];
        id.copy_from_slice(&b[2..66]);
        let slen = u16::from_be_bytes([b[66], b[67]]) as usize;
        if b.len() != 68 + slen {
            return Err(format!(
                "Hello of {} bytes does not match its signature length {slen}",
                b.len()
            ));
        }
        Ok(Hello { version, node_id: aurum_crypto::PublicKey(id), signature: b[68..].to_vec() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_roundtrip() {
        let body = encode_message("group-1", Module::TxGossip, b"hello").unwrap();
        let m = decode_message(body).unwrap();
        assert_eq!(m.group, "group-1");
        assert_eq!(m.module, Module::TxGossip as u8);
        assert_eq!(&m.payload[..], b"hello");
        let empty = decode_message(encode_message("", Module::Sync, b"").unwrap()).unwrap();
        assert_eq!((empty.group.as_str(), empty.module, empty.payload.len()), ("", 3, 0));
    }

    #[test]
    fn message_rejects_garbage() {
        assert!(decode_message(Bytes::new()).is_err());
        assert!(decode_message(Bytes::from_static(&[5, b'a'])).is_err());
        assert!(decode_message(Bytes::from_static(&[1, 0xff, 1])).is_err());
        assert!(encode_message(&"g".repeat(256), Module::Sync, b"").is_none());
    }

    #[test]
    fn control_roundtrip_and_old_peers_see_an_unknown_module() {
        for c in [Control::Ping(0), Control::Ping(u64::MAX), Control::Pong(42)] {
            let body = c.encode();
            assert!(Control::is_control(&body));
            assert_eq!(Control::decode(&body).unwrap(), c);
            // What a node without keepalive decodes: group "", a module it does not know.
            let m = decode_message(body).unwrap();
            assert_eq!((m.group.as_str(), m.module), ("", CONTROL_MODULE));
            assert!(Module::try_from(m.module).is_err());
        }
        let routed = encode_message("", Module::Consensus, &[0; 9]).unwrap();
        assert!(!Control::is_control(&routed));
        let mut unknown = Control::Ping(1).encode().to_vec();
        unknown[2] = 9;
        assert!(Control::decode(&unknown).is_err());
        assert!(Control::decode(&Control::Ping(1).encode()[..10]).is_err());
    }

    #[test]
    fn hello_roundtrip() {
        let h = Hello::new(aurum_crypto::PublicKey([7u8; 64]), vec![1, 2, 3]);
        assert_eq!(Hello::decode(&h.encode()).unwrap(), h);
        assert!(Hello::decode(&h.encode()[..70]).is_err());
        assert!(Hello::decode(&[0u8; 10]).is_err());
    }
}
