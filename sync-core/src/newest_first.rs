//! Where a newest-first listing of a partition stands, so that a partition of 10,000 items keeps
//! its progress: a run killed half-way resumes below what it stored, instead of starting over.
//!
//! A pass lists items newest first (strictly falling numbers: CircleCI and Bitbucket pipelines)
//! and reads each until the first one the last complete pass held as final (the `floor`). While
//! a pass goes on, the source checkpoints every few items with the ranges of numbers it has
//! stored: "every listed item numbered from `low` to `top` is stored". The next pass reads what
//! is above or below those ranges and skips what is inside them (unless held as not final); once
//! a pass completes, the floor becomes its newest number and the ranges are dropped.
//!
//! These are decisions only (no I/O): a source asks [`NewestFirst::decide`] for each listed item
//! and tells [`NewestFirst::mark`] each item it stored or skipped, in listing order.

use serde::{Deserialize, Serialize};

use crate::watermark::MarkRule;

/// Numbers from `low` to `top` (both included), all stored by the pass under way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberRange {
    /// The lowest.
    pub low: i64,
    /// The highest.
    pub top: i64,
}

impl NumberRange {
    fn contains(&self, n: i64) -> bool {
        (self.low..=self.top).contains(&n)
    }
}

/// What to do with a listed item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    /// Read it (new, or held as not final).
    Read,
    /// Stored by the pass under way already: nothing to read, but it is part of the pass.
    Skip,
    /// Held as final by the last complete pass: the pass ends here.
    Stop,
}

/// The progress of a partition's newest-first listing, saved in its state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewestFirst {
    /// The newest number of the last complete pass: items at or below it are held.
    #[serde(default)]
    pub floor: Option<i64>,
    /// The ranges stored by a pass under way (empty when none is).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stored: Vec<NumberRange>,
}

impl NewestFirst {
    /// Progress whose last complete pass held up to `floor`.
    pub fn from_floor(floor: Option<i64>) -> NewestFirst {
        NewestFirst {
            floor,
            stored: Vec::new(),
        }
    }

    /// What to do with an item numbered `number` (`None`: a number the listing did not give,
    /// always read); `pending`: held as not final, so read whatever its number.
    pub fn decide(&self, number: Option<i64>, pending: bool) -> Listed {
        let Some(n) = number else {
            return Listed::Read;
        };
        if pending {
            return Listed::Read;
        }
        if self.stored.iter().any(|r| r.contains(n)) {
            return Listed::Skip;
        }
        if self.floor.is_some_and(|f| n <= f) {
            return Listed::Stop;
        }
        Listed::Read
    }

    /// Records that the item numbered `number`, listed right after `previous` (the number of the
    /// item listed before it in this pass, if any), is stored (read or skipped). Items listed in
    /// an order that breaks newest first, and numbers no sequence reaches, are not recorded: the
    /// next pass reads them again rather than skip on their word.
    pub fn mark(&mut self, previous: Option<i64>, number: i64) {
        if number > MarkRule::SEQUENCE.ceiling || previous.is_some_and(|p| number >= p) {
            return;
        }
        let above = previous.and_then(|p| self.stored.iter().position(|r| r.contains(p)));
        let at = self.stored.iter().position(|r| r.contains(number));
        match (above, at) {
            (Some(a), Some(b)) if a != b => {
                let (ra, rb) = (self.stored[a], self.stored[b]);
                self.stored[a] = NumberRange {
                    low: ra.low.min(rb.low),
                    top: ra.top.max(rb.top),
                };
                self.stored.remove(b);
            }
            (Some(a), None) => self.stored[a].low = self.stored[a].low.min(number),
            (None, None) => self.stored.push(NumberRange {
                low: number,
                top: number,
            }),
            _ => {}
        }
        self.stored.sort_by_key(|r| std::cmp::Reverse(r.top));
    }

    /// The newest number stored by the pass under way (for the floor once the pass completes).
    pub fn stored_top(&self) -> Option<i64> {
        self.stored.iter().map(|r| r.top).max()
    }

    /// The pass completed and its newest plausible number is `floor`: the ranges go.
    pub fn complete(&mut self, floor: Option<i64>) {
        self.floor = floor;
        self.stored.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn a_resumed_pass_skips_what_it_stored_and_reads_around_it() {
        let mut p = NewestFirst::from_floor(Some(10));
        // The first pass stored 50 down to 41, then was killed.
        let mut prev = None;
        for n in (41..=50).rev() {
            assert_eq!(p.decide(Some(n), false), Listed::Read);
            p.mark(prev, n);
            prev = Some(n);
        }
        assert_eq!(p.stored, [NumberRange { low: 41, top: 50 }]);
        // Meanwhile 51 and 52 came: read, then 50..41 skipped, then 40.. read, 10 stops.
        assert_eq!(p.decide(Some(52), false), Listed::Read);
        assert_eq!(p.decide(Some(45), false), Listed::Skip);
        assert_eq!(p.decide(Some(45), true), Listed::Read, "held as not final");
        assert_eq!(p.decide(Some(40), false), Listed::Read);
        assert_eq!(p.decide(Some(10), false), Listed::Stop);
        p.mark(None, 52);
        p.mark(Some(52), 51);
        p.mark(Some(51), 50);
        assert_eq!(p.stored, [NumberRange { low: 41, top: 52 }], "joined");
    }

    #[test]
    fn out_of_order_and_poison_numbers_are_not_taken_for_progress() {
        let mut p = NewestFirst::default();
        p.mark(None, i64::MAX);
        assert!(p.stored.is_empty());
        p.mark(None, 5);
        p.mark(Some(5), 9);
        assert_eq!(p.stored, [NumberRange { low: 5, top: 5 }]);
    }

    proptest! {
        /// Passes killed at random points, items arriving between runs, items held as not
        /// final: the saved progress never covers an item that was not stored, and a pass that
        /// completes leaves every item stored.
        #[test]
        fn progress_never_passes_an_item_it_did_not_store(
            initial in 0usize..60,
            gaps in prop::collection::vec(1i64..4, 60),
            runs in prop::collection::vec((0usize..80, 0usize..5), 1..8),
        ) {
            let mut numbers: Vec<i64> = gaps.iter().take(initial).scan(0, |n, g| { *n += g; Some(*n) }).collect();
            let mut stored: BTreeSet<i64> = BTreeSet::new();
            let mut saved = NewestFirst::default();
            let mut next_number = numbers.last().copied().unwrap_or(0);
            // Runs killed after `kill` items, with `arrivals` new items before each; then one
            // run that is not killed.
            let plan: Vec<(Option<usize>, usize)> = runs.iter().map(|&(k, a)| (Some(k), a)).chain([(None, 1)]).collect();
            for (kill, arrivals) in plan {
                for _ in 0..arrivals { next_number += 2; numbers.push(next_number); }
                let mut progress = saved.clone();
                let mut prev = None;
                let mut done = true;
                let mut newest = None;
                for (i, &n) in numbers.iter().rev().enumerate() {
                    if kill.is_some_and(|k| i >= k) { done = false; break; }
                    match progress.decide(Some(n), false) {
                        Listed::Stop => break,
                        Listed::Read => { stored.insert(n); }
                        Listed::Skip => {}
                    }
                    newest = newest.max(Some(n));
                    progress.mark(prev, n);
                    prev = Some(n);
                }
                if done {
                    let floor = newest.max(progress.stored_top()).max(progress.floor);
                    progress.complete(floor);
                }
                saved = progress;
                // The saved progress covers only stored items.
                for &n in &numbers {
                    let covered = saved.floor.is_some_and(|f| n <= f) || saved.stored.iter().any(|r| r.contains(n));
                    prop_assert!(!covered || stored.contains(&n), "{n} covered but never stored");
                }
            }
            prop_assert_eq!(stored.len(), numbers.len(), "a completed pass stored everything");
        }
    }
}
