//! The PBFT driver: one thread per group that feeds the consensus state machine with
//! messages, time and the group's answers, and carries out what it asks (persist, send,
//! propose, validate, execute, commit).

mod crypto;
mod outputs;

use crate::PeerSender;
use crate::{Inbound, Options};
use alloy_primitives::{B256, Bytes};
use aurum_consensus::{
    Decision, Input, Message, NodeIndex, Output, Pbft, PbftConfig, Persisted, Validators, Vote,
};
use aurum_crypto::{KeyPair, PublicKey};
use aurum_group::{CheckedBlock, ExecutedBlock, Group, Sealer, encode_proposal};
use aurum_network::Module;
use aurum_primitives::{CommitCertificate, SealerSignature};
use aurum_storage::{KvStore, WriteBatch};
use crypto::{NodeCrypto, OwnProposal};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// Storage namespace of the persisted consensus record (one key per group).
pub const CONSENSUS_NAMESPACE: &str = "consensus";
/// Decided blocks sent to a lagging peer at once, and how often at most.
const CATCH_UP_BLOCKS: u64 = 8;
const CATCH_UP_EVERY: Duration = Duration::from_secs(1);
/// The consensus instance for one height range with a fixed sealer set.
struct Instance {
    pbft: Pbft,
    sealers: Vec<Sealer>,
    leader_period: u64,
    me: NodeIndex,
}

pub(crate) struct Driver {
    group: Arc<Group>,
    network: Arc<dyn PeerSender>,
    store: Arc<dyn KvStore>,
    key: KeyPair,
    options: Options,
    instance: Option<Instance>,
    /// Proposal requested by the state machine, answered once txs wait.
    pending_propose: Option<(u64, u64)>,
    /// Txs this node took from its pool for its own proposal, and the view it proposed in.
    taken: Vec<B256>,
    taken_view: u64,
    checked: HashMap<B256, CheckedBlock>,
    executed: HashMap<B256, ExecutedBlock>,
    /// Consensus time: advances only while there is work (waiting txs or an active round),
    /// so an idle chain never times out its leader.
    clock_ms: u64,
    last_tick: Instant,
    round_active: bool,
    /// Cached [`Driver::has_work`].
    work: bool,
    work_checked: Instant,
    /// When building a proposal last found nothing to propose.
    empty_build: Instant,
    /// When each peer was last sent blocks for catching up.
    catch_up_sent: HashMap<NodeIndex, Instant>,
    last_commit: Instant,
    /// Whether the head block holds txs (None: not read yet): a trailing empty block is due
    /// only after one that does.
    head_has_txs: Option<bool>,
    /// Shared with the instance's [`NodeCrypto`]: this node's latest own proposal.
    own_proposal: OwnProposal,
    /// Peers already reported as speaking another consensus wire version.
    wrong_wire: std::collections::HashSet<PublicKey>,
    /// When this height's phases happened (for the per-block timing log).
    phases: Phases,
    metrics: aurum_metrics::consensus::Consensus,
}

/// When the current height's proposal was checked, decided and executed.
#[derive(Default, Clone, Copy)]
struct Phases {
    validated: Option<Instant>,
    decided: Option<Instant>,
    executed: Option<Instant>,
}

fn ms(from: Option<Instant>, to: Option<Instant>) -> f64 {
    match (from, to) {
        (Some(a), Some(b)) => b.saturating_duration_since(a).as_secs_f64() * 1e3,
        _ => f64::NAN,
    }
}

impl Driver {
    pub(crate) fn new(
        group: Arc<Group>,
        network: Arc<dyn PeerSender>,
        store: Arc<dyn KvStore>,
        key: KeyPair,
        options: Options,
    ) -> Self {
        Driver {
            metrics: aurum_metrics::consensus::Consensus::new(group.id()),
            group,
            network,
            store,
            key,
            options,
            instance: None,
            pending_propose: None,
            taken: Vec::new(),
            taken_view: 0,
            checked: HashMap::new(),
            executed: HashMap::new(),
            clock_ms: 0,
            last_tick: Instant::now(),
            round_active: false,
            work: false,
            work_checked: Instant::now() - Duration::from_secs(1),
            empty_build: Instant::now() - Duration::from_secs(1),
            catch_up_sent: HashMap::new(),
            last_commit: Instant::now(),
            head_has_txs: None,
            wrong_wire: Default::default(),
            own_proposal: Default::default(),
            phases: Phases::default(),
        }
    }

    pub(crate) fn run(mut self, events: Receiver<Inbound>, stop: Arc<AtomicBool>) {
        while !stop.load(Ordering::Acquire) {
            match events.recv_timeout(self.next_wake()) {
                Ok(event) => {
                    self.on_event(event);
                    // Drain what else is queued before ticking.
                    for event in events.try_iter().take(1000) {
                        self.on_event(event);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if let Err(e) = self.housekeeping() {
                tracing::error!(group = self.group.id(), error = %e, "consensus driver");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        self.give_back_taken();
    }

    /// How long the loop may wait for a message: 10 ms, or less when a proposal is due
    /// sooner (the gathering window after the last block ends), so a lone sealer, which
    /// gets no messages, does not add a polling step to every block.
    fn next_wake(&self) -> Duration {
        const POLL: Duration = Duration::from_millis(10);
        let Some((height, _)) = self.pending_propose else { return POLL };
        let waiting = self.group.pool().waiting();
        if waiting == 0 {
            return POLL;
        }
        // A full block waits: propose now.
        let full = self.group.params(height).map_or(usize::MAX, |p| p.tx_count_limit as usize);
        if waiting >= full {
            return Duration::ZERO;
        }
        let gathered = self.last_commit.elapsed();
        self.options
            .min_seal_interval
            .saturating_sub(gathered)
            .clamp(Duration::from_millis(1), POLL)
    }

    fn on_event(&mut self, (from, payload): Inbound) {
        let Some(inst) = &self.instance else { return };
        let Some(index) = inst.sealers.iter().position(|s| s.node_id == from) else { return };
        let message = match Message::decode(&payload) {
            Ok(m) => m,
            // Another release's wire format: every message of that peer is lost, which an
            // operator must hear about (once per peer), unlike a stray bad frame.
            Err(e @ aurum_consensus::CodecError::WireVersion { .. }) => {
                if self.wrong_wire.insert(from) {
                    tracing::warn!(group = self.group.id(), peer = %from, error = %e, "peer speaks another consensus wire version: upgrade every node of the group together");
                }
                return;
            }
            Err(e) => {
                tracing::debug!(group = self.group.id(), peer = %from, error = %e, "bad consensus message");
                return;
            }
        };
        if message.height() >= inst.pbft.height() {
            self.round_active = true;
        }
        self.step(Input::Message { from: index as NodeIndex, message });
    }

    /// Keeps the instance in line with the ledger, advances time and answers a pending
    /// proposal request.
    fn housekeeping(&mut self) -> aurum_group::Result<()> {
        let next = self.group.ledger().head_number()? + 1;
        let stale = match &self.instance {
            None => true,
            Some(inst) => inst.pbft.height() != next,
        };
        if stale {
            self.rebuild(next)?;
        }
        let Some(inst) = &self.instance else { return Ok(()) };
        if !self.taken.is_empty() && inst.pbft.view() != self.taken_view {
            // Our proposal's view is over: its txs may go in the next one.
            self.give_back_taken();
        }
        let now = Instant::now();
        let elapsed = now.duration_since(self.last_tick).as_millis() as u64;
        if elapsed >= 20 {
            self.last_tick = now;
            if self.round_active || self.has_work() {
                self.clock_ms += elapsed;
            }
            self.step(Input::Tick { now_ms: self.clock_ms });
        }
        self.maybe_propose()?;
        Ok(())
    }

    /// Whether txs wait that a leader could propose (re-checked at most every 250 ms: the
    /// check reads account nonces).
    fn has_work(&mut self) -> bool {
        let pool = self.group.pool();
        if pool.waiting() == 0 {
            return self.trailing_block_due();
        }
        if self.work_checked.elapsed() >= Duration::from_millis(250) {
            self.work_checked = Instant::now();
            self.work = pool.has_ready(|a| pool.account_nonce(a).unwrap_or(0));
        }
        self.work
    }

    /// Whether a trailing empty block is due: the head block has txs, none is waiting, and
    /// `idle_block` has passed since it committed.
    fn trailing_block_due(&mut self) -> bool {
        let Some(idle) = self.options.idle_block else { return false };
        if self.last_commit.elapsed() < idle {
            return false;
        }
        if self.head_has_txs.is_none() {
            let ledger = self.group.ledger();
            let head = ledger.head_number().and_then(|n| ledger.block_tx_hashes(n));
            // Unreadable: no trailing block (the next commit sets it again).
            self.head_has_txs = Some(matches!(head, Ok(Some(h)) if !h.is_empty()));
        }
        self.head_has_txs == Some(true)
    }

    /// A new consensus instance at `height`: after a commit by sync, at start, or when the
    /// sealer set changes. None when this node does not seal at `height`.
    fn rebuild(&mut self, height: u64) -> aurum_group::Result<()> {
        self.give_back_taken();
        self.pending_propose = None;
        self.checked.clear();
        self.executed.clear();
        self.round_active = false;
        // Sync may have committed since: read the head block again when it matters.
        self.head_has_txs = None;
        let sealers = self.group.sealers(height)?;
        let me = self.key.public();
        let Some(index) = sealers.iter().position(|s| s.node_id == me) else {
            if self.instance.take().is_some() {
                tracing::info!(group = self.group.id(), height, "no longer a sealer: following");
            }
            return Ok(());
        };
        let leader_period = self.leader_period(height)?;
        let crypto = NodeCrypto {
            suite: Arc::clone(self.group.suite()),
            key: self.key.clone(),
            sealers: sealers.iter().map(|s| s.node_id).collect(),
            own: Arc::clone(&self.own_proposal),
        };
        let restored = match self.load_persisted() {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(group = self.group.id(), error = %e, "consensus record unreadable: not voting (following by sync)");
                self.instance = None;
                return Ok(());
            }
        };
        if let Some(r) = &restored
            && r.height > height
        {
            // We voted at a later height than the ledger holds (a commit failed, or the
            // ledger was restored): voting here again could contradict those votes. Follow
            // by sync until the ledger catches up.
            if self.instance.take().is_some() {
                tracing::warn!(
                    group = self.group.id(),
                    height,
                    voted_at = r.height,
                    "ledger behind our votes: following by sync"
                );
            }
            return Ok(());
        }
        let config = PbftConfig {
            validators: Validators {
                weights: sealers.iter().map(|s| s.weight).collect(),
                leader_period,
            },
            me: index as NodeIndex,
            base_timeout_ms: self.options.base_timeout_ms,
            start_height: height,
        };
        let pbft = Pbft::new(config, Box::new(crypto), restored);
        let was = self.instance.replace(Instance {
            pbft,
            sealers,
            leader_period,
            me: index as NodeIndex,
        });
        if was.is_none() {
            tracing::info!(group = self.group.id(), height, index, "sealing with PBFT");
        }
        let outputs = match &mut self.instance {
            Some(inst) => inst.pbft.start(self.clock_ms),
            None => Vec::new(),
        };
        self.run_outputs(outputs);
        Ok(())
    }

    fn leader_period(&self, height: u64) -> aurum_group::Result<u64> {
        Ok(self
            .group
            .ledger()
            .system_config_for_block("consensus_leader_period", height)?
            .and_then(|e| e.value.trim().parse::<u64>().ok())
            .unwrap_or(1)
            .max(1))
    }

    /// The persisted consensus record: Ok(None) if there is none; Err if it cannot be read,
    /// in which case voting would risk a double vote.
    fn load_persisted(&self) -> Result<Option<Persisted>, String> {
        match self.store.get(CONSENSUS_NAMESPACE, self.group.id().as_bytes()) {
            Ok(Some(bytes)) => Persisted::decode(&bytes).map(Some).map_err(|e| e.to_string()),
            Ok(None) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    fn step(&mut self, input: Input) {
        let Some(inst) = &mut self.instance else { return };
        let outputs = inst.pbft.step(input);
        self.run_outputs(outputs);
    }
}
