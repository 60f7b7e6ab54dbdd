//! The block's view of state: revm's [`Database`] over a [`StateReader`] with a cache that
//! holds the parent state as read plus every write of the block's earlier transactions.
//!
//! Reads go to storage at most once per key and block; after each transaction its revm
//! state changes are folded in ([`StateDb::fold`]) so the next one sees them, and the
//! block's [`StateDiff`] is built once at the end from what was marked dirty
//! ([`StateDb::into_diff`], in `diff.rs`).
//!
//! Precompile data (tables, system config, node list) are plain state keys. Within a
//! transaction they are journaled through revm (see [`crate::precompiles::kv`]) so a revert
//! undoes them; between transactions they live in `raw_overlay`.

use crate::code_cache::CodeCache;
use alloy_primitives::map::{AddressMap, AddressSet, B256Map, B256Set, HashMap};
use alloy_primitives::{Address, B256, U256};
use aurum_primitives::state::{self, StateError, StateReader};
use revm::bytecode::Bytecode;
use revm::database_interface::{DBErrorMarker, Database};
use revm::primitives::KECCAK_EMPTY;
use revm::state::{AccountInfo as EvmAccountInfo, EvmState};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The account that journals precompile writes inside a transaction (its storage maps
/// `keccak(state key)` to an index into [`StateDb::tx_writes`]). It is never written to
/// the state diff. It sits in the reserved platform range.
pub(crate) const SHADOW: Address =
    Address::new([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0xfe]);

/// Key-value pairs as a prefix scan returns them.
type Rows = Vec<(Vec<u8>, Vec<u8>)>;

/// A state read failure as revm's database error.
#[derive(Debug, Clone, thiserror::Error)]
#[error(transparent)]
pub struct DbError(#[from] pub StateError);

impl DBErrorMarker for DbError {}

/// Per-account storage as seen by the block.
#[derive(Default)]
struct SlotCache {
    /// Slot (big-endian) → value.
    slots: B256Map<U256>,
    /// Slots written by this block.
    dirty: B256Set,
}

/// Outcome hints a precompile leaves for the receipt of a top-level call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatusHint {
    PermissionDenied,
    PrecompileError,
}

/// What a speculative transaction read from the state below it (the block's committed
/// view, then storage), with the values it saw: validation checks the keys, and a valid
/// result's values seed the block's caches exactly as a serial run would have.
#[derive(Default)]
pub(crate) struct ReadSet {
    pub accounts: Vec<(Address, Option<EvmAccountInfo>)>,
    pub slots: Vec<(Address, B256, U256)>,
    pub raw: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// Prefixes scanned.
    pub scans: Vec<Vec<u8>>,
}

pub(crate) struct StateDb<'a> {
    reader: &'a dyn StateReader,
    /// A speculative view reads through the block's view as of its round (never writes it).
    base: Option<&'a StateDb<'a>>,
    /// Recorded only in speculative views.
    pub(crate) reads: Option<ReadSet>,
    block_hashes: &'a BTreeMap<u64, B256>,
    code_cache: Arc<CodeCache>,
    /// Current (post previous txs) account info; `None` = absent.
    accounts: AddressMap<Option<EvmAccountInfo>>,
    storage: AddressMap<SlotCache>,
    /// Precompile keys read from storage (parent state).
    raw_cache: HashMap<Vec<u8>, Option<Vec<u8>>>,
    /// Prefix scans of the parent state (immutable for the block, so cacheable), with
    /// whether the scan holds every row (a bounded scan may have stopped early).
    scan_cache: HashMap<Vec<u8>, (Arc<Rows>, bool)>,
    /// Precompile keys written by earlier txs of this block.
    pub(crate) raw_overlay: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    pub(crate) dirty_accounts: AddressSet,
    /// Accounts destroyed in this block: all their parent-state storage is deleted.
    pub(crate) wiped: AddressSet,
    pub(crate) new_code: B256Map<Bytecode>,
    /// Precompile writes of the current tx, in order; journaled by index through [`SHADOW`].
    pub(crate) tx_writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// A backend error met inside a precompile (revm only carries strings from there).
    pub(crate) precompile_failure: Option<StateError>,
    pub(crate) status_hint: Option<StatusHint>,
}

impl<'a> StateDb<'a> {
    pub(crate) fn new(
        reader: &'a dyn StateReader,
        code_cache: Arc<CodeCache>,
        block_hashes: &'a BTreeMap<u64, B256>,
    ) -> Self {
        Self {
            reader,
            base: None,
            reads: None,
            block_hashes,
            code_cache,
            accounts: AddressMap::default(),
            storage: AddressMap::default(),
            raw_cache: HashMap::default(),
            scan_cache: HashMap::default(),
            raw_overlay: BTreeMap::new(),
            dirty_accounts: AddressSet::default(),
            wiped: AddressSet::default(),
            new_code: B256Map::default(),
            tx_writes: Vec::new(),
            precompile_failure: None,
            status_hint: None,
        }
    }

    /// A speculative view over `base` (the block's view between two of its transactions)
    /// that records what it reads.
    pub(crate) fn speculative(base: &'a StateDb<'a>) -> Self {
        let mut db = Self::new(base.reader, Arc::clone(&base.code_cache), base.block_hashes);
        db.base = Some(base);
        db.reads = Some(ReadSet::default());
        db
    }

    /// Empties a speculative view for the next transaction, keeping its allocations.
    pub(crate) fn reset_speculative(&mut self) {
        self.accounts.clear();
        self.storage.clear();
        self.raw_cache.clear();
        self.scan_cache.clear();
        self.raw_overlay.clear();
        self.dirty_accounts.clear();
        self.wiped.clear();
        self.new_code.clear();
        self.tx_writes.clear();
        self.precompile_failure = None;
        self.status_hint = None;
        self.reads = Some(ReadSet::default());
    }

    /// Seeds the caches with what a validated speculative run read (values still current,
    /// so this is what a serial run would have cached); entries already cached win.
    pub(crate) fn absorb(&mut self, reads: ReadSet) {
        for (address, info) in reads.accounts {
            self.accounts.entry(address).or_insert(info);
        }
        for (address, slot, value) in reads.slots {
            self.storage.entry(address).or_default().slots.entry(slot).or_insert(value);
        }
        for (key, value) in reads.raw {
            if !self.raw_overlay.contains_key(&key) {
                self.raw_cache.entry(key).or_insert(value);
            }
        }
    }

    pub(crate) fn reader(&self) -> &'a dyn StateReader {
        self.reader
    }

    /// Clears the per-transaction scratch state.
    pub(crate) fn begin_tx(&mut self) {
        self.tx_writes.clear();
        self.precompile_failure = None;
        self.status_hint = None;
    }

    /// The account as the current transaction starts from it.
    pub(crate) fn account(&mut self, address: Address) -> Result<Option<EvmAccountInfo>, DbError> {
        if let Some(info) = self.accounts.get(&address) {
            return Ok(info.clone());
        }
        let mut info = match self.base.and_then(|b| b.accounts.get(&address)) {
            Some(info) => info.clone(),
            None => self.load_account(&address)?,
        };
        if self.base.is_some()
            && let Some(info) = &mut info
            && let Some(code) = &info.code
        {
            info.code = Some(thread_local_code(info.code_hash, code));
        }
        if let Some(reads) = &mut self.reads {
            reads.accounts.push((address, info.clone()));
        }
        self.accounts.insert(address, info.clone());
        Ok(info)
    }

    fn load_account(&mut self, address: &Address) -> Result<Option<EvmAccountInfo>, DbError> {
        let Some(bytes) = self.reader.get(&state::account_key(address))? else {
            return Ok(None);
        };
        let stored = state::AccountInfo::decode(&bytes).map_err(|e| {
            StateError(format!("account {address} is stored in an unreadable form: {e}"))
        })?;
        let (code_hash, code) =
            if stored.code_hash == B256::ZERO || stored.code_hash == KECCAK_EMPTY {
                (KECCAK_EMPTY, Some(Bytecode::default()))
            } else {
                (stored.code_hash, Some(self.code(stored.code_hash)?))
            };
        Ok(Some(EvmAccountInfo {
            balance: stored.balance,
            nonce: stored.nonce,
            code_hash,
            code,
            ..Default::default()
        }))
    }

    fn code(&mut self, hash: B256) -> Result<Bytecode, DbError> {
        if hash == KECCAK_EMPTY || hash == B256::ZERO {
            return Ok(Bytecode::default());
        }
        if let Some(code) = self.new_code.get(&hash) {
            return Ok(code.clone());
        }
        if let Some(code) = self.base.and_then(|b| b.new_code.get(&hash)) {
            return Ok(code.clone());
        }
        if let Some(code) = self.code_cache.get(&hash) {
            return Ok(code);
        }
        let bytes = self
            .reader
            .get(&state::code_key(&hash))?
            .ok_or_else(|| StateError(format!("code {hash} is referenced but not stored")))?;
        // Only legacy code exists on this chain (no EOF, no EIP-7702 delegations).
        let code = Bytecode::new_legacy(bytes.into());
        self.code_cache.insert(hash, code.clone());
        Ok(code)
    }

    fn slot(&mut self, address: Address, index: U256) -> Result<U256, DbError> {
        let key = B256::from(index);
        if let Some(v) = self.storage.get(&address).and_then(|s| s.slots.get(&key)) {
            return Ok(*v);
        }
        let base = self.base.map(|b| {
            let cached = b.storage.get(&address).and_then(|s| s.slots.get(&key)).copied();
            (cached, b.wiped.contains(&address))
        });
        let value = if self.wiped.contains(&address) {
            U256::ZERO
        } else if let Some((Some(value), _)) = base {
            value
        } else if let Some((None, true)) = base {
            U256::ZERO
        } else {
            match self.reader.get(&state::storage_key(&address, &index))? {
                None => U256::ZERO,
                Some(bytes) if bytes.len() <= 32 => U256::from_be_slice(&bytes),
                Some(bytes) => {
                    return Err(StateError(format!(
                        "storage slot {index} of {address} holds {} bytes (at most 32)",
                        bytes.len()
                    ))
                    .into());
                }
            }
        };
        if let Some(reads) = &mut self.reads
            && !self.wiped.contains(&address)
        {
            reads.slots.push((address, key, value));
        }
        self.storage.entry(address).or_default().slots.insert(key, value);
        Ok(value)
    }

    /// A precompile key as of the start of the current tx.
    pub(crate) fn raw_get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, DbError> {
        if let Some(v) = self.raw_overlay.get(key) {
            return Ok(v.clone());
        }
        if let Some(v) = self.raw_cache.get(key) {
            return Ok(v.clone());
        }
        let below = self.base.and_then(|b| b.raw_overlay.get(key).or_else(|| b.raw_cache.get(key)));
        let v = match below {
            Some(v) => v.clone(),
            None => self.reader.get(key)?,
        };
        if let Some(reads) = &mut self.reads {
            reads.raw.push((key.to_vec(), v.clone()));
        }
        self.raw_cache.insert(key.to_vec(), v.clone());
        Ok(v)
    }

    /// The parent state's rows under `prefix`, sorted: at most `limit` of them (0 = all),
    /// and whether there are more than that (the scan stopped at `limit`). Storage is read
    /// at most `limit` rows deep, so a table of millions of rows costs only what the
    /// caller's gas can pay for (the caller sets `limit` from it), at the latest state and
    /// in history alike.
    pub(crate) fn scan_parent(
        &mut self,
        prefix: &[u8],
        limit: usize,
    ) -> Result<(Arc<Rows>, bool), DbError> {
        if let Some(reads) = &mut self.reads {
            reads.scans.push(prefix.to_vec());
        }
        let cached = self
            .scan_cache
            .get(prefix)
            .or_else(|| self.base.and_then(|b| b.scan_cache.get(prefix)))
            .map(|(rows, complete)| (Arc::clone(rows), *complete));
        let enough = |rows: &Rows, complete: bool| complete || (limit != 0 && rows.len() >= limit);
        if let Some((rows, complete)) = cached
            && enough(&rows, complete)
        {
            let more = !complete;
            return Ok((rows, more));
        }
        let rows = Arc::new(self.reader.scan_prefix(prefix, limit)?);
        let complete = limit == 0 || rows.len() < limit;
        self.scan_cache.insert(prefix.to_vec(), (Arc::clone(&rows), complete));
        Ok((rows, !complete))
    }

    /// The block's earlier writes (deletions as `None`) under `prefix`, which override the
    /// parent state's rows.
    pub(crate) fn scan_overrides(&self, prefix: &[u8]) -> BTreeMap<Vec<u8>, Option<Vec<u8>>> {
        let mut out = BTreeMap::new();
        let overlays = self.base.map(|b| &b.raw_overlay).into_iter().chain([&self.raw_overlay]);
        for overlay in overlays {
            for (k, v) in overlay.range(prefix.to_vec()..) {
                if !k.starts_with(prefix) {
                    break;
                }
                out.insert(k.clone(), v.clone());
            }
        }
        out
    }

    /// Bumps an account's nonce outside the EVM (a tx refused before execution still
    /// consumes its sender's nonce).
    pub(crate) fn bump_nonce(&mut self, address: Address) -> Result<(), DbError> {
        let mut info = self.account(address)?.unwrap_or_else(|| EvmAccountInfo {
            code_hash: KECCAK_EMPTY,
            code: Some(Bytecode::default()),
            ..Default::default()
        });
        info.nonce = info.nonce.saturating_add(1);
        self.accounts.insert(address, Some(info));
        self.dirty_accounts.insert(address);
        Ok(())
    }

    /// Folds one transaction's final revm state into the block view.
    pub(crate) fn fold(&mut self, state: EvmState) {
        for (address, account) in state {
            if address == SHADOW {
                self.fold_precompile_writes(&account);
                continue;
            }
            if !account.is_touched() {
                continue;
            }
            if account.is_selfdestructed() {
                self.destroy(address);
                continue;
            }
            if account.is_created() {
                // A fresh account starts with empty storage whatever the parent held.
                self.destroy(address);
            }
            if account.is_empty() {
                // EIP-161: touched empty accounts do not exist.
                if self.accounts.get(&address).is_some_and(Option::is_some) {
                    self.destroy(address);
                }
                continue;
            }
            let info = account.info;
            if let Some(code) = &info.code
                && info.code_hash != KECCAK_EMPTY
                && account.status.contains(revm::state::AccountStatus::Created)
            {
                self.new_code.insert(info.code_hash, code.clone());
            }
            let changed = match self.accounts.get(&address) {
                Some(Some(old)) => {
                    old.nonce != info.nonce
                        || old.balance != info.balance
                        || old.code_hash != info.code_hash
                }
                _ => true,
            };
            if changed {
                self.dirty_accounts.insert(address);
            }
            let cache = self.storage.entry(address).or_default();
            for (index, slot) in account.storage {
                if slot.is_changed() {
                    let key = B256::from(index);
                    cache.slots.insert(key, slot.present_value);
                    cache.dirty.insert(key);
                }
            }
            self.accounts.insert(address, Some(info));
        }
    }

    fn fold_precompile_writes(&mut self, shadow: &revm::state::Account) {
        // Apply in write order so that the entry a slot finally points at is the last one
        // for its key; slots reverted to zero were undone by the journal.
        let mut live: Vec<usize> = shadow
            .storage
            .values()
            .filter(|s| s.is_changed() && !s.present_value.is_zero())
            .filter_map(|s| usize::try_from(s.present_value).ok())
            .filter_map(|i| i.checked_sub(1))
            .collect();
        live.sort_unstable();
        for i in live {
            if let Some((k, v)) = self.tx_writes.get(i) {
                self.raw_overlay.insert(k.clone(), v.clone());
            }
        }
        self.tx_writes.clear();
    }

    fn destroy(&mut self, address: Address) {
        if self.accounts.get(&address).is_some_and(Option::is_some) {
            self.dirty_accounts.insert(address);
        }
        self.accounts.insert(address, None);
        // Forgets cached values and earlier writes alike.
        self.storage.insert(address, SlotCache::default());
        self.wiped.insert(address);
    }

    /// The current account info for `address` (after [`StateDb::fold`]), for diff building.
    pub(crate) fn current_account(&self, address: &Address) -> Option<&EvmAccountInfo> {
        self.accounts.get(address).and_then(Option::as_ref)
    }

    /// Every slot written by the block with its final value, in no particular order.
    pub(crate) fn dirty_slots(&self) -> impl Iterator<Item = (&Address, &B256, U256)> + '_ {
        self.storage.iter().flat_map(|(address, cache)| {
            cache
                .dirty
                .iter()
                .map(move |k| (address, k, cache.slots.get(k).copied().unwrap_or_default()))
        })
    }
}

thread_local! {
    /// A speculation thread's own copies of contract code, the empty code included. Code
    /// is reference-counted: threads sharing one copy of a hot contract would bounce its
    /// count between cores on every account load, and that alone costs more than the
    /// parallelism gains.
    static LOCAL_CODE: std::cell::RefCell<B256Map<Bytecode>> = Default::default();
}

/// This thread's copy of `code` (analysed again once per thread; bounded).
fn thread_local_code(hash: B256, code: &Bytecode) -> Bytecode {
    LOCAL_CODE.with(|local| {
        let mut local = local.borrow_mut();
        if let Some(copy) = local.get(&hash) {
            return copy.clone();
        }
        if local.len() >= 1024 {
            local.clear();
        }
        let copy = Bytecode::new_raw(code.original_bytes());
        local.insert(hash, copy.clone());
        copy
    })
}

impl Database for StateDb<'_> {
    type Error = DbError;

    fn basic(&mut self, address: Address) -> Result<Option<EvmAccountInfo>, DbError> {
        if address == SHADOW {
            return Ok(None);
        }
        self.account(address)
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, DbError> {
        self.code(code_hash)
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, DbError> {
        if address == SHADOW {
            // Slots of the shadow account exist only within a transaction's journal.
            return Ok(U256::ZERO);
        }
        self.slot(address, index)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, DbError> {
        // revm only asks within the 256-block window; the node supplies those hashes.
        Ok(self.block_hashes.get(&number).copied().unwrap_or(B256::ZERO))
    }
}
