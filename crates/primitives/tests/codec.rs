//! Round trips of every canonical encoding, Ethereum envelope vectors, and arbitrary bytes
//! thrown at every decoder (they must answer with an error, never panic).

use aurum_crypto::{SuiteKind, suite};
use aurum_primitives::state::{AccountInfo, ConsensusNode, ConsensusNodeList, StateDiff};
use aurum_primitives::*;
use proptest::prelude::*;

/// EIP-155's worked example (nonce 9, 20 gwei, 21000 gas, to 0x3535…35, 1 ether, chain 1).
const EIP155_RAW: &str = "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83";
const EIP155_SENDER: &str = "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F";

fn eth_tx_bytes(raw_hex: &str) -> Vec<u8> {
    let mut bytes = vec![transaction::ETH_TX_TAG];
    bytes.extend(hex::decode(raw_hex).unwrap());
    bytes
}

#[test]
fn eip155_example_decodes_and_recovers_sender() {
    let s = suite(SuiteKind::Secp256k1Keccak);
    let tx = Transaction::decode(&eth_tx_bytes(EIP155_RAW)).unwrap();
    let raw = hex::decode(EIP155_RAW).unwrap();
    assert_eq!(tx.hash(&*s), keccak256(&raw));
    assert_eq!(tx.eth_nonce(), Some(9));
    assert_eq!(tx.gas_limit(), 21000);
    assert_eq!(tx.value(), U256::from(10u128.pow(18)));
    let verified = tx.clone().verify(&*s).unwrap();
    assert_eq!(verified.sender, EIP155_SENDER.parse::<Address>().unwrap());
    verified.check_destination("chain0", "group0", 1).unwrap();
    assert_eq!(
        verified.check_destination("chain0", "group0", 20200),
        Err(TxError::WrongEthChainId { expected: 20200, got: 1 })
    );
    assert_eq!(Transaction::decode(&tx.encode()).unwrap(), tx);
    // An SM chain refuses Ethereum envelopes with a reason.
    assert_eq!(tx.verify(&*suite(SuiteKind::Sm2Sm3)), Err(TxError::EthOnSmChain));
}

#[test]
fn tampered_eth_tx_recovers_another_sender_or_fails() {
    let s = suite(SuiteKind::Secp256k1Keccak);
    let mut raw = hex::decode(EIP155_RAW).unwrap();
    raw[20] ^= 1; // inside the `to` address
    let mut bytes = vec![transaction::ETH_TX_TAG];
    bytes.extend(raw);
    let tx = Transaction::decode(&bytes).unwrap();
    match tx.verify(&*s) {
        Ok(v) => assert_ne!(v.sender, EIP155_SENDER.parse::<Address>().unwrap()),
        Err(e) => assert!(matches!(e, TxError::Signature(_))),
    }
}

fn native(kind: SuiteKind, nonce: u64) -> (SignedNativeTx, Address) {
    let s = suite(kind);
    let key = s.generate();
    let sender = s.address(&key.public());
    let tx = NativeTx {
        chain_id: "chain0".into(),
        group_id: "group0".into(),
        block_limit: 500,
        nonce: U256::from(nonce),
        to: TxKind::Call(Address::repeat_byte(7)),
        value: U256::ZERO,
        input: Bytes::from_static(b"\xa9\x05\x9c\xbb"),
        gas_limit: 100_000,
        conflict_keys: vec![Bytes::from_static(b"alice")],
    };
    (tx.sign(&*s, &key), sender)
}

#[test]
fn native_tx_signs_and_verifies_with_both_suites() {
    for kind in [SuiteKind::Secp256k1Keccak, SuiteKind::Sm2Sm3] {
        let s = suite(kind);
        let (tx, sender) = native(kind, 42);
        let bytes = Transaction::Native(tx.clone()).encode();
        let decoded = Transaction::decode(&bytes).unwrap();
        let verified = decoded.verify(&*s).unwrap();
        assert_eq!(verified.sender, sender);
        assert_eq!(verified.hash, tx.data.hash(&*s));
        verified.check_destination("chain0", "group0", 1).unwrap();
        assert!(matches!(
            verified.check_destination("chain0", "group1", 1),
            Err(TxError::WrongGroup { .. })
        ));
        assert!(matches!(
            verified.check_destination("chain9", "group0", 1),
            Err(TxError::WrongChain { .. })
        ));

        // Changing a signed field changes the hash, so the signature names someone else
        // (secp256k1) or fails (SM2, which carries the key).
        let mut forged = tx.clone();
        forged.data.gas_limit += 1;
        match Transaction::Native(forged).verify(&*s) {
            Ok(v) => assert_ne!(v.sender, sender),
            Err(e) => assert!(matches!(e, TxError::Signature(_))),
        }
    }
}

#[test]
fn oversized_and_unknown_inputs_are_refused() {
    let big = vec![transaction::NATIVE_TX_TAG; transaction::MAX_TX_BYTES + 1];
    assert!(matches!(Transaction::decode(&big), Err(DecodeError::TooLarge { .. })));
    assert_eq!(Transaction::decode(&[]), Err(DecodeError::Empty));
    assert!(matches!(Transaction::decode(&[0x7f, 1, 2]), Err(DecodeError::UnknownTag { .. })));
    // A valid encoding with a trailing byte is refused: one value, one encoding.
    let (tx, _) = native(SuiteKind::Secp256k1Keccak, 1);
    let mut bytes = Transaction::Native(tx).encode();
    bytes.push(0);
    assert_eq!(Transaction::decode(&bytes), Err(DecodeError::TrailingBytes(1)));
}

#[test]
fn header_hash_covers_execution_results_and_proposal_hash_does_not() {
    let s = suite(SuiteKind::Secp256k1Keccak);
    let mut header = Header { number: 5, timestamp_ms: 1_700_000_000_000, ..Default::default() };
    let proposal = header.proposal_hash(&*s);
    let block_hash = header.hash(&*s);
    header.state_root = B256::repeat_byte(1);
    assert_eq!(header.proposal_hash(&*s), proposal);
    assert_ne!(header.hash(&*s), block_hash);
    header.tx_root = B256::repeat_byte(2);
    assert_ne!(header.proposal_hash(&*s), proposal);
    assert_eq!(Header::decode(&header.encode()).unwrap(), header);
}

#[test]
fn state_root_is_order_independent_input_but_content_sensitive() {
    let s = suite(SuiteKind::Sm2Sm3);
    let mut a = StateDiff::new();
    a.put(vec![1], vec![1]);
    a.put(vec![2], vec![2]);
    let mut b = StateDiff::new();
    b.put(vec![2], vec![2]);
    b.put(vec![1], vec![1]);
    assert_eq!(a.state_root(&B256::ZERO, &*s), b.state_root(&B256::ZERO, &*s));
    b.delete(vec![1]);
    assert_ne!(a.state_root(&B256::ZERO, &*s), b.state_root(&B256::ZERO, &*s));
    assert_ne!(a.state_root(&B256::ZERO, &*s), a.state_root(&B256::repeat_byte(1), &*s));
}

fn arb_log() -> impl Strategy<Value = Log> {
    (
        any::<[u8; 20]>(),
        prop::collection::vec(any::<[u8; 32]>(), 0..4),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(a, topics, data)| {
            Log::new_unchecked(
                Address::from(a),
                topics.into_iter().map(B256::from).collect(),
                Bytes::from(data),
            )
        })
}

proptest! {
    #[test]
    fn native_tx_round_trips(
        chain in "[a-z0-9]{0,12}", group in "[a-z0-9]{0,12}", block_limit in any::<u64>(),
        nonce in any::<[u8; 32]>(), to in prop::option::of(any::<[u8; 20]>()), value in any::<[u8; 32]>(),
        input in prop::collection::vec(any::<u8>(), 0..300), gas in any::<u64>(),
        keys in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..4),
        sig in prop::collection::vec(any::<u8>(), 0..130),
    ) {
        let tx = Transaction::Native(SignedNativeTx {
            data: NativeTx {
                chain_id: chain, group_id: group, block_limit,
                nonce: U256::from_be_bytes(nonce),
                to: to.map_or(TxKind::Create, |a| TxKind::Call(Address::from(a))),
                value: U256::from_be_bytes(value), input: Bytes::from(input), gas_limit: gas,
                conflict_keys: keys.into_iter().map(Bytes::from).collect(),
            },
            signature: Bytes::from(sig),
        });
        prop_assert_eq!(Transaction::decode(&tx.encode()).unwrap(), tx);
    }

    #[test]
    fn receipt_round_trips(status in 0u8..10, gas in any::<u64>(), ca in prop::option::of(any::<[u8; 20]>()),
                           logs in prop::collection::vec(arb_log(), 0..4), output in prop::collection::vec(any::<u8>(), 0..100)) {
        let r = Receipt {
            status: TxStatus::from_code(status).unwrap(), gas_used: gas,
            contract_address: ca.map(Address::from), logs, output: Bytes::from(output),
        };
        prop_assert_eq!(Receipt::decode(&r.encode()).unwrap(), r);
    }

    #[test]
    fn header_and_certificate_round_trip(number in any::<u64>(), ts in any::<u64>(), proposer in any::<u32>(),
                                         roots in any::<[[u8; 32]; 4]>(), gas in any::<u64>(),
                                         extra in prop::collection::vec(any::<u8>(), 0..64),
                                         sigs in prop::collection::vec((any::<u32>(), prop::collection::vec(any::<u8>(), 0..128)), 0..5)) {
        let h = Header {
            version: 1, parent_hash: B256::from(roots[0]), number, timestamp_ms: ts, proposer,
            tx_root: B256::from(roots[1]), receipt_root: B256::from(roots[2]), state_root: B256::from(roots[3]),
            sealer_list_hash: B256::from(roots[0]), gas_used: gas, logs_bloom: Bloom::default(), extra_data: Bytes::from(extra),
        };
        prop_assert_eq!(Header::decode(&h.encode()).unwrap(), h.clone());
        let block = Block { header: h, txs: vec![] };
        prop_assert_eq!(Block::decode(&block.encode()).unwrap(), block);
        let cert = CommitCertificate {
            block_hash: B256::from(roots[1]),
            signatures: sigs.into_iter().map(|(i, s)| SealerSignature { sealer_index: i, signature: Bytes::from(s) }).collect(),
        };
        prop_assert_eq!(CommitCertificate::decode(&cert.encode()).unwrap(), cert);
    }

    #[test]
    fn state_values_round_trip(nonce in any::<u64>(), bal in any::<[u8; 32]>(), code in any::<[u8; 32]>(),
                               ids in prop::collection::vec(any::<[u8; 32]>(), 0..4)) {
        let a = AccountInfo { nonce, balance: U256::from_be_bytes(bal), code_hash: B256::from(code) };
        prop_assert_eq!(AccountInfo::decode(&a.encode()).unwrap(), a);
        let list = ConsensusNodeList { nodes: ids.iter().map(|id| {
            let mut full = [0u8; 64];
            full[..32].copy_from_slice(id);
            ConsensusNode { node_id: full.into(), role: id[0] % 2, weight: id[1] as u64, enable_number: id[2] as u64 }
        }).collect() };
        prop_assert_eq!(ConsensusNodeList::decode(&list.encode()).unwrap(), list);
    }

    /// Arbitrary bytes into every decoder: errors are fine, panics are not.
    #[test]
    fn decoders_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600), tag in 0u8..4) {
        let mut tagged = vec![tag];
        tagged.extend_from_slice(&bytes);
        let _ = Transaction::decode(&tagged);
        let _ = Transaction::decode(&bytes);
        let _ = Receipt::decode(&tagged);
        let _ = Header::decode(&tagged);
        let _ = Block::decode(&tagged);
        let _ = CommitCertificate::decode(&tagged);
        let _ = AccountInfo::decode(&bytes);
        let _ = ConsensusNodeList::decode(&bytes);
        if let Ok(tx) = Transaction::decode(&tagged) {
            let _ = tx.verify(&*suite(SuiteKind::Secp256k1Keccak));
        }
    }
}

/// Mutation fuzzing: valid encodings with bytes flipped, cut or inserted. Run with
/// `PROPTEST_CASES=200000 cargo test --release -p aurum-primitives mutated` for a long run.
fn mutate(mut bytes: Vec<u8>, edits: &[(u8, usize, u8)]) -> Vec<u8> {
    for &(kind, pos, byte) in edits {
        if bytes.is_empty() {
            bytes.push(byte);
            continue;
        }
        let pos = pos % bytes.len();
        match kind % 3 {
            0 => bytes[pos] ^= byte.max(1),
            1 => {
                bytes.remove(pos);
            }
            _ => bytes.insert(pos, byte),
        }
    }
    bytes
}

proptest! {
    #[test]
    fn mutated_valid_encodings_never_panic(edits in prop::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..6), which in 0u8..4) {
        let s = suite(if which % 2 == 0 { SuiteKind::Secp256k1Keccak } else { SuiteKind::Sm2Sm3 });
        let valid = match which {
            0 | 1 => Transaction::Native(native(s.kind(), 5).0).encode(),
            2 => eth_tx_bytes(EIP155_RAW),
            _ => Header { number: 3, ..Default::default() }.encode(),
        };
        let bytes = mutate(valid, &edits);
        if let Ok(tx) = Transaction::decode(&bytes) {
            let _ = tx.encode();
            let _ = tx.verify(&*s);
        }
        let _ = Header::decode(&bytes);
        let _ = Receipt::decode(&bytes);
    }
}
