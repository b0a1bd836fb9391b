//! The holiday import form (`/admin/holidays/form`): a year, its breaks with their date ranges
//! and its 调休 working days, as the State Council notice lists them, with Chinese errors
//! beside the field. It writes the same TOML the text import takes (so both are stored, audited
//! and checked alike by `HolidayYear::from_toml`).

use jiff::civil::Date;

use crate::{
    calendar::{CalendarError, HolidayYear},
    extract::Fields,
};

/// The breaks a notice arranges (《全国年节及纪念日放假办法》), one row each on the form.
pub const BREAKS: [&str; 7] = [
    "元旦",
    "春节",
    "清明节",
    "劳动节",
    "端午节",
    "中秋节",
    "国庆节",
];

/// Rows for 调休 working days (a year has five or six).
pub const WORKDAY_ROWS: usize = 6;

/// The longest break a row may hold, in days (春节 and 国庆 are eight).
const LONGEST_BREAK: i32 = 15;

/// One break of the form: its name and first and last day off, as typed.
pub struct BreakRow {
    pub index: usize,
    pub name: String,
    pub from: String,
    pub to: String,
    pub error: Option<String>,
}

/// One 调休 working day: the date and the break it belongs to, as typed.
pub struct WorkdayRow {
    pub index: usize,
    pub date: String,
    pub name: String,
    pub error: Option<String>,
}

/// The form as shown: the values typed and, beside each field, what is wrong with it.
pub struct YearForm {
    pub year: String,
    pub title: String,
    pub url: String,
    pub breaks: Vec<BreakRow>,
    pub workdays: Vec<WorkdayRow>,
    pub year_error: Option<String>,
    pub title_error: Option<String>,
    pub url_error: Option<String>,
    /// What is wrong with the year as a whole (no break given, a check of the notice).
    pub error: Option<String>,
}

impl YearForm {
    /// The empty form for `year`.
    pub fn blank(year: i16) -> Self {
        Self {
            year: year.to_string(),
            title: String::new(),
            url: String::new(),
            breaks: BREAKS
                .iter()
                .enumerate()
                .map(|(index, name)| BreakRow {
                    index,
                    name: (*name).to_owned(),
                    from: String::new(),
                    to: String::new(),
                    error: None,
                })
                .collect(),
            workdays: (0..WORKDAY_ROWS)
                .map(|index| WorkdayRow {
                    index,
                    date: String::new(),
                    name: String::new(),
                    error: None,
                })
                .collect(),
            year_error: None,
            title_error: None,
            url_error: None,
            error: None,
        }
    }

    /// The form as submitted.
    pub fn from_fields(f: &Fields) -> Self {
        let mut form = Self::blank(0);
        form.year = f.get("year").trim().to_owned();
        form.title = f.get("notice_title").trim().to_owned();
        form.url = f.get("notice_url").trim().to_owned();
        for b in &mut form.breaks {
            b.from = f.get(&format!("break_{}_from", b.index)).trim().to_owned();
            b.to = f.get(&format!("break_{}_to", b.index)).trim().to_owned();
        }
        for w in &mut form.workdays {
            w.date = f
                .get(&format!("workday_{}_date", w.index))
                .trim()
                .to_owned();
            w.name = f
                .get(&format!("workday_{}_name", w.index))
                .trim()
                .to_owned();
        }
        form
    }

    /// Whether any field has an error.
    pub fn has_errors(&self) -> bool {
        self.year_error.is_some()
            || self.title_error.is_some()
            || self.url_error.is_some()
            || self.error.is_some()
            || self.breaks.iter().any(|b| b.error.is_some())
            || self.workdays.iter().any(|w| w.error.is_some())
    }

    /// Names a break may be chosen by for a working day.
    pub fn break_names(&self) -> &'static [&'static str] {
        &BREAKS
    }

    /// Checks every field and, when all are right, the notice's TOML; otherwise the form
    /// carries its errors and `None` is returned.
    pub fn to_toml(&mut self) -> Option<String> {
        let year: Option<i16> = match self.year.parse::<i16>() {
            Ok(y) if (2000..=2199).contains(&y) => Some(y),
            _ => {
                self.year_error = Some("请填写四位数的年份，例如 2027".into());
                None
            }
        };
        if let Some(y) = year
            && self.title.is_empty()
        {
            self.title = format!("国务院办公厅关于{y}年部分节假日安排的通知");
        }
        if let Some(y) = year
            && !self.title.contains(&format!("{y}年"))
        {
            self.title_error = Some(format!("通知标题中应有“{y}年”"));
        }
        if self.url.is_empty() {
            self.url_error = Some("请填写中国政府网上通知原文的网址".into());
        } else if !(self.url.starts_with("https://") || self.url.starts_with("http://")) {
            self.url_error = Some("网址须以 https:// 或 http:// 开头".into());
        }
        // (row, name, days off)
        let mut breaks: Vec<(usize, String, Vec<Date>)> = Vec::new();
        for b in &mut self.breaks {
            if b.from.is_empty() && b.to.is_empty() {
                continue;
            }
            match break_days(&b.from, &b.to, year) {
                Ok(days) => breaks.push((b.index, b.name.clone(), days)),
                Err(e) => b.error = Some(e),
            }
        }
        let mut workdays: Vec<(usize, String, Date)> = Vec::new();
        for w in &mut self.workdays {
            if w.date.is_empty() {
                continue;
            }
            let date = match parse_day(&w.date) {
                Ok(d) => d,
                Err(e) => {
                    w.error = Some(e);
                    continue;
                }
            };
            if !BREAKS.contains(&w.name.as_str()) {
                w.error = Some("请选择这一天调休属于哪个节日".into());
                continue;
            }
            if !breaks.iter().any(|(_, n, _)| *n == w.name) {
                w.error = Some(format!("上面没有填写{}的放假日期", w.name));
                continue;
            }
            workdays.push((w.index, w.name.clone(), date));
        }
        if breaks.is_empty() && !self.breaks.iter().any(|b| b.error.is_some()) {
            self.error = Some("请至少填写一个节日的放假日期".into());
        }
        if self.has_errors() {
            return None;
        }
        let year = year?;
        let quote = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
        let mut toml = format!(
            "year = {year}\nnotice_title = {}\nnotice_url = {}\nholidays = [\n",
            quote(&self.title),
            quote(&self.url)
        );
        // The line of each row in the text, to put the notice's own checks beside their row.
        let mut lines: Vec<(usize, Row)> = Vec::new();
        for (i, (row, name, days)) in breaks.iter().enumerate() {
            let dates: Vec<String> = days.iter().map(|d| format!("\"{d}\"")).collect();
            toml.push_str(&format!(
                "  {{ name = {}, dates = [{}] }},\n",
                quote(name),
                dates.join(", ")
            ));
            lines.push((5 + i, Row::Break(*row)));
        }
        toml.push_str("]\nworkdays = [\n");
        let first = 5 + breaks.len() + 2;
        for (i, (row, name, date)) in workdays.iter().enumerate() {
            toml.push_str(&format!(
                "  {{ name = {}, date = \"{date}\" }},\n",
                quote(name)
            ));
            lines.push((first + i, Row::Workday(*row)));
        }
        toml.push_str("]\n");
        match HolidayYear::from_toml(&toml) {
            Ok(_) => Some(toml),
            Err(CalendarError::HolidayData { line, message }) => {
                let at = line.and_then(|l| lines.iter().find(|(n, _)| *n == l).map(|(_, r)| *r));
                match at {
                    Some(Row::Break(i)) => self.breaks[i].error = Some(message),
                    Some(Row::Workday(i)) => self.workdays[i].error = Some(message),
                    None if line == Some(1) => self.year_error = Some(message),
                    None => self.error = Some(message),
                }
                None
            }
            Err(e) => {
                self.error = Some(e.to_string());
                None
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Row {
    Break(usize),
    Workday(usize),
}

fn parse_day(text: &str) -> Result<Date, String> {
    crate::calendar::parse_date(text).map_err(|_| {
        format!(
            "“{}”不是有效日期，请按 2027-02-06 的格式填写",
            crate::error::quote(text)
        )
    })
}

/// The days off from `from` to `to` (one day when `to` is empty).
fn break_days(from: &str, to: &str, year: Option<i16>) -> Result<Vec<Date>, String> {
    if from.is_empty() {
        return Err("请填写放假的第一天".into());
    }
    let first = parse_day(from)?;
    let last = if to.is_empty() { first } else { parse_day(to)? };
    if last < first {
        return Err(format!("结束日期 {last} 早于开始日期 {first}"));
    }
    if let Some(y) = year
        && !(first.year() == y || (first.year() == y - 1 && first.month() == 12))
    {
        return Err(format!("放假日期应在 {y} 年（元旦可从上一年 12 月底开始）"));
    }
    let mut days = Vec::new();
    let mut d = first;
    while d <= last {
        days.push(d);
        if days.len() as i32 > LONGEST_BREAK {
            return Err(format!("一次放假不会超过 {LONGEST_BREAK} 天，请检查日期"));
        }
        d = match d.tomorrow() {
            Ok(n) => n,
            Err(_) => break,
        };
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        Fields(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn a_filled_form_becomes_the_notice_text() {
        let mut f = YearForm::from_fields(&fields(&[
            ("year", "2027"),
            ("notice_url", "https://www.gov.cn/zhengce/2027.htm"),
            ("break_0_from", "2027-01-01"),
            ("break_0_to", "2027-01-03"),
            ("break_1_from", "2027-02-05"),
            ("break_1_to", "2027-02-12"),
            ("workday_0_date", "2027-02-14"),
            ("workday_0_name", "春节"),
        ]));
        let toml = f.to_toml().expect("a valid form");
        let y = HolidayYear::from_toml(&toml).unwrap();
        assert_eq!(y.year(), 2027);
        assert_eq!(
            y.notice_title(),
            "国务院办公厅关于2027年部分节假日安排的通知"
        );
        assert_eq!(y.holidays().len(), 2);
        assert_eq!(y.holidays()[1].dates.len(), 8);
        assert_eq!(y.workdays().len(), 1);
    }

    #[test]
    fn each_mistake_is_told_beside_its_field() {
        let mut f = YearForm::from_fields(&fields(&[
            ("year", "27"),
            ("notice_url", "www.gov.cn"),
            ("break_0_from", "2027-13-01"),
            ("break_1_from", "2027-02-12"),
            ("break_1_to", "2027-02-05"),
            ("workday_0_date", "2027-02-14"),
            ("workday_0_name", "国庆节"),
        ]));
        assert!(f.to_toml().is_none());
        assert!(f.year_error.as_deref().unwrap().contains("四位数"));
        assert!(f.url_error.as_deref().unwrap().contains("https://"));
        assert!(
            f.breaks[0]
                .error
                .as_deref()
                .unwrap()
                .contains("不是有效日期")
        );
        assert!(f.breaks[1].error.as_deref().unwrap().contains("早于"));
        assert!(f.workdays[0].error.as_deref().unwrap().contains("国庆节"));
        assert!(f.breaks[2].error.is_none());
    }
}
