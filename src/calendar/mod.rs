//! The service calendar (服务日历): opening hours, statutory holidays and 调休, extended service
//! (延时错时) and working-day deadlines — SPEC R3; seed 000 §2.2(9), §2.5, §5.1; seed 003 §(四)2(4).
//!
//! Pure logic: no I/O, no database, no async, so it can become its own crate. The one piece of
//! "data" is the State Council holiday notices for 2019–2026 in `data/holidays/*.toml`, compiled
//! in with `include_str!`; later years are pasted in by a hall manager and added with
//! [`HolidayTable::insert_year`] — no rebuild.
//!
//! * [`HolidayTable`] knows which day is a working day ([`HolidayTable::day_kind`]), what a hall
//!   offers on a day ([`HolidayTable::day`]) and when a case is due ([`HolidayTable::deadline`]).
//! * [`Hours`] is a center's regular hours per season, stored per center as TOML or JSON.
//! * [`traditional_day`] finds 除夕, 正月初一, 清明, 端午 and 中秋 with `tyme4rs`, for any year.
//!
//! Dates outside [`MIN_YEAR`]..=[`MAX_YEAR`] are refused with [`CalendarError::OutOfRange`]; a
//! year inside that range without a notice is computed as plain weekdays and weekends and flagged.

pub mod bench;
mod deadline;
mod error;
mod holidays;
mod hours;
mod index;
mod lunar;
mod notice;
mod schedule;
mod serde_fmt;

#[cfg(test)]
mod proptests;

pub use deadline::{Deadline, Extension, Suspension, SuspensionReason};
pub use error::CalendarError;
pub use holidays::{DayInfo, DayKind, HolidayTable};
pub use hours::{Hours, MonthDay, Period, Season};
pub use lunar::{TraditionalDay, traditional_day};
pub use notice::{Amendment, HolidayEntry, HolidayYear, WorkdayEntry};
pub use schedule::{DaySchedule, ExtPeriod};

use jiff::civil::Date;

/// First year the calendar computes (lunar dates and the working-day index start here).
pub const MIN_YEAR: i16 = 1900;
/// Last year the calendar computes.
pub const MAX_YEAR: i16 = 2199;

/// Parses a `YYYY-MM-DD` date typed by a person, with a Chinese message for `2026-02-30` and
/// the like. The CLI and forms use it so every caller refuses bad dates the same way.
pub fn parse_date(text: &str) -> Result<Date, CalendarError> {
    let text = text.trim();
    let well_formed = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !well_formed {
        return Err(CalendarError::BadDate(text.to_string()));
    }
    text.parse::<Date>()
        .map_err(|_| CalendarError::BadDate(text.to_string()))
}

/// Parses a number of working days typed by a person (`"20"`); negative numbers, fractions and
/// words are refused in Chinese.
pub fn parse_days(text: &str) -> Result<u32, CalendarError> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CalendarError::BadDays(text.to_string()));
    }
    text.parse::<u32>()
        .map_err(|_| CalendarError::BadDays(text.to_string()))
}

/// The Chinese note to show beside an answer computed without some years' notices
/// ([`DayInfo::year_missing`], [`DaySchedule::year_missing`], [`Deadline::missing_years`]);
/// `None` when nothing is missing.
pub fn missing_notice_note(years: &[i16]) -> Option<String> {
    if years.is_empty() {
        return None;
    }
    let list: Vec<String> = years.iter().map(i16::to_string).collect();
    Some(format!(
        "{} 年的国务院节假日安排通知尚未导入，已按普通工作日和周末计算；通知导入后结果可能变化",
        list.join("、")
    ))
}

/// Whether `date` is inside the range the calendar computes.
pub(crate) fn check_range(date: Date) -> Result<(), CalendarError> {
    if (MIN_YEAR..=MAX_YEAR).contains(&date.year()) {
        Ok(())
    } else {
        Err(CalendarError::OutOfRange(date))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_real_date_parses() {
        assert_eq!(parse_date("2026-02-16").unwrap(), date(2026, 2, 16));
        assert_eq!(parse_date(" 2024-02-29 ").unwrap(), date(2024, 2, 29));
    }

    #[test]
    fn an_impossible_or_malformed_date_is_refused_in_chinese() {
        for bad in [
            "2026-02-30",
            "2025-02-29",
            "2026-2-3",
            "20260216",
            "明天",
            "",
        ] {
            let err = parse_date(bad).unwrap_err();
            assert!(matches!(err, CalendarError::BadDate(_)), "{bad}");
            assert!(err.to_string().contains("日期"), "{err}");
        }
    }

    #[test]
    fn a_missing_year_gets_a_chinese_note() {
        assert_eq!(missing_notice_note(&[]), None);
        let note = missing_notice_note(&[2027, 2028]).unwrap();
        assert!(
            note.starts_with("2027、2028 年的国务院节假日安排通知尚未导入"),
            "{note}"
        );
    }

    #[test]
    fn negative_or_fractional_days_are_refused() {
        assert_eq!(parse_days("20").unwrap(), 20);
        assert_eq!(parse_days("0").unwrap(), 0);
        for bad in ["-1", "1.5", "二十", "", "99999999999"] {
            let err = parse_days(bad).unwrap_err();
            assert!(err.to_string().contains("天数"), "{err}");
        }
    }
}
