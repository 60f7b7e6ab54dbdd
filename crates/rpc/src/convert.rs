//! Ledger objects as JSON: the native shapes (docs/rpc.md) and the Ethereum shapes clients
//! such as ethers and web3.py parse.

use crate::jsonrpc::{hex_bytes, quantity};
use alloy_consensus::Transaction as _;
use alloy_primitives::{Address, B256, U256};
use aurum_crypto::CryptoSuite;
use aurum_primitives::{Header, Receipt, Transaction, TxStatus, VerifiedTx};
use serde_json::{Value, json};

/// Where a tx sits, for the JSON of a committed tx or receipt.
#[derive(Debug, Clone, Copy)]
pub struct Placement {
    pub block_number: u64,
    pub block_hash: B256,
    pub index: u32,
}

pub fn status_name(status: TxStatus) -> &'static str {
    match status {
        TxStatus::Success => "Success",
        TxStatus::Reverted => "Reverted",
        TxStatus::OutOfGas => "OutOfGas",
        TxStatus::NonceMismatch => "NonceMismatch",
        TxStatus::ValueTransferRefused => "ValueTransferRefused",
        TxStatus::Halted => "Halted",
        TxStatus::PermissionDenied => "PermissionDenied",
        TxStatus::PrecompileError => "PrecompileError",
        TxStatus::InvalidTx => "InvalidTx",
        TxStatus::CreateFailed => "CreateFailed",
        TxStatus::BlockGasLimitReached => "BlockGasLimitReached",
    }
}

fn opt_addr(a: Option<Address>) -> Value {
    a.map_or(Value::Null, |a| Value::String(a.to_checksum(None)))
}

fn addr(a: Address) -> Value {
    Value::String(a.to_checksum(None))
}

// ---------- native shapes ----------

pub fn native_tx(tx: &Transaction, hash: B256, sender: Address, at: Option<Placement>) -> Value {
    let (kind, nonce, block_limit, chain_id, group_id) = match tx {
        Transaction::Native(t) => (
            "native",
            format!("{:#x}", t.data.nonce),
            json!(t.data.block_limit),
            json!(t.data.chain_id),
            json!(t.data.group_id),
        ),
        Transaction::Ethereum(t) => {
            ("ethereum", format!("{:#x}", t.nonce()), Value::Null, Value::Null, Value::Null)
        }
    };
    json!({
        "hash": hash,
        "type": kind,
        "raw": hex_bytes(&tx.encode()),
        "from": addr(sender),
        "to": opt_addr(tx.to()),
        "value": format!("{:#x}", tx.value()),
        "input": hex_bytes(tx.input()),
        "gasLimit": tx.gas_limit(),
        "nonce": nonce,
        "blockLimit": block_limit,
        "chainId": chain_id,
        "groupId": group_id,
        "blockNumber": at.map(|p| p.block_number),
        "blockHash": at.map(|p| p.block_hash),
        "transactionIndex": at.map(|p| p.index),
    })
}

pub fn native_receipt(
    receipt: &Receipt,
    tx_hash: B256,
    from: Address,
    to: Option<Address>,
    at: Placement,
) -> Value {
    let logs: Vec<Value> = receipt
        .logs
        .iter()
        .enumerate()
        .map(|(i, log)| {
            json!({
                "address": addr(log.address),
                "topics": log.topics(),
                "data": hex_bytes(&log.data.data),
                "logIndex": i,
            })
        })
        .collect();
    json!({
        "transactionHash": tx_hash,
        "transactionIndex": at.index,
        "blockNumber": at.block_number,
        "blockHash": at.block_hash,
        "from": addr(from),
        "to": opt_addr(to),
        "status": receipt.status.code(),
        "statusName": status_name(receipt.status),
        "gasUsed": receipt.gas_used,
        "contractAddress": opt_addr(receipt.contract_address),
        "output": hex_bytes(&receipt.output),
        "logs": logs,
        "raw": hex_bytes(&receipt.encode()),
    })
}

pub fn native_header(header: &Header, hash: B256, signatures: Value) -> Value {
    json!({
        "number": header.number,
        "hash": hash,
        "parentHash": header.parent_hash,
        "timestamp": header.timestamp_ms,
        "proposer": header.proposer,
        "version": header.version,
        "transactionsRoot": header.tx_root,
        "receiptsRoot": header.receipt_root,
        "stateRoot": header.state_root,
        "sealerListHash": header.sealer_list_hash,
        "gasUsed": header.gas_used,
        "logsBloom": header.logs_bloom,
        "extraData": header.extra_data,
        "headerRaw": hex_bytes(&header.encode()),
        "signatures": signatures,
    })
}

// ---------- Ethereum shapes ----------

/// Keccak of the empty RLP list: Ethereum's "no uncles" hash.
const EMPTY_UNCLES: B256 =
    alloy_primitives::b256!("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347");

/// The address of a proposer's node key, shown as `miner`.
pub fn node_address(suite: &dyn CryptoSuite, node_id: &[u8]) -> Address {
    match <[u8; 64]>::try_from(node_id) {
        Ok(bytes) => suite.address(&aurum_crypto::PublicKey(bytes)),
        Err(_) => Address::ZERO,
    }
}

pub fn eth_block(
    header: &Header,
    hash: B256,
    miner: Address,
    txs: Value,
    tx_count: usize,
    size: usize,
) -> Value {
    json!({
        "number": quantity(header.number),
        "hash": hash,
        "parentHash": header.parent_hash,
        "nonce": "0x0000000000000000",
        "mixHash": B256::ZERO,
        "sha3Uncles": EMPTY_UNCLES,
        "logsBloom": header.logs_bloom,
        "transactionsRoot": header.tx_root,
        "stateRoot": header.state_root,
        "receiptsRoot": header.receipt_root,
        "miner": addr(miner),
        "difficulty": "0x0",
        "totalDifficulty": "0x0",
        "extraData": header.extra_data,
        "size": quantity(size as u64),
        "gasLimit": quantity(u64::MAX / 2),
        "gasUsed": quantity(header.gas_used),
        "timestamp": quantity(header.timestamp_ms / 1000),
        "baseFeePerGas": "0x0",
        "transactions": txs,
        "transactionCount": tx_count,
        "uncles": [],
        "withdrawals": [],
        "withdrawalsRoot": B256::ZERO,
    })
}

/// An Ethereum-shaped tx. Native txs appear as legacy txs with nonce 0 (their random
/// 256-bit nonce is in `aurumNonce`: clients parse `nonce` as a small integer).
pub fn eth_tx(tx: &VerifiedTx, at: Option<Placement>, chain_id: u64) -> Value {
    let mut obj = json!({
        "hash": tx.hash,
        "from": addr(tx.sender),
        "to": opt_addr(tx.to()),
        "value": format!("{:#x}", tx.value()),
        "input": hex_bytes(tx.input()),
        "gas": quantity(tx.gas_limit()),
        "blockNumber": at.map(|p| quantity(p.block_number)),
        "blockHash": at.map(|p| p.block_hash),
        "transactionIndex": at.map(|p| quantity(p.index as u64)),
    });
    match &tx.tx {
        Transaction::Ethereum(eth) => {
            let env = eth.envelope();
            let sig = env.signature();
            let y = sig.v() as u64;
            let kind = eth.tx_type();
            obj["type"] = quantity(kind as u64);
            obj["nonce"] = quantity(eth.nonce());
            obj["r"] = json!(format!("{:#x}", sig.r()));
            obj["s"] = json!(format!("{:#x}", sig.s()));
            obj["chainId"] = env.chain_id().map_or(Value::Null, quantity);
            if kind == 0 {
                let v = env.chain_id().map_or(27 + y, |c| c * 2 + 35 + y);
                obj["v"] = quantity(v);
                obj["gasPrice"] = quantity(env.gas_price().unwrap_or(0));
            } else {
                obj["v"] = quantity(y);
                obj["yParity"] = quantity(y);
                obj["accessList"] = env
                    .access_list()
                    .map_or(json!([]), |l| serde_json::to_value(l).unwrap_or(json!([])));
                if kind == 2 {
                    let tip = env.max_priority_fee_per_gas().unwrap_or(0);
                    obj["maxFeePerGas"] = quantity(env.max_fee_per_gas());
                    obj["maxPriorityFeePerGas"] = quantity(tip);
                    // Base fee is 0, so the effective price is the tip (capped by the max fee).
                    obj["gasPrice"] = quantity(tip.min(env.max_fee_per_gas()));
                } else {
                    obj["gasPrice"] = quantity(env.gas_price().unwrap_or(0));
                }
            }
        }
        Transaction::Native(native) => {
            let sig = &native.signature;
            let (r, s, v) = if sig.len() >= 65 {
                (
                    U256::from_be_slice(&sig[..32]),
                    U256::from_be_slice(&sig[32..64]),
                    27 + (sig[64] & 1) as u64,
                )
            } else {
                (U256::ZERO, U256::ZERO, 27)
            };
            obj["type"] = json!("0x0");
            obj["nonce"] = json!("0x0");
            obj["aurumNonce"] = json!(format!("{:#x}", native.data.nonce));
            obj["gasPrice"] = json!("0x0");
            obj["chainId"] = quantity(chain_id);
            obj["r"] = json!(format!("{r:#x}"));
            obj["s"] = json!(format!("{s:#x}"));
            obj["v"] = quantity(v);
        }
    }
    obj
}

/// One log in Ethereum shape; `log_index` counts within the block.
pub fn eth_log(
    log: &alloy_primitives::Log,
    at: Placement,
    tx_hash: B256,
    log_index: usize,
) -> Value {
    json!({
        "address": addr(log.address),
        "topics": log.topics(),
        "data": hex_bytes(&log.data.data),
        "blockNumber": quantity(at.block_number),
        "blockHash": at.block_hash,
        "transactionHash": tx_hash,
        "transactionIndex": quantity(at.index as u64),
        "logIndex": quantity(log_index as u64),
        "removed": false,
    })
}

#[allow(clippy::too_many_arguments)]
pub fn eth_receipt(
    receipt: &Receipt,
    tx: &Transaction,
    tx_hash: B256,
    from: Address,
    at: Placement,
    cumulative_gas: u64,
    first_log_index: usize,
) -> Value {
    let logs: Vec<Value> = receipt
        .logs
        .iter()
        .enumerate()
        .map(|(i, log)| eth_log(log, at, tx_hash, first_log_index + i))
        .collect();
    let kind = match tx {
        Transaction::Ethereum(t) => t.tx_type() as u64,
        Transaction::Native(_) => 0,
    };
    json!({
        "transactionHash": tx_hash,
        "transactionIndex": quantity(at.index as u64),
        "blockHash": at.block_hash,
        "blockNumber": quantity(at.block_number),
        "from": addr(from),
        "to": opt_addr(tx.to()),
        "cumulativeGasUsed": quantity(cumulative_gas),
        "gasUsed": quantity(receipt.gas_used),
        "effectiveGasPrice": "0x0",
        "contractAddress": opt_addr(receipt.contract_address),
        "logs": logs,
        "logsBloom": receipt.bloom(),
        "status": if receipt.status.is_success() { "0x1" } else { "0x0" },
        "type": quantity(kind),
        // Not in Ethereum's shape: why a failed tx failed, and its output (revert data).
        "aurumStatus": status_name(receipt.status),
        "output": hex_bytes(&receipt.output),
    })
}
