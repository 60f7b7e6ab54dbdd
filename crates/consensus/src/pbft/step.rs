//! The entry points: [`Pbft::start`], [`Pbft::step`], and routing a peer's message to the
//! phase that handles it.

use super::state::{Pbft, VIEW_WINDOW};
use crate::types::*;
use alloy_primitives::B256;

impl Pbft {
    /// Call once after [`Pbft::new`]: starts the view timer and proposes if this node leads.
    #[must_use = "consensus outputs must be performed in order (persist before sending)"]
    pub fn start(&mut self, now_ms: u64) -> Vec<Output> {
        self.now = now_ms;
        self.view_started = now_ms;
        let mut out = vec![Output::Persist(self.persisted.clone())];
        self.maybe_propose(&mut out);
        out
    }

    /// Advances the state machine by one input. Perform the outputs in order: a
    /// [`Output::Persist`] must be durable before any later output is acted on.
    #[must_use = "consensus outputs must be performed in order (persist before sending)"]
    pub fn step(&mut self, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        match input {
            Input::Tick { now_ms } => self.on_tick(now_ms, &mut out),
            Input::Message { from, message } => self.on_message(from, message, &mut out),
            Input::Proposal { height, view, payload } => {
                self.on_proposal(height, view, payload, &mut out)
            }
            Input::Validated { height, view, digest, valid } => {
                self.on_validated(height, view, digest, valid, &mut out)
            }
            Input::Executed { height, digest, block_hash } => {
                self.on_executed(height, digest, block_hash, &mut out)
            }
        }
        out
    }

    pub(super) fn on_validated(
        &mut self,
        height: u64,
        view: u64,
        digest: B256,
        valid: bool,
        out: &mut Vec<Output>,
    ) {
        if valid && height == self.height {
            self.round.validated.insert((view, digest));
            self.try_prepare(view, digest, out);
        }
    }

    pub(super) fn on_message(&mut self, from: NodeIndex, message: Message, out: &mut Vec<Output>) {
        if self.cfg.validators.weight(from) == 0 || from == self.me() {
            return;
        }
        let height = message.height();
        if height < self.height {
            self.help_lagging_peer(from, height, &message, out);
            return;
        }
        if height > self.height {
            self.keep_for_later(from, message);
            return;
        }
        let far = match &message {
            Message::Prepare { view, .. } | Message::Commit { view, .. } => *view,
            Message::ViewChange { vote, .. } => vote.new_view,
            _ => self.view,
        };
        if far > self.view.saturating_add(VIEW_WINDOW) {
            return;
        }
        match message {
            Message::PrePrepare { view, digest, payload, .. } => {
                self.on_pre_prepare(from, view, digest, payload, out)
            }
            Message::Prepare { view, digest, sig, .. } => {
                self.on_prepare(from, view, digest, sig, out)
            }
            Message::Commit { view, digest, sig, .. } => {
                self.on_commit(from, view, digest, sig, out)
            }
            Message::Checkpoint { digest, block_hash, sig, .. } => {
                self.on_checkpoint(from, digest, block_hash, sig, out)
            }
            Message::Committed { view, digest, payload, commits, .. } => {
                self.on_committed(view, digest, payload, commits, out)
            }
            Message::ViewChange { vote, payload } => self.on_view_change(from, vote, payload, out),
            Message::NewView { view, justification, digest, payload, .. } => {
                self.on_new_view(from, view, justification, digest, payload, out)
            }
            Message::Decided(decision) => self.on_decided(decision, out),
        }
    }
}
