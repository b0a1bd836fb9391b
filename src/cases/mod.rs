//! R6, cases (办件): 前台综合受理、后台分类审批、统一窗口出件.
//!
//! A clerk takes in an application at the window (from the called ticket or directly) and
//! makes exactly one decision: 受理 (a case number, the 受理通知书 with its 材料接收清单 and a
//! due date from the calendar), 一次性告知 (every missing or wrong item once, in writing; the
//! same case continues) or 不予受理 (reason, basis and the right to 行政复议/行政诉讼, entered
//! in the 否定报备登记表). The back office decides, may stop the clock and ask for an
//! extension; the chief representative signs off where the center wants it; the issuance
//! window hands the result over or posts it. Every step is a row of `case_steps`, never edited,
//! and the job runner raises yellow and red warnings (电子监察).
//!
//! * `state.rs`: the life cycle as a [`StateMachine`](crate::state::StateMachine);
//! * `clock.rs`: due dates and warning days from [`HolidayTable::deadline`](crate::calendar::HolidayTable::deadline);
//! * `queries.rs`: reads; `service.rs`: one function per use case;
//! * `notice.rs`: the written notices as PDFs (typst, CJK fonts from a font directory);
//! * `warn.rs`: the deadline job; `api.rs`, `pages.rs`: JSON and pages.

pub mod api;
pub mod bench;
pub mod clock;
pub mod demo;
pub mod messages;
pub mod notice;
pub mod pages;
pub mod queries;
pub mod service;
pub mod state;
pub mod warn;

use std::sync::Arc;

use axum::Router;
use serde::Serialize;

pub use state::{CaseAction, CaseState};

use crate::app::App;
use crate::db::{CivilDate, Micros};
use crate::ids::{CaseId, CenterId, MatterId, TicketId, UserId, WindowId};

crate::text_enum! {
    /// 办件类型 (seed 003 四件管理).
    pub enum CaseKind {
        /// Done on the spot or the same day.
        Immediate = "immediate" => "即办件",
        /// Due in the promised working days.
        Promised = "promised" => "承诺件",
        /// A lead window and co-departments.
        Joint = "joint" => "联办件",
        /// Forwarded to the upper level's center.
        Reported = "reported" => "上报件",
    }
}

crate::text_enum! {
    /// Who applies.
    pub enum ApplicantKind {
        /// A person, by ID-card number.
        Person = "person",
        /// A company or organisation, by unified social credit code.
        Company = "company",
    }
}

crate::text_enum! {
    /// What happened to one material of a case.
    pub enum MaterialState {
        Received = "received" => "已收取",
        /// Listed in the 一次性告知.
        Missing = "missing" => "缺少",
        /// 容缺: to be supplied by its due day on the applicant's commitment.
        Tolerated = "tolerated" => "容缺后补",
        Supplied = "supplied" => "已补齐",
    }
}

crate::text_enum! {
    /// The department's decision.
    pub enum Decision {
        /// 准予
        Approved = "approved" => "准予办理",
        /// 不予许可 / 不予办理
        Rejected = "rejected" => "不予办理",
    }
}

crate::text_enum! {
    /// How the result reaches the applicant.
    pub enum Delivery {
        /// 窗口领取, identity checked.
        Onsite = "onsite",
        /// 政务专递 (post), with a tracking number.
        Post = "post",
    }
}

crate::text_enum! {
    /// A deadline warning (电子监察).
    pub enum Warning {
        /// 黄牌预警: most of the promised time has passed.
        Yellow = "yellow" => "即将到期",
        /// 红牌: overdue.
        Red = "red" => "已超期",
    }
}

/// A case as stored.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Case {
    pub id: CaseId,
    pub number: String,
    pub center_id: CenterId,
    pub matter_id: MatterId,
    pub department: String,
    pub window_id: Option<WindowId>,
    pub ticket_id: Option<TicketId>,
    pub applicant_kind: ApplicantKind,
    pub applicant_name: String,
    pub applicant_no: String,
    pub applicant_phone: String,
    pub agent_name: String,
    pub agent_id_card: String,
    pub state: CaseState,
    pub kind: CaseKind,
    pub collect_only: i64,
    pub tolerated: i64,
    pub commitment: i64,
    pub fast_track: String,
    pub review_json: String,
    pub missing_json: String,
    pub refusal_reason: String,
    pub refusal_basis: String,
    pub decision: String,
    pub decision_note: String,
    pub accepted_on: Option<CivilDate>,
    pub decided_on: Option<CivilDate>,
    pub limit_days: Option<i64>,
    pub legal_days: Option<i64>,
    pub due_on: Option<CivilDate>,
    pub warn_on: Option<CivilDate>,
    pub warning: String,
    pub delivery: String,
    pub tracking_no: String,
    pub received_by: Option<UserId>,
    pub decided_by: Option<UserId>,
    pub created_at: Micros,
    pub updated_at: Micros,
    pub decided_at: Option<Micros>,
    pub closed_at: Option<Micros>,
    /// 上报件: the upper level's center it was forwarded to.
    pub reported_to: Option<CenterId>,
    pub reported_at: Option<Micros>,
    /// When the upper level's decision came back.
    pub returned_at: Option<Micros>,
}

impl Case {
    pub fn decision(&self) -> Option<Decision> {
        Decision::parse(&self.decision)
    }
    pub fn warning(&self) -> Option<Warning> {
        Warning::parse(&self.warning)
    }
    pub fn missing_items(&self) -> Vec<String> {
        serde_json::from_str(&self.missing_json).unwrap_or_default()
    }
    pub fn ticked(&self) -> Vec<String> {
        serde_json::from_str(&self.review_json).unwrap_or_default()
    }
    /// A 上报件 at the upper level's center, its decision not yet back.
    pub fn away(&self) -> bool {
        self.reported_to.is_some() && self.returned_at.is_none()
    }
    /// The center deciding the case now: the upper level's while it is away.
    pub fn deciding_center(&self) -> CenterId {
        if self.away() {
            self.reported_to.unwrap_or(self.center_id)
        } else {
            self.center_id
        }
    }
}

/// The columns of [`Case`], for `select {CASE_COLUMNS} from cases c`.
pub const CASE_COLUMNS: &str = "c.id, c.number, c.center_id, c.matter_id, c.department, \
    c.window_id, c.ticket_id, c.applicant_kind, c.applicant_name, c.applicant_no, \
    c.applicant_phone, c.agent_name, c.agent_id_card, c.state, c.kind, c.collect_only, \
    c.tolerated, c.commitment, c.fast_track, c.review_json, c.missing_json, c.refusal_reason, \
    c.refusal_basis, c.decision, c.decision_note, c.accepted_on, c.decided_on, c.limit_days, c.legal_days, \
    c.due_on, c.warn_on, c.warning, c.delivery, c.tracking_no, c.received_by, c.decided_by, \
    c.created_at, c.updated_at, c.decided_at, c.closed_at, c.reported_to, c.reported_at, c.returned_at";

pub fn router() -> Router<Arc<App>> {
    Router::new().merge(api::router()).merge(pages::router())
}
