//! Storage layout of one group's ledger: namespace names and key encodings.
//!
//! Every namespace is prefixed with the group id, so groups never share a key. History of
//! state is kept as versions keyed `escape(state key) || 0x00 0x00 || height (u64 BE)`:
//! the escape (0x00 → 0x00 0xff) makes the encoding order-preserving and prefix-free, so all
//! versions of one key are contiguous, "value as of height N" is one reverse seek, and a
//! prefix scan of state keys is a prefix scan of history keys. The same bytes work as an
//! ordered primary key in a SQL table.

/// Names of a group's namespaces.
#[derive(Debug, Clone)]
pub struct Namespaces {
    pub meta: String,
    pub headers: String,
    pub block_txs: String,
    pub txs: String,
    pub receipts: String,
    pub block_hash: String,
    pub certs: String,
    pub state: String,
    pub state_history: String,
    pub nonces: String,
    pub nonce_expiry: String,
}

impl Namespaces {
    pub fn for_group(group: &str) -> Self {
        let ns = |name: &str| format!("{group}.{name}");
        Namespaces {
            meta: ns("meta"),
            headers: ns("headers"),
            block_txs: ns("block_txs"),
            txs: ns("txs"),
            receipts: ns("receipts"),
            block_hash: ns("block_hash"),
            certs: ns("certs"),
            state: ns("state"),
            state_history: ns("state_history"),
            nonces: ns("nonces"),
            nonce_expiry: ns("nonce_expiry"),
        }
    }

    pub fn all(&self) -> [&str; 11] {
        [
            &self.meta,
            &self.headers,
            &self.block_txs,
            &self.txs,
            &self.receipts,
            &self.block_hash,
            &self.certs,
            &self.state,
            &self.state_history,
            &self.nonces,
            &self.nonce_expiry,
        ]
    }
}

pub const META_HEAD: &[u8] = b"head";
pub const META_GENESIS: &[u8] = b"genesis";
pub const META_TOTAL_TXS: &[u8] = b"total_txs";

pub fn number_key(number: u64) -> [u8; 8] {
    number.to_be_bytes()
}

/// Order-preserving, prefix-free escape of a state key (0x00 → 0x00 0xff).
pub fn escape(key: &[u8], out: &mut Vec<u8>) {
    for &b in key {
        out.push(b);
        if b == 0 {
            out.push(0xff);
        }
    }
}

/// Inverse of [`escape`] up to the `0x00 0x00` terminator; returns (key, rest).
pub fn unescape(bytes: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let mut key = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == 0 {
            match bytes.get(i + 1) {
                Some(0xff) => {
                    key.push(0);
                    i += 2;
                }
                Some(0x00) => return Some((key, &bytes[i + 2..])),
                _ => return None,
            }
        } else {
            key.push(b);
            i += 1;
        }
    }
    None
}

/// `escape(key) || 0x00 0x00 || height`.
pub fn history_key(key: &[u8], height: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 12);
    escape(key, &mut out);
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&height.to_be_bytes());
    out
}

/// Splits a history key into (state key, height).
pub fn parse_history_key(bytes: &[u8]) -> Option<(Vec<u8>, u64)> {
    let (key, rest) = unescape(bytes)?;
    let height = u64::from_be_bytes(rest.try_into().ok()?);
    Some((key, height))
}

/// History values: `0x01 || value` for a put, `0x00` for a delete.
pub fn history_value(value: Option<&[u8]>) -> Vec<u8> {
    match value {
        Some(v) => {
            let mut out = Vec::with_capacity(v.len() + 1);
            out.push(1);
            out.extend_from_slice(v);
            out
        }
        None => vec![0],
    }
}

pub fn parse_history_value(bytes: &[u8]) -> Option<Option<Vec<u8>>> {
    match bytes.split_first() {
        Some((1, v)) => Some(Some(v.to_vec())),
        Some((0, [])) => Some(None),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn history_keys_round_trip(key in prop::collection::vec(any::<u8>(), 0..40), h in any::<u64>()) {
            let hk = history_key(&key, h);
            prop_assert_eq!(parse_history_key(&hk), Some((key, h)));
        }

        #[test]
        fn history_keys_order_by_key_then_height(
            a in prop::collection::vec(any::<u8>(), 0..8), b in prop::collection::vec(any::<u8>(), 0..8),
            ha in any::<u64>(), hb in any::<u64>())
        {
            let (ka, kb) = (history_key(&a, ha), history_key(&b, hb));
            let expected = a.cmp(&b).then(ha.cmp(&hb));
            prop_assert_eq!(ka.cmp(&kb), expected);
        }

        #[test]
        fn escaped_prefix_is_a_prefix(p in prop::collection::vec(any::<u8>(), 0..8), rest in prop::collection::vec(any::<u8>(), 0..8), h in any::<u64>()) {
            let mut full = p.clone();
            full.extend_from_slice(&rest);
            let mut ep = Vec::new();
            escape(&p, &mut ep);
            prop_assert!(history_key(&full, h).starts_with(&ep));
        }
    }
}
