//! The Aurum console: the prompt operators and contract developers live in, with the
//! reference console's command names, on the Rust SDK.
//!
//! This crate owns:
//! - [`Console`]: one session (node URLs, group, accounts, known contracts) that executes a
//!   command line and returns an [`Output`] or a one-line [`CommandError`];
//! - [`registry`]: every command with usage, help and example (help, suggestions, completion);
//! - [`repl`]: the interactive loop on rustyline (history file, Ctrl-R, tab completion) and
//!   the non-interactive `-c` / `-f` runners, which print the same output.
//!
//! The `aurum console` subcommand is a thin entry over [`run`].
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod accounts;
mod admin;
mod chain;
mod contracts;
mod error;
mod output;
pub mod registry;
pub mod repl;
mod session;
mod sql;
mod words;

pub use error::{CmdResult, CommandError};
pub use output::Output;
pub use repl::{Options, run};

use accounts::Accounts;
use contracts::Contracts;
use session::Session;
use std::path::PathBuf;

/// Where the console keeps its files, from `AURUM_HOME` or `~/.aurum`.
pub fn default_home() -> PathBuf {
    if let Some(home) = std::env::var_os("AURUM_HOME") {
        return PathBuf::from(home);
    }
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".")).join(".aurum")
}

/// One console session.
pub struct Console {
    runtime: tokio::runtime::Runtime,
    session: Session,
    accounts: Accounts,
    contracts: Contracts,
    /// Used when a command needs a password and gives none (`AURUM_ACCOUNT_PASSWORD`).
    default_password: Option<String>,
    /// The node's groups, once asked (for completion).
    groups: Option<Vec<String>>,
}

/// What a line asked for besides its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

impl Console {
    /// A session on `urls` (tried in order when one is down) for `group`.
    pub fn new(options: &Options) -> CmdResult<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CommandError::new(format!("cannot start the runtime: {e}")))?;
        let home = options.home.clone().unwrap_or_else(default_home);
        let accounts_dir = options.accounts.clone().unwrap_or_else(|| home.join("accounts"));
        Ok(Console {
            runtime,
            session: Session::new(options.urls.clone(), options.group.clone())?,
            accounts: Accounts::new(accounts_dir),
            contracts: Contracts::new(options.contracts.clone(), home.join("deploy_log.jsonl")),
            default_password: std::env::var("AURUM_ACCOUNT_PASSWORD").ok(),
            groups: None,
        })
    }

    /// `[group0 · 0xabc…]> `: the group, and the signing account if one is loaded.
    pub fn prompt(&self) -> String {
        match self.accounts.current() {
            Some(a) => {
                let addr = format!("{:x}", a.key.address());
                format!("[{} · 0x{}…]> ", self.session.group(), &addr[..6])
            }
            None => format!("[{}]> ", self.session.group()),
        }
    }

    /// Runs one command line.
    pub fn execute(&mut self, line: &str) -> CmdResult<(Output, Flow)> {
        let mut words = words::split(line)?;
        if words.is_empty() {
            return Ok((Output::None, Flow::Continue));
        }
        let name = words.remove(0);
        let Some(spec) = registry::find(&name).or_else(|| sql_keyword(&name)) else {
            return Err(unknown(&name));
        };
        let output = match spec.name {
            "quit" | "exit" => return Ok((Output::None, Flow::Quit)),
            "help" => help(&words)?,
            _ if registry::is_sql(spec.name) => self.sql(line)?,
            _ => {
                self.check_count(spec, &words)?;
                self.dispatch(spec, words)?
            }
        };
        Ok((output, Flow::Continue))
    }

    fn check_count(&self, spec: &registry::Spec, words: &[String]) -> CmdResult<()> {
        // Options (`--password pw`, `--sm`) are counted inside the command.
        let positional = words.iter().filter(|w| !w.starts_with("--")).count();
        if positional < spec.min || (spec.max != usize::MAX && words.len() > spec.max) {
            let given = words.len();
            return Err(CommandError::usage(spec, format!("{} takes {}", spec.name, count(spec)))
                .next(format!("{given} given; see `help {}` for an example", spec.name)));
        }
        Ok(())
    }

    fn dispatch(&mut self, spec: &registry::Spec, mut words: Vec<String>) -> CmdResult<Output> {
        match spec.name {
            "switch" => self.switch(words),
            "newAccount" => {
                let sm = words::take_flag(&mut words, "--sm");
                let password = words::take_option(&mut words, "--password")?;
                self.new_account(sm, words.first().map(String::as_str), password.as_deref())
            }
            "loadAccount" => {
                let password = words::take_option(&mut words, "--password")?;
                let password = password.or_else(|| self.default_password.clone());
                let Some(target) = words.first() else {
                    return Err(CommandError::usage(spec, "which account?"));
                };
                let account = self.accounts.load(target, password.as_deref())?;
                Ok(Output::text(format!(
                    "loaded {} ({}), it signs from now on",
                    account.name,
                    account.key.address().to_checksum(None)
                )))
            }
            "listAccount" => Ok(self.list_accounts()),
            "getCurrentAccount" => {
                let a = self.accounts.signer()?;
                Ok(Output::text(a.key.address().to_checksum(None)))
            }
            "deploy" => self.deploy(words),
            "call" => self.call(words),
            "listAbi" => self.list_abi(&words[0]),
            "getDeployLog" => self.deploy_log(words.first()),
            "listDeployContractAddress" => self.deployed_addresses(&words[0], words.get(1)),
            "registerContract" => self.register(&words[0], &words[1]),
            "addSealer"
            | "addObserver"
            | "removeNode"
            | "setConsensusWeight"
            | "setSystemConfigByKey" => self.admin(spec.name, &words),
            _ => self.chain(spec.name, &words),
        }
    }

    fn switch(&mut self, words: Vec<String>) -> CmdResult<Output> {
        match words.as_slice() {
            [what, name] if what == "account" => {
                let password = self.default_password.clone();
                let a = self.accounts.switch(name, password.as_deref())?;
                Ok(Output::text(format!("{} signs from now on", a.key.address().to_checksum(None))))
            }
            [what, group] if what == "group" => self.switch_group(group),
            [group] => self.switch_group(group),
            _ => Err(CommandError::usage(spec_of("switch"), "switch what?")),
        }
    }

    fn switch_group(&mut self, group: &str) -> CmdResult<Output> {
        let previous = self.session.group().to_owned();
        self.session.switch_group(group);
        if let Err(e) = self.block_on_client() {
            self.session.switch_group(&previous);
            return Err(e);
        }
        Ok(Output::None)
    }

    fn block_on_client(&mut self) -> CmdResult<aurum_sdk::Client> {
        let session = &mut self.session;
        self.runtime.block_on(session.client())
    }

    fn new_account(
        &mut self,
        sm: bool,
        name: Option<&str>,
        password: Option<&str>,
    ) -> CmdResult<Output> {
        let kind = if sm {
            aurum_sdk::SuiteKind::Sm2Sm3
        } else {
            // The chain's suite when the node says; secp256k1 offline.
            self.block_on_client()
                .map(|c| c.suite_kind())
                .unwrap_or(aurum_sdk::SuiteKind::Secp256k1Keccak)
        };
        let account = self.accounts.create(kind, name, password)?;
        Ok(Output::text(format!(
            "new account {} ({}), saved to {}; it signs from now on",
            account.name,
            account.key.address().to_checksum(None),
            account.file.display()
        )))
    }

    fn list_accounts(&self) -> Output {
        let current = self.accounts.current().map(|a| a.name.clone());
        let rows = self
            .accounts
            .stored()
            .iter()
            .map(|s| {
                let mark = if current.as_deref() == Some(s.name.as_str()) { "*" } else { "" };
                vec![
                    mark.to_string(),
                    s.name.clone(),
                    self.accounts.address_of(s).unwrap_or_else(|| "(locked)".into()),
                    s.format.to_string(),
                ]
            })
            .collect();
        Output::table(&["current", "name", "address", "format"], rows)
    }

    /// Words for completion: accounts, contracts, addresses, methods, groups.
    pub fn completion_words(&mut self) -> repl::Words {
        if self.groups.is_none() && self.session.is_connected() {
            // Asked once, after the first command reached the node: startup stays quick.
            let list = self.raw(aurum_rpc_api::GET_GROUP_LIST, serde_json::json!([]));
            self.groups = list.ok().and_then(|v| serde_json::from_value(v).ok());
        }
        let mut groups = self.groups.clone().unwrap_or_default();
        if !groups.iter().any(|g| g == self.session.group()) {
            groups.push(self.session.group().to_owned());
        }
        repl::Words {
            accounts: self.accounts.names(),
            contracts: self.contracts.names(),
            addresses: self.contracts.addresses(self.session.group()),
            groups,
            lookup: self.contracts.clone(),
        }
    }
}

/// The spec of a command this crate names itself.
fn spec_of(name: &str) -> &'static registry::Spec {
    registry::find(name).unwrap_or(&registry::COMMANDS[0])
}

fn count(spec: &registry::Spec) -> String {
    match (spec.min, spec.max) {
        (0, 0) => "no arguments".into(),
        (a, b) if a == b => format!("{a} argument(s)"),
        (a, usize::MAX) => format!("at least {a} argument(s)"),
        (a, b) => format!("{a} to {b} arguments"),
    }
}

/// SQL statements start with a keyword in any case (`SELECT`, `Insert`).
fn sql_keyword(word: &str) -> Option<&'static registry::Spec> {
    let lower = word.to_lowercase();
    registry::find(&lower).filter(|s| registry::is_sql(s.name))
}

fn unknown(name: &str) -> CommandError {
    let near = registry::suggest(name);
    let err = CommandError::new(format!("unknown command '{name}'"));
    if near.is_empty() {
        err.next("type help to list the commands")
    } else {
        err.next(format!("did you mean {}? (help lists all)", near.join(", ")))
    }
}

fn help(words: &[String]) -> CmdResult<Output> {
    match words.first() {
        None => Ok(Output::text(registry::overview())),
        Some(name) => match registry::find(name) {
            Some(spec) => Ok(Output::text(registry::explain(spec))),
            None => Err(unknown(name)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offline() -> (tempfile::TempDir, Console) {
        let dir = tempfile::tempdir().unwrap();
        // Nothing listens on a port just released.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let options = Options {
            urls: vec![format!("http://{port}")],
            group: "group0".into(),
            home: Some(dir.path().to_path_buf()),
            contracts: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contracts"),
            ..Options::default()
        };
        (dir, Console::new(&options).unwrap())
    }

    #[test]
    fn bad_input_gets_one_line_that_says_what_next() {
        let (_dir, mut c) = offline();
        let e = c.execute("getBlockNumbr").unwrap_err().to_string();
        assert!(e.contains("unknown command") && e.contains("did you mean getBlockNumber"), "{e}");
        let e = c.execute("getBlockByNumber").unwrap_err().to_string();
        assert!(e.contains("usage: getBlockByNumber number [true]"), "{e}");
        let e = c.execute("getBlockByNumber x").unwrap_err().to_string();
        assert!(e.contains("not a block number"), "{e}");
        let e = c.execute("getBlockNumber").unwrap_err().to_string();
        assert!(e.contains("no node reachable") && e.contains("start the node"), "{e}");
        let e = c.execute("call AurumToken latest transfer").unwrap_err().to_string();
        assert!(e.contains("no account loaded") || e.contains("deployed"), "{e}");
        assert!(!e.contains('\n'), "{e}");
        let e = c.execute("deploy Nope").unwrap_err().to_string();
        assert!(e.contains("Nope"), "{e}");
        assert_eq!(c.execute("quit").unwrap().1, Flow::Quit);
        assert!(c.execute("help deploy").unwrap().0.render(false).unwrap().contains("example"));
        assert_eq!(c.prompt(), "[group0]> ");
        c.execute("newAccount --sm alice").unwrap();
        assert!(c.prompt().starts_with("[group0 · 0x"), "{}", c.prompt());
        assert!(c.execute("listAccount").unwrap().0.render(false).unwrap().contains("alice"));
    }
}
