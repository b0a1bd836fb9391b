//! Statutory holidays and 调休 working days per year (法定节假日与调休), from the State Council
//! General Office's yearly notice (国务院办公厅关于××年部分节假日安排的通知) — SPEC R3.3.
//!
//! 2019–2026 ship as the project's own data in `data/holidays/YYYY.toml`; a hall manager pastes a
//! new year's notice in the same TOML shape and it is added with [`HolidayTable::insert_year`].
//! Dates a notice does not list are ordinary weekdays (working) or weekends (rest).

use std::collections::{BTreeMap, HashMap};

use jiff::civil::{Date, Weekday};

use super::HolidayYear;
use super::index::{WorkingDayIndex, day_number};

/// The shipped notices, one TOML file per year, compiled in.
const BUILTIN: [&str; 8] = [
    include_str!("../../data/holidays/2019.toml"),
    include_str!("../../data/holidays/2020.toml"),
    include_str!("../../data/holidays/2021.toml"),
    include_str!("../../data/holidays/2022.toml"),
    include_str!("../../data/holidays/2023.toml"),
    include_str!("../../data/holidays/2024.toml"),
    include_str!("../../data/holidays/2025.toml"),
    include_str!("../../data/holidays/2026.toml"),
];

/// What kind of day a date is for the hall.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DayKind {
    /// Monday to Friday, not a holiday.
    Workday,
    /// Saturday or Sunday, not worked.
    Weekend,
    /// A statutory holiday day off (法定节假日), with the break's name.
    Holiday {
        /// Name of the break, e.g. 春节.
        name: String,
    },
    /// A weekend day worked in exchange for a break (调休上班日) — a working day.
    AdjustedWorkday {
        /// Name of the break it belongs to.
        name: String,
    },
}

impl DayKind {
    /// Whether the hall works its regular hours that day.
    pub fn is_working(&self) -> bool {
        matches!(self, Self::Workday | Self::AdjustedWorkday { .. })
    }
}

/// A date with its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayInfo {
    /// The date asked about.
    pub date: Date,
    /// Working day, weekend, holiday or 调休 working day.
    pub kind: DayKind,
    /// No notice covers this date: it was computed as a plain weekday or weekend, and may be
    /// wrong once the year's notice is published and added.
    pub year_missing: bool,
}

impl DayInfo {
    /// Whether the hall works its regular hours that day.
    pub fn is_working(&self) -> bool {
        self.kind.is_working()
    }
}

/// A date's entry from a notice.
#[derive(Clone, Debug)]
struct Listed {
    off: bool,
    name: String,
    /// Worked out from the law for a year with no notice (its 调休 still unknown).
    from_law: bool,
}

/// The statutory days of every year the calendar computes them for, worked out once.
fn statutory() -> &'static [(Date, &'static str)] {
    static DAYS: std::sync::OnceLock<Vec<(Date, &'static str)>> = std::sync::OnceLock::new();
    DAYS.get_or_init(|| {
        (super::lunar::FIRST_STATUTORY_YEAR..=super::MAX_YEAR)
            .flat_map(super::lunar::statutory_days)
            .collect()
    })
}

/// All notices the hall knows, with a working-day index for fast deadlines (about 20 KB for
/// 1900–2199, rebuilt by [`HolidayTable::insert_year`] in well under a millisecond).
/// Build it once at startup and share it; cloning copies the index.
#[derive(Clone, Debug)]
pub struct HolidayTable {
    years: BTreeMap<i16, HolidayYear>,
    /// Every date some notice lists; a later year's notice wins for the December it reaches into.
    listed: HashMap<Date, Listed>,
    pub(super) index: WorkingDayIndex,
}

impl Default for HolidayTable {
    /// The built-in notices, as [`HolidayTable::builtin`].
    fn default() -> Self {
        Self::builtin()
    }
}

impl HolidayTable {
    /// A table with no notices at all: every date is a plain weekday or weekend.
    pub fn empty() -> Self {
        Self {
            years: BTreeMap::new(),
            listed: HashMap::new(),
            index: WorkingDayIndex::build([]),
        }
    }

    /// The notices shipped with the product, 2019–2026.
    pub fn builtin() -> Self {
        let mut table = Self::empty();
        for text in BUILTIN {
            // The shipped files are checked by `the_builtin_notices_parse` in the tests.
            let year = HolidayYear::from_toml(text)
                .unwrap_or_else(|e| panic!("built-in holiday data is invalid: {e}"));
            table.years.insert(year.year(), year);
        }
        table.rebuild();
        table
    }

    /// Adds (or replaces) one year's notice, e.g. 2027 pasted by a hall manager; returns the
    /// notice it replaced.
    pub fn insert_year(&mut self, year: HolidayYear) -> Option<HolidayYear> {
        let old = self.years.insert(year.year(), year);
        self.rebuild();
        old
    }

    /// Whether a notice for `year` is loaded.
    pub fn has_year(&self, year: i16) -> bool {
        self.years.contains_key(&year)
    }

    /// The loaded notices, by year.
    pub fn years(&self) -> impl Iterator<Item = &HolidayYear> {
        self.years.values()
    }

    /// The notice for `year`, if loaded.
    pub fn notice(&self, year: i16) -> Option<&HolidayYear> {
        self.years.get(&year)
    }

    /// What kind of day `date` is. A date no notice covers is computed from its weekday and
    /// flagged `year_missing`.
    pub fn day_kind(&self, date: Date) -> DayInfo {
        if let Some(l) = self.listed.get(&date) {
            let name = l.name.clone();
            let kind = if l.off {
                DayKind::Holiday { name }
            } else {
                DayKind::AdjustedWorkday { name }
            };
            return DayInfo {
                date,
                kind,
                year_missing: l.from_law,
            };
        }
        let kind = match date.weekday() {
            Weekday::Saturday | Weekday::Sunday => DayKind::Weekend,
            _ => DayKind::Workday,
        };
        DayInfo {
            date,
            kind,
            year_missing: !self.has_year(date.year()),
        }
    }

    /// Years from `from`'s to `to`'s (inclusive) that have no notice loaded.
    pub fn missing_years(&self, from: Date, to: Date) -> Vec<i16> {
        (from.year()..=to.year())
            .filter(|y| !self.has_year(*y))
            .collect()
    }

    fn rebuild(&mut self) {
        self.listed.clear();
        // Ascending years: a notice that reaches back into December overrides the older one.
        for y in self.years.values() {
            for h in y.holidays() {
                for d in &h.dates {
                    let entry = Listed {
                        off: true,
                        name: h.name.clone(),
                        from_law: false,
                    };
                    self.listed.insert(*d, entry);
                }
            }
            for w in y.workdays() {
                let entry = Listed {
                    off: false,
                    name: w.name.clone(),
                    from_law: false,
                };
                self.listed.insert(w.date, entry);
            }
        }
        // A year with no notice still has its statutory days, fixed by law (the 调休 around
        // them waits for the notice).
        for (d, name) in statutory() {
            if !self.years.contains_key(&d.year()) {
                self.listed.entry(*d).or_insert_with(|| Listed {
                    off: true,
                    name: (*name).to_owned(),
                    from_law: true,
                });
            }
        }
        self.index =
            WorkingDayIndex::build(self.listed.iter().map(|(d, l)| (day_number(*d), !l.off)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::notice::tests::SAMPLE_2027;
    use jiff::civil::date;

    fn kind(table: &HolidayTable, d: Date) -> DayKind {
        table.day_kind(d).kind
    }

    #[test]
    fn the_builtin_notices_parse_and_cover_2019_to_2026() {
        let t = HolidayTable::builtin();
        let years: Vec<i16> = t.years().map(HolidayYear::year).collect();
        assert_eq!(years, (2019..=2026).collect::<Vec<_>>());
        for y in t.years() {
            assert!(
                y.notice_url().starts_with("https://www.gov.cn/"),
                "{}",
                y.year()
            );
            assert!(y.notice_title().contains("部分节假日安排的通知"));
        }
        assert!(
            !t.has_year(2027),
            "2027 must not ship: it is imported later"
        );
    }

    #[test]
    fn holidays_and_adjusted_workdays_come_from_the_notice() {
        let t = HolidayTable::builtin();
        let spring = || DayKind::Holiday {
            name: "春节".into(),
        };
        assert_eq!(kind(&t, date(2026, 2, 16)), spring());
        assert_eq!(kind(&t, date(2026, 2, 23)), spring()); // a Monday off
        assert_eq!(
            kind(&t, date(2026, 2, 14)),
            DayKind::AdjustedWorkday {
                name: "春节".into()
            }
        );
        assert!(t.day_kind(date(2026, 2, 28)).is_working()); // 调休 Saturday
        assert_eq!(kind(&t, date(2026, 3, 7)), DayKind::Weekend);
        assert_eq!(kind(&t, date(2026, 3, 9)), DayKind::Workday);
        assert_eq!(
            kind(&t, date(2025, 10, 11)),
            DayKind::AdjustedWorkday {
                name: "国庆节、中秋节".into()
            }
        );
    }

    #[test]
    fn the_2020_spring_festival_extension_and_2019_labour_day_change_are_applied() {
        let t = HolidayTable::builtin();
        // Extended to 02-02; the 02-01 调休 Saturday was cancelled; 02-03 is an ordinary Monday.
        assert!(!t.day_kind(date(2020, 1, 31)).is_working());
        assert!(!t.day_kind(date(2020, 2, 1)).is_working());
        assert_eq!(kind(&t, date(2020, 2, 3)), DayKind::Workday);
        // 2019 劳动节 1–4 May, Sundays 04-28 and 05-05 worked.
        assert!(!t.day_kind(date(2019, 5, 4)).is_working());
        assert!(t.day_kind(date(2019, 5, 5)).is_working());
        assert_eq!(t.notice(2019).unwrap().amendments().len(), 1);
    }

    #[test]
    fn a_new_year_holiday_reaching_back_into_december_belongs_to_the_next_notice() {
        let t = HolidayTable::builtin();
        let info = t.day_kind(date(2018, 12, 30));
        assert_eq!(
            info.kind,
            DayKind::Holiday {
                name: "元旦".into()
            }
        );
        assert!(!info.year_missing, "listed by the 2019 notice");
        assert!(t.day_kind(date(2018, 12, 29)).is_working()); // 调休 Saturday
        assert!(t.day_kind(date(2018, 12, 28)).year_missing);
        assert_eq!(
            kind(&t, date(2022, 12, 31)),
            DayKind::Holiday {
                name: "元旦".into()
            }
        );
    }

    #[test]
    fn a_year_without_a_notice_has_the_statutory_days_of_the_law_and_is_flagged() {
        let t = HolidayTable::builtin();
        // 2027 has no notice: the law's days are off (春节 = 除夕 to 初三 since 2025), the
        // weekdays around them work until a notice moves them.
        let off = |d: Date, name: &str| {
            let info = t.day_kind(d);
            assert_eq!(info.kind, DayKind::Holiday { name: name.into() }, "{d}");
            assert!(info.year_missing, "{d} is flagged: no notice yet");
        };
        off(date(2027, 1, 1), "元旦");
        off(date(2027, 2, 5), "春节"); // 除夕, a Friday
        off(date(2027, 2, 6), "春节"); // 正月初一
        off(date(2027, 2, 8), "春节"); // 初三, a Monday
        off(date(2027, 4, 5), "清明节");
        off(date(2027, 5, 1), "劳动节");
        off(date(2027, 5, 2), "劳动节");
        off(date(2027, 6, 9), "端午节");
        off(date(2027, 9, 15), "中秋节");
        off(date(2027, 10, 1), "国庆节");
        off(date(2027, 10, 3), "国庆节");
        off(date(2028, 1, 26), "春节"); // 正月初一 2028, a Wednesday
        for d in [
            date(2027, 2, 9),
            date(2027, 5, 3),
            date(2027, 10, 4),
            date(2027, 2, 4),
        ] {
            let info = t.day_kind(d);
            assert_eq!(info.kind, DayKind::Workday, "{d}");
            assert!(info.year_missing);
        }
        // Before 2025 the law gave 春节 three days from 正月初一 and 劳动节 one.
        let older = statutory_days_of(2024);
        assert!(older.contains(&(date(2024, 2, 10), "春节")));
        assert!(
            !older.contains(&(date(2024, 2, 9), "春节")),
            "除夕 2024 was not a statutory day"
        );
        assert!(!older.iter().any(|(d, _)| *d == date(2024, 5, 2)));
        let info = t.day_kind(date(2027, 2, 5));
        assert!(info.year_missing);
        assert!(!t.day_kind(date(2026, 6, 1)).year_missing);
        assert_eq!(
            t.missing_years(date(2026, 12, 1), date(2028, 1, 5)),
            vec![2027, 2028]
        );
    }

    fn statutory_days_of(year: i16) -> Vec<(Date, &'static str)> {
        super::super::lunar::statutory_days(year)
    }

    #[test]
    fn a_pasted_year_is_added_without_a_rebuild() {
        let mut t = HolidayTable::builtin();
        let y = HolidayYear::from_toml(SAMPLE_2027).unwrap();
        assert!(t.insert_year(y.clone()).is_none());
        assert!(t.has_year(2027));
        let info = t.day_kind(date(2027, 2, 5));
        assert_eq!(
            info.kind,
            DayKind::Holiday {
                name: "春节".into()
            }
        );
        assert!(!info.year_missing);
        assert!(t.day_kind(date(2027, 2, 20)).is_working());
        assert_eq!(
            t.insert_year(y.clone()),
            Some(y),
            "replacing returns the old notice"
        );
    }
}
