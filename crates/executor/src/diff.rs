//! Building the block's [`StateDiff`] from what the block's transactions left dirty in the
//! [`StateDb`]. The diff is a `BTreeMap`, so the order in which the hash sets below are
//! walked never shows in the result.

use crate::state_db::StateDb;
use alloy_primitives::{Address, B256, U256};
use aurum_primitives::state::{self, StateDiff, StateError};
use revm::primitives::KECCAK_EMPTY;

impl StateDb<'_> {
    /// The block's writes: accounts as [`state::AccountInfo`], storage as 32-byte
    /// big-endian values (zero deletes), new code under its keccak hash, destroyed
    /// accounts with all their storage deleted, and precompile keys as written.
    pub(crate) fn build_diff(&self) -> Result<StateDiff, StateError> {
        // Collected first and sorted once: `BTreeMap::from_iter` sorts stably and keeps the
        // last of equal keys, so a slot written after its account was wiped wins.
        let mut writes: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();

        for address in &self.wiped {
            for (key, _) in self.reader().scan_prefix(&wipe_prefix(address), 0)? {
                writes.push((key, None));
            }
        }

        for address in &self.dirty_accounts {
            let value = self.current_account(address).map(|info| {
                let code_hash =
                    if info.code_hash == KECCAK_EMPTY { B256::ZERO } else { info.code_hash };
                state::AccountInfo { nonce: info.nonce, balance: info.balance, code_hash }.encode()
            });
            writes.push((state::account_key(address), value));
        }

        for (address, slot, value) in self.dirty_slots() {
            let key = state::storage_key(address, &U256::from_be_bytes(slot.0));
            let value = (!value.is_zero()).then(|| value.to_be_bytes::<32>().to_vec());
            writes.push((key, value));
        }

        for (hash, code) in &self.new_code {
            let key = state::code_key(hash);
            if self.reader().get(&key)?.is_none() {
                writes.push((key, Some(code.original_bytes().to_vec())));
            }
        }

        writes.extend(self.raw_overlay.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(StateDiff { writes: writes.into_iter().collect() })
    }
}

/// Prefix of all storage keys of one account (`storage_key` minus the slot).
fn wipe_prefix(address: &Address) -> Vec<u8> {
    let mut prefix = state::storage_key(address, &U256::ZERO);
    prefix.truncate(1 + 20);
    prefix
}
