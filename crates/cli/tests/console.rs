//! `aurum console` against real nodes: the interactive prompt driven through a pseudo-terminal
//! (completion, history across restarts, deploy/transfer/events, reverts, SQL, bad input),
//! `-f` scripts, and node administration on a four-node chain.

mod common;

use common::*;
use expectrl::{Eof, Expect, Session};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const ALICE: &str = "0x1111111111111111111111111111111111111111";

fn contracts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contracts")
}

fn console_command(url: &str, home: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["console", "--url", url, "--home"])
        .arg(home)
        .arg("--contracts")
        .arg(contracts_dir())
        .env_remove("AURUM_ACCOUNT_PASSWORD");
    cmd
}

/// Starts the console on a PTY and waits for its prompt; returns it and the time that took.
fn spawn_console(url: &str, home: &Path) -> (expectrl::session::OsSession, Duration) {
    let mut cmd = console_command(url, home);
    // A real terminal type, so rustyline edits (a dumb terminal gets plain line reading).
    cmd.env("TERM", "xterm");
    let started = Instant::now();
    let mut pty = Session::spawn(cmd).expect("spawn the console on a PTY");
    pty.set_expect_timeout(Some(Duration::from_secs(90)));
    pty.expect("]> ").expect("the first prompt");
    (pty, started.elapsed())
}

/// Types `line` + Enter, waits for `want` in the output and then for the next prompt.
fn run(pty: &mut expectrl::session::OsSession, line: &str, want: &[&str]) {
    pty.send(format!("{line}\r")).unwrap();
    for w in want {
        if let Err(e) = pty.expect(*w) {
            panic!("{line:?}: no {w:?} in the output: {e}");
        }
    }
    pty.expect("]> ").unwrap_or_else(|e| panic!("{line:?}: no prompt after it: {e}"));
}

#[test]
fn pty_session_completes_recalls_history_and_survives_bad_input() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chain");
    build_chain(&dir, &[]);
    let node = TestNode::start(&dir);
    let url = node.url();
    let home = tmp.path().join("home");

    let (mut pty, first_start) = spawn_console(&url, &home);
    // A partial command and Tab: completed in place, then run.
    pty.send("getBlockN\t").unwrap();
    pty.expect("getBlockNumber ").unwrap();
    pty.send("\r").unwrap();
    pty.expect("]> ").unwrap();

    // Bad input: one clear line each, and the console keeps going.
    run(
        &mut pty,
        "getBlockNumbr",
        &["unknown command 'getBlockNumbr'", "did you mean getBlockNumber"],
    );
    run(&mut pty, "getBlockByNumber nope", &["'nope' is not a block number"]);
    run(&mut pty, "getTransactionReceipt", &["usage: getTransactionReceipt hash"]);
    run(
        &mut pty,
        "deploy AurumToken \"Aurum Token\" AUR 1000",
        &["no account loaded", "newAccount"],
    );
    run(&mut pty, "help call", &["example: call AurumToken latest transfer"]);

    // Accounts: an encrypted one, a wrong password, the prompt shows the signer.
    run(&mut pty, "newAccount alice --password s3cret", &["new account alice", "alice.json"]);
    pty.send("loadAccount alice --password nope\r").unwrap();
    pty.expect("wrong password").unwrap();
    pty.expect("]> ").unwrap();
    run(&mut pty, "loadAccount alice --password s3cret", &["loaded alice", "[group0 · 0x"]);
    run(&mut pty, "listAccount", &["alice", "keystore"]);

    // An ERC20 from an artifact, a transfer with its decoded event, a completed method name.
    run(&mut pty, "deploy AurumToken \"Aurum Token\" AUR 1000000", &["contract address: 0x"]);
    run(
        &mut pty,
        &format!("call AurumToken latest transfer {ALICE} 10"),
        &["status: 0", "Transfer(from: 0x", "value: 10)"],
    );
    pty.send("call AurumToken latest bal\t").unwrap();
    pty.expect("balanceOf ").unwrap();
    run(&mut pty, ALICE, &["Return values: (10)"]);

    // Reverts show their reason: a custom error from the ABI, and a require message.
    run(
        &mut pty,
        &format!("call AurumToken latest transfer {ALICE} 99999999999999999999999"),
        &["ERC20InsufficientBalance"],
    );
    run(&mut pty, "deploy Reverter", &["contract address: 0x"]);
    run(&mut pty, "call Reverter latest failRequire 3", &["x must exceed 10"]);
    run(&mut pty, "call AurumToken latest transfer 0x12 1", &["argument 0 (address"]);
    run(&mut pty, "getDeployLog", &["AurumToken", "Reverter"]);

    // Tables in SQL.
    run(
        &mut pty,
        "create table t_demo(name varchar, age varchar, primary key(name))",
        &["Create 't_demo' Ok."],
    );
    run(&mut pty, "insert into t_demo (name, age) values (fred, 20)", &["Insert OK: 1 row(s)"]);
    run(&mut pty, "select * from t_demo where name = fred", &["fred", "20"]);
    run(&mut pty, "select * from t_demo where age = 20", &["only the key column name"]);
    run(&mut pty, "select * from t_demo where name = fred or name = bob", &["unsupported SQL"]);

    // The prompt is still alive after all of it.
    run(&mut pty, "getBlockNumber", &[]);
    // Ctrl-D leaves; history is on disk.
    pty.send("\x04").unwrap();
    pty.expect(Eof).unwrap();

    let (mut pty, second_start) = spawn_console(&url, &home);
    pty.send("\x1b[A").unwrap();
    pty.expect("getBlockNumber").unwrap();
    pty.send("\x1b[A").unwrap();
    pty.expect("select * from t_demo where name = fred or name = bob").unwrap();
    pty.send("\x1b[A").unwrap();
    pty.expect("select * from t_demo where age = 20").unwrap();
    pty.send("\x1b[A").unwrap();
    pty.expect("select * from t_demo where name = fred").unwrap();
    run(&mut pty, "", &["fred", "20"]);
    pty.send("quit\r").unwrap();
    pty.expect(Eof).unwrap();
    println!(
        "console startup to a ready prompt (PTY, release build): first {} ms, second {} ms",
        first_start.as_millis(),
        second_start.as_millis()
    );
}

#[test]
fn a_script_runs_a_scenario_and_stops_at_the_first_failure() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chain");
    build_chain(&dir, &[]);
    let node = TestNode::start(&dir);
    let url = node.url();
    let home = tmp.path().join("home");

    let script = tmp.path().join("scenario.txt");
    std::fs::write(
        &script,
        format!(
            "# a token and a table\n\
             newAccount bob\n\
             deploy AurumToken \"Aurum Token\" AUR 1000\n\
             call AurumToken latest transfer {ALICE} 7\n\
             call AurumToken latest balanceOf {ALICE}\n\
             create table t_kv(k varchar, v varchar, primary key(k))\n\
             insert into t_kv (k, v) values (a, 1)\n\
             update t_kv set v = 2 where k = a\n\
             select * from t_kv where k = a\n\
             listDeployContractAddress AurumToken\n"
        ),
    )
    .unwrap();
    let out = console_command(&url, &home).arg("-f").arg(&script).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    for want in [
        "new account bob",
        "contract address:",
        "Transfer(from:",
        "Return values: (7)",
        "Update OK: 1",
    ] {
        assert!(stdout.contains(want), "no {want:?} in\n{stdout}");
    }

    // --json: machine output of the same commands.
    let out = console_command(&url, &home)
        .args(["--json", "-c", "select * from t_kv where k = a"])
        .output()
        .unwrap();
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows, serde_json::json!([{"k": "a", "v": "2"}]));

    let failing = tmp.path().join("failing.txt");
    std::fs::write(
        &failing,
        "getBlockNumber\ncall AurumToken latest nosuch\ngetTotalTransactionCount\n",
    )
    .unwrap();
    let out = console_command(&url, &home).arg("-f").arg(&failing).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error at line 2") && stderr.contains("nosuch"), "{stderr}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("transactionCount"),
        "ran past the failure"
    );

    // An unreachable node is one clear line and a non-zero exit.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let out = console_command(&format!("http://{port}"), &home)
        .args(["-c", "getBlockNumber"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no node reachable") && stderr.lines().count() == 1, "{stderr}");
    // Failover: a dead URL first, the live one second.
    let out = console_command(&format!("http://{port},{url}"), &home)
        .args(["-c", "getBlockNumber"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn add_sealer_on_a_four_node_chain_shows_in_the_sealer_list() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chain");
    build_consortium(&dir, 4, &[]);
    let nodes: Vec<TestNode> = (0..4).map(|i| TestNode::start_node(&dir, i)).collect();
    let url = nodes[0].url();
    let home = tmp.path().join("home");
    let console = |commands: &[&str]| {
        let script = tmp.path().join("admin.txt");
        let admin = dir.join("accounts/admin.pem");
        let mut text = format!("loadAccount {}\n", admin.display());
        for c in commands {
            text.push_str(c);
            text.push('\n');
        }
        std::fs::write(&script, text).unwrap();
        let out = console_command(&url, &home).arg("-f").arg(&script).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{commands:?}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    let out =
        console_command(&url, &home).args(["--json", "-c", "getSealerList"]).output().unwrap();
    let sealers: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sealers.as_array().map(Vec::len), Some(4), "{sealers}");
    let node3 = sealers[3]["nodeId"].as_str().unwrap().to_owned();

    let shown = console(&[&format!("addObserver {node3}")]);
    assert!(shown.contains("addObserver succeeded") && shown.contains(&node3), "{shown}");
    let shown = console(&["getObserverList"]);
    assert!(shown.contains(&node3), "{shown}");

    let shown = console(&[&format!("addSealer {node3} 2"), "getSealerList"]);
    assert!(shown.contains("addSealer succeeded"), "{shown}");
    let out =
        console_command(&url, &home).args(["--json", "-c", "getSealerList"]).output().unwrap();
    let sealers: Value = serde_json::from_slice(&out.stdout).unwrap();
    let back = sealers.as_array().unwrap().iter().find(|s| s["nodeId"] == node3.as_str());
    assert_eq!(back.map(|s| s["weight"].clone()), Some("2".into()), "{sealers}");

    // Refused input is explained: a bad node id.
    let script = tmp.path().join("bad.txt");
    std::fs::write(
        &script,
        format!("loadAccount {}\naddSealer 0x1234 1\n", dir.join("accounts/admin.pem").display()),
    )
    .unwrap();
    let out = console_command(&url, &home).arg("-f").arg(&script).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("128 hex digits"));
    drop(nodes);
}
