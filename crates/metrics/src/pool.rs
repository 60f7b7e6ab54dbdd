//! What the tx pool records on admission.

use metrics::{Counter, counter};

pub const ADMITTED: &str = "aurum_txpool_admitted_total";
pub const REFUSED: &str = "aurum_txpool_refused_total";

pub(crate) const HELP: &[(&str, &str)] = &[
    (ADMITTED, "Transactions admitted to the pool, by source (client: RPC; peer: gossip)."),
    (
        REFUSED,
        "Transactions refused by the pool, by source and reason (the `data.reason` RPC clients get).",
    ),
];

/// The refusal reasons the pool gives (`AdmitError::reason`); a reason not listed here is
/// still counted, through a handle made when it first occurs.
pub const REASONS: &[&str] = &[
    "TooLarge",
    "Decode",
    "Unsupported",
    "BadSignature",
    "WrongChain",
    "WrongGroup",
    "WrongEthChainId",
    "AlreadyKnown",
    "AlreadyCommitted",
    "NonceUsed",
    "NonceTooLow",
    "NonceTooHigh",
    "BlockLimit",
    "PoolFull",
    "SenderQuota",
    "Internal",
];

/// Where a tx came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Client,
    Peer,
}

struct BySource {
    admitted: Counter,
    refused: Vec<Counter>,
}

/// One group's pool handles.
pub struct Pool {
    group: String,
    client: BySource,
    peer: BySource,
}

impl Pool {
    pub fn new(group: &str) -> Self {
        let by = |source: &'static str| {
            BySource {
            admitted: counter!(ADMITTED, "group" => group.to_string(), "source" => source),
            refused: REASONS
                .iter()
                .map(|r| {
                    counter!(REFUSED, "group" => group.to_string(), "source" => source, "reason" => *r)
                })
                .collect(),
        }
        };
        Pool { group: group.to_string(), client: by("client"), peer: by("peer") }
    }

    fn of(&self, source: Source) -> &BySource {
        match source {
            Source::Client => &self.client,
            Source::Peer => &self.peer,
        }
    }

    /// One tx admitted.
    pub fn admitted(&self, source: Source) {
        self.of(source).admitted.increment(1);
    }

    /// One tx refused for `reason`.
    pub fn refused(&self, source: Source, reason: &'static str) {
        match REASONS.iter().position(|r| *r == reason) {
            Some(i) => self.of(source).refused[i].increment(1),
            None => {
                let s = if source == Source::Client { "client" } else { "peer" };
                counter!(REFUSED, "group" => self.group.clone(), "source" => s, "reason" => reason)
                    .increment(1)
            }
        }
    }

    /// Records the outcome of one admission: admitted, or refused for that reason.
    pub fn record(&self, source: Source, refused: Option<&'static str>) {
        match refused {
            None => self.admitted(source),
            Some(reason) => self.refused(source, reason),
        }
    }
}
