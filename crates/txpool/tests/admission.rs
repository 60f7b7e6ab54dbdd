//! The pool over a real ledger (in memory): every admission refusal with its `reason()`,
//! and selection — arrival order, `max`, Ethereum nonce gaps, expiry, in-flight txs,
//! `on_committed` and `return_batch`. Native txs are checked in both suites.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, Signature, TxKind, U256};
use aurum_crypto::{CryptoError, CryptoSuite, KeyPair, SuiteKind, suite};
use aurum_ledger::{BlockCommit, Genesis, GenesisNode, Ledger};
use aurum_primitives::state::{AccountInfo, account_key};
use aurum_primitives::transaction::{BLOCK_LIMIT_WINDOW, MAX_TX_BYTES};
use aurum_primitives::{
    Block, CommitCertificate, EthTx, Header, NativeTx, Receipt, SignedNativeTx, StateDiff,
    Transaction, TxError, TxStatus, VerifiedTx,
};
use aurum_storage::MemStore;
use aurum_txpool::{AdmitError, PoolConfig, TxPool};
use std::sync::Arc;

const ETH_CHAIN_ID: u64 = 20200;

/// A group's ledger (block 0 from a genesis) and its pool, plus a user key of the suite.
struct Fixture {
    suite: Arc<dyn CryptoSuite>,
    ledger: Arc<Ledger>,
    pool: TxPool,
    user: KeyPair,
}

impl Fixture {
    fn new(kind: SuiteKind) -> Self {
        Self::with_capacity(kind, 1000)
    }

    fn with_capacity(kind: SuiteKind, capacity: usize) -> Self {
        Self::with_limits(kind, capacity, aurum_txpool::DEFAULT_CAPACITY_BYTES)
    }

    fn with_limits(kind: SuiteKind, capacity: usize, capacity_bytes: usize) -> Self {
        Self::with_config(kind, |c| {
            c.capacity = capacity;
            c.capacity_bytes = capacity_bytes;
        })
    }

    fn with_config(kind: SuiteKind, edit: impl FnOnce(&mut PoolConfig)) -> Self {
        let suite = suite(kind);
        let sealer = suite.generate();
        let genesis = Genesis {
            chain_id: "chain0".into(),
            group_id: "group0".into(),
            crypto: if kind == SuiteKind::Sm2Sm3 { "sm".into() } else { "secp256k1".into() },
            timestamp_ms: 1_700_000_000_000,
            sealers: vec![GenesisNode { node_id: hex::encode(sealer.public().0), weight: 1 }],
            observers: vec![],
            system_config: Default::default(),
            admins: vec![],
            alloc: Default::default(),
        };
        let ledger =
            Arc::new(Ledger::open(Arc::new(MemStore::new()), suite.clone(), &genesis).unwrap());
        let mut config = PoolConfig::new("chain0", "group0");
        config.capacity = 1000;
        edit(&mut config);
        let pool = TxPool::new(config, Arc::clone(&ledger), ETH_CHAIN_ID);
        let user = suite.generate();
        Fixture { suite, ledger, pool, user }
    }

    fn head(&self) -> u64 {
        self.ledger.head_number().unwrap()
    }

    /// A native tx from the user, valid for the next 500 blocks.
    fn native(&self, nonce: u64) -> Transaction {
        self.native_with(nonce, |_| {})
    }

    /// A native tx from the user with fields adjusted by `edit` before signing.
    fn native_with(&self, nonce: u64, edit: impl FnOnce(&mut NativeTx)) -> Transaction {
        let mut tx = NativeTx {
            chain_id: "chain0".into(),
            group_id: "group0".into(),
            block_limit: self.head() + 500,
            nonce: U256::from(nonce),
            to: TxKind::Call(Address::repeat_byte(0x42)),
            value: U256::ZERO,
            input: Bytes::from(nonce.to_be_bytes().to_vec()),
            gas_limit: 0,
            conflict_keys: vec![],
        };
        edit(&mut tx);
        Transaction::Native(tx.sign(&*self.suite, &self.user))
    }

    fn hash(&self, tx: &Transaction) -> B256 {
        tx.hash(&*self.suite)
    }

    fn submit(&self, tx: &Transaction) -> B256 {
        let hash = self.pool.submit(tx.clone()).unwrap_or_else(|e| panic!("refused: {e}"));
        assert_eq!(hash, self.hash(tx));
        hash
    }

    /// Commits the next block holding `txs` (successful receipts) and the state `diff`.
    fn commit(&self, txs: &[Transaction], diff: StateDiff) {
        let s = &*self.suite;
        let txs: Vec<VerifiedTx> = txs.iter().map(|t| t.clone().verify(s).unwrap()).collect();
        let parent = self.ledger.head().unwrap();
        let receipts: Vec<Receipt> = txs
            .iter()
            .map(|_| Receipt {
                status: TxStatus::Success,
                gas_used: 21_000,
                contract_address: None,
                logs: vec![],
                output: Bytes::new(),
            })
            .collect();
        let hashes: Vec<B256> = txs.iter().map(|t| t.hash).collect();
        let mut header = Header {
            version: 1,
            parent_hash: parent.hash(s),
            number: parent.number + 1,
            timestamp_ms: parent.timestamp_ms + 1000,
            tx_root: Block::tx_root(s, &hashes),
            ..Default::default()
        };
        let root = diff.state_root(&parent.state_root, s);
        header.finalize(s, &receipts, root, parent.sealer_list_hash);
        let certificate = CommitCertificate { block_hash: header.hash(s), signatures: vec![] };
        self.ledger
            .commit(BlockCommit {
                header: &header,
                txs: &txs,
                receipts: &receipts,
                diff: &diff,
                certificate: &certificate,
            })
            .unwrap();
    }

    /// Sets the committed account nonce of `address` (in a new block).
    fn set_account_nonce(&self, address: Address, nonce: u64) {
        let mut diff = StateDiff::new();
        let info = AccountInfo { nonce, balance: U256::ZERO, code_hash: KECCAK256_EMPTY };
        diff.put(account_key(&address), info.encode());
        self.commit(&[], diff);
    }

    /// Takes a batch for the next block, the committed account nonces as the ledger says.
    fn take(&self, max: usize) -> Vec<B256> {
        let number = self.head() + 1;
        self.pool
            .take_batch(max, usize::MAX, number, |a| self.pool.account_nonce(a).unwrap())
            .iter()
            .map(|t| t.hash)
            .collect()
    }
}

/// Asserts `result` is a refusal with `reason` and returns it.
#[track_caller]
fn refused(result: Result<B256, AdmitError>, reason: &str) -> AdmitError {
    let err = result.expect_err("expected a refusal");
    assert_eq!(err.reason(), reason, "refusal {err:?} ({err})");
    assert!(!err.to_string().is_empty());
    err
}

/// Signs an Ethereum tx with the secp256k1 `key` through the chain's own suite.
fn sign_eth<T: SignableTransaction<Signature>>(key: &KeyPair, tx: T) -> alloy_consensus::Signed<T> {
    let sig = suite(SuiteKind::Secp256k1Keccak).sign(key, &tx.signature_hash());
    assert_eq!(sig.len(), 65, "a secp256k1 key signs Ethereum txs");
    let signature = Signature::new(
        U256::from_be_slice(&sig[..32]),
        U256::from_be_slice(&sig[32..64]),
        sig[64] == 1,
    );
    tx.into_signed(signature)
}

fn eth_envelope(envelope: TxEnvelope) -> Transaction {
    Transaction::Ethereum(EthTx::decode(&envelope.encoded_2718()).unwrap())
}

/// A legacy tx (EIP-155 when `chain_id` is set) with account nonce `nonce`.
fn eth_legacy(key: &KeyPair, chain_id: Option<u64>, nonce: u64) -> Transaction {
    let tx = TxLegacy {
        chain_id,
        nonce,
        gas_price: 0,
        gas_limit: 100_000,
        to: TxKind::Call(Address::repeat_byte(0x42)),
        value: U256::ZERO,
        input: Bytes::from(nonce.to_be_bytes().to_vec()),
    };
    eth_envelope(TxEnvelope::Legacy(sign_eth(key, tx)))
}

/// An EIP-1559 tx with account nonce `nonce`; `tag` makes otherwise equal txs differ.
fn eth_1559(key: &KeyPair, chain_id: u64, nonce: u64, tag: u8) -> Transaction {
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: 100_000,
        max_fee_per_gas: 0,
        max_priority_fee_per_gas: 0,
        to: TxKind::Call(Address::repeat_byte(0x42)),
        value: U256::ZERO,
        access_list: Default::default(),
        input: Bytes::from(vec![tag]),
    };
    eth_envelope(TxEnvelope::Eip1559(sign_eth(key, tx)))
}

fn eth_key() -> KeyPair {
    KeyPair::generate(SuiteKind::Secp256k1Keccak)
}

/// The native tx with its signature replaced by `edit(signature)`.
fn with_signature(tx: &Transaction, edit: impl FnOnce(&mut Vec<u8>)) -> Transaction {
    let Transaction::Native(SignedNativeTx { data, signature }) = tx else {
        panic!("not a native tx")
    };
    let mut sig = signature.to_vec();
    edit(&mut sig);
    Transaction::Native(SignedNativeTx { data: data.clone(), signature: sig.into() })
}

// ---------------- admission ----------------

#[test]
fn oversized_txs_are_refused_as_too_large_and_the_limit_itself_is_accepted() {
    for kind in SuiteKind::ALL {
        let f = Fixture::new(kind);
        let err = refused(f.pool.submit_bytes(&vec![0x01; MAX_TX_BYTES + 1]), "TooLarge");
        assert!(matches!(err, AdmitError::TooLarge { size, max: MAX_TX_BYTES }
            if size == MAX_TX_BYTES + 1));

        // Size the input so the encoded tx is exactly the limit, then one byte over.
        let probe = f.native_with(1, |t| t.input = vec![0; MAX_TX_BYTES - 1000].into());
        let overhead = probe.encode().len() - (MAX_TX_BYTES - 1000);
        let at_limit = f.native_with(1, |t| t.input = vec![0; MAX_TX_BYTES - overhead].into());
        let over = f.native_with(2, |t| t.input = vec![0; MAX_TX_BYTES - overhead + 1].into());
        assert_eq!(at_limit.encode().len(), MAX_TX_BYTES, "{kind:?}");
        assert_eq!(over.encode().len(), MAX_TX_BYTES + 1);
        let err = refused(f.pool.submit(over.clone()), "TooLarge");
        assert!(matches!(err, AdmitError::TooLarge { size, .. } if size == MAX_TX_BYTES + 1));
        refused(f.pool.submit_bytes(&over.encode()), "TooLarge");
        assert!(f.pool.is_empty());
        f.pool.submit_bytes(&at_limit.encode()).unwrap();
        assert_eq!(f.pool.len(), 1);
    }
}

#[test]
fn undecodable_bytes_are_refused_as_decode() {
    let f = Fixture::new(SuiteKind::Secp256k1Keccak);
    let good = f.native(1).encode();
    let mut trailing = good.clone();
    trailing.push(0);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("unknown tag", vec![0x07, 0xc0]),
        ("native tag, not RLP", vec![0x01, 0xff, 0xff]),
        ("native tag, truncated", good[..good.len() - 3].to_vec()),
        ("native tag, trailing byte", trailing),
        ("ethereum tag, garbage", vec![0x02, 0x01, 0x02, 0x03]),
        ("ethereum tag, empty envelope", vec![0x02]),
    ];
    for (what, bytes) in cases {
        let err = refused(f.pool.submit_bytes(&bytes), "Decode");
        assert!(matches!(err, AdmitError::Decode(_)), "{what}: {err:?}");
    }
    assert!(f.pool.is_empty());
    f.pool.submit_bytes(&good).unwrap();
}

#[test]
fn tampered_signatures_are_refused_as_bad_signature() {
    for kind in SuiteKind::ALL {
        let f = Fixture::new(kind);
        let tx = f.native(1);
        let other_suite = SuiteKind::ALL.into_iter().find(|k| *k != kind).unwrap();
        let mut bad = vec![
            ("truncated", with_signature(&tx, |s| s.truncate(s.len() - 1))),
            ("all zero", with_signature(&tx, |s| s.fill(0))),
            ("empty", with_signature(&tx, |s| s.clear())),
            // A key of the other suite cannot sign for this chain (empty signature).
            ("other suite's key", {
                let key = KeyPair::generate(other_suite);
                let Transaction::Native(n) = &tx else { unreachable!() };
                Transaction::Native(n.data.clone().sign(&*f.suite, &key))
            }),
        ];
        match kind {
            SuiteKind::Secp256k1Keccak => {
                bad.push(("recovery id 7", with_signature(&tx, |s| s[64] = 7)));
                // The malleated twin (n - s, parity flipped) is refused (EIP-2).
                bad.push((
                    "high s",
                    with_signature(&tx, |s| {
                        let n = U256::from_str_radix(
                            "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
                            16,
                        )
                        .unwrap();
                        let high = n - U256::from_be_slice(&s[32..64]);
                        s[32..64].copy_from_slice(&high.to_be_bytes::<32>());
                        s[64] ^= 1;
                    }),
                ));
            }
            SuiteKind::Sm2Sm3 => {
                bad.push(("flipped s byte", with_signature(&tx, |s| s[40] ^= 0x01)));
                let stranger = f.suite.generate();
                bad.push((
                    "someone else's public key",
                    with_signature(&tx, |s| s[64..].copy_from_slice(&stranger.public().0)),
                ));
            }
        }
        for (what, tx) in bad {
            let err = refused(f.pool.submit(tx.clone()), "BadSignature");
            assert!(matches!(err, AdmitError::BadSignature(TxError::Signature(_))), "{what}");
            refused(f.pool.submit_bytes(&tx.encode()), "BadSignature");
        }
        let Transaction::Native(n) = &tx else { unreachable!() };
        let mut altered = n.clone();
        altered.data.value = U256::from(1_000_000u64);
        let altered = Transaction::Native(altered);
        match kind {
            // SM2 signatures carry the public key: altered data no longer verifies.
            SuiteKind::Sm2Sm3 => {
                let err = refused(f.pool.submit(altered), "BadSignature");
                assert!(matches!(
                    err,
                    AdmitError::BadSignature(TxError::Signature(CryptoError::BadSignature))
                ));
            }
            // Recoverable ECDSA attributes altered data to some other signer: admitted, but
            // never as the user.
            SuiteKind::Secp256k1Keccak => {
                let hash = f.pool.submit(altered).unwrap();
                assert_ne!(f.pool.get(&hash).unwrap().sender, f.user.address());
                f.pool.on_committed([hash]);
            }
        }
        assert!(f.pool.is_empty(), "{kind:?}: nothing refused was kept");
        f.submit(&tx);
        assert_eq!(f.pool.get(&f.hash(&tx)).unwrap().sender, f.user.address());
    }
}

#[test]
fn txs_for_another_chain_or_group_are_refused() {
    for kind in SuiteKind::ALL {
        let f = Fixture::new(kind);
        let err = refused(
            f.pool.submit(f.native_with(1, |t| t.chain_id = "chain1".into())),
            "WrongChain",
        );
        assert!(matches!(err, AdmitError::Destination(TxError::WrongChain { ref got, .. })
            if got == "chain1"));
        let err = refused(
            f.pool.submit(f.native_with(2, |t| t.group_id = "group1".into())),
            "WrongGroup",
        );
        assert!(matches!(err, AdmitError::Destination(TxError::WrongGroup { ref got, .. })
            if got == "group1"));
        assert!(f.pool.is_empty());
        // The refused nonces were not reserved.
        f.submit(&f.native(1));
        f.submit(&f.native(2));
    }
}

#[test]
fn ethereum_txs_for_another_chain_id_are_refused() {
    let f = Fixture::new(SuiteKind::Secp256k1Keccak);
    let key = eth_key();
    let err = refused(f.pool.submit(eth_legacy(&key, Some(1), 0)), "WrongEthChainId");
    assert!(matches!(
        err,
        AdmitError::Destination(TxError::WrongEthChainId { expected: ETH_CHAIN_ID, got: 1 })
    ));
    refused(f.pool.submit(eth_1559(&key, 1, 0, 0)), "WrongEthChainId");
    refused(f.pool.submit_bytes(&eth_1559(&key, 1, 0, 0).encode()), "WrongEthChainId");
    // Pre-EIP-155: replayable on any chain, refused for want of a chain id.
    let err = refused(f.pool.submit(eth_legacy(&key, None, 0)), "WrongEthChainId");
    assert!(matches!(err, AdmitError::Destination(TxError::MissingChainId)));
    assert!(f.pool.is_empty());

    let hash = f.submit(&eth_legacy(&key, Some(ETH_CHAIN_ID), 0));
    assert_eq!(f.pool.get(&hash).unwrap().sender, key.address());
    f.submit(&eth_1559(&key, ETH_CHAIN_ID, 1, 0));

    // The pool follows the group's web3_chain_id.
    f.pool.set_eth_chain_id(7);
    refused(f.pool.submit(eth_1559(&key, ETH_CHAIN_ID, 2, 0)), "WrongEthChainId");
    f.submit(&eth_1559(&key, 7, 2, 0));
}

#[test]
fn ethereum_txs_on_an_sm_chain_are_refused() {
    let f = Fixture::new(SuiteKind::Sm2Sm3);
    let tx = eth_legacy(&eth_key(), Some(ETH_CHAIN_ID), 0);
    let err = f.pool.submit(tx.clone()).unwrap_err();
    assert!(matches!(err, AdmitError::BadSignature(TxError::EthOnSmChain)), "{err:?}");
    assert!(err.to_string().contains("secp256k1"), "{err}");
    assert!(f.pool.submit_bytes(&tx.encode()).is_err());
    assert!(f.pool.is_empty());
}

#[test]
fn ethereum_tx_on_an_sm_chain_has_reason_unsupported() {
    let f = Fixture::new(SuiteKind::Sm2Sm3);
    refused(f.pool.submit(eth_legacy(&eth_key(), Some(ETH_CHAIN_ID), 0)), "Unsupported");
}

#[test]
fn resubmissions_are_refused_as_already_known() {
    for kind in SuiteKind::ALL {
        let f = Fixture::new(kind);
        let tx = f.native(1);
        let hash = f.submit(&tx);
        let err = refused(f.pool.submit(tx.clone()), "AlreadyKnown");
        assert!(matches!(err, AdmitError::AlreadyKnown(h) if h == hash));
        refused(f.pool.submit_bytes(&tx.encode()), "AlreadyKnown");
        assert_eq!(f.pool.len(), 1);
    }
    let f = Fixture::new(SuiteKind::Secp256k1Keccak);
    let tx = eth_legacy(&eth_key(), Some(ETH_CHAIN_ID), 0);
    f.submit(&tx);
    refused(f.pool.submit(tx), "AlreadyKnown");
}

#[test]
fn a_native_nonce_is_used_once_in_the_pool_and_in_the_window() {
    for kind in SuiteKind::ALL {
        let f = Fixture::new(kind);
        let a = f.native(7);
        let b = f.native_with(7, |t| t.input = Bytes::from_static(b"another"));
        f.submit(&a);
        let err = refused(f.pool.submit(b.clone()), "NonceUsed");
        assert!(matches!(err, AdmitError::NonceUsedInPool(n) if n == U256::from(7)));

        // Seal `a` into block 1 the way a sealer does.
        assert_eq!(f.take(10), vec![f.hash(&a)]);
        f.commit(std::slice::from_ref(&a), StateDiff::new());
        f.pool.on_committed([f.hash(&a)]);
        assert!(f.pool.is_empty());

        let err = refused(f.pool.submit(a.clone()), "AlreadyCommitted");
        assert!(matches!(err, AdmitError::AlreadyCommitted(h) if h == f.hash(&a)));
        let err = refused(f.pool.submit(b.clone()), "NonceUsed");
        assert!(
            matches!(err, AdmitError::NonceUsedInBlock { nonce, block: 1 } if nonce == U256::from(7)),
            "{err:?}"
        );
        assert!(f.pool.is_empty());
        f.submit(&f.native(8));
    }
}

#[test]
fn block_limit_must_be_inside_the_window() {
    for kind in SuiteKind::ALL {
        let f = Fixture::new(kind);
        for _ in 0..3 {
            f.commit(&[], StateDiff::new());
        }
        let head = f.head();
        assert_eq!(head, 3);
        for (nonce, limit) in [(1, 0), (2, head), (3, head + BLOCK_LIMIT_WINDOW + 1), (4, u64::MAX)]
        {
            let err = refused(
                f.pool.submit(f.native_with(nonce, |t| t.block_limit = limit)),
                "BlockLimit",
            );
            assert!(
                matches!(err, AdmitError::BlockLimit { block_limit, head: 3 } if block_limit == limit),
                "{err:?}"
            );
            assert!(err.to_string().contains("window"), "{err}");
        }
        assert!(f.pool.is_empty());
        f.submit(&f.native_with(5, |t| t.block_limit = head + 1));
        f.submit(&f.native_with(6, |t| t.block_limit = head + BLOCK_LIMIT_WINDOW));
        assert_eq!(f.pool.len(), 2);
    }
}

#[test]
fn a_full_pool_refuses_until_space_frees() {
    for kind in SuiteKind::ALL {
        let f = Fixture::with_capacity(kind, 2);
        let (a, b, c) = (f.native(1), f.native(2), f.native(3));
        f.submit(&a);
        f.submit(&b);
        let err = refused(f.pool.submit(c.clone()), "PoolFull");
        assert!(matches!(err, AdmitError::PoolFull { capacity: 2 }));
        // Known beats full: the client learns its tx is in.
        refused(f.pool.submit(a.clone()), "AlreadyKnown");
        // Txs being sealed still take room.
        assert_eq!(f.take(10).len(), 2);
        refused(f.pool.submit(c.clone()), "PoolFull");
        f.pool.on_committed([f.hash(&a)]);
        f.submit(&c);
        refused(f.pool.submit(f.native(4)), "PoolFull");
    }
}

#[test]
fn a_pool_full_by_bytes_refuses_and_gossip_admission_respects_it() {
    for kind in SuiteKind::ALL {
        let probe = Fixture::new(kind);
        let size = probe.native(1).encode().len();
        // Room for two txs' bytes (count is not the limit here).
        let f = Fixture::with_limits(kind, 1000, 2 * size + size / 2);
        let (a, b, c) = (f.native(1), f.native(2), f.native(3));
        f.submit(&a);
        f.submit(&b);
        let err = refused(f.pool.submit(c.clone()), "PoolFull");
        assert!(matches!(err, AdmitError::PoolFullBytes { .. }), "{err}");
        // Txs from peers meet the same bound (and are counted, not an error).
        assert_eq!(f.pool.submit_from_peer(vec![c.clone()]), 0);
        f.pool.on_committed([f.hash(&a)]);
        assert_eq!(f.pool.submit_from_peer(vec![c.clone(), a.clone()]), 1);
        assert_eq!(f.pool.len(), 2);
        // Peers' txs are not queued for gossip again; clients' are.
        f.pool.enable_gossip();
        assert!(f.pool.take_gossip().is_empty());
        f.pool.on_committed([f.hash(&b)]);
        f.submit(&f.native(4));
        assert_eq!(f.pool.take_gossip().len(), 1);
        // A client's tx still waiting is said again (peers may have been down); peers' txs
        // are not, and one that was just said waits its turn.
        let again = f.pool.regossip(std::time::Duration::ZERO, 10);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].hash, f.hash(&f.native(4)));
        assert!(f.pool.regossip(std::time::Duration::from_secs(3600), 10).is_empty());
    }
}

#[test]
fn ethereum_nonces_below_the_account_nonce_are_refused() {
    let f = Fixture::new(SuiteKind::Secp256k1Keccak);
    let key = eth_key();
    f.set_account_nonce(key.address(), 2);
    assert_eq!(f.pool.account_nonce(&key.address()).unwrap(), 2);
    for nonce in [0, 1] {
        let err =
            refused(f.pool.submit(eth_legacy(&key, Some(ETH_CHAIN_ID), nonce)), "NonceTooLow");
        assert!(matches!(err, AdmitError::NonceTooLow { sender, nonce: n, expected: 2 }
            if sender == key.address() && n == nonce));
    }
    f.submit(&eth_1559(&key, ETH_CHAIN_ID, 2, 0));
    // A second tx with a pending nonce (no replacement).
    let err = refused(f.pool.submit(eth_1559(&key, ETH_CHAIN_ID, 2, 1)), "NonceTooLow");
    assert!(matches!(err, AdmitError::NonceTaken { nonce: 2, .. }));
    // A gap is admitted (it waits at selection); another sender is independent.
    f.submit(&eth_1559(&key, ETH_CHAIN_ID, 5, 0));
    f.submit(&eth_1559(&eth_key(), ETH_CHAIN_ID, 0, 0));
    assert_eq!(f.pool.len(), 3);
}

// ---------------- selection ----------------

#[test]
fn take_batch_keeps_arrival_order_and_honours_max() {
    for kind in SuiteKind::ALL {
        let f = Fixture::new(kind);
        // Nonces out of numeric order: arrival, not nonce, decides.
        let hashes: Vec<B256> =
            [50u64, 3, 999, 1, 20].iter().map(|n| f.submit(&f.native(*n))).collect();
        assert_eq!(f.pool.waiting_hashes(), hashes);
        assert_eq!(f.take(2), hashes[..2]);
        assert_eq!((f.pool.waiting(), f.pool.len()), (3, 5));
        assert_eq!(f.take(1), hashes[2..3]);
        assert_eq!(f.take(0), Vec::<B256>::new());
        assert_eq!(f.take(100), hashes[3..]);
        assert_eq!(f.take(100), Vec::<B256>::new());
        assert_eq!((f.pool.waiting(), f.pool.len()), (0, 5), "{kind:?}");
    }
}

#[test]
fn in_flight_txs_are_still_known() {
    for kind in SuiteKind::ALL {
        let f = Fixture::new(kind);
        let a = f.native(1);
        let ha = f.submit(&a);
        let hb = f.submit(&f.native(2));
        assert_eq!(f.take(1), vec![ha]);
        assert!(f.pool.contains(&ha));
        assert_eq!(f.pool.get(&ha).unwrap().hash, ha);
        assert_eq!(f.pool.waiting_hashes(), vec![hb]);
        refused(f.pool.submit(a.clone()), "AlreadyKnown");
        refused(f.pool.submit(f.native_with(1, |t| t.value = U256::from(1))), "NonceUsed");
        assert_eq!(f.pool.len(), 2);
    }
}

#[test]
fn on_committed_and_return_batch() {
    for kind in SuiteKind::ALL {
        let f = Fixture::new(kind);
        let h: Vec<B256> = (1..=4).map(|n| f.submit(&f.native(n))).collect();
        assert_eq!(f.take(3), h[..3]);

        // A block that failed: its txs go back to their arrival places, ahead of later ones.
        f.pool.return_batch([h[1], h[0]]);
        assert_eq!(f.pool.waiting_hashes(), vec![h[0], h[1], h[3]]);
        // Returning a waiting tx again, or an unknown one, changes nothing.
        f.pool.return_batch([h[0], B256::repeat_byte(9)]);
        assert_eq!(f.pool.waiting(), 3);
        assert_eq!(f.take(10), vec![h[0], h[1], h[3]]);

        // A committed block: its txs are forgotten, nonces included.
        f.pool.on_committed([h[0], h[2], B256::repeat_byte(9)]);
        assert_eq!(f.pool.len(), 2);
        assert!(!f.pool.contains(&h[0]) && f.pool.get(&h[2]).is_none());
        // A forgotten tx cannot be returned.
        f.pool.return_batch([h[0], h[1]]);
        assert_eq!(f.pool.waiting_hashes(), vec![h[1]]);
        f.pool.on_committed([h[1], h[3]]);
        assert!(f.pool.is_empty() && f.take(10).is_empty(), "{kind:?}");
    }
}

#[test]
fn expired_native_txs_are_dropped_at_selection() {
    for kind in SuiteKind::ALL {
        let f = Fixture::new(kind);
        let old = f.submit(&f.native_with(1, |t| t.block_limit = 2));
        let last = f.submit(&f.native_with(2, |t| t.block_limit = 3));
        let fresh = f.submit(&f.native_with(3, |t| t.block_limit = 500));
        // For block 3: block limit 2 has passed, block limit 3 is still good.
        let batch: Vec<B256> =
            f.pool.take_batch(10, usize::MAX, 3, |_| 0).iter().map(|t| t.hash).collect();
        assert_eq!(batch, vec![last, fresh]);
        assert!(!f.pool.contains(&old), "{kind:?}: expired tx dropped");
        assert_eq!(f.pool.len(), 2);
        // Its nonce is free again in the pool.
        f.submit(&f.native_with(1, |t| t.block_limit = 400));
    }
}

#[test]
fn an_ethereum_tx_with_a_nonce_gap_waits_for_its_predecessor() {
    let f = Fixture::new(SuiteKind::Secp256k1Keccak);
    let key = eth_key();
    let e = |n| eth_legacy(&key, Some(ETH_CHAIN_ID), n);
    let e1 = f.submit(&e(1));
    let n = f.submit(&f.native(77));
    let e0 = f.submit(&e(0));
    // e1 came first but its nonce was not next when its turn came.
    assert_eq!(f.take(10), vec![n, e0]);
    assert_eq!(f.pool.waiting_hashes(), vec![e1]);
    // e0 is being sealed, not committed: e1 still waits.
    assert!(f.take(10).is_empty());
    f.set_account_nonce(key.address(), 1);
    f.pool.on_committed([n, e0]);
    assert_eq!(f.take(10), vec![e1]);
    f.set_account_nonce(key.address(), 2);
    f.pool.on_committed([e1]);

    // A gap is held until a tx fills it.
    let e3 = f.submit(&e(3));
    assert!(f.take(10).is_empty());
    assert_eq!(f.pool.waiting_hashes(), vec![e3]);
    let e2 = f.submit(&e(2));
    assert_eq!(f.take(10), vec![e2]);
    f.set_account_nonce(key.address(), 3);
    f.pool.on_committed([e2]);
    assert_eq!(f.take(10), vec![e3]);
    f.set_account_nonce(key.address(), 4);
    f.pool.on_committed([e3]);

    // Consecutive nonces in arrival order go into one block.
    let run: Vec<B256> = (4..7).map(|n| f.submit(&e(n))).collect();
    assert_eq!(f.take(10), run);
}

#[test]
fn stale_ethereum_txs_are_dropped_at_selection() {
    let f = Fixture::new(SuiteKind::Secp256k1Keccak);
    let key = eth_key();
    let stale = f.submit(&eth_legacy(&key, Some(ETH_CHAIN_ID), 0));
    let next = f.submit(&eth_legacy(&key, Some(ETH_CHAIN_ID), 1));
    // Meanwhile nonce 0 was used by another tx (committed elsewhere).
    f.set_account_nonce(key.address(), 1);
    assert_eq!(f.take(10), vec![next]);
    assert!(!f.pool.contains(&stale));
    assert_eq!(f.pool.len(), 1);
}

#[test]
fn pending_nonce_counts_consecutive_pool_nonces() {
    let f = Fixture::new(SuiteKind::Secp256k1Keccak);
    let key = eth_key();
    let pending = || f.pool.pending_nonce(&key.address()).unwrap();
    assert_eq!(pending(), 0);
    f.submit(&eth_legacy(&key, Some(ETH_CHAIN_ID), 0));
    f.submit(&eth_legacy(&key, Some(ETH_CHAIN_ID), 1));
    f.submit(&eth_legacy(&key, Some(ETH_CHAIN_ID), 3));
    assert_eq!(pending(), 2, "stops at the gap");
    f.submit(&eth_legacy(&key, Some(ETH_CHAIN_ID), 2));
    assert_eq!(pending(), 4);
    // Txs being sealed still count (3 arrived before its predecessor 2: it waits).
    let sealing = f.take(10);
    assert_eq!(sealing.len(), 3);
    assert_eq!(pending(), 4);
    // Committed: the account nonce takes over.
    f.set_account_nonce(key.address(), 3);
    f.pool.on_committed(sealing);
    assert_eq!(pending(), 4);
    f.set_account_nonce(key.address(), 4);
    f.pool.on_committed(f.take(10));
    assert!(f.pool.is_empty());
    assert_eq!(pending(), 4);
    assert_eq!(f.pool.pending_nonce(&Address::repeat_byte(1)).unwrap(), 0);
}

#[test]
fn ethereum_nonces_too_far_ahead_are_refused() {
    let f = Fixture::new(SuiteKind::Secp256k1Keccak);
    let key = eth_key();
    let gap = aurum_txpool::MAX_NONCE_GAP;
    f.pool.submit(eth_legacy(&key, Some(ETH_CHAIN_ID), gap - 1)).unwrap();
    refused(f.pool.submit(eth_legacy(&key, Some(ETH_CHAIN_ID), gap)), "NonceTooHigh");
}

#[test]
fn native_txs_count_towards_the_pending_ethereum_nonce() {
    // Native txs bump the sender's account nonce when they run, so an Ethereum client of
    // the same key must be told to skip past them, and selection must expect that.
    let f = Fixture::new(SuiteKind::Secp256k1Keccak);
    let address = f.user.address();
    assert_eq!(f.pool.pending_nonce(&address).unwrap(), 0);
    let native = f.submit(&f.native(1));
    assert_eq!(f.pool.pending_nonce(&address).unwrap(), 1);
    let eth = f.submit(&eth_legacy(&f.user, Some(ETH_CHAIN_ID), 1));
    assert_eq!(f.pool.pending_nonce(&address).unwrap(), 2);
    assert_eq!(f.take(10), vec![native, eth]);
}

#[test]
fn only_proposable_txs_count_as_work() {
    let f = Fixture::new(SuiteKind::Secp256k1Keccak);
    let key = KeyPair::generate(SuiteKind::Secp256k1Keccak);
    let committed = |_: &Address| 0u64;
    assert!(!f.pool.has_ready(committed), "an empty pool has no work");
    // Nonce 1 waits behind a gap (the account is at 0): nothing a leader could propose.
    f.submit(&eth_legacy(&key, Some(ETH_CHAIN_ID), 1));
    assert_eq!(f.pool.waiting(), 1);
    assert!(!f.pool.has_ready(committed));
    // Nonce 0 fills the gap.
    f.submit(&eth_legacy(&key, Some(ETH_CHAIN_ID), 0));
    assert!(f.pool.has_ready(committed));
    // Native txs are always proposable.
    let g = Fixture::new(SuiteKind::Secp256k1Keccak);
    g.submit(&g.native(1));
    assert!(g.pool.has_ready(committed));
}

#[test]
fn a_sender_over_its_quota_is_refused_while_another_sender_is_admitted() {
    for kind in SuiteKind::ALL {
        let f = Fixture::with_config(kind, |c| c.sender_quota = 3);
        for nonce in 1..=3 {
            f.submit(&f.native(nonce));
        }
        let err = refused(f.pool.submit(f.native(4)), "SenderQuota");
        assert!(err.to_string().contains("already holds 3 transactions"), "{err}");
        // Gossip from a peer counts against the same sender's quota.
        assert_eq!(f.pool.submit_gossip(Arc::from(&[7u8][..]), vec![f.native(5)]), 0);
        // Another sender is admitted meanwhile.
        let other = f.suite.generate();
        let mut tx = match f.native(6) {
            Transaction::Native(t) => t.data,
            Transaction::Ethereum(_) => unreachable!(),
        };
        tx.nonce = U256::from(600);
        f.submit(&Transaction::Native(tx.sign(&*f.suite, &other)));
        // Room again once one of the first sender's txs commits.
        let first = f.native(1);
        f.pool.on_committed([f.hash(&first)]);
        f.submit(&f.native(4));
    }
}

#[test]
fn a_sender_over_its_byte_quota_is_refused() {
    let kind = SuiteKind::Secp256k1Keccak;
    let size = Fixture::new(kind).native(1).encode().len();
    let f = Fixture::with_config(kind, |c| c.sender_quota_bytes = 2 * size + size / 2);
    f.submit(&f.native(1));
    f.submit(&f.native(2));
    let err = refused(f.pool.submit(f.native(3)), "SenderQuota");
    assert!(matches!(err, AdmitError::SenderQuotaBytes { .. }), "{err}");
}

#[test]
fn a_flooding_peer_fills_only_its_share_and_local_clients_keep_room() {
    let kind = SuiteKind::Secp256k1Keccak;
    let f = Fixture::with_config(kind, |c| c.capacity = 10);
    let peer: Arc<[u8]> = Arc::from(&[1u8; 64][..]);
    // Txs from many senders, all gossiped by one peer: it may hold half the pool.
    let flood: Vec<Transaction> = (0..10u64)
        .map(|i| {
            let key = f.suite.generate();
            let mut tx = match f.native(100 + i) {
                Transaction::Native(t) => t.data,
                Transaction::Ethereum(_) => unreachable!(),
            };
            tx.nonce = U256::from(100 + i);
            Transaction::Native(tx.sign(&*f.suite, &key))
        })
        .collect();
    assert_eq!(f.pool.submit_gossip(Arc::clone(&peer), flood.clone()), 5);
    assert_eq!(f.pool.len(), 5);
    // Local clients still get in, up to the pool's capacity.
    for nonce in 1..=5 {
        f.submit(&f.native(nonce));
    }
    refused(f.pool.submit(f.native(6)), "PoolFull");
    // Another peer is not blocked by the first one's share (only by the capacity).
    f.pool.on_committed([f.hash(&f.native(1))]);
    assert_eq!(f.pool.submit_gossip(Arc::from(&[2u8; 64][..]), flood[5..6].to_vec()), 1);
}

#[test]
fn take_batch_within_keeps_declared_gas_under_the_block_gas_limit() {
    let f = Fixture::new(SuiteKind::Secp256k1Keccak);
    let heavy: Vec<Transaction> =
        (1..=3).map(|n| f.native_with(n, |t| t.gas_limit = 400_000)).collect();
    for t in &heavy {
        f.submit(t);
    }
    // Declares nothing: counts 0, only the tx count bounds it.
    let light = f.native(4);
    f.submit(&light);
    let taken: Vec<B256> = f
        .pool
        .take_batch_within(10, usize::MAX, 1_000_000, 1, |_| 0)
        .iter()
        .map(|t| t.hash)
        .collect();
    assert_eq!(taken, vec![f.hash(&heavy[0]), f.hash(&heavy[1]), f.hash(&light)]);
    // The third heavy tx waits for the next block; alone it goes even over the budget (a
    // block is never left empty for it: execution's own cut-off bounds it).
    let next: Vec<B256> = f
        .pool
        .take_batch_within(10, usize::MAX, 100_000, 1, |_| 0)
        .iter()
        .map(|t| t.hash)
        .collect();
    assert_eq!(next, vec![f.hash(&heavy[2])]);
}
