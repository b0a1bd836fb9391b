//! Which hours of a day a matter can be booked in (seed 000 §5.2.3: 预约办理时间与延时错时服务时间
//! 相同，精确到时). Pure: the calendar's [`DaySchedule`] in, hour slots out.
//!
//! * A period is cut into hours from its start; a last piece of at least 30 minutes is a slot
//!   of its own (12:00–14:30 gives 12:00, 13:00 and 14:00–14:30), a shorter one is dropped.
//! * Extended service offered only "while people are still waiting" (the hour after closing,
//!   `on_demand`) is never booked: nobody can promise it in advance.
//! * A closed day (正月初一 on a rest day, a day with no hours) has no slot.

use jiff::ToSpan;
use jiff::civil::Time;

use crate::calendar::DaySchedule;

crate::text_enum! {
    /// The periods a matter is booked in (`booking_matters.periods`).
    pub enum BookingPeriods {
        /// Not bookable.
        None = "none" => "不开放预约",
        /// 延时错时 periods only (the 预约服务目录's rule, seed 000 §5.2.3).
        Extended = "extended" => "延时错时时段",
        /// Regular hours only.
        Regular = "regular" => "正常工作时间",
        /// Both.
        Both = "both" => "正常工作时间和延时错时时段",
    }
}

/// One bookable hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    pub start: Time,
    pub end: Time,
}

impl Slot {
    /// Minutes long (60 for a whole hour).
    pub fn minutes(self) -> i64 {
        let of_day = |t: Time| i64::from(t.hour()) * 60 + i64::from(t.minute());
        of_day(self.end) - of_day(self.start)
    }

    /// The places of a window with `hourly` places an hour: a shorter slot gets its share,
    /// at least one.
    pub fn places(self, hourly: i64) -> i64 {
        if hourly <= 0 {
            return 0;
        }
        (hourly * self.minutes() / 60).max(1)
    }

    /// `"HH:MM"`.
    pub fn start_text(self) -> String {
        hhmm(self.start)
    }

    pub fn end_text(self) -> String {
        hhmm(self.end)
    }
}

/// `"HH:MM"` of a time.
pub fn hhmm(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// Parses `"HH:MM"`.
pub fn parse_hhmm(s: &str) -> Option<Time> {
    let (h, m) = s.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

/// The bookable hours of `day` for a matter booked in `periods`, in order.
pub fn day_slots(day: &DaySchedule, periods: BookingPeriods) -> Vec<Slot> {
    let mut spans: Vec<(Time, Time)> = Vec::new();
    if matches!(periods, BookingPeriods::Regular | BookingPeriods::Both) {
        spans.extend(day.regular.iter().map(|p| (p.start, p.end)));
    }
    if matches!(periods, BookingPeriods::Extended | BookingPeriods::Both) {
        spans.extend(
            day.extended
                .iter()
                .filter(|e| !e.on_demand)
                .map(|e| (e.start, e.end)),
        );
    }
    spans.sort();
    let mut out = Vec::new();
    for (start, end) in spans {
        let mut t = start;
        while t < end {
            let next = t
                .checked_add(1.hour())
                .ok()
                .filter(|n| *n > t)
                .unwrap_or(Time::MAX);
            let e = next.min(end);
            let s = Slot { start: t, end: e };
            if s.minutes() >= 30 {
                out.push(s);
            }
            if e >= end {
                break;
            }
            t = e;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{HolidayTable, Hours};
    use jiff::civil::date;

    fn t(h: i8, m: i8) -> Time {
        Time::constant(h, m, 0, 0)
    }

    fn slots(d: jiff::civil::Date, p: BookingPeriods) -> Vec<(String, String)> {
        let table = HolidayTable::builtin();
        let day = table.day(d, &Hours::default()).unwrap();
        day_slots(&day, p)
            .into_iter()
            .map(|s| (s.start_text(), s.end_text()))
            .collect()
    }

    #[test]
    fn a_working_day_books_the_lunch_break_by_the_hour_and_never_the_hour_after_closing() {
        // 2026-12-01 is a Tuesday in winter hours (a 12:00–13:30 lunch break by default).
        let table = HolidayTable::builtin();
        let day = table.day(date(2026, 12, 1), &Hours::default()).unwrap();
        let lunch = day.extended.iter().find(|e| !e.on_demand).unwrap();
        let got = day_slots(&day, BookingPeriods::Extended);
        assert!(!got.is_empty());
        assert_eq!(got[0].start, lunch.start);
        assert!(got.iter().all(|s| s.end <= lunch.end && s.minutes() >= 30));
        assert!(got.iter().all(|s| s.minutes() <= 60));
        // The on-demand hour after closing is not bookable.
        let last_regular = day.regular.last().unwrap().end;
        assert!(got.iter().all(|s| s.start < last_regular));
    }

    #[test]
    fn traditional_days_and_closed_days_follow_the_calendar() {
        // 正月初一 2027 is 2027-02-06 (a Saturday): closed all day.
        assert!(slots(date(2027, 2, 6), BookingPeriods::Extended).is_empty());
        // 中秋 2026 is 2026-09-25 (a Friday, a holiday): the morning only.
        let mid = slots(date(2026, 9, 25), BookingPeriods::Extended);
        assert!(!mid.is_empty());
        assert!(mid.iter().all(|(_, e)| e.as_str() <= "12:00"), "{mid:?}");
        // A weekend in extended hours: the season's regular periods; regular-only: nothing.
        assert!(!slots(date(2026, 12, 5), BookingPeriods::Extended).is_empty());
        assert!(slots(date(2026, 12, 5), BookingPeriods::Regular).is_empty());
        assert!(slots(date(2026, 12, 1), BookingPeriods::None).is_empty());
    }

    #[test]
    fn a_short_tail_is_dropped_and_a_half_hour_kept() {
        use crate::calendar::Period;
        let day = DaySchedule {
            date: date(2026, 12, 1),
            workday: true,
            holiday: None,
            regular: vec![
                Period {
                    start: t(8, 30),
                    end: t(10, 50),
                },
                Period {
                    start: t(14, 0),
                    end: t(15, 30),
                },
            ],
            extended: vec![],
            year_missing: false,
        };
        let got: Vec<_> = day_slots(&day, BookingPeriods::Regular)
            .into_iter()
            .map(|s| (s.start_text(), s.end_text(), s.places(4)))
            .collect();
        assert_eq!(
            got,
            vec![
                ("08:30".into(), "09:30".into(), 4),
                ("09:30".into(), "10:30".into(), 4),
                ("14:00".into(), "15:00".into(), 4),
                ("15:00".into(), "15:30".into(), 2),
            ]
        );
        assert_eq!(parse_hhmm("09:30"), Some(t(9, 30)));
        assert_eq!(parse_hhmm("9:30"), None);
        assert_eq!(parse_hhmm("25:00"), None);
    }
}
