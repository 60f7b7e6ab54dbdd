//! `up`, `build-chain` and `node`: a local chain directory and the processes that run it.

use anyhow::{Context, bail};
use aurum_crypto::{KeyPair, SuiteKind};
use aurum_ledger::{Genesis, GenesisNode};
use aurum_network::pki::{self, Issuer};
use aurum_node::{GroupSection, NodeConfig, NodeSection, ReadyInfo, RpcSection};
use clap::Args;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Args, Clone)]
pub struct ChainArgs {
    /// Number of nodes (sealers).
    #[arg(long, default_value_t = 1)]
    nodes: u32,
    /// Chain directory (created if absent, resumed if present).
    #[arg(long, visible_alias = "output", default_value = "aurum-chain")]
    dir: PathBuf,
    /// Address the nodes listen on and dial each other at.
    #[arg(long, default_value = "127.0.0.1")]
    ip: String,
    /// Reuse this chain CA (a directory holding ca.crt and ca.key) instead of making one.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Genesis admin account (may call the Consensus and SystemConfig precompiles). Without
    /// it an admin key is generated into DIR/accounts/admin.pem.
    #[arg(long)]
    admin: Option<alloy_primitives::Address>,
    /// RPC port of node 0; node K uses this + K. 0 = any free port (see nodeK/ready.json).
    #[arg(long, default_value_t = 20200)]
    rpc_port: u16,
    /// P2P port of node 0; node K uses this + K. 0 = free ports found now.
    #[arg(long, default_value_t = 30300)]
    p2p_port: u16,
    /// Use the SM2/SM3 suite chain-wide instead of secp256k1/keccak.
    #[arg(long)]
    sm: bool,
    #[arg(long, default_value = "chain0")]
    chain_id: String,
    /// A group and the nodes in it as `NAME=FIRST-LAST` (e.g. `group1=2-5`), or `NAME` for
    /// all nodes; repeat for several groups. Group K's Ethereum chain id is
    /// `web3-chain-id + K`.
    #[arg(long = "group", default_values_t = ["group0".to_string()])]
    groups: Vec<String>,
    /// Ethereum chain id of the group (eth_chainId).
    #[arg(long, default_value_t = 20200)]
    web3_chain_id: u64,
    /// Minimum time between blocks, in milliseconds.
    #[arg(long, default_value_t = 100)]
    min_seal_ms: u64,
    /// PBFT view timeout at view 0, in milliseconds (doubles per view change).
    #[arg(long, default_value_t = 3000)]
    view_timeout_ms: u64,
    /// Keep each node's ledger and state in PostgreSQL instead of RocksDB:
    /// `postgres://USER@HOST:PORT/DB` gives node K the database `DB_nodeK` (created through
    /// the server's `postgres` database if missing).
    #[arg(long, value_name = "URL")]
    storage: Option<String>,
}

/// A port with `n` free ports from it on (checked by binding), below the usual ephemeral range.
fn free_port_base(ip: &str, n: u32) -> anyhow::Result<u16> {
    let start = 30_000 + (std::process::id() % 1000) as u16 * 10;
    for i in 0..1000u16 {
        let base = 30_000 + (start - 30_000 + i * 10) % 10_000;
        if (0..n as u16).all(|k| std::net::TcpListener::bind((ip, base + k)).is_ok()) {
            return Ok(base);
        }
    }
    bail!("no {n} consecutive free ports found for P2P; pass --p2p-port")
}

/// Validity of the certificates `build-chain` makes (10 years).
const CERT_DAYS: u32 = 3650;

fn port(base: u16, k: u32) -> anyhow::Result<u16> {
    if base == 0 {
        return Ok(0);
    }
    u16::try_from(base as u32 + k).context("port out of range")
}

/// Creates the chain directory; refuses to touch an existing one.
pub fn build_chain(args: &ChainArgs) -> anyhow::Result<PathBuf> {
    if args.nodes == 0 {
        bail!("--nodes must be at least 1");
    }
    let dir = &args.dir;
    if dir.join("genesis.json").exists() {
        bail!("{} already holds a chain (genesis.json exists)", dir.display());
    }
    let kind = if args.sm { SuiteKind::Sm2Sm3 } else { SuiteKind::Secp256k1Keccak };
    std::fs::create_dir_all(dir.join("accounts"))
        .with_context(|| format!("creating {}", dir.display()))?;
    let admin = match args.admin {
        Some(address) => address,
        None => {
            let admin = KeyPair::generate(kind);
            admin.save(dir.join("accounts/admin.pem"))?;
            admin.address()
        }
    };
    let agency = if args.nodes > 1 { Some(make_agency(dir, args.ca.as_deref())?) } else { None };

    let mut keys = Vec::new();
    for k in 0..args.nodes {
        let node_dir = dir.join(format!("node{k}"));
        std::fs::create_dir_all(&node_dir)?;
        let key = KeyPair::generate(kind);
        key.save(node_dir.join("node.pem"))?;
        keys.push(key);
    }
    let groups = parse_groups(&args.groups, args.nodes)?;
    let timestamp_ms = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64;
    // (group id, genesis file name, genesis JSON, member nodes)
    let mut group_files = Vec::new();
    for (i, (id, members)) in groups.iter().enumerate() {
        let mut system_config = BTreeMap::new();
        system_config
            .insert("web3_chain_id".to_string(), (args.web3_chain_id + i as u64).to_string());
        // New chains cap a block's gas; a genesis without the key (a chain created before
        // the cap existed) keeps executing without one, so its blocks replay identically.
        system_config.insert(
            "block_gas_limit".to_string(),
            aurum_executor::DEFAULT_BLOCK_GAS_LIMIT.to_string(),
        );
        let genesis = Genesis {
            chain_id: args.chain_id.clone(),
            group_id: id.clone(),
            crypto: if args.sm { "sm".into() } else { "secp256k1".into() },
            timestamp_ms,
            sealers: members
                .iter()
                .map(|k| GenesisNode { node_id: keys[*k as usize].public().to_hex(), weight: 1 })
                .collect(),
            observers: Vec::new(),
            system_config,
            admins: vec![admin],
            alloc: BTreeMap::new(),
        };
        // The first group's genesis keeps the plain name (single-group chains look as before).
        let file = if i == 0 { "genesis.json".to_string() } else { format!("{id}.genesis.json") };
        group_files.push((file, serde_json::to_string_pretty(&genesis)?, members.clone()));
    }
    // Peers need each other's addresses up front: "any free port" means free ones now.
    let p2p_base = match args.p2p_port {
        0 if args.nodes > 1 => free_port_base(&args.ip, args.nodes)?,
        base => base,
    };
    let p2p_addrs: Vec<String> = (0..args.nodes)
        .map(|k| Ok(format!("{}:{}", args.ip, port(p2p_base, k)?)))
        .collect::<anyhow::Result<_>>()?;
    for k in 0..args.nodes {
        let node_dir = dir.join(format!("node{k}"));
        let mut sections = Vec::new();
        for (file, json, members) in &group_files {
            if members.contains(&k) {
                std::fs::write(node_dir.join(file), json)?;
                sections.push(GroupSection { genesis_file: file.into() });
            }
        }
        let p2p = match &agency {
            Some(agency) => {
                issue_node_cert(
                    agency,
                    &node_dir,
                    &format!("node{k}"),
                    &keys[k as usize].public(),
                )?;
                let peers = (0..args.nodes)
                    .filter(|j| *j != k)
                    .map(|j| p2p_addrs[j as usize].clone())
                    .collect();
                p2p_section(p2p_addrs[k as usize].clone(), peers)
            }
            // A lone sealer needs no network.
            None => Default::default(),
        };
        let rpc_port = port(args.rpc_port, k)?;
        let mut config = node_config(args, &args.ip, rpc_port, p2p, sections);
        // A port chosen at start (0) is known only then: see nodeK/ready.json.
        if rpc_port != 0 {
            crate::monitoring::write_target(
                dir,
                &format!("node{k}"),
                &format!("{}:{rpc_port}", args.ip),
            )?;
        }
        if let Some(url) = &args.storage {
            config.storage = postgres_storage(url, k)?;
        }
        std::fs::write(node_dir.join("config.toml"), config.to_toml())?;
    }
    crate::monitoring::write_config(dir, &args.chain_id)?;
    // Written last: the first group's genesis.json means the directory is complete.
    for (file, json, _) in group_files.iter().rev() {
        std::fs::write(dir.join(file), json)?;
    }
    Ok(dir.clone())
}

/// Node `k`'s `[storage]` on the server of `url`: database `DB_nodeK`, created if missing.
fn postgres_storage(url: &str, k: u32) -> anyhow::Result<aurum_node::StorageSection> {
    let base = aurum_storage::pg::url_database(url).context("--storage")?;
    let db = format!("{base}_node{k}");
    let admin = aurum_storage::pg::url_with_database(url, "postgres")?;
    aurum_storage::pg::create_database(&admin, &db)
        .with_context(|| format!("creating database {db} for node{k}"))?;
    Ok(aurum_node::StorageSection {
        backend: aurum_node::StorageBackend::Postgres,
        url: Some(aurum_storage::pg::url_with_database(url, &db)?),
        ..Default::default()
    })
}

/// The chain CA (made, or reused from `--ca`) and an agency under it, saved into DIR/ca and
/// DIR/agency. Only the CA certificate goes to the nodes.
fn make_agency(dir: &Path, ca_dir: Option<&Path>) -> anyhow::Result<Issuer> {
    let ca = match ca_dir {
        Some(d) => {
            Issuer::load(d, "ca").with_context(|| format!("loading the CA in {}", d.display()))?
        }
        None => {
            let ca = Issuer::new_ca("aurum-chain-ca", CERT_DAYS)?;
            std::fs::create_dir_all(dir.join("ca"))?;
            ca.save(&dir.join("ca"), "ca")?;
            ca
        }
    };
    std::fs::create_dir_all(dir.join("ca"))?;
    std::fs::write(dir.join("ca/ca.crt"), ca.cert_pem())?;
    let agency = ca.new_agency("aurum-agency", CERT_DAYS)?;
    std::fs::create_dir_all(dir.join("agency"))?;
    agency.save(&dir.join("agency"), "agency")?;
    Ok(agency)
}

/// A node certificate (ssl.crt + ssl.key) and the trusted CA (ca.crt) in `node_dir`.
fn issue_node_cert(
    agency: &Issuer,
    node_dir: &Path,
    name: &str,
    node_id: &aurum_crypto::PublicKey,
) -> anyhow::Result<()> {
    let now = SystemTime::now();
    let until = now + Duration::from_secs(u64::from(CERT_DAYS) * 86_400);
    let (chain, key) = agency.issue_node(name, node_id, now - Duration::from_secs(3600), until)?;
    pki::write_node_files(node_dir, &chain, &key)?;
    let ca_crt = node_dir.parent().map(|d| d.join("ca/ca.crt")).context("chain directory")?;
    std::fs::copy(&ca_crt, node_dir.join("ca.crt"))
        .with_context(|| format!("copying {}", ca_crt.display()))?;
    Ok(())
}

fn p2p_section(listen: String, peers: Vec<String>) -> aurum_node::P2pSection {
    aurum_node::P2pSection {
        listen: Some(listen),
        peers,
        ca_certs: vec!["ca.crt".into()],
        ..toml::from_str("").unwrap_or_default()
    }
}

fn node_config(
    args: &ChainArgs,
    ip: &str,
    rpc_port: u16,
    p2p: aurum_node::P2pSection,
    groups: Vec<GroupSection>,
) -> NodeConfig {
    NodeConfig {
        node: NodeSection { key_file: "node.pem".into(), data_dir: "data".into() },
        rpc: RpcSection {
            listen: format!("{ip}:{rpc_port}"),
            max_body_bytes: aurum_rpc::Limits::default().max_body_bytes,
            max_batch: aurum_rpc::Limits::default().max_batch,
            // Group lifecycle on loopback only; the bound port is in ready.json.
            admin_listen: Some("127.0.0.1:0".into()),
            ..Default::default()
        },
        p2p,
        execution: Default::default(),
        sealer: aurum_node::SealerSection {
            min_seal_interval_ms: args.min_seal_ms,
            ..Default::default()
        },
        consensus: aurum_node::ConsensusSection {
            view_timeout_ms: args.view_timeout_ms,
            ..Default::default()
        },
        storage: Default::default(),
        metrics: Default::default(),
        groups,
    }
}

/// `NAME` (all nodes) or `NAME=FIRST-LAST` / `NAME=K`, each node in at least one group.
fn parse_groups(specs: &[String], nodes: u32) -> anyhow::Result<Vec<(String, Vec<u32>)>> {
    let mut groups: Vec<(String, Vec<u32>)> = Vec::new();
    for spec in specs {
        let (name, members) = match spec.split_once('=') {
            None => (spec.as_str(), (0..nodes).collect()),
            Some((name, range)) => {
                let (a, b) = range.split_once('-').unwrap_or((range, range));
                let parse = |x: &str| {
                    x.trim()
                        .parse::<u32>()
                        .with_context(|| format!("--group {spec}: {x:?} is not a node index"))
                };
                let (a, b) = (parse(a)?, parse(b)?);
                if a > b || b >= nodes {
                    bail!("--group {spec}: nodes {a}-{b} are not within 0-{}", nodes - 1);
                }
                (name, (a..=b).collect())
            }
        };
        let valid = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            bail!("--group {spec}: a group id is 1-64 letters, digits, '_' or '-'");
        }
        if groups.iter().any(|(n, _)| n == name) {
            bail!("--group {name} given twice");
        }
        groups.push((name.to_string(), members));
    }
    if let Some(k) = (0..nodes).find(|k| !groups.iter().any(|(_, m)| m.contains(k))) {
        bail!("node{k} is in no group: every node needs at least one");
    }
    Ok(groups)
}

#[derive(Args, Clone)]
pub struct AddNodeArgs {
    /// The chain directory made by `build-chain` (its agency signs the new node).
    #[arg(long, visible_alias = "output", default_value = "aurum-chain")]
    dir: PathBuf,
    /// RPC port of the new node (0 = any free port).
    #[arg(long, default_value_t = 0)]
    rpc_port: u16,
    /// P2P port of the new node.
    #[arg(long)]
    p2p_port: u16,
}

/// Adds a node directory to a chain: key, certificate from the chain's agency, genesis and a
/// config that dials every existing node. It joins as nobody: an admin then adds it as an
/// observer or sealer through the Consensus precompile (0x1003); until then it only syncs.
pub fn add_node(args: &AddNodeArgs) -> anyhow::Result<PathBuf> {
    let dir = &args.dir;
    let genesis_json = std::fs::read_to_string(dir.join("genesis.json"))
        .with_context(|| format!("{} holds no chain", dir.display()))?;
    let genesis: Genesis = serde_json::from_str(&genesis_json)?;
    let kind = genesis.suite_kind()?;
    let agency = Issuer::load(&dir.join("agency"), "agency")
        .with_context(|| format!("loading the agency of {}", dir.display()))?;
    let existing = node_dirs(dir);
    let first: NodeConfig =
        NodeConfig::load(&existing.first().context("no nodes")?.join("config.toml"))?;
    let peers: Vec<String> = existing
        .iter()
        .filter_map(|d| NodeConfig::load(&d.join("config.toml")).ok()?.p2p.listen)
        .collect();
    let k = existing.len();
    let node_dir = dir.join(format!("node{k}"));
    std::fs::create_dir_all(&node_dir)?;
    let key = KeyPair::generate(kind);
    key.save(node_dir.join("node.pem"))?;
    issue_node_cert(&agency, &node_dir, &format!("node{k}"), &key.public())?;
    std::fs::write(node_dir.join("genesis.json"), &genesis_json)?;
    let ip = first
        .rpc
        .listen
        .rsplit_once(':')
        .map(|(ip, _)| ip.to_string())
        .unwrap_or("127.0.0.1".into());
    let mut config = first.clone();
    config.rpc.listen = format!("{ip}:{}", args.rpc_port);
    config.p2p = p2p_section(format!("{ip}:{}", args.p2p_port), peers);
    std::fs::write(node_dir.join("config.toml"), config.to_toml())?;
    println!("node{k}: node id {}", key.public().to_hex());
    Ok(node_dir)
}

/// Node directories of a chain, in order.
fn node_dirs(dir: &Path) -> Vec<PathBuf> {
    (0..)
        .map(|k| dir.join(format!("node{k}")))
        .take_while(|d| d.join("config.toml").exists())
        .collect()
}

pub fn up(args: ChainArgs) -> anyhow::Result<()> {
    if !args.dir.join("genesis.json").exists() {
        build_chain(&args)?;
        println!("created a {}-node chain in {}", args.nodes, args.dir.display());
    } else {
        println!("resuming the chain in {}", args.dir.display());
    }
    let dirs = node_dirs(&args.dir);
    if dirs.is_empty() {
        bail!("{} has no node directories", args.dir.display());
    }
    let exe = std::env::current_exe().context("locating the aurum binary")?;
    let mut children: Vec<Child> = Vec::new();
    for d in &dirs {
        let child = Command::new(&exe)
            .arg("node")
            .arg("--config")
            .arg(d.join("config.toml"))
            .env("AURUM_STOP_WITH_PARENT", "1")
            .spawn()
            .with_context(|| format!("starting the node in {}", d.display()))?;
        children.push(child);
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let outcome = runtime.block_on(supervise(&dirs, &mut children));
    stop_children(&mut children);
    outcome
}

async fn supervise(dirs: &[PathBuf], children: &mut [Child]) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    // Wait for every node to serve.
    let deadline = Instant::now() + Duration::from_secs(120);
    for (k, d) in dirs.iter().enumerate() {
        loop {
            // A file left by a killed run names another pid: wait for this run's.
            if let Some(info) = read_ready(d).filter(|i| i.pid == children[k].id()) {
                println!(
                    "node{k}: rpc {} (ws {}), groups {}, admin {}, pid {}",
                    info.rpc_url,
                    info.ws_url,
                    info.groups.join(","),
                    info.admin_url.as_deref().unwrap_or("-"),
                    info.pid
                );
                break;
            }
            if let Some(status) = children[k].try_wait()? {
                bail!("node{k} exited during start-up ({status}); see the log above");
            }
            if Instant::now() > deadline {
                bail!("node{k} did not become ready within 120 s");
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = term.recv() => return Ok(()),
                _ = int.recv() => return Ok(()),
            }
        }
    }
    println!("chain is up; Ctrl-C to stop");
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {
                for (k, c) in children.iter_mut().enumerate() {
                    if let Some(status) = c.try_wait()? {
                        bail!("node{k} exited unexpectedly ({status})");
                    }
                }
            }
            _ = term.recv() => return Ok(()),
            _ = int.recv() => return Ok(()),
        }
    }
}

fn read_ready(dir: &Path) -> Option<ReadyInfo> {
    let text = std::fs::read(dir.join("ready.json")).ok()?;
    serde_json::from_slice(&text).ok()
}

/// SIGTERM to each node, then SIGKILL to any still running after 30 s.
fn stop_children(children: &mut [Child]) {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    for c in children.iter() {
        let _ = kill(Pid::from_raw(c.id() as i32), Signal::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    for c in children.iter_mut() {
        loop {
            match c.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() > deadline => {
                    let _ = c.kill();
                    let _ = c.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

pub fn run_node(config: &Path) -> anyhow::Result<()> {
    if std::env::var_os("AURUM_STOP_WITH_PARENT").is_some() {
        // If `up` dies without stopping us, the kernel tells us to stop.
        let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let node = aurum_node::Node::start(config).await?;
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::info!("stopping");
        node.shutdown().await;
        tracing::info!("stopped");
        Ok(())
    })
}
