//! A bitset of working days with a rank per 64-day word, so "the N-th working day after D" is a
//! binary search plus one in-word select (O(log n)) instead of a day-by-day walk.
//!
//! Days are numbered from 1900-01-01 (a Monday), the first day of [`MIN_YEAR`], to the last day
//! of [`MAX_YEAR`]. The numbering is plain proleptic-Gregorian arithmetic (Howard Hinnant's
//! `days_from_civil`), checked against jiff in the tests.

use jiff::civil::Date;

use super::{MAX_YEAR, MIN_YEAR};

/// Day number of `date` counted from 1900-01-01 (day 0). Valid for any Gregorian date.
pub(crate) fn day_number(date: Date) -> i32 {
    days_from_civil(date.year().into(), date.month().into(), date.day().into())
        - days_from_civil(MIN_YEAR.into(), 1, 1)
}

/// The date of day number `n` (inverse of [`day_number`]).
pub(crate) fn date_of(n: i32) -> Date {
    let (y, m, d) = civil_from_days(n + days_from_civil(MIN_YEAR.into(), 1, 1));
    // The arithmetic only produces real dates; the index never asks outside jiff's range.
    jiff::civil::date(y as i16, m as i8, d as i8)
}

/// Number of days the index covers: every day of MIN_YEAR..=MAX_YEAR.
pub(crate) fn span_days() -> i32 {
    days_from_civil(i32::from(MAX_YEAR) + 1, 1, 1) - days_from_civil(MIN_YEAR.into(), 1, 1)
}

/// Whether day number `n` is Monday to Friday (1900-01-01 was a Monday).
pub(crate) fn is_weekday(n: i32) -> bool {
    n.rem_euclid(7) < 5
}

fn days_from_civil(y: i32, m: i32, d: i32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i32) -> (i32, i32, i32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i32::from(m <= 2);
    (y, m, d)
}

/// Working days of MIN_YEAR..=MAX_YEAR as bits, with prefix counts per word.
#[derive(Clone, Debug)]
pub(crate) struct WorkingDayIndex {
    /// Bit `n % 64` of word `n / 64` is set when day `n` is a working day; bits past the end are 0.
    words: Vec<u64>,
    /// `rank[w]` = working days in `words[..w]`; one more entry than `words`.
    rank: Vec<u32>,
}

impl WorkingDayIndex {
    /// Builds the index: weekdays work, then each `(day, working)` override applies.
    pub(crate) fn build(overrides: impl IntoIterator<Item = (i32, bool)>) -> Self {
        let span = span_days();
        let mut words = vec![0u64; (span as usize).div_ceil(64)];
        for n in 0..span {
            if is_weekday(n) {
                words[n as usize / 64] |= 1 << (n % 64);
            }
        }
        for (n, working) in overrides {
            if !(0..span).contains(&n) {
                continue;
            }
            let (w, bit) = (n as usize / 64, 1u64 << (n % 64));
            if working {
                words[w] |= bit;
            } else {
                words[w] &= !bit;
            }
        }
        let mut rank = Vec::with_capacity(words.len() + 1);
        let mut total = 0u32;
        rank.push(0);
        for w in &words {
            total += w.count_ones();
            rank.push(total);
        }
        Self { words, rank }
    }

    /// Working days in `[0, n)`; `n` may be anything from 0 to the span.
    fn prefix(&self, n: i32) -> u32 {
        let (w, b) = (n as usize / 64, n % 64);
        let below = if b == 0 {
            0
        } else {
            (self.words[w] & ((1u64 << b) - 1)).count_ones()
        };
        self.rank[w] + below
    }

    /// Whether day `n` (inside the span) is a working day.
    #[cfg(test)]
    pub(crate) fn is_working(&self, n: i32) -> bool {
        self.words[n as usize / 64] >> (n % 64) & 1 == 1
    }

    /// Working days in `[from, to]` (both inside the span); 0 when `to < from`.
    pub(crate) fn count(&self, from: i32, to: i32) -> u32 {
        if to < from {
            0
        } else {
            self.prefix(to + 1) - self.prefix(from)
        }
    }

    /// The `k`-th (k ≥ 1) working day strictly after day `n`; `None` past the end of the span.
    pub(crate) fn nth_after(&self, n: i32, k: u32) -> Option<i32> {
        let target = self.prefix(n + 1).checked_add(k)?;
        if target > *self.rank.last()? {
            return None;
        }
        // Last word whose rank is below the target holds the target-th working day.
        let w = self.rank.partition_point(|&r| r < target) - 1;
        let mut bits = self.words[w];
        for _ in 1..target - self.rank[w] {
            bits &= bits - 1; // drop the lowest set bit
        }
        Some((w * 64) as i32 + bits.trailing_zeros() as i32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn day_numbers_agree_with_jiff_for_every_day_of_the_span() {
        let mut d = date(MIN_YEAR, 1, 1);
        for n in 0..span_days() {
            assert_eq!(day_number(d), n);
            assert_eq!(date_of(n), d);
            assert_eq!(
                is_weekday(n),
                d.weekday().to_monday_zero_offset() < 5,
                "{d}"
            );
            d = d.tomorrow().unwrap();
        }
        assert_eq!(d, date(MAX_YEAR + 1, 1, 1));
    }

    #[test]
    fn nth_after_matches_a_walk_over_the_bits() {
        let idx = WorkingDayIndex::build([(5, true), (6, true), (9, false), (200, false)]);
        for start in [0, 3, 4, 5, 8, 63, 64, 150, 199] {
            let mut walked = Vec::new();
            let mut n = start + 1;
            while walked.len() < 200 {
                if idx.is_working(n) {
                    walked.push(n);
                }
                n += 1;
            }
            for (k, &day) in walked.iter().enumerate() {
                assert_eq!(idx.nth_after(start, k as u32 + 1), Some(day), "{start} {k}");
                assert_eq!(idx.count(start + 1, day), k as u32 + 1);
            }
        }
    }

    #[test]
    fn nth_after_the_end_of_the_span_is_none() {
        let idx = WorkingDayIndex::build([]);
        let last = span_days() - 1;
        assert_eq!(idx.nth_after(last, 1), None);
        assert_eq!(idx.nth_after(0, u32::MAX), None);
    }
}
