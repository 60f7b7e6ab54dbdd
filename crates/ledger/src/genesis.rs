//! Genesis: the configuration a group starts from, and block 0 built from it.

use aurum_crypto::SuiteKind;
use aurum_primitives::state::{
    self, AccountInfo, ConsensusNode, ConsensusNodeList, SystemConfigEntry,
};
use aurum_primitives::{Address, B256, Bytes, Header, StateDiff, U256};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// System config keys with their defaults (names as in FISCO BCOS).
pub const DEFAULT_SYSTEM_CONFIG: &[(&str, &str)] = &[
    ("tx_count_limit", "1000"),
    ("tx_gas_limit", "3000000000"),
    ("consensus_leader_period", "1"),
    ("compatibility_version", "1"),
    ("web3_chain_id", "20200"),
    ("feature_balance", "0"),
    ("auth_check_status", "0"),
];

/// A genesis node entry: node id is the hex of the 64-byte public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisNode {
    pub node_id: String,
    #[serde(default = "one")]
    pub weight: u64,
}

fn one() -> u64 {
    1
}

/// Everything that defines a group at block 0. Two groups with any difference here have
/// different genesis hashes, so a node never mistakes one ledger for another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    pub chain_id: String,
    pub group_id: String,
    /// "secp256k1" or "sm" (chain-wide).
    pub crypto: String,
    pub timestamp_ms: u64,
    pub sealers: Vec<GenesisNode>,
    #[serde(default)]
    pub observers: Vec<GenesisNode>,
    /// Overrides of [`DEFAULT_SYSTEM_CONFIG`].
    #[serde(default)]
    pub system_config: BTreeMap<String, String>,
    /// Accounts allowed to change system config and the node list until governance exists.
    #[serde(default)]
    pub admins: Vec<Address>,
    /// Initial balances (meaningful when `feature_balance` is on).
    #[serde(default)]
    pub alloc: BTreeMap<Address, U256>,
}

#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    #[error("unknown crypto suite {0:?} (expected \"secp256k1\" or \"sm\")")]
    UnknownSuite(String),
    #[error("node id {0:?} is not 128 hex characters (a 64-byte public key)")]
    BadNodeId(String),
    #[error("genesis has no sealers")]
    NoSealers,
    #[error("system config {key} = {value:?}: {reason}")]
    BadConfig { key: String, value: String, reason: &'static str },
    #[error("genesis cannot be serialised: {0}")]
    Serialise(String),
}

impl Genesis {
    pub fn suite_kind(&self) -> Result<SuiteKind, GenesisError> {
        match self.crypto.as_str() {
            "secp256k1" => Ok(SuiteKind::Secp256k1Keccak),
            "sm" | "sm2" => Ok(SuiteKind::Sm2Sm3),
            other => Err(GenesisError::UnknownSuite(other.into())),
        }
    }

    /// Effective system config: defaults overridden by this genesis.
    pub fn effective_config(&self) -> BTreeMap<String, String> {
        let mut config: BTreeMap<String, String> =
            DEFAULT_SYSTEM_CONFIG.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        config.extend(self.system_config.clone());
        config
    }

    fn node_list(&self) -> Result<ConsensusNodeList, GenesisError> {
        if self.sealers.is_empty() {
            return Err(GenesisError::NoSealers);
        }
        let parse = |n: &GenesisNode, role: u8| -> Result<ConsensusNode, GenesisError> {
            let bytes = hex::decode(n.node_id.trim_start_matches("0x"))
                .map_err(|_| GenesisError::BadNodeId(n.node_id.clone()))?;
            let node_id = state::B512Bytes::try_from(bytes.as_slice())
                .map_err(|_| GenesisError::BadNodeId(n.node_id.clone()))?;
            Ok(ConsensusNode { node_id, role, weight: n.weight, enable_number: 0 })
        };
        let mut nodes = Vec::new();
        for n in &self.sealers {
            nodes.push(parse(n, 0)?);
        }
        for n in &self.observers {
            nodes.push(parse(n, 1)?);
        }
        nodes.sort_by_key(|n| n.node_id);
        Ok(ConsensusNodeList { nodes })
    }

    /// The state written at block 0.
    pub fn state_diff(&self) -> Result<(StateDiff, ConsensusNodeList), GenesisError> {
        let mut diff = StateDiff::new();
        for (key, value) in self.effective_config() {
            if matches!(key.as_str(), "tx_count_limit" | "tx_gas_limit" | "web3_chain_id")
                && value.parse::<u64>().map_or(true, |v| v == 0)
            {
                return Err(GenesisError::BadConfig {
                    key,
                    value,
                    reason: "must be a positive integer",
                });
            }
            let entry = SystemConfigEntry { value, enable_number: 0 };
            diff.put(state::system_config_key(&key), entry.encode());
        }
        let nodes = self.node_list()?;
        diff.put(state::consensus_nodes_key(), nodes.encode());
        for (address, balance) in &self.alloc {
            let info = AccountInfo { nonce: 0, balance: *balance, code_hash: B256::ZERO };
            diff.put(state::account_key(address), info.encode());
        }
        Ok((diff, nodes))
    }

    /// Block 0's header (already final: genesis needs no certificate).
    pub fn header(
        &self,
        suite: &dyn aurum_crypto::CryptoSuite,
    ) -> Result<(Header, StateDiff), GenesisError> {
        let (diff, nodes) = self.state_diff()?;
        let identity =
            serde_json::to_vec(self).map_err(|e| GenesisError::Serialise(e.to_string()))?;
        let header = Header {
            version: aurum_primitives::block::HEADER_VERSION,
            parent_hash: B256::ZERO,
            number: 0,
            timestamp_ms: self.timestamp_ms,
            proposer: 0,
            tx_root: B256::ZERO,
            receipt_root: B256::ZERO,
            state_root: diff.state_root(&B256::ZERO, suite),
            sealer_list_hash: nodes.sealer_list_hash(0, suite),
            gas_used: 0,
            logs_bloom: Default::default(),
            // Commits to the whole genesis (admins, chain and group ids included).
            extra_data: Bytes::from(suite.hash(&identity).to_vec()),
        };
        Ok((header, diff))
    }
}
