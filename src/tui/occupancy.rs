//! How full each channel has been over the run: a bounded history of
//! occupancy samples, taken from the snapshots the view absorbs (at its
//! frame rate), for the occupancy plot.
//!
//! The history is kept in lesson time ([`Snapshot::elapsed`]), not wall
//! time: a paused run adds no samples (they fall in the same moment), a
//! faster one is not squeezed, and a rewind or restart starts a new
//! history (the view forgets its [`LiveView`](super::app::LiveView), and a
//! snapshot from earlier than the last one clears what was kept). It stays
//! bounded however long the run: when a channel has more than
//! [`SAMPLES_KEPT`] moments, neighbouring moments merge (each keeps the
//! most it held), so the whole run stays in view, coarser.

use std::collections::VecDeque;
use std::time::Duration;

use crate::lab::{ChannelKind, ChannelSnapshot, Snapshot};

/// Most moments kept per channel: more columns than a wide terminal's plot.
pub const SAMPLES_KEPT: usize = 512;
/// The finest moment: samples closer together than this merge.
const FIRST_RESOLUTION: Duration = Duration::from_millis(1);

/// One moment of a channel's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// The moment's start, in lesson time.
    pub at: Duration,
    /// The most items the channel held in that moment.
    pub len: usize,
}

/// One channel's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    /// The channel's id in the run (creation order).
    pub id: usize,
    /// Its name.
    pub name: String,
    /// Its capacity (`None`: unbounded).
    pub capacity: Option<usize>,
    /// Items in it at the last sample.
    pub now: usize,
    /// The most it held in any sample.
    pub peak: usize,
    samples: VecDeque<Sample>,
}

impl History {
    /// Its moments, oldest first.
    pub fn samples(&self) -> impl ExactSizeIterator<Item = &Sample> + '_ {
        self.samples.iter()
    }

    /// `peak 4/4` for a bounded channel, `peak 812, cap ∞` for an unbounded one.
    #[must_use]
    pub fn peak_text(&self) -> String {
        match self.capacity {
            Some(cap) => format!("peak {}/{cap}", self.peak),
            None => format!("peak {}, cap ∞", self.peak),
        }
    }

    /// The history over `n` columns spanning lesson time `from..=to`: each
    /// column the most the channel held in its slice of time, the last
    /// value carried on through columns without a sample (a channel stays
    /// as full as it was until the next sample says otherwise), `None`
    /// before the channel's first sample. With no time between `from` and
    /// `to`, everything is in the last column: the plot ends at "now".
    #[must_use]
    pub fn columns(&self, from: Duration, to: Duration, n: usize) -> Vec<Option<usize>> {
        let mut columns: Vec<Option<usize>> = vec![None; n];
        if n == 0 {
            return columns;
        }
        let span = to.saturating_sub(from).as_nanos();
        let column_of = |at: Duration| -> usize {
            if span == 0 {
                return n - 1;
            }
            let offset = at.saturating_sub(from).as_nanos().min(span);
            usize::try_from(offset * n as u128 / span)
                .unwrap_or(n - 1)
                .min(n - 1)
        };
        let mut filled_to = None;
        for sample in &self.samples {
            let c = column_of(sample.at);
            // Carry the last value over the columns no sample fell in.
            if let Some((last_column, last_len)) = filled_to {
                for slot in columns.iter_mut().take(c).skip(last_column + 1) {
                    *slot = Some(last_len);
                }
            }
            let slot = &mut columns[c];
            *slot = Some(slot.map_or(sample.len, |held: usize| held.max(sample.len)));
            filled_to = Some((c, sample.len));
        }
        if let Some((last_column, last_len)) = filled_to {
            for slot in columns.iter_mut().skip(last_column + 1) {
                *slot = Some(last_len);
            }
        }
        columns
    }

    /// How full it has been at most, as a share of its capacity, with
    /// `reference` standing in for an unbounded channel's: the ranking of
    /// the fullest channels.
    fn fullness(&self, reference: usize) -> f64 {
        let of = self.capacity.unwrap_or(reference).max(1);
        self.peak as f64 / of as f64
    }

    fn record(&mut self, at: Duration, len: usize) {
        self.now = len;
        self.peak = self.peak.max(len);
        match self.samples.back_mut() {
            Some(last) if last.at == at => last.len = last.len.max(len),
            _ => self.samples.push_back(Sample { at, len }),
        }
    }

    /// Merges the moments onto a grid of `resolution`.
    fn coarsen(&mut self, resolution: Duration) {
        let mut merged: VecDeque<Sample> = VecDeque::with_capacity(self.samples.len() / 2 + 1);
        for sample in self.samples.drain(..) {
            let at = floor_to(sample.at, resolution);
            match merged.back_mut() {
                Some(last) if last.at == at => last.len = last.len.max(sample.len),
                _ => merged.push_back(Sample {
                    at,
                    len: sample.len,
                }),
            }
        }
        self.samples = merged;
    }
}

/// True for a channel whose occupancy means something: an ordinary
/// channel with a buffer (a rendezvous never holds an item; timers and
/// `never` are one worker's alarms, not drawn in the flow).
#[must_use]
pub fn plottable(channel: &ChannelSnapshot) -> bool {
    channel.kind == ChannelKind::Normal && channel.capacity != Some(0)
}

/// Every plottable channel's history in the current run.
#[derive(Debug, Clone, Default)]
pub struct Occupancy {
    channels: Vec<History>,
    /// The grid moments fall on; zero until the first sample.
    resolution: Duration,
    first: Option<Duration>,
    last: Option<Duration>,
}

impl Occupancy {
    /// Takes one snapshot's occupancy. A snapshot from earlier than the
    /// last one is another run's (a rewind, a restart): the old history
    /// goes.
    pub fn sample(&mut self, snapshot: &Snapshot) {
        let at = snapshot.elapsed;
        if self.last.is_some_and(|last| at < last) {
            self.clear();
        }
        if self.resolution.is_zero() {
            self.resolution = FIRST_RESOLUTION;
        }
        self.first.get_or_insert(at);
        self.last = Some(at);
        let moment = floor_to(at, self.resolution);
        for channel in snapshot.channels.iter().filter(|c| plottable(c)) {
            let history = self.history_of(channel);
            history.capacity = channel.capacity;
            history.record(moment, channel.len);
        }
        while self.channels.iter().any(|h| h.samples.len() > SAMPLES_KEPT) {
            self.resolution = self.resolution.saturating_mul(2);
            for history in &mut self.channels {
                history.coarsen(self.resolution);
            }
        }
    }

    /// The history of `channel`, new if it was not seen before.
    fn history_of(&mut self, channel: &ChannelSnapshot) -> &mut History {
        let known = self
            .channels
            .iter()
            .position(|h| h.id == channel.id && h.name == channel.name);
        let i = known.unwrap_or_else(|| {
            self.channels.push(History {
                id: channel.id,
                name: channel.name.clone(),
                capacity: channel.capacity,
                now: 0,
                peak: 0,
                samples: VecDeque::new(),
            });
            self.channels.len() - 1
        });
        &mut self.channels[i]
    }

    /// Forgets everything (a new run).
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Each channel's history, in the order the channels appeared.
    #[must_use]
    pub fn channels(&self) -> &[History] {
        &self.channels
    }

    /// The channel named `name`, if this run has it.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&History> {
        self.channels.iter().find(|h| h.name == name)
    }

    /// The lesson time the history covers: first sample to last.
    #[must_use]
    pub fn span(&self) -> Option<(Duration, Duration)> {
        Some((self.first?, self.last?))
    }

    /// The width of one moment now (it doubles as the run grows long).
    #[must_use]
    pub fn resolution(&self) -> Duration {
        self.resolution
    }

    /// The `n` fullest channels, in the order they appeared (so the plot's
    /// rows do not swap places as the ranking shifts). Fullest: the
    /// highest peak as a share of capacity; an unbounded channel's peak is
    /// measured against the largest bounded capacity of the run, so one
    /// that held more than any buffer could ranks first.
    #[must_use]
    pub fn fullest(&self, n: usize) -> Vec<&History> {
        let reference = self
            .channels
            .iter()
            .filter_map(|h| h.capacity)
            .max()
            .unwrap_or(1);
        let mut ranked: Vec<&History> = self.channels.iter().collect();
        // Stable: ties keep the order of appearance.
        ranked.sort_by(|a, b| b.fullness(reference).total_cmp(&a.fullness(reference)));
        ranked.truncate(n);
        ranked.sort_by_key(|h| h.id);
        ranked
    }
}

fn floor_to(at: Duration, resolution: Duration) -> Duration {
    let step = resolution.as_nanos().max(1);
    let floored = at.as_nanos() / step * step;
    Duration::from_nanos(u64::try_from(floored).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(samples: &[(u64, usize)]) -> History {
        let mut h = History {
            id: 0,
            name: "lines".into(),
            capacity: None,
            now: 0,
            peak: 0,
            samples: VecDeque::new(),
        };
        for &(ms, len) in samples {
            h.record(Duration::from_millis(ms), len);
        }
        h
    }

    #[test]
    fn columns_carry_the_last_value_and_keep_the_most() {
        let h = history(&[(0, 1), (10, 5), (11, 3), (40, 2)]);
        let ms = Duration::from_millis;
        assert_eq!(
            h.columns(ms(0), ms(40), 4),
            [Some(1), Some(5), Some(3), Some(2)]
        );
        assert_eq!(
            h.columns(ms(0), ms(80), 4),
            [Some(5), Some(3), Some(2), Some(2)]
        );
        // Before the first sample: nothing.
        let late = history(&[(30, 7)]);
        assert_eq!(late.columns(ms(0), ms(40), 4), [None, None, None, Some(7)]);
        // No time at all: the plot ends at "now".
        assert_eq!(late.columns(ms(30), ms(30), 3), [None, None, Some(7)]);
    }

    #[test]
    fn coarsening_keeps_the_peak_of_each_moment() {
        let mut h = history(&[(0, 1), (1, 9), (2, 2), (3, 4)]);
        h.coarsen(Duration::from_millis(2));
        let kept: Vec<(u128, usize)> = h.samples().map(|s| (s.at.as_millis(), s.len)).collect();
        assert_eq!(kept, [(0, 9), (2, 4)]);
        assert_eq!(h.peak, 9);
        assert_eq!(h.now, 4);
    }
}
