//! Consensus (0x1003): `addSealer(string,uint256)`, `addObserver(string)`, `remove(string)`,
//! `setWeight(string,uint256)`, each returning an int32 code (0 = success).
//!
//! The node list is one [`ConsensusNodeList`] under `consensus_nodes_key()`, sorted by
//! node id. A changed entry applies from `number + 1`. Only the genesis admins may call.

use super::abi::IConsensus;
use super::call::{PcCall, PcError, PcResult};
use alloy_primitives::{Bytes, U256};
use alloy_sol_types::{SolCall, SolInterface};
use aurum_primitives::state::{B512Bytes, ConsensusNode, ConsensusNodeList, consensus_nodes_key};

pub const CODE_INVALID_NODE_ID: i32 = -51100;
pub const CODE_LAST_SEALER: i32 = -51101;
pub const CODE_INVALID_WEIGHT: i32 = -51102;
pub const CODE_NODE_NOT_EXIST: i32 = -51103;

const SEALER: u8 = 0;
const OBSERVER: u8 = 1;

/// 0x1003 Consensus.
pub(crate) struct Consensus;

impl super::registry::Precompile for Consensus {
    fn run(&self, call: &mut PcCall<'_, '_>, input: &[u8]) -> PcResult<alloy_primitives::Bytes> {
        run(call, input)
    }
}

pub(crate) fn run(call: &mut PcCall<'_, '_>, input: &[u8]) -> PcResult<Bytes> {
    call.charge_call(input.len())?;
    let decoded = IConsensus::IConsensusCalls::abi_decode(input)
        .map_err(|e| PcError::input(format!("Consensus: bad call data: {e}")))?;
    call.require_write()?;
    if !call.is_admin() {
        return Err(PcError::denied(format!(
            "Consensus: {} is not an admin account; only admins may change the node list",
            call.caller
        )));
    }
    use IConsensus::IConsensusCalls as C;
    let code = match decoded {
        C::addSealer(c) => add_sealer(call, &c.nodeId, c.weight)?,
        C::addObserver(c) => add_observer(call, &c.nodeId)?,
        C::remove(c) => remove(call, &c.nodeId)?,
        C::setWeight(c) => set_weight(call, &c.nodeId, c.weight)?,
    };
    Ok(IConsensus::addSealerCall::abi_encode_returns(&code).into())
}

/// A node id is the hex of a 64-byte public key (an optional `0x` is accepted).
fn parse_node_id(s: &str) -> Option<B512Bytes> {
    let hex = s.strip_prefix("0x").unwrap_or(s);
    if hex.len() != 128 {
        return None;
    }
    let mut out = [0u8; 64];
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Some(B512Bytes::from(out))
}

/// A weight is 1..=2^32-1, so the sum over any sealer list fits in a u64 and quorum
/// arithmetic cannot overflow.
fn parse_weight(w: U256) -> Option<u64> {
    u64::try_from(w).ok().filter(|w| *w > 0 && *w <= u64::from(u32::MAX))
}

fn load(call: &mut PcCall<'_, '_>) -> PcResult<ConsensusNodeList> {
    match call.get(&consensus_nodes_key())? {
        None => Ok(ConsensusNodeList::default()),
        Some(bytes) => ConsensusNodeList::decode(&bytes).map_err(|e| {
            PcError::Db(aurum_primitives::StateError(format!(
                "the consensus node list is stored in an unreadable form: {e}"
            )))
        }),
    }
}

fn store(call: &mut PcCall<'_, '_>, mut list: ConsensusNodeList) -> PcResult<()> {
    list.nodes.sort_by_key(|n| n.node_id);
    call.put(consensus_nodes_key(), Some(list.encode()))
}

fn sealer_count(list: &ConsensusNodeList) -> usize {
    list.nodes.iter().filter(|n| n.role == SEALER).count()
}

fn upsert(call: &mut PcCall<'_, '_>, node_id: B512Bytes, role: u8, weight: u64) -> PcResult<i32> {
    let mut list = load(call)?;
    let enable_number = call.env.block_number.saturating_add(1);
    match list.nodes.iter_mut().find(|n| n.node_id == node_id) {
        Some(node) => {
            node.role = role;
            node.weight = weight;
            node.enable_number = enable_number;
        }
        None => list.nodes.push(ConsensusNode { node_id, role, weight, enable_number }),
    }
    store(call, list)?;
    Ok(0)
}

fn add_sealer(call: &mut PcCall<'_, '_>, node: &str, weight: U256) -> PcResult<i32> {
    let Some(node_id) = parse_node_id(node) else { return Ok(CODE_INVALID_NODE_ID) };
    let Some(weight) = parse_weight(weight) else { return Ok(CODE_INVALID_WEIGHT) };
    upsert(call, node_id, SEALER, weight)
}

fn add_observer(call: &mut PcCall<'_, '_>, node: &str) -> PcResult<i32> {
    let Some(node_id) = parse_node_id(node) else { return Ok(CODE_INVALID_NODE_ID) };
    let list = load(call)?;
    let is_sealer = list.nodes.iter().any(|n| n.node_id == node_id && n.role == SEALER);
    if is_sealer && sealer_count(&list) <= 1 {
        return Ok(CODE_LAST_SEALER);
    }
    upsert(call, node_id, OBSERVER, 0)
}

fn remove(call: &mut PcCall<'_, '_>, node: &str) -> PcResult<i32> {
    let Some(node_id) = parse_node_id(node) else { return Ok(CODE_INVALID_NODE_ID) };
    let mut list = load(call)?;
    let Some(pos) = list.nodes.iter().position(|n| n.node_id == node_id) else {
        return Ok(CODE_NODE_NOT_EXIST);
    };
    if list.nodes[pos].role == SEALER && sealer_count(&list) <= 1 {
        return Ok(CODE_LAST_SEALER);
    }
    list.nodes.remove(pos);
    store(call, list)?;
    Ok(0)
}

fn set_weight(call: &mut PcCall<'_, '_>, node: &str, weight: U256) -> PcResult<i32> {
    let Some(node_id) = parse_node_id(node) else { return Ok(CODE_INVALID_NODE_ID) };
    let Some(weight) = parse_weight(weight) else { return Ok(CODE_INVALID_WEIGHT) };
    let list = load(call)?;
    match list.nodes.iter().find(|n| n.node_id == node_id) {
        None => Ok(CODE_NODE_NOT_EXIST),
        Some(n) if n.role != SEALER => {
            Err(PcError::input("Consensus: only a sealer has a weight; use addSealer first"))
        }
        Some(_) => upsert(call, node_id, SEALER, weight),
    }
}
