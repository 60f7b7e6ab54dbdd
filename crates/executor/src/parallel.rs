//! Parallel block execution whose result is, by construction, the serial one.
//!
//! Transactions commit strictly in block order into the block's view. What runs in
//! parallel is *speculation*: a round runs a set of ready transactions at once, each over a
//! read-only snapshot of the block's view as of the round's start ([`StateDb::speculative`]),
//! recording every key it reads. When its turn comes, a speculative result is kept only if
//! no transaction committed since its snapshot wrote any key it read (the snapshot it saw
//! is then exactly the state serial execution gives it); otherwise it runs again, serially,
//! on the block's view. Which transactions are speculated only changes the speed.
//!
//! Which transactions a round takes ([`Plan`]):
//! - declared conflict keys (ParallelConfig functions, DagTransfer, a native tx's
//!   `conflict_keys`) and the sender (its nonce) order transactions into a DAG: a
//!   transaction is ready once every earlier one sharing a key has committed;
//! - undeclared transactions are speculated optimistically, a window at a time that
//!   shrinks when speculation keeps failing (a block of conflicting transactions then runs
//!   serially, probing again now and then) and grows while it succeeds.

use crate::block::{self, AurumEvm, Effects};
use crate::deadline::StepBudget;
use crate::precompiles::registry::{Conflicts, Rules};
use crate::precompiles::{PrecompileEnv, parallel_config};
use crate::state_db::{ReadSet, SHADOW, StateDb};
use crate::{BlockContext, ExecError};
use alloy_primitives::map::{AddressMap, HashMap};
use alloy_primitives::{Address, B256};
use aurum_primitives::state::parallel_function_key;
use aurum_primitives::{Receipt, VerifiedTx};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// How a block's transactions are scheduled. Every mode gives byte-identical results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExecMode {
    /// One after the other.
    Serial,
    /// Declared conflict keys only: undeclared transactions run alone, as barriers.
    Dag,
    /// Speculate everything, ignoring declarations (senders still order their own txs).
    Optimistic,
    /// Declared transactions by their DAG, the others optimistically.
    #[default]
    Auto,
}

impl std::str::FromStr for ExecMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "serial" => Ok(Self::Serial),
            "dag" => Ok(Self::Dag),
            "optimistic" => Ok(Self::Optimistic),
            "auto" => Ok(Self::Auto),
            other => Err(format!(
                "unknown execution mode {other:?} (expected serial, dag, optimistic or auto)"
            )),
        }
    }
}

impl std::fmt::Display for ExecMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Serial => "serial",
            Self::Dag => "dag",
            Self::Optimistic => "optimistic",
            Self::Auto => "auto",
        })
    }
}

/// What a block's parallel execution did, for benchmarks and logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParallelStats {
    /// Speculative results kept.
    pub kept: usize,
    /// Speculative results discarded and run again in order.
    pub rerun: usize,
    /// Run in order without speculation.
    pub direct: usize,
    /// Speculation rounds.
    pub rounds: usize,
    /// Wall time spent speculating (all threads at once), and committing in order
    /// (validation, applying kept results, re-running and running the rest).
    pub speculate: std::time::Duration,
    pub commit: std::time::Duration,
}

/// The scheduling plan of a block: for each transaction, the latest earlier transaction it
/// must wait for, and whether its conflicts were declared.
pub(crate) struct Plan {
    pub after: Vec<Option<usize>>,
    pub declared: Vec<bool>,
}

impl Plan {
    /// `keys[j]`: the declared conflict keys of tx `j` (`None`: undeclared).
    ///
    /// Keys are compared by a 64-bit hash: a collision only orders two transactions that
    /// need not be, it never changes a result (validation decides that).
    pub(crate) fn build(txs: &[VerifiedTx], keys: Vec<Option<Vec<u64>>>, mode: ExecMode) -> Self {
        let mut last: HashMap<u64, usize> = HashMap::default();
        let mut barrier: Option<usize> = None;
        let mut after = Vec::with_capacity(txs.len());
        let mut declared = Vec::with_capacity(txs.len());
        for (j, (tx, keys)) in txs.iter().zip(keys).enumerate() {
            let keys = if mode == ExecMode::Optimistic { None } else { keys };
            let mut dep = barrier;
            let sender = key_hash(&[b"sender", tx.sender.as_slice()]);
            for key in std::iter::once(sender).chain(keys.iter().flatten().copied()) {
                if let Some(&i) = last.get(&key) {
                    dep = dep.max(Some(i));
                }
                last.insert(key, j);
            }
            if mode == ExecMode::Dag && keys.is_none() {
                dep = j.checked_sub(1);
                barrier = Some(j);
            }
            after.push(dep);
            declared.push(keys.is_some() || mode == ExecMode::Dag);
        }
        Self { after, declared }
    }
}

/// A scheduling key: a hash of its parts (SipHash with fixed keys: the same plan on every
/// run and node, which only matters for reproducible statistics).
fn key_hash(parts: &[&[u8]]) -> u64 {
    use std::hash::Hasher;
    let mut h = std::hash::DefaultHasher::new();
    for p in parts {
        h.write(p);
        h.write_u8(0xff);
    }
    h.finish()
}

/// The conflict keys `tx` declares, scoped to the contract it calls: a native tx's own
/// `conflict_keys`, a precompile's own (DagTransfer's user names), or the critical
/// arguments of a function registered with ParallelConfig (as of the parent state).
/// `None`: undeclared.
pub(crate) fn declared_keys(
    db: &mut StateDb<'_>,
    rules: &Rules,
    tx: &VerifiedTx,
) -> Result<Option<Vec<u64>>, ExecError> {
    let Some(to) = tx.to() else { return Ok(None) };
    let scoped = |keys: Vec<Vec<u8>>| -> Vec<u64> {
        keys.iter().map(|key| key_hash(&[b"declared", to.as_slice(), key])).collect()
    };
    if !tx.tx.conflict_keys().is_empty() {
        return Ok(Some(scoped(tx.tx.conflict_keys().iter().map(|k| k.to_vec()).collect())));
    }
    let input = tx.input();
    if let Some(entry) = rules.lookup(&to)
        && let Conflicts::Own(keys) = entry.precompile.conflicts(input)
    {
        return Ok(keys.map(scoped));
    }
    let Some((selector, args)) = input.split_first_chunk::<4>() else { return Ok(None) };
    let declaration = db.raw_get(&parallel_function_key(&to, *selector)).map_err(|e| e.0)?;
    Ok(declaration.and_then(|d| parallel_config::conflict_keys(&d, args)).map(scoped))
}

/// The position of the last committed transaction that wrote each key.
#[derive(Default)]
struct WriteLog {
    accounts: AddressMap<usize>,
    slots: HashMap<(Address, B256), usize>,
    raw: BTreeMap<Vec<u8>, usize>,
}

impl WriteLog {
    /// Records what `effects` will write, before they are applied to `db` (account changes
    /// are judged against the account as `db` holds it).
    fn record(&mut self, db: &StateDb<'_>, effects: &Effects, index: usize) {
        match effects {
            Effects::None => {}
            Effects::BumpNonce(sender) => {
                self.accounts.insert(*sender, index);
            }
            Effects::Evm { state, tx_writes } => {
                for (address, account) in state {
                    if *address == SHADOW {
                        for (key, _) in tx_writes {
                            self.raw.insert(key.clone(), index);
                        }
                        continue;
                    }
                    if !account.is_touched() {
                        continue;
                    }
                    // As `StateDb::fold` judges it: a touched empty account is written only
                    // if it existed (EIP-161 removes it), e.g. not a called precompile.
                    let old = db.current_account(address);
                    let written = if account.is_selfdestructed() || account.is_created() {
                        true
                    } else if account.is_empty() {
                        old.is_some()
                    } else {
                        old.is_none_or(|old| {
                            old.nonce != account.info.nonce
                                || old.balance != account.info.balance
                                || old.code_hash != account.info.code_hash
                        })
                    };
                    if written {
                        self.accounts.insert(*address, index);
                    }
                    for (slot, value) in &account.storage {
                        if value.is_changed() {
                            self.slots.insert((*address, B256::from(*slot)), index);
                        }
                    }
                }
            }
        }
    }

    /// Whether nothing committed at position `since` or later wrote what `reads` read.
    fn unchanged_since(&self, reads: &ReadSet, since: usize) -> bool {
        let fresh = |i: Option<&usize>| i.is_none_or(|i| *i < since);
        reads.accounts.iter().all(|(a, _)| fresh(self.accounts.get(a)))
            && reads.slots.iter().all(|(a, s, _)| fresh(self.slots.get(&(*a, *s))))
            && reads.raw.iter().all(|(k, _)| fresh(self.raw.get(k)))
            && reads.scans.iter().all(|prefix| {
                self.raw
                    .range(prefix.clone()..)
                    .take_while(|(k, _)| k.starts_with(prefix))
                    .all(|(_, i)| *i < since)
            })
    }
}

/// A transaction run over a snapshot of the block's view taken before position `base`.
struct Speculated {
    base: usize,
    receipt: Receipt,
    effects: Effects,
    reads: ReadSet,
    /// Stopped at its step budget: the result is discarded and the tx runs in order.
    abandoned: bool,
}

/// Instructions each speculative tx of a round of `round_len` may run before it is
/// abandoned (and run in order instead). A round then costs at most about the gas the
/// block has left (an instruction costs at least one gas, bar STOP), never `round_len`
/// times a looping tx's gas cap: speculation cannot multiply the work the block gas limit
/// bounds. Ordinary txs run a few thousand instructions, far below the floor.
fn speculation_steps(ctx: &BlockContext, gas_used: u64, round_len: usize) -> u64 {
    const FLOOR: u64 = 200_000;
    let left = ctx.block_gas_limit.saturating_sub(gas_used);
    (left / round_len.max(1) as u64).max(FLOOR)
}

/// At most this many transactions are speculated in one round (bounds memory).
const ROUND_CAP: usize = 4096;
/// Undeclared transactions speculated at once, at first and at most.
pub(crate) const FIRST_WINDOW: usize = 64;
const MAX_WINDOW: usize = 1024;
/// After this many transactions run in order, speculation is tried again on a few.
const PROBE_AFTER: usize = 256;
const PROBE_WINDOW: usize = 2;

/// Transactions whose declared predecessors have all committed, not yet speculated.
struct ReadyPool {
    declared: BTreeSet<usize>,
    undeclared: BTreeSet<usize>,
    /// `waiting[i]`: transactions that become ready when `i` commits.
    waiting: Vec<Vec<usize>>,
}

impl ReadyPool {
    fn new(plan: &Plan) -> Self {
        let n = plan.after.len();
        let mut pool = Self {
            declared: BTreeSet::new(),
            undeclared: BTreeSet::new(),
            waiting: vec![Vec::new(); n],
        };
        for j in 0..n {
            match plan.after[j] {
                Some(i) => pool.waiting[i].push(j),
                None => pool.add(plan, j),
            }
        }
        pool
    }

    fn add(&mut self, plan: &Plan, j: usize) {
        if plan.declared[j] {
            self.declared.insert(j);
        } else {
            self.undeclared.insert(j);
        }
    }

    /// `i` committed: what waited on it is ready.
    fn committed(&mut self, plan: &Plan, i: usize) {
        for j in std::mem::take(&mut self.waiting[i]) {
            self.add(plan, j);
        }
    }

    /// The next round: every ready declared transaction, and the ready undeclared ones
    /// below `limit`, in block order, at most [`ROUND_CAP`].
    fn take_round(&mut self, limit: usize) -> Vec<usize> {
        let mut round: Vec<usize> = self.declared.iter().copied().take(ROUND_CAP).collect();
        let room = ROUND_CAP - round.len();
        round.extend(self.undeclared.range(..limit).copied().take(room));
        for j in &round {
            self.declared.remove(j);
            self.undeclared.remove(j);
        }
        round.sort_unstable();
        round
    }
}

/// Executes `txs` on `evm` (the block's EVM) per `plan`, speculating on `pool`. `window` is
/// the optimistic window to start from; it comes back as the block left it, so a stream
/// of conflicting blocks stays serial.
pub(crate) fn execute(
    evm: &mut AurumEvm<'_>,
    ctx: &BlockContext,
    env: &PrecompileEnv,
    txs: &[VerifiedTx],
    plan: &Plan,
    pool: &rayon::ThreadPool,
    window: &mut usize,
) -> Result<(Vec<Receipt>, ParallelStats), ExecError> {
    let n = txs.len();
    let mut speculated: Vec<Option<Speculated>> = (0..n).map(|_| None).collect();
    let mut outstanding = 0usize;
    let mut receipts = Vec::with_capacity(n);
    let mut log = WriteLog::default();
    let mut stats = ParallelStats::default();
    let mut ready = ReadyPool::new(plan);
    let mut since_probe = 0usize;
    let mut next = 0usize;
    // Cumulative gas of the committed txs: the block gas limit is judged at commit time,
    // in block order, so the cut falls where serial execution puts it.
    let mut gas_used = 0u64;
    while next < n {
        if gas_used >= ctx.block_gas_limit {
            // The block is full: the rest is not run, whatever was speculated.
            let started = std::time::Instant::now();
            for tx in &txs[next..] {
                let (receipt, effects) = block::skip(evm, tx, ctx, gas_used)?;
                commit(evm, None, effects, next)?;
                receipts.push(receipt);
                stats.direct += 1;
                next += 1;
            }
            stats.commit += started.elapsed();
            break;
        }
        let started = std::time::Instant::now();
        let round = ready.take_round(next + *window);
        if round.len() <= 1 {
            // Only the next transaction can run: no point speculating. Its writes matter
            // only to speculative results taken before it, if any are waiting.
            let (receipt, effects) = block::run_tx(evm, ctx, &txs[next], false)?;
            commit(evm, (outstanding > 0).then_some(&mut log), effects, next)?;
            gas_used = gas_used.saturating_add(receipt.gas_used);
            receipts.push(receipt);
            ready.committed(plan, next);
            stats.direct += 1;
            stats.commit += started.elapsed();
            next += 1;
            since_probe += 1;
            if since_probe >= PROBE_AFTER {
                *window = (*window).max(PROBE_WINDOW);
                since_probe = 0;
            }
            continue;
        }
        stats.rounds += 1;
        let base: &StateDb<'_> = block::db_ref(evm);
        let steps = speculation_steps(ctx, gas_used, round.len());
        let results: Vec<Result<(usize, Speculated), ExecError>> = pool.install(|| {
            round
                .par_iter()
                .map_init(
                    || {
                        let budget = StepBudget::new(steps);
                        block::build_evm_with(StateDb::speculative(base), ctx, env.clone(), budget)
                    },
                    |sevm, &j| {
                        block::db(sevm).reset_speculative();
                        sevm.inspector.reset();
                        let (receipt, effects) = block::run_tx(sevm, ctx, &txs[j], true)?;
                        let reads = block::db(sevm).reads.take().unwrap_or_default();
                        let abandoned = sevm.inspector.exhausted();
                        Ok((j, Speculated { base: next, receipt, effects, reads, abandoned }))
                    },
                )
                .collect()
        });
        for result in results {
            let (j, s) = result?;
            speculated[j] = Some(s);
            outstanding += 1;
        }
        let speculated_at = std::time::Instant::now();
        stats.speculate += speculated_at - started;
        let (mut kept, mut rerun) = (0usize, 0usize);
        while next < n
            && gas_used < ctx.block_gas_limit
            && let Some(s) = speculated[next].take()
        {
            outstanding -= 1;
            let receipt = if !s.abandoned && log.unchanged_since(&s.reads, s.base) {
                block::db(evm).absorb(s.reads);
                commit(evm, Some(&mut log), s.effects, next)?;
                kept += 1;
                s.receipt
            } else {
                let (receipt, effects) = block::run_tx(evm, ctx, &txs[next], false)?;
                commit(evm, Some(&mut log), effects, next)?;
                rerun += 1;
                receipt
            };
            gas_used = gas_used.saturating_add(receipt.gas_used);
            receipts.push(receipt);
            ready.committed(plan, next);
            next += 1;
        }
        if outstanding == 0 {
            // Every later speculation starts from here: older writes cannot matter.
            log = WriteLog::default();
        }
        stats.kept += kept;
        stats.rerun += rerun;
        stats.commit += speculated_at.elapsed();
        if rerun * 4 > kept + rerun {
            *window = (*window / 2).max(1);
        } else if rerun * 8 <= kept + rerun {
            *window = (*window * 2).min(MAX_WINDOW);
        }
    }
    Ok((receipts, stats))
}

fn commit(
    evm: &mut AurumEvm<'_>,
    log: Option<&mut WriteLog>,
    effects: Effects,
    index: usize,
) -> Result<(), ExecError> {
    let db = block::db(evm);
    if let Some(log) = log {
        log.record(db, &effects, index);
    }
    block::apply(db, effects).map_err(|e| ExecError::State(e.0))
}
