//! Serde formats for civil dates (`"2026-02-16"`) and clock times (`"08:30"`), written here so the
//! calendar does not depend on jiff's optional serde feature and times print without seconds.

use jiff::civil::{Date, Time};
use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

/// `Date` as `"YYYY-MM-DD"`.
pub(crate) mod date {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(date: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(date)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let text = String::deserialize(d)?;
        crate::calendar::parse_date(&text).map_err(D::Error::custom)
    }
}

/// `Time` as `"HH:MM"` (minutes precision: opening hours never need seconds).
pub(crate) mod hhmm {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(time: &Time, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:02}:{:02}", time.hour(), time.minute()))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Time, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text)
            .ok_or_else(|| D::Error::custom(format!("时间“{text}”无效：请填写 HH:MM，例如 08:30")))
    }

    /// Parses `"8:30"` or `"08:30"`.
    pub(crate) fn parse(text: &str) -> Option<Time> {
        let (h, m) = text.trim().split_once(':')?;
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if h.is_empty() || h.len() > 2 || m.len() != 2 || !digits(h) || !digits(m) {
            return None;
        }
        let h: i8 = h.parse().ok()?;
        let m: i8 = m.parse().ok()?;
        Time::new(h, m, 0, 0).ok()
    }
}
