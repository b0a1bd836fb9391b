//! 延时错时服务时间 — seed 000 §5.1 (and §2.2(9)), SPEC R3.2: what a hall offers on one date.
//!
//! * Working day (including a 调休 working day): the season's regular periods; extended service
//!   in every gap between them (the lunch break, mandatory) and for one hour after closing
//!   (§5.1.2, "按需要设置": only while people are still waiting, so `on_demand`).
//! * Weekend or statutory holiday: no regular hours; extended service in the season's regular
//!   periods (§5.1.3), except on the afternoon of 除夕, all of 正月初一, and the afternoons of
//!   清明, 端午 and 中秋 (the festival day itself, not the whole break).
//!
//! Our reading of the exceptions: they sit inside §5.1.3, the rule for 双休日和法定节假日, and
//! §2.2(9) words them as exceptions to "全年其余双休日和法定节假日". So they only cut short a
//! non-working day; when such a day is a working day (除夕 2024-02-09 was a Friday at work), it
//! is an ordinary working day with its lunch-break and after-hours service. "Afternoon" is
//! everything from 12:00: the morning kept is each period clipped at noon.

use jiff::ToSpan;
use jiff::civil::{Date, Time};
use serde::{Deserialize, Serialize};

use super::{
    CalendarError, HolidayTable, Hours, Period, TraditionalDay, check_range, serde_fmt,
    traditional_day,
};

/// Noon: the end of "the morning" when an afternoon is excluded.
const NOON: Time = Time::constant(12, 0, 0, 0);

/// A span of extended (延时错时) service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtPeriod {
    /// Start, serialized `"HH:MM"`.
    #[serde(with = "serde_fmt::hhmm")]
    pub start: Time,
    /// End, serialized `"HH:MM"`.
    #[serde(with = "serde_fmt::hhmm")]
    pub end: Time,
    /// Offered only while people are still waiting (the hour after closing, §5.1.2).
    pub on_demand: bool,
}

/// What a hall offers on one date. Serializes as
/// `{"date":"2026-02-16","workday":false,"holiday":"春节","regular":[],"extended":[…]}`,
/// plus `"year_missing":true` when no notice covers the date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaySchedule {
    /// The date, `"YYYY-MM-DD"`.
    #[serde(with = "serde_fmt::date")]
    pub date: Date,
    /// A working day (weekday or 调休 working day) with regular hours.
    pub workday: bool,
    /// Name of the statutory holiday the date belongs to, if it is a day off of one.
    pub holiday: Option<String>,
    /// Regular hours (empty on non-working days).
    pub regular: Vec<Period>,
    /// Extended service (延时错时).
    pub extended: Vec<ExtPeriod>,
    /// No notice covers the date: computed as a plain weekday or weekend.
    #[serde(default, skip_serializing_if = "is_false")]
    pub year_missing: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl HolidayTable {
    /// The schedule of `date` under a center's `hours` (seed 000 §5.1; see the module notes).
    /// Refuses dates outside [`super::MIN_YEAR`]..=[`super::MAX_YEAR`].
    pub fn day(&self, date: Date, hours: &Hours) -> Result<DaySchedule, CalendarError> {
        check_range(date)?;
        let info = self.day_kind(date);
        let periods = hours.periods_on(date);
        let (regular, extended) = if info.is_working() {
            (periods.to_vec(), working_day_extended(periods))
        } else {
            (
                Vec::new(),
                rest_day_extended(periods, traditional_day(date)),
            )
        };
        let workday = info.is_working();
        let holiday = match info.kind {
            super::DayKind::Holiday { name } => Some(name),
            _ => None,
        };
        Ok(DaySchedule {
            date,
            workday,
            holiday,
            regular,
            extended,
            year_missing: info.year_missing,
        })
    }
}

/// Lunch breaks (every gap between regular periods) and one on-demand hour after closing.
fn working_day_extended(periods: &[Period]) -> Vec<ExtPeriod> {
    let mut out: Vec<ExtPeriod> = periods
        .windows(2)
        .filter(|w| w[0].end < w[1].start)
        .map(|w| ExtPeriod {
            start: w[0].end,
            end: w[1].start,
            on_demand: false,
        })
        .collect();
    if let Some(last) = periods.last() {
        // Hours guarantees closing by 23:00, so one more hour stays within the day.
        let end = last.end.checked_add(1.hour()).unwrap_or(Time::MAX);
        out.push(ExtPeriod {
            start: last.end,
            end,
            on_demand: true,
        });
    }
    out
}

/// The season's regular periods, cut short on the traditional days.
fn rest_day_extended(periods: &[Period], day: Option<TraditionalDay>) -> Vec<ExtPeriod> {
    let as_ext = |p: &Period| ExtPeriod {
        start: p.start,
        end: p.end,
        on_demand: false,
    };
    match day {
        None => periods.iter().map(as_ext).collect(),
        Some(TraditionalDay::SpringFestival) => Vec::new(),
        Some(
            TraditionalDay::NewYearsEve
            | TraditionalDay::Qingming
            | TraditionalDay::Duanwu
            | TraditionalDay::MidAutumn,
        ) => periods
            .iter()
            .filter(|p| p.start < NOON)
            .map(|p| ExtPeriod {
                end: p.end.min(NOON),
                ..as_ext(p)
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn p(a: (i8, i8), b: (i8, i8)) -> Period {
        Period::new(time(a.0, a.1, 0, 0), time(b.0, b.1, 0, 0)).unwrap()
    }

    fn ext(a: (i8, i8), b: (i8, i8), on_demand: bool) -> ExtPeriod {
        let Period { start, end } = p(a, b);
        ExtPeriod {
            start,
            end,
            on_demand,
        }
    }

    fn day(d: Date) -> DaySchedule {
        HolidayTable::builtin().day(d, &Hours::default()).unwrap()
    }

    #[test]
    fn new_years_eve_2026_matches_the_issue_example_exactly() {
        let json = serde_json::to_string(&day(date(2026, 2, 16))).unwrap();
        assert_eq!(
            json,
            r#"{"date":"2026-02-16","workday":false,"holiday":"春节","regular":[],"extended":[{"start":"08:30","end":"12:00","on_demand":false}]}"#
        );
        let back: DaySchedule = serde_json::from_str(&json).unwrap();
        assert_eq!(back, day(date(2026, 2, 16)));
    }

    #[test]
    fn a_winter_working_day_has_lunch_and_an_on_demand_hour() {
        let s = day(date(2026, 3, 10));
        assert!(s.workday);
        assert_eq!(s.holiday, None);
        assert_eq!(s.regular, vec![p((8, 30), (12, 0)), p((13, 30), (16, 30))]);
        assert_eq!(
            s.extended,
            vec![ext((12, 0), (13, 30), false), ext((16, 30), (17, 30), true)]
        );
    }

    #[test]
    fn a_summer_working_day_uses_summer_hours() {
        let s = day(date(2026, 7, 1));
        assert_eq!(s.regular, vec![p((8, 30), (12, 0)), p((14, 0), (17, 0))]);
        assert_eq!(
            s.extended,
            vec![ext((12, 0), (14, 0), false), ext((17, 0), (18, 0), true)]
        );
    }

    #[test]
    fn the_season_switches_on_may_first_and_october_first() {
        assert_eq!(day(date(2026, 4, 30)).regular[1], p((13, 30), (16, 30)));
        // 2026-05-01 is a holiday: its extended service already follows summer hours.
        assert_eq!(
            day(date(2026, 5, 1)).extended[1],
            ext((14, 0), (17, 0), false)
        );
        assert_eq!(day(date(2026, 9, 30)).regular[1], p((14, 0), (17, 0)));
        assert_eq!(day(date(2026, 10, 8)).regular[1], p((13, 30), (16, 30)));
    }

    #[test]
    fn an_ordinary_weekend_offers_the_seasons_regular_hours_as_extended_service() {
        let s = day(date(2026, 3, 7));
        assert!(!s.workday);
        assert_eq!(s.holiday, None);
        assert!(s.regular.is_empty());
        assert_eq!(
            s.extended,
            vec![ext((8, 30), (12, 0), false), ext((13, 30), (16, 30), false)]
        );
    }

    #[test]
    fn an_adjusted_saturday_is_an_ordinary_working_day() {
        let s = day(date(2026, 2, 14));
        assert!(s.workday);
        assert_eq!(s.holiday, None);
        assert_eq!(s.regular.len(), 2);
        assert!(s.extended.iter().any(|e| e.on_demand));
    }

    #[test]
    fn spring_festival_day_has_no_service_at_all() {
        for d in [
            date(2026, 2, 17),
            date(2025, 1, 29),
            date(2024, 2, 10),
            date(2019, 2, 5),
        ] {
            let s = day(d);
            assert_eq!(s.holiday.as_deref(), Some("春节"), "{d}");
            assert!(s.regular.is_empty() && s.extended.is_empty(), "{d}");
        }
        // The next day of the break is back to full weekend hours.
        assert_eq!(day(date(2026, 2, 18)).extended.len(), 2);
    }

    #[test]
    fn new_years_eve_on_a_holiday_keeps_only_the_morning() {
        for d in [date(2025, 1, 28), date(2023, 1, 21), date(2019, 2, 4)] {
            assert_eq!(day(d).extended, vec![ext((8, 30), (12, 0), false)], "{d}");
        }
    }

    #[test]
    fn new_years_eve_on_a_working_day_is_an_ordinary_working_day() {
        // 2024-02-09 (Friday) was at work: the notice only encouraged giving the day off.
        let s = day(date(2024, 2, 9));
        assert!(s.workday);
        assert_eq!(s.regular.len(), 2);
        assert_eq!(s.extended.len(), 2);
    }

    #[test]
    fn qingming_duanwu_and_mid_autumn_keep_only_the_morning() {
        let morning_winter = vec![ext((8, 30), (12, 0), false)];
        // 清明 2026-04-05 (Sunday in the break) and 2024-04-04: winter hours, morning only.
        assert_eq!(day(date(2026, 4, 5)).extended, morning_winter);
        assert_eq!(day(date(2024, 4, 4)).extended, morning_winter);
        // The other days of the 清明 break keep the full day.
        assert_eq!(day(date(2026, 4, 4)).extended.len(), 2);
        // 端午 2026-06-19, 2024-06-10; 中秋 2026-09-25, 2024-09-17 (summer), 2025-10-06 (winter).
        let morning = vec![ext((8, 30), (12, 0), false)];
        for d in [
            date(2026, 6, 19),
            date(2024, 6, 10),
            date(2026, 9, 25),
            date(2024, 9, 17),
            date(2025, 10, 6),
        ] {
            let s = day(d);
            assert!(!s.workday && s.holiday.is_some(), "{d}");
            assert_eq!(s.extended, morning, "{d}");
        }
        assert_eq!(day(date(2026, 6, 20)).extended.len(), 2);
    }

    #[test]
    fn seed_003_hours_give_a_one_hour_lunch_and_five_to_six_on_demand() {
        let t = HolidayTable::builtin();
        let s = t.day(date(2026, 3, 10), &Hours::nine_to_five()).unwrap();
        assert_eq!(s.regular, vec![p((9, 0), (12, 0)), p((13, 0), (17, 0))]);
        assert_eq!(
            s.extended,
            vec![ext((12, 0), (13, 0), false), ext((17, 0), (18, 0), true)]
        );
        let eve = t.day(date(2026, 2, 16), &Hours::nine_to_five()).unwrap();
        assert_eq!(eve.extended, vec![ext((9, 0), (12, 0), false)]);
    }

    #[test]
    fn a_period_spanning_noon_is_clipped_at_noon_on_a_morning_only_day() {
        let hours = Hours::year_round(vec![p((10, 0), (14, 0)), p((15, 0), (18, 0))]).unwrap();
        let s = HolidayTable::builtin()
            .day(date(2026, 2, 16), &hours)
            .unwrap();
        assert_eq!(s.extended, vec![ext((10, 0), (12, 0), false)]);
    }

    #[test]
    fn a_date_in_a_year_without_a_notice_says_so() {
        let s = day(date(2027, 3, 10));
        assert!(s.workday && s.year_missing);
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.ends_with(r#","year_missing":true}"#), "{json}");
        // 正月初一 2027 (02-06, a Saturday) is computed, not tabulated.
        assert!(day(date(2027, 2, 6)).extended.is_empty());
    }

    #[test]
    fn dates_outside_the_calendar_range_are_refused() {
        let t = HolidayTable::builtin();
        let err = t.day(date(2200, 1, 1), &Hours::default()).unwrap_err();
        assert!(matches!(err, CalendarError::OutOfRange(_)));
        assert!(err.to_string().contains("超出"));
    }
}
