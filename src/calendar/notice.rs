//! One year's holiday notice (国务院办公厅关于××年部分节假日安排的通知) as TOML text, parsed and
//! checked — SPEC R3.3. Errors are in Chinese and name the line of the bad date, because a hall
//! manager pastes this text for a new year.

use std::collections::HashMap;

use jiff::civil::{Date, Weekday};
use serde::Deserialize;

use super::{CalendarError, MAX_YEAR, MIN_YEAR};

/// One year's notice, parsed and checked: every date is real, in the notice's year (or the
/// December before it, for a 元旦 break that starts in the old year), listed once, never both a
/// holiday and a working day, and every 调休 working day is a Saturday or Sunday.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HolidayYear {
    year: i16,
    notice_title: String,
    notice_no: Option<String>,
    notice_url: String,
    amendments: Vec<Amendment>,
    holidays: Vec<HolidayEntry>,
    workdays: Vec<WorkdayEntry>,
}

/// A later notice that changed the year's arrangement (e.g. the 2020 春节 extension).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amendment {
    /// Title of the amending notice.
    pub title: String,
    /// Document number (文号), e.g. 国办发明电〔2020〕1号.
    #[serde(default)]
    pub notice_no: Option<String>,
    /// gov.cn address of the amending notice.
    pub url: String,
}

/// A holiday break as the notice lists it: its name and every day off (放假日).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HolidayEntry {
    /// Name as the notice heads it: 元旦, 春节, 清明节, 劳动节, 端午节, 中秋节, 国庆节 (or a pair).
    pub name: String,
    /// Days off, in the notice's order.
    pub dates: Vec<Date>,
}

/// A weekend day worked in exchange for a break (调休上班日).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkdayEntry {
    /// The break it belongs to.
    pub name: String,
    /// The Saturday or Sunday that is worked.
    pub date: Date,
}

/// The text shape of a notice; dates stay strings until checked, so errors can name the line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeText {
    year: i64,
    notice_title: String,
    #[serde(default)]
    notice_no: Option<String>,
    notice_url: String,
    #[serde(default)]
    amendments: Vec<Amendment>,
    holidays: Vec<HolidayText>,
    #[serde(default)]
    workdays: Vec<WorkdayText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayText {
    name: String,
    dates: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkdayText {
    name: String,
    date: String,
}

impl HolidayYear {
    /// Parses and checks one year's notice in the TOML shape of `data/holidays/2026.toml`:
    /// `year`, `notice_title`, `notice_url`, optional `notice_no` and `[[amendments]]`,
    /// `holidays = [{ name = "春节", dates = ["2026-02-15", …] }, …]` and
    /// `workdays = [{ name = "春节", date = "2026-02-14" }, …]`.
    /// Errors are in Chinese and name the line of the bad date where it can be found.
    pub fn from_toml(text: &str) -> Result<Self, CalendarError> {
        let raw: NoticeText = config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Toml))
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| {
                // The parser's first line only (where it failed), cut short: the lines after
                // it quote the input, which may be a megabyte on one line.
                let text = e.to_string();
                let first = text.lines().next().unwrap_or_default();
                let mut said: String = first.chars().take(80).collect();
                if first.chars().count() > 80 {
                    said.push('…');
                }
                data_error(
                    None,
                    format!("无法读取（需为 TOML 格式，字段见示例）：{said}"),
                )
            })?;
        Checker { text }.check(raw)
    }

    /// The year the notice arranges.
    pub fn year(&self) -> i16 {
        self.year
    }

    /// Title of the notice, e.g. 国务院办公厅关于2026年部分节假日安排的通知.
    pub fn notice_title(&self) -> &str {
        &self.notice_title
    }

    /// Document number (文号), when recorded.
    pub fn notice_no(&self) -> Option<&str> {
        self.notice_no.as_deref()
    }

    /// gov.cn address of the notice.
    pub fn notice_url(&self) -> &str {
        &self.notice_url
    }

    /// Later notices that changed this year's arrangement.
    pub fn amendments(&self) -> &[Amendment] {
        &self.amendments
    }

    /// Holiday breaks with their days off.
    pub fn holidays(&self) -> &[HolidayEntry] {
        &self.holidays
    }

    /// 调休 working days.
    pub fn workdays(&self) -> &[WorkdayEntry] {
        &self.workdays
    }
}

fn data_error(line: Option<usize>, message: String) -> CalendarError {
    CalendarError::HolidayData { line, message }
}

/// Checks a parsed notice against the text it came from (to report line numbers).
struct Checker<'a> {
    text: &'a str,
}

impl Checker<'_> {
    fn check(&self, raw: NoticeText) -> Result<HolidayYear, CalendarError> {
        let year = i16::try_from(raw.year)
            .ok()
            .filter(|y| (MIN_YEAR..=MAX_YEAR).contains(y))
            .ok_or_else(|| {
                data_error(
                    self.line_of_key("year"),
                    format!("年份 {} 超出范围（{MIN_YEAR}—{MAX_YEAR}）", raw.year),
                )
            })?;
        let title = raw.notice_title.trim().to_string();
        if !title.contains(&format!("{year}年")) {
            return Err(data_error(
                self.line_of_key("notice_title"),
                format!("通知标题“{title}”中没有“{year}年”，与 year = {year} 不符"),
            ));
        }
        let url = raw.notice_url.trim().to_string();
        let url_ok = |u: &str| u.starts_with("https://") || u.starts_with("http://");
        if !url_ok(&url) {
            return Err(data_error(
                self.line_of_key("notice_url"),
                format!(
                    "通知网址“{url}”无效：请填写中国政府网上通知原文的网址（http:// 或 https:// 开头）"
                ),
            ));
        }
        for a in &raw.amendments {
            if a.title.trim().is_empty() || !url_ok(a.url.trim()) {
                return Err(data_error(
                    self.line_of_key("url"),
                    "补充通知需写明标题（title）和网址（url）".to_string(),
                ));
            }
        }
        if raw.holidays.is_empty() {
            return Err(data_error(
                None,
                "没有任何放假安排（holidays 为空）".to_string(),
            ));
        }

        // Every listed date, to find repeats and dates that are both off and worked.
        let mut seen: HashMap<Date, &'static str> = HashMap::new();
        let mut holidays = Vec::with_capacity(raw.holidays.len());
        for h in raw.holidays {
            let name = self.name(&h.name)?;
            if h.dates.is_empty() {
                return Err(data_error(
                    self.line_of(&format!("\"{}\"", h.name), 1),
                    format!("“{name}”没有列出放假日期"),
                ));
            }
            let mut dates = Vec::with_capacity(h.dates.len());
            for text in &h.dates {
                let date = self.date(text, year)?;
                if seen.insert(date, "放假日").is_some() {
                    return Err(data_error(
                        self.line_of(text, 2),
                        format!("日期 {date} 重复列出"),
                    ));
                }
                dates.push(date);
            }
            holidays.push(HolidayEntry { name, dates });
        }
        let mut workdays = Vec::with_capacity(raw.workdays.len());
        for w in raw.workdays {
            let name = self.name(&w.name)?;
            let date = self.date(&w.date, year)?;
            if let Some(kind) = seen.insert(date, "调休上班日") {
                let message = if kind == "放假日" {
                    format!("日期 {date} 既是放假日又是调休上班日")
                } else {
                    format!("日期 {date} 重复列出")
                };
                // The second mention of the date is the offending workday line.
                return Err(data_error(self.line_of(&w.date, 2), message));
            }
            if !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) {
                return Err(data_error(
                    self.line_of(&w.date, 1),
                    format!(
                        "调休上班日 {date} 是{}，不是周六或周日（工作日本来就上班，无需列出）",
                        weekday_name(date.weekday())
                    ),
                ));
            }
            workdays.push(WorkdayEntry { name, date });
        }
        Ok(HolidayYear {
            year,
            notice_title: title,
            notice_no: raw
                .notice_no
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty()),
            notice_url: url,
            amendments: raw.amendments,
            holidays,
            workdays,
        })
    }

    fn name(&self, name: &str) -> Result<String, CalendarError> {
        let name = name.trim();
        if name.is_empty() {
            Err(data_error(
                self.line_of("name = \"\"", 1),
                "节日名称（name）不能为空".to_string(),
            ))
        } else {
            Ok(name.to_string())
        }
    }

    /// A listed date: real, and in the notice's year or the December before it.
    fn date(&self, text: &str, year: i16) -> Result<Date, CalendarError> {
        let date = super::parse_date(text).map_err(|_| {
            data_error(
                self.line_of(text, 1),
                format!("“{text}”不是有效日期（应为 YYYY-MM-DD，例如 {year}-10-01）"),
            )
        })?;
        let in_year = date.year() == year;
        let december_before = date.year() == year - 1 && date.month() == 12;
        if !in_year && !december_before {
            return Err(data_error(
                self.line_of(text, 1),
                format!(
                    "日期 {date} 不在 {year} 年内（只有跨年的元旦假期可以从 {} 年 12 月开始）",
                    year - 1
                ),
            ));
        }
        Ok(date)
    }

    /// 1-based line of the `nth` occurrence of `needle` outside comment lines.
    fn line_of(&self, needle: &str, nth: usize) -> Option<usize> {
        self.text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim_start().starts_with('#'))
            .flat_map(|(i, line)| std::iter::repeat_n(i + 1, line.matches(needle).count()))
            .nth(nth.saturating_sub(1))
    }

    /// 1-based line where `key = …` is set.
    fn line_of_key(&self, key: &str) -> Option<usize> {
        self.text
            .lines()
            .position(|line| {
                line.trim_start()
                    .strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
            })
            .map(|i| i + 1)
    }
}

fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "星期一",
        Weekday::Tuesday => "星期二",
        Weekday::Wednesday => "星期三",
        Weekday::Thursday => "星期四",
        Weekday::Friday => "星期五",
        Weekday::Saturday => "星期六",
        Weekday::Sunday => "星期日",
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A made-up 2027 notice (the real one is not shipped: importing it is tested).
    pub(in crate::calendar) const SAMPLE_2027: &str = r#"
year = 2027
notice_title = "国务院办公厅关于2027年部分节假日安排的通知"
notice_url = "https://www.gov.cn/example"
holidays = [
  { name = "春节", dates = ["2027-02-05", "2027-02-06"] },
]
workdays = [
  { name = "春节", date = "2027-02-20" },
]
"#;

    fn error_of(text: &str) -> (Option<usize>, String) {
        match HolidayYear::from_toml(text).unwrap_err() {
            CalendarError::HolidayData { line, message } => (line, message),
            other => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn an_impossible_date_is_reported_with_its_line() {
        let text = SAMPLE_2027.replace("2027-02-06", "2027-02-30");
        let (line, message) = error_of(&text);
        assert_eq!(line, Some(6));
        assert!(message.contains("2027-02-30"), "{message}");
        let full = HolidayYear::from_toml(&text).unwrap_err().to_string();
        assert!(full.starts_with("节假日数据第 6 行："), "{full}");
    }

    #[test]
    fn a_date_outside_the_year_is_refused_but_the_december_before_is_allowed() {
        let (line, message) = error_of(&SAMPLE_2027.replace("2027-02-06", "2028-01-01"));
        assert_eq!(line, Some(6));
        assert!(message.contains("不在 2027 年内"), "{message}");
        assert!(HolidayYear::from_toml(&SAMPLE_2027.replace("2027-02-05", "2026-12-31")).is_ok());
        assert!(HolidayYear::from_toml(&SAMPLE_2027.replace("2027-02-05", "2026-11-30")).is_err());
    }

    #[test]
    fn a_date_both_off_and_worked_is_refused() {
        let (line, message) = error_of(&SAMPLE_2027.replace("2027-02-20", "2027-02-06"));
        assert_eq!(line, Some(9));
        assert!(message.contains("既是放假日又是调休上班日"), "{message}");
    }

    #[test]
    fn a_repeated_date_is_refused() {
        let text = SAMPLE_2027.replace("\"2027-02-06\"]", "\"2027-02-06\", \"2027-02-05\"]");
        let (line, message) = error_of(&text);
        assert_eq!(line, Some(6));
        assert!(message.contains("重复"), "{message}");
    }

    #[test]
    fn an_adjusted_workday_must_be_a_weekend_day() {
        let (line, message) = error_of(&SAMPLE_2027.replace("2027-02-20", "2027-02-22"));
        assert_eq!(line, Some(9));
        assert!(message.contains("星期一"), "{message}");
    }

    #[test]
    fn malformed_text_and_wrong_fields_are_refused_in_chinese() {
        let e = HolidayYear::from_toml("year = 2027\nholidays = [").unwrap_err();
        assert!(e.to_string().contains("TOML"), "{e}");
        let e = HolidayYear::from_toml(&SAMPLE_2027.replace("workdays", "workday")).unwrap_err();
        assert!(e.to_string().starts_with("节假日数据有误"), "{e}");
        let (line, message) = error_of(&SAMPLE_2027.replace("关于2027年", "关于2026年"));
        assert_eq!(line, Some(3));
        assert!(message.contains("2027年"), "{message}");
        let (line, _) = error_of(&SAMPLE_2027.replace("https://www.gov.cn/example", "gov.cn"));
        assert_eq!(line, Some(4));
        let (_, message) = error_of(&SAMPLE_2027.replace("year = 2027", "year = 1800"));
        assert!(message.contains("超出范围"), "{message}");
        let (_, message) =
            error_of(&SAMPLE_2027.replace("name = \"春节\", dates", "name = \"\", dates"));
        assert!(message.contains("名称"), "{message}");
    }
}
