//! Errors of the service calendar. Every message is for the person at the screen, in Chinese;
//! the variants keep enough structure for a caller to map them (all are client errors).

use jiff::civil::Date;

/// Why a calendar question could not be answered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// Text that is not a real `YYYY-MM-DD` date (`2026-02-30`, `2026/2/3`).
    #[error("日期“{0}”无效：请填写 YYYY-MM-DD 格式的真实日期，例如 2026-02-16")]
    BadDate(String),

    /// A number of days that is not a whole, non-negative number.
    #[error("办理时限天数“{0}”无效：请填写不小于 0 的整数")]
    BadDays(String),

    /// A date before [`super::MIN_YEAR`] or after [`super::MAX_YEAR`].
    #[error("日期 {0} 超出服务日历的计算范围（{min}—{max} 年）", min = super::MIN_YEAR, max = super::MAX_YEAR)]
    OutOfRange(Date),

    /// A deadline that would fall after the last day the calendar computes.
    #[error("从 {accepted} 起算的办理期限超出服务日历的计算范围（至 {max} 年底）", max = super::MAX_YEAR)]
    DueOutOfRange {
        /// Day of acceptance.
        accepted: Date,
    },

    /// A holiday notice (TOML) that cannot be used; `line` is 1-based when known.
    #[error("{}", holiday_data_message(.line, .message))]
    HolidayData {
        /// Line of the pasted text the problem is on, when it can be told.
        line: Option<usize>,
        /// What is wrong, in Chinese.
        message: String,
    },

    /// Opening hours that cannot be used (overlapping periods, end before start …).
    #[error("工作时间设置有误：{0}")]
    Hours(String),

    /// A suspension (中止) whose end is before its start.
    #[error("中止期间有误：开始日期 {start} 晚于结束日期 {end}")]
    InvertedSuspension {
        /// First suspended day.
        start: Date,
        /// Last suspended day.
        end: Date,
    },

    /// A suspension that starts before the case was accepted.
    #[error("中止期间有误：中止开始日期 {start} 早于受理日期 {accepted}")]
    SuspensionBeforeAcceptance {
        /// First suspended day.
        start: Date,
        /// Day the case was accepted.
        accepted: Date,
    },

    /// A suspension without a reason.
    #[error("中止期间 {start} 至 {end} 未注明中止事由")]
    SuspensionWithoutReason {
        /// First suspended day.
        start: Date,
        /// Last suspended day.
        end: Date,
    },

    /// An extension (延期) without a reason or without days.
    #[error("延期有误：{0}")]
    BadExtension(String),
}

fn holiday_data_message(line: &Option<usize>, message: &str) -> String {
    match line {
        Some(line) => format!("节假日数据第 {line} 行：{message}"),
        None => format!("节假日数据有误：{message}"),
    }
}
