//! A booking's life cycle (SPEC R5) as a [`StateMachine`]: the same-day answer (confirmed at
//! once or by a clerk; a refusal proposed by a clerk and approved by the hall manager), then
//! cancellation, check-in or a no-show. Every write is guarded by [`StateMachine::guard`], so of
//! two racing requests the second changes nothing and answers 409 `invalid_state`.

use crate::state::{StateMachine, Transition};

crate::text_enum! {
    /// Where a booking is (`appointments.state`).
    pub enum BookingState {
        /// 待答复: asked for, not yet answered.
        Pending = "pending",
        /// 已确认: the hour is the citizen's.
        Confirmed = "confirmed",
        /// 拒绝待批: a clerk proposed to refuse; the hall manager decides.
        Refusing = "refusing",
        /// 未同意 (final): refused with a reason, approved by the hall manager.
        Refused = "refused",
        /// 已取消 (final).
        Cancelled = "cancelled",
        /// 已签到 (final): turned into a priority ticket.
        CheckedIn = "checked_in",
        /// 爽约 (final): did not come within the grace time.
        NoShow = "no_show",
    }
}

crate::text_enum! {
    /// What can be done to a booking.
    pub enum BookingAction {
        /// 同意 (automatically, by a clerk, or by the manager turning down a proposed refusal).
        Confirm = "confirm",
        /// A clerk proposes 不同意 with a reason.
        ProposeRefusal = "propose_refusal",
        /// The hall manager approves the refusal.
        ApproveRefusal = "approve_refusal",
        /// The citizen (code + phone) or staff cancel.
        Cancel = "cancel",
        /// Another hour: the booking is answered again.
        Reschedule = "reschedule",
        /// 签到 at the kiosk or the counter.
        CheckIn = "check_in",
        /// 爽约, after the grace time.
        MarkNoShow = "mark_no_show",
    }
}

impl BookingState {
    /// The label the pages show.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "待答复",
            Self::Confirmed => "已确认",
            Self::Refusing => "拒绝待审批",
            Self::Refused => "未同意",
            Self::Cancelled => "已取消",
            Self::CheckedIn => "已签到",
            Self::NoShow => "爽约",
        }
    }

    /// Holds a place of its hour (released by a refusal or a cancellation).
    pub fn holds_place(self) -> bool {
        matches!(
            self,
            Self::Pending | Self::Confirmed | Self::Refusing | Self::CheckedIn | Self::NoShow
        )
    }

    /// Active: counts toward the per-person caps and the one-a-day rule.
    pub const ACTIVE: &'static [BookingState] = &[Self::Pending, Self::Confirmed, Self::Refusing];

    /// Waiting for the hall's answer.
    pub const OPEN: &'static [BookingState] = &[Self::Pending, Self::Refusing];
}

impl BookingAction {
    /// The step's name in the history.
    pub fn label(self) -> &'static str {
        match self {
            Self::Confirm => "同意预约",
            Self::ProposeRefusal => "提出不同意",
            Self::ApproveRefusal => "批准不同意",
            Self::Cancel => "取消预约",
            Self::Reschedule => "改约",
            Self::CheckIn => "签到取号",
            Self::MarkNoShow => "记录爽约",
        }
    }
}

use BookingAction as A;
use BookingState as S;

impl StateMachine for BookingState {
    type Action = BookingAction;
    const TRANSITIONS: &'static [Transition<Self, BookingAction>] = &[
        Transition {
            action: A::Confirm,
            from: &[S::Pending, S::Refusing],
            to: S::Confirmed,
        },
        Transition {
            action: A::ProposeRefusal,
            from: &[S::Pending],
            to: S::Refusing,
        },
        Transition {
            action: A::ApproveRefusal,
            from: &[S::Refusing],
            to: S::Refused,
        },
        Transition {
            action: A::Cancel,
            from: &[S::Pending, S::Confirmed],
            to: S::Cancelled,
        },
        Transition {
            action: A::Reschedule,
            from: &[S::Pending, S::Confirmed],
            to: S::Pending,
        },
        Transition {
            action: A::CheckIn,
            from: &[S::Confirmed],
            to: S::CheckedIn,
        },
        Transition {
            action: A::MarkNoShow,
            from: &[S::Confirmed],
            to: S::NoShow,
        },
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_is_well_formed() {
        crate::state::check_machine::<BookingState>();
    }

    #[test]
    fn only_a_confirmed_booking_checks_in_and_finals_stay_final() {
        for &s in S::ALL {
            assert_eq!(s.allows(A::CheckIn), s == S::Confirmed, "{s:?}");
        }
        for s in [S::Refused, S::Cancelled, S::CheckedIn, S::NoShow] {
            for &a in A::ALL {
                assert_eq!(s.after(a), None, "{s:?} allows {a:?}");
            }
        }
    }

    #[test]
    fn a_refusal_needs_the_managers_approval() {
        assert_eq!(S::Pending.after(A::ApproveRefusal), None);
        assert_eq!(S::Pending.after(A::ProposeRefusal), Some(S::Refusing));
        assert_eq!(S::Refusing.after(A::ApproveRefusal), Some(S::Refused));
        // A refusal the manager turns down confirms the booking.
        assert_eq!(S::Refusing.after(A::Confirm), Some(S::Confirmed));
        // Active states are exactly those the one-a-day index covers.
        for &s in S::ALL {
            let active = S::ACTIVE.contains(&s);
            assert!(!active || s.holds_place(), "{s:?}");
        }
    }
}
