//! Running the console: the interactive loop on rustyline (history kept in a file across
//! sessions, Ctrl-R reverse search, Tab completion that knows what each argument is), and
//! `-c` / `-f`, which print exactly what the prompt would and stop at the first failure.

use crate::contracts::Contracts;
use crate::registry::{self, ArgKind};
use crate::{Console, Flow};
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Context, Editor, Helper};
use std::path::PathBuf;

/// How to start the console.
#[derive(Debug, Clone)]
pub struct Options {
    /// Node RPC URLs, tried in order when one is down.
    pub urls: Vec<String>,
    pub group: String,
    /// Where history, the deploy log and accounts live (default `$AURUM_HOME` or `~/.aurum`).
    pub home: Option<PathBuf>,
    /// The accounts folder (default `<home>/accounts`).
    pub accounts: Option<PathBuf>,
    /// The contracts folder: `artifacts/*.json`, `*.json`, `*.sol`, `src/*.sol`.
    pub contracts: PathBuf,
    /// JSON output for machines.
    pub json: bool,
    /// Run this one command and exit.
    pub command: Option<String>,
    /// Run this file's commands (one a line, `#` comments) and exit.
    pub script: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            urls: vec!["http://127.0.0.1:20200".into()],
            group: "group0".into(),
            home: None,
            accounts: None,
            contracts: PathBuf::from("contracts"),
            json: false,
            command: None,
            script: None,
        }
    }
}

/// Runs the console as `options` say; returns the process exit code (0 when every command
/// succeeded).
pub fn run(options: Options) -> i32 {
    let mut console = match Console::new(&options) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if let Some(command) = &options.command {
        return run_lines(&mut console, options.json, std::iter::once((1, command.clone())), false);
    }
    if let Some(script) = &options.script {
        let text = match std::fs::read_to_string(script) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: cannot read {}: {e} — check the path", script.display());
                return 2;
            }
        };
        let lines = text.lines().map(str::to_owned).enumerate().map(|(i, l)| (i + 1, l));
        return run_lines(&mut console, options.json, lines, true);
    }
    let home = options.home.clone().unwrap_or_else(crate::default_home);
    interactive(&mut console, options.json, home.join("console_history"))
}

/// Executes lines until one fails (exit 1) or all ran (exit 0).
fn run_lines(
    console: &mut Console,
    json: bool,
    lines: impl Iterator<Item = (usize, String)>,
    script: bool,
) -> i32 {
    for (number, line) in lines {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match console.execute(trimmed) {
            Ok((output, flow)) => {
                if let Some(text) = output.render(json) {
                    println!("{text}");
                }
                if flow == Flow::Quit {
                    return 0;
                }
            }
            Err(e) => {
                if script {
                    eprintln!("error at line {number} ({trimmed}): {e}");
                } else {
                    eprintln!("error: {e}");
                }
                return 1;
            }
        }
    }
    0
}

fn interactive(console: &mut Console, json: bool, history: PathBuf) -> i32 {
    let config = Config::builder()
        .history_ignore_space(true)
        .history_ignore_dups(true)
        .and_then(|b| b.max_history_size(5000))
        .map(|b| b.completion_type(CompletionType::List).auto_add_history(false).build());
    let editor = config.and_then(Editor::<ConsoleHelper, FileHistory>::with_config);
    let mut editor = match editor {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot start the line editor: {e}");
            return 2;
        }
    };
    editor.set_helper(Some(ConsoleHelper { words: console.completion_words() }));
    if let Some(dir) = history.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    // A missing history file is a first start.
    let _ = editor.load_history(&history);
    println!(
        "Aurum console on {} ({}). help lists the commands; Tab completes; Ctrl-R searches history; quit leaves.",
        console.session.url(),
        console.session.group()
    );
    loop {
        match editor.readline(&console.prompt()) {
            Ok(line) => {
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                // Written at once, so history survives a console that is killed.
                let _ = editor.add_history_entry(line);
                let _ = editor.append_history(&history);
                match console.execute(line) {
                    Ok((output, flow)) => {
                        if let Some(text) = output.render(json) {
                            println!("{text}");
                        }
                        if flow == Flow::Quit {
                            return 0;
                        }
                    }
                    Err(e) => eprintln!("error: {e}"),
                }
                editor.set_helper(Some(ConsoleHelper { words: console.completion_words() }));
            }
            // Ctrl-C drops the line being typed, as in a shell.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => return 0,
            Err(e) => {
                eprintln!("error: reading the line: {e}");
                return 2;
            }
        }
    }
}

/// What Tab can offer besides command names; refreshed after every command.
#[derive(Clone)]
pub struct Words {
    pub accounts: Vec<String>,
    pub contracts: Vec<String>,
    pub addresses: Vec<String>,
    pub groups: Vec<String>,
    pub(crate) lookup: Contracts,
}

impl Words {
    /// Candidates for the word at `index` (0 = the command) given the words before it.
    pub fn candidates(&self, before: &[&str]) -> Vec<String> {
        let Some((command, args)) = before.split_first() else {
            return registry::COMMANDS.iter().map(|s| s.name.to_owned()).collect();
        };
        let Some(spec) = registry::find(command) else { return Vec::new() };
        if spec.name == "switch" {
            return match args {
                [] => vec!["group".into(), "account".into()],
                ["account"] => self.accounts.clone(),
                ["group"] => self.groups.clone(),
                _ => Vec::new(),
            };
        }
        let kind = spec.args.get(args.len()).copied().unwrap_or(ArgKind::Free);
        match kind {
            ArgKind::Free => Vec::new(),
            ArgKind::Command => registry::COMMANDS.iter().map(|s| s.name.to_owned()).collect(),
            ArgKind::Account => self.accounts.clone(),
            ArgKind::Contract => self.contracts.clone(),
            ArgKind::Address => {
                let mut a = self.addresses.clone();
                if spec.name == "call" {
                    a.insert(0, "latest".into());
                }
                a
            }
            ArgKind::Method => args.first().map(|c| self.lookup.methods_of(c)).unwrap_or_default(),
            ArgKind::Group => self.groups.clone(),
            ArgKind::ConfigKey => registry::CONFIG_KEYS.iter().map(|k| k.to_string()).collect(),
        }
    }
}

/// The rustyline helper: completion only (no hints, highlighting or multi-line input).
pub struct ConsoleHelper {
    words: Words,
}

impl Completer for ConsoleHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let head = &line[..pos];
        let start = head.rfind(char::is_whitespace).map(|i| i + 1).unwrap_or(0);
        let partial = &head[start..];
        let before: Vec<&str> = head[..start].split_whitespace().collect();
        let mut matches: Vec<Pair> = self
            .words
            .candidates(&before)
            .into_iter()
            .filter(|c| c.starts_with(partial))
            .map(|c| Pair { display: c.clone(), replacement: format!("{c} ") })
            .collect();
        matches.dedup_by(|a, b| a.display == b.display);
        Ok((start, matches))
    }
}

impl Hinter for ConsoleHelper {
    type Hint = String;
}
impl Highlighter for ConsoleHelper {}
impl Validator for ConsoleHelper {}
impl Helper for ConsoleHelper {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn completion_knows_each_argument() {
        let contracts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contracts");
        let tmp = tempfile::tempdir().unwrap();
        let words = Words {
            accounts: vec!["alice".into()],
            contracts: vec!["AurumToken".into()],
            addresses: vec!["0xAb".into()],
            groups: vec!["group0".into()],
            lookup: Contracts::new(contracts, tmp.path().join("log")),
        };
        assert!(words.candidates(&[]).contains(&"getBlockNumber".to_string()));
        assert_eq!(words.candidates(&["loadAccount"]), vec!["alice"]);
        assert_eq!(words.candidates(&["deploy"]), vec!["AurumToken"]);
        assert_eq!(words.candidates(&["call", "AurumToken"]), vec!["latest", "0xAb"]);
        assert!(words.candidates(&["call", "AurumToken", "latest"]).contains(&"transfer".into()));
        assert!(words.candidates(&["getSystemConfigByKey"]).contains(&"tx_count_limit".into()));
        assert_eq!(words.candidates(&["switch", "group"]), vec!["group0"]);
        assert!(words.candidates(&["getBlockByNumber"]).is_empty());
    }
}
