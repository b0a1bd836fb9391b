//! A booking's life cycle (SPEC R5) as a [`StateMachine`]: the same-day answer (confirmed at
//! once or by a clerk; a refusal proposed by a clerk and approved by the hall manager), then
//! cancellation, check-in or a no-show. Every write is guarded by [`StateMachine::guard`], so of
//! two racing requests the second changes nothing and answers 409 `invalid_state`.

use crate::state::{StateMachine, Transition, go};

crate::text_enum! {
    /// Where a booking is (`appointments.state`).
    pub enum BookingState {
        /// 待答复: asked for, not yet answered.
        Pending = "pending" => "待答复",
        /// 已确认: the hour is the citizen's.
        Confirmed = "confirmed" => "已确认",
        /// 拒绝待批: a clerk proposed to refuse; the hall manager decides.
        Refusing = "refusing" => "拒绝待审批",
        /// 未同意 (final): refused with a reason, approved by the hall manager.
        Refused = "refused" => "未同意",
        /// 已取消 (final).
        Cancelled = "cancelled" => "已取消",
        /// 已签到 (final): turned into a priority ticket.
        CheckedIn = "checked_in" => "已签到",
        /// 爽约 (final): did not come within the grace time.
        NoShow = "no_show" => "爽约",
    }
}

crate::text_enum! {
    /// What can be done to a booking; its label is the step's name in the history.
    pub enum BookingAction {
        /// 同意 (automatically, by a clerk, or by the manager turning down a proposed refusal).
        Confirm = "confirm" => "同意预约",
        /// A clerk proposes 不同意 with a reason.
        ProposeRefusal = "propose_refusal" => "提出不同意",
        /// The hall manager approves the refusal.
        ApproveRefusal = "approve_refusal" => "批准不同意",
        /// The citizen (code + phone) or staff cancel.
        Cancel = "cancel" => "取消预约",
        /// Another hour: the booking is answered again.
        Reschedule = "reschedule" => "改约",
        /// 签到 at the kiosk or the counter.
        CheckIn = "check_in" => "签到取号",
        /// 爽约, after the grace time.
        MarkNoShow = "mark_no_show" => "记录爽约",
    }
}

impl BookingState {
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

use BookingAction as A;
use BookingState as S;

impl StateMachine for BookingState {
    type Action = BookingAction;
    const TRANSITIONS: &'static [Transition<Self, BookingAction>] = &[
        go(A::Confirm, &[S::Pending, S::Refusing], S::Confirmed),
        go(A::ProposeRefusal, &[S::Pending], S::Refusing),
        go(A::ApproveRefusal, &[S::Refusing], S::Refused),
        go(A::Cancel, &[S::Pending, S::Confirmed], S::Cancelled),
        go(A::Reschedule, &[S::Pending, S::Confirmed], S::Pending),
        go(A::CheckIn, &[S::Confirmed], S::CheckedIn),
        go(A::MarkNoShow, &[S::Confirmed], S::NoShow),
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
