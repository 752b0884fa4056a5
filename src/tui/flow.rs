//! Where each stage and channel goes in the live view: stages left to right
//! in data-flow order, each channel in the gap between the stage that feeds
//! it and the stage that drains it.
//!
//! A snapshot names the stages that have sent on and received from each
//! channel; the view also learns from what workers wait on (states and
//! `Blocked` events), and keeps what it learned across restarts of the same
//! variant. A channel nobody has used yet goes by creation order, which is
//! data-flow order for a pipeline written top to bottom.

use std::collections::{BTreeMap, BTreeSet};

use crate::lab::{
    ChannelKind, ChannelSnapshot, EventKind, Snapshot, WorkerSnapshot, WorkerState, stage_of,
};

/// The stage drawn apart (below the flow): the lesson's own main.
pub const MAIN_STAGE: &str = "main";

/// Which stages were seen sending or receiving on which channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowLinks {
    senders: BTreeMap<String, BTreeSet<String>>,
    receivers: BTreeMap<String, BTreeSet<String>>,
}

impl FlowLinks {
    /// Records what a worker of `stage` in `state` tells about the channels.
    pub fn learn_state(&mut self, stage: &str, doing: &WorkerState) {
        match doing {
            WorkerState::BlockedSend { channel } => self.note(stage, channel, true),
            WorkerState::BlockedRecv { channel } => self.note(stage, channel, false),
            WorkerState::Selecting { arms } => {
                for arm in arms {
                    self.note(stage, &arm.channel, arm.send);
                }
            }
            WorkerState::Leaked { was } => self.learn_state(stage, was),
            _ => {}
        }
    }

    /// Records every worker's state and every channel's users in a snapshot.
    pub fn learn_snapshot(&mut self, snapshot: &Snapshot) {
        for worker in &snapshot.workers {
            self.learn_state(&worker.stage, &worker.state);
        }
        for channel in &snapshot.channels {
            for stage in &channel.sender_stages {
                self.note(stage, &channel.name, true);
            }
            for stage in &channel.receiver_stages {
                self.note(stage, &channel.name, false);
            }
        }
    }

    /// Records a `Blocked` event: it catches waits shorter than a frame.
    pub fn learn_event(&mut self, event: &EventKind) {
        if let EventKind::Blocked { worker, state } = event {
            self.learn_state(stage_of(worker), state);
        }
    }

    fn note(&mut self, stage: &str, channel: &str, send: bool) {
        let map = if send {
            &mut self.senders
        } else {
            &mut self.receivers
        };
        if !map.get(channel).is_some_and(|s| s.contains(stage)) {
            map.entry(channel.to_owned())
                .or_default()
                .insert(stage.to_owned());
        }
    }

    /// Stages seen sending on `channel`.
    pub fn senders(&self, channel: &str) -> impl Iterator<Item = &str> {
        self.senders
            .get(channel)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// Stages seen receiving on `channel`.
    pub fn receivers(&self, channel: &str) -> impl Iterator<Item = &str> {
        self.receivers
            .get(channel)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }
}

/// The workers of one stage (`square#1`, `square#2` → stage `square`).
#[derive(Debug)]
pub struct Stage<'a> {
    /// The stage's name.
    pub name: &'a str,
    /// Its workers, in spawn order.
    pub workers: Vec<&'a WorkerSnapshot>,
}

/// A snapshot arranged for drawing.
#[derive(Debug)]
pub struct Flow<'a> {
    /// The stages in data-flow order, without `main`.
    pub stages: Vec<Stage<'a>>,
    /// `main`'s worker(s), drawn apart.
    pub main: Vec<&'a WorkerSnapshot>,
    /// `stages.len() + 1` gaps: gap `k` lies just before stage `k`; the last
    /// lies after the last stage. Each holds the channels drawn there.
    pub gaps: Vec<Vec<&'a ChannelSnapshot>>,
}

impl Flow<'_> {
    /// Channels in the order they are drawn: gap by gap.
    pub fn channels(&self) -> impl Iterator<Item = &ChannelSnapshot> {
        self.gaps.iter().flatten().copied()
    }
}

/// Arranges a snapshot: stage order and channel gaps.
#[must_use]
pub fn arrange<'a>(snapshot: &'a Snapshot, links: &FlowLinks) -> Flow<'a> {
    let mut stages: Vec<Stage<'a>> = Vec::new();
    let mut main = Vec::new();
    for worker in &snapshot.workers {
        if worker.stage == MAIN_STAGE {
            main.push(worker);
        } else if let Some(stage) = stages.iter_mut().find(|s| s.name == worker.stage) {
            stage.workers.push(worker);
        } else {
            stages.push(Stage {
                name: &worker.stage,
                workers: vec![worker],
            });
        }
    }
    let stages = order_by_flow(stages, snapshot, links);
    let gaps = place_channels(&stages, &snapshot.channels, links);
    Flow { stages, main, gaps }
}

/// A stable topological order: a stage that receives from a channel comes
/// after the stages that send on it; ties (and cycles) keep first appearance.
fn order_by_flow<'a>(
    stages: Vec<Stage<'a>>,
    snapshot: &Snapshot,
    links: &FlowLinks,
) -> Vec<Stage<'a>> {
    let n = stages.len();
    let index = |name: &str| stages.iter().position(|s| s.name == name);
    let mut before = vec![BTreeSet::new(); n];
    for channel in &snapshot.channels {
        for to in links.receivers(&channel.name).filter_map(index) {
            for from in links.senders(&channel.name).filter_map(index) {
                if from != to {
                    before[to].insert(from);
                }
            }
        }
    }
    let mut placed = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        let ready = (0..n).find(|&i| !placed[i] && before[i].iter().all(|&p| placed[p]));
        // A cycle (a stage feeding an earlier one) falls back to first appearance.
        let Some(next) = ready.or_else(|| (0..n).find(|&i| !placed[i])) else {
            break;
        };
        placed[next] = true;
        order.push(next);
    }
    let mut slots: Vec<Option<Stage<'a>>> = stages.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

fn place_channels<'a>(
    stages: &[Stage<'_>],
    channels: &'a [ChannelSnapshot],
    links: &FlowLinks,
) -> Vec<Vec<&'a ChannelSnapshot>> {
    let n = stages.len();
    let index = |name: &str| stages.iter().position(|s| s.name == name);
    let mut gaps: Vec<Vec<&'a ChannelSnapshot>> = vec![Vec::new(); n + 1];
    // A channel not seen in use yet goes one gap after the channel created
    // before it: a pipeline built top to bottom comes out right.
    let mut previous_gap = 0;
    // Timers (`after`, `tick`) and `never` are one worker's private alarms,
    // not links between stages: the worker shows as sleeping instead.
    for channel in channels.iter().filter(|c| c.kind == ChannelKind::Normal) {
        let last_sender = links.senders(&channel.name).filter_map(index).max();
        let first_receiver = links.receivers(&channel.name).filter_map(index).min();
        let gap = match (last_sender, first_receiver) {
            (Some(s), _) => s + 1,
            (None, Some(r)) => r,
            (None, None) => (previous_gap + 1).min(n),
        };
        gaps[gap].push(channel);
        previous_gap = gap;
    }
    for gap in &mut gaps {
        gap.sort_by_key(|c| c.id);
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::SelectArm;

    #[test]
    fn learns_links_from_waits_and_events() {
        let mut links = FlowLinks::default();
        links.learn_event(&EventKind::Blocked {
            worker: "square#2".into(),
            state: WorkerState::BlockedSend {
                channel: "squares".into(),
            },
        });
        links.learn_state(
            "filter",
            &WorkerState::Selecting {
                arms: vec![
                    SelectArm {
                        channel: "squares".into(),
                        send: false,
                        timer: false,
                    },
                    SelectArm {
                        channel: "done".into(),
                        send: false,
                        timer: false,
                    },
                ],
            },
        );
        assert_eq!(links.senders("squares").collect::<Vec<_>>(), ["square"]);
        assert_eq!(links.receivers("squares").collect::<Vec<_>>(), ["filter"]);
        assert_eq!(links.receivers("done").collect::<Vec<_>>(), ["filter"]);
        assert_eq!(links.senders("done").count(), 0);
    }
}
