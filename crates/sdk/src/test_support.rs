//! Test fixtures: a small signed block with receipts and proofs, and an in-process HTTP
//! JSON-RPC server answering from a closure, so client paths run without a node.

use crate::tx::{SignedTx, TxRequest, build_native_tx, sign_native_tx};
use crate::types::{
    MerkleProof, ReceiptWithProof, RpcBlock, RpcLog, RpcReceipt, RpcSealerSignature, RpcTx,
    TxWithProof,
};
use alloy_primitives::{Address, B256, Bytes, Log, U256};
use aurum_crypto::{CryptoSuite, KeyPair, SuiteKind, suite};
use aurum_primitives::merkle::{merkle_proof, merkle_root};
use aurum_primitives::{Header, Receipt, Transaction, TxStatus};
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub const CHAIN_ID: &str = "chain0";
pub const GROUP: &str = "group0";

/// One final block of `n` native txs with varied receipts.
pub struct Chain {
    pub suite: Arc<dyn CryptoSuite>,
    pub key: KeyPair,
    pub txs: Vec<SignedTx>,
    pub receipts: Vec<Receipt>,
    pub header: Header,
    pub hash: B256,
}

pub fn chain(kind: SuiteKind, n: usize) -> Chain {
    let suite = suite(kind);
    let key = KeyPair::generate(kind);
    let txs: Vec<SignedTx> = (0..n)
        .map(|i| {
            let req = TxRequest::call(Address::repeat_byte(i as u8 + 1), vec![i as u8]);
            sign_native_tx(&*suite, &key, build_native_tx(CHAIN_ID, GROUP, 6, req)).unwrap()
        })
        .collect();
    let receipts: Vec<Receipt> = (0..n)
        .map(|i| Receipt {
            status: if i % 3 == 2 { TxStatus::Reverted } else { TxStatus::Success },
            gas_used: 21_000 + i as u64,
            contract_address: (i % 3 == 1).then(|| Address::repeat_byte(0xc0 + i as u8)),
            logs: vec![Log::new_unchecked(
                Address::repeat_byte(0x10 + i as u8),
                vec![B256::repeat_byte(i as u8)],
                Bytes::from(vec![i as u8; 3]),
            )],
            output: Bytes::from(vec![0xee; i]),
        })
        .collect();
    let hashes: Vec<B256> = txs.iter().map(|t| t.hash).collect();
    let mut header = Header {
        version: 1,
        parent_hash: B256::repeat_byte(0x77),
        number: 7,
        timestamp_ms: 1_700_000_000_000,
        proposer: 1,
        tx_root: merkle_root(&*suite, &hashes),
        ..Header::default()
    };
    header.finalize(&*suite, &receipts, B256::repeat_byte(0x55), B256::repeat_byte(0x66));
    let hash = header.hash(&*suite);
    Chain { suite, key, txs, receipts, header, hash }
}

impl Chain {
    pub fn rpc_block(&self) -> RpcBlock {
        RpcBlock {
            number: self.header.number,
            hash: self.hash,
            parent_hash: self.header.parent_hash,
            transactions_root: self.header.tx_root,
            receipts_root: self.header.receipt_root,
            state_root: self.header.state_root,
            header_raw: self.header.encode().into(),
            signatures: vec![RpcSealerSignature { sealer_index: 0, signature: vec![1; 65].into() }],
            transactions: None,
        }
    }

    pub fn rpc_tx(&self, i: usize) -> RpcTx {
        let signed = &self.txs[i];
        let Transaction::Native(native) = &signed.tx else { unreachable!() };
        let data = &native.data;
        RpcTx {
            hash: signed.hash,
            kind: "native".into(),
            raw: signed.raw.clone(),
            from: self.key.address(),
            to: data.to.to().copied(),
            value: data.value,
            input: data.input.clone(),
            gas_limit: data.gas_limit,
            nonce: data.nonce,
            block_limit: Some(data.block_limit),
            chain_id: Some(data.chain_id.clone()),
            group_id: Some(data.group_id.clone()),
            block_number: Some(self.header.number),
            block_hash: Some(self.hash),
            transaction_index: Some(i as u64),
        }
    }

    pub fn rpc_receipt(&self, i: usize) -> RpcReceipt {
        let r = &self.receipts[i];
        RpcReceipt {
            transaction_hash: self.txs[i].hash,
            transaction_index: i as u64,
            block_number: self.header.number,
            block_hash: self.hash,
            from: self.key.address(),
            to: Some(Address::repeat_byte(i as u8 + 1)),
            status: r.status.code(),
            status_name: format!("{:?}", r.status),
            gas_used: r.gas_used,
            contract_address: r.contract_address,
            output: r.output.clone(),
            logs: r
                .logs
                .iter()
                .enumerate()
                .map(|(j, l)| RpcLog {
                    address: l.address,
                    topics: l.topics().to_vec(),
                    data: l.data.data.clone(),
                    log_index: Some(j as u64),
                })
                .collect(),
            raw: r.encode().into(),
        }
    }

    fn proof(&self, items: &[B256], i: usize, root: B256) -> MerkleProof {
        MerkleProof {
            block_number: self.header.number,
            index: i as u64,
            leaf: items[i],
            root,
            path: merkle_proof(&*self.suite, items, i).unwrap(),
        }
    }

    pub fn tx_with_proof(&self, i: usize) -> TxWithProof {
        let hashes: Vec<B256> = self.txs.iter().map(|t| t.hash).collect();
        TxWithProof {
            transaction: self.rpc_tx(i),
            proof: self.proof(&hashes, i, self.header.tx_root),
        }
    }

    pub fn receipt_with_proof(&self, i: usize) -> ReceiptWithProof {
        let leaves: Vec<B256> =
            self.receipts.iter().map(|r| self.suite.hash(&r.encode())).collect();
        ReceiptWithProof {
            receipt: self.rpc_receipt(i),
            proof: self.proof(&leaves, i, self.header.receipt_root),
        }
    }

    pub fn group_info(&self) -> Value {
        group_info(self.suite.kind())
    }
}

pub fn group_info(kind: SuiteKind) -> Value {
    json!({
        "groupId": GROUP,
        "chainId": CHAIN_ID,
        "crypto": if kind == SuiteKind::Sm2Sm3 { "sm" } else { "secp256k1" },
        "web3ChainId": 20200,
        "genesisHash": B256::repeat_byte(1),
        "blockNumber": 6,
        "sealers": [{"nodeId": "ab".repeat(64), "weight": 1}],
        "observers": []
    })
}

/// What the mock node answers to one call.
pub enum Reply {
    Result(Value),
    Error(Value),
    /// An HTTP status and body, verbatim.
    Http(u16, String),
}

pub fn ok(v: impl serde::Serialize) -> Reply {
    Reply::Result(serde_json::to_value(v).unwrap())
}

/// Serves JSON-RPC over HTTP on a local port, one request per connection; returns its URL.
pub async fn mock_node<F>(handler: F) -> String
where
    F: Fn(&str, &[Value]) -> Reply + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let handler = Arc::clone(&handler);
            tokio::spawn(async move {
                let Some(body) = read_request(&mut sock).await else { return };
                let req: Value = serde_json::from_slice(&body).unwrap();
                let method = req["method"].as_str().unwrap_or_default().to_owned();
                let params = req["params"].as_array().cloned().unwrap_or_default();
                let (status, text) = match handler(&method, &params) {
                    Reply::Result(r) => {
                        (200, json!({"jsonrpc": "2.0", "id": req["id"], "result": r}).to_string())
                    }
                    Reply::Error(e) => {
                        (200, json!({"jsonrpc": "2.0", "id": req["id"], "error": e}).to_string())
                    }
                    Reply::Http(status, body) => (status, body),
                };
                let head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    text.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(text.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    url
}

async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = sock.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some(buf[end + 4..end + 4 + len].to_vec());
        }
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

pub fn u256_word(n: u64) -> Vec<u8> {
    U256::from(n).to_be_bytes::<32>().to_vec()
}
