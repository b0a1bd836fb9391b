//! A case's life cycle (SPEC R6) as a [`StateMachine`]: exactly one decision at intake (受理,
//! 一次性告知 or 不予受理), the back office's decision with its stops of the clock and the chief
//! representative's sign-off, and 出件. Every write that performs an action is guarded in SQL
//! by [`StateMachine::guard`], so of two racing requests the second changes nothing and is
//! refused with `invalid_state`.

use crate::state::{StateMachine, Transition};

crate::text_enum! {
    /// Where a case is (the `cases.state` column).
    pub enum CaseState {
        /// 已收件: materials received, acceptance not yet decided.
        Received = "received",
        /// 待补正: 一次性告知 given; the same case continues when the applicant comes back.
        Correcting = "correcting",
        /// 已受理: in the back office, the clock running.
        Accepted = "accepted",
        /// 中止: the clock stopped (补正 in the back office, 公示, 听证, 专家评审 …).
        Suspended = "suspended",
        /// 待签批: the department's decision waits for the chief representative.
        Signing = "signing",
        /// 已办结: approved or rejected, waiting at the issuance window.
        Decided = "decided",
        /// 不予受理 (final).
        Refused = "refused",
        /// 已出件: collected or posted (final).
        Issued = "issued",
    }
}

crate::text_enum! {
    /// What can be done to a case.
    pub enum CaseAction {
        /// 受理
        Accept = "accept",
        /// 一次性告知 (补正告知书)
        NotifyMissing = "notify_missing",
        /// 不予受理
        Refuse = "refuse",
        /// Stop the clock (补正 asked by the approver, or a special procedure).
        Suspend = "suspend",
        /// Restart the clock.
        Resume = "resume",
        /// The department decides (准予 / 不予许可) with no sign-off.
        Decide = "decide",
        /// The department proposes its decision to the chief representative.
        Propose = "propose",
        /// 首席代表 signs the proposed decision.
        Sign = "sign",
        /// 首席代表 sends the proposal back.
        SendBack = "send_back",
        /// 出件: the result handed over or posted.
        Issue = "issue",
    }
}

impl CaseState {
    /// The label the pages show.
    pub fn label(self) -> &'static str {
        match self {
            Self::Received => "已收件",
            Self::Correcting => "待补正",
            Self::Accepted => "审批中",
            Self::Suspended => "中止（暂停计时）",
            Self::Signing => "待首席代表签批",
            Self::Decided => "待出件",
            Self::Refused => "不予受理",
            Self::Issued => "已出件",
        }
    }

    /// The clock of the promised limit runs (warnings apply).
    pub fn clock_runs(self) -> bool {
        matches!(self, Self::Accepted | Self::Signing)
    }

    /// Open: not refused and not issued.
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Refused | Self::Issued)
    }

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

impl CaseAction {
    /// The step's name in the history.
    pub fn label(self) -> &'static str {
        match self {
            Self::Accept => "受理",
            Self::NotifyMissing => "一次性告知",
            Self::Refuse => "不予受理",
            Self::Suspend => "中止计时",
            Self::Resume => "恢复计时",
            Self::Decide => "作出决定",
            Self::Propose => "提交首席代表签批",
            Self::Sign => "首席代表签批",
            Self::SendBack => "首席代表退回",
            Self::Issue => "出件",
        }
    }
}

use CaseAction as A;
use CaseState as S;

impl StateMachine for CaseState {
    type Action = CaseAction;
    const TRANSITIONS: &'static [Transition<Self, CaseAction>] = &[
        Transition {
            action: A::Accept,
            from: &[S::Received, S::Correcting],
            to: S::Accepted,
        },
        Transition {
            action: A::NotifyMissing,
            from: &[S::Received, S::Correcting],
            to: S::Correcting,
        },
        Transition {
            action: A::Refuse,
            from: &[S::Received, S::Correcting],
            to: S::Refused,
        },
        Transition {
            action: A::Suspend,
            from: &[S::Accepted],
            to: S::Suspended,
        },
        Transition {
            action: A::Resume,
            from: &[S::Suspended],
            to: S::Accepted,
        },
        Transition {
            action: A::Decide,
            from: &[S::Accepted],
            to: S::Decided,
        },
        Transition {
            action: A::Propose,
            from: &[S::Accepted],
            to: S::Signing,
        },
        Transition {
            action: A::Sign,
            from: &[S::Signing],
            to: S::Decided,
        },
        Transition {
            action: A::SendBack,
            from: &[S::Signing],
            to: S::Accepted,
        },
        Transition {
            action: A::Issue,
            from: &[S::Decided],
            to: S::Issued,
        },
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
