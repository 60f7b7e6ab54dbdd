use aurum_sdk::*;
#[tokio::main]
async fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args().nth(1).unwrap();
    let c = Client::connect(&url, "group0").await?;
    println!("info {:?}", c.group_info().await?);
    println!("groups {:?}", c.group_list().await?);
    println!("sealers {:?} observers {:?}", c.sealer_list().await?, c.observer_list().await?);
    println!("cfg {:?}", c.system_config("tx_count_limit").await?);
    println!("cfg missing {:?}", c.system_config("nope_nope").await);
    println!("total {:?} pending {}", c.total_transaction_count().await?, c.pending_tx_size().await?);
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../contracts/artifacts/");
    let (abi, code) = load_artifact(format!("{dir}Reverter.json"))?;
    let key = c.generate_key();
    let d = c.deploy(&key, &abi, &code, &[]).await?;
    println!("code len {}", c.code(d.address).await?.len());
    let r = c.contract(d.address, abi.clone());
    for (f, args) in [
        ("failWithReason", vec![DynSolValue::String("boom".into())]),
        ("failRequire", vec![U256::from(3).into()]),
        ("failCustom", vec![U256::from(3).into(), U256::from(4).into()]),
        ("divide", vec![U256::from(3).into(), U256::ZERO.into()]),
        ("setThenFail", vec![U256::from(3).into()]),
    ] {
        println!("send {f}: {:?}", r.send(&key, f, &args).await.map(|o| o.output).map_err(|e| e.to_string()));
        println!("call {f}: {:?}", r.call(f, &args).await.map_err(|e| e.to_string()));
    }
    let o = r.send(&key, "set", &[U256::from(77).into()]).await?;
    println!("value {:?}", r.call("value", &[]).await?);
    let h = o.receipt.transaction_hash;
    println!("tx {:?}", c.transaction(h).await?);
    let b = c.block_by_number(o.receipt.block_number, BlockDetail::FullTxs).await?.unwrap();
    println!("block {} txs {:?}", b.header.number, b.transactions.map(|t| t.hashes()));
    let b2 = c.block_by_hash(b.hash, BlockDetail::Header).await?.unwrap();
    println!("by hash ok {} sigs {}", b2.hash == b.hash, b2.signatures.len());
    println!("hash by number {:?}", c.block_hash_by_number(o.receipt.block_number).await?);
    let p = c.verify_transaction_proof(h).await?;
    println!("tx proof ok, index {}", p.proof.index);
    let p = c.verify_receipt_proof(h).await?;
    println!("receipt proof ok, index {}", p.proof.index);
    // refusal: resend same signed tx
    let signed = c.sign_transaction(&key, TxRequest::call(d.address, r.encode("set", &[U256::from(1).into()])?)).await?;
    c.send_signed(&signed).await?;
    println!("resend: {}", c.send_signed(&signed).await.unwrap_err());
    let bad = c.send_transaction(&key, TxRequest::call(d.address, Bytes::new()).block_limit(1)).await;
    println!("block limit: {:?}", bad.map_err(|e| e.to_string()));
    println!("unknown group: {}", Client::connect(&url, "nogroup").await.unwrap_err());
    println!("eth_chainId via request: {:?}", c.request::<String>("eth_chainId", serde_json::json!([])).await);
    Ok(())
}
