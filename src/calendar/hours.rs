//! Regular hours per center and season (作息时间) — seed 000 §2.5, seed 003 §(四)2(4), SPEC R3.1.
//!
//! Seed 000: summer 8:30–12:00, 14:00–17:00; winter 8:30–12:00, 13:30–16:30, summer from 05-01 to
//! 09-30. Seed 003: 9:00–12:00, 13:00–17:00 all year. A center stores its own [`Hours`] as TOML
//! or JSON; deserializing validates it, so an `Hours` value is always usable.

use std::fmt;

use jiff::civil::{Date, Time};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};

use super::{CalendarError, serde_fmt};

/// One span of service on a day, `start` before `end` (e.g. 08:30–12:00).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Period {
    /// Opening time, serialized `"HH:MM"`.
    #[serde(with = "serde_fmt::hhmm")]
    pub start: Time,
    /// Closing time, serialized `"HH:MM"`.
    #[serde(with = "serde_fmt::hhmm")]
    pub end: Time,
}

impl Period {
    /// A period; refused when `start` is not before `end`.
    pub fn new(start: Time, end: Time) -> Result<Self, CalendarError> {
        if start < end {
            Ok(Self { start, end })
        } else {
            Err(CalendarError::Hours(format!(
                "时段 {} 的开始时间必须早于结束时间",
                Self { start, end }
            )))
        }
    }

    /// Shorthand for the built-in hours; callers guarantee `start < end`.
    const fn hm(start_h: i8, start_m: i8, end_h: i8, end_m: i8) -> Self {
        Self {
            start: Time::constant(start_h, start_m, 0, 0),
            end: Time::constant(end_h, end_m, 0, 0),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}—{:02}:{:02}",
            self.start.hour(),
            self.start.minute(),
            self.end.hour(),
            self.end.minute()
        )
    }
}

/// A day of the year without a year, serialized `"MM-DD"` (e.g. `"05-01"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MonthDay {
    month: i8,
    day: i8,
}

impl MonthDay {
    /// A month and day that exist in every year (so not 02-29).
    pub fn new(month: i8, day: i8) -> Result<Self, CalendarError> {
        // 2001 is not a leap year: 02-29 is refused, since it would switch only every fourth year.
        match Date::new(2001, month, day) {
            Ok(_) => Ok(Self { month, day }),
            Err(_) => Err(CalendarError::Hours(format!(
                "切换日期 {month:02}-{day:02} 无效：请填写每年都有的月-日，例如 05-01"
            ))),
        }
    }

    /// The month and day of `date`.
    pub fn of(date: Date) -> Self {
        Self {
            month: date.month(),
            day: date.day(),
        }
    }

    /// Month, 1–12.
    pub fn month(self) -> i8 {
        self.month
    }

    /// Day of the month.
    pub fn day(self) -> i8 {
        self.day
    }
}

impl fmt::Display for MonthDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}-{:02}", self.month, self.day)
    }
}

impl Serialize for MonthDay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MonthDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let parsed = text
            .trim()
            .split_once('-')
            .and_then(|(m, d)| Some((m.parse::<i8>().ok()?, d.parse::<i8>().ok()?)));
        match parsed {
            Some((month, day)) => MonthDay::new(month, day).map_err(D::Error::custom),
            None => Err(D::Error::custom(format!(
                "切换日期“{text}”无效：请填写 MM-DD，例如 05-01"
            ))),
        }
    }
}

/// When summer hours start and when winter hours start (夏季/冬季作息切换日期).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Season {
    /// First day of summer hours; default 05-01.
    pub summer_start: MonthDay,
    /// First day of winter hours; default 10-01.
    pub winter_start: MonthDay,
}

impl Default for Season {
    /// Summer from 05-01 to 09-30, winter from 10-01 to 04-30 (seed 000 §2.5).
    fn default() -> Self {
        Self {
            summer_start: MonthDay { month: 5, day: 1 },
            winter_start: MonthDay { month: 10, day: 1 },
        }
    }
}

impl Season {
    /// Whether `date` falls in summer hours. Works when summer wraps the new year as well.
    pub fn is_summer(&self, date: Date) -> bool {
        let md = MonthDay::of(date);
        if self.summer_start <= self.winter_start {
            self.summer_start <= md && md < self.winter_start
        } else {
            md >= self.summer_start || md < self.winter_start
        }
    }
}

/// A center's regular hours (作息时间): the season switch dates and each season's periods,
/// in order and not overlapping. The gaps between periods are the lunch break.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "HoursFields")]
pub struct Hours {
    season: Season,
    summer: Vec<Period>,
    winter: Vec<Period>,
}

/// The stored shape of [`Hours`], validated by `TryFrom`; `season` may be left out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HoursFields {
    #[serde(default)]
    season: Season,
    summer: Vec<Period>,
    winter: Vec<Period>,
}

impl TryFrom<HoursFields> for Hours {
    type Error = CalendarError;

    fn try_from(f: HoursFields) -> Result<Self, Self::Error> {
        Hours::new(f.season, f.summer, f.winter)
    }
}

/// Latest closing time: one hour of on-demand service after closing must fit in the day.
const LATEST_CLOSING: Time = Time::constant(23, 0, 0, 0);

impl Default for Hours {
    /// Seed 000 §2.5: summer 8:30–12:00, 14:00–17:00; winter 8:30–12:00, 13:30–16:30.
    fn default() -> Self {
        Self {
            season: Season::default(),
            summer: vec![Period::hm(8, 30, 12, 0), Period::hm(14, 0, 17, 0)],
            winter: vec![Period::hm(8, 30, 12, 0), Period::hm(13, 30, 16, 30)],
        }
    }
}

impl Hours {
    /// Hours with their season switch dates; each season needs at least one period, in order,
    /// not overlapping, closing by 23:00.
    pub fn new(
        season: Season,
        summer: Vec<Period>,
        winter: Vec<Period>,
    ) -> Result<Self, CalendarError> {
        if season.summer_start == season.winter_start {
            return Err(CalendarError::Hours(
                "夏季与冬季作息的开始日期不能相同".to_string(),
            ));
        }
        check_periods("夏季", &summer)?;
        check_periods("冬季", &winter)?;
        Ok(Self {
            season,
            summer,
            winter,
        })
    }

    /// The same periods all year.
    pub fn year_round(periods: Vec<Period>) -> Result<Self, CalendarError> {
        Self::new(Season::default(), periods.clone(), periods)
    }

    /// Seed 003's hours: 9:00–12:00 and 13:00–17:00 all year (“朝九晚五”).
    pub fn nine_to_five() -> Self {
        let periods = vec![Period::hm(9, 0, 12, 0), Period::hm(13, 0, 17, 0)];
        Self {
            season: Season::default(),
            summer: periods.clone(),
            winter: periods,
        }
    }

    /// The season switch dates.
    pub fn season(&self) -> Season {
        self.season
    }

    /// Summer periods.
    pub fn summer(&self) -> &[Period] {
        &self.summer
    }

    /// Winter periods.
    pub fn winter(&self) -> &[Period] {
        &self.winter
    }

    /// The regular periods that apply on `date`'s season (whether or not it is a working day).
    pub fn periods_on(&self, date: Date) -> &[Period] {
        if self.season.is_summer(date) {
            &self.summer
        } else {
            &self.winter
        }
    }
}

fn check_periods(season: &str, periods: &[Period]) -> Result<(), CalendarError> {
    let Some(last) = periods.last() else {
        return Err(CalendarError::Hours(format!("{season}工作时间不能为空")));
    };
    for (i, p) in periods.iter().enumerate() {
        if p.start >= p.end {
            return Err(CalendarError::Hours(format!(
                "{season}第 {} 段 {p} 的开始时间必须早于结束时间",
                i + 1
            )));
        }
        if let Some(next) = periods.get(i + 1)
            && next.start < p.end
        {
            return Err(CalendarError::Hours(format!(
                "{season}第 {} 段 {next} 与前一段 {p} 重叠或顺序颠倒",
                i + 2
            )));
        }
    }
    if last.end > LATEST_CLOSING {
        return Err(CalendarError::Hours(format!(
            "{season}下班时间 {last} 晚于 23:00，无法安排下班后一小时的延时服务"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    #[test]
    fn default_hours_are_seed_000s_summer_and_winter() {
        let h = Hours::default();
        assert_eq!(
            h.periods_on(date(2026, 7, 1)),
            &[Period::hm(8, 30, 12, 0), Period::hm(14, 0, 17, 0)]
        );
        assert_eq!(
            h.periods_on(date(2026, 1, 5)),
            &[Period::hm(8, 30, 12, 0), Period::hm(13, 30, 16, 30)]
        );
    }

    #[test]
    fn summer_runs_from_may_first_to_september_thirtieth() {
        let s = Season::default();
        assert!(!s.is_summer(date(2026, 4, 30)));
        assert!(s.is_summer(date(2026, 5, 1)));
        assert!(s.is_summer(date(2026, 9, 30)));
        assert!(!s.is_summer(date(2026, 10, 1)));
    }

    #[test]
    fn a_center_may_move_the_switch_dates() {
        let season = Season {
            summer_start: MonthDay::new(6, 1).unwrap(),
            winter_start: MonthDay::new(9, 15).unwrap(),
        };
        assert!(!season.is_summer(date(2026, 5, 31)));
        assert!(season.is_summer(date(2026, 6, 1)));
        assert!(season.is_summer(date(2026, 9, 14)));
        assert!(!season.is_summer(date(2026, 9, 15)));
    }

    #[test]
    fn seed_003_hours_are_nine_to_twelve_and_one_to_five_all_year() {
        let h = Hours::nine_to_five();
        for d in [date(2026, 1, 5), date(2026, 7, 1)] {
            assert_eq!(
                h.periods_on(d),
                &[Period::hm(9, 0, 12, 0), Period::hm(13, 0, 17, 0)]
            );
        }
    }

    #[test]
    fn hours_round_trip_through_json_and_toml_with_hh_mm_times() {
        let h = Hours::default();
        let json = serde_json::to_string(&h).unwrap();
        assert!(
            json.contains(r#"{"start":"08:30","end":"12:00"}"#),
            "{json}"
        );
        assert!(json.contains(r#""summer_start":"05-01""#), "{json}");
        assert_eq!(serde_json::from_str::<Hours>(&json).unwrap(), h);

        let toml = r#"
            summer = [{ start = "9:00", end = "12:00" }, { start = "13:00", end = "17:00" }]
            winter = [{ start = "09:00", end = "12:00" }, { start = "13:00", end = "17:00" }]
        "#;
        let parsed: Hours = config::Config::builder()
            .add_source(config::File::from_str(toml, config::FileFormat::Toml))
            .build()
            .unwrap()
            .try_deserialize()
            .unwrap();
        assert_eq!(parsed, Hours::nine_to_five());
    }

    #[test]
    fn overlapping_or_inverted_periods_are_refused_in_chinese() {
        let bad = r#"{"summer":[{"start":"08:30","end":"12:00"},{"start":"11:00","end":"17:00"}],
                      "winter":[{"start":"08:30","end":"12:00"}]}"#;
        let err = serde_json::from_str::<Hours>(bad).unwrap_err().to_string();
        assert!(err.contains("重叠"), "{err}");

        let err = Period::new(time(12, 0, 0, 0), time(8, 30, 0, 0)).unwrap_err();
        assert!(err.to_string().contains("开始时间必须早于结束时间"));

        let err = Hours::year_round(vec![]).unwrap_err();
        assert!(err.to_string().contains("不能为空"));

        let late = Period::new(time(20, 0, 0, 0), time(23, 30, 0, 0)).unwrap();
        assert!(Hours::year_round(vec![late]).is_err());

        assert!(MonthDay::new(2, 29).is_err());
        assert!(serde_json::from_str::<MonthDay>(r#""13-01""#).is_err());
        assert!(serde_json::from_str::<Period>(r#"{"start":"8点","end":"12:00"}"#).is_err());
    }
}
