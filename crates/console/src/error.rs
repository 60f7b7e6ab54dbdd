//! The console's one error type: what went wrong and what to do next, on one line.

use std::fmt;

/// A failed command. Shown as one line: the problem, then the next step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandError {
    pub message: String,
    /// What the user can do about it ("run newAccount or loadAccount").
    pub next: Option<String>,
}

impl CommandError {
    pub fn new(message: impl Into<String>) -> Self {
        CommandError { message: message.into(), next: None }
    }

    /// Adds the next step to take.
    pub fn next(mut self, next: impl Into<String>) -> Self {
        self.next = Some(next.into());
        self
    }

    /// A wrong argument list: says the usage and points at `help`.
    pub fn usage(spec: &crate::registry::Spec, problem: impl fmt::Display) -> Self {
        CommandError::new(format!("{problem}; usage: {} {}", spec.name, spec.usage))
            .next(format!("see `help {}` for an example", spec.name))
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(next) = &self.next {
            write!(f, " — {next}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CommandError {}

impl From<aurum_sdk::SdkError> for CommandError {
    fn from(e: aurum_sdk::SdkError) -> Self {
        use aurum_sdk::SdkError::*;
        let next = match &e {
            Transport { .. } => Some("check the node is running and --url points at it"),
            Rpc { error, .. } if error.code == -32601 => {
                Some("this node does not serve that method (an admin method needs the admin URL)")
            }
            Rpc { error, .. } if error.code == aurum_sdk::CODE_UNKNOWN_GROUP => {
                Some("run getGroupList to see the groups, then switch group <id>")
            }
            Abi(_) => Some("run listAbi <contract> to see the methods and their types"),
            _ => None,
        };
        let err = CommandError::new(e.to_string());
        match next {
            Some(n) => err.next(n),
            None => err,
        }
    }
}

impl From<aurum_sdk::AbiError> for CommandError {
    fn from(e: aurum_sdk::AbiError) -> Self {
        CommandError::new(e.to_string())
            .next("run listAbi <contract> to see the methods and their types")
    }
}

pub type CmdResult<T> = Result<T, CommandError>;
