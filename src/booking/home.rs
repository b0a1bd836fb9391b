//! Home visits (上门服务, seed 001 第二章): for the elderly (高龄老人), the seriously ill
//! (重病患者), the disabled (残疾人) and key enterprises (重点企业). A request is answered the
//! same day: arranged with the date, time, place and materials agreed and at least two staff
//! of the center assigned, or refused with a reason the hall manager approves. After the visit
//! a clerk marks it done; the applicant cancels with code and phone.
//!
//! This file holds the shapes, the life cycle as a [`StateMachine`] and the statements;
//! `home/service.rs` the use cases, `home/api.rs` and `home/pages.rs` the routes.

pub mod api;
pub mod pages;
pub mod service;

use super::common::row_by;
use crate::db::Conn;
use crate::error::AppResult;
use crate::ids::{CenterId, HomeVisitId, UserId};
use crate::state::{StateMachine, Transition, go, in_list};

crate::text_enum! {
    /// Who may ask for a home visit (`home_visits.applicant_kind`).
    pub enum VisitApplicant {
        /// 高龄老人.
        Elderly = "elderly" => "高龄老人",
        /// 重病患者.
        Sick = "sick" => "重病患者",
        /// 残疾人.
        Disabled = "disabled" => "残疾人",
        /// 重点企业: identified by its unified social credit code.
        Enterprise = "enterprise" => "重点企业",
    }
}

impl VisitApplicant {
    /// The label of the applicant's number.
    pub fn number_label(self) -> &'static str {
        match self {
            Self::Enterprise => "统一社会信用代码",
            _ => "身份证号",
        }
    }
}

crate::text_enum! {
    /// Where a home visit is (`home_visits.state`).
    pub enum VisitState {
        /// 待答复.
        Pending = "pending" => "待答复",
        /// 已安排: date, time, place, materials and staff agreed.
        Arranged = "arranged" => "已安排上门",
        /// 拒绝待批: a clerk proposed to refuse; the hall manager decides.
        Refusing = "refusing" => "拒绝待审批",
        /// 未同意 (final).
        Refused = "refused" => "未同意",
        /// 已取消 (final).
        Cancelled = "cancelled" => "已取消",
        /// 已上门办结 (final).
        Done = "done" => "已上门办结",
    }
}

crate::text_enum! {
    /// What can be done to a home visit; its label is the step's name in the history.
    pub enum VisitAction {
        /// 安排上门: a clerk agrees date, time, place, materials and staff.
        Arrange = "arrange" => "安排上门",
        /// A clerk proposes 不同意 with a reason.
        ProposeRefusal = "propose_refusal" => "提出不同意",
        /// The hall manager approves the refusal.
        ApproveRefusal = "approve_refusal" => "批准不同意",
        /// The hall manager turns the refusal down: the request waits to be arranged again.
        DenyRefusal = "deny_refusal" => "驳回不同意",
        /// The applicant (code + phone) or staff cancel.
        Cancel = "cancel" => "取消申请",
        /// 办结: the visit took place.
        Complete = "complete" => "上门办结",
    }
}

impl VisitState {
    /// Waiting for the hall's answer (overdue when asked for before today).
    pub const OPEN: &'static [VisitState] = &[Self::Pending, Self::Refusing];

    /// What the staff page lists: open requests and visits still to make.
    pub const CURRENT: &'static [VisitState] = &[Self::Pending, Self::Refusing, Self::Arranged];
}

use VisitAction as A;
use VisitState as S;

impl StateMachine for VisitState {
    type Action = VisitAction;
    const TRANSITIONS: &'static [Transition<Self, VisitAction>] = &[
        go(A::Arrange, &[S::Pending], S::Arranged),
        go(A::ProposeRefusal, &[S::Pending], S::Refusing),
        go(A::ApproveRefusal, &[S::Refusing], S::Refused),
        go(A::DenyRefusal, &[S::Refusing], S::Pending),
        go(A::Cancel, &[S::Pending, S::Arranged], S::Cancelled),
        go(A::Complete, &[S::Arranged], S::Done),
    ];
}

/// A home visit as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct HomeVisit {
    pub id: HomeVisitId,
    pub code: String,
    pub center_id: CenterId,
    pub matter: String,
    pub applicant_kind: VisitApplicant,
    pub name: String,
    pub phone: String,
    pub id_number: String,
    pub address: String,
    pub wanted_date: String,
    pub reason: String,
    pub state: VisitState,
    pub visit_date: Option<String>,
    pub visit_time: Option<String>,
    pub place: String,
    pub materials: String,
    pub refusal_reason: String,
    pub created_at: i64,
    pub answered_at: Option<i64>,
    pub updated_at: i64,
}

/// The columns of [`HomeVisit`], for `select`.
pub const COLUMNS: &str = "v.id, v.code, v.center_id, v.matter, v.applicant_kind, v.name, v.phone, \
    v.id_number, v.address, v.wanted_date, v.reason, v.state, v.visit_date, v.visit_time, v.place, \
    v.materials, v.refusal_reason, v.created_at, v.answered_at, v.updated_at";

pub async fn by_id(conn: &mut Conn, id: HomeVisitId) -> AppResult<Option<HomeVisit>> {
    row_by(conn, COLUMNS, "home_visits v", "v.id", id).await
}

pub async fn by_code(conn: &mut Conn, code: &str) -> AppResult<Option<HomeVisit>> {
    row_by(conn, COLUMNS, "home_visits v", "v.code", code).await
}

/// A center's home visits in `states`: open requests oldest first, then visits by their date.
pub async fn list(
    conn: &mut Conn,
    center: CenterId,
    states: &[VisitState],
) -> AppResult<Vec<HomeVisit>> {
    let states = in_list("v.state", states);
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from home_visits v where v.center_id = $1 and {states} \
         order by coalesce(v.visit_date, ''), coalesce(v.visit_time, ''), v.created_at, v.id limit 500"
    )))
    .bind(center)
    .fetch_all(&mut *conn)
    .await?)
}

/// A member of a center's staff, as the arrange form offers them.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Member {
    #[serde(skip)]
    pub id: UserId,
    pub login: String,
    pub name: String,
}

/// The active users of a center, by login.
pub async fn members(conn: &mut Conn, center: CenterId) -> AppResult<Vec<Member>> {
    Ok(sqlx::query_as(
        "select u.id, u.login, u.display_name as name from users u \
         join user_centers uc on uc.user_id = u.id \
         where uc.center_id = $1 and u.active = 1 order by u.login",
    )
    .bind(center)
    .fetch_all(&mut *conn)
    .await?)
}

/// The staff assigned to a visit.
pub async fn staff_of(conn: &mut Conn, visit: HomeVisitId) -> AppResult<Vec<Member>> {
    Ok(sqlx::query_as(
        "select u.id, u.login, u.display_name as name from home_visit_staff s \
         join users u on u.id = s.user_id where s.visit_id = $1 order by u.login",
    )
    .bind(visit)
    .fetch_all(&mut *conn)
    .await?)
}

/// The center's code and name.
pub async fn center_of(conn: &mut Conn, center: CenterId) -> AppResult<(String, String)> {
    Ok(
        sqlx::query_as("select code, name from centers where id = $1")
            .bind(center)
            .fetch_one(&mut *conn)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_is_well_formed() {
        crate::state::check_machine::<VisitState>();
    }

    #[test]
    fn only_a_pending_request_is_arranged_and_finals_stay_final() {
        for &s in S::ALL {
            assert_eq!(s.allows(A::Arrange), s == S::Pending, "{s:?}");
            assert_eq!(s.allows(A::Complete), s == S::Arranged, "{s:?}");
        }
        for s in [S::Refused, S::Cancelled, S::Done] {
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
        // Turned down, the request waits to be arranged again.
        assert_eq!(S::Refusing.after(A::DenyRefusal), Some(S::Pending));
        // A request waiting for the manager cannot be arranged or cancelled meanwhile.
        assert_eq!(S::Refusing.after(A::Arrange), None);
        assert_eq!(S::Refusing.after(A::Cancel), None);
        assert_eq!(
            VisitState::guard(A::Cancel),
            "state in ('pending', 'arranged')"
        );
    }

    #[test]
    fn open_states_are_those_the_manager_answers() {
        for &s in S::OPEN {
            assert!(s.allows(A::Arrange) || s.allows(A::ApproveRefusal), "{s:?}");
        }
        assert!(S::CURRENT.contains(&S::Arranged));
    }
}
