//! Sending transactions and using contracts: sign, send, wait for the receipt, and turn
//! non-success statuses into typed errors with the revert reason decoded.

use crate::Client;
use crate::abi::{
    AbiError, DecodedLog, decode_logs, decode_output, encode_call, encode_deploy, find_function,
};
use crate::error::{Result, SdkError};
use crate::revert::RevertReason;
use crate::tx::{SignedTx, TxRequest, build_native_tx, sign_native_tx};
use crate::types::{CallRequest, RpcReceipt};
use alloy_dyn_abi::DynSolValue;
use alloy_json_abi::JsonAbi;
use alloy_primitives::{Address, B256, Bytes};
use aurum_crypto::KeyPair;
use aurum_primitives::{NativeTx, TxStatus};
use aurum_rpc_api as api;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// First receipt poll delay; blocks come every few hundred ms, so start short.
const POLL_START: Duration = Duration::from_millis(50);
/// Longest delay between polls.
const POLL_MAX: Duration = Duration::from_millis(400);

/// The result of a contract creation that succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub address: Address,
    pub receipt: RpcReceipt,
}

/// The result of a contract transaction that succeeded.
#[derive(Debug, Clone, PartialEq)]
pub struct TxOutcome {
    pub receipt: RpcReceipt,
    /// The function's return values, decoded.
    pub output: Vec<DynSolValue>,
    /// The receipt's logs that the ABI knows, decoded.
    pub events: Vec<DecodedLog>,
}

impl TxOutcome {
    /// The first decoded event with this name.
    pub fn event(&self, name: &str) -> Option<&DecodedLog> {
        self.events.iter().find(|e| e.name == name)
    }
}

/// Turns a non-success status into an error; status 1 (revert) has its output decoded
/// with `abi` (custom errors) or without (`Error(string)`, `Panic(uint256)`).
pub fn check_status(
    status: u8,
    output: &[u8],
    abi: Option<&JsonAbi>,
    tx_hash: Option<B256>,
    receipt: Option<&RpcReceipt>,
) -> Result<()> {
    if status == TxStatus::Success.code() {
        return Ok(());
    }
    let receipt = receipt.map(|r| Box::new(r.clone()));
    if status == TxStatus::Reverted.code() {
        return Err(SdkError::Reverted {
            tx_hash,
            reason: RevertReason::decode(output, abi),
            receipt,
        });
    }
    let status_name = match (receipt.as_deref(), TxStatus::from_code(status)) {
        (Some(r), _) if !r.status_name.is_empty() => r.status_name.clone(),
        (_, Some(s)) => format!("{s:?}"),
        (_, None) => "unknown".to_owned(),
    };
    let message = match RevertReason::decode(output, None) {
        RevertReason::Error(m) => Some(m),
        _ => None,
    };
    Err(SdkError::Failed { tx_hash, status, status_name, message, receipt })
}

impl RpcReceipt {
    /// Ok for a successful tx; otherwise [`SdkError::Reverted`] (reason decoded with `abi`)
    /// or [`SdkError::Failed`].
    pub fn ensure_success(&self, abi: Option<&JsonAbi>) -> Result<()> {
        check_status(self.status, &self.output, abi, Some(self.transaction_hash), Some(self))
    }
}

impl Client {
    /// The native tx for `req` on this chain and group; fetches the block number unless
    /// `req.block_limit` is set.
    pub async fn build_transaction(&self, req: TxRequest) -> Result<NativeTx> {
        let head = match req.block_limit {
            Some(_) => 0,
            None => self.block_number().await?,
        };
        Ok(build_native_tx(self.chain_id(), self.group(), head, req))
    }

    /// Builds and signs `req` with `key` (which must be of the chain's suite).
    pub async fn sign_transaction(&self, key: &KeyPair, req: TxRequest) -> Result<SignedTx> {
        let tx = self.build_transaction(req).await?;
        Ok(sign_native_tx(self.suite(), key, tx)?)
    }

    /// Signs and sends `req`; returns the tx hash once the node accepted it into its pool.
    /// A refusal is [`SdkError::Rpc`] with code -32000 and `data.reason`.
    pub async fn send_transaction(&self, key: &KeyPair, req: TxRequest) -> Result<B256> {
        let signed = self.sign_transaction(key, req).await?;
        self.send_signed(&signed).await
    }

    /// Sends an already signed tx; checks the node reports the hash computed here.
    pub async fn send_signed(&self, signed: &SignedTx) -> Result<B256> {
        let hash = self.send_raw_transaction(&signed.raw).await?;
        if hash != signed.hash {
            return Err(SdkError::bad_response(
                api::SEND_TRANSACTION,
                format!("node reports hash {hash}, the tx hashes to {}", signed.hash),
            ));
        }
        Ok(hash)
    }

    /// Polls for the receipt of `hash` (every 50 ms at first, backing off to 400 ms) until
    /// it exists or `timeout` passes ([`SdkError::Timeout`]). Does not look at the status.
    pub async fn wait_for_receipt(&self, hash: B256, timeout: Duration) -> Result<RpcReceipt> {
        let start = Instant::now();
        let mut delay = POLL_START;
        loop {
            if let Some(receipt) = self.receipt(hash).await? {
                return Ok(receipt);
            }
            let waited = start.elapsed();
            if waited >= timeout {
                return Err(SdkError::Timeout { hash, waited });
            }
            tokio::time::sleep(delay.min(timeout - waited)).await;
            delay = (delay * 3 / 2).min(POLL_MAX);
        }
    }

    /// Sends `req` and waits for its receipt, whatever its status: use
    /// [`RpcReceipt::ensure_success`] or the contract helpers to turn failures into errors.
    pub async fn send_and_wait(&self, key: &KeyPair, req: TxRequest) -> Result<RpcReceipt> {
        let hash = self.send_transaction(key, req).await?;
        self.wait_for_receipt(hash, self.receipt_timeout).await
    }

    /// Deploys a contract: `bytecode` followed by the encoded constructor `args`. Fails with
    /// [`SdkError::Reverted`] (reason decoded with `abi`) or [`SdkError::Failed`].
    pub async fn deploy(
        &self,
        key: &KeyPair,
        abi: &JsonAbi,
        bytecode: &[u8],
        args: &[DynSolValue],
    ) -> Result<Deployment> {
        let code = encode_deploy(abi, bytecode, args)?;
        let receipt = self.send_and_wait(key, TxRequest::create(code)).await?;
        receipt.ensure_success(Some(abi))?;
        let address = receipt.contract_address.ok_or_else(|| {
            SdkError::bad_response(
                api::GET_TRANSACTION_RECEIPT,
                format!("successful creation {} has no contractAddress", receipt.transaction_hash),
            )
        })?;
        Ok(Deployment { address, receipt })
    }

    /// Calls `function` of the contract at `to` in a transaction (see [`find_function`] for
    /// how `function` is resolved) and waits for it. Returns the decoded return values and
    /// events; a revert is [`SdkError::Reverted`] with the reason decoded.
    pub async fn send(
        &self,
        key: &KeyPair,
        to: Address,
        abi: &JsonAbi,
        function: &str,
        args: &[DynSolValue],
    ) -> Result<TxOutcome> {
        let f = find_function(abi, function, args.len())?;
        let input = encode_call(f, args)?;
        let receipt = self.send_and_wait(key, TxRequest::call(to, input)).await?;
        receipt.ensure_success(Some(abi))?;
        let output = decode_output(f, &receipt.output)?;
        let events = decode_logs(abi, &receipt.logs);
        Ok(TxOutcome { receipt, output, events })
    }

    /// Executes `function` read-only against the latest state and decodes its return values.
    /// A revert is [`SdkError::Reverted`] with the reason decoded.
    pub async fn call(
        &self,
        to: Address,
        abi: &JsonAbi,
        function: &str,
        args: &[DynSolValue],
    ) -> Result<Vec<DynSolValue>> {
        self.call_inner(None, to, abi, function, args).await
    }

    /// [`call`](Self::call) as if sent by `from` (for functions that look at `msg.sender`).
    pub async fn call_from(
        &self,
        from: Address,
        to: Address,
        abi: &JsonAbi,
        function: &str,
        args: &[DynSolValue],
    ) -> Result<Vec<DynSolValue>> {
        self.call_inner(Some(from), to, abi, function, args).await
    }

    async fn call_inner(
        &self,
        from: Option<Address>,
        to: Address,
        abi: &JsonAbi,
        function: &str,
        args: &[DynSolValue],
    ) -> Result<Vec<DynSolValue>> {
        let f = find_function(abi, function, args.len())?;
        let data = encode_call(f, args)?;
        let result = self.call_raw(&CallRequest { from, to, data, block_number: None }).await?;
        check_status(result.status, &result.output, Some(abi), None, None)?;
        Ok(decode_output(f, &result.output)?)
    }

    /// A handle on the contract at `address`, so calls need not repeat it and its ABI.
    pub fn contract(&self, address: Address, abi: impl Into<Arc<JsonAbi>>) -> Contract {
        Contract { client: self.clone(), address, abi: abi.into() }
    }
}

/// A deployed contract: a client, an address and an ABI.
#[derive(Debug, Clone)]
pub struct Contract {
    client: Client,
    address: Address,
    abi: Arc<JsonAbi>,
}

impl Contract {
    pub fn address(&self) -> Address {
        self.address
    }
    pub fn abi(&self) -> &JsonAbi {
        &self.abi
    }
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// See [`Client::call`].
    pub async fn call(&self, function: &str, args: &[DynSolValue]) -> Result<Vec<DynSolValue>> {
        self.client.call(self.address, &self.abi, function, args).await
    }

    /// See [`Client::send`].
    pub async fn send(
        &self,
        key: &KeyPair,
        function: &str,
        args: &[DynSolValue],
    ) -> Result<TxOutcome> {
        self.client.send(key, self.address, &self.abi, function, args).await
    }

    /// The calldata for `function(args)`, e.g. to send with custom [`TxRequest`] options.
    pub fn encode(&self, function: &str, args: &[DynSolValue]) -> Result<Bytes, AbiError> {
        encode_call(find_function(&self.abi, function, args.len())?, args)
    }

    /// This contract's events among `receipt`'s logs.
    pub fn events(&self, receipt: &RpcReceipt) -> Vec<DecodedLog> {
        let own: Vec<_> =
            receipt.logs.iter().filter(|l| l.address == self.address).cloned().collect();
        decode_logs(&self.abi, &own)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::load_artifact;
    use crate::test_support::{Reply, group_info, mock_node, ok, u256_word};
    use crate::types::RpcLog;
    use alloy_dyn_abi::JsonAbiExt;
    use alloy_primitives::U256;
    use alloy_sol_types::{Panic, Revert, SolError};
    use aurum_crypto::{SuiteKind, suite};
    use aurum_primitives::Transaction;
    use serde_json::{Value, json};
    use std::collections::HashMap;
    use std::sync::Mutex;

    const HEAD: u64 = 40;
    const TOKEN: Address = Address::repeat_byte(0xcc);

    fn token_abi() -> (JsonAbi, Bytes) {
        load_artifact(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../contracts/artifacts/AurumToken.json"
        ))
        .unwrap()
    }

    fn receipt(hash: B256, from: Address, status: TxStatus, output: Vec<u8>) -> RpcReceipt {
        RpcReceipt {
            transaction_hash: hash,
            transaction_index: 0,
            block_number: HEAD + 1,
            block_hash: B256::repeat_byte(0xbb),
            from,
            to: Some(TOKEN),
            status: status.code(),
            status_name: format!("{status:?}"),
            gas_used: 50_000,
            contract_address: None,
            output: output.into(),
            logs: vec![],
            raw: Bytes::new(),
        }
    }

    /// Executes the token's behaviour for the test: creation, transfer (≤ 1000 succeeds,
    /// more reverts with ERC20InsufficientBalance), approve (runs out of gas), balanceOf
    /// (always 42), and a call of transfer panics.
    fn token_node(kind: SuiteKind) -> impl Fn(&str, &[Value]) -> Reply + Send + Sync + 'static {
        let s = suite(kind);
        let (abi, _) = token_abi();
        let pool: Mutex<HashMap<B256, (Transaction, Address, u32)>> = Mutex::default();
        move |method, params| match method {
            "getGroupInfo" => Reply::Result(group_info(kind)),
            "getBlockNumber" => Reply::Result(json!(HEAD)),
            "sendTransaction" => {
                let raw =
                    hex::decode(params[1].as_str().unwrap().trim_start_matches("0x")).unwrap();
                let verified = Transaction::decode(&raw).unwrap().verify(&*s).unwrap();
                verified.check_destination("chain0", "group0", 20200).unwrap();
                let Transaction::Native(native) = &verified.tx else { unreachable!() };
                assert_eq!(native.data.block_limit, HEAD + 500);
                let mut pool = pool.lock().unwrap();
                if pool.contains_key(&verified.hash) {
                    return Reply::Error(json!({"code": -32000, "message": "already known",
                                               "data": {"reason": "AlreadyKnown"}}));
                }
                pool.insert(verified.hash, (verified.tx.clone(), verified.sender, 0));
                ok(verified.hash)
            }
            "getTransactionReceipt" => {
                let hash: B256 = serde_json::from_value(params[1].clone()).unwrap();
                let mut pool = pool.lock().unwrap();
                let Some((tx, from, polls)) = pool.get_mut(&hash) else {
                    return Reply::Result(Value::Null);
                };
                // Not in a block for the first two polls.
                *polls += 1;
                if *polls < 3 {
                    return Reply::Result(Value::Null);
                }
                let input = tx.input().clone();
                let Some(to) = tx.to() else {
                    let mut r = receipt(hash, *from, TxStatus::Success, vec![]);
                    r.to = None;
                    r.contract_address = Some(TOKEN);
                    return ok(r);
                };
                assert_eq!(to, TOKEN);
                let f = abi.function_by_selector(input[..4].try_into().unwrap()).unwrap();
                let args = f.abi_decode_input(&input[4..]).unwrap();
                ok(match f.name.as_str() {
                    "transfer" => {
                        let amount = args[1].as_uint().unwrap().0;
                        if amount > U256::from(1000) {
                            let e = &abi.error("ERC20InsufficientBalance").unwrap()[0];
                            let data = e
                                .abi_encode_input(&[
                                    (*from).into(),
                                    U256::from(1000).into(),
                                    amount.into(),
                                ])
                                .unwrap();
                            receipt(hash, *from, TxStatus::Reverted, data)
                        } else {
                            let event = &abi.event("Transfer").unwrap()[0];
                            let mut r = receipt(hash, *from, TxStatus::Success, u256_word(1));
                            r.logs.push(RpcLog {
                                address: TOKEN,
                                topics: vec![
                                    event.selector(),
                                    from.into_word(),
                                    args[0].as_address().unwrap().into_word(),
                                ],
                                data: amount.to_be_bytes::<32>().to_vec().into(),
                                log_index: Some(0),
                            });
                            r
                        }
                    }
                    "approve" => receipt(hash, *from, TxStatus::OutOfGas, vec![]),
                    _ => {
                        receipt(hash, *from, TxStatus::Reverted, Revert::from("nope").abi_encode())
                    }
                })
            }
            "call" => {
                let data: Bytes = serde_json::from_value(params[1]["data"].clone()).unwrap();
                let f = abi.function_by_selector(data[..4].try_into().unwrap()).unwrap();
                let (status, output) = match f.name.as_str() {
                    "balanceOf" => (0, u256_word(42)),
                    _ => (1, Panic::from(U256::from(0x11)).abi_encode()),
                };
                Reply::Result(json!({"blockNumber": HEAD, "status": status,
                                     "output": Bytes::from(output), "gasUsed": 1}))
            }
            _ => Reply::Error(json!({"code": -32601, "message": "method not found"})),
        }
    }

    async fn token_client(kind: SuiteKind) -> Client {
        let url = mock_node(token_node(kind)).await;
        Client::connect(url, "group0").await.unwrap()
    }

    #[tokio::test]
    async fn deploy_send_and_call_in_both_suites() {
        for kind in SuiteKind::ALL {
            let client = token_client(kind).await;
            let key = client.generate_key();
            let (abi, code) = token_abi();
            let ctor = [
                DynSolValue::String("Aurum Token".into()),
                DynSolValue::String("AUR".into()),
                U256::from(1_000_000u64).into(),
            ];
            let deployed = client.deploy(&key, &abi, &code, &ctor).await.unwrap();
            assert_eq!(deployed.address, TOKEN);

            let token = client.contract(deployed.address, abi.clone());
            let to = Address::repeat_byte(0x99);
            let sent =
                token.send(&key, "transfer", &[to.into(), U256::from(10).into()]).await.unwrap();
            assert_eq!(sent.output, vec![DynSolValue::Bool(true)]);
            let transfer = sent.event("Transfer").unwrap();
            assert_eq!(transfer.get("from"), Some(&DynSolValue::Address(key.address())));
            assert_eq!(transfer.get("to"), Some(&DynSolValue::Address(to)));
            assert_eq!(transfer.get("value"), Some(&DynSolValue::Uint(U256::from(10), 256)));
            assert_eq!(token.events(&sent.receipt).len(), 1);

            let balance = token.call("balanceOf(address)", &[to.into()]).await.unwrap();
            assert_eq!(balance, vec![DynSolValue::Uint(U256::from(42), 256)]);
        }
    }

    #[tokio::test]
    async fn failures_come_back_typed() {
        let client = token_client(SuiteKind::Secp256k1Keccak).await;
        let key = client.generate_key();
        let (abi, _) = token_abi();
        let to = Address::repeat_byte(0x99);

        let err = client
            .send(&key, TOKEN, &abi, "transfer", &[to.into(), U256::from(5000).into()])
            .await
            .unwrap_err();
        let SdkError::Reverted { tx_hash: Some(_), reason, receipt: Some(r) } = &err else {
            panic!("expected a revert, got {err:?}");
        };
        assert_eq!(r.status, 1);
        assert!(
            matches!(reason, RevertReason::Custom { name, .. } if name == "ERC20InsufficientBalance")
        );
        assert_eq!(reason.arg("needed"), Some(&DynSolValue::Uint(U256::from(5000), 256)));
        assert!(err.to_string().contains("ERC20InsufficientBalance("), "{err}");

        let err = client
            .send(&key, TOKEN, &abi, "approve", &[to.into(), U256::from(1).into()])
            .await
            .unwrap_err();
        assert!(
            matches!(&err, SdkError::Failed { status: 2, status_name, .. } if status_name == "OutOfGas"),
            "{err:?}"
        );

        let err = client
            .send(&key, TOKEN, &abi, "transferFrom", &[to.into(), to.into(), U256::from(1).into()])
            .await
            .unwrap_err();
        assert_eq!(err.revert_reason(), Some(&RevertReason::Error("nope".into())));

        let err = client
            .call(TOKEN, &abi, "transfer", &[to.into(), U256::from(1).into()])
            .await
            .unwrap_err();
        assert!(
            matches!(&err, SdkError::Reverted { tx_hash: None, reason: RevertReason::Panic(c), .. } if *c == U256::from(0x11))
        );

        // Raw level: the receipt comes back whatever its status.
        let input = client
            .contract(TOKEN, abi.clone())
            .encode("approve", &[to.into(), U256::from(1).into()])
            .unwrap();
        let r = client.send_and_wait(&key, TxRequest::call(TOKEN, input)).await.unwrap();
        assert_eq!(r.tx_status(), Some(TxStatus::OutOfGas));
        assert!(r.ensure_success(None).is_err());

        // ABI misuse is caught before anything is sent.
        assert!(matches!(
            client.send(&key, TOKEN, &abi, "transfer", &[to.into()]).await,
            Err(SdkError::Abi(AbiError::ArgCount { .. }))
        ));
        assert!(matches!(
            client.call(TOKEN, &abi, "mint", &[]).await,
            Err(SdkError::Abi(AbiError::NoFunction { .. }))
        ));
    }

    #[tokio::test]
    async fn refusals_keys_and_timeouts() {
        let client = token_client(SuiteKind::Sm2Sm3).await;
        let key = client.generate_key();
        let req = TxRequest::call(TOKEN, Bytes::new()).nonce(U256::from(1)).block_limit(HEAD + 500);
        let signed = client.sign_transaction(&key, req.clone()).await.unwrap();
        assert_eq!(client.send_signed(&signed).await.unwrap(), signed.hash);
        let err = client.send_signed(&signed).await.unwrap_err();
        assert_eq!(err.rpc_error().unwrap().code, crate::CODE_TX_REFUSED);
        assert_eq!(err.rpc_error().unwrap().refusal_reason(), Some("AlreadyKnown"));

        let secp_key = KeyPair::generate(SuiteKind::Secp256k1Keccak);
        assert!(matches!(
            client.send_transaction(&secp_key, req).await,
            Err(SdkError::Crypto(aurum_crypto::CryptoError::WrongSuite { .. }))
        ));

        let start = Instant::now();
        let err =
            client.wait_for_receipt(B256::ZERO, Duration::from_millis(300)).await.unwrap_err();
        assert!(matches!(err, SdkError::Timeout { .. }));
        assert!(start.elapsed() >= Duration::from_millis(300));
        assert!(start.elapsed() < Duration::from_secs(3));
    }

    #[tokio::test]
    async fn a_node_reporting_another_hash_is_caught() {
        let url = mock_node(|method, _| match method {
            "getGroupInfo" => Reply::Result(group_info(SuiteKind::Secp256k1Keccak)),
            "getBlockNumber" => Reply::Result(json!(1)),
            _ => ok(B256::repeat_byte(1)),
        })
        .await;
        let client = Client::connect(url, "group0").await.unwrap();
        let key = client.generate_key();
        assert!(matches!(
            client.send_transaction(&key, TxRequest::call(TOKEN, Bytes::new())).await,
            Err(SdkError::BadResponse { .. })
        ));
    }

    #[test]
    fn status_checks() {
        assert!(check_status(0, &[], None, None, None).is_ok());
        let err = check_status(9, &[], None, None, None).unwrap_err();
        assert!(
            matches!(err, SdkError::Failed { status: 9, ref status_name, .. } if status_name == "CreateFailed")
        );
        let err = check_status(200, &[], None, Some(B256::ZERO), None).unwrap_err();
        assert!(
            matches!(err, SdkError::Failed { ref status_name, .. } if status_name == "unknown")
        );
        assert!(err.to_string().contains("transaction 0x0000"), "{err}");
        let err = check_status(1, &[], None, None, None).unwrap_err();
        assert_eq!(err.to_string(), "execution reverted: no revert data");
    }
}
