//! Contracts: finding artifacts (Hardhat, Foundry, solc `--combined-json`, or a `.sol` given
//! to a `solc`/`solcjs` on PATH), deploying and calling them with ABI-parsed arguments, and
//! the deploy log (`~/.aurum/deploy_log.jsonl`), which also names contracts registered by hand
//! so later commands can say a name instead of an address.

use crate::chain::scalar;
use crate::error::{CmdResult, CommandError};
use crate::{Console, Output};
use alloy_dyn_abi::DynSolType;
use alloy_json_abi::{JsonAbi, Param, StateMutability};
use alloy_primitives::{Address, Bytes};
use aurum_sdk::{DynSolValue, RpcLog, decode_log, find_function, format_value, parse_artifact};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A compiled contract.
#[derive(Debug)]
pub struct Artifact {
    pub name: String,
    pub abi: JsonAbi,
    pub bytecode: Bytes,
    /// The file it came from (recorded in the deploy log).
    pub source: PathBuf,
}

/// One line of the deploy log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deployed {
    pub time: u64,
    pub group: String,
    pub name: String,
    pub address: Address,
    /// None for a contract registered by hand.
    pub tx: Option<String>,
    pub artifact: PathBuf,
}

/// The contracts folder and the deploy log.
#[derive(Clone)]
pub struct Contracts {
    dir: PathBuf,
    log: PathBuf,
}

impl Contracts {
    pub fn new(dir: PathBuf, log: PathBuf) -> Self {
        Contracts { dir, log }
    }

    /// Finds a contract by name (in the contracts folder or the deploy log) or by path.
    pub fn resolve(&self, what: &str) -> CmdResult<Artifact> {
        let path = Path::new(what);
        if path.is_file() {
            return match path.extension().and_then(|e| e.to_str()) {
                Some("sol") => compile(path),
                _ => read_artifact(path, None),
            };
        }
        let candidates = [
            self.dir.join("artifacts").join(format!("{what}.json")),
            self.dir.join(format!("{what}.json")),
        ];
        if let Some(file) = candidates.iter().find(|p| p.is_file()) {
            return read_artifact(file, Some(what));
        }
        if let Some(d) = self.entries().into_iter().rev().find(|d| d.name == what) {
            return read_artifact(&d.artifact, Some(what));
        }
        let sol = [
            self.dir.join(format!("{what}.sol")),
            self.dir.join("src").join(format!("{what}.sol")),
        ];
        if let Some(file) = sol.iter().find(|p| p.is_file()) {
            return compile(file);
        }
        Err(CommandError::new(format!(
            "no contract {what} in {} (artifacts/{what}.json, {what}.json or {what}.sol)",
            self.dir.display()
        ))
        .next("give an artifact path, or pass --contracts DIR with the folder that holds it"))
    }

    /// Every deploy log line, oldest first.
    pub fn entries(&self) -> Vec<Deployed> {
        let Ok(text) = std::fs::read_to_string(&self.log) else { return Vec::new() };
        text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    /// Appends a line to the deploy log.
    pub fn record(&self, entry: &Deployed) -> CmdResult<()> {
        use std::io::Write;
        let fail = |e: std::io::Error| {
            CommandError::new(format!("cannot write the deploy log {}: {e}", self.log.display()))
                .next("pass --home DIR with a folder you can write")
        };
        if let Some(parent) = self.log.parent() {
            std::fs::create_dir_all(parent).map_err(fail)?;
        }
        let mut file =
            std::fs::OpenOptions::new().create(true).append(true).open(&self.log).map_err(fail)?;
        let line = serde_json::to_string(entry).map_err(|e| CommandError::new(e.to_string()))?;
        writeln!(file, "{line}").map_err(fail)
    }

    /// The artifact of a contract the log knows at `address` in `group`.
    pub fn at(&self, group: &str, address: Address) -> Option<Deployed> {
        self.entries().into_iter().rev().find(|d| d.group == group && d.address == address)
    }

    /// Contract names for completion: artifacts and sources in the folder, and the log's.
    pub fn names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for (dir, ext) in [
            (self.dir.join("artifacts"), "json"),
            (self.dir.clone(), "json"),
            (self.dir.clone(), "sol"),
            (self.dir.join("src"), "sol"),
        ] {
            let Ok(entries) = std::fs::read_dir(dir) else { continue };
            for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
                if path.extension().is_some_and(|e| e == ext)
                    && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
                    && stem != "package"
                    && stem != "package-lock"
                {
                    names.push(stem.to_owned());
                }
            }
        }
        names.extend(self.entries().into_iter().map(|d| d.name));
        names.sort();
        names.dedup();
        names
    }

    /// Addresses deployed or registered in `group`, for completion.
    pub fn addresses(&self, group: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .entries()
            .into_iter()
            .filter(|d| d.group == group)
            .map(|d| d.address.to_checksum(None))
            .collect();
        out.dedup();
        out
    }

    /// The function names of a contract, for completion.
    pub fn methods_of(&self, name: &str) -> Vec<String> {
        let Ok(artifact) = self.resolve_quiet(name) else { return Vec::new() };
        let mut names: Vec<String> = artifact.abi.functions().map(|f| f.name.clone()).collect();
        names.sort();
        names.dedup();
        names
    }

    /// [`resolve`](Self::resolve) without compiling Solidity (completion must be quick).
    fn resolve_quiet(&self, name: &str) -> CmdResult<Artifact> {
        if name.ends_with(".sol") {
            return Err(CommandError::new("not compiled"));
        }
        self.resolve(name)
    }
}

fn read_artifact(path: &Path, name: Option<&str>) -> CmdResult<Artifact> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CommandError::new(format!("cannot read {}: {e}", path.display())).next("check the path")
    })?;
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("contract").to_owned();
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        CommandError::new(format!("{} is not JSON: {e}", path.display()))
            .next("give a Hardhat or Foundry artifact, or solc --combined-json output")
    })?;
    if value.get("contracts").is_some() && value.get("abi").is_none() {
        return from_combined(&value, name, path);
    }
    let (abi, bytecode) = parse_artifact(&text)?;
    let name = value["contractName"].as_str().map(str::to_owned).unwrap_or(stem);
    Ok(Artifact { name, abi, bytecode, source: path.to_path_buf() })
}

/// solc `--combined-json abi,bin`: `{"contracts": {"file.sol:Name": {"abi": …, "bin": …}}}`.
fn from_combined(value: &Value, name: Option<&str>, path: &Path) -> CmdResult<Artifact> {
    let Some(contracts) = value["contracts"].as_object() else {
        return Err(CommandError::new(format!(
            "{}: \"contracts\" is not an object",
            path.display()
        )));
    };
    let with_code: Vec<(&String, &Value)> = contracts
        .iter()
        .filter(|(_, c)| c["bin"].as_str().is_some_and(|b| !b.is_empty()))
        .collect();
    let chosen = match name {
        Some(n) => with_code.iter().find(|(k, _)| short(k) == n),
        None if with_code.len() == 1 => with_code.first(),
        None => with_code.iter().find(|(k, _)| {
            path.file_stem().and_then(|s| s.to_str()).is_some_and(|stem| short(k) == stem)
        }),
    };
    let Some((key, contract)) = chosen else {
        let names: Vec<String> = with_code.iter().map(|(k, _)| short(k)).collect();
        return Err(CommandError::new(format!(
            "{} holds {}; which one?",
            path.display(),
            names.join(", ")
        ))
        .next("deploy it by name with --contracts pointing at its folder"));
    };
    // Older solc writes the ABI as a JSON string.
    let abi_value = match &contract["abi"] {
        Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
        other => other.clone(),
    };
    let artifact = json!({ "abi": abi_value, "bytecode": contract["bin"] });
    let (abi, bytecode) = parse_artifact(&artifact.to_string())?;
    Ok(Artifact { name: short(key), abi, bytecode, source: path.to_path_buf() })
}

/// `file.sol:Name` → `Name`.
fn short(key: &str) -> String {
    key.rsplit(':').next().unwrap_or(key).to_owned()
}

/// A program on PATH.
fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(program)).find(|p| p.is_file())
}

/// Compiles a `.sol` with the solc (or solcjs) on PATH.
fn compile(source: &Path) -> CmdResult<Artifact> {
    let stem = source.file_stem().and_then(|s| s.to_str()).unwrap_or("contract").to_owned();
    let failed = |tool: &str, out: &std::process::Output| {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("no output").to_owned();
        CommandError::new(format!("{tool} could not compile {}: {first}", source.display()))
            .next("fix the source, or deploy a compiled artifact")
    };
    if let Some(solc) = on_path("solc") {
        let out = Command::new(solc)
            .args(["--combined-json", "abi,bin"])
            .arg(source)
            .output()
            .map_err(|e| CommandError::new(format!("cannot run solc: {e}")))?;
        if !out.status.success() {
            return Err(failed("solc", &out));
        }
        let value: Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| CommandError::new(format!("solc printed no JSON: {e}")))?;
        let mut artifact = from_combined(&value, Some(&stem), source)?;
        artifact.source = source.to_path_buf();
        return Ok(artifact);
    }
    if let Some(solcjs) = on_path("solcjs") {
        let out_dir = std::env::temp_dir().join(format!("aurum-solcjs-{}", std::process::id()));
        let out = Command::new(solcjs)
            .args(["--abi", "--bin", "-o"])
            .arg(&out_dir)
            .arg(source)
            .output()
            .map_err(|e| CommandError::new(format!("cannot run solcjs: {e}")))?;
        if !out.status.success() {
            return Err(failed("solcjs", &out));
        }
        let find = |ext: &str| {
            std::fs::read_dir(&out_dir).ok()?.filter_map(|e| e.ok().map(|e| e.path())).find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(&format!("_{stem}.{ext}")))
            })
        };
        let (Some(abi), Some(bin)) = (find("abi"), find("bin")) else {
            return Err(CommandError::new(format!("solcjs made no contract {stem}"))
                .next("name the file after the contract it holds"));
        };
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        let artifact = format!(r#"{{"abi": {}, "bytecode": "{}"}}"#, read(&abi), read(&bin).trim());
        let _ = std::fs::remove_dir_all(&out_dir);
        let (abi, bytecode) = parse_artifact(&artifact)?;
        return Ok(Artifact { name: stem, abi, bytecode, source: source.to_path_buf() });
    }
    Err(CommandError::new(format!(
        "cannot compile {}: neither solc nor solcjs is on PATH",
        source.display()
    ))
    .next("install solc (or npm i -g solc), or deploy a compiled artifact .json"))
}

/// Parses textual arguments into the types of `params` (arrays, tuples, bytes, big numbers).
fn parse_params(params: &[Param], args: &[String], what: &str) -> CmdResult<Vec<DynSolValue>> {
    if params.len() != args.len() {
        let types: Vec<String> = params.iter().map(|p| format!("{} {}", p.ty, p.name)).collect();
        return Err(CommandError::new(format!(
            "{what} takes {} argument(s) ({}), {} given",
            params.len(),
            types.join(", "),
            args.len()
        ))
        .next("quote strings with spaces, write arrays as [1,2]"));
    }
    params
        .iter()
        .zip(args)
        .enumerate()
        .map(|(i, (param, arg))| {
            let ty: DynSolType = param.selector_type().parse().map_err(|e| {
                CommandError::new(format!("argument {i} has a type this console cannot read: {e}"))
            })?;
            ty.coerce_str(arg).map_err(|e| {
                CommandError::new(format!(
                    "argument {i} ({} {}): {arg:?} is not a {}: {e}",
                    param.ty, param.name, param.ty
                ))
                .next("see listAbi for the types; quote strings with spaces, arrays as [1,2]")
            })
        })
        .collect()
}

fn values(values: &[DynSolValue]) -> String {
    values.iter().map(format_value).collect::<Vec<_>>().join(", ")
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `YYYY-MM-DD HH:MM:SS` UTC (civil-from-days, Howard Hinnant's algorithm).
fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}", rem / 3600, rem / 60 % 60, rem % 60)
}

impl Console {
    pub(crate) fn deploy(&mut self, words: Vec<String>) -> CmdResult<Output> {
        let artifact = self.contracts.resolve(&words[0])?;
        let args = match &artifact.abi.constructor {
            Some(ctor) => parse_params(&ctor.inputs, &words[1..], "the constructor")?,
            None => parse_params(&[], &words[1..], "the constructor")?,
        };
        let key = self.accounts.signer()?.key.clone();
        let client = self.block_on_client()?;
        let deployed =
            self.runtime.block_on(client.deploy(&key, &artifact.abi, &artifact.bytecode, &args))?;
        let tx = deployed.receipt.transaction_hash;
        self.contracts.record(&Deployed {
            time: now(),
            group: self.session.group().to_owned(),
            name: artifact.name.clone(),
            address: deployed.address,
            tx: Some(format!("{tx}")),
            artifact: std::fs::canonicalize(&artifact.source).unwrap_or(artifact.source),
        })?;
        let address = deployed.address.to_checksum(None);
        Ok(Output::Report {
            text: format!(
                "transaction hash: {tx}\ncontract address: {address}\ncurrent block: {}",
                deployed.receipt.block_number
            ),
            json: json!({
                "contract": artifact.name, "address": address, "transactionHash": tx,
                "blockNumber": deployed.receipt.block_number,
            }),
        })
    }

    pub(crate) fn call(&mut self, words: Vec<String>) -> CmdResult<Output> {
        let artifact = self.contracts.resolve(&words[0])?;
        let address = self.resolve_address(Some(&artifact.name), &words[1])?;
        let method = &words[2];
        let args = &words[3..];
        let function = find_function(&artifact.abi, method, args.len())?.clone();
        let values = parse_params(&function.inputs, args, &function.signature())?;
        let client = self.block_on_client()?;
        let read_only =
            matches!(function.state_mutability, StateMutability::View | StateMutability::Pure);
        if read_only {
            let signature = function.signature();
            let out = match self.accounts.current() {
                Some(a) => self.runtime.block_on(client.call_from(
                    a.key.address(),
                    address,
                    &artifact.abi,
                    &signature,
                    &values,
                )),
                None => {
                    self.runtime.block_on(client.call(address, &artifact.abi, &signature, &values))
                }
            }?;
            let shown: Vec<String> = out.iter().map(format_value).collect();
            return Ok(Output::Report {
                text: format!("Return values: ({})", shown.join(", ")),
                json: json!({ "output": shown }),
            });
        }
        let key = self.accounts.signer()?.key.clone();
        let outcome = self.runtime.block_on(client.send(
            &key,
            address,
            &artifact.abi,
            &function.signature(),
            &values,
        ))?;
        let r = &outcome.receipt;
        let events: Vec<String> = outcome.events.iter().map(|e| e.to_string()).collect();
        let mut text = format!(
            "transaction hash: {}\nblock: {}, status: {} ({}), gas used: {}",
            r.transaction_hash, r.block_number, r.status, r.status_name, r.gas_used
        );
        if !outcome.output.is_empty() {
            text.push_str(&format!("\nReturn values: ({})", self::values(&outcome.output)));
        }
        if !events.is_empty() {
            text.push_str("\nEvents:");
            for e in &events {
                text.push_str(&format!("\n  {e}"));
            }
        }
        Ok(Output::Report {
            text,
            json: json!({
                "transactionHash": r.transaction_hash, "blockNumber": r.block_number,
                "status": r.status, "output": outcome.output.iter().map(format_value).collect::<Vec<_>>(),
                "events": events,
            }),
        })
    }

    /// An address, or `latest` for the newest deployment of `name` in this group.
    pub(crate) fn resolve_address(&self, name: Option<&str>, word: &str) -> CmdResult<Address> {
        if word == "latest" {
            let name = name.unwrap_or_default();
            return self
                .contracts
                .entries()
                .into_iter()
                .rev()
                .find(|d| d.name == name && d.group == self.session.group())
                .map(|d| d.address)
                .ok_or_else(|| {
                    CommandError::new(format!(
                        "{name} has not been deployed in {} from this console",
                        self.session.group()
                    ))
                    .next(format!("run deploy {name} …, or registerContract {name} <address>"))
                });
        }
        word.parse().map_err(|_| {
            CommandError::new(format!("'{word}' is not an address"))
                .next("give 0x followed by 40 hex digits, or latest")
        })
    }

    pub(crate) fn list_abi(&mut self, what: &str) -> CmdResult<Output> {
        let artifact = match what.parse::<Address>() {
            Ok(address) => {
                let d = self.contracts.at(self.session.group(), address).ok_or_else(|| {
                    CommandError::new(format!("no known contract at {address}"))
                        .next("registerContract <Name> <address> first, or give the name")
                })?;
                read_artifact(&d.artifact, Some(&d.name))?
            }
            Err(_) => self.contracts.resolve(what)?,
        };
        let mut rows: Vec<Vec<String>> = artifact
            .abi
            .functions()
            .map(|f| {
                vec![
                    "function".into(),
                    f.signature(),
                    format!("{}", f.selector()),
                    format!("{:?}", f.state_mutability).to_lowercase(),
                ]
            })
            .collect();
        rows.extend(artifact.abi.events().map(|e| {
            vec!["event".into(), e.signature(), format!("{}", e.selector()), String::new()]
        }));
        rows.extend(artifact.abi.errors().map(|e| {
            vec!["error".into(), e.signature(), format!("{}", e.selector()), String::new()]
        }));
        Ok(Output::table(&["kind", "signature", "selector", "mutability"], rows))
    }

    pub(crate) fn deploy_log(&mut self, n: Option<&String>) -> CmdResult<Output> {
        let n = parse_count(n, 20)?;
        let entries = self.contracts.entries();
        let rows = entries[entries.len().saturating_sub(n)..]
            .iter()
            .map(|d| {
                vec![utc(d.time), d.group.clone(), d.name.clone(), d.address.to_checksum(None)]
            })
            .collect();
        Ok(Output::table(&["time (UTC)", "group", "contract", "address"], rows))
    }

    pub(crate) fn deployed_addresses(
        &mut self,
        name: &str,
        n: Option<&String>,
    ) -> CmdResult<Output> {
        let n = parse_count(n, 20)?;
        let group = self.session.group().to_owned();
        let rows: Vec<Vec<String>> = self
            .contracts
            .entries()
            .into_iter()
            .rev()
            .filter(|d| d.name == name && d.group == group)
            .take(n)
            .map(|d| vec![d.address.to_checksum(None), utc(d.time)])
            .collect();
        Ok(Output::table(&["address", "time (UTC)"], rows))
    }

    pub(crate) fn register(&mut self, name: &str, address: &str) -> CmdResult<Output> {
        let artifact = self.contracts.resolve(name)?;
        let address = self.resolve_address(None, address)?;
        let code = self.native(aurum_rpc_api::GET_CODE, vec![json!(address)])?;
        if scalar(&code).trim_start_matches("0x").is_empty() {
            return Err(CommandError::new(format!(
                "no contract code at {address} in {}",
                self.session.group()
            ))
            .next("check the address and the group"));
        }
        self.contracts.record(&Deployed {
            time: now(),
            group: self.session.group().to_owned(),
            name: artifact.name.clone(),
            address,
            tx: None,
            artifact: std::fs::canonicalize(&artifact.source).unwrap_or(artifact.source),
        })?;
        Ok(Output::text(format!("{} is now known as {}", address.to_checksum(None), artifact.name)))
    }

    /// The receipt's logs decoded with the ABIs of the contracts the log knows.
    pub(crate) fn decode_receipt_logs(&self, receipt: &Value) -> Vec<String> {
        let logs: Vec<RpcLog> = serde_json::from_value(receipt["logs"].clone()).unwrap_or_default();
        logs.iter()
            .filter_map(|log| {
                let d = self.contracts.at(self.session.group(), log.address)?;
                let artifact = read_artifact(&d.artifact, Some(&d.name)).ok()?;
                decode_log(&artifact.abi, log).map(|e| e.to_string())
            })
            .collect()
    }
}

fn parse_count(n: Option<&String>, default: usize) -> CmdResult<usize> {
    match n {
        None => Ok(default),
        Some(w) => match w.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => Ok(n),
            _ => Err(CommandError::new(format!("'{w}' is not a count from 1 to 100"))
                .next("give a number such as 10")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contracts")
    }

    #[test]
    fn artifacts_are_found_by_name_and_path() {
        let tmp = tempfile::tempdir().unwrap();
        let c = Contracts::new(dir(), tmp.path().join("log.jsonl"));
        let token = c.resolve("AurumToken").unwrap();
        assert_eq!(token.name, "AurumToken");
        assert!(token.abi.function("transfer").is_some());
        assert!(c.names().contains(&"AurumToken".to_string()));
        assert!(c.methods_of("AurumToken").contains(&"balanceOf".to_string()));
        assert!(c.resolve("Nope").unwrap_err().to_string().contains("no contract Nope"));

        // solc --combined-json, ABI as a string (older solc) and as JSON.
        let combined = json!({"contracts": {
            "a.sol:I": {"abi": "[]", "bin": ""},
            "a.sol:T": {"abi": token.abi, "bin": hex::encode(&token.bytecode)},
        }});
        let file = tmp.path().join("combined.json");
        std::fs::write(&file, combined.to_string()).unwrap();
        let t = c.resolve(file.to_str().unwrap()).unwrap();
        assert_eq!((t.name.as_str(), t.bytecode.len()), ("T", token.bytecode.len()));
    }

    #[test]
    fn solidity_needs_a_compiler_on_path() {
        let tmp = tempfile::tempdir().unwrap();
        let source = tmp.path().join("Empty.sol");
        std::fs::write(
            &source,
            "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.0;\ncontract Empty {}\n",
        )
        .unwrap();
        let c = Contracts::new(tmp.path().to_path_buf(), tmp.path().join("log"));
        match (on_path("solc"), on_path("solcjs")) {
            (None, None) => {
                let e = c.resolve(source.to_str().unwrap()).unwrap_err().to_string();
                assert!(
                    e.contains("neither solc nor solcjs is on PATH") && e.contains("artifact"),
                    "{e}"
                );
                // By name too, from the contracts folder.
                assert!(c.resolve("Empty").unwrap_err().to_string().contains("solc"));
            }
            // A machine with a compiler builds it.
            _ => assert_eq!(c.resolve("Empty").unwrap().name, "Empty"),
        }
    }

    #[test]
    fn constructor_args_follow_the_abi() {
        let tmp = tempfile::tempdir().unwrap();
        let token = Contracts::new(dir(), tmp.path().join("l")).resolve("AurumToken").unwrap();
        let ctor = token.abi.constructor.unwrap();
        let words = ["Aurum Token".to_string(), "AUR".into(), "0x10".into()];
        let args = parse_params(&ctor.inputs, &words, "c").unwrap();
        assert_eq!(args[2], DynSolValue::Uint(alloy_primitives::U256::from(16), 256));
        let e = parse_params(&ctor.inputs, &words[..2], "c").unwrap_err().to_string();
        assert!(e.contains("takes 3 argument(s)"), "{e}");
        let bad = ["a".to_string(), "b".into(), "many".into()];
        let e = parse_params(&ctor.inputs, &bad, "c").unwrap_err().to_string();
        assert!(e.contains("argument 2") && e.contains("uint256"), "{e}");
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(1_764_655_200), "2025-12-02 06:00:00");
    }
}
