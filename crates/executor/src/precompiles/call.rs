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
use std::collections::BTreeMap;

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

    /// Every key under `prefix` with its value, in key order, as this point of the
    /// transaction sees them (parent state, earlier txs of the block, this tx so far).
    pub(crate) fn scan(&mut self, prefix: &[u8]) -> PcResult<BTreeMap<Vec<u8>, Vec<u8>>> {
        self.charge(cost::READ)?;
        let mut rows = self.ctx.journaled_state.database.raw_scan(prefix)?;
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
            match self.ctx.journaled_state.database.tx_writes.get(i).and_then(|(_, v)| v.clone()) {
                Some(v) => rows.insert(key, v),
                None => rows.remove(&key),
            };
        }
        let visited = rows.len() as u64;
        self.charge(visited.saturating_mul(cost::SCAN_ROW))?;
        Ok(rows)
    }
}

fn live_index(slot_value: U256) -> Option<usize> {
    usize::try_from(slot_value).ok().and_then(|i| i.checked_sub(1))
}
