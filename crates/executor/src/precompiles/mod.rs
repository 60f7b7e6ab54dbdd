//! The platform precompiles and how they reach revm.
//!
//! [`AurumPrecompiles`] is revm's [`PrecompileProvider`]: a call whose code address is a
//! platform contract (0x1000 SystemConfig, 0x1002 TableManager, 0x1003 Consensus, 0x1009
//! KV tables, 0x100a Crypto) or a table opened by `openTable` runs here with mutable
//! access to the EVM context; Ethereum's own precompiles (0x01–0x0a) are delegated to
//! [`EthPrecompiles`]; any other address returns `None` and revm runs its code.
//!
//! All precompile data are state keys; writes go through the transaction journal (see
//! [`call::PcCall`]) so that a revert, at any depth, undoes them exactly like storage.

pub(crate) mod abi;
pub(crate) mod call;
pub(crate) mod consensus;
pub(crate) mod crypto;
pub(crate) mod dag_transfer;
pub(crate) mod kv;
pub(crate) mod parallel_config;
pub(crate) mod system_config;
pub(crate) mod table;
pub(crate) mod table_manager;
pub(crate) mod table_rows;

use crate::state_db::{StateDb, StatusHint};
use alloy_primitives::{Address, Bytes, address};
use aurum_crypto::CryptoSuite;
use call::{PcCall, PcError};
use revm::context::{BlockEnv, CfgEnv, Context, Journal, TxEnv};
use revm::context_interface::{ContextTr, JournalTr};
use revm::handler::{EthPrecompiles, PrecompileProvider};
use revm::interpreter::{CallInputs, Gas, InstructionResult, InterpreterResult};
use revm::primitives::AddressSet;
use revm::primitives::hardfork::SpecId;
use std::sync::Arc;

/// The revm context the executor runs: mainnet types over the block's [`StateDb`].
pub(crate) type AurumCtx<'a> =
    Context<BlockEnv, TxEnv, CfgEnv, StateDb<'a>, Journal<StateDb<'a>>, ()>;

pub const SYSTEM_CONFIG_ADDRESS: Address = address!("0000000000000000000000000000000000001000");
/// In 3.x tables are reached through `openTable`; a direct call here is refused.
pub const TABLE_ADDRESS: Address = address!("0000000000000000000000000000000000001001");
pub const TABLE_MANAGER_ADDRESS: Address = address!("0000000000000000000000000000000000001002");
pub const CONSENSUS_ADDRESS: Address = address!("0000000000000000000000000000000000001003");
pub const KV_TABLE_ADDRESS: Address = address!("0000000000000000000000000000000000001009");
pub const CRYPTO_ADDRESS: Address = address!("000000000000000000000000000000000000100a");
pub const PARALLEL_CONFIG_ADDRESS: Address = address!("0000000000000000000000000000000000001006");
pub const DAG_TRANSFER_ADDRESS: Address = address!("000000000000000000000000000000000000100c");
/// Every platform precompile at a fixed address (tables opened by TableManager come on top).
pub const PLATFORM_PRECOMPILES: [Address; 8] = [
    SYSTEM_CONFIG_ADDRESS,
    TABLE_ADDRESS,
    TABLE_MANAGER_ADDRESS,
    CONSENSUS_ADDRESS,
    PARALLEL_CONFIG_ADDRESS,
    KV_TABLE_ADDRESS,
    CRYPTO_ADDRESS,
    DAG_TRANSFER_ADDRESS,
];

/// What the precompiles need to know about the block and the chain.
#[derive(Clone)]
pub(crate) struct PrecompileEnv {
    pub block_number: u64,
    pub admins: Vec<Address>,
    /// SM2/SM3 for the Crypto precompile, whatever the chain's own suite.
    pub sm: Arc<dyn CryptoSuite>,
}

pub(crate) struct AurumPrecompiles {
    eth: EthPrecompiles,
    warm: AddressSet,
    env: PrecompileEnv,
}

impl AurumPrecompiles {
    pub(crate) fn new(env: PrecompileEnv) -> Self {
        let eth = EthPrecompiles::new(SpecId::CANCUN);
        let warm = Self::warm_set(&eth);
        Self { eth, warm, env }
    }

    fn warm_set(eth: &EthPrecompiles) -> AddressSet {
        let mut warm = eth.warm_addresses().clone();
        warm.extend(PLATFORM_PRECOMPILES);
        warm
    }
}

/// Addresses below 0x20000 belong to the platform.
fn is_platform(address: &Address) -> bool {
    address[..17].iter().all(|b| *b == 0) && address[17] <= 1
}

impl<'a> PrecompileProvider<AurumCtx<'a>> for AurumPrecompiles {
    type Output = InterpreterResult;

    fn set_spec(&mut self, spec: SpecId) -> bool {
        let changed =
            <EthPrecompiles as PrecompileProvider<AurumCtx<'a>>>::set_spec(&mut self.eth, spec);
        if changed {
            self.warm = Self::warm_set(&self.eth);
        }
        changed
    }

    fn run(
        &mut self,
        ctx: &mut AurumCtx<'a>,
        inputs: &CallInputs,
    ) -> Result<Option<InterpreterResult>, String> {
        let address = inputs.bytecode_address;
        let platform = is_platform(&address);
        if !platform && !table::may_be_table_address(&address) {
            return Ok(None);
        }
        if self.eth.contains(&address) {
            return <EthPrecompiles as PrecompileProvider<AurumCtx<'a>>>::run(
                &mut self.eth,
                ctx,
                inputs,
            );
        }
        let input = inputs.input.bytes(ctx);
        let depth = ctx.journal().depth();
        let mut call = PcCall::new(ctx, inputs, &self.env);
        let outcome = if platform {
            match address {
                SYSTEM_CONFIG_ADDRESS => system_config::run(&mut call, &input),
                TABLE_MANAGER_ADDRESS => table_manager::run(&mut call, &input),
                CONSENSUS_ADDRESS => consensus::run(&mut call, &input),
                KV_TABLE_ADDRESS => kv::run_legacy(&mut call, &input),
                CRYPTO_ADDRESS => crypto::run(&mut call, &input),
                PARALLEL_CONFIG_ADDRESS => parallel_config::run(&mut call, &input),
                DAG_TRANSFER_ADDRESS => dag_transfer::run(&mut call, &input),
                TABLE_ADDRESS => Err(PcError::input(
                    "0x1001 is not callable in 3.x: get a table's address from \
                     TableManager(0x1002).openTable(path)",
                )),
                crate::state_db::SHADOW => {
                    Err(PcError::input("this address is reserved for the executor's journal"))
                }
                // Reserved but unassigned: behaves as an empty account.
                _ => return Ok(None),
            }
        } else {
            match table::resolve(&mut call, &address) {
                Ok(Some(meta)) => table::run(&mut call, meta, &input),
                Ok(None) => return Ok(None),
                Err(e) => Err(e),
            }
        };
        let gas = call.gas;
        finish(ctx, outcome, gas, depth)
    }

    fn warm_addresses(&self) -> &AddressSet {
        &self.warm
    }

    fn contains(&self, address: &Address) -> bool {
        self.warm.contains(address)
    }
}

/// Turns a precompile outcome into revm's frame result.
fn finish(
    ctx: &mut AurumCtx<'_>,
    outcome: Result<Bytes, PcError>,
    mut gas: Gas,
    depth: usize,
) -> Result<Option<InterpreterResult>, String> {
    let top_level = depth <= 1;
    let (result, output) = match outcome {
        Ok(output) => {
            if !gas.record_regular_cost(call::output_gas(output.len())) {
                gas.spend_all();
                (InstructionResult::PrecompileOOG, Bytes::new())
            } else {
                (InstructionResult::Return, output)
            }
        }
        Err(PcError::Revert { hint, message }) => {
            if top_level && let Some(hint) = hint {
                ctx.journal_mut().db_mut().status_hint = Some(hint);
            }
            let data =
                alloy_sol_types::SolError::abi_encode(&alloy_sol_types::Revert::from(message));
            (InstructionResult::Revert, data.into())
        }
        Err(PcError::OutOfGas) => {
            gas.spend_all();
            (InstructionResult::PrecompileOOG, Bytes::new())
        }
        Err(PcError::Db(e)) => {
            let message = e.to_string();
            ctx.journal_mut().db_mut().precompile_failure = Some(e);
            return Err(message);
        }
    };
    Ok(Some(InterpreterResult::new(result, output, gas)))
}

/// The hint a top-level refusal leaves on the receipt.
pub(crate) fn hint_status(hint: StatusHint) -> aurum_primitives::TxStatus {
    match hint {
        StatusHint::PermissionDenied => aurum_primitives::TxStatus::PermissionDenied,
        StatusHint::PrecompileError => aurum_primitives::TxStatus::PrecompileError,
    }
}
