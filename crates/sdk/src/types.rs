//! The JSON objects of the native RPC methods (docs/rpc.md), as typed Rust values.
//!
//! Field names follow the wire (camelCase). Hashes, addresses and byte strings are `0x` hex;
//! numbers are JSON numbers (hex or decimal strings are accepted too).

use crate::de;
use alloy_primitives::{Address, B256, Bytes, Log, U256};
use aurum_crypto::{CryptoError, PublicKey, SuiteKind};
use aurum_primitives::merkle::ProofStep;
use aurum_primitives::{Header, SealerSignature, TxStatus};
use serde::{Deserialize, Serialize};

/// `getGroupInfo`: what a client needs to build transactions for a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupInfo {
    pub group_id: String,
    /// The native chain id every native tx of this chain carries.
    #[serde(deserialize_with = "de::string")]
    pub chain_id: String,
    /// `"secp256k1"` or `"sm"`; see [`GroupInfo::suite_kind`].
    pub crypto: String,
    /// The Ethereum chain id (EIP-155) of this group.
    #[serde(deserialize_with = "de::u64")]
    pub web3_chain_id: u64,
    pub genesis_hash: B256,
    #[serde(deserialize_with = "de::u64")]
    pub block_number: u64,
    #[serde(default)]
    pub sealers: Vec<Sealer>,
    #[serde(default)]
    pub observers: Vec<String>,
}

impl GroupInfo {
    /// The crypto suite named by `crypto`, or None for a name this SDK does not know.
    pub fn suite_kind(&self) -> Option<SuiteKind> {
        suite_kind_from_name(&self.crypto)
    }
}

/// Maps the RPC's crypto names (`"secp256k1"`, `"sm"`) to a suite.
pub fn suite_kind_from_name(name: &str) -> Option<SuiteKind> {
    match name.to_ascii_lowercase().as_str() {
        "secp256k1" => Some(SuiteKind::Secp256k1Keccak),
        "sm" | "sm2" => Some(SuiteKind::Sm2Sm3),
        _ => None,
    }
}

/// A sealer with its voting weight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sealer {
    /// Hex of the node's public key (x || y).
    pub node_id: String,
    #[serde(deserialize_with = "de::u64")]
    pub weight: u64,
}

impl Sealer {
    pub fn public_key(&self) -> Result<PublicKey, CryptoError> {
        PublicKey::from_hex(&self.node_id)
    }
}

/// The transaction object of `getTransaction` (and of blocks fetched with full txs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcTx {
    pub hash: B256,
    /// `"native"` or `"ethereum"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `Transaction::encode()`: decode it to check the served fields yourself.
    pub raw: Bytes,
    pub from: Address,
    /// None for a contract creation.
    #[serde(default, deserialize_with = "de::opt_address")]
    pub to: Option<Address>,
    #[serde(deserialize_with = "de::u256")]
    pub value: U256,
    pub input: Bytes,
    #[serde(deserialize_with = "de::u64")]
    pub gas_limit: u64,
    /// The random native nonce, or the account nonce of an Ethereum tx.
    #[serde(deserialize_with = "de::u256")]
    pub nonce: U256,
    /// Native txs only.
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub block_limit: Option<u64>,
    /// Native txs only.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub chain_id: Option<String>,
    /// Native txs only.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub group_id: Option<String>,
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub block_number: Option<u64>,
    #[serde(default)]
    pub block_hash: Option<B256>,
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub transaction_index: Option<u64>,
}

/// One log of a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcLog {
    pub address: Address,
    pub topics: Vec<B256>,
    pub data: Bytes,
    #[serde(default, deserialize_with = "de::opt_u64")]
    pub log_index: Option<u64>,
}

impl RpcLog {
    /// The primitive log (what the receipt encoding holds).
    pub fn to_log(&self) -> Log {
        Log::new_unchecked(self.address, self.topics.clone(), self.data.clone())
    }
}

/// The receipt object of `getTransactionReceipt`. Only final blocks are ever served, so a
/// receipt is never undone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcReceipt {
    pub transaction_hash: B256,
    #[serde(deserialize_with = "de::u64")]
    pub transaction_index: u64,
    #[serde(deserialize_with = "de::u64")]
    pub block_number: u64,
    pub block_hash: B256,
    pub from: Address,
    #[serde(default, deserialize_with = "de::opt_address")]
    pub to: Option<Address>,
    /// The receipt status code ([`TxStatus`]); 0 is success.
    #[serde(deserialize_with = "de::u8")]
    pub status: u8,
    #[serde(default)]
    pub status_name: String,
    #[serde(deserialize_with = "de::u64")]
    pub gas_used: u64,
    #[serde(default, deserialize_with = "de::opt_address")]
    pub contract_address: Option<Address>,
    /// Return data on success, revert data on revert.
    pub output: Bytes,
    #[serde(default)]
    pub logs: Vec<RpcLog>,
    /// `Receipt::encode()`; its suite hash is the leaf under the header's receipt root.
    pub raw: Bytes,
}

impl RpcReceipt {
    pub fn tx_status(&self) -> Option<TxStatus> {
        TxStatus::from_code(self.status)
    }
    pub fn is_success(&self) -> bool {
        self.status == TxStatus::Success.code()
    }
}

/// How much of a block to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BlockDetail {
    /// Header and signatures only (`onlyHeader`).
    Header,
    /// Plus the transaction hashes.
    #[default]
    TxHashes,
    /// Plus the full transaction objects.
    FullTxs,
}

impl BlockDetail {
    /// `(onlyHeader, onlyTxHash)` as the RPC takes them.
    pub(crate) fn flags(self) -> (bool, bool) {
        match self {
            BlockDetail::Header => (true, true),
            BlockDetail::TxHashes => (false, true),
            BlockDetail::FullTxs => (false, false),
        }
    }
}

/// The `transactions` of a block object: hashes or full objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BlockTxs {
    Hashes(Vec<B256>),
    Full(Vec<RpcTx>),
}

impl BlockTxs {
    pub fn hashes(&self) -> Vec<B256> {
        match self {
            BlockTxs::Hashes(h) => h.clone(),
            BlockTxs::Full(txs) => txs.iter().map(|t| t.hash).collect(),
        }
    }
    pub fn len(&self) -> usize {
        match self {
            BlockTxs::Hashes(h) => h.len(),
            BlockTxs::Full(txs) => txs.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One sealer signature of a block's commit certificate, as served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcSealerSignature {
    #[serde(deserialize_with = "de::u32")]
    pub sealer_index: u32,
    pub signature: Bytes,
}

/// The block object as served. Only the fields this SDK checks are kept: every other header
/// field is read from the verified `headerRaw` (see [`RpcBlock::verify`] and [`Block`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcBlock {
    #[serde(deserialize_with = "de::u64")]
    pub number: u64,
    pub hash: B256,
    pub parent_hash: B256,
    pub transactions_root: B256,
    pub receipts_root: B256,
    pub state_root: B256,
    /// `Header::encode()`; its suite hash must be `hash`.
    pub header_raw: Bytes,
    #[serde(default)]
    pub signatures: Vec<RpcSealerSignature>,
    /// Absent when fetched with `onlyHeader`.
    #[serde(default)]
    pub transactions: Option<BlockTxs>,
}

/// A block whose header was decoded from `headerRaw` and checked to hash to `hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub hash: B256,
    pub header: Header,
    /// The commit certificate's signatures (over [`Block::certificate_digest`]).
    pub signatures: Vec<SealerSignature>,
    pub transactions: Option<BlockTxs>,
}

impl Block {
    /// What each sealer signed to certify this block: binds its proposal hash and its hash
    /// (see `aurum_primitives::block::certificate_digest`).
    pub fn certificate_digest(&self, suite: &dyn aurum_crypto::CryptoSuite) -> B256 {
        aurum_primitives::block::certificate_digest(suite, &self.header)
    }
}

/// A Merkle inclusion proof as served (`leaf` is a tx hash or a receipt's suite hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MerkleProof {
    #[serde(deserialize_with = "de::u64")]
    pub block_number: u64,
    #[serde(deserialize_with = "de::u64")]
    pub index: u64,
    pub leaf: B256,
    pub root: B256,
    pub path: Vec<ProofStep>,
}

/// `getTransactionByHashWithProof`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxWithProof {
    pub transaction: RpcTx,
    pub proof: MerkleProof,
}

/// `getTransactionReceiptByHashWithProof`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptWithProof {
    pub receipt: RpcReceipt,
    pub proof: MerkleProof,
}

/// Parameters of the native `call` (a read-only execution against a block's state).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Address>,
    pub to: Address,
    pub data: Bytes,
    /// None: the latest block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_number: Option<u64>,
}

/// The answer of the native `call`: it never fails on a revert, it reports the status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallResult {
    #[serde(deserialize_with = "de::u64")]
    pub block_number: u64,
    /// A receipt status code ([`TxStatus`]); 1 = reverted, `output` = revert data.
    #[serde(deserialize_with = "de::u8")]
    pub status: u8,
    pub output: Bytes,
    #[serde(deserialize_with = "de::u64")]
    pub gas_used: u64,
}

/// `getSystemConfigByKey`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemConfig {
    pub key: String,
    #[serde(deserialize_with = "de::string")]
    pub value: String,
    /// The block from which this value is in force.
    #[serde(deserialize_with = "de::u64")]
    pub enable_number: u64,
}

/// `getTotalTransactionCount`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TotalTxCount {
    #[serde(deserialize_with = "de::u64")]
    pub block_number: u64,
    #[serde(deserialize_with = "de::u64")]
    pub transaction_count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn group_info_parses_and_names_its_suite() {
        let info: GroupInfo = serde_json::from_value(json!({
            "groupId": "group0", "chainId": "chain0", "crypto": "sm", "web3ChainId": 20200,
            "genesisHash": format!("0x{}", "11".repeat(32)), "blockNumber": 12,
            "sealers": [{"nodeId": "ab".repeat(64), "weight": 2}], "observers": ["cd".repeat(64)]
        }))
        .unwrap();
        assert_eq!(info.suite_kind(), Some(SuiteKind::Sm2Sm3));
        assert_eq!((info.web3_chain_id, info.block_number), (20200, 12));
        assert_eq!(info.sealers[0].weight, 2);
        assert_eq!(info.sealers[0].public_key().unwrap().0, [0xab; 64]);
        assert_eq!(suite_kind_from_name("secp256k1"), Some(SuiteKind::Secp256k1Keccak));
        assert_eq!(suite_kind_from_name("ed25519"), None);
        // A numeric chain id is read as its decimal string.
        let mut v = serde_json::to_value(&info).unwrap();
        v["chainId"] = json!(5);
        assert_eq!(serde_json::from_value::<GroupInfo>(v).unwrap().chain_id, "5");
    }

    #[test]
    fn native_and_ethereum_tx_objects_parse() {
        let native: RpcTx = serde_json::from_value(json!({
            "hash": B256::repeat_byte(1), "type": "native", "raw": "0x01c0",
            "from": Address::repeat_byte(2), "to": null, "value": "0x0", "input": "0x6080",
            "gasLimit": 0, "nonce": "0xdeadbeef", "blockLimit": 500, "chainId": "chain0",
            "groupId": "group0", "blockNumber": 3, "blockHash": B256::repeat_byte(4),
            "transactionIndex": 0
        }))
        .unwrap();
        assert_eq!(native.to, None);
        assert_eq!(native.nonce, U256::from(0xdeadbeefu64));
        assert_eq!(native.block_limit, Some(500));
        assert_eq!(native.input, Bytes::from(vec![0x60, 0x80]));

        // Ethereum tx: native-only fields null; pending: no block fields at all.
        let eth: RpcTx = serde_json::from_value(json!({
            "hash": B256::repeat_byte(1), "type": "ethereum", "raw": "0x02f8",
            "from": Address::repeat_byte(2), "to": Address::repeat_byte(3), "value": "1000",
            "input": "0x", "gasLimit": "0x5208", "nonce": "0x7", "blockLimit": null,
            "chainId": null, "groupId": null
        }))
        .unwrap();
        assert_eq!((eth.gas_limit, eth.nonce, eth.value), (21000, U256::from(7), U256::from(1000)));
        assert_eq!((eth.block_limit, eth.chain_id, eth.block_number), (None, None, None));
    }

    #[test]
    fn receipt_parses_with_logs() {
        let r: RpcReceipt = serde_json::from_value(json!({
            "transactionHash": B256::repeat_byte(1), "transactionIndex": 1, "blockNumber": 9,
            "blockHash": B256::repeat_byte(2), "from": Address::repeat_byte(3), "to": null,
            "status": 1, "statusName": "Reverted", "gasUsed": 30000,
            "contractAddress": null, "output": "0x08c379a0",
            "logs": [{"address": Address::repeat_byte(5), "topics": [B256::repeat_byte(6)],
                      "data": "0x01", "logIndex": 0}],
            "raw": "0x01"
        }))
        .unwrap();
        assert_eq!(r.tx_status(), Some(TxStatus::Reverted));
        assert!(!r.is_success());
        assert_eq!(r.logs[0].to_log().topics(), &[B256::repeat_byte(6)]);
        assert_eq!(r.logs[0].log_index, Some(0));
    }

    #[test]
    fn block_objects_parse_at_every_detail() {
        let base = json!({
            "number": 4, "hash": B256::repeat_byte(1), "parentHash": B256::repeat_byte(2),
            "timestamp": 1_700_000_000_000u64, "proposer": 0, "version": 1,
            "transactionsRoot": B256::repeat_byte(3), "receiptsRoot": B256::repeat_byte(4),
            "stateRoot": B256::repeat_byte(5), "sealerListHash": B256::repeat_byte(6),
            "gasUsed": 0, "logsBloom": format!("0x{}", "00".repeat(256)), "extraData": "0x",
            "headerRaw": "0x01c0", "signatures": [{"sealerIndex": 0, "signature": "0x0102"}]
        });
        let header_only: RpcBlock = serde_json::from_value(base.clone()).unwrap();
        assert_eq!(header_only.transactions, None);
        assert_eq!(header_only.signatures[0].signature, Bytes::from(vec![1, 2]));

        let mut with_hashes = base.clone();
        with_hashes["transactions"] = json!([B256::repeat_byte(7)]);
        let b: RpcBlock = serde_json::from_value(with_hashes).unwrap();
        assert_eq!(b.transactions.unwrap().hashes(), vec![B256::repeat_byte(7)]);

        let mut full = base;
        full["transactions"] = json!([{
            "hash": B256::repeat_byte(8), "type": "native", "raw": "0x01", "from": Address::ZERO,
            "to": Address::ZERO, "value": "0x0", "input": "0x", "gasLimit": 0, "nonce": "0x1",
            "blockLimit": 10, "chainId": "c", "groupId": "g", "blockNumber": 4,
            "blockHash": B256::repeat_byte(1), "transactionIndex": 0
        }]);
        let b: RpcBlock = serde_json::from_value(full).unwrap();
        let txs = b.transactions.unwrap();
        assert!(matches!(&txs, BlockTxs::Full(t) if t.len() == 1));
        assert_eq!(txs.hashes(), vec![B256::repeat_byte(8)]);
    }

    #[test]
    fn proof_and_small_objects_parse() {
        let p: TxWithProof = serde_json::from_value(json!({
            "transaction": {
                "hash": B256::repeat_byte(8), "type": "native", "raw": "0x01",
                "from": Address::ZERO, "to": "0x", "value": 0, "input": "0x", "gasLimit": 0,
                "nonce": "0x1"
            },
            "proof": {"blockNumber": 4, "index": 2, "leaf": B256::repeat_byte(8),
                      "root": B256::repeat_byte(9),
                      "path": [{"sibling": B256::repeat_byte(1), "sibling_is_left": true}]}
        }))
        .unwrap();
        assert_eq!(p.transaction.to, None);
        assert!(p.proof.path[0].sibling_is_left);

        let call: CallResult = serde_json::from_value(
            json!({"blockNumber": 3, "status": 0, "output": "0x2a", "gasUsed": 100}),
        )
        .unwrap();
        assert_eq!(call.output, Bytes::from(vec![42]));
        let cfg: SystemConfig = serde_json::from_value(
            json!({"key": "tx_count_limit", "value": 1000, "enableNumber": 0}),
        )
        .unwrap();
        assert_eq!(cfg.value, "1000");
        let count: TotalTxCount =
            serde_json::from_value(json!({"blockNumber": "0x10", "transactionCount": 17})).unwrap();
        assert_eq!((count.block_number, count.transaction_count), (16, 17));

        let req =
            CallRequest { from: None, to: Address::ZERO, data: vec![1].into(), block_number: None };
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            json!({"to": Address::ZERO, "data": "0x01"})
        );
        assert!(
            serde_json::from_value::<TotalTxCount>(
                json!({"blockNumber": -1, "transactionCount": 0})
            )
            .is_err()
        );
        assert!(
            serde_json::from_value::<CallResult>(
                json!({"blockNumber": 1, "status": 300, "output": "0x", "gasUsed": 0})
            )
            .is_err()
        );
    }
}
