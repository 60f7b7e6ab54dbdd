//! The platform precompiles and how they reach revm.
//!
//! [`AurumPrecompiles`] is revm's [`PrecompileProvider`]: a call whose code address is a
//! platform contract of the [`registry`] (existing under the block's [`Rules`]) or a table
//! opened by `openTable` runs here with mutable access to the EVM context; Ethereum's own
//! precompiles (0x01–0x0a) are delegated to [`EthPrecompiles`]; any other address returns
//! `None` and revm runs its code.
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
pub mod registry;
pub(crate) mod system_config;
pub(crate) mod table;
pub(crate) mod table_manager;
pub(crate) mod table_rows;

use crate::state_db::{StateDb, StatusHint};
use alloy_primitives::{Address, Bytes, address};
use aurum_crypto::CryptoSuite;
use call::{PcCall, PcError};
use registry::Rules;
use revm::context::{BlockEnv, CfgEnv, Context, Journal, TxEnv};
use revm::context_interface::{ContextTr, JournalTr};
use revm::handler::{EthPrecompiles, PrecompileProvider};
use revm::interpreter::{CallInputs, Gas, InstructionResult, InterpreterResult};
use revm::primitives::AddressSet;
use revm::primitives::hardfork::SpecId;
use std::sync::{Arc, LazyLock};

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
/// Every platform precompile at a fixed address, at any version (tables opened by
/// TableManager come on top): the addresses of [`registry::REGISTRY`].
pub static PLATFORM_PRECOMPILES: LazyLock<Vec<Address>> = LazyLock::new(registry::all_addresses);

/// What the precompiles need to know about the block and the chain.
#[derive(Clone)]
pub(crate) struct PrecompileEnv {
    pub block_number: u64,
    pub admins: Vec<Address>,
    /// SM2/SM3 for the Crypto precompile, whatever the chain's own suite.
    pub sm: Arc<dyn CryptoSuite>,
    /// Which precompiles exist at this block and how they behave.
    pub rules: Rules,
}

pub(crate) struct AurumPrecompiles {
    eth: EthPrecompiles,
    warm: AddressSet,
    env: PrecompileEnv,
}

impl AurumPrecompiles {
    pub(crate) fn new(env: PrecompileEnv) -> Self {
        let eth = EthPrecompiles::new(SpecId::CANCUN);
        let warm = Self::warm_set(&eth, &env.rules);
        Self { eth, warm, env }
    }

    fn warm_set(eth: &EthPrecompiles, rules: &Rules) -> AddressSet {
        let mut warm = eth.warm_addresses().clone();
        warm.extend(rules.addresses());
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
            self.warm = Self::warm_set(&self.eth, &self.env.rules);
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
            if address == crate::state_db::SHADOW {
                Err(PcError::input("this address is reserved for the executor's journal"))
            } else if let Some(entry) = self.env.rules.lookup(&address) {
                entry.precompile.run(&mut call, &input)
            } else {
                // Reserved but unassigned (at this version): behaves as an empty account.
                return Ok(None);
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
