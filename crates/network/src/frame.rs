//! Frame bodies. The u32 big-endian length prefix is added by the codec; these functions deal
//! with what is inside: the Hello (first frame each way) and routed messages.

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

/// A decoded routed frame. The module is kept as its byte so unknown modules can be reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub group: String,
    pub module: u8,
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
    pub version: u16,
    pub node_id: NodeId,
    pub signature: Vec<u8>,
}

impl Hello {
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
    fn hello_roundtrip() {
        let h = Hello::new(aurum_crypto::PublicKey([7u8; 64]), vec![1, 2, 3]);
        assert_eq!(Hello::decode(&h.encode()).unwrap(), h);
        assert!(Hello::decode(&h.encode()[..70]).is_err());
        assert!(Hello::decode(&[0u8; 10]).is_err());
    }
}
