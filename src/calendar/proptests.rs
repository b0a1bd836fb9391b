//! Property tests of the working-day rules (SPEC R3.4) and an exhaustive check of the table.

use std::collections::HashMap;
use std::sync::LazyLock;

use jiff::civil::{Date, Weekday, date};
use proptest::prelude::*;

use super::index::{date_of, day_number, span_days};
use super::{DayKind, Extension, HolidayTable, Suspension, SuspensionReason};

static TABLE: LazyLock<HolidayTable> = LazyLock::new(HolidayTable::builtin);

/// Acceptance dates from 2018-12 to 2027-02, so deadlines cross into years without a notice.
fn any_date() -> impl Strategy<Value = Date> {
    (day_number(date(2018, 12, 1))..=day_number(date(2027, 2, 28))).prop_map(date_of)
}

/// Up to three suspensions starting within 60 days of acceptance, each up to 30 days long.
fn suspensions_after(accepted: Date) -> impl Strategy<Value = Vec<Suspension>> {
    let base = day_number(accepted);
    prop::collection::vec((0..60i32, 0..30i32), 0..=3).prop_map(move |spans| {
        spans
            .into_iter()
            .map(|(offset, len)| Suspension {
                start: date_of(base + offset),
                end: date_of(base + offset + len),
                reason: SuspensionReason::ExpertReview,
            })
            .collect()
    })
}

fn case() -> impl Strategy<Value = (Date, u32, Vec<Suspension>, Option<u32>)> {
    any_date().prop_flat_map(|accepted| {
        (
            Just(accepted),
            0..=60u32,
            suspensions_after(accepted),
            prop::option::of(1..=30u32),
        )
    })
}

fn extension(days: Option<u32>) -> Option<Extension> {
    days.map(|days| Extension {
        days,
        reason: "依法延长".into(),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_deadline_is_always_a_working_day_outside_every_suspension(
        (accepted, days, suspensions, ext) in case()
    ) {
        let ext = extension(ext);
        let d = TABLE.deadline(accepted, days, &suspensions, ext.as_ref()).unwrap();
        prop_assert!(TABLE.day_kind(d.due).is_working(), "{} is not a working day", d.due);
        prop_assert!(suspensions.iter().all(|s| d.due < s.start || s.end < d.due));
        prop_assert!(d.due >= accepted);
    }

    #[test]
    fn the_fast_deadline_equals_the_day_by_day_walk(
        (accepted, days, suspensions, ext) in case()
    ) {
        let ext = extension(ext);
        let fast = TABLE.deadline(accepted, days, &suspensions, ext.as_ref()).unwrap();
        let naive = TABLE.deadline_naive(accepted, days, &suspensions, ext.as_ref()).unwrap();
        prop_assert_eq!(fast, naive);
    }

    #[test]
    fn adding_a_suspension_never_makes_a_deadline_earlier(
        (accepted, days, suspensions, ext) in case(),
        offset in 0..80i32,
        len in 0..20i32,
    ) {
        let ext = extension(ext);
        let before = TABLE.deadline(accepted, days, &suspensions, ext.as_ref()).unwrap();
        let mut more = suspensions.clone();
        let start = date_of(day_number(accepted) + offset);
        more.push(Suspension {
            start,
            end: date_of(day_number(start) + len),
            reason: SuspensionReason::Hearing,
        });
        let after = TABLE.deadline(accepted, days, &more, ext.as_ref()).unwrap();
        prop_assert!(after.due >= before.due, "{} < {}", after.due, before.due);
    }

    #[test]
    fn one_more_working_day_is_never_earlier(accepted in any_date(), days in 0..=60u32) {
        let a = TABLE.deadline(accepted, days, &[], None).unwrap();
        let b = TABLE.deadline(accepted, days + 1, &[], None).unwrap();
        prop_assert!(b.due > a.due || (days == 0 && b.due >= a.due));
    }

    #[test]
    fn without_suspensions_exactly_n_working_days_lie_after_acceptance(
        accepted in any_date(),
        days in 1..=60u32,
    ) {
        let d = TABLE.deadline(accepted, days, &[], None).unwrap();
        let mut counted = 0;
        let mut day = accepted.tomorrow().unwrap();
        while day <= d.due {
            counted += u32::from(TABLE.day_kind(day).is_working());
            day = day.tomorrow().unwrap();
        }
        prop_assert_eq!(counted, days);
    }
}

#[test]
fn every_date_2019_to_2026_has_the_kind_its_notice_gives() {
    // Expected kinds straight from the parsed notices, independent of the table's lookup.
    let mut listed: HashMap<Date, DayKind> = HashMap::new();
    for y in TABLE.years() {
        for h in y.holidays() {
            for d in &h.dates {
                let prev = listed.insert(
                    *d,
                    DayKind::Holiday {
                        name: h.name.clone(),
                    },
                );
                assert!(prev.is_none(), "{d} listed twice");
            }
        }
        for w in y.workdays() {
            let prev = listed.insert(
                w.date,
                DayKind::AdjustedWorkday {
                    name: w.name.clone(),
                },
            );
            assert!(
                prev.is_none(),
                "holiday {} is also a 调休 working day",
                w.date
            );
            assert!(matches!(
                w.date.weekday(),
                Weekday::Saturday | Weekday::Sunday
            ));
        }
    }
    let mut day = date(2019, 1, 1);
    while day <= date(2026, 12, 31) {
        let info = TABLE.day_kind(day);
        let expected = listed.get(&day).cloned().unwrap_or(match day.weekday() {
            Weekday::Saturday | Weekday::Sunday => DayKind::Weekend,
            _ => DayKind::Workday,
        });
        assert_eq!(info.kind, expected, "{day}");
        assert!(!info.year_missing, "{day}");
        day = day.tomorrow().unwrap();
    }
}

#[test]
fn the_builtin_notices_hold_the_expected_number_of_days_off() {
    // Days off per notice (春节 2020 includes the extension; 2019 劳动节 the amendment).
    let off: Vec<(i16, usize, usize)> = TABLE
        .years()
        .map(|y| {
            let days: usize = y.holidays().iter().map(|h| h.dates.len()).sum();
            (y.year(), days, y.workdays().len())
        })
        .collect();
    assert_eq!(
        off,
        vec![
            (2019, 24, 7),
            (2020, 30, 6),
            (2021, 31, 7),
            (2022, 31, 7),
            (2023, 27, 7),
            (2024, 28, 8),
            (2025, 28, 5),
            (2026, 33, 6),
        ]
    );
}

#[test]
fn the_index_agrees_with_day_kind_for_every_day_it_covers() {
    for n in 0..span_days() {
        let d = date_of(n);
        assert_eq!(
            TABLE.index.is_working(n),
            TABLE.day_kind(d).is_working(),
            "{d}"
        );
    }
}
