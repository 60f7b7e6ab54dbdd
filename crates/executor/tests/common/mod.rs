//! Test harness: a chain in memory (MemState + Executor), transaction builders, and the
//! compiled contracts from `contracts/artifacts/`.
#![allow(dead_code)]

use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256, address, keccak256};
use aurum_crypto::SuiteKind;
use aurum_executor::{BlockContext, CallOutcome, ExecutedBlock, Executor};
use aurum_primitives::eth::EthTx;
use aurum_primitives::state::{AccountInfo, MemState, account_key};
use aurum_primitives::transaction::{NativeTx, SignedNativeTx};
use aurum_primitives::{Receipt, Transaction, TxStatus, VerifiedTx};

pub const ADMIN: Address = address!("00000000000000000000000000000000000a0001");
pub const ALICE: Address = address!("00000000000000000000000000000000000a1ce0");
pub const BOB: Address = address!("00000000000000000000000000000000000b0b00");
pub const CAROL: Address = address!("00000000000000000000000000000000000ca201");
pub const CHAIN_ID: u64 = 20200;
pub const TX_GAS_LIMIT: u64 = 300_000_000;

/// Bytecode of a compiled contract.
pub fn artifact(name: &str) -> (Bytes, serde_json::Value) {
    let path = format!("{}/../../contracts/artifacts/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let json: serde_json::Value = serde_json::from_str(&text).expect("artifact JSON");
    let hex = json["bytecode"].as_str().expect("bytecode").trim_start_matches("0x");
    (Bytes::from(hex::decode(hex).expect("hex bytecode")), json)
}

/// Deployment input: bytecode followed by ABI-encoded constructor arguments.
pub fn deploy_input(name: &str, ctor_args: &[u8]) -> Bytes {
    let (code, _) = artifact(name);
    [code.as_ref(), ctor_args].concat().into()
}

pub fn create_address(sender: Address, nonce: u64) -> Address {
    sender.create(nonce)
}

pub struct Chain {
    pub state: MemState,
    pub executor: Executor,
    pub ctx: BlockContext,
    pub native_nonce: u64,
}

impl Default for Chain {
    fn default() -> Self {
        Self::new()
    }
}

impl Chain {
    pub fn new() -> Self {
        Self {
            state: MemState::default(),
            executor: Executor::new(aurum_crypto::suite(SuiteKind::Secp256k1Keccak)),
            ctx: BlockContext {
                number: 1,
                timestamp_ms: 1_700_000_000_123,
                chain_id: CHAIN_ID,
                tx_gas_limit: TX_GAS_LIMIT,
                block_gas_limit: u64::MAX,
                balances_enabled: false,
                admins: vec![ADMIN],
                block_hashes: Default::default(),
            },
            native_nonce: 0,
        }
    }

    /// A native tx (random-nonce kind): runs with the account's current nonce.
    pub fn native(&mut self, from: Address, to: Option<Address>, input: Bytes) -> VerifiedTx {
        self.native_full(from, to, input, U256::ZERO, 0)
    }

    pub fn native_full(
        &mut self,
        from: Address,
        to: Option<Address>,
        input: Bytes,
        value: U256,
        gas_limit: u64,
    ) -> VerifiedTx {
        self.native_nonce += 1;
        let data = NativeTx {
            chain_id: "chain0".into(),
            group_id: "group0".into(),
            block_limit: self.ctx.number + 500,
            nonce: U256::from(self.native_nonce),
            to: to.map_or(TxKind::Create, TxKind::Call),
            value,
            input,
            gas_limit,
            conflict_keys: vec![],
        };
        let hash = keccak256(data.signing_payload());
        VerifiedTx {
            tx: Transaction::Native(SignedNativeTx { data, signature: Bytes::new() }),
            hash,
            sender: from,
        }
    }

    /// An Ethereum legacy tx carrying `nonce` (signature is a placeholder: the executor
    /// trusts `VerifiedTx::sender`).
    pub fn eth(
        &self,
        from: Address,
        nonce: u64,
        to: Option<Address>,
        input: Bytes,
        value: U256,
    ) -> VerifiedTx {
        let tx = TxLegacy {
            chain_id: Some(CHAIN_ID),
            nonce,
            gas_price: 0,
            gas_limit: 5_000_000,
            to: to.map_or(TxKind::Create, TxKind::Call),
            value,
            input,
        };
        let signed = tx.into_signed(Signature::new(U256::from(1), U256::from(1), false));
        let raw = TxEnvelope::Legacy(signed).encoded_2718();
        let eth = EthTx::decode(&raw).expect("legacy envelope decodes");
        let hash = eth.hash();
        VerifiedTx { tx: Transaction::Ethereum(eth), hash, sender: from }
    }

    /// Executes a block at the current height, applies its diff, moves to the next height.
    pub fn block(&mut self, txs: &[VerifiedTx]) -> ExecutedBlock {
        let out = self.executor.execute_block(&self.state, &self.ctx, txs).expect("block executes");
        self.state.apply(&out.diff);
        self.ctx.number += 1;
        self.ctx.timestamp_ms += 1_000;
        out
    }

    /// Executes one tx in its own block and returns its receipt.
    pub fn run(&mut self, tx: VerifiedTx) -> Receipt {
        self.block(&[tx]).receipts.remove(0)
    }

    /// Sends a native call and requires success.
    pub fn send(&mut self, from: Address, to: Address, input: Vec<u8>) -> Receipt {
        let tx = self.native(from, Some(to), input.into());
        let r = self.run(tx);
        assert_eq!(
            r.status,
            TxStatus::Success,
            "tx failed: {:?} output {}",
            r.status,
            show(&r.output)
        );
        r
    }

    /// Deploys a contract from `from`; returns its address.
    pub fn deploy(&mut self, from: Address, name: &str, ctor_args: &[u8]) -> Address {
        let tx = self.native(from, None, deploy_input(name, ctor_args));
        let r = self.run(tx);
        assert_eq!(
            r.status,
            TxStatus::Success,
            "deploy {name} failed: {:?} {}",
            r.status,
            show(&r.output)
        );
        r.contract_address.expect("contract address")
    }

    pub fn call(&self, from: Address, to: Address, input: Vec<u8>) -> CallOutcome {
        self.executor
            .call(&self.state, &self.ctx, from, Some(to), input.into(), None)
            .expect("call executes")
    }

    pub fn account(&self, a: Address) -> Option<AccountInfo> {
        self.state.entries.get(&account_key(&a)).map(|b| AccountInfo::decode(b).expect("account"))
    }

    pub fn nonce(&self, a: Address) -> u64 {
        self.account(a).map_or(0, |i| i.nonce)
    }

    pub fn fund(&mut self, a: Address, balance: U256) {
        let mut info = self.account(a).unwrap_or_default();
        info.balance = balance;
        self.state.entries.insert(account_key(&a), info.encode());
    }
}

/// Revert data or a message, for assertion output.
pub fn show(b: &Bytes) -> String {
    match std::str::from_utf8(b) {
        Ok(s) if !s.is_empty() => s.to_string(),
        _ => format!("0x{}", hex::encode(b)),
    }
}

/// Decodes `Error(string)` revert data.
pub fn revert_reason(output: &[u8]) -> String {
    use alloy_sol_types::SolError;
    alloy_sol_types::Revert::abi_decode(output)
        .map(|r| r.reason)
        .unwrap_or_else(|_| show(&output.to_vec().into()))
}

pub fn b256(n: u64) -> B256 {
    B256::from(U256::from(n))
}
