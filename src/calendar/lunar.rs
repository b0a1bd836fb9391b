//! The traditional days on which weekend/holiday extended service is cut short (seed 000 §5.1.3):
//! 除夕, 正月初一, 清明, 端午 and 中秋. Computed with `tyme4rs` (lunar calendar and solar terms),
//! never tabulated, so they hold for every year the calendar covers.

use jiff::civil::Date;
use tyme4rs::tyme::Culture;
use tyme4rs::tyme::solar::SolarDay;

use super::{MAX_YEAR, MIN_YEAR};

/// A traditional day that changes extended service on a non-working day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TraditionalDay {
    /// 除夕: the last day of the lunar year (腊月廿九 or 三十). No service in the afternoon.
    NewYearsEve,
    /// 正月初一: the first day of the lunar year. No service all day.
    SpringFestival,
    /// 清明: the day of the 清明 solar term. No service in the afternoon.
    Qingming,
    /// 端午: lunar 5th month, 5th day. No service in the afternoon.
    Duanwu,
    /// 中秋: lunar 8th month, 15th day. No service in the afternoon.
    MidAutumn,
}

impl TraditionalDay {
    /// Chinese name, as the seed writes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::NewYearsEve => "除夕",
            Self::SpringFestival => "正月初一",
            Self::Qingming => "清明",
            Self::Duanwu => "端午",
            Self::MidAutumn => "中秋",
        }
    }
}

/// The traditional day `date` is, if any; `None` for every other day and for dates outside
/// [`MIN_YEAR`]..=[`MAX_YEAR`].
pub fn traditional_day(date: Date) -> Option<TraditionalDay> {
    if !(MIN_YEAR..=MAX_YEAR).contains(&date.year()) {
        return None;
    }
    let solar = solar_day(date);
    let (month, day) = lunar_month_day(&solar);
    match (month, day) {
        (1, 1) => return Some(TraditionalDay::SpringFestival),
        (5, 5) => return Some(TraditionalDay::Duanwu),
        (8, 15) => return Some(TraditionalDay::MidAutumn),
        _ => {}
    }
    // 除夕 is the day before 正月初一, whether 腊月 has 29 or 30 days (or is a leap month).
    if (month == 12 || month == -12)
        && date
            .tomorrow()
            .is_ok_and(|next| lunar_month_day(&solar_day(next)) == (1, 1))
    {
        return Some(TraditionalDay::NewYearsEve);
    }
    let term = solar.get_term_day();
    if term.get_day_index() == 0 && term.get_name() == "清明" {
        return Some(TraditionalDay::Qingming);
    }
    None
}

fn solar_day(date: Date) -> SolarDay {
    // In range by the caller's check, and a jiff date is always a real date, so tyme4rs accepts it.
    SolarDay::from_ymd(
        date.year().into(),
        date.month() as usize,
        date.day() as usize,
    )
}

/// Lunar month (negative for a leap month, as tyme4rs reports it) and day.
fn lunar_month_day(solar: &SolarDay) -> (isize, usize) {
    let lunar = solar.get_lunar_day();
    (
        lunar.get_lunar_month().get_month_with_leap(),
        lunar.get_day(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn new_years_eve_and_spring_festival_are_found_from_the_lunar_calendar() {
        // 2026: 腊月 has 29 days, so 除夕 is 腊月廿九 = 2026-02-16 and 正月初一 is 02-17.
        assert_eq!(traditional_day(date(2026, 2, 15)), None);
        assert_eq!(
            traditional_day(date(2026, 2, 16)),
            Some(TraditionalDay::NewYearsEve)
        );
        assert_eq!(
            traditional_day(date(2026, 2, 17)),
            Some(TraditionalDay::SpringFestival)
        );
        // 2025: 除夕 = 01-28 (腊月廿九), 初一 = 01-29. 2024: 02-09 and 02-10. 2023: 01-21, 01-22.
        assert_eq!(
            traditional_day(date(2025, 1, 28)),
            Some(TraditionalDay::NewYearsEve)
        );
        assert_eq!(
            traditional_day(date(2025, 1, 29)),
            Some(TraditionalDay::SpringFestival)
        );
        assert_eq!(
            traditional_day(date(2024, 2, 9)),
            Some(TraditionalDay::NewYearsEve)
        );
        assert_eq!(
            traditional_day(date(2024, 2, 10)),
            Some(TraditionalDay::SpringFestival)
        );
        assert_eq!(
            traditional_day(date(2023, 1, 21)),
            Some(TraditionalDay::NewYearsEve)
        );
        assert_eq!(
            traditional_day(date(2019, 2, 4)),
            Some(TraditionalDay::NewYearsEve)
        );
        assert_eq!(
            traditional_day(date(2019, 2, 5)),
            Some(TraditionalDay::SpringFestival)
        );
    }

    #[test]
    fn qingming_is_the_solar_term_day() {
        for (y, d) in [
            (2019, 5),
            (2020, 4),
            (2021, 4),
            (2022, 5),
            (2023, 5),
            (2024, 4),
            (2025, 4),
            (2026, 5),
        ] {
            assert_eq!(
                traditional_day(date(y, 4, d)),
                Some(TraditionalDay::Qingming),
                "{y}"
            );
            assert_eq!(traditional_day(date(y, 4, d + 1)), None, "{y}");
        }
    }

    #[test]
    fn duanwu_and_mid_autumn_follow_the_lunar_calendar() {
        assert_eq!(
            traditional_day(date(2024, 6, 10)),
            Some(TraditionalDay::Duanwu)
        );
        assert_eq!(
            traditional_day(date(2025, 5, 31)),
            Some(TraditionalDay::Duanwu)
        );
        assert_eq!(
            traditional_day(date(2026, 6, 19)),
            Some(TraditionalDay::Duanwu)
        );
        assert_eq!(
            traditional_day(date(2023, 9, 29)),
            Some(TraditionalDay::MidAutumn)
        );
        assert_eq!(
            traditional_day(date(2025, 10, 6)),
            Some(TraditionalDay::MidAutumn)
        );
        assert_eq!(
            traditional_day(date(2026, 9, 25)),
            Some(TraditionalDay::MidAutumn)
        );
    }

    #[test]
    fn a_year_without_a_holiday_notice_still_has_its_traditional_days() {
        // 2027: 除夕 02-05, 正月初一 02-06 (computed, not tabulated).
        assert_eq!(
            traditional_day(date(2027, 2, 5)),
            Some(TraditionalDay::NewYearsEve)
        );
        assert_eq!(
            traditional_day(date(2027, 2, 6)),
            Some(TraditionalDay::SpringFestival)
        );
    }

    #[test]
    fn out_of_range_dates_have_no_traditional_day() {
        assert_eq!(traditional_day(date(1899, 12, 31)), None);
        assert_eq!(traditional_day(date(2200, 1, 1)), None);
    }
}
