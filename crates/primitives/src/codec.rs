//! Canonical byte encoding. Everything hashed, signed or stored is RLP (alloy-rlp), preceded
//! by a one-byte format tag where the type is versioned, so a future layout can be told apart
//! from this one and nodes of two releases never disagree about what bytes mean.

use alloy_rlp::Decodable;

/// Why bytes could not be decoded. Always an input error: answered, never alarming.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("empty input")]
    Empty,
    #[error("unknown {what} format tag {tag:#04x}")]
    UnknownTag { what: &'static str, tag: u8 },
    #[error("malformed RLP: {0}")]
    Rlp(String),
    #[error("{0} trailing bytes after the encoded value")]
    TrailingBytes(usize),
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("input is {size} bytes, the limit is {limit}")]
    TooLarge { size: usize, limit: usize },
}

impl From<alloy_rlp::Error> for DecodeError {
    fn from(e: alloy_rlp::Error) -> Self {
        DecodeError::Rlp(e.to_string())
    }
}

/// Decodes exactly one RLP value and rejects trailing bytes (two encodings of one value
/// would give two hashes).
pub fn decode_exact<T: Decodable>(bytes: &[u8]) -> Result<T, DecodeError> {
    let mut buf = bytes;
    let value = T::decode(&mut buf)?;
    if !buf.is_empty() {
        return Err(DecodeError::TrailingBytes(buf.len()));
    }
    Ok(value)
}

/// Splits off the leading format tag.
pub fn split_tag(bytes: &[u8]) -> Result<(u8, &[u8]), DecodeError> {
    match bytes.split_first() {
        Some((tag, rest)) => Ok((*tag, rest)),
        None => Err(DecodeError::Empty),
    }
}
