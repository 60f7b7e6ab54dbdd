//! `aurum`: start a local chain, run a node, make keys, query a node.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod bench;
mod bench_exec;
mod chain;
mod console;
mod monitoring;
mod storage_cmd;
mod workload;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "aurum", version, about = "Aurum consortium blockchain")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a local chain in DIR if absent, run all its nodes in the foreground and print
    /// their RPC URLs; Ctrl-C stops them cleanly. Restarting resumes from DIR.
    Up(chain::ChainArgs),
    /// Only create the chain directory (keys, genesis, one config.toml per node).
    BuildChain(chain::ChainArgs),
    /// Add a node directory to a chain (key, certificate, config dialing the others); an
    /// admin then makes it an observer or sealer via the Consensus precompile.
    AddNode(chain::AddNodeArgs),
    /// Run one node (what `up` spawns).
    Node {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Generate a key file (PEM, mode 0600).
    Keygen {
        /// SM2 key instead of secp256k1.
        #[arg(long)]
        sm: bool,
        #[arg(long)]
        out: PathBuf,
    },
    /// The interactive console; `-c "getBlockNumber"` or `-f script` for one-shot use.
    Console(console::ConsoleArgs),
    /// Benchmarks: `bench exec` (block execution in process, every mode in one run) and
    /// `bench chain` (committed TPS and latency of a running chain over JSON-RPC).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Storage tools: `aurum storage migrate --from nodeK/data --to postgres://…`.
    Storage(storage_cmd::StorageArgs),
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Execution alone, in process: tx/s per mode (serial, dag, optimistic, auto).
    Exec(bench_exec::ExecArgs),
    /// Pre-signed txs sent over JSON-RPC to running nodes: committed TPS, latency.
    Chain(bench::BenchArgs),
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Up(args) => chain::up(args),
        Command::BuildChain(args) => chain::build_chain(&args).map(|dir| {
            println!("chain created in {}", dir.display());
        }),
        Command::AddNode(args) => chain::add_node(&args).map(|dir| {
            println!("node created in {}", dir.display());
        }),
        Command::Node { config } => chain::run_node(&config),
        Command::Keygen { sm, out } => keygen(sm, &out),
        Command::Console(args) => console::run(args),
        Command::Bench(BenchCommand::Exec(args)) => bench_exec::run(args),
        Command::Bench(BenchCommand::Chain(args)) => bench::run(args),
        Command::Storage(args) => storage_cmd::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, skipping a cause whose text the message already contains
/// (our error types print their source inline).
fn describe(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("AURUM_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

fn keygen(sm: bool, out: &std::path::Path) -> anyhow::Result<()> {
    use aurum_crypto::{KeyPair, SuiteKind};
    let kind = if sm { SuiteKind::Sm2Sm3 } else { SuiteKind::Secp256k1Keccak };
    if out.exists() {
        anyhow::bail!("{} exists; refusing to overwrite a key", out.display());
    }
    let key = KeyPair::generate(kind);
    key.save(out)?;
    println!("node id: {}", key.public().to_hex());
    println!("address: {}", key.address());
    println!("written: {}", out.display());
    Ok(())
}
