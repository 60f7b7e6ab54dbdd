//! Carrying out what the state machine asks: persist, send, propose, validate, execute,
//! commit; and sending decided blocks to a lagging peer.

use super::*;

impl Driver {
    pub(super) fn run_outputs(&mut self, outputs: Vec<Output>) {
        let mut queue: VecDeque<Output> = outputs.into();
        while let Some(output) = queue.pop_front() {
            let more = self.carry_out(output);
            queue.extend(more);
        }
    }

    /// Carries out one output; returns what the state machine said in answer.
    fn carry_out(&mut self, output: Output) -> Vec<Output> {
        let Some(inst) = &mut self.instance else { return Vec::new() };
        let group_id = self.group.id().to_string();
        match output {
            Output::Persist(record) => {
                // The record exists so that a restarted node never contradicts votes others
                // hold. A lone sealer's votes reach no one: nothing it voted can be
                // contradicted, so it keeps no record (the block is durable by the ledger's
                // commit; after a restart it simply proposes afresh).
                if inst.sealers.len() == 1 {
                    return Vec::new();
                }
                let mut batch = WriteBatch { durable: true, ..Default::default() };
                batch.put(CONSENSUS_NAMESPACE, group_id.into_bytes(), record.encode());
                if let Err(e) = self.store.write(batch) {
                    // Sending a vote we could not persist could make us vote twice after a
                    // restart: stop here rather than risk it.
                    tracing::error!(group = self.group.id(), error = %e, "cannot persist consensus state; stopping this node's consensus");
                    self.instance = None;
                }
                Vec::new()
            }
            Output::Broadcast(message) => {
                let payload = bytes::Bytes::from(message.encode());
                for (i, s) in inst.sealers.iter().enumerate() {
                    if i as NodeIndex != inst.me {
                        self.network.send(
                            &s.node_id,
                            &group_id,
                            Module::Consensus,
                            payload.clone(),
                        );
                    }
                }
                Vec::new()
            }
            Output::Send { to, message } => {
                if let Some(s) = inst.sealers.get(to as usize) {
                    let payload = bytes::Bytes::from(message.encode());
                    self.network.send(&s.node_id, &group_id, Module::Consensus, payload);
                }
                Vec::new()
            }
            Output::Propose { height, view } => {
                self.pending_propose = Some((height, view));
                Vec::new()
            }
            Output::Validate { height, view, digest, payload } => {
                // Our own proposal was checked as it was built.
                if self.checked.contains_key(&digest) {
                    self.phases.validated.get_or_insert_with(Instant::now);
                    return inst.pbft.step(Input::Validated { height, view, digest, valid: true });
                }
                let valid = match self.group.check_proposal(&payload) {
                    Ok(block) => {
                        self.checked.insert(digest, block);
                        self.phases.validated.get_or_insert_with(Instant::now);
                        true
                    }
                    // Not on our head: sync or a commit moved the ledger meanwhile (a node
                    // rejoining), not a faulty leader.
                    Err(e @ aurum_group::BlockRejected::NotNext { .. }) => {
                        tracing::debug!(group = self.group.id(), height, view, error = %e, "proposal not on our head");
                        false
                    }
                    Err(e) => {
                        tracing::warn!(group = self.group.id(), height, view, error = %e, "refused a proposal");
                        false
                    }
                };
                inst.pbft.step(Input::Validated { height, view, digest, valid })
            }
            Output::Execute { height, digest, payload } => {
                self.phases.decided = Some(Instant::now());
                let checked = match self.checked.remove(&digest) {
                    Some(block) => Ok(block),
                    None => self.group.check_proposal(&payload),
                };
                let executed = checked
                    .map_err(|e| e.to_string())
                    .and_then(|b| self.group.execute_checked(&b).map_err(|e| e.to_string()));
                match executed {
                    Ok(block) => {
                        let block_hash = block.hash;
                        self.executed.insert(digest, block);
                        self.phases.executed = Some(Instant::now());
                        inst.pbft.step(Input::Executed { height, digest, block_hash })
                    }
                    Err(e) => {
                        // Sync may have committed this height while consensus decided it
                        // (a node rejoining): nothing is wrong then.
                        let head = self.group.ledger().head_number().unwrap_or(0);
                        if head >= height {
                            tracing::debug!(
                                group = self.group.id(),
                                height,
                                head,
                                "decided block already committed by sync"
                            );
                        } else {
                            tracing::error!(group = self.group.id(), height, head, error = %e, "cannot execute a decided block; following by sync");
                        }
                        Vec::new()
                    }
                }
            }
            Output::Commit(decision) => {
                self.commit(decision);
                Vec::new()
            }
            Output::ViewChanged { height, view } => {
                tracing::info!(group = self.group.id(), height, view, "view change");
                self.metrics.view_changed(view);
                self.pending_propose = None;
                self.give_back_taken();
                Vec::new()
            }
            Output::CatchUp { peer, from_height } => {
                // Blocks from the ledger at most once a second per peer: a small stale
                // message must not buy a faulty peer megabytes on demand.
                let due =
                    self.catch_up_sent.get(&peer).is_none_or(|at| at.elapsed() >= CATCH_UP_EVERY);
                if due && let Some(s) = inst.sealers.get(peer as usize) {
                    let to = s.node_id;
                    self.catch_up_sent.insert(peer, Instant::now());
                    self.send_decided(&to, from_height);
                }
                Vec::new()
            }
        }
    }

    fn commit(&mut self, decision: Decision) {
        let Some(block) = self.executed.remove(&decision.digest) else {
            let head = self.group.ledger().head_number().unwrap_or(0);
            if head >= decision.height {
                tracing::debug!(
                    group = self.group.id(),
                    height = decision.height,
                    "decided block already committed by sync"
                );
            } else {
                tracing::warn!(
                    group = self.group.id(),
                    height = decision.height,
                    head,
                    "decided block was not executed here; following by sync"
                );
            }
            return;
        };
        let certificate = CommitCertificate {
            block_hash: decision.block_hash,
            signatures: decision
                .certificate
                .iter()
                .map(|v| SealerSignature { sealer_index: v.node, signature: v.sig.clone() })
                .collect(),
        };
        let certified = Instant::now();
        match self.group.commit_executed(&block, &certificate) {
            Ok(_) => {
                // Where a height's time goes: gathering txs and the proposal's trip, the
                // prepare/commit rounds, execution, the checkpoint round, the ledger write.
                let p = self.phases;
                tracing::debug!(
                    group = self.group.id(),
                    number = decision.height,
                    txs = block.txs.len(),
                    until_validated_ms = ms(Some(self.last_commit), p.validated),
                    agree_ms = ms(p.validated, p.decided),
                    execute_ms = ms(p.decided, p.executed),
                    checkpoint_ms = ms(p.executed, Some(certified)),
                    commit_ms = ms(Some(certified), Some(Instant::now())),
                    "committed block"
                );
                self.metrics.committed(&aurum_metrics::consensus::Committed {
                    txs: block.txs.len(),
                    since: self.last_commit,
                    marks: [p.validated, p.decided, p.executed, Some(certified)],
                    sealers: self.instance.as_ref().map_or(0, |i| i.sealers.len()),
                    view: self.instance.as_ref().map_or(0, |i| i.pbft.view()),
                    signatures: certificate.signatures.len(),
                });
            }
            Err(e) => {
                // The state machine has moved on (and persisted so); the ledger has not.
                // Rebuilding sees the record ahead of the ledger and follows by sync.
                tracing::error!(group = self.group.id(), number = decision.height, error = %e, "commit failed");
                self.metrics.commit_failed();
                self.instance = None;
                self.give_back_taken();
                return;
            }
        }
        self.give_back_taken();
        self.checked.clear();
        self.executed.clear();
        self.pending_propose = None;
        self.round_active = false;
        self.last_commit = Instant::now();
        self.head_has_txs = Some(!block.txs.is_empty());
        self.phases = Phases::default();
        // The sealer set may change from the next height on (the Consensus precompile).
        let next = decision.height + 1;
        let changed = match (&self.instance, self.group.sealers(next), self.leader_period(next)) {
            (Some(inst), Ok(sealers), Ok(period)) => {
                inst.sealers != sealers || inst.leader_period != period
            }
            _ => true,
        };
        if changed && let Err(e) = self.rebuild(next) {
            tracing::error!(group = self.group.id(), error = %e, "switching sealer set");
        }
    }

    /// Txs taken for a proposal that did not commit go back to the pool (committed ones
    /// already left it).
    pub(super) fn give_back_taken(&mut self) {
        if !self.taken.is_empty() {
            self.group.pool().return_batch(std::mem::take(&mut self.taken));
        }
    }

    pub(super) fn maybe_propose(&mut self) -> aurum_group::Result<()> {
        let Some((height, view)) = self.pending_propose else { return Ok(()) };
        let Some(inst) = &self.instance else { return Ok(()) };
        if inst.pbft.height() != height || inst.pbft.view() != view {
            self.pending_propose = None;
            return Ok(());
        }
        let me = inst.me;
        let waiting = self.group.pool().waiting();
        // After a view change the new leader must propose something, or the view change
        // never completes: an empty block if no tx waits. So must a leader whose chain went
        // idle after a block with txs (one trailing empty block).
        let must = view > 0 || (waiting == 0 && self.trailing_block_due());
        if waiting == 0 && !must {
            return Ok(());
        }
        // Gather txs for up to min_seal_interval after the last block unless a block is full.
        let full = self.group.params(height)?.tx_count_limit as usize;
        if waiting < full && self.last_commit.elapsed() < self.options.min_seal_interval {
            return Ok(());
        }
        // Nothing proposable last time (e.g. only nonce-gapped txs): do not rescan the pool
        // on every loop.
        if self.empty_build.elapsed() < Duration::from_millis(100) {
            return Ok(());
        }
        let Some(built) = self.group.build_checked_proposal(height, me, must)? else {
            self.empty_build = Instant::now();
            return Ok(());
        };
        self.pending_propose = None;
        self.give_back_taken();
        let payload = Bytes::from(built.payload);
        if let Ok(mut own) = self.own_proposal.lock() {
            *own = Some((payload.clone(), built.digest));
        }
        self.checked.insert(built.digest, built.block);
        self.taken = built.hashes;
        self.taken_view = view;
        self.round_active = true;
        self.step(Input::Proposal { height, view, payload });
        Ok(())
    }

    /// Sends decided blocks from the ledger to a peer stuck at `from_height`.
    fn send_decided(&self, to: &PublicKey, from_height: u64) {
        let ledger = self.group.ledger();
        let Ok(head) = ledger.head_number() else { return };
        let last = head.min(from_height + CATCH_UP_BLOCKS - 1);
        for number in from_height..=last {
            let (Ok(Some(block)), Ok(Some(cert))) =
                (ledger.block(number), ledger.certificate(number))
            else {
                return;
            };
            let suite = &**self.group.suite();
            let decision = Decision {
                height: number,
                digest: block.header.proposal_hash(suite),
                payload: Bytes::from(encode_proposal(&block.header, &block.txs)),
                block_hash: cert.block_hash,
                certificate: cert
                    .signatures
                    .iter()
                    .map(|s| Vote { node: s.sealer_index, sig: s.signature.clone() })
                    .collect(),
            };
            let payload = bytes::Bytes::from(Message::Decided(decision).encode());
            self.network.send(to, self.group.id(), Module::Consensus, payload);
        }
    }
}
