//! Deploys the AurumToken ERC-20, transfers to a fresh address, prints balances and the
//! decoded Transfer event, shows a decoded revert, and verifies the receipt's proof.
//!
//! `cargo run --release --example erc20 -- [rpc-url] [group]`
//! (defaults: http://127.0.0.1:20200, group0)

use aurum_sdk::{Client, DynSolValue, SdkError, U256, format_value, load_artifact};

const ARTIFACT: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../contracts/artifacts/AurumToken.json");

/// `amount` in whole tokens of 18 decimals.
fn tokens(amount: u64) -> U256 {
    U256::from(amount) * U256::from(10u64).pow(U256::from(18u64))
}

fn uint(values: &[DynSolValue]) -> Result<U256, String> {
    match values.first() {
        Some(DynSolValue::Uint(v, _)) => Ok(*v),
        other => Err(format!("expected a uint, got {other:?}")),
    }
}

/// A token amount with its 18 decimals, e.g. `999750` or `250.5`.
fn show(amount: U256) -> String {
    let unit = tokens(1);
    let (whole, frac) = (amount / unit, amount % unit);
    if frac.is_zero() {
        whole.to_string()
    } else {
        let frac = format!("{frac:0>18}");
        format!("{whole}.{}", frac.trim_end_matches('0'))
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "http://127.0.0.1:20200".into());
    let group = args.next().unwrap_or_else(|| "group0".into());

    let client = Client::connect(&url, &group).await?;
    println!(
        "connected to {url} {group}: chain {:?}, {:?}, block {}",
        client.chain_id(),
        client.suite_kind(),
        client.block_number().await?
    );

    let (abi, bytecode) = load_artifact(ARTIFACT)?;
    let owner = client.generate_key();
    println!("owner   {}", owner.address());

    let supply = tokens(1_000_000);
    let ctor = [
        DynSolValue::String("Aurum Token".into()),
        DynSolValue::String("AUR".into()),
        DynSolValue::Uint(supply, 256),
    ];
    let deployed = client.deploy(&owner, &abi, &bytecode, &ctor).await?;
    println!(
        "token   {} (block {}, tx {})",
        deployed.address, deployed.receipt.block_number, deployed.receipt.transaction_hash
    );
    let token = client.contract(deployed.address, abi);

    let recipient = client.generate_key().address();
    println!("to      {recipient}");
    let amount = tokens(250);
    let sent = token.send(&owner, "transfer", &[recipient.into(), amount.into()]).await?;
    println!(
        "transfer {} in block {}, returned {}",
        sent.receipt.transaction_hash,
        sent.receipt.block_number,
        sent.output.iter().map(format_value).collect::<Vec<_>>().join(", ")
    );
    for event in &sent.events {
        println!("event   {event}");
    }

    let symbol = token.call("symbol", &[]).await?;
    let symbol = match symbol.first() {
        Some(DynSolValue::String(s)) => s.clone(),
        _ => "?".into(),
    };
    for (who, address) in [("owner", owner.address()), ("to", recipient)] {
        let balance = uint(&token.call("balanceOf", &[address.into()]).await?)?;
        println!("balance {who:<5} {} {symbol}", show(balance));
    }

    // The recipient cannot send more than it has: the custom error comes back decoded.
    match client
        .call_from(
            recipient,
            token.address(),
            token.abi(),
            "transfer",
            &[owner.address().into(), tokens(1_000).into()],
        )
        .await
    {
        Err(SdkError::Reverted { reason, .. }) => {
            println!("dry run reverted as expected: {reason}")
        }
        other => println!("dry run did not revert: {other:?}"),
    }

    let proven = client.verify_receipt_proof(sent.receipt.transaction_hash).await?;
    println!(
        "receipt proof ok: leaf {} under receiptsRoot {} of block {} ({})",
        proven.proof.leaf,
        proven.block.header.receipt_root,
        proven.block.header.number,
        proven.block.hash
    );
    Ok(())
}
