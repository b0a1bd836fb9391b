//! A case's clock (限时办结, SPEC R6.5): the due date and the day its yellow warning starts,
//! from [`HolidayTable::deadline`] with the case's suspensions and approved extensions.
//!
//! * A 即办件 is due on its acceptance day (0 working days).
//! * A limit in working days counts from the day after acceptance; in natural days (`days`)
//!   it is that many calendar days; in hours, one working day per started eight hours.
//! * A suspension starts on the day the clock is stopped and ends the day before it runs
//!   again; one still open is counted up to today, so the due date shown moves on each day
//!   it stays open.
//! * The yellow warning starts on the day the configured share (default 80%) of the limit's
//!   working days has passed; red is any day after the due date.
//! * An extension may not take the total beyond the legal limit (行政许可法 §42); where the
//!   catalogue gives none, §42's ten working days are the most.

use jiff::civil::Date;

use crate::calendar::{Extension, HolidayTable, Suspension, SuspensionReason};

/// A stop of the clock as stored.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct Stop {
    pub id: i64,
    pub reason: String,
    pub start_on: crate::db::CivilDate,
    pub end_on: Option<crate::db::CivilDate>,
}

/// The working days a matter's limit stands for (`None`: no limit is set).
pub fn working_days(limit: Option<i64>, unit: &str) -> Option<u32> {
    let n = u32::try_from(limit?).ok()?;
    Some(match unit {
        "hours" => n.div_ceil(8),
        _ => n,
    })
}

/// The clock's answer for one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Due {
    pub due: Date,
    /// The first day of the yellow warning.
    pub warn: Date,
}

/// The suspensions as the calendar takes them: closed ones as stored, an open one up to
/// `today`; empty ones (resumed on the day they began) are left out.
pub fn suspensions(stops: &[Stop], accepted: Date, today: Date) -> Vec<Suspension> {
    stops
        .iter()
        .filter_map(|s| {
            let start = s.start_on.date().max(accepted);
            let end = s.end_on.map(|d| d.date()).unwrap_or(today);
            (end >= start).then(|| Suspension {
                start,
                end,
                reason: SuspensionReason::from(s.reason.clone()),
            })
        })
        .collect()
}

/// When a case accepted on `accepted` is due: `days` working days (or natural days when
/// `unit` is `days`), the stops and the approved extension days.
#[allow(clippy::too_many_arguments)]
pub fn due(
    table: &HolidayTable,
    accepted: Date,
    days: u32,
    unit: &str,
    stops: &[Stop],
    extension: u32,
    yellow_percent: u32,
    today: Date,
) -> Result<Due, crate::calendar::CalendarError> {
    let suspended = suspensions(stops, accepted, today);
    let ext = (extension > 0).then(|| Extension {
        days: extension,
        reason: "延期".into(),
    });
    if unit == "days" && days > 0 {
        // Natural days: the stopped days are added back one for one.
        let stopped: i64 = suspended
            .iter()
            .map(|s| (s.end - s.start).get_days() as i64 + 1)
            .sum();
        let total = i64::from(days) + i64::from(extension) + stopped;
        let due = accepted.saturating_add(jiff::Span::new().days(total));
        let warn_after = (i64::from(days) * i64::from(yellow_percent) + 99) / 100;
        let warn = accepted.saturating_add(jiff::Span::new().days(warn_after + stopped));
        return Ok(Due { due, warn });
    }
    let deadline = table.deadline(accepted, days, &suspended, ext.as_ref())?;
    let warn_days = (u64::from(days) * u64::from(yellow_percent)).div_ceil(100) as u32;
    let warn = table
        .deadline(accepted, warn_days.min(days), &suspended, None)?
        .due
        .min(deadline.due);
    Ok(Due {
        due: deadline.due,
        warn,
    })
}

/// The most working days an extension may still add.
pub fn extension_room(limit: u32, legal: Option<u32>, granted: u32) -> u32 {
    let cap = legal.unwrap_or(limit + 10).max(limit);
    cap.saturating_sub(limit + granted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn stop(start: Date, end: Option<Date>) -> Stop {
        Stop {
            id: 1,
            reason: "补正".into(),
            start_on: start.into(),
            end_on: end.map(Into::into),
        }
    }

    fn table() -> HolidayTable {
        HolidayTable::builtin()
    }

    /// [`due`] of `days` working days, with `ext` days' extension and the 80% warning share.
    fn working(
        t: &HolidayTable,
        accepted: Date,
        days: u32,
        stops: &[Stop],
        ext: u32,
        today: Date,
    ) -> Due {
        due(t, accepted, days, "working_days", stops, ext, 80, today).unwrap()
    }

    #[test]
    fn promised_case_skips_the_spring_festival_and_counts_the_makeup_saturday() {
        let t = table();
        // Accepted on Friday 2026-02-13; 春节 2026 is 15–23 February, with 调休 working
        // Saturdays on 14 and 28 February (国办发明电〔2025〕7号).
        let d = working(&t, date(2026, 2, 13), 3, &[], 0, date(2026, 2, 13));
        // 14 Feb (调休 Saturday) counts, then 24 and 25 Feb.
        assert_eq!(d.due, date(2026, 2, 25));
        assert_eq!(d.warn, d.due, "80% of 3 days rounds up to 3");
    }

    #[test]
    fn suspension_and_extension_move_the_due_date() {
        let t = table();
        let accepted = date(2026, 3, 2); // a Monday
        let base = working(&t, accepted, 5, &[], 0, accepted);
        assert_eq!(base.due, date(2026, 3, 9));
        assert_eq!(base.warn, date(2026, 3, 6), "4 of 5 working days");
        // Stopped Wednesday and Thursday (resumed on Friday): two working days added back.
        let stops = [stop(date(2026, 3, 4), Some(date(2026, 3, 5)))];
        let d = working(&t, accepted, 5, &stops, 0, date(2026, 3, 20));
        assert_eq!(d.due, date(2026, 3, 11));
        // And an approved extension of 3 working days.
        let d = working(&t, accepted, 5, &stops, 3, date(2026, 3, 20));
        assert_eq!(d.due, date(2026, 3, 16));
        // An open suspension counts up to today.
        let open = [stop(date(2026, 3, 4), None)];
        let d = working(&t, accepted, 5, &open, 0, date(2026, 3, 4));
        assert_eq!(d.due, date(2026, 3, 10));
        // Resumed on the day it began: nothing stopped.
        let empty = [stop(date(2026, 3, 4), Some(date(2026, 3, 3)))];
        let d = working(&t, accepted, 5, &empty, 0, date(2026, 3, 20));
        assert_eq!(d.due, base.due);
    }

    #[test]
    fn immediate_case_on_a_holiday_is_due_the_next_working_day() {
        let t = table();
        // 国庆节 2026 is 1–7 October; Thursday 8 October is the first working day after it.
        let d = working(&t, date(2026, 10, 1), 0, &[], 0, date(2026, 10, 1));
        assert_eq!(d.due, date(2026, 10, 8));
        let d = working(&t, date(2026, 9, 30), 0, &[], 0, date(2026, 9, 30));
        assert_eq!(d.due, date(2026, 9, 30));
    }

    #[test]
    fn units_and_extension_room() {
        assert_eq!(working_days(Some(20), "working_days"), Some(20));
        assert_eq!(working_days(Some(12), "hours"), Some(2));
        assert_eq!(working_days(None, "working_days"), None);
        assert_eq!(extension_room(20, Some(30), 0), 10);
        assert_eq!(extension_room(20, Some(30), 8), 2);
        assert_eq!(extension_room(20, None, 0), 10);
        assert_eq!(extension_room(20, Some(20), 0), 0);
        let t = table();
        let d = due(
            &t,
            date(2026, 3, 2),
            10,
            "days",
            &[],
            0,
            80,
            date(2026, 3, 2),
        )
        .unwrap();
        assert_eq!(d.due, date(2026, 3, 12));
        assert_eq!(d.warn, date(2026, 3, 10));
    }
}
