//! Analysed contract code shared across blocks. Code is immutable under its hash, so a
//! cache keyed by hash is always valid; it saves the storage read and the jump-table
//! analysis every block would otherwise repeat for hot contracts.

use alloy_primitives::B256;
use alloy_primitives::map::B256Map;
use parking_lot::Mutex;
use revm::bytecode::Bytecode;

/// At most this many code objects are kept; past it the cache starts over (simple and
/// bounded; hot contracts are back after one read).
const MAX_ENTRIES: usize = 4096;

#[derive(Default)]
pub(crate) struct CodeCache {
    entries: Mutex<B256Map<Bytecode>>,
}

impl CodeCache {
    pub(crate) fn get(&self, hash: &B256) -> Option<Bytecode> {
        self.entries.lock().get(hash).cloned()
    }

    pub(crate) fn insert(&self, hash: B256, code: Bytecode) {
        let mut entries = self.entries.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(hash, code);
    }
}

impl std::fmt::Debug for CodeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeCache").field("entries", &self.entries.lock().len()).finish()
    }
}
