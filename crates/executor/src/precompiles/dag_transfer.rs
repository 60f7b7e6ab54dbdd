//! DagTransfer (0x100c), the reference platform's native transfer contract used to
//! measure parallel execution: `userAdd`, `userSave`, `userDraw`, `userTransfer`,
//! `userBalance`, each returning a uint256 code (0 = success). A failure changes nothing
//! and is reported by the code, as the reference does (the receipt itself succeeds).
//!
//! Balances are state keys (`dag_user_key(name)`, 32-byte big-endian). The user names are
//! each call's conflict keys, so transfers between disjoint users run in parallel.

use super::abi::IDagTransfer;
use super::call::{PcCall, PcError, PcResult};
use alloy_primitives::{Bytes, U256};
use alloy_sol_types::{SolCall, SolInterface};
use aurum_primitives::state::dag_user_key;

pub const CODE_OK: u64 = 0;
/// Empty, or longer than [`MAX_USER_LEN`] bytes.
pub const CODE_INVALID_USER_NAME: u64 = 51001;
pub const CODE_USER_EXISTS: u64 = 51002;
pub const CODE_USER_NOT_FOUND: u64 = 51003;
pub const CODE_INSUFFICIENT_BALANCE: u64 = 51004;
pub const CODE_BALANCE_OVERFLOW: u64 = 51005;

pub const MAX_USER_LEN: usize = 255;

/// 0x100c DagTransfer; its user names are its conflict keys.
pub(crate) struct DagTransfer;

impl super::registry::Precompile for DagTransfer {
    fn run(&self, call: &mut PcCall<'_, '_>, input: &[u8]) -> PcResult<alloy_primitives::Bytes> {
        run(call, input)
    }
    fn conflicts(&self, input: &[u8]) -> super::registry::Conflicts {
        super::registry::Conflicts::Own(conflict_keys(input))
    }
}

pub(crate) fn run(call: &mut PcCall<'_, '_>, input: &[u8]) -> PcResult<Bytes> {
    call.charge_call(input.len())?;
    use IDagTransfer::IDagTransferCalls as C;
    let decoded = C::abi_decode(input)
        .map_err(|e| PcError::input(format!("DagTransfer: bad call data: {e}")))?;
    if !matches!(decoded, C::userBalance(_)) {
        call.require_write()?;
    }
    let code = match decoded {
        C::userBalance(c) => {
            let (code, balance) = match checked_name(&c.user) {
                Err(code) => (code, U256::ZERO),
                Ok(()) => match balance(call, &c.user)? {
                    Some(b) => (CODE_OK, b),
                    None => (CODE_USER_NOT_FOUND, U256::ZERO),
                },
            };
            return Ok(IDagTransfer::userBalanceCall::abi_encode_returns_tuple(&(
                U256::from(code),
                balance,
            ))
            .into());
        }
        C::userAdd(c) => add(call, &c.user, c.balance)?,
        C::userSave(c) => save(call, &c.user, c.balance)?,
        C::userDraw(c) => draw(call, &c.user, c.balance)?,
        C::userTransfer(c) => transfer(call, &c.user_a, &c.user_b, c.amount)?,
    };
    Ok(IDagTransfer::userAddCall::abi_encode_returns(&U256::from(code)).into())
}

fn checked_name(user: &str) -> Result<(), u64> {
    if user.is_empty() || user.len() > MAX_USER_LEN { Err(CODE_INVALID_USER_NAME) } else { Ok(()) }
}

fn balance(call: &mut PcCall<'_, '_>, user: &str) -> PcResult<Option<U256>> {
    Ok(call.get(&dag_user_key(user))?.map(|b| U256::from_be_slice(&b)))
}

fn set(call: &mut PcCall<'_, '_>, user: &str, value: U256) -> PcResult<()> {
    call.put(dag_user_key(user), Some(value.to_be_bytes::<32>().to_vec()))
}

fn add(call: &mut PcCall<'_, '_>, user: &str, amount: U256) -> PcResult<u64> {
    if let Err(code) = checked_name(user) {
        return Ok(code);
    }
    if balance(call, user)?.is_some() {
        return Ok(CODE_USER_EXISTS);
    }
    set(call, user, amount)?;
    Ok(CODE_OK)
}

/// Deposits into an account, opening it if needed.
fn save(call: &mut PcCall<'_, '_>, user: &str, amount: U256) -> PcResult<u64> {
    if let Err(code) = checked_name(user) {
        return Ok(code);
    }
    let current = balance(call, user)?.unwrap_or_default();
    let Some(new) = current.checked_add(amount) else {
        return Ok(CODE_BALANCE_OVERFLOW);
    };
    set(call, user, new)?;
    Ok(CODE_OK)
}

fn draw(call: &mut PcCall<'_, '_>, user: &str, amount: U256) -> PcResult<u64> {
    if let Err(code) = checked_name(user) {
        return Ok(code);
    }
    let Some(current) = balance(call, user)? else {
        return Ok(CODE_USER_NOT_FOUND);
    };
    let Some(new) = current.checked_sub(amount) else {
        return Ok(CODE_INSUFFICIENT_BALANCE);
    };
    set(call, user, new)?;
    Ok(CODE_OK)
}

fn transfer(call: &mut PcCall<'_, '_>, from: &str, to: &str, amount: U256) -> PcResult<u64> {
    if let Err(code) = checked_name(from).and(checked_name(to)) {
        return Ok(code);
    }
    let (Some(from_balance), Some(to_balance)) = (balance(call, from)?, balance(call, to)?) else {
        return Ok(CODE_USER_NOT_FOUND);
    };
    if from == to {
        return Ok(if from_balance >= amount { CODE_OK } else { CODE_INSUFFICIENT_BALANCE });
    }
    let Some(from_new) = from_balance.checked_sub(amount) else {
        return Ok(CODE_INSUFFICIENT_BALANCE);
    };
    let Some(to_new) = to_balance.checked_add(amount) else {
        return Ok(CODE_BALANCE_OVERFLOW);
    };
    set(call, from, from_new)?;
    set(call, to, to_new)?;
    Ok(CODE_OK)
}

/// The user names a call touches: its conflict keys. `None` for call data that do not
/// decode (such a call is scheduled as undeclared).
pub(crate) fn conflict_keys(input: &[u8]) -> Option<Vec<Vec<u8>>> {
    use IDagTransfer::IDagTransferCalls as C;
    Some(match C::abi_decode(input).ok()? {
        C::userAdd(c) => vec![c.user.into_bytes()],
        C::userSave(c) => vec![c.user.into_bytes()],
        C::userDraw(c) => vec![c.user.into_bytes()],
        C::userBalance(c) => vec![c.user.into_bytes()],
        C::userTransfer(c) => vec![c.user_a.into_bytes(), c.user_b.into_bytes()],
    })
}
