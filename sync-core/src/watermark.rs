//! High-water marks that move only by values that make sense.
//!
//! A source's checkpoint often holds "the newest number read" (a pipeline number, an update
//! time). One value from a server that makes no sense (2^63-1, a year 275760) taken as that mark
//! would make every later item look old: nothing new would be read again, for good. So a mark
//! moves only by values that are plausible next to what the partition has seen; the others are
//! rejected, reported, and read again next run.

/// How far a mark may move, per kind of value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkRule {
    /// The largest gap between two consecutive values (or the mark held and the smallest value
    /// above it) still taken for real: a sequence has gaps (deleted items, a number bumped by an
    /// administrator), never one of trillions.
    pub max_step: i64,
    /// No value above this is taken, whatever came before it.
    pub ceiling: i64,
}

impl MarkRule {
    /// Sequence numbers (build and pipeline numbers): gaps up to a million, values below 2^40.
    pub const SEQUENCE: MarkRule = MarkRule {
        max_step: 1_000_000,
        ceiling: 1 << 40,
    };

    /// Times in milliseconds since the epoch: any gap (a project quiet for years), but never more
    /// than a day past `now_ms` (clocks differ; a year 275760 is bad input).
    pub fn time(now_ms: i64) -> MarkRule {
        MarkRule {
            max_step: i64::MAX,
            ceiling: now_ms.saturating_add(86_400_000),
        }
    }
}

/// A mark moved by a batch of values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advanced {
    /// The new mark: the largest plausible value, or the mark held when none is larger.
    pub mark: Option<i64>,
    /// The values that did not make sense, largest first; the mark did not move to them.
    pub rejected: Vec<i64>,
}

/// Moves `held` by `values` under `rule`: values are taken in increasing order, each no more
/// than `rule.max_step` above the last one taken (the first above `held`, or the smallest of the
/// values when nothing is held, starts the chain) and none above `rule.ceiling`; the first value
/// past a gap breaks the chain, and it and every value above it are rejected.
///
/// ```
/// use cidata_sync::{advance_mark, MarkRule};
/// let moved = advance_mark(Some(340), [341, 342, i64::MAX, 343], MarkRule::SEQUENCE);
/// assert_eq!(moved.mark, Some(343));
/// assert_eq!(moved.rejected, [i64::MAX]);
/// ```
pub fn advance_mark(
    held: Option<i64>,
    values: impl IntoIterator<Item = i64>,
    rule: MarkRule,
) -> Advanced {
    let mut values: Vec<i64> = values.into_iter().collect();
    values.sort_unstable();
    values.dedup();
    let mut mark = held;
    let mut rejected = Vec::new();
    let mut chain = held;
    for (i, &v) in values.iter().enumerate() {
        if chain.is_some_and(|c| v <= c) {
            continue;
        }
        let near = chain.is_none_or(|c| v.saturating_sub(c) <= rule.max_step);
        if v > rule.ceiling || !near {
            rejected.extend(values[i..].iter().rev());
            break;
        }
        chain = Some(v);
        mark = mark.max(Some(v));
    }
    Advanced { mark, rejected }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn poison_values_do_not_move_the_mark() {
        let first_run = advance_mark(None, (1..=350).chain([i64::MAX]), MarkRule::SEQUENCE);
        assert_eq!(first_run.mark, Some(350));
        assert_eq!(first_run.rejected, [i64::MAX]);
        let now = 1_780_000_000_000;
        let year_275760 = 8_639_977_881_600_000;
        let times = advance_mark(
            Some(now - 5_000),
            [now - 1_000, year_275760],
            MarkRule::time(now),
        );
        assert_eq!(times.mark, Some(now - 1_000));
        assert_eq!(times.rejected, [year_275760]);
        // A single value far above the ceiling, on a first run: nothing to compare with, still refused.
        assert_eq!(
            advance_mark(None, [i64::MAX], MarkRule::SEQUENCE).mark,
            None
        );
    }

    #[test]
    fn values_below_the_mark_change_nothing() {
        let moved = advance_mark(Some(100), [3, 99, 100], MarkRule::SEQUENCE);
        assert_eq!(
            moved,
            Advanced {
                mark: Some(100),
                rejected: vec![]
            }
        );
    }

    proptest! {
        /// Real values (a sequence with small gaps above the mark) always move the mark to their
        /// largest; a poison value never becomes the mark, and the mark never goes back.
        #[test]
        fn the_mark_takes_real_values_and_refuses_poison(
            held in prop::option::of(0i64..10_000),
            gaps in prop::collection::vec(1i64..1_000, 0..40),
            poison in prop::option::of((1i64 << 41)..i64::MAX),
        ) {
            let start = held.unwrap_or(0);
            let real: Vec<i64> = gaps.iter().scan(start, |n, g| { *n += g; Some(*n) }).collect();
            let mut values = real.clone();
            values.extend(poison);
            let moved = advance_mark(held, values, MarkRule::SEQUENCE);
            let want = real.iter().copied().max().or(held).max(held);
            prop_assert_eq!(moved.mark, want);
            prop_assert_eq!(moved.rejected, poison.into_iter().collect::<Vec<_>>());
            prop_assert!(moved.mark >= held);
        }
    }
}
