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

/// The first year whose statutory days are computed: the 2007 revision of
/// 《全国年节及纪念日放假办法》 (in force from 2008) made 清明, 端午 and 中秋 days off.
pub const FIRST_STATUTORY_YEAR: i16 = 2008;

/// The statutory days off (法定节假日) of `year` by 《全国年节及纪念日放假办法》, without the
/// 调休 and bridging days a State Council notice adds:
/// - from 2025 (2024 revision): 元旦 1 day; 春节 4 (除夕, 正月初一 to 初三); 清明 1; 劳动节 2
///   (May 1–2); 端午 1; 中秋 1; 国庆 3 (October 1–3);
/// - 2014–2024 (2013 revision): 春节 正月初一 to 初三, 劳动节 May 1, the rest as above;
/// - 2008–2013 (2007 revision): 春节 除夕 to 正月初二, 劳动节 May 1, the rest as above.
///
/// Empty before [`FIRST_STATUTORY_YEAR`] and past [`MAX_YEAR`].
pub fn statutory_days(year: i16) -> Vec<(Date, &'static str)> {
    if !(FIRST_STATUTORY_YEAR..=MAX_YEAR).contains(&year) {
        return Vec::new();
    }
    let y = isize::from(year);
    let on = |m: usize, d: usize| jiff::civil::Date::new(year, m as i8, d as i8).ok();
    let lunar = |m: isize, d: usize| {
        let s = tyme4rs::tyme::lunar::LunarDay::from_ymd(y, m, d).get_solar_day();
        on(s.get_month(), s.get_day())
    };
    let mut out: Vec<(Date, &'static str)> = Vec::new();
    let mut add = |d: Option<Date>, name: &'static str| {
        if let Some(d) = d {
            out.push((d, name));
        }
    };
    add(on(1, 1), "元旦");
    if let Some(first) = lunar(1, 1) {
        let days: &[i64] = match year {
            2025.. => &[-1, 0, 1, 2],
            2014..=2024 => &[0, 1, 2],
            _ => &[-1, 0, 1],
        };
        for n in days {
            add(first.checked_add(jiff::Span::new().days(*n)).ok(), "春节");
        }
    }
    if let Ok(term) = tyme4rs::tyme::solar::SolarTerm::new(y, "清明") {
        let s = term.get_solar_day();
        add(on(s.get_month(), s.get_day()), "清明节");
    }
    add(on(5, 1), "劳动节");
    if year >= 2025 {
        add(on(5, 2), "劳动节");
    }
    add(lunar(5, 5), "端午节");
    add(lunar(8, 15), "中秋节");
    for d in 1..=3 {
        add(on(10, d), "国庆节");
    }
    out
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
