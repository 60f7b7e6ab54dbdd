//! The connection: one group on one of several nodes. The SDK client is made on first use
//! (so admin-only URLs, where `getGroupInfo` is not served, still work), and a node that
//! cannot be reached is skipped for the next URL given.

use crate::error::{CmdResult, CommandError};
use aurum_sdk::{Client, SdkError};
use serde_json::{Value, json};
use std::time::Duration;

/// How long one request may take: a console user is waiting.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

pub struct Session {
    urls: Vec<String>,
    current: usize,
    group: String,
    client: Option<Client>,
    http: reqwest::Client,
}

impl Session {
    pub fn new(urls: Vec<String>, group: String) -> CmdResult<Self> {
        if urls.is_empty() {
            return Err(CommandError::new("no node URL given").next("pass --url http://HOST:PORT"));
        }
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .build()
            .map_err(|e| CommandError::new(format!("cannot make an HTTP client: {e}")))?;
        Ok(Session { urls, current: 0, group, client: None, http })
    }

    pub fn group(&self) -> &str {
        &self.group
    }

    pub fn url(&self) -> &str {
        &self.urls[self.current]
    }

    /// Whether a group handshake has succeeded.
    pub fn is_connected(&self) -> bool {
        self.client.is_some()
    }

    /// Uses another group from the next command on.
    pub fn switch_group(&mut self, group: &str) {
        self.group = group.to_owned();
        self.client = None;
    }

    /// The SDK client of the group, connecting (with failover) if there is none yet.
    pub async fn client(&mut self) -> CmdResult<Client> {
        if let Some(c) = &self.client {
            return Ok(c.clone());
        }
        let mut last = None;
        for _ in 0..self.urls.len() {
            match Client::connect_with(self.http.clone(), self.url(), &self.group).await {
                Ok(c) => {
                    self.client = Some(c.clone());
                    return Ok(c);
                }
                Err(e @ SdkError::Transport { .. }) => {
                    last = Some(e);
                    self.current = (self.current + 1) % self.urls.len();
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(unreachable(&self.urls, last))
    }

    /// A native method of the group: the group goes first, then `rest`. A node that cannot
    /// be reached is swapped for the next one.
    pub async fn native(&mut self, method: &str, rest: Vec<Value>) -> CmdResult<Value> {
        let mut params = vec![json!(self.group)];
        params.extend(rest);
        let mut last = None;
        for _ in 0..self.urls.len() {
            let client = self.client().await?;
            match client.request::<Value>(method, &params).await {
                Err(e @ SdkError::Transport { .. }) => {
                    last = Some(e);
                    self.client = None;
                    self.current = (self.current + 1) % self.urls.len();
                }
                other => return other.map_err(Into::into),
            }
        }
        Err(unreachable(&self.urls, last))
    }

    /// A node-wide or admin method, without the group handshake (the group may not be
    /// served yet, or this is the admin listener).
    pub async fn raw(&mut self, method: &str, params: Value) -> CmdResult<Value> {
        let mut last = None;
        for _ in 0..self.urls.len() {
            let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
            let answer = match self.http.post(self.url()).json(&body).send().await {
                Ok(r) => r.json::<Value>().await,
                Err(e) => Err(e),
            };
            match answer {
                Ok(answer) => {
                    if let Some(e) = answer.get("error") {
                        let msg = e["message"].as_str().unwrap_or("error");
                        let err = CommandError::new(format!("{method}: {msg}"));
                        return Err(if e["code"] == json!(-32601) {
                            err.next("this node does not serve that method")
                        } else {
                            err
                        });
                    }
                    return Ok(answer["result"].clone());
                }
                Err(e) => {
                    last = Some(SdkError::Transport { method: method.into(), source: e });
                    self.current = (self.current + 1) % self.urls.len();
                }
            }
        }
        Err(unreachable(&self.urls, last))
    }
}

fn unreachable(urls: &[String], last: Option<SdkError>) -> CommandError {
    let why = last.map(|e| e.to_string()).unwrap_or_default();
    CommandError::new(format!("no node reachable at {}: {why}", urls.join(", ")))
        .next("start the node, or pass --url with a running node's RPC address")
}
