//! RPC limits against a running `aurum node` (docs/rpc.md, Limits): an endless `eth_call`
//! is answered at the timeout while the chain keeps committing; 1,000-entry batches of wide
//! `eth_getLogs` and of `eth_call` keep the node's memory bounded (peak RSS measured and
//! printed) and blocks coming; one client filling its filter quota does not stop another;
//! slow or oversized request headers are cut off on both listeners.

mod common;

use aurum_sdk::{Client, KeyPair, SuiteKind};
use common::chain::{Load, Seen, deploy_token, head, wait_until};
use common::*;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{IpAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runtime code of an endless loop (JUMPDEST PUSH1 0 JUMP); as a creation's input it loops.
const LOOP: &str = "0x5b600056";

async fn post_from(local: Option<IpAddr>, url: &str, body: &Value) -> Value {
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(120));
    if let Some(ip) = local {
        builder = builder.local_address(ip);
    }
    let resp = builder.build().unwrap().post(url).json(body).send().await.expect("POST");
    let text = resp.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn request(id: usize, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// Resident and peak resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn start_chain(dir: &std::path::Path, edits: &[(&str, &str)]) -> TestNode {
    build_chain(dir, &[]);
    for (from, to) in edits {
        edit_config(dir, 0, from, to);
    }
    TestNode::start(dir)
}

#[test]
fn endless_eth_call_times_out_and_the_chain_keeps_committing() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    // A cap high enough that only the clock stops the loop, and a short timeout.
    let node = start_chain(
        tmp.path(),
        &[
            ("call_gas_cap = 50000000", "call_gas_cap = 3000000000"),
            ("call_timeout_ms = 5000", "call_timeout_ms = 500"),
        ],
    );
    let url = node.url();
    let rt = runtime();
    let key = Arc::new(KeyPair::generate(SuiteKind::Secp256k1Keccak));
    let (token, input) = deploy_token(&rt, &url, &key);
    let seen = Seen::default();
    let load = Load::start(&rt, &url, &key, token, &input, &seen);

    let start_head = head(&rt, &url).unwrap();
    // Several endless calls at once: each is answered at the deadline with a clear error.
    let answers = rt.block_on(async {
        let calls = (0..4).map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                let v =
                    post_from(None, &url, &request(1, "eth_call", json!([{"data": LOOP}]))).await;
                (v, started.elapsed())
            })
        });
        futures_util::future::join_all(calls).await
    });
    for answer in answers {
        let (v, took) = answer.unwrap();
        let message = v["error"]["message"].as_str().unwrap_or_default();
        println!("endless eth_call answered in {took:?}: {message}");
        if message.contains("timeout") {
            assert_eq!(v["error"]["code"], -32000, "{v}");
            assert_eq!(v["error"]["data"]["reason"], "Timeout", "{v}");
            assert!(took < Duration::from_secs(10), "answered at the deadline, took {took:?}");
        } else {
            // Only a machine burning 3e9 gas within 500 ms gets here.
            assert!(message.contains("OutOfGas"), "{v}");
        }
    }
    // Blocks keep coming while the timed-out runs finish.
    wait_until(
        "blocks after the endless calls",
        60,
        || head(&rt, &url).is_some_and(|h| h >= start_head + 3),
        || node.log_tail(),
    );
    load.finish(&rt);
    assert!(!rt.block_on(seen.lock()).is_empty());
}

#[test]
fn wide_batches_of_logs_and_calls_keep_memory_bounded_and_blocks_coming() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let node = start_chain(tmp.path(), &[]);
    let url = node.url();
    let rt = runtime();
    let key = Arc::new(KeyPair::generate(SuiteKind::Secp256k1Keccak));
    let (token, input) = deploy_token(&rt, &url, &key);
    let seen = Seen::default();
    let load = Load::start(&rt, &url, &key, token, &input, &seen);
    // Enough Transfer logs that 1,000 unbounded copies would need gigabytes.
    wait_until(
        "2,000 transfers",
        120,
        || rt.block_on(seen.lock()).len() >= 2_000,
        || node.log_tail(),
    );

    let (rss_before, _) = rss_kib(node.pid());
    let head_before = head(&rt, &url).unwrap();
    let logs_batch: Vec<Value> = (0..1000)
        .map(|i| request(i, "eth_getLogs", json!([{"fromBlock": "0x0", "toBlock": "latest"}])))
        .collect();
    let started = Instant::now();
    let v = rt.block_on(post_from(None, &url, &Value::Array(logs_batch)));
    let logs_took = started.elapsed();
    let answers = v.as_array().expect("batch answer");
    assert_eq!(answers.len(), 1000);
    let returned: usize = answers.iter().filter_map(|a| a["result"].as_array()).map(Vec::len).sum();
    let refused = answers.iter().filter(|a| a["error"]["code"] == -32005).count();
    assert!(returned <= 10_000, "the batch's log budget bounds what it returns: {returned}");
    assert!(refused >= 990, "entries past the budget are refused: {refused}");
    let spent = answers.iter().find(|a| a["error"]["data"]["reason"] == "BatchWork").unwrap();
    assert!(spent["error"]["message"].as_str().unwrap().contains("another batch"), "{spent}");

    let calls_batch: Vec<Value> =
        (0..1000).map(|i| request(i, "eth_call", json!([{"data": LOOP}]))).collect();
    let started = Instant::now();
    let v = rt.block_on(post_from(None, &url, &Value::Array(calls_batch)));
    let calls_took = started.elapsed();
    let answers = v.as_array().expect("batch answer");
    assert_eq!(answers.len(), 1000);
    let out_of_gas = answers
        .iter()
        .filter(|a| a["error"]["message"].as_str().is_some_and(|m| m.contains("OutOfGas")))
        .count();
    let batch_work = answers.iter().filter(|a| a["error"]["data"]["reason"] == "BatchWork").count();
    assert_eq!((out_of_gas, batch_work), (2, 998), "two loops at the cap spend the batch's gas");

    let (rss_after, peak) = rss_kib(node.pid());
    println!(
        "node RSS: {} MiB before the batches, {} MiB after, peak {} MiB; 1,000 getLogs: {:?} \
         ({returned} logs returned), 1,000 endless eth_calls: {:?}",
        rss_before / 1024,
        rss_after / 1024,
        peak / 1024,
        logs_took,
        calls_took
    );
    assert!(
        peak < rss_before + 512 * 1024,
        "peak RSS {peak} KiB grew more than 512 MiB over {rss_before} KiB"
    );
    wait_until(
        "blocks after the batches",
        60,
        || head(&rt, &url).is_some_and(|h| h >= head_before + 3),
        || node.log_tail(),
    );
    load.finish(&rt);
}

#[test]
fn one_client_filling_its_filter_quota_does_not_stop_another() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let node = start_chain(tmp.path(), &[]);
    let url = node.url();
    let rt = runtime();
    let (a, b): (IpAddr, IpAddr) = ("127.0.0.1".parse().unwrap(), "127.0.0.2".parse().unwrap());
    rt.block_on(async {
        // Client A fills its 1,000 filters in one batch, then is refused.
        let batch: Vec<Value> =
            (0..1000).map(|i| request(i, "eth_newBlockFilter", json!([]))).collect();
        let v = post_from(Some(a), &url, &Value::Array(batch)).await;
        let ids = v.as_array().unwrap().iter().filter(|x| x["result"].is_string()).count();
        assert_eq!(ids, 1000, "{}", v[0]);
        let a_first = v[0]["result"].as_str().unwrap().to_string();
        let refused = post_from(Some(a), &url, &request(1, "eth_newFilter", json!([{}]))).await;
        assert_eq!(refused["error"]["code"], -32000, "{refused}");
        assert_eq!(refused["error"]["data"]["reason"], "FilterQuota", "{refused}");
        assert!(refused["error"]["message"].as_str().unwrap().contains("127.0.0.1"));
        // Client B still gets filters of every kind, and they work.
        let mut ids = Vec::new();
        for (method, params) in [
            ("eth_newBlockFilter", json!([])),
            ("eth_newFilter", json!([{}])),
            ("eth_newPendingTransactionFilter", json!([])),
        ] {
            let v = post_from(Some(b), &url, &request(1, method, params)).await;
            ids.push(v["result"].as_str().unwrap_or_else(|| panic!("{method}: {v}")).to_string());
        }
        let client = Client::connect(url.clone(), "group0").await.unwrap();
        let key = KeyPair::generate(SuiteKind::Secp256k1Keccak);
        let hash = client
            .send_transaction(
                &key,
                aurum_sdk::TxRequest::call(aurum_sdk::Address::ZERO, aurum_sdk::Bytes::new()),
            )
            .await
            .unwrap();
        client.wait_for_receipt(hash, Duration::from_secs(30)).await.unwrap();
        let blocks =
            post_from(Some(b), &url, &request(1, "eth_getFilterChanges", json!([ids[0]]))).await;
        assert!(!blocks["result"].as_array().unwrap().is_empty(), "{blocks}");
        // Uninstalling one of A's filters gives A a place again.
        let gone =
            post_from(Some(a), &url, &request(1, "eth_uninstallFilter", json!([a_first]))).await;
        assert_eq!(gone["result"], true, "{gone}");
        let again = post_from(Some(a), &url, &request(1, "eth_newBlockFilter", json!([]))).await;
        assert!(again["result"].is_string(), "{again}");
    });
}

/// Sends `bytes` on a fresh connection to `addr` and reads until the server closes it or
/// `within` passes; the bytes answered and whether it closed.
fn talk(addr: &str, bytes: &[u8], within: Duration) -> (Vec<u8>, bool) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let _ = stream.write_all(bytes);
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return (got, true),
        }
    }
    (got, false)
}

#[test]
fn slow_and_oversized_headers_are_cut_off_on_both_listeners() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let node =
        start_chain(tmp.path(), &[("header_timeout_ms = 30000", "header_timeout_ms = 1000")]);
    let public = node.url().trim_start_matches("http://").to_string();
    let admin = node.ready["admin_url"].as_str().unwrap().trim_start_matches("http://").to_string();
    for addr in [&public, &admin] {
        // Slow-loris: half a request line, then nothing; the node closes the connection.
        let started = Instant::now();
        let (_, closed) = talk(addr, b"POST / HTTP/1.1\r\nHost: x\r\n", Duration::from_secs(20));
        assert!(closed, "{addr}: a connection with unfinished headers stayed open");
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(900), "{addr}: closed before the timeout ({took:?})");
        println!("{addr}: unfinished headers cut off after {took:?}");
        // Headers past 64 KiB: refused with 431 and closed.
        let mut big = b"POST / HTTP/1.1\r\nHost: x\r\nX-Pad: ".to_vec();
        big.extend(std::iter::repeat_n(b'a', 100 * 1024));
        big.extend_from_slice(b"\r\n\r\n");
        let (answer, closed) = talk(addr, &big, Duration::from_secs(20));
        let text = String::from_utf8_lossy(&answer);
        assert!(closed, "{addr}: oversized headers left the connection open");
        assert!(answer.is_empty() || text.starts_with("HTTP/1.1 431"), "{addr}: {text}");
        // And an ordinary request still works.
        let ok = TcpStream::connect(addr.as_str()).is_ok();
        assert!(ok);
    }
    let rt = runtime();
    assert!(head(&rt, &node.url()).is_some(), "the node still serves after the cut-offs");
}
