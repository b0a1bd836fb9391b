//! Working-day deadlines (办理时限) — SPEC R3.4, R6.5.
//!
//! A case accepted on day A with a time limit of N working days is due on the N-th *counting*
//! day after A. A counting day is a working day (weekday or 调休 working day, not a statutory
//! holiday) that lies in no suspension. So:
//!
//! * counting starts the day after acceptance; weekends and holidays are skipped, 调休 days count;
//! * a suspension (中止: 补正, 公示, 听证, 专家评审, 现场踏勘 …) stops the clock from its first to
//!   its last day inclusive: the working days it covers inside the counting window are added
//!   back, and the non-working days it covers add nothing;
//! * an extension (延期) adds its days to N, with a reason;
//! * N = 0 (即办件) is due on acceptance day if that is a counting day, otherwise on the next one.
//!
//! [`HolidayTable::deadline`] answers from the working-day index in O(log n) per suspension;
//! [`HolidayTable::deadline_naive`] walks day by day and exists to check it (property tests and
//! the benchmark).

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::index::{date_of, day_number};
use super::{CalendarError, HolidayTable, check_range, serde_fmt};

/// Why a case's clock is stopped (中止事由).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum SuspensionReason {
    /// 补正: waiting for the applicant to complete or correct materials.
    Correction,
    /// 公示: public notice period.
    Publicity,
    /// 听证: hearing.
    Hearing,
    /// 专家评审: expert review.
    ExpertReview,
    /// 现场踏勘: site inspection.
    SiteInspection,
    /// Another legal reason (检验检测, 招标拍卖, 鉴定 …), in words.
    Other(String),
}

impl SuspensionReason {
    /// The reason in Chinese.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Correction => "补正",
            Self::Publicity => "公示",
            Self::Hearing => "听证",
            Self::ExpertReview => "专家评审",
            Self::SiteInspection => "现场踏勘",
            Self::Other(text) => text,
        }
    }
}

impl fmt::Display for SuspensionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<String> for SuspensionReason {
    fn from(text: String) -> Self {
        match text.trim() {
            "补正" => Self::Correction,
            "公示" => Self::Publicity,
            "听证" => Self::Hearing,
            "专家评审" => Self::ExpertReview,
            "现场踏勘" => Self::SiteInspection,
            other => Self::Other(other.to_string()),
        }
    }
}

impl FromStr for SuspensionReason {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(s.to_string().into())
    }
}

impl From<SuspensionReason> for String {
    fn from(r: SuspensionReason) -> Self {
        r.as_str().to_string()
    }
}

/// Days during which a case's clock is stopped, first and last day included.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suspension {
    /// First suspended day.
    #[serde(with = "serde_fmt::date")]
    pub start: Date,
    /// Last suspended day; the clock runs again the day after.
    #[serde(with = "serde_fmt::date")]
    pub end: Date,
    /// Why.
    pub reason: SuspensionReason,
}

/// An approved extension of the time limit (延期), in working days, with its reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    /// Working days added (at least 1).
    pub days: u32,
    /// Why, as written in the notice to the applicant.
    pub reason: String,
}

/// When a case is due. Serializes as `{"from":"…","days":N,"due":"…"}`, plus the added-back
/// suspension days, extension days and missing notice years when there are any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Deadline {
    /// Day of acceptance (受理日).
    #[serde(rename = "from", with = "serde_fmt::date")]
    pub accepted: Date,
    /// The time limit in working days, before any extension.
    pub days: u32,
    /// The due date: always a working day outside every suspension.
    #[serde(with = "serde_fmt::date")]
    pub due: Date,
    /// Working days covered by suspensions inside the counting window (added back).
    #[serde(skip_serializing_if = "is_zero")]
    pub suspended_working_days: u32,
    /// Working days added by the extension.
    #[serde(skip_serializing_if = "is_zero")]
    pub extension_days: u32,
    /// Years between acceptance and the due date whose holiday notice is not loaded: those
    /// years were counted as plain weekdays, so the due date may move once they are added.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_years: Vec<i16>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Checked input shared by both implementations: merged suspensions as day numbers.
struct Request {
    accepted: i32,
    /// Counting days wanted; 0 means "the first counting day on or after acceptance".
    total: u32,
    /// Disjoint, sorted, inclusive `(start, end)` day numbers.
    suspended: Vec<(i32, i32)>,
}

impl Request {
    /// Counting starts after this day: the day before acceptance for a same-day (即办) answer.
    fn cursor(&self) -> i32 {
        if self.total == 0 {
            self.accepted - 1
        } else {
            self.accepted
        }
    }

    fn wanted(&self) -> u32 {
        self.total.max(1)
    }
}

fn check(
    accepted: Date,
    days: u32,
    suspensions: &[Suspension],
    extension: Option<&Extension>,
) -> Result<Request, CalendarError> {
    check_range(accepted)?;
    let mut suspended = Vec::with_capacity(suspensions.len());
    for s in suspensions {
        if s.end < s.start {
            return Err(CalendarError::InvertedSuspension {
                start: s.start,
                end: s.end,
            });
        }
        if s.start < accepted {
            return Err(CalendarError::SuspensionBeforeAcceptance {
                start: s.start,
                accepted,
            });
        }
        if s.reason.as_str().trim().is_empty() {
            return Err(CalendarError::SuspensionWithoutReason {
                start: s.start,
                end: s.end,
            });
        }
        check_range(s.end)?;
        suspended.push((day_number(s.start), day_number(s.end)));
    }
    suspended.sort_unstable();
    let mut merged: Vec<(i32, i32)> = Vec::with_capacity(suspended.len());
    for (s, e) in suspended {
        match merged.last_mut() {
            Some(last) if s <= last.1 + 1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    let extra = match extension {
        None => 0,
        Some(ext) => {
            if ext.reason.trim().is_empty() {
                return Err(CalendarError::BadExtension(
                    "延长办理时限必须注明理由".to_string(),
                ));
            }
            if ext.days == 0 {
                return Err(CalendarError::BadExtension(
                    "延长的工作日天数必须大于 0".to_string(),
                ));
            }
            ext.days
        }
    };
    Ok(Request {
        accepted: day_number(accepted),
        total: days.saturating_add(extra),
        suspended: merged,
    })
}

impl HolidayTable {
    /// The due date of a case accepted on `accepted` with a limit of `days` working days,
    /// given its suspensions and an optional extension (rules in the module notes).
    ///
    /// Errors: a suspension ending before it starts, starting before acceptance or without a
    /// reason; an extension without a reason or days; dates or a due date beyond the calendar's
    /// range. Years without a notice are counted as plain weekdays and listed in
    /// [`Deadline::missing_years`].
    pub fn deadline(
        &self,
        accepted: Date,
        days: u32,
        suspensions: &[Suspension],
        extension: Option<&Extension>,
    ) -> Result<Deadline, CalendarError> {
        let req = check(accepted, days, suspensions, extension)?;
        let out_of_range = || CalendarError::DueOutOfRange { accepted };
        let mut cursor = req.cursor();
        let mut remaining = req.wanted();
        let mut due = None;
        for &(start, end) in &req.suspended {
            if end <= cursor {
                continue;
            }
            let start = start.max(cursor + 1);
            let candidate = self
                .index
                .nth_after(cursor, remaining)
                .ok_or_else(out_of_range)?;
            if candidate < start {
                due = Some(candidate);
                break;
            }
            // Fewer than `remaining` counting days lie before the suspension: use them, then
            // restart the clock after it.
            remaining -= self.index.count(cursor + 1, start - 1);
            cursor = end;
        }
        let due = match due {
            Some(d) => d,
            None => self
                .index
                .nth_after(cursor, remaining)
                .ok_or_else(out_of_range)?,
        };
        let first = req.cursor() + 1;
        let suspended_working_days = req
            .suspended
            .iter()
            .filter(|(s, _)| *s <= due)
            .map(|&(s, e)| self.index.count(s.max(first), e))
            .sum();
        Ok(self.finish(
            accepted,
            days,
            extension,
            date_of(due),
            suspended_working_days,
        ))
    }

    /// The same answer as [`HolidayTable::deadline`], walking one day at a time over
    /// [`HolidayTable::day_kind`]. Kept as the reference the fast version is tested against.
    pub fn deadline_naive(
        &self,
        accepted: Date,
        days: u32,
        suspensions: &[Suspension],
        extension: Option<&Extension>,
    ) -> Result<Deadline, CalendarError> {
        let req = check(accepted, days, suspensions, extension)?;
        let suspended = |d: Date| suspensions.iter().any(|s| s.start <= d && d <= s.end);
        let mut day = if req.total == 0 {
            accepted
        } else {
            accepted
                .tomorrow()
                .map_err(|_| CalendarError::OutOfRange(accepted))?
        };
        let (mut counted, mut skipped) = (0u32, 0u32);
        loop {
            check_range(day).map_err(|_| CalendarError::DueOutOfRange { accepted })?;
            if self.day_kind(day).is_working() {
                if suspended(day) {
                    skipped += 1;
                } else {
                    counted += 1;
                    if counted == req.wanted() {
                        return Ok(self.finish(accepted, days, extension, day, skipped));
                    }
                }
            }
            day = day
                .tomorrow()
                .map_err(|_| CalendarError::DueOutOfRange { accepted })?;
        }
    }

    fn finish(
        &self,
        accepted: Date,
        days: u32,
        extension: Option<&Extension>,
        due: Date,
        suspended_working_days: u32,
    ) -> Deadline {
        Deadline {
            accepted,
            days,
            due,
            suspended_working_days,
            extension_days: extension.map_or(0, |e| e.days),
            missing_years: self.missing_years(accepted, due),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn table() -> HolidayTable {
        HolidayTable::builtin()
    }

    fn due(accepted: Date, days: u32) -> Date {
        let t = table();
        let fast = t.deadline(accepted, days, &[], None).unwrap();
        assert_eq!(fast, t.deadline_naive(accepted, days, &[], None).unwrap());
        fast.due
    }

    fn suspension(start: Date, end: Date) -> Suspension {
        Suspension {
            start,
            end,
            reason: SuspensionReason::Correction,
        }
    }

    #[test]
    fn counting_starts_the_day_after_acceptance_and_skips_weekends() {
        // Monday 2026-03-09 + 1 → Tuesday; + 5 → next Monday.
        assert_eq!(due(date(2026, 3, 9), 1), date(2026, 3, 10));
        assert_eq!(due(date(2026, 3, 9), 5), date(2026, 3, 16));
        // Accepted on a Saturday: counting starts Monday.
        assert_eq!(due(date(2026, 3, 7), 1), date(2026, 3, 9));
    }

    #[test]
    fn a_deadline_across_the_2026_spring_festival_skips_the_break_and_counts_the_adjusted_days() {
        // Accepted Thu 2026-02-12. Counting days: 02-13 (Fri) 1, 02-14 (调休 Sat) 2,
        // 02-15..23 off, 02-24 3, 25 4, 26 5, 27 6, 02-28 (调休 Sat) 7, 03-02 8, 03-03 9, 03-04 10.
        assert_eq!(due(date(2026, 2, 12), 2), date(2026, 2, 14));
        assert_eq!(due(date(2026, 2, 12), 3), date(2026, 2, 24));
        assert_eq!(due(date(2026, 2, 12), 7), date(2026, 2, 28));
        assert_eq!(due(date(2026, 2, 12), 10), date(2026, 3, 4));
    }

    #[test]
    fn a_deadline_across_national_day_2025() {
        // Accepted Thu 2025-09-25: 09-26 1, 09-28 (调休 Sun) 2, 09-29 3, 09-30 4, 10-01..08 off,
        // 10-09 5, 10-10 6, 10-11 (调休 Sat) 7, 10-13 8.
        assert_eq!(due(date(2025, 9, 25), 2), date(2025, 9, 28));
        assert_eq!(due(date(2025, 9, 25), 4), date(2025, 9, 30));
        assert_eq!(due(date(2025, 9, 25), 5), date(2025, 10, 9));
        assert_eq!(due(date(2025, 9, 25), 8), date(2025, 10, 13));
        // 20 working days from 2025-09-25: 8 by 10-13, then 10-14..17 (12), 10-20..24 (17),
        // 10-27, 28, 29 (20).
        assert_eq!(due(date(2025, 9, 25), 20), date(2025, 10, 29));
    }

    #[test]
    fn zero_days_is_due_the_same_working_day_or_the_next_one() {
        assert_eq!(due(date(2026, 3, 10), 0), date(2026, 3, 10));
        assert_eq!(due(date(2026, 3, 7), 0), date(2026, 3, 9)); // Saturday → Monday
        assert_eq!(due(date(2026, 2, 16), 0), date(2026, 2, 24)); // 春节 → after the break
        assert_eq!(due(date(2026, 2, 14), 0), date(2026, 2, 14)); // 调休 Saturday works
    }

    #[test]
    fn a_suspension_adds_back_the_working_days_it_covers() {
        let t = table();
        // Accepted Mon 2026-03-09, 5 days → 03-16. 补正 from Wed 03-11 to Tue 03-17 covers
        // 03-11, 12, 13, 16, 17 (5 working days; the weekend adds nothing).
        // Counting: 03-10 1, [suspended], 03-18 2, 19 3, 20 4, 23 5.
        let s = [suspension(date(2026, 3, 11), date(2026, 3, 17))];
        let d = t.deadline(date(2026, 3, 9), 5, &s, None).unwrap();
        assert_eq!(d.due, date(2026, 3, 23));
        assert_eq!(d.suspended_working_days, 5);
        assert_eq!(d, t.deadline_naive(date(2026, 3, 9), 5, &s, None).unwrap());
    }

    #[test]
    fn a_suspension_over_non_working_days_adds_nothing() {
        let t = table();
        let s = [suspension(date(2026, 3, 14), date(2026, 3, 15))]; // a weekend
        let d = t.deadline(date(2026, 3, 9), 5, &s, None).unwrap();
        assert_eq!(d.due, date(2026, 3, 16));
        assert_eq!(d.suspended_working_days, 0);
    }

    #[test]
    fn a_suspension_after_the_due_date_changes_nothing_and_overlaps_count_once() {
        let t = table();
        let later = [suspension(date(2026, 4, 1), date(2026, 4, 10))];
        assert_eq!(
            t.deadline(date(2026, 3, 9), 5, &later, None).unwrap().due,
            date(2026, 3, 16)
        );
        let overlapping = [
            suspension(date(2026, 3, 11), date(2026, 3, 13)),
            suspension(date(2026, 3, 12), date(2026, 3, 17)),
        ];
        let d = t.deadline(date(2026, 3, 9), 5, &overlapping, None).unwrap();
        assert_eq!(d.due, date(2026, 3, 23));
        assert_eq!(d.suspended_working_days, 5);
    }

    #[test]
    fn an_extension_adds_working_days_and_needs_a_reason() {
        let t = table();
        let ext = Extension {
            days: 10,
            reason: "情况复杂，经负责人批准延长".into(),
        };
        let d = t.deadline(date(2026, 3, 9), 5, &[], Some(&ext)).unwrap();
        assert_eq!(d.due, date(2026, 3, 30)); // 15 working days after 03-09
        assert_eq!(d.extension_days, 10);
        assert_eq!(d.days, 5);

        let no_reason = Extension {
            days: 10,
            reason: " ".into(),
        };
        let err = t
            .deadline(date(2026, 3, 9), 5, &[], Some(&no_reason))
            .unwrap_err();
        assert!(err.to_string().contains("理由"), "{err}");
        let no_days = Extension { days: 0, ..ext };
        assert!(
            t.deadline(date(2026, 3, 9), 5, &[], Some(&no_days))
                .is_err()
        );
    }

    #[test]
    fn inverted_or_early_suspensions_are_refused_in_chinese() {
        let t = table();
        let inverted = [suspension(date(2026, 3, 12), date(2026, 3, 11))];
        let err = t
            .deadline(date(2026, 3, 9), 5, &inverted, None)
            .unwrap_err();
        assert_eq!(
            err,
            CalendarError::InvertedSuspension {
                start: date(2026, 3, 12),
                end: date(2026, 3, 11)
            }
        );
        assert!(err.to_string().contains("晚于结束日期"));
        let early = [suspension(date(2026, 3, 8), date(2026, 3, 11))];
        let err = t.deadline(date(2026, 3, 9), 5, &early, None).unwrap_err();
        assert!(err.to_string().contains("早于受理日期"), "{err}");
        let blank = [Suspension {
            reason: SuspensionReason::Other(String::new()),
            ..suspension(date(2026, 3, 10), date(2026, 3, 11))
        }];
        assert!(t.deadline(date(2026, 3, 9), 5, &blank, None).is_err());
    }

    #[test]
    fn a_deadline_into_a_year_without_a_notice_still_computes_and_says_which_year() {
        let t = table();
        // Thu 2026-12-24: 12-25 1, 12-28..31 5; 2027 has no notice, but 元旦 (Fri 01-01) is off
        // by law; then 01-04..08 are 6..10.
        let d = t.deadline(date(2026, 12, 24), 10, &[], None).unwrap();
        assert_eq!(d.due, date(2027, 1, 8));
        assert_eq!(d.missing_years, vec![2027]);
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(
            json,
            r#"{"from":"2026-12-24","days":10,"due":"2027-01-08","missing_years":[2027]}"#
        );
        assert_eq!(
            d,
            t.deadline_naive(date(2026, 12, 24), 10, &[], None).unwrap()
        );
    }

    #[test]
    fn the_plain_json_shape_is_from_days_due() {
        let d = table().deadline(date(2026, 3, 9), 5, &[], None).unwrap();
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"from":"2026-03-09","days":5,"due":"2026-03-16"}"#
        );
    }

    #[test]
    fn a_due_date_past_the_calendar_range_is_an_error_not_a_panic() {
        let t = table();
        assert!(matches!(
            t.deadline(date(2199, 12, 1), 100, &[], None),
            Err(CalendarError::DueOutOfRange { .. })
        ));
        assert!(t.deadline(date(2026, 1, 5), u32::MAX, &[], None).is_err());
        assert_eq!(
            t.deadline_naive(date(2199, 12, 1), 100, &[], None),
            t.deadline(date(2199, 12, 1), 100, &[], None)
        );
        let err = t.deadline(date(2199, 12, 1), 100, &[], None).unwrap_err();
        assert!(err.to_string().contains("超出服务日历的计算范围"), "{err}");
        assert!(t.deadline(date(1899, 12, 1), 1, &[], None).is_err());
    }

    #[test]
    fn suspension_reasons_serialize_as_chinese_words() {
        let s = suspension(date(2026, 3, 11), date(2026, 3, 17));
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            r#"{"start":"2026-03-11","end":"2026-03-17","reason":"补正"}"#
        );
        assert_eq!(serde_json::from_str::<Suspension>(&json).unwrap(), s);
        assert_eq!(
            "检验检测".parse::<SuspensionReason>().unwrap(),
            SuspensionReason::Other("检验检测".into())
        );
        assert_eq!(
            "现场踏勘".parse::<SuspensionReason>().unwrap(),
            SuspensionReason::SiteInspection
        );
    }
}
