//! Block tags and ids resolved against the head: only final blocks exist, so `pending`,
//! `safe` and `finalized` are the head.

use crate::backend::Backend;
use crate::jsonrpc::{RpcError, RpcResult, TX_REFUSED};
use alloy_eips::{BlockId, BlockNumberOrTag};

/// A tag's block number; None if a number is beyond the head.
pub fn tag_number(g: &dyn Backend, tag: BlockNumberOrTag) -> RpcResult<Option<u64>> {
    let h = g.head()?;
    Ok(match tag {
        BlockNumberOrTag::Earliest => Some(0),
        BlockNumberOrTag::Number(n) => (n <= h).then_some(n),
        _ => Some(h),
    })
}

/// The block whose state a state query reads (default: latest).
pub fn state_block(g: &dyn Backend, id: Option<BlockId>) -> RpcResult<u64> {
    match id {
        None => g.head(),
        Some(BlockId::Number(tag)) => tag_number(g, tag)?.ok_or_else(|| {
            RpcError::new(TX_REFUSED, "header not found: the block is beyond the head")
        }),
        Some(BlockId::Hash(h)) => g.block_number(&h.block_hash)?.ok_or_else(|| {
            RpcError::new(TX_REFUSED, format!("header not found: block {}", h.block_hash))
        }),
    }
}

/// The Ethereum chain id in force for the next block.
pub fn web3_chain_id(g: &dyn Backend) -> RpcResult<u64> {
    Ok(g.params(g.head()? + 1)?.web3_chain_id)
}
