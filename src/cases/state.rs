//! A case's life cycle (SPEC R6) as a [`StateMachine`]: exactly one decision at intake (受理,
//! 一次性告知 or 不予受理), the back office's decision with its stops of the clock and the chief
//! representative's sign-off, and 出件. Every write that performs an action is guarded in SQL
//! by [`StateMachine::guard`], so of two racing requests the second changes nothing and is
//! refused with `invalid_state`.

use crate::state::{StateMachine, Transition, go};

crate::text_enum! {
    /// Where a case is (the `cases.state` column), with the label the pages show.
    pub enum CaseState {
        /// 已收件: materials received, acceptance not yet decided.
        Received = "received" => "已收件",
        /// 一次性告知 given; the same case continues when the applicant comes back.
        Correcting = "correcting" => "待补正",
        /// 已受理: in the back office, the clock running.
        Accepted = "accepted" => "审批中",
        /// The clock stopped (补正 in the back office, 公示, 听证, 专家评审 …).
        Suspended = "suspended" => "中止（暂停计时）",
        /// 待签批: the department's decision waits for the chief representative.
        Signing = "signing" => "待首席代表签批",
        /// 已办结: approved or rejected, waiting at the issuance window.
        Decided = "decided" => "待出件",
        /// Final.
        Refused = "refused" => "不予受理",
        /// Collected or posted (final).
        Issued = "issued" => "已出件",
    }
}

crate::text_enum! {
    /// What can be done to a case, with the step's name in the history.
    pub enum CaseAction {
        Accept = "accept" => "受理",
        /// The 补正告知书.
        NotifyMissing = "notify_missing" => "一次性告知",
        Refuse = "refuse" => "不予受理",
        /// Stop the clock (补正 asked by the approver, or a special procedure).
        Suspend = "suspend" => "中止计时",
        /// Restart the clock.
        Resume = "resume" => "恢复计时",
        /// The department decides (准予 / 不予许可) with no sign-off.
        Decide = "decide" => "作出决定",
        /// The department proposes its decision to the chief representative.
        Propose = "propose" => "提交首席代表签批",
        /// 首席代表 signs the proposed decision.
        Sign = "sign" => "首席代表签批",
        /// 首席代表 sends the proposal back.
        SendBack = "send_back" => "首席代表退回",
        /// 出件: the result handed over or posted.
        Issue = "issue" => "出件",
    }
}

impl CaseState {
    /// The clock of the promised limit runs (warnings apply).
    pub fn clock_runs(self) -> bool {
        matches!(self, Self::Accepted | Self::Signing)
    }

    /// Open: not refused and not issued.
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Refused | Self::Issued)
    }

    /// In the back office with a due date: accepted, suspended or waiting for sign-off (the
    /// states of the partial index `cases_open_due`).
    pub const BACK_OFFICE: &'static [CaseState] = &[Self::Accepted, Self::Suspended, Self::Signing];

    /// The open states, for supervision queries.
    pub const OPEN: &'static [CaseState] = &[
        Self::Received,
        Self::Correcting,
        Self::Accepted,
        Self::Suspended,
        Self::Signing,
        Self::Decided,
    ];
}

use CaseAction as A;
use CaseState as S;

impl StateMachine for CaseState {
    type Action = CaseAction;
    const TRANSITIONS: &'static [Transition<Self, CaseAction>] = &[
        go(A::Accept, &[S::Received, S::Correcting], S::Accepted),
        go(
            A::NotifyMissing,
            &[S::Received, S::Correcting],
            S::Correcting,
        ),
        go(A::Refuse, &[S::Received, S::Correcting], S::Refused),
        go(A::Suspend, &[S::Accepted], S::Suspended),
        go(A::Resume, &[S::Suspended], S::Accepted),
        go(A::Decide, &[S::Accepted], S::Decided),
        go(A::Propose, &[S::Accepted], S::Signing),
        go(A::Sign, &[S::Signing], S::Decided),
        go(A::SendBack, &[S::Signing], S::Accepted),
        go(A::Issue, &[S::Decided], S::Issued),
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_is_well_formed() {
        crate::state::check_machine::<CaseState>();
    }

    #[test]
    fn exactly_one_decision_at_intake() {
        for s in [S::Received, S::Correcting] {
            assert!(s.allows(A::Accept) && s.allows(A::NotifyMissing) && s.allows(A::Refuse));
        }
        // Once accepted or refused, no intake decision is possible again.
        for s in [
            S::Accepted,
            S::Refused,
            S::Decided,
            S::Issued,
            S::Signing,
            S::Suspended,
        ] {
            for a in [A::Accept, A::NotifyMissing, A::Refuse] {
                assert!(!s.allows(a), "{s:?} allows {a:?}");
            }
        }
    }

    #[test]
    fn a_refused_case_is_final() {
        for &a in A::ALL {
            assert_eq!(S::Refused.after(a), None, "refused allows {a:?}");
            assert_eq!(S::Issued.after(a), None, "issued allows {a:?}");
        }
    }

    #[test]
    fn approval_only_from_the_back_office() {
        for &s in S::ALL {
            let ok = s.allows(A::Decide) || s.allows(A::Propose);
            assert_eq!(ok, s == S::Accepted, "{s:?}");
        }
        assert_eq!(S::Signing.after(A::Sign), Some(S::Decided));
        assert_eq!(S::Decided.after(A::Issue), Some(S::Issued));
        assert_eq!(
            CaseState::guard(A::Accept),
            "state in ('received', 'correcting')"
        );
    }
}
