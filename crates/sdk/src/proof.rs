//! Checking what a node serves against the chain's hashes: a block's header against its hash,
//! and Merkle proofs of transactions and receipts against the header roots.
//!
//! The chain of trust is leaf → Merkle path → root → header field → header hash. The header
//! hash itself is what sealers sign; trusting it (or checking the commit certificate against
//! the sealer keys) is up to the caller.

pub use crate::error::ProofError;
use crate::error::{Result, SdkError};
use crate::types::{
    Block, MerkleProof, ReceiptWithProof, RpcBlock, RpcReceipt, RpcTx, TxWithProof,
};
use crate::{BlockDetail, Client};
use alloy_primitives::B256;
use aurum_crypto::CryptoSuite;
use aurum_primitives::merkle::verify_proof;
use aurum_primitives::{Header, Receipt, SealerSignature, Transaction};
use aurum_rpc_api as api;

impl RpcBlock {
    /// Decodes `headerRaw`, checks that it hashes to `hash` and that the served number,
    /// parent hash and roots are the header's.
    pub fn verify(&self, suite: &dyn CryptoSuite) -> Result<Block, ProofError> {
        let header = Header::decode(&self.header_raw)
            .map_err(|error| ProofError::HeaderDecode { hash: self.hash, error })?;
        let computed = header.hash(suite);
        if computed != self.hash {
            return Err(ProofError::HeaderHash { served: self.hash, computed });
        }
        let field = |field: &'static str, in_header: &dyn ToString, served: &dyn ToString| {
            ProofError::HeaderField {
                field,
                in_header: in_header.to_string(),
                served: served.to_string(),
            }
        };
        if header.number != self.number {
            return Err(field("number", &header.number, &self.number));
        }
        for (name, in_header, served) in [
            ("parentHash", header.parent_hash, self.parent_hash),
            ("transactionsRoot", header.tx_root, self.transactions_root),
            ("receiptsRoot", header.receipt_root, self.receipts_root),
            ("stateRoot", header.state_root, self.state_root),
        ] {
            if in_header != served {
                return Err(field(name, &in_header, &served));
            }
        }
        let signatures = self
            .signatures
            .iter()
            .map(|s| SealerSignature {
                sealer_index: s.sealer_index,
                signature: s.signature.clone(),
            })
            .collect();
        Ok(Block { hash: self.hash, header, signatures, transactions: self.transactions.clone() })
    }
}

/// A transaction proven included in a block whose header hashes to `block.hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenTx {
    pub tx: RpcTx,
    /// `tx.raw`, decoded.
    pub transaction: Transaction,
    pub proof: MerkleProof,
    pub block: Block,
}

/// A receipt proven included in a block whose header hashes to `block.hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenReceipt {
    pub receipt: RpcReceipt,
    /// `receipt.raw`, decoded.
    pub decoded: Receipt,
    pub proof: MerkleProof,
    pub block: Block,
}

/// Shared tail of both proofs: path to root, root to header, header to hash.
fn verify_path(
    suite: &dyn CryptoSuite,
    proof: &MerkleProof,
    block: &RpcBlock,
    root_field: &'static str,
    header_root: fn(&Header) -> B256,
) -> Result<Block, ProofError> {
    if !verify_proof(suite, &proof.root, &proof.leaf, &proof.path) {
        return Err(ProofError::MerklePath { leaf: proof.leaf, root: proof.root });
    }
    let verified = block.verify(suite)?;
    if verified.header.number != proof.block_number {
        return Err(ProofError::BlockNumber {
            what: "header",
            proof: proof.block_number,
            other: verified.header.number,
        });
    }
    let header_root = header_root(&verified.header);
    if header_root != proof.root {
        return Err(ProofError::Root { field: root_field, proof_root: proof.root, header_root });
    }
    Ok(verified)
}

/// Checks where the node says an item sits against the proof and the proven header.
fn check_location(
    what: &'static str,
    proof: &MerkleProof,
    block: &Block,
    served_number: Option<u64>,
    served_hash: Option<B256>,
    served_index: Option<u64>,
) -> Result<(), ProofError> {
    if let Some(n) = served_number.filter(|n| *n != proof.block_number) {
        return Err(ProofError::BlockNumber { what, proof: proof.block_number, other: n });
    }
    if let Some(h) = served_hash.filter(|h| *h != block.hash) {
        return Err(ProofError::BlockHash { what, served: h, header: block.hash });
    }
    if let Some(i) = served_index.filter(|i| *i != proof.index) {
        return Err(ProofError::Index { what, served: i, proof: proof.index });
    }
    Ok(())
}

/// Verifies a transaction proof against `block` (the block the proof names, any detail):
/// the raw tx hashes to the served hash, which is the proof's leaf; the path leads to the
/// root; the root is the header's tx root; the header hashes to the block hash.
pub fn verify_tx_inclusion(
    suite: &dyn CryptoSuite,
    served: &TxWithProof,
    block: &RpcBlock,
) -> Result<ProvenTx, ProofError> {
    let (tx, proof) = (&served.transaction, &served.proof);
    let transaction = Transaction::decode(&tx.raw).map_err(ProofError::TxDecode)?;
    let computed = transaction.hash(suite);
    if computed != tx.hash {
        return Err(ProofError::TxHash { served: tx.hash, computed });
    }
    if proof.leaf != tx.hash {
        return Err(ProofError::Leaf {
            what: "transaction hash",
            leaf: proof.leaf,
            expected: tx.hash,
        });
    }
    let verified = verify_path(suite, proof, block, "transactionsRoot", |h| h.tx_root)?;
    check_location(
        "transaction",
        proof,
        &verified,
        tx.block_number,
        tx.block_hash,
        tx.transaction_index,
    )?;
    Ok(ProvenTx { tx: tx.clone(), transaction, proof: proof.clone(), block: verified })
}

/// Verifies a receipt proof against `block`: the raw receipt decodes to the served fields
/// and its suite hash is the proof's leaf; the path leads to the root; the root is the
/// header's receipt root; the header hashes to the block hash.
pub fn verify_receipt_inclusion(
    suite: &dyn CryptoSuite,
    served: &ReceiptWithProof,
    block: &RpcBlock,
) -> Result<ProvenReceipt, ProofError> {
    let (receipt, proof) = (&served.receipt, &served.proof);
    let decoded = Receipt::decode(&receipt.raw).map_err(ProofError::ReceiptDecode)?;
    let leaf = suite.hash(&receipt.raw);
    if proof.leaf != leaf {
        return Err(ProofError::Leaf { what: "receipt hash", leaf: proof.leaf, expected: leaf });
    }
    check_receipt_fields(&decoded, receipt)?;
    let verified = verify_path(suite, proof, block, "receiptsRoot", |h| h.receipt_root)?;
    check_location(
        "receipt",
        proof,
        &verified,
        Some(receipt.block_number),
        Some(receipt.block_hash),
        Some(receipt.transaction_index),
    )?;
    Ok(ProvenReceipt { receipt: receipt.clone(), decoded, proof: proof.clone(), block: verified })
}

/// The served receipt fields must be the ones inside the proven raw encoding.
fn check_receipt_fields(raw: &Receipt, served: &RpcReceipt) -> Result<(), ProofError> {
    let differs = |field: &'static str, in_raw: String, served: String| {
        Err(ProofError::ReceiptField { field, in_raw, served })
    };
    if raw.status.code() != served.status {
        return differs("status", raw.status.code().to_string(), served.status.to_string());
    }
    if raw.gas_used != served.gas_used {
        return differs("gasUsed", raw.gas_used.to_string(), served.gas_used.to_string());
    }
    if raw.contract_address != served.contract_address {
        let show =
            |a: Option<alloy_primitives::Address>| a.map_or("none".into(), |a| a.to_string());
        return differs(
            "contractAddress",
            show(raw.contract_address),
            show(served.contract_address),
        );
    }
    if raw.output != served.output {
        return differs("output", raw.output.to_string(), served.output.to_string());
    }
    if raw.logs.len() != served.logs.len() {
        return differs(
            "logs",
            format!("{} logs", raw.logs.len()),
            format!("{} logs", served.logs.len()),
        );
    }
    for (i, (r, s)) in raw.logs.iter().zip(&served.logs).enumerate() {
        if *r != s.to_log() {
            return differs("logs", format!("log {i}: {r:?}"), format!("log {i}: {s:?}"));
        }
    }
    Ok(())
}

/// Checks that a receipt proof and a tx proof name the same slot of the same block, which
/// binds the receipt (whose encoding does not name its tx) to the tx hash. Both trees have
/// one leaf per tx, and in trees of equal size the left/right shape of a real path (one that
/// reaches a proven root) is distinct for every position, so equal shapes mean equal slots.
pub fn check_same_position(tx: &MerkleProof, receipt: &MerkleProof) -> Result<(), ProofError> {
    let shape = |p: &MerkleProof| p.path.iter().map(|s| s.sibling_is_left).collect::<Vec<_>>();
    if tx.block_number != receipt.block_number {
        return Err(ProofError::BlockNumber {
            what: "transaction proof",
            proof: receipt.block_number,
            other: tx.block_number,
        });
    }
    if tx.index != receipt.index || shape(tx) != shape(receipt) {
        return Err(ProofError::Position { block: tx.block_number });
    }
    Ok(())
}

impl Client {
    async fn proof_block(&self, number: u64) -> Result<RpcBlock> {
        self.raw_block_by_number(number, BlockDetail::Header)
            .await?
            .ok_or_else(|| SdkError::NotFound { what: "block", id: number.to_string() })
    }

    /// Fetches a transaction with its proof and the header it names, and checks the chain
    /// from the tx bytes to the block hash. Fails with [`SdkError::Proof`] naming the check.
    pub async fn verify_transaction_proof(&self, hash: B256) -> Result<ProvenTx> {
        let served = self
            .transaction_with_proof(hash)
            .await?
            .ok_or_else(|| SdkError::NotFound { what: "transaction", id: hash.to_string() })?;
        if served.transaction.hash != hash {
            return Err(SdkError::bad_response(
                api::GET_TRANSACTION_BY_HASH_WITH_PROOF,
                format!("asked for {hash}, got transaction {}", served.transaction.hash),
            ));
        }
        let block = self.proof_block(served.proof.block_number).await?;
        Ok(verify_tx_inclusion(self.suite(), &served, &block)?)
    }

    /// Fetches a receipt with its proof, checks it like
    /// [`verify_transaction_proof`](Self::verify_transaction_proof), and checks that it sits
    /// at the position of the transaction `hash` (proven the same way).
    pub async fn verify_receipt_proof(&self, hash: B256) -> Result<ProvenReceipt> {
        let served = self
            .receipt_with_proof(hash)
            .await?
            .ok_or_else(|| SdkError::NotFound { what: "receipt", id: hash.to_string() })?;
        if served.receipt.transaction_hash != hash {
            return Err(SdkError::bad_response(
                api::GET_TRANSACTION_RECEIPT_BY_HASH_WITH_PROOF,
                format!("asked for {hash}, got the receipt of {}", served.receipt.transaction_hash),
            ));
        }
        let block = self.proof_block(served.proof.block_number).await?;
        let proven = verify_receipt_inclusion(self.suite(), &served, &block)?;
        let tx = self.verify_transaction_proof(hash).await?;
        check_same_position(&tx.proof, &proven.proof)?;
        Ok(proven)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{Chain, Reply, chain, mock_node, ok};
    use alloy_primitives::Bytes;
    use aurum_crypto::SuiteKind;
    use aurum_primitives::merkle::{merkle_proof, merkle_root};
    use serde_json::json;

    #[test]
    fn every_slot_proves_in_both_suites() {
        for kind in SuiteKind::ALL {
            for n in [1, 2, 3, 5, 8] {
                let c = chain(kind, n);
                let block = c.rpc_block();
                for i in 0..n {
                    let tx = verify_tx_inclusion(&*c.suite, &c.tx_with_proof(i), &block).unwrap();
                    assert_eq!(tx.block.hash, c.hash);
                    assert_eq!(tx.block.header, c.header);
                    assert_eq!(tx.transaction, c.txs[i].tx);
                    let r = verify_receipt_inclusion(&*c.suite, &c.receipt_with_proof(i), &block)
                        .unwrap();
                    assert_eq!(r.decoded, c.receipts[i]);
                    check_same_position(&tx.proof, &r.proof).unwrap();
                    for j in (0..n).filter(|j| *j != i) {
                        let mut other = c.receipt_with_proof(j).proof;
                        // Even with the index relabelled, the path shape gives it away.
                        other.index = i as u64;
                        assert_eq!(
                            check_same_position(&tx.proof, &other),
                            Err(ProofError::Position { block: 7 }),
                            "n={n} i={i} j={j}"
                        );
                    }
                }
            }
        }
    }

    fn fixture() -> (Chain, RpcBlock) {
        let c = chain(SuiteKind::Secp256k1Keccak, 5);
        let block = c.rpc_block();
        (c, block)
    }

    #[test]
    fn tampered_path_fails_the_merkle_check() {
        let (c, block) = fixture();
        let mut served = c.tx_with_proof(2);
        served.proof.path[0].sibling = B256::repeat_byte(0xff);
        assert!(matches!(
            verify_tx_inclusion(&*c.suite, &served, &block),
            Err(ProofError::MerklePath { .. })
        ));
        let mut served = c.receipt_with_proof(2);
        served.proof.path[1].sibling_is_left ^= true;
        assert!(matches!(
            verify_receipt_inclusion(&*c.suite, &served, &block),
            Err(ProofError::MerklePath { .. })
        ));
    }

    #[test]
    fn proof_under_another_root_fails_the_header_check() {
        let (c, block) = fixture();
        // A well-formed path, but in a tree with one more item than the block has.
        let mut items: Vec<B256> = c.txs.iter().map(|t| t.hash).collect();
        items.push(B256::repeat_byte(0xab));
        let mut served = c.tx_with_proof(1);
        served.proof.root = merkle_root(&*c.suite, &items);
        served.proof.path = merkle_proof(&*c.suite, &items, 1).unwrap();
        assert_eq!(
            verify_tx_inclusion(&*c.suite, &served, &block),
            Err(ProofError::Root {
                field: "transactionsRoot",
                proof_root: served.proof.root,
                header_root: c.header.tx_root
            })
        );
        // The tx proof's root is not the receipt root.
        let mut served = c.receipt_with_proof(0);
        let tx_proof = c.tx_with_proof(0).proof;
        served.proof.root = tx_proof.root;
        served.proof.path = merkle_proof(&*c.suite, &[served.proof.leaf], 0).unwrap();
        served.proof.root = merkle_root(&*c.suite, &[served.proof.leaf]);
        assert!(matches!(
            verify_receipt_inclusion(&*c.suite, &served, &block),
            Err(ProofError::Root { field: "receiptsRoot", .. })
        ));
    }

    #[test]
    fn forged_header_fails_the_hash_check() {
        let (c, mut block) = fixture();
        let mut forged = c.header.clone();
        forged.timestamp_ms += 1;
        block.header_raw = forged.encode().into();
        let served = c.tx_with_proof(0);
        assert_eq!(
            verify_tx_inclusion(&*c.suite, &served, &block),
            Err(ProofError::HeaderHash { served: c.hash, computed: forged.hash(&*c.suite) })
        );
        block.header_raw = vec![0x01, 0xc0].into();
        assert!(matches!(
            verify_tx_inclusion(&*c.suite, &served, &block),
            Err(ProofError::HeaderDecode { .. })
        ));
        let mut block = c.rpc_block();
        block.receipts_root = B256::ZERO;
        assert!(matches!(
            block.verify(&*c.suite),
            Err(ProofError::HeaderField { field: "receiptsRoot", .. })
        ));
        let mut block = c.rpc_block();
        block.number = 8;
        assert!(matches!(
            block.verify(&*c.suite),
            Err(ProofError::HeaderField { field: "number", .. })
        ));
        // The header of the wrong suite hashes differently.
        let sm = aurum_crypto::suite(SuiteKind::Sm2Sm3);
        assert!(matches!(c.rpc_block().verify(&*sm), Err(ProofError::HeaderHash { .. })));
    }

    #[test]
    fn served_tx_must_match_its_bytes_and_leaf() {
        let (c, block) = fixture();
        let mut served = c.tx_with_proof(0);
        served.transaction.raw = c.txs[1].raw.clone();
        assert!(matches!(
            verify_tx_inclusion(&*c.suite, &served, &block),
            Err(ProofError::TxHash { .. })
        ));
        served.transaction.raw = vec![0x09, 0x00].into();
        assert!(matches!(
            verify_tx_inclusion(&*c.suite, &served, &block),
            Err(ProofError::TxDecode(_))
        ));
        let mut served = c.tx_with_proof(0);
        served.proof.leaf = c.txs[1].hash;
        assert!(matches!(
            verify_tx_inclusion(&*c.suite, &served, &block),
            Err(ProofError::Leaf { what: "transaction hash", .. })
        ));
    }

    #[test]
    fn served_location_must_match_the_proof() {
        let (c, block) = fixture();
        let mut served = c.tx_with_proof(3);
        served.transaction.block_hash = Some(B256::repeat_byte(3));
        assert!(matches!(
            verify_tx_inclusion(&*c.suite, &served, &block),
            Err(ProofError::BlockHash { what: "transaction", .. })
        ));
        let mut served = c.tx_with_proof(3);
        served.transaction.transaction_index = Some(4);
        assert_eq!(
            verify_tx_inclusion(&*c.suite, &served, &block),
            Err(ProofError::Index { what: "transaction", served: 4, proof: 3 })
        );
        let mut served = c.receipt_with_proof(3);
        served.proof.block_number = 6;
        assert_eq!(
            verify_receipt_inclusion(&*c.suite, &served, &block),
            Err(ProofError::BlockNumber { what: "header", proof: 6, other: 7 })
        );
        let mut served = c.receipt_with_proof(3);
        served.receipt.block_number = 9;
        assert_eq!(
            verify_receipt_inclusion(&*c.suite, &served, &block),
            Err(ProofError::BlockNumber { what: "receipt", proof: 7, other: 9 })
        );
        let tx = c.tx_with_proof(3).proof;
        let mut receipt = c.receipt_with_proof(3).proof;
        receipt.block_number = 8;
        assert!(matches!(check_same_position(&tx, &receipt), Err(ProofError::BlockNumber { .. })));
    }

    #[test]
    fn served_receipt_fields_must_be_the_raw_ones() {
        let (c, block) = fixture();
        let field_of =
            |served: &ReceiptWithProof| match verify_receipt_inclusion(&*c.suite, served, &block) {
                Err(ProofError::ReceiptField { field, .. }) => field,
                other => panic!("expected a field mismatch, got {other:?}"),
            };
        let mut s = c.receipt_with_proof(1);
        s.receipt.status = 1;
        assert_eq!(field_of(&s), "status");
        let mut s = c.receipt_with_proof(1);
        s.receipt.gas_used += 1;
        assert_eq!(field_of(&s), "gasUsed");
        let mut s = c.receipt_with_proof(1);
        s.receipt.contract_address = None;
        assert_eq!(field_of(&s), "contractAddress");
        let mut s = c.receipt_with_proof(2);
        s.receipt.output = Bytes::new();
        assert_eq!(field_of(&s), "output");
        let mut s = c.receipt_with_proof(1);
        s.receipt.logs[0].data = vec![9].into();
        assert_eq!(field_of(&s), "logs");
        let mut s = c.receipt_with_proof(1);
        s.receipt.logs.clear();
        assert_eq!(field_of(&s), "logs");

        // Another receipt's bytes are not this proof's leaf.
        let mut s = c.receipt_with_proof(1);
        s.receipt.raw = c.rpc_receipt(0).raw;
        assert!(matches!(
            verify_receipt_inclusion(&*c.suite, &s, &block),
            Err(ProofError::Leaf { what: "receipt hash", .. })
        ));
        s.receipt.raw = vec![0x01, 0x01].into();
        assert!(matches!(
            verify_receipt_inclusion(&*c.suite, &s, &block),
            Err(ProofError::ReceiptDecode(_))
        ));
    }

    /// Serves the fixture block; `swap` serves the receipt of slot 1 for the tx of slot 0.
    async fn node_for(c: &Chain, swap: bool) -> Client {
        let info = c.group_info();
        let (block, txs, receipts) = (
            c.rpc_block(),
            (0..c.txs.len()).map(|i| c.tx_with_proof(i)).collect::<Vec<_>>(),
            (0..c.txs.len()).map(|i| c.receipt_with_proof(i)).collect::<Vec<_>>(),
        );
        let url = mock_node(move |method, params| {
            let hash = params.get(1).and_then(|h| serde_json::from_value::<B256>(h.clone()).ok());
            let slot = hash.and_then(|h| txs.iter().position(|t| t.transaction.hash == h));
            match method {
                "getGroupInfo" => Reply::Result(info.clone()),
                "getBlockByNumber" if params[1] == json!(7) => ok(&block),
                "getBlockByNumber" => Reply::Result(json!(null)),
                "getTransactionByHashWithProof" => ok(slot.map(|i| &txs[i])),
                "getTransactionReceiptByHashWithProof" => {
                    let served = slot.map(|i| {
                        let mut r = receipts[if swap { 1 } else { i }].clone();
                        r.receipt.transaction_hash = txs[i].transaction.hash;
                        r.receipt.transaction_index = i as u64;
                        r.proof.index = i as u64;
                        r
                    });
                    ok(served)
                }
                _ => Reply::Error(json!({"code": -32601, "message": "unknown method"})),
            }
        })
        .await;
        Client::connect(url, "group0").await.unwrap()
    }

    #[tokio::test]
    async fn client_verifies_proofs_end_to_end() {
        for kind in SuiteKind::ALL {
            let c = chain(kind, 3);
            let client = node_for(&c, false).await;
            for i in 0..3 {
                let tx = client.verify_transaction_proof(c.txs[i].hash).await.unwrap();
                assert_eq!(tx.block.hash, c.hash);
                let r = client.verify_receipt_proof(c.txs[i].hash).await.unwrap();
                assert_eq!(r.decoded, c.receipts[i]);
            }
            assert!(matches!(
                client.verify_receipt_proof(B256::ZERO).await,
                Err(SdkError::NotFound { what: "receipt", .. })
            ));
        }
    }

    #[tokio::test]
    async fn client_rejects_a_receipt_from_another_slot() {
        let c = chain(SuiteKind::Secp256k1Keccak, 3);
        let client = node_for(&c, true).await;
        assert!(client.verify_receipt_proof(c.txs[1].hash).await.is_ok());
        assert!(matches!(
            client.verify_receipt_proof(c.txs[0].hash).await,
            Err(SdkError::Proof(ProofError::Position { block: 7 }))
        ));
    }
}
