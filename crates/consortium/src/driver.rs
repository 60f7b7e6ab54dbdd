//! The PBFT driver: one thread per group that feeds the consensus state machine with
//! messages, time and the group's answers, and carries out what it asks (persist, send,
//! propose, validate, execute, commit).

use crate::PeerSender;
use crate::{Event, Options};
use alloy_primitives::{B256, Bytes};
use aurum_consensus::{
    Crypto, Decision, Input, Message, NodeIndex, Output, Pbft, PbftConfig, Persisted, Validators,
    Vote,
};
use aurum_crypto::{CryptoSuite, KeyPair, PublicKey};
use aurum_group::{CheckedBlock, ExecutedBlock, Group, Sealer, encode_proposal, proposal_digest};
use aurum_network::Module;
use aurum_primitives::{CommitCertificate, SealerSignature};
use aurum_storage::{KvStore, WriteBatch};
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

/// Signing and hashing for the state machine: the chain's suite and this node's key; the
/// digest of a payload is the proposal hash of the block it implies.
struct NodeCrypto {
    suite: Arc<dyn CryptoSuite>,
    key: KeyPair,
    sealers: Vec<PublicKey>,
    /// The digest of this node's own latest proposal, known when it was built: the state
    /// machine asks for it right away, and decoding and hashing every tx again would only
    /// repeat what building did.
    own: OwnProposal,
}

/// (payload, digest) of the proposal this node built last.
type OwnProposal = Arc<std::sync::Mutex<Option<(Bytes, B256)>>>;

impl Crypto for NodeCrypto {
    fn hash(&self, data: &[u8]) -> B256 {
        self.suite.hash(data)
    }
    fn digest(&self, payload: &[u8]) -> B256 {
        if let Ok(own) = self.own.lock()
            && let Some((built, digest)) = own.as_ref()
            && built.as_ref() == payload
        {
            return *digest;
        }
        proposal_digest(&*self.suite, payload)
    }
    fn sign(&self, digest: &B256) -> Bytes {
        Bytes::from(self.suite.sign(&self.key, digest))
    }
    fn verify(&self, node: NodeIndex, digest: &B256, sig: &[u8]) -> bool {
        self.sealers.get(node as usize).is_some_and(|pk| self.suite.verify(pk, digest, sig).is_ok())
    }
}

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

    pub(crate) fn run(mut self, events: Receiver<Event>, stop: Arc<AtomicBool>) {
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

    fn on_event(&mut self, event: Event) {
        let Event::Consensus { from, payload } = event;
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

    fn run_outputs(&mut self, outputs: Vec<Output>) {
        let mut queue: VecDeque<Output> = outputs.into();
        while let Some(output) = queue.pop_front() {
            let more = self.carry_out(output);
            queue.extend(more);
        }
    }

    /// Carries out one output; returns what the state machine said in answer.
    fn carry_out(&mut self, output: Output) -> Vec<Output> {
        let Some(inst) = &mut self.instance else { return Vec::new() };
        let group_id = self.group.id().to_string();
        match output {
            Output::Persist(record) => {
                // The record exists so that a restarted node never contradicts votes others
                // hold. A lone sealer's votes reach no one: nothing it voted can be
                // contradicted, so it keeps no record (the block is durable by the ledger's
                // commit; after a restart it simply proposes afresh).
                if inst.sealers.len() == 1 {
                    return Vec::new();
                }
                let mut batch = WriteBatch { durable: true, ..Default::default() };
                batch.put(CONSENSUS_NAMESPACE, group_id.into_bytes(), record.encode());
                if let Err(e) = self.store.write(batch) {
                    // Sending a vote we could not persist could make us vote twice after a
                    // restart: stop here rather than risk it.
                    tracing::error!(group = self.group.id(), error = %e, "cannot persist consensus state; stopping this node's consensus");
                    self.instance = None;
                }
                Vec::new()
            }
            Output::Broadcast(message) => {
                let payload = bytes::Bytes::from(message.encode());
                for (i, s) in inst.sealers.iter().enumerate() {
                    if i as NodeIndex != inst.me {
                        self.network.send(
                            &s.node_id,
                            &group_id,
                            Module::Consensus,
                            payload.clone(),
                        );
                    }
                }
                Vec::new()
            }
            Output::Send { to, message } => {
                if let Some(s) = inst.sealers.get(to as usize) {
                    let payload = bytes::Bytes::from(message.encode());
                    self.network.send(&s.node_id, &group_id, Module::Consensus, payload);
                }
                Vec::new()
            }
            Output::Propose { height, view } => {
                self.pending_propose = Some((height, view));
                Vec::new()
            }
            Output::Validate { height, view, digest, payload } => {
                // Our own proposal was checked as it was built.
                if self.checked.contains_key(&digest) {
                    self.phases.validated.get_or_insert_with(Instant::now);
                    return inst.pbft.step(Input::Validated { height, view, digest, valid: true });
                }
                let valid = match self.group.check_proposal(&payload) {
                    Ok(block) => {
                        self.checked.insert(digest, block);
                        self.phases.validated.get_or_insert_with(Instant::now);
                        true
                    }
                    // Not on our head: sync or a commit moved the ledger meanwhile (a node
                    // rejoining), not a faulty leader.
                    Err(e @ aurum_group::BlockRejected::NotNext { .. }) => {
                        tracing::debug!(group = self.group.id(), height, view, error = %e, "proposal not on our head");
                        false
                    }
                    Err(e) => {
                        tracing::warn!(group = self.group.id(), height, view, error = %e, "refused a proposal");
                        false
                    }
                };
                inst.pbft.step(Input::Validated { height, view, digest, valid })
            }
            Output::Execute { height, digest, payload } => {
                self.phases.decided = Some(Instant::now());
                let checked = match self.checked.remove(&digest) {
                    Some(block) => Ok(block),
                    None => self.group.check_proposal(&payload),
                };
                let executed = checked
                    .map_err(|e| e.to_string())
                    .and_then(|b| self.group.execute_checked(&b).map_err(|e| e.to_string()));
                match executed {
                    Ok(block) => {
                        let block_hash = block.hash;
                        self.executed.insert(digest, block);
                        self.phases.executed = Some(Instant::now());
                        inst.pbft.step(Input::Executed { height, digest, block_hash })
                    }
                    Err(e) => {
                        // Sync may have committed this height while consensus decided it
                        // (a node rejoining): nothing is wrong then.
                        let head = self.group.ledger().head_number().unwrap_or(0);
                        if head >= height {
                            tracing::debug!(
                                group = self.group.id(),
                                height,
                                head,
                                "decided block already committed by sync"
                            );
                        } else {
                            tracing::error!(group = self.group.id(), height, head, error = %e, "cannot execute a decided block; following by sync");
                        }
                        Vec::new()
                    }
                }
            }
            Output::Commit(decision) => {
                self.commit(decision);
                Vec::new()
            }
            Output::ViewChanged { height, view } => {
                tracing::info!(group = self.group.id(), height, view, "view change");
                self.metrics.view_changed(view);
                self.pending_propose = None;
                self.give_back_taken();
                Vec::new()
            }
            Output::CatchUp { peer, from_height } => {
                // Blocks from the ledger at most once a second per peer: a small stale
                // message must not buy a faulty peer megabytes on demand.
                let due =
                    self.catch_up_sent.get(&peer).is_none_or(|at| at.elapsed() >= CATCH_UP_EVERY);
                if due && let Some(s) = inst.sealers.get(peer as usize) {
                    let to = s.node_id;
                    self.catch_up_sent.insert(peer, Instant::now());
                    self.send_decided(&to, from_height);
                }
                Vec::new()
            }
        }
    }

    fn commit(&mut self, decision: Decision) {
        let Some(block) = self.executed.remove(&decision.digest) else {
            let head = self.group.ledger().head_number().unwrap_or(0);
            if head >= decision.height {
                tracing::debug!(
                    group = self.group.id(),
                    height = decision.height,
                    "decided block already committed by sync"
                );
            } else {
                tracing::warn!(
                    group = self.group.id(),
                    height = decision.height,
                    head,
                    "decided block was not executed here; following by sync"
                );
            }
            return;
        };
        let certificate = CommitCertificate {
            block_hash: decision.block_hash,
            signatures: decision
                .certificate
                .iter()
                .map(|v| SealerSignature { sealer_index: v.node, signature: v.sig.clone() })
                .collect(),
        };
        let certified = Instant::now();
        match self.group.commit_executed(&block, &certificate) {
            Ok(_) => {
                // Where a height's time goes: gathering txs and the proposal's trip, the
                // prepare/commit rounds, execution, the checkpoint round, the ledger write.
                let p = self.phases;
                tracing::debug!(
                    group = self.group.id(),
                    number = decision.height,
                    txs = block.txs.len(),
                    until_validated_ms = ms(Some(self.last_commit), p.validated),
                    agree_ms = ms(p.validated, p.decided),
                    execute_ms = ms(p.decided, p.executed),
                    checkpoint_ms = ms(p.executed, Some(certified)),
                    commit_ms = ms(Some(certified), Some(Instant::now())),
                    "committed block"
                );
                self.metrics.committed(&aurum_metrics::consensus::Committed {
                    txs: block.txs.len(),
                    since: self.last_commit,
                    marks: [p.validated, p.decided, p.executed, Some(certified)],
                    sealers: self.instance.as_ref().map_or(0, |i| i.sealers.len()),
                    view: self.instance.as_ref().map_or(0, |i| i.pbft.view()),
                    signatures: certificate.signatures.len(),
                });
            }
            Err(e) => {
                // The state machine has moved on (and persisted so); the ledger has not.
                // Rebuilding sees the record ahead of the ledger and follows by sync.
                tracing::error!(group = self.group.id(), number = decision.height, error = %e, "commit failed");
                self.metrics.commit_failed();
                self.instance = None;
                self.give_back_taken();
                return;
            }
        }
        self.give_back_taken();
        self.checked.clear();
        self.executed.clear();
        self.pending_propose = None;
        self.round_active = false;
        self.last_commit = Instant::now();
        self.head_has_txs = Some(!block.txs.is_empty());
        self.phases = Phases::default();
        // The sealer set may change from the next height on (the Consensus precompile).
        let next = decision.height + 1;
        let changed = match (&self.instance, self.group.sealers(next), self.leader_period(next)) {
            (Some(inst), Ok(sealers), Ok(period)) => {
                inst.sealers != sealers || inst.leader_period != period
            }
            _ => true,
        };
        if changed && let Err(e) = self.rebuild(next) {
            tracing::error!(group = self.group.id(), error = %e, "switching sealer set");
        }
    }

    /// Txs taken for a proposal that did not commit go back to the pool (committed ones
    /// already left it).
    fn give_back_taken(&mut self) {
        if !self.taken.is_empty() {
            self.group.pool().return_batch(std::mem::take(&mut self.taken));
        }
    }

    fn maybe_propose(&mut self) -> aurum_group::Result<()> {
        let Some((height, view)) = self.pending_propose else { return Ok(()) };
        let Some(inst) = &self.instance else { return Ok(()) };
        if inst.pbft.height() != height || inst.pbft.view() != view {
            self.pending_propose = None;
            return Ok(());
        }
        let me = inst.me;
        let waiting = self.group.pool().waiting();
        // After a view change the new leader must propose something, or the view change
        // never completes: an empty block if no tx waits. So must a leader whose chain went
        // idle after a block with txs (one trailing empty block).
        let must = view > 0 || (waiting == 0 && self.trailing_block_due());
        if waiting == 0 && !must {
            return Ok(());
        }
        // Gather txs for up to min_seal_interval after the last block unless a block is full.
        let full = self.group.params(height)?.tx_count_limit as usize;
        if waiting < full && self.last_commit.elapsed() < self.options.min_seal_interval {
            return Ok(());
        }
        // Nothing proposable last time (e.g. only nonce-gapped txs): do not rescan the pool
        // on every loop.
        if self.empty_build.elapsed() < Duration::from_millis(100) {
            return Ok(());
        }
        let Some(built) = self.group.build_checked_proposal(height, me, must)? else {
            self.empty_build = Instant::now();
            return Ok(());
        };
        self.pending_propose = None;
        self.give_back_taken();
        let payload = Bytes::from(built.payload);
        if let Ok(mut own) = self.own_proposal.lock() {
            *own = Some((payload.clone(), built.digest));
        }
        self.checked.insert(built.digest, built.block);
        self.taken = built.hashes;
        self.taken_view = view;
        self.round_active = true;
        self.step(Input::Proposal { height, view, payload });
        Ok(())
    }

    /// Sends decided blocks from the ledger to a peer stuck at `from_height`.
    fn send_decided(&self, to: &PublicKey, from_height: u64) {
        let ledger = self.group.ledger();
        let Ok(head) = ledger.head_number() else { return };
        let last = head.min(from_height + CATCH_UP_BLOCKS - 1);
        for number in from_height..=last {
            let (Ok(Some(block)), Ok(Some(cert))) =
                (ledger.block(number), ledger.certificate(number))
            else {
                return;
            };
            let suite = &**self.group.suite();
            let decision = Decision {
                height: number,
                digest: block.header.proposal_hash(suite),
                payload: Bytes::from(encode_proposal(&block.header, &block.txs)),
                block_hash: cert.block_hash,
                certificate: cert
                    .signatures
                    .iter()
                    .map(|s| Vote { node: s.sealer_index, sig: s.signature.clone() })
                    .collect(),
            };
            let payload = bytes::Bytes::from(Message::Decided(decision).encode());
            self.network.send(to, self.group.id(), Module::Consensus, payload);
        }
    }
}
