//! One precompile invocation: gas metering, the caller's identity, and journaled access
//! to precompile state keys.
//!
//! Writes are journaled through revm: each write is appended to the transaction's
//! `tx_writes` list and its index stored in a storage slot (`keccak(key)`) of the
//! [`SHADOW`] account. A revert at any depth restores the slot, so the key reads as it
//! did before; at the end of the transaction the slots that are still set name exactly
//! the writes that survived ([`crate::state_db::StateDb::fold`]).

use super::{AurumCtx, PrecompileEnv};
use crate::state_db::{DbError, SHADOW, StatusHint};
use alloy_primitives::{Address, U256, keccak256};
use aurum_primitives::StateError;
use revm::context_interface::JournalTr;
use revm::interpreter::{CallInputs, Gas};

/// Gas schedule of the platform precompiles (no fee is charged, but work is metered
/// and bounded by the tx gas limit like any EVM work).
pub(crate) mod cost {
    /// Every call.
    pub const BASE: u64 = 700;
    /// Per 32-byte word of input or output.
    pub const WORD: u64 = 3;
    /// Reading one key.
    pub const READ: u64 = 800;
    /// Each row visited by a scan.
    pub const SCAN_ROW: u64 = 200;
    /// Writing (or deleting) one key.
    pub const WRITE: u64 = 5_000;
    /// Per byte written.
    pub const WRITE_BYTE: u64 = 8;
}

pub(crate) fn words(len: usize) -> u64 {
    (len as u64).div_ceil(32)
}

pub(crate) fn output_gas(len: usize) -> u64 {
    words(len).saturating_mul(cost::WORD)
}

/// Why a precompile call did not return normally.
#[derive(Debug)]
pub(crate) enum PcError {
    /// REVERT with `Error(message)`; `hint` refines the receipt status of a top-level call.
    Revert {
        hint: Option<StatusHint>,
        message: String,
    },
    OutOfGas,
    /// The state backend failed: aborts the block with an error.
    Db(StateError),
}

impl PcError {
    /// Bad ABI input or arguments.
    pub(crate) fn input(message: impl Into<String>) -> Self {
        PcError::Revert { hint: Some(StatusHint::PrecompileError), message: message.into() }
    }
    pub(crate) fn denied(message: impl Into<String>) -> Self {
        PcError::Revert { hint: Some(StatusHint::PermissionDenied), message: message.into() }
    }
}

impl From<DbError> for PcError {
    fn from(e: DbError) -> Self {
        PcError::Db(e.0)
    }
}

pub(crate) type PcResult<T> = Result<T, PcError>;

pub(crate) struct PcCall<'c, 'a> {
    ctx: &'c mut AurumCtx<'a>,
    pub gas: Gas,
    pub caller: Address,
    pub is_static: bool,
    pub env: &'c PrecompileEnv,
}

impl<'c, 'a> PcCall<'c, 'a> {
    pub(crate) fn new(
        ctx: &'c mut AurumCtx<'a>,
        inputs: &CallInputs,
        env: &'c PrecompileEnv,
    ) -> Self {
        Self {
            ctx,
            gas: Gas::new(inputs.gas_limit),
            caller: inputs.caller,
            is_static: inputs.is_static,
            env,
        }
    }

    pub(crate) fn charge(&mut self, amount: u64) -> PcResult<()> {
        if self.gas.record_regular_cost(amount) { Ok(()) } else { Err(PcError::OutOfGas) }
    }

    /// Charges the base cost and the input size.
    pub(crate) fn charge_call(&mut self, input_len: usize) -> PcResult<()> {
        self.charge(cost::BASE.saturating_add(words(input_len).saturating_mul(cost::WORD)))
    }

    /// Refuses state changes inside STATICCALL.
    pub(crate) fn require_write(&self) -> PcResult<()> {
        if self.is_static {
            Err(PcError::input("state change in a static call (view context)"))
        } else {
            Ok(())
        }
    }

    pub(crate) fn is_admin(&self) -> bool {
        self.env.admins.contains(&self.caller)
    }

    fn shadow_slot(&mut self, key: &[u8]) -> PcResult<(U256, U256)> {
        let slot = U256::from_be_bytes(keccak256(key).0);
        let journal = &mut self.ctx.journaled_state;
        JournalTr::load_account(journal, SHADOW).map_err(PcError::from)?;
        let current = JournalTr::sload(journal, SHADOW, slot).map_err(PcError::from)?.data;
        Ok((slot, current))
    }

    /// The value of a state key as this point of the transaction sees it.
    pub(crate) fn get(&mut self, key: &[u8]) -> PcResult<Option<Vec<u8>>> {
        self.charge(cost::READ)?;
        self.peek(key)
    }

    /// [`PcCall::get`] without charging (the caller charged for a batch).
    fn peek(&mut self, key: &[u8]) -> PcResult<Option<Vec<u8>>> {
        let (_, current) = self.shadow_slot(key)?;
        let db = &mut self.ctx.journaled_state.database;
        if let Some(index) = live_index(current)
            && let Some((_, value)) = db.tx_writes.get(index)
        {
            return Ok(value.clone());
        }
        Ok(db.raw_get(key)?)
    }

    /// Writes (`Some`) or deletes (`None`) a state key, journaled.
    pub(crate) fn put(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) -> PcResult<()> {
        self.require_write()?;
        let size = key.len() + value.as_ref().map_or(0, Vec::len);
        self.charge(cost::WRITE.saturating_add((size as u64).saturating_mul(cost::WRITE_BYTE)))?;
        let (slot, _) = self.shadow_slot(&key)?;
        let db = &mut self.ctx.journaled_state.database;
        db.tx_writes.push((key, value));
        let index = U256::from(db.tx_writes.len());
        JournalTr::sstore(&mut self.ctx.journaled_state, SHADOW, slot, index)
            .map_err(PcError::from)?;
        Ok(())
    }

    /// Visits every key under `prefix` with its value, in key order, as this point of the
    /// transaction sees them (parent state, earlier txs of the block, this tx so far),
    /// until `visit` returns false. Rows are handed over one at a time, never copied as a
    /// whole table; the scan is charged for every row under the prefix before the first
    /// visit, and storage is read only as deep as the gas left can pay for.
    pub(crate) fn scan_with(
        &mut self,
        prefix: &[u8],
        mut visit: impl FnMut(&[u8], &[u8]) -> PcResult<bool>,
    ) -> PcResult<()> {
        self.charge(cost::READ)?;
        let mut overrides = self.ctx.journaled_state.database.scan_overrides(prefix);
        let mine: Vec<(usize, Vec<u8>)> = self
            .ctx
            .journaled_state
            .database
            .tx_writes
            .iter()
            .enumerate()
            .filter(|(_, (k, _))| k.starts_with(prefix))
            .map(|(i, (k, _))| (i, k.clone()))
            .collect();
        for (i, key) in mine {
            let (_, current) = self.shadow_slot(&key)?;
            if live_index(current) != Some(i) {
                continue; // superseded by a later write, or reverted
            }
            let value =
                self.ctx.journaled_state.database.tx_writes.get(i).and_then(|(_, v)| v.clone());
            overrides.insert(key, value);
        }
        // Every row costs SCAN_ROW, and at most `overrides.len()` parent rows are deleted:
        // a parent holding more rows than this cannot be paid for, so need not be read.
        let affordable = self.gas.remaining() / cost::SCAN_ROW;
        let limit = affordable.saturating_add(overrides.len() as u64).saturating_add(1);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let (parent, more) = self.ctx.journaled_state.database.scan_parent(prefix, limit)?;
        if more {
            self.gas.spend_all();
            return Err(PcError::OutOfGas);
        }
        let in_parent =
            |key: &[u8]| parent.binary_search_by(|(k, _)| k.as_slice().cmp(key)).is_ok();
        let mut visited = parent.len() as u64;
        for (key, value) in &overrides {
            match (value.is_some(), in_parent(key)) {
                (true, false) => visited += 1,
                (false, true) => visited -= 1,
                _ => {}
            }
        }
        self.charge(visited.saturating_mul(cost::SCAN_ROW))?;
        // Merge the two sorted sources; an override wins over the parent's row.
        let mut rows = parent.iter().peekable();
        let mut over = overrides.iter().peekable();
        loop {
            let take_parent = match (rows.peek(), over.peek()) {
                (None, None) => return Ok(()),
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some((pk, _)), Some((ok, _))) => pk < *ok,
            };
            let keep_going = if take_parent {
                let Some((k, v)) = rows.next() else { return Ok(()) };
                visit(k, v)?
            } else {
                let Some((k, v)) = over.next() else { return Ok(()) };
                if rows.peek().is_some_and(|(pk, _)| pk == k) {
                    rows.next();
                }
                match v {
                    Some(v) => visit(k, v)?,
                    None => true,
                }
            };
            if !keep_going {
                return Ok(());
            }
        }
    }
}

fn live_index(slot_value: U256) -> Option<usize> {
    usize::try_from(slot_value).ok().and_then(|i| i.checked_sub(1))
}
