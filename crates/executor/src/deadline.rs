//! Inspectors that stop execution early without changing what a completed run computes:
//! [`Deadline`] (a wall-clock deadline for read-only calls) and [`StepBudget`] (an
//! instruction budget for speculative runs, whose result is then discarded).
//!
//! Gas bounds every block deterministically; an RPC call may still be given billions of
//! gas, so `eth_call` of an infinite loop would hold a thread for minutes. The inspector
//! reads the clock every [`CHECK_EVERY`] instructions (a clock read costs ~20 ns; an
//! instruction a few) and, once past the deadline, halts every frame at its next
//! instruction, so nested calls unwind at once. Never used for block execution.

use revm::Inspector;
use revm::interpreter::interpreter::EthInterpreter;
use revm::interpreter::{InstructionResult, Interpreter};
use std::time::{Duration, Instant};

/// Instructions between two clock reads.
const CHECK_EVERY: u32 = 4096;

/// Stops execution once `timeout` has passed since it was made.
#[derive(Debug)]
pub(crate) struct Deadline {
    timeout: Duration,
    at: Instant,
    countdown: u32,
    expired: bool,
}

impl Deadline {
    pub(crate) fn new(timeout: Duration) -> Self {
        let now = Instant::now();
        // A timeout too large to add is no deadline at all.
        let at = now.checked_add(timeout).unwrap_or(now + Duration::from_secs(86_400 * 365));
        Self { timeout, at, countdown: CHECK_EVERY, expired: false }
    }

    /// Whether the call was stopped by the clock.
    pub(crate) fn expired(&self) -> bool {
        self.expired
    }

    /// The timeout, in milliseconds, for the error message.
    pub(crate) fn millis(&self) -> u64 {
        u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX)
    }
}

impl<CTX> Inspector<CTX, EthInterpreter> for Deadline {
    fn step(&mut self, interp: &mut Interpreter<EthInterpreter>, _context: &mut CTX) {
        if !self.expired {
            self.countdown -= 1;
            if self.countdown > 0 {
                return;
            }
            self.countdown = CHECK_EVERY;
            if Instant::now() < self.at {
                return;
            }
            self.expired = true;
        }
        // Halting only the current frame would let its caller go on looping: every frame
        // halts from here on. The result is discarded by the caller (see `expired`).
        interp.halt(InstructionResult::OutOfGas);
    }
}

/// Stops a speculative run after `limit` instructions (over all its frames). A run that
/// completes within the budget is exactly the uninspected run; one that is stopped is
/// marked [`StepBudget::exhausted`] and thrown away, so the budget changes only the work
/// done, never a result.
#[derive(Debug)]
pub(crate) struct StepBudget {
    limit: u64,
    left: u64,
}

impl StepBudget {
    pub(crate) fn new(limit: u64) -> Self {
        Self { limit, left: limit }
    }

    /// A fresh budget for the next tx.
    pub(crate) fn reset(&mut self) {
        self.left = self.limit;
    }

    /// Whether the last run was stopped.
    pub(crate) fn exhausted(&self) -> bool {
        self.left == 0
    }
}

impl<CTX> Inspector<CTX, EthInterpreter> for StepBudget {
    fn step(&mut self, interp: &mut Interpreter<EthInterpreter>, _context: &mut CTX) {
        if self.left > 0 {
            self.left -= 1;
            if self.left > 0 {
                return;
            }
        }
        interp.halt(InstructionResult::OutOfGas);
    }
}
