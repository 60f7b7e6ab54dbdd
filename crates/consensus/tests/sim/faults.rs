//! The fault schedule of a run (partitions, crashes, leader crashes) and healing: drawn from
//! the run's seed before it starts, carried out by the events it queues.

use rand::Rng;

use super::{Ev, Sim};

impl Sim {
    /// Fault schedule for the window before heal.
    pub(super) fn plan(&mut self) {
        let heal = self.sc.heal_at_ms;
        if self.sc.partitions {
            let mut t = self.rng.random_range(0..400);
            while t < heal {
                let len = self.rng.random_range(100..=1_500);
                self.at(t, Ev::PartitionStart);
                self.at((t + len).min(heal), Ev::PartitionEnd);
                t += len + self.rng.random_range(50..=800);
            }
        }
        let honest: Vec<usize> = (0..self.sc.n()).filter(|&i| self.honest(i)).collect();
        for _ in 0..self.sc.crashes {
            if heal == 0 {
                break;
            }
            let t = self.rng.random_range(0..heal);
            let node = honest[self.rng.random_range(0..honest.len())];
            let mid_step = self.rng.random_ratio(self.sc.mid_step_pm, 1000);
            self.at(t, Ev::Crash { node, mid_step });
        }
        for _ in 0..self.sc.leader_crashes {
            if heal < 2 {
                break;
            }
            let t = self.rng.random_range(0..heal / 2);
            self.at(t, Ev::CrashLeader);
        }
        self.at(heal, Ev::Heal);
        self.at(0, Ev::Tick);
    }

    /// The leader the first honest node that is up is waiting for.
    pub(super) fn awaited_leader(&self) -> Option<usize> {
        let i = (0..self.sc.n()).find(|&i| self.honest(i) && self.nodes[i].up)?;
        let p = self.nodes[i].inst.first()?;
        Some(self.vals.leader(p.height(), p.view()) as usize)
    }

    /// The leader of the height after the one the first honest node that is up works on: it
    /// has not proposed yet, so crashing it forces a view change there.
    pub(super) fn next_leader(&self) -> Option<usize> {
        let i = (0..self.sc.n()).find(|&i| self.honest(i) && self.nodes[i].up)?;
        let p = self.nodes[i].inst.first()?;
        Some(self.vals.leader(p.height() + 1, 0) as usize)
    }

    pub(super) fn heal(&mut self) {
        self.faults_on = false;
        self.side = None;
        for i in 0..self.sc.n() {
            self.nodes[i].armed = None;
            if !self.nodes[i].up {
                self.boot(i);
            }
        }
        let top = (0..self.sc.n())
            .filter(|&i| self.honest(i))
            .map(|i| self.nodes[i].ledger_height)
            .max()
            .unwrap_or(0);
        let target = self.sc.min_target.max(top + self.sc.after_heal);
        self.log(|| format!("HEAL: every honest node must reach height {target}"));
        self.target = Some(target);
    }

    pub(super) fn crash(&mut self, i: usize, how: &str) {
        let node = &mut self.nodes[i];
        node.up = false;
        node.inst.clear();
        node.armed = None;
        self.counters.crashes += 1;
        let (lo, hi) = self.sc.downtime_ms;
        let back = self.now + self.rng.random_range(lo..=hi);
        self.log(|| format!("CRASH n{i} ({how}), back at {back}"));
        self.at(back, Ev::Restart { node: i });
    }

    /// A partition: one node, the leader awaited, or random groups, until its end.
    pub(super) fn partition_start(&mut self) {
        if !self.faults_on {
            return;
        }
        let n = self.sc.n();
        let mut side = vec![0u8; n];
        let shape = self.rng.random_range(0..3);
        let what = match shape {
            0 => {
                side[self.rng.random_range(0..n)] = 1;
                "one node".to_string()
            }
            1 => {
                let leader = self.awaited_leader().unwrap_or(0);
                side[leader] = 1;
                format!("leader {leader}")
            }
            _ => {
                for s in side.iter_mut() {
                    *s = self.rng.random_range(0..2);
                }
                "random groups".to_string()
            }
        };
        self.log(|| format!("PARTITION {what} {side:?}"));
        self.side = Some(side);
        self.counters.partitions += 1;
    }
}
