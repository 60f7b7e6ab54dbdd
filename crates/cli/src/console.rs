//! `aurum console`: the thin entry over `aurum-console` (the REPL, `-c` and `-f`).

use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct ConsoleArgs {
    /// Node RPC URL; repeat it (or separate with commas) to fail over to the next node.
    #[arg(long, default_value = "http://127.0.0.1:20200", value_delimiter = ',')]
    url: Vec<String>,
    /// Group to use.
    #[arg(long, default_value = "group0")]
    group: String,
    /// Run one command and exit, e.g. "getBlockNumber" or "getBlockByNumber 3".
    #[arg(short = 'c', long = "command", conflicts_with = "file")]
    command: Option<String>,
    /// Run the commands of a file (one a line, `#` comments), stopping at the first failure.
    #[arg(short = 'f', long = "file")]
    file: Option<PathBuf>,
    /// Print JSON instead of tables and text.
    #[arg(long)]
    json: bool,
    /// Console home: history, deploy log, accounts (default $AURUM_HOME or ~/.aurum).
    #[arg(long)]
    home: Option<PathBuf>,
    /// Accounts folder (default HOME/accounts).
    #[arg(long)]
    accounts: Option<PathBuf>,
    /// Contracts folder: artifacts/*.json, *.json, *.sol, src/*.sol.
    #[arg(long, default_value = "contracts")]
    contracts: PathBuf,
}

/// Runs the console; exits with its code when a command failed.
pub fn run(args: ConsoleArgs) -> anyhow::Result<()> {
    let options = aurum_console::Options {
        urls: args.url,
        group: args.group,
        home: args.home,
        accounts: args.accounts,
        contracts: args.contracts,
        json: args.json,
        command: args.command,
        script: args.file,
    };
    match aurum_console::run(options) {
        0 => Ok(()),
        // The console printed the error already.
        code => std::process::exit(code),
    }
}
