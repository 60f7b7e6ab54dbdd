//! The block explorer at `/explorer/` in a real headless Chromium (Debian's `chromium`,
//! driven through its own `--dump-dom` and `--screenshot`): the overview shows the live
//! height, a deployed ERC20's transfer shows the decoded `transfer(to, amount)` and its
//! `Transfer` event, a reverted transfer its decoded custom error, and the search box finds
//! the tx by its hash. Screenshots of each page go to `target/explorer/` (kept as CI
//! artifacts, not committed).

mod common;

use aurum_sdk::{Address, Client, KeyPair, SuiteKind, TxRequest, U256, abi, load_artifact};
use common::chain::*;
use common::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Where screenshots go: `target/explorer/` of the build (not committed).
fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("explorer");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs headless Chromium on `url` once: the DOM after the page's scripts ran for a while
/// (virtual time, so waiting costs nothing when the page is idle), and a screenshot.
fn chromium(url: &str, profile: &Path, screenshot: &Path, size: &str) -> String {
    let base = |extra: &[String]| {
        let out = Command::new("chromium")
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            .args(["--no-first-run", "--hide-scrollbars", "--virtual-time-budget=15000"])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--window-size={size}"))
            .args(extra)
            .arg(url)
            .output()
            .expect("run chromium (Debian package `chromium`; scripts/deps.sh test installs it)");
        assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    base(&[format!("--screenshot={}", screenshot.display())]);
    assert!(screenshot.exists(), "no screenshot at {}", screenshot.display());
    base(&["--dump-dom".to_string()])
}

#[test]
fn explorer_shows_height_decoded_transfer_events_and_finds_a_tx() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chain");
    build_chain(&dir, &[]);
    let node = TestNode::start(&dir);
    let url = node.url();
    let rt = runtime();
    let shots = screenshot_dir();
    let profile = tmp.path().join("chromium");

    // An ERC20, its ABI registered, one transfer and one that reverts.
    let key = KeyPair::generate(SuiteKind::Secp256k1Keccak);
    let (token, _) = deploy_token(&rt, &url, &key);
    let (token_abi, _) = load_artifact(artifact("AurumToken")).unwrap();
    let recipient = Address::repeat_byte(0x42);
    let amount = U256::from(12345u64);
    let transfer = abi::find_function(&token_abi, "transfer", 2).unwrap().clone();
    let input = abi::encode_call(&transfer, &[recipient.into(), amount.into()]).unwrap();
    let (ok_hash, bad_hash) = rt.block_on(async {
        let client = Client::connect(url.clone(), "group0").await.unwrap();
        // Bad input first: no contract at the address, and an ABI that is not one.
        let none: Result<serde_json::Value, _> =
            client.request("registerAbi", json!(["group0", Address::repeat_byte(7), []])).await;
        assert!(none.unwrap_err().to_string().contains("no contract code"));
        let junk: Result<serde_json::Value, _> =
            client.request("registerAbi", json!(["group0", token, {"not": "an abi"}])).await;
        assert!(junk.unwrap_err().to_string().contains("not a contract ABI"));
        let registered: serde_json::Value = client
            .request(
                "registerAbi",
                json!(["group0", token, serde_json::to_value(&token_abi).unwrap()]),
            )
            .await
            .unwrap();
        assert!(registered["codeHash"].as_str().is_some_and(|h| h.len() == 66), "{registered}");
        // The platform's precompiles are known without registration.
        let consensus: serde_json::Value = client
            .request("getAbi", json!(["group0", "0x0000000000000000000000000000000000001003"]))
            .await
            .unwrap();
        assert!(consensus["codeHash"].is_null(), "{consensus}");
        assert!(consensus["abi"].to_string().contains("addSealer"), "{consensus}");

        let ok =
            client.send_transaction(&key, TxRequest::call(token, input.clone())).await.unwrap();
        client.wait_for_receipt(ok, Duration::from_secs(60)).await.unwrap();
        // A sender without tokens: OpenZeppelin reverts with ERC20InsufficientBalance.
        let poor = KeyPair::generate(SuiteKind::Secp256k1Keccak);
        let bad =
            client.send_transaction(&poor, TxRequest::call(token, input.clone())).await.unwrap();
        let r = client.wait_for_receipt(bad, Duration::from_secs(60)).await.unwrap();
        assert_ne!(r.status, 0, "the poor sender's transfer must revert");
        (ok, bad)
    });
    let base = format!("{url}/explorer/");

    // Overview: the live height, between the heads before and after the page loaded (an
    // empty block may follow the last tx's).
    let overview = |shot: &str| {
        let before = head(&rt, &url).unwrap();
        let dom = chromium(&base, &profile, &shots.join(shot), "1280,900");
        let after = head(&rt, &url).unwrap();
        let shown: u64 = dom
            .split(r#"id="height">"#)
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("overview shows no height:\n{dom}"));
        assert!((before..=after).contains(&shown), "height {shown} not in {before}..={after}");
        assert!(dom.contains("Latest blocks") && dom.contains("sealer"), "{dom}");
        shown
    };
    let height = overview("overview.png");
    // One more block: a fresh load shows it.
    let block_of_tx = rt.block_on(async {
        let client = Client::connect(url.clone(), "group0").await.unwrap();
        let h = client.send_transaction(&key, TxRequest::call(token, input.clone())).await.unwrap();
        client.wait_for_receipt(h, Duration::from_secs(60)).await.unwrap().block_number
    });
    assert!(overview("overview-later.png") >= block_of_tx && block_of_tx > height);

    // The transfer: decoded call and event.
    let tx_url = format!("{base}#/tx/{ok_hash}");
    let dom = chromium(&tx_url, &profile, &shots.join("tx.png"), "1280,1100");
    let to = recipient.to_checksum(None);
    assert!(dom.contains(&format!("transfer(to: {to}, value: 12345)")), "no decoded call:\n{dom}");
    assert!(dom.contains("transfer(address,uint256)"), "{dom}");
    let from = key.address().to_checksum(None);
    assert!(
        dom.contains(&format!("Transfer(from: {from}, to: {to}, value: 12345)")),
        "no decoded Transfer event:\n{dom}"
    );
    // The same page on a phone-sized screen.
    chromium(&tx_url, &profile, &shots.join("tx-phone.png"), "390,844");

    // The reverted transfer: its custom error in words.
    let dom = chromium(
        &format!("{base}#/tx/{bad_hash}"),
        &profile,
        &shots.join("tx-reverted.png"),
        "1280,900",
    );
    assert!(dom.contains("ERC20InsufficientBalance("), "no decoded revert reason:\n{dom}");

    // Search by tx hash lands on the tx page.
    let dom = chromium(
        &format!("{base}#/search/{ok_hash}"),
        &profile,
        &shots.join("search.png"),
        "1280,900",
    );
    assert!(
        dom.contains(&format!("transfer(to: {to}, value: 12345)")),
        "search did not find the tx:\n{dom}"
    );
    let dom = chromium(
        &format!("{base}#/search/nonsense"),
        &profile,
        &shots.join("search-miss.png"),
        "1280,900",
    );
    assert!(dom.contains("Nothing found for"), "{dom}");

    // Block and account pages.
    let dom = chromium(
        &format!("{base}#/block/{block_of_tx}"),
        &profile,
        &shots.join("block.png"),
        "1280,900",
    );
    assert!(
        dom.contains(&format!("Block {block_of_tx}")) && dom.contains("1 transactions"),
        "{dom}"
    );
    let dom = chromium(
        &format!("{base}#/address/{token}"),
        &profile,
        &shots.join("contract.png"),
        "1280,900",
    );
    assert!(dom.contains("registered") && dom.contains("Token transfers"), "{dom}");
    assert!(dom.contains("12345"), "token page lacks the transfer:\n{dom}");
    drop(node);
}
