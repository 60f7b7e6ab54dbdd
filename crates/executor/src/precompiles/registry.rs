//! The precompile registry: one table of the platform contracts at fixed addresses, and
//! the per-block [`Rules`] that say which of them exist at a block.
//!
//! A platform contract is a type implementing [`Precompile`] in its own file plus one row
//! of [`REGISTRY`] naming its address and the `compatibility_version` it exists from.
//! Which precompiles a block sees, and how they behave, follow from the group's
//! `compatibility_version` as the block's parent state holds it ([`Rules::from_state`]):
//! every node reads the same value, so a precompile added or changed under a new version
//! appears on every node at the same block, once governance raises the version.

use super::call::{PcCall, PcError, PcResult};
use super::{
    CONSENSUS_ADDRESS, CRYPTO_ADDRESS, DAG_TRANSFER_ADDRESS, KV_TABLE_ADDRESS,
    PARALLEL_CONFIG_ADDRESS, SYSTEM_CONFIG_ADDRESS, TABLE_ADDRESS, TABLE_MANAGER_ADDRESS,
};
use super::{consensus, crypto, dag_transfer, kv, parallel_config, system_config, table_manager};
use alloy_primitives::{Address, Bytes};
use aurum_primitives::state::{StateError, StateReader, SystemConfigEntry, system_config_key};

/// A platform contract: what a call to its address does.
pub(crate) trait Precompile: Sync {
    /// Runs one call (the caller, gas and journaled state are in `call`; the block's rules
    /// in `call.env.rules`).
    fn run(&self, call: &mut PcCall<'_, '_>, input: &[u8]) -> PcResult<Bytes>;

    /// How the parallel scheduler learns the conflict keys of a call with `input`.
    fn conflicts(&self, _input: &[u8]) -> Conflicts {
        Conflicts::Registered
    }
}

/// Where a call's conflict keys come from (see `parallel::declared_keys`).
pub(crate) enum Conflicts {
    /// As for any contract: functions registered with ParallelConfig.
    Registered,
    /// The precompile's own reading of the input (`None`: undeclared).
    Own(Option<Vec<Vec<u8>>>),
}

/// A `compatibility_version`: `major.minor.patch`, ordered as numbers. A bare integer
/// (genesis writes `"1"`) is `N.0.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    /// Every chain, whatever its version, has what exists since this one.
    pub const MIN: Version = Version(0, 0, 0);

    /// Parses `"3.6.0"` or `"1"`; `None` for anything else.
    pub fn parse(s: &str) -> Option<Version> {
        let mut parts = s.trim().split('.').map(|p| {
            let canonical = !p.is_empty() && (p == "0" || !p.starts_with('0'));
            if canonical { p.parse::<u32>().ok() } else { None }
        });
        let major = parts.next()??;
        let minor = parts.next().unwrap_or(Some(0))?;
        let patch = parts.next().unwrap_or(Some(0))?;
        match parts.next() {
            Some(_) => None,
            None => Some(Version(major, minor, patch)),
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// One row of the registry.
pub(crate) struct Entry {
    pub address: Address,
    /// The first `compatibility_version` at which the precompile exists.
    pub since: Version,
    pub precompile: &'static dyn Precompile,
}

/// Every platform contract at a fixed address (tables opened by TableManager come on top,
/// found by address in state). Add a precompile here, with the version it starts at.
pub(crate) static REGISTRY: &[Entry] = &[
    Entry {
        address: SYSTEM_CONFIG_ADDRESS,
        since: Version::MIN,
        precompile: &system_config::SystemConfig,
    },
    Entry { address: TABLE_ADDRESS, since: Version::MIN, precompile: &LegacyTable },
    Entry {
        address: TABLE_MANAGER_ADDRESS,
        since: Version::MIN,
        precompile: &table_manager::TableManager,
    },
    Entry { address: CONSENSUS_ADDRESS, since: Version::MIN, precompile: &consensus::Consensus },
    Entry {
        address: PARALLEL_CONFIG_ADDRESS,
        since: Version::MIN,
        precompile: &parallel_config::ParallelConfig,
    },
    Entry { address: KV_TABLE_ADDRESS, since: Version::MIN, precompile: &kv::LegacyKvTable },
    Entry { address: CRYPTO_ADDRESS, since: Version::MIN, precompile: &crypto::Crypto },
    Entry {
        address: DAG_TRANSFER_ADDRESS,
        since: Version::MIN,
        precompile: &dag_transfer::DagTransfer,
    },
];

/// 0x1001: tables are reached through `openTable` in 3.x; a direct call is refused.
struct LegacyTable;

impl Precompile for LegacyTable {
    fn run(&self, _call: &mut PcCall<'_, '_>, _input: &[u8]) -> PcResult<Bytes> {
        Err(PcError::input(
            "0x1001 is not callable in 3.x: get a table's address from \
             TableManager(0x1002).openTable(path)",
        ))
    }
}

/// What a block's precompiles follow from the group's `compatibility_version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// The version in effect.
    pub version: Version,
}

impl Rules {
    /// The rules at `version`.
    pub fn at(version: Version) -> Rules {
        Rules { version }
    }

    /// The rules of the block executed over `state` (its parent state): the stored
    /// `compatibility_version`. A missing or unreadable value means [`Version::MIN`]
    /// (values are validated when set, so only a hand-made genesis can hold one), which
    /// keeps every node on the same rules rather than stopping the chain.
    pub fn from_state(state: &dyn StateReader) -> Result<Rules, StateError> {
        let version = state
            .get(&system_config_key("compatibility_version"))?
            .and_then(|bytes| SystemConfigEntry::decode(&bytes).ok())
            .and_then(|entry| Version::parse(&entry.value))
            .unwrap_or(Version::MIN);
        Ok(Rules { version })
    }

    /// The registry row of the precompile at `address`, if it exists under these rules.
    pub(crate) fn lookup(&self, address: &Address) -> Option<&'static Entry> {
        REGISTRY.iter().find(|e| e.address == *address && e.since <= self.version)
    }

    /// The addresses of every precompile these rules have (warm from the start of a tx,
    /// as EIP-2929 treats precompiles).
    pub fn addresses(&self) -> impl Iterator<Item = Address> + '_ {
        REGISTRY.iter().filter(|e| e.since <= self.version).map(|e| e.address)
    }
}

/// Every platform precompile address in the registry, whatever the version.
pub fn all_addresses() -> Vec<Address> {
    REGISTRY.iter().map(|e| e.address).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_order_as_numbers() {
        assert_eq!(Version::parse("1"), Some(Version(1, 0, 0)));
        assert_eq!(Version::parse("3.6.0"), Some(Version(3, 6, 0)));
        assert!(Version::parse("3.10.0") > Version::parse("3.9.9"));
        for bad in ["", "3.x", "3.6.0.1", "03.1", "-1", "3..1"] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn one_row_per_address_and_every_row_exists_at_every_version_today() {
        let mut seen = std::collections::BTreeSet::new();
        assert!(REGISTRY.iter().all(|e| seen.insert(e.address)), "duplicate address");
        let genesis = Rules::at(Version::MIN);
        assert_eq!(genesis.addresses().count(), REGISTRY.len());
        let later = Rules::at(Version(1, 0, 0));
        assert!(later.lookup(&SYSTEM_CONFIG_ADDRESS).is_some());
        assert!(later.lookup(&Address::with_last_byte(0x42)).is_none());
    }
}
