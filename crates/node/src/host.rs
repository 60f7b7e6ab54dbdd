//! The groups a node runs and their lifecycle at run time: generate (from a genesis), start,
//! stop, remove (data kept), recover. What was decided survives restarts in
//! `groups.json` beside the config.

use aurum_consortium::Consortium;
use aurum_crypto::KeyPair;
use aurum_group::{Group, GroupOptions};
use aurum_ledger::Genesis;
use aurum_network::Network;
use aurum_rpc::{GroupAdmin, GroupMap};
use aurum_storage::KvStore;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Generated, never started.
    Created,
    Running,
    Stopped,
    /// Set aside; its data is kept and `recoverGroup` brings it back.
    Removed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    /// Relative to the node directory.
    genesis_file: PathBuf,
    status: Status,
}

/// `groups.json`: every group this node knows and its status.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    groups: BTreeMap<String, Entry>,
}

struct Running {
    group: Arc<Group>,
    consortium: Consortium,
}

pub struct GroupHost {
    dir: PathBuf,
    store: Arc<dyn KvStore>,
    key: KeyPair,
    /// The chain every group must belong to: (chain id, crypto).
    chain: (String, String),
    options: GroupOptions,
    sealer: aurum_consortium::Options,
    network: Option<Network>,
    /// What the RPC listeners serve.
    pub groups: GroupMap,
    running: Mutex<BTreeMap<String, Running>>,
    state: Mutex<State>,
}

impl GroupHost {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        dir: PathBuf,
        store: Arc<dyn KvStore>,
        key: KeyPair,
        chain: (String, String),
        options: GroupOptions,
        sealer: aurum_consortium::Options,
        network: Option<Network>,
    ) -> Result<Self, String> {
        let path = dir.join("groups.json");
        let state = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("{} is not a valid group state file: {e}", path.display()))?,
            Err(_) => State::default(),
        };
        Ok(GroupHost {
            dir,
            store,
            key,
            chain,
            options,
            sealer,
            network,
            groups: Arc::default(),
            running: Mutex::new(BTreeMap::new()),
            state: Mutex::new(state),
        })
    }

    fn save(&self, state: &State) -> Result<(), String> {
        let bytes = serde_json::to_vec_pretty(state).map_err(|e| e.to_string())?;
        crate::write_atomic(&self.dir.join("groups.json"), &bytes).map_err(|e| e.to_string())
    }

    /// A group from the config file: started unless it was stopped or removed at run time.
    pub fn adopt(&self, genesis_file: PathBuf, genesis: &Genesis) -> Result<(), String> {
        let status = {
            let mut state = self.state.lock();
            let entry = state
                .groups
                .entry(genesis.group_id.clone())
                .or_insert(Entry { genesis_file, status: Status::Running });
            entry.status
        };
        match status {
            Status::Running | Status::Created => self.start(&genesis.group_id),
            Status::Stopped | Status::Removed => {
                tracing::info!(group = %genesis.group_id, ?status, "group not started (stopped at run time)");
                Ok(())
            }
        }
    }

    /// Starts the groups generated at run time that were running when the node stopped.
    pub fn resume(&self) -> Result<(), String> {
        for id in self.not_running() {
            self.start(&id)?;
        }
        Ok(())
    }

    fn load_genesis(&self, group: &str) -> Result<Genesis, String> {
        let state = self.state.lock();
        let entry =
            state.groups.get(group).ok_or_else(|| format!("no group {group:?} on this node"))?;
        let path = self.dir.join(&entry.genesis_file);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn set_status(&self, group: &str, status: Status) -> Result<(), String> {
        let mut state = self.state.lock();
        if let Some(entry) = state.groups.get_mut(group) {
            entry.status = status;
        }
        self.save(&state)
    }

    fn status(&self, group: &str) -> Option<Status> {
        self.state.lock().groups.get(group).map(|e| e.status)
    }

    /// Stops every running group (node shutdown); their status stays as it was.
    pub fn stop_all(&self) {
        let running = std::mem::take(&mut *self.running.lock());
        self.groups.write().clear();
        for (_, r) in running {
            r.consortium.stop();
        }
    }

    /// Groups that should run (status running) but do not.
    pub fn not_running(&self) -> Vec<String> {
        let state = self.state.lock();
        let running = self.running.lock();
        state
            .groups
            .iter()
            .filter(|(id, e)| e.status == Status::Running && !running.contains_key(*id))
            .map(|(id, _)| id.clone())
            .collect()
    }

    pub fn running_groups(&self) -> Vec<Arc<Group>> {
        self.running.lock().values().map(|r| Arc::clone(&r.group)).collect()
    }

    fn stop_running(&self, group: &str) -> bool {
        let Some(r) = self.running.lock().remove(group) else { return false };
        self.groups.write().remove(group);
        r.consortium.stop();
        true
    }
}

impl GroupAdmin for GroupHost {
    fn generate(&self, genesis: Value) -> Result<Value, String> {
        let genesis: Genesis =
            serde_json::from_value(genesis).map_err(|e| format!("not a valid genesis: {e}"))?;
        let id = genesis.group_id.clone();
        let valid = !id.is_empty()
            && id.len() <= 64
            && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(format!("group id {id:?}: 1-64 letters, digits, '_' or '-'"));
        }
        if genesis.chain_id != self.chain.0 {
            return Err(format!(
                "genesis is for chain {:?}, this node is on chain {:?}",
                genesis.chain_id, self.chain.0
            ));
        }
        if genesis.crypto != self.chain.1 {
            return Err(format!(
                "genesis uses crypto {:?} but this chain uses {:?}; the suite is chain-wide",
                genesis.crypto, self.chain.1
            ));
        }
        genesis.suite_kind().map_err(|e| e.to_string())?;
        let mut state = self.state.lock();
        if state.groups.contains_key(&id) {
            return Err(format!("group {id:?} already exists on this node"));
        }
        let file = PathBuf::from(format!("{id}.genesis.json"));
        let text = serde_json::to_vec_pretty(&genesis).map_err(|e| e.to_string())?;
        crate::write_atomic(&self.dir.join(&file), &text).map_err(|e| e.to_string())?;
        state.groups.insert(id.clone(), Entry { genesis_file: file, status: Status::Created });
        self.save(&state)?;
        tracing::info!(group = %id, "group generated");
        Ok(json!({ "groupId": id, "status": Status::Created }))
    }

    fn start(&self, group: &str) -> Result<(), String> {
        match self.status(group) {
            None => return Err(format!("no group {group:?} on this node")),
            Some(Status::Removed) => {
                return Err(format!("group {group:?} was removed: recoverGroup first"));
            }
            _ => {}
        }
        if self.running.lock().contains_key(group) {
            return Ok(());
        }
        let genesis = self.load_genesis(group)?;
        let g =
            Group::open(Arc::clone(&self.store), genesis, self.key.clone(), self.options.clone())
                .map_err(|e| format!("group {group}: {e}"))?;
        // One sealing path: alone (no network) the driver runs PBFT with one validator.
        let consortium = Consortium::start(
            Arc::clone(&g),
            self.network.clone(),
            Arc::clone(&self.store),
            self.sealer.clone(),
        )
        .map_err(|e| format!("group {group}: {e}"))?;
        tracing::info!(group, head = g.ledger().head_number().unwrap_or(0), "group started");
        self.groups.write().insert(group.to_string(), Arc::clone(&g));
        self.running.lock().insert(group.to_string(), Running { group: g, consortium });
        self.set_status(group, Status::Running)
    }

    fn stop(&self, group: &str) -> Result<(), String> {
        match self.status(group) {
            None => return Err(format!("no group {group:?} on this node")),
            Some(Status::Removed) => return Err(format!("group {group:?} was removed")),
            _ => {}
        }
        if self.stop_running(group) {
            tracing::info!(group, "group stopped");
        }
        self.set_status(group, Status::Stopped)
    }

    fn remove(&self, group: &str) -> Result<(), String> {
        if self.status(group).is_none() {
            return Err(format!("no group {group:?} on this node"));
        }
        self.stop_running(group);
        tracing::info!(group, "group removed (data kept)");
        self.set_status(group, Status::Removed)
    }

    fn recover(&self, group: &str) -> Result<(), String> {
        match self.status(group) {
            None => Err(format!("no group {group:?} on this node")),
            Some(Status::Removed) => self.set_status(group, Status::Stopped),
            Some(_) => Ok(()),
        }
    }

    fn list(&self) -> Value {
        let state = self.state.lock();
        json!(
            state
                .groups
                .iter()
                .map(|(id, e)| json!({ "groupId": id, "status": e.status }))
                .collect::<Vec<_>>()
        )
    }
}
