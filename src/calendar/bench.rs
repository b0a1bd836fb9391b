//! Benchmark of working-day deadlines: the indexed [`HolidayTable::deadline`] against the
//! day-by-day [`HolidayTable::deadline_naive`] over the same table, for 20-working-day limits
//! from random acceptance dates in 2019–2026. Both answers are compared, so a run also checks
//! correctness. No I/O: the CLI (`yichuang bench calendar`) prints the report.

use std::hint::black_box;
use std::time::{Duration, Instant};

use jiff::civil::{Date, date};

use super::HolidayTable;
use super::index::{date_of, day_number};

/// Working days per deadline in the benchmark (a typical 承诺件 limit).
pub const BENCH_DAYS: u32 = 20;

/// What a run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchReport {
    /// Deadlines computed by each implementation.
    pub n: usize,
    /// Working days per deadline.
    pub days: u32,
    /// Time the indexed implementation took for all `n`.
    pub fast: Duration,
    /// Time the day-by-day implementation took for all `n`.
    pub naive: Duration,
    /// Deadlines per second, indexed.
    pub fast_per_sec: f64,
    /// Deadlines per second, day by day.
    pub naive_per_sec: f64,
}

/// Deadlines per second `(fast, naive)` for `n` random 20-working-day deadlines over the
/// built-in table; see [`run`].
pub fn deadlines(n: usize, seed: u64) -> (f64, f64) {
    let report = run(&HolidayTable::builtin(), n, seed);
    (report.fast_per_sec, report.naive_per_sec)
}

/// The due dates `deadline` gives for `starts`, and how long it took to give them all.
fn timed(
    starts: &[Date],
    deadline: impl Fn(Date) -> Result<super::Deadline, super::CalendarError>,
) -> (Vec<Date>, Duration) {
    let t0 = Instant::now();
    let dues = starts
        .iter()
        .map(|&d| due(deadline(black_box(d))))
        .collect();
    (dues, t0.elapsed())
}

/// Times `n` deadlines of [`BENCH_DAYS`] working days from acceptance dates drawn uniformly from
/// 2019-01-01..=2026-12-31 with a xorshift generator seeded by `seed` (same seed, same dates).
///
/// # Panics
/// If the two implementations disagree on any answer — that is a bug in the calendar.
pub fn run(table: &HolidayTable, n: usize, seed: u64) -> BenchReport {
    let starts = random_dates(n, seed, date(2019, 1, 1), date(2026, 12, 31));

    let (fast, fast_time) = timed(&starts, |d| table.deadline(d, BENCH_DAYS, &[], None));
    let (naive, naive_time) = timed(&starts, |d| table.deadline_naive(d, BENCH_DAYS, &[], None));

    for ((start, f), v) in starts.iter().zip(&fast).zip(&naive) {
        assert_eq!(
            f, v,
            "fast and naive deadlines disagree for acceptance on {start}"
        );
    }
    BenchReport {
        n,
        days: BENCH_DAYS,
        fast: fast_time,
        naive: naive_time,
        fast_per_sec: per_sec(n, fast_time),
        naive_per_sec: per_sec(n, naive_time),
    }
}

fn due(result: Result<super::Deadline, super::CalendarError>) -> Date {
    // Acceptance dates are drawn from 2019–2026, far inside the calendar's range.
    match result {
        Ok(d) => d.due,
        Err(e) => panic!("benchmark deadline failed: {e}"),
    }
}

fn per_sec(n: usize, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64().max(1e-9)
}

/// `n` dates in `[from, to]` from xorshift64* (no rand crate; reproducible per seed).
fn random_dates(n: usize, seed: u64, from: Date, to: Date) -> Vec<Date> {
    let (lo, span) = (
        day_number(from),
        (day_number(to) - day_number(from) + 1) as u64,
    );
    let mut state = seed | 1; // xorshift must not start at 0
    (0..n)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let r = state.wrapping_mul(0x2545_f491_4f6c_dd1d);
            date_of(lo + (r % span) as i32)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_benchmark_runs_and_both_implementations_agree() {
        let report = run(&HolidayTable::builtin(), 500, 42);
        assert_eq!(report.n, 500);
        assert!(report.fast_per_sec > 0.0 && report.naive_per_sec > 0.0);
    }

    #[test]
    fn random_dates_are_reproducible_and_in_range() {
        let (a, b) = (date(2019, 1, 1), date(2026, 12, 31));
        let dates = random_dates(1000, 7, a, b);
        assert_eq!(dates, random_dates(1000, 7, a, b));
        assert!(dates.iter().all(|d| (a..=b).contains(d)));
        assert_ne!(dates, random_dates(1000, 8, a, b));
    }
}
