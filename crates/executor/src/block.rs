//! Serial block execution: one revm instance per block over the block's [`StateDb`],
//! transactions in order, each one's state folded in before the next.

use crate::precompiles::{AurumCtx, AurumPrecompiles, PrecompileEnv, hint_status};
use crate::state_db::{DbError, StateDb};
use crate::{BlockContext, CallOutcome, ExecError};
use alloy_primitives::{Address, Bytes, TxKind, U256};
use aurum_primitives::{Receipt, TxStatus, VerifiedTx};
use revm::ExecuteEvm;
use revm::context::result::{EVMError, ExecutionResult, HaltReason, InvalidTransaction, Output};
use revm::context::{BlockEnv, Context, Evm, TxEnv};
use revm::handler::EthFrame;
use revm::handler::instructions::EthInstructions;
use revm::inspector::NoOpInspector;
use revm::interpreter::interpreter::EthInterpreter;
use revm::primitives::hardfork::SpecId;
use revm::state::EvmState;
use revm::{InspectEvm, Inspector};

/// The block's EVM; `I` is its inspector, which only runs when a tx is *inspected*
/// (speculative runs and deadline calls); blocks run without it.
pub(crate) type AurumEvm<'a, I = NoOpInspector> = Evm<
    AurumCtx<'a>,
    I,
    EthInstructions<EthInterpreter, AurumCtx<'a>>,
    AurumPrecompiles,
    EthFrame<EthInterpreter>,
>;

/// Builds the EVM for one block: Cancun rules, no fees, balances per the feature switch.
pub(crate) fn build_evm<'a>(
    db: StateDb<'a>,
    block: &BlockContext,
    env: PrecompileEnv,
) -> AurumEvm<'a> {
    build_evm_with(db, block, env, NoOpInspector)
}

/// [`build_evm`] with an inspector (the wall-clock deadline of read-only calls).
pub(crate) fn build_evm_with<'a, I>(
    db: StateDb<'a>,
    block: &BlockContext,
    env: PrecompileEnv,
    inspector: I,
) -> AurumEvm<'a, I> {
    let mut ctx: AurumCtx<'a> = Context::new(db, SpecId::CANCUN);
    ctx.cfg.chain_id = block.chain_id;
    // The destination (chain/group, EIP-155 id) is checked at admission, not here.
    ctx.cfg.tx_chain_id_check = false;
    ctx.cfg.disable_base_fee = true;
    ctx.cfg.disable_fee_charge = true;
    ctx.cfg.disable_block_gas_limit = true;
    ctx.cfg.disable_balance_check = !block.balances_enabled;
    ctx.block = BlockEnv {
        number: U256::from(block.number),
        timestamp: U256::from(block.timestamp_ms / 1000),
        gas_limit: u64::MAX,
        basefee: 0,
        beneficiary: Address::ZERO,
        ..Default::default()
    };
    Evm::new_with_inspector(
        ctx,
        inspector,
        EthInstructions::new_mainnet_with_spec(SpecId::CANCUN),
        AurumPrecompiles::new(env),
    )
}

/// The gas a transaction may use: its own limit (0 = unspecified) capped by the chain's.
pub(crate) fn effective_gas_limit(tx_limit: u64, cap: u64) -> u64 {
    if tx_limit == 0 { cap } else { tx_limit.min(cap) }
}

pub(crate) fn db_ref<'e, 'a>(evm: &'e AurumEvm<'a>) -> &'e StateDb<'a> {
    &evm.ctx.journaled_state.database
}

pub(crate) fn db<'e, 'a, I>(evm: &'e mut AurumEvm<'a, I>) -> &'e mut StateDb<'a> {
    &mut evm.ctx.journaled_state.database
}

fn refused(status: TxStatus, message: String) -> Receipt {
    Receipt {
        status,
        gas_used: 0,
        contract_address: None,
        logs: vec![],
        output: message.into_bytes().into(),
    }
}

/// What a transaction changes, held apart from the view it ran on until [`apply`] folds
/// it into the block (at once when serial; after validation when speculative).
pub(crate) enum Effects {
    None,
    /// Refused before the EVM ran: the sender's nonce is still consumed.
    BumpNonce(Address),
    Evm {
        state: EvmState,
        /// The precompile writes the shadow account's slots index.
        tx_writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    },
}

/// Executes one transaction and folds its effects into the block view.
pub(crate) fn execute_tx(
    evm: &mut AurumEvm<'_>,
    block: &BlockContext,
    tx: &VerifiedTx,
) -> Result<Receipt, ExecError> {
    let (receipt, effects) = run_tx(evm, block, tx, false)?;
    apply(db(evm), effects).map_err(|e| e.0)?;
    Ok(receipt)
}

/// The receipt of a transaction the block gas limit keeps from running, folded in.
pub(crate) fn skip_tx(
    evm: &mut AurumEvm<'_>,
    block: &BlockContext,
    tx: &VerifiedTx,
    gas_used: u64,
) -> Result<Receipt, ExecError> {
    let (receipt, effects) = skip(evm, tx, block, gas_used)?;
    apply(db(evm), effects).map_err(|e| e.0)?;
    Ok(receipt)
}

/// A transaction not run because the block's cumulative gas (`gas_used`) has reached
/// `block_gas_limit`: it fails with [`TxStatus::BlockGasLimitReached`] and its sender's
/// nonce moves on as for any failed tx (an Ethereum tx with the wrong nonce gets
/// [`TxStatus::NonceMismatch`] instead, as it would anywhere in a block).
pub(crate) fn skip(
    evm: &mut AurumEvm<'_>,
    tx: &VerifiedTx,
    block: &BlockContext,
    gas_used: u64,
) -> Result<(Receipt, Effects), ExecError> {
    db(evm).begin_tx();
    if let Some(receipt) = nonce_mismatch(evm, tx)? {
        return Ok((receipt, Effects::None));
    }
    let receipt = refused(
        TxStatus::BlockGasLimitReached,
        format!(
            "not executed: the block's transactions before it used {gas_used} gas, reaching \
             block_gas_limit {}; send it again for a later block",
            block.block_gas_limit
        ),
    );
    Ok((receipt, Effects::BumpNonce(tx.sender)))
}

/// The receipt of an Ethereum tx whose nonce is not its sender's next one.
fn nonce_mismatch<I>(
    evm: &mut AurumEvm<'_, I>,
    tx: &VerifiedTx,
) -> Result<Option<Receipt>, ExecError> {
    let nonce = db(evm).account(tx.sender).map_err(|e| e.0)?.map_or(0, |a| a.nonce);
    Ok(match tx.eth_nonce() {
        Some(expected) if expected != nonce => Some(refused(
            TxStatus::NonceMismatch,
            format!("nonce {expected} is not the account's next nonce {nonce}"),
        )),
        _ => None,
    })
}

/// Folds a transaction's effects into the block view.
pub(crate) fn apply(db: &mut StateDb<'_>, effects: Effects) -> Result<(), DbError> {
    match effects {
        Effects::None => Ok(()),
        Effects::BumpNonce(sender) => db.bump_nonce(sender),
        Effects::Evm { state, tx_writes } => {
            db.tx_writes = tx_writes;
            db.fold(state);
            Ok(())
        }
    }
}

/// Executes one transaction over the EVM's view without changing that view: reads are
/// cached, the effects come back. `inspect`: run under the EVM's inspector.
pub(crate) fn run_tx<'a, I>(
    evm: &mut AurumEvm<'a, I>,
    block: &BlockContext,
    tx: &VerifiedTx,
    inspect: bool,
) -> Result<(Receipt, Effects), ExecError>
where
    I: Inspector<AurumCtx<'a>, EthInterpreter>,
{
    db(evm).begin_tx();
    let sender = tx.sender;
    if let Some(receipt) = nonce_mismatch(evm, tx)? {
        return Ok((receipt, Effects::None));
    }
    let nonce = db(evm).account(sender).map_err(|e| e.0)?.map_or(0, |a| a.nonce);
    if !block.balances_enabled && !tx.value().is_zero() {
        let receipt = refused(
            TxStatus::ValueTransferRefused,
            "value transfers are disabled on this chain (feature_balance is off)".into(),
        );
        return Ok((receipt, Effects::BumpNonce(sender)));
    }
    let env = TxEnv {
        caller: sender,
        gas_limit: effective_gas_limit(tx.gas_limit(), block.gas_cap()),
        gas_price: 0,
        kind: tx.to().map_or(TxKind::Create, TxKind::Call),
        value: tx.value(),
        data: tx.input().clone(),
        nonce,
        chain_id: None,
        ..Default::default()
    };
    let result = if inspect { evm.inspect_one_tx(env) } else { evm.transact_one(env) };
    let state = evm.finalize();
    let result = match result {
        Ok(r) => r,
        Err(EVMError::Transaction(e)) => {
            let status = match e {
                InvalidTransaction::LackOfFundForMaxFee { .. } => TxStatus::ValueTransferRefused,
                _ => TxStatus::InvalidTx,
            };
            return Ok((refused(status, e.to_string()), Effects::BumpNonce(sender)));
        }
        Err(e) => return Err(engine_error(db(evm), e)),
    };
    let hint = db(evm).status_hint;
    let tx_writes = std::mem::take(&mut db(evm).tx_writes);
    Ok((receipt(result, hint.map(hint_status)), Effects::Evm { state, tx_writes }))
}

/// Maps a non-input EVM failure to the executor's error, preferring the state error a
/// precompile stashed (revm carries only a string out of a precompile).
fn engine_error(db: &mut StateDb<'_>, e: EVMError<DbError>) -> ExecError {
    if let Some(failure) = db.precompile_failure.take() {
        return ExecError::State(failure);
    }
    match e {
        EVMError::Database(e) => ExecError::State(e.0),
        other => ExecError::Evm(other.to_string()),
    }
}

fn halt_status(reason: &HaltReason) -> TxStatus {
    match reason {
        HaltReason::OutOfGas(_) => TxStatus::OutOfGas,
        HaltReason::CreateCollision
        | HaltReason::CreateContractSizeLimit
        | HaltReason::CreateContractStartingWithEF
        | HaltReason::CreateInitCodeSizeLimit
        | HaltReason::NonceOverflow => TxStatus::CreateFailed,
        HaltReason::PrecompileError | HaltReason::PrecompileErrorWithContext(_) => {
            TxStatus::PrecompileError
        }
        HaltReason::OutOfFunds => TxStatus::ValueTransferRefused,
        _ => TxStatus::Halted,
    }
}

/// The receipt of an executed transaction. Failed transactions keep no logs.
fn receipt(result: ExecutionResult<HaltReason>, hint: Option<TxStatus>) -> Receipt {
    let gas_used = result.tx_gas_used();
    match result {
        ExecutionResult::Success { logs, output, .. } => {
            let contract_address = match &output {
                Output::Create(_, address) => *address,
                Output::Call(_) => None,
            };
            Receipt {
                status: TxStatus::Success,
                gas_used,
                contract_address,
                logs,
                output: output.into_data(),
            }
        }
        ExecutionResult::Revert { output, .. } => Receipt {
            status: hint.unwrap_or(TxStatus::Reverted),
            gas_used,
            contract_address: None,
            logs: vec![],
            output,
        },
        ExecutionResult::Halt { reason, .. } => Receipt {
            status: halt_status(&reason),
            gas_used,
            contract_address: None,
            logs: vec![],
            output: Bytes::from(reason.to_string().into_bytes()),
        },
    }
}

/// A read-only call: executed like a transaction, nothing folded. `inspect`: run with the
/// EVM's inspector (revm calls it at every instruction; plain calls skip that cost).
pub(crate) fn call<'a, I>(
    evm: &mut AurumEvm<'a, I>,
    block: &BlockContext,
    from: Address,
    to: Option<Address>,
    input: Bytes,
    gas: Option<u64>,
    inspect: bool,
) -> Result<CallOutcome, ExecError>
where
    I: Inspector<AurumCtx<'a>, EthInterpreter>,
{
    db(evm).begin_tx();
    let nonce = db(evm).account(from).map_err(|e| e.0)?.map_or(0, |a| a.nonce);
    evm.ctx.cfg.disable_nonce_check = true;
    // As eth_call does elsewhere: any address may be `from`, even a contract's.
    evm.ctx.cfg.disable_eip3607 = true;
    let env = TxEnv {
        caller: from,
        gas_limit: effective_gas_limit(gas.unwrap_or(0), block.gas_cap()),
        gas_price: 0,
        kind: to.map_or(TxKind::Create, TxKind::Call),
        value: U256::ZERO,
        data: input,
        nonce,
        chain_id: None,
        ..Default::default()
    };
    let result = if inspect { evm.inspect_one_tx(env) } else { evm.transact_one(env) };
    let _discarded = evm.finalize();
    let result = match result {
        Ok(r) => r,
        Err(EVMError::Transaction(e)) => {
            return Ok(CallOutcome {
                status: TxStatus::InvalidTx,
                output: e.to_string().into_bytes().into(),
                gas_used: 0,
                logs: vec![],
            });
        }
        Err(e) => return Err(engine_error(db(evm), e)),
    };
    let hint = db(evm).status_hint.map(hint_status);
    let r = receipt(result, hint);
    Ok(CallOutcome { status: r.status, output: r.output, gas_used: r.gas_used, logs: r.logs })
}
