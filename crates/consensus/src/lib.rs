//! PBFT as a pure state machine: [`Pbft::step`] takes an [`Input`] (a message, a tick of
//! time, the driver's answer) and returns [`Output`]s (persist, send, propose, validate,
//! execute, commit). No sockets, no clocks, no threads: a driver wires it to the network and
//! the ledger, and the simulation harness (tests/simulation.rs) drives many instances with
//! loss, delay, crashes and byzantine peers.
//!
//! One height at a time: pre-prepare → prepare (quorum = ⌊2W/3⌋+1 by weight) → commit →
//! execute → signed checkpoints over the final block hash (the commit certificate) → next
//! height. View change per height with prepared certificates as justification; a node joins
//! a higher view once peers holding more than a third of the weight ask for one, so a single
//! node cannot force view changes. Votes, view and lock are persisted before they are sent.
//!
//! Message size: a view-change vote carries its prepared certificate as digests and
//! signatures ([`PreparedProof`]); only the copy to the new view's leader adds the locked
//! payload, and a new-view message carries one payload (the one re-proposed, checked against
//! the highest certificate's digest by every replica). So no message is larger than one
//! proposal plus O(n²) signatures, however many nodes prepared. The wire codec is versioned
//! ([`WIRE_VERSION`]); a message of another version is refused with [`CodecError::WireVersion`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod codec;
mod pbft;
mod types;

pub use codec::{CodecError, WIRE_VERSION};
pub use pbft::{Pbft, PbftConfig};
pub use types::*;
