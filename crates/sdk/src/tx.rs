//! Building and signing native transactions, without a node: the pure half of
//! [`Client::send_transaction`](crate::Client::send_transaction).

use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use aurum_crypto::{CryptoError, CryptoSuite, KeyPair};
use aurum_primitives::transaction::BLOCK_LIMIT_WINDOW;
use aurum_primitives::{NativeTx, Transaction};

/// How far ahead of the current block a fresh tx's block limit is set: half the window the
/// chain accepts, so the tx stays valid while it waits even if the node's head moves on.
pub const BLOCK_LIMIT_MARGIN: u64 = BLOCK_LIMIT_WINDOW / 2;

/// What to send. Unset fields get sensible values: zero value, the chain's default gas limit
/// (0), a block limit [`BLOCK_LIMIT_MARGIN`] above the current block and a random nonce.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxRequest {
    /// None creates a contract from `input`.
    pub to: Option<Address>,
    pub value: U256,
    pub input: Bytes,
    /// 0 = the chain default.
    pub gas_limit: u64,
    pub block_limit: Option<u64>,
    pub nonce: Option<U256>,
    /// Optional scheduling hint for parallel execution.
    pub conflict_keys: Vec<Bytes>,
}

impl TxRequest {
    /// A call of `to` with calldata `input`.
    pub fn call(to: Address, input: impl Into<Bytes>) -> Self {
        Self { to: Some(to), input: input.into(), ..Self::default() }
    }

    /// A contract creation running `code` (bytecode + constructor arguments).
    pub fn create(code: impl Into<Bytes>) -> Self {
        Self { to: None, input: code.into(), ..Self::default() }
    }

    pub fn value(mut self, value: U256) -> Self {
        self.value = value;
        self
    }
    pub fn gas_limit(mut self, gas_limit: u64) -> Self {
        self.gas_limit = gas_limit;
        self
    }
    pub fn block_limit(mut self, block_limit: u64) -> Self {
        self.block_limit = Some(block_limit);
        self
    }
    pub fn nonce(mut self, nonce: U256) -> Self {
        self.nonce = Some(nonce);
        self
    }
    pub fn conflict_keys(mut self, keys: Vec<Bytes>) -> Self {
        self.conflict_keys = keys;
        self
    }
}

/// A fresh random native nonce. 256 random bits make a collision inside the block-limit
/// window (which the pool refuses as `NonceUsed`) practically impossible.
pub fn random_nonce() -> U256 {
    U256::from_be_bytes(rand::random::<[u8; 32]>())
}

/// The native tx for `req` on this chain and group, given the current block number.
pub fn build_native_tx(
    chain_id: &str,
    group_id: &str,
    current_block: u64,
    req: TxRequest,
) -> NativeTx {
    NativeTx {
        chain_id: chain_id.to_owned(),
        group_id: group_id.to_owned(),
        block_limit: req
            .block_limit
            .unwrap_or_else(|| current_block.saturating_add(BLOCK_LIMIT_MARGIN)),
        nonce: req.nonce.unwrap_or_else(random_nonce),
        to: match req.to {
            Some(to) => TxKind::Call(to),
            None => TxKind::Create,
        },
        value: req.value,
        input: req.input,
        gas_limit: req.gas_limit,
        conflict_keys: req.conflict_keys,
    }
}

/// A signed transaction ready for `sendTransaction`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTx {
    /// The hash the node will report (the suite hash of the signing payload).
    pub hash: B256,
    /// `Transaction::encode()`: what `sendTransaction` takes, as `0x` hex.
    pub raw: Bytes,
    pub tx: Transaction,
}

impl SignedTx {
    /// The `0x` hex form `sendTransaction` takes.
    pub fn raw_hex(&self) -> String {
        format!("0x{}", hex::encode(&self.raw))
    }
}

/// Signs `tx` with `key`. The key must belong to the chain's suite: a key of the other
/// suite would yield a signature every node rejects, so it is refused here.
pub fn sign_native_tx(
    suite: &dyn CryptoSuite,
    key: &KeyPair,
    tx: NativeTx,
) -> Result<SignedTx, CryptoError> {
    key.expect_kind(suite.kind())?;
    let hash = tx.hash(suite);
    let tx = Transaction::Native(tx.sign(suite, key));
    Ok(SignedTx { hash, raw: tx.encode().into(), tx })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aurum_crypto::{SuiteKind, suite};

    #[test]
    fn defaults_follow_the_chain_rules() {
        let tx = build_native_tx("chain0", "group0", 100, TxRequest::call(Address::ZERO, vec![1]));
        assert_eq!(tx.block_limit, 600);
        // valid while head < block_limit <= head + window
        assert!(tx.block_limit > 100 && tx.block_limit <= 100 + BLOCK_LIMIT_WINDOW);
        assert_eq!(tx.gas_limit, 0);
        assert_eq!(tx.value, U256::ZERO);
        assert_eq!(tx.to, TxKind::Call(Address::ZERO));
        let other = build_native_tx("chain0", "group0", 100, TxRequest::create(vec![1]));
        assert_eq!(other.to, TxKind::Create);
        assert_ne!(tx.nonce, other.nonce, "nonces are random");

        let req = TxRequest::call(Address::ZERO, Bytes::new())
            .value(U256::from(3))
            .gas_limit(21_000)
            .block_limit(7)
            .nonce(U256::from(9));
        let tx = build_native_tx("c", "g", 100, req);
        assert_eq!((tx.block_limit, tx.nonce, tx.gas_limit), (7, U256::from(9), 21_000));
        assert_eq!(tx.value, U256::from(3));
    }

    #[test]
    fn signed_tx_round_trips_and_verifies_in_both_suites() {
        for kind in SuiteKind::ALL {
            let s = suite(kind);
            let key = KeyPair::generate(kind);
            let to = Address::repeat_byte(0x42);
            let req = TxRequest::call(to, vec![0xde, 0xad]).value(U256::from(5));
            let signed = sign_native_tx(&*s, &key, build_native_tx("c1", "g1", 10, req)).unwrap();
            assert!(signed.raw_hex().starts_with("0x01"));

            let decoded = Transaction::decode(&signed.raw).unwrap();
            assert_eq!(decoded, signed.tx);
            let verified = decoded.verify(&*s).unwrap();
            assert_eq!(verified.hash, signed.hash);
            assert_eq!(verified.sender, key.address());
            assert_eq!(verified.to(), Some(to));
            assert_eq!(verified.value(), U256::from(5));
            assert!(verified.check_destination("c1", "g1", 0).is_ok());
            assert!(verified.check_destination("c1", "g2", 0).is_err());
        }
    }

    #[test]
    fn key_of_the_other_suite_is_refused() {
        let s = suite(SuiteKind::Secp256k1Keccak);
        let key = KeyPair::generate(SuiteKind::Sm2Sm3);
        let tx = build_native_tx("c", "g", 0, TxRequest::default());
        assert_eq!(
            sign_native_tx(&*s, &key, tx),
            Err(CryptoError::WrongSuite {
                expected: SuiteKind::Secp256k1Keccak,
                found: SuiteKind::Sm2Sm3
            })
        );
    }
}
