//! The PBFT state machine (see the crate docs for the protocol outline), one file per phase:
//!
//! - `state`: what an instance holds, its bounds, construction and restore;
//! - `step`: the entry points ([`Pbft::start`], [`Pbft::step`]) and message dispatch;
//! - `signing`: what each vote signs, and checking certificates and view-change votes;
//! - `proposal`: the leader's proposal and a replica's acceptance of it;
//! - `votes`: prepare → commit → decide, and the commit proof for peers that lost commits;
//! - `checkpoint`: execution results, the commit certificate, moving to the next height;
//! - `view_change`: timeouts, view-change votes, joining a view change;
//! - `new_view`: the new leader's justification and re-proposal, and checking it;
//! - `catch_up`: peers behind us (decided blocks) and messages ahead of us (buffered).
//!
//! Every phase file depends on `state` (and `signing`'s vote kinds) only; they call each
//! other through methods of [`Pbft`], so no file imports another phase.

mod catch_up;
mod checkpoint;
mod new_view;
mod proposal;
mod signing;
mod state;
mod step;
mod view_change;
mod votes;

pub use state::{Pbft, PbftConfig};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod view_change_tests;
