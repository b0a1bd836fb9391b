//! The home visits' use cases, one function each: check the input, decide who may
//! (`auth::policy`), then write the visit, its step, its audit record and its message inside
//! one [`Db::transaction`](crate::db::Db::transaction). Every state change is one guarded
//! `update home_visits … where state in (…)`, so of two racing answers the second changes
//! nothing and is refused with `invalid_state`.

use jiff::civil::Date;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{HomeVisit, Member, VisitAction, VisitApplicant, VisitState};
use crate::app::App;
use crate::audit::Actor;
use crate::auth::{CurrentUser, policy};
use crate::booking::notify;
pub use crate::booking::service::By;
use crate::booking::service::refusal::{self, Refusable};
use crate::booking::service::{
    Change, Lifecycle, add_days, check_phone, checked_text, citizen, new_code, phone_matches,
};
use crate::db::{Conn, Tx};
use crate::error::{AppError, AppResult};
use crate::identity;
use crate::ids::{CenterId, HomeVisitId};
use crate::state::StateMachine;

/// How far ahead a visit may be wanted or arranged, in days.
pub const MAX_DAYS_AHEAD: i64 = 60;

/// The fewest staff who go on a home visit.
pub const MIN_STAFF: usize = 2;

/// A home-visit request (public).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct VisitInput {
    /// 中心编码 (`GX-ML`).
    pub center: String,
    /// `elderly` 高龄老人, `sick` 重病患者, `disabled` 残疾人, `enterprise` 重点企业.
    pub kind: String,
    /// 申请人姓名, or the enterprise's name.
    pub name: String,
    /// 联系电话.
    pub phone: String,
    /// 身份证号, or for an enterprise its 统一社会信用代码 (check character checked).
    pub id_number: String,
    /// 上门地址.
    pub address: String,
    /// 希望上门的日期, YYYY-MM-DD.
    pub wanted_date: String,
    /// 申请事由 (why the applicant cannot come to the hall).
    pub reason: String,
    /// 需要办理的事项 (optional).
    pub matter: String,
}

/// A clerk's answer: when, where, what to prepare and who goes.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ArrangeInput {
    /// YYYY-MM-DD.
    pub date: String,
    /// HH:MM.
    pub time: String,
    /// 上门地点.
    pub place: String,
    /// 需准备的材料, one per line.
    pub materials: String,
    /// The logins of the staff who go: at least two users of the center.
    pub staff: Vec<String>,
}

/// A text of a request or an answer: line breaks are kept (an address, a list of materials).
fn plain(field: &str, label: &str, text: &str, min: usize, max: usize) -> AppResult<String> {
    checked_text(field, label, text, (min, max), true)
}

/// A date from today to [`MAX_DAYS_AHEAD`] days ahead.
fn coming_date(app: &App, field: &str, label: &str, text: &str) -> AppResult<Date> {
    if text.trim().is_empty() {
        return Err(AppError::invalid_field(field, format!("请选择{label}")));
    }
    let d = crate::calendar::parse_date(text.trim())
        .map_err(|e| AppError::invalid_field(field, e.to_string()))?;
    let today = crate::timetable::today(app);
    if d < today {
        return Err(AppError::invalid_field(
            field,
            format!("{label}不能早于今天"),
        ));
    }
    if d > add_days(today, MAX_DAYS_AHEAD) {
        return Err(AppError::invalid_field(
            field,
            format!("{label}须在 {MAX_DAYS_AHEAD} 天以内"),
        ));
    }
    Ok(d)
}

/// A request, checked.
struct Request {
    center: CenterId,
    kind: VisitApplicant,
    name: String,
    phone: String,
    id_number: String,
    address: String,
    wanted_date: Date,
    reason: String,
    matter: String,
}

async fn request_of(app: &App, input: &VisitInput) -> AppResult<Request> {
    let kind = VisitApplicant::parse(input.kind.trim()).ok_or_else(|| {
        AppError::invalid_field(
            "kind",
            "请选择申请人类别：高龄老人、重病患者、残疾人或重点企业",
        )
    })?;
    let name = match kind {
        VisitApplicant::Enterprise => plain("name", "企业名称", &input.name, 2, 60)?,
        _ => plain("name", "申请人姓名", &input.name, 1, 30)?,
    };
    let phone = check_phone("phone", &input.phone)?;
    let id_number = match kind {
        VisitApplicant::Enterprise => identity::check_credit_code(&input.id_number),
        _ => identity::check_id_card(&input.id_number),
    }
    .map_err(|m| AppError::invalid_field("id_number", m))?;
    let address = plain("address", "上门地址", &input.address, 4, 200)?;
    let wanted_date = coming_date(app, "wanted_date", "希望上门的日期", &input.wanted_date)?;
    let reason = plain("reason", "申请事由", &input.reason, 2, 200)?;
    let matter = plain("matter", "需要办理的事项", &input.matter, 0, 100)?;
    if input.center.trim().is_empty() {
        return Err(AppError::invalid_field("center", "请选择服务中心"));
    }
    let c = match crate::hall::centers::by_code(app.db.pool(), input.center.trim()).await {
        Ok(c) => c,
        Err(AppError::NotFound(m)) => return Err(AppError::invalid_field("center", m)),
        Err(e) => return Err(e),
    };
    Ok(Request {
        center: CenterId(c.id),
        kind,
        name,
        phone,
        id_number,
        address,
        wanted_date,
        reason,
        matter,
    })
}

/// The home visits' life cycle.
const VISITS: Lifecycle = Lifecycle {
    records: "home_visits",
    steps: "home_visit_steps",
    key: "visit_id",
};

/// The audit record of a change to a visit (the applicant's numbers are not copied).
async fn audit(
    tx: &mut Tx,
    actor: &Actor,
    v: &HomeVisit,
    action: &str,
    after: serde_json::Value,
    now: i64,
) -> AppResult<()> {
    crate::audit::record(
        tx,
        actor,
        action,
        "home_visit",
        &v.code,
        Some(v.center_id.get()),
        Some(json!({"state": v.state})),
        Some(after),
        now,
    )
    .await
}

fn refused_step(v: &HomeVisit, action: VisitAction) -> AppError {
    AppError::InvalidState(format!(
        "上门服务申请当前状态为“{}”，不能{}",
        v.state.label(),
        action.label()
    ))
}

/// Performs `action` on `v` with its step and audit record, or refuses with `invalid_state`.
async fn act(
    tx: &mut Tx,
    v: &HomeVisit,
    action: VisitAction,
    actor: &Actor,
    note: &str,
    now: i64,
) -> AppResult<VisitState> {
    let Some(to) = VISITS
        .advance(tx, v.id.get(), v.state, action, actor, note, now)
        .await?
    else {
        return Err(refused_step(v, action));
    };
    audit(
        tx,
        actor,
        v,
        action.as_str(),
        json!({"state": to, "note": note}),
        now,
    )
    .await?;
    Ok(to)
}

async fn reload(conn: &mut Conn, id: HomeVisitId) -> AppResult<HomeVisit> {
    super::by_id(conn, id)
        .await?
        .ok_or_else(|| AppError::internal("home visit vanished inside its transaction"))
}

/// What a message about `v` says.
pub fn text(v: &HomeVisit, center: &str, kind: &str, staff: &[Member]) -> String {
    match kind {
        "home_arranged" => {
            let names = staff
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join("、");
            format!(
                "【{center}】您的上门服务申请（编号 {}）已安排：{} {}，地点：{}，工作人员 {names}。请提前准备：{}。",
                v.code,
                v.visit_date.as_deref().unwrap_or(""),
                v.visit_time.as_deref().unwrap_or(""),
                v.place,
                v.materials.replace('\n', "；")
            )
        }
        "home_refused" => format!(
            "【{center}】很抱歉，您的上门服务申请（编号 {}）未获同意：{}。如有疑问请致电咨询。",
            v.code, v.refusal_reason
        ),
        "home_cancelled" => format!("【{center}】您的上门服务申请（编号 {}）已取消。", v.code),
        _ => format!(
            "【{center}】已收到您的上门服务申请（编号 {}），今天内答复上门时间、地点和需准备的材料。",
            v.code
        ),
    }
}

async fn tell(tx: &mut Tx, v: &HomeVisit, kind: &str, now: i64) -> AppResult<()> {
    let (_, center) = super::center_of(tx, v.center_id).await?;
    let staff = super::staff_of(tx, v.id).await?;
    let body = text(v, &center, kind, &staff);
    notify::queue_home_visit(tx, v, kind, &body, now).await
}

/// Asks for a home visit (public); the applicant is told it was received.
pub async fn request(app: &App, input: &VisitInput) -> AppResult<HomeVisit> {
    let r = request_of(app, input).await?;
    let now = app.clock.now_micros();
    let actor = citizen();
    let (r, actor) = (&r, &actor);
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                let code = new_code();
                let id: HomeVisitId = sqlx::query_scalar(
                    "insert into home_visits (code, center_id, matter, applicant_kind, name, phone, id_number, \
                     address, wanted_date, reason, state, created_at, updated_at) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) returning id",
                )
                .bind(&code)
                .bind(r.center)
                .bind(&r.matter)
                .bind(r.kind)
                .bind(&r.name)
                .bind(&r.phone)
                .bind(&r.id_number)
                .bind(&r.address)
                .bind(r.wanted_date.to_string())
                .bind(&r.reason)
                .bind(VisitState::Pending)
                .bind(now)
                .fetch_one(&mut **tx)
                .await?;
                let change = Change {
                    action: "request",
                    from: None,
                    to: VisitState::Pending,
                    note: r.kind.label(),
                };
                VISITS.step(&mut tx, id.get(), actor, change, now).await?;
                let v = reload(&mut tx, id).await?;
                crate::audit::record(
                    &mut tx,
                    actor,
                    "request",
                    "home_visit",
                    &v.code,
                    Some(v.center_id.get()),
                    None,
                    Some(json!({"state": v.state, "kind": v.applicant_kind, "wanted_date": v.wanted_date})),
                    now,
                )
                .await?;
                tell(&mut tx, &v, "home_received", now).await?;
                Ok(v)
            })
        })
        .await
}

/// The visit with `code`, if `phone` is its phone.
pub async fn find(app: &App, code: &str, phone: Option<&str>) -> AppResult<HomeVisit> {
    let mut conn = app.db.pool().acquire().await?;
    super::by_code(&mut conn, &code.trim().to_ascii_uppercase())
        .await?
        .filter(|v| phone_matches(phone, &[&v.phone]))
        .ok_or_else(|| AppError::NotFound("找不到该上门服务申请，请核对编号和手机号".into()))
}

async fn for_action(app: &App, code: &str, by: &By<'_>) -> AppResult<(HomeVisit, Actor)> {
    let v = find(app, code, by.phone()).await?;
    let refusals = (
        "找不到该上门服务申请",
        "只有本中心的工作人员可以办理上门服务",
    );
    let actor = by.actor(v.center_id, policy::can_serve_home_visits, refusals)?;
    Ok((v, actor))
}

/// The members of the visit's center named in `logins`: at least [`MIN_STAFF`] different ones.
async fn chosen_staff(app: &App, center: CenterId, logins: &[String]) -> AppResult<Vec<Member>> {
    let mut wanted: Vec<&str> = logins
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    if wanted.len() < MIN_STAFF {
        return Err(AppError::invalid_field(
            "staff",
            format!(
                "上门服务须安排至少 {MIN_STAFF} 名工作人员，当前只选了 {} 名",
                wanted.len()
            ),
        ));
    }
    let members = {
        let mut conn = app.db.pool().acquire().await?;
        super::members(&mut conn, center).await?
    };
    wanted
        .iter()
        .map(|l| {
            members
                .iter()
                .find(|m| m.login == *l)
                .cloned()
                .ok_or_else(|| {
                    AppError::invalid_field("staff", format!("“{l}”不是本中心的工作人员"))
                })
        })
        .collect()
}

/// 安排上门: a clerk of the center agrees date, time, place and materials and assigns at
/// least two of the center's staff; the applicant is told.
pub async fn arrange(
    app: &App,
    user: &CurrentUser,
    code: &str,
    input: &ArrangeInput,
) -> AppResult<HomeVisit> {
    let (v, actor) = for_action(app, code, &By::Staff(user)).await?;
    let date = coming_date(app, "date", "上门日期", &input.date)?;
    let Some(time) = crate::booking::slots::parse_hhmm(&input.time) else {
        return Err(AppError::invalid_field(
            "time",
            "上门时间须为 HH:MM，例如 09:30",
        ));
    };
    let place = plain("place", "上门地点", &input.place, 2, 200)?;
    let materials = plain("materials", "需准备的材料", &input.materials, 2, 1000)?;
    let team = chosen_staff(app, v.center_id, &input.staff).await?;
    if !v.state.allows(VisitAction::Arrange) {
        return Err(refused_step(&v, VisitAction::Arrange));
    }
    let now = app.clock.now_micros();
    let time = time.strftime("%H:%M").to_string();
    let note = format!(
        "{date} {time}，{place}；{}",
        team.iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join("、")
    );
    let (v, actor, team, place, materials, time, note) =
        (&v, &actor, &team, &place, &materials, &time, &note);
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                act(&mut tx, v, VisitAction::Arrange, actor, note, now).await?;
                sqlx::query(
                    "update home_visits set visit_date = $1, visit_time = $2, place = $3, materials = $4, \
                     answered_at = $5 where id = $6",
                )
                .bind(date.to_string())
                .bind(time)
                .bind(place)
                .bind(materials)
                .bind(now)
                .bind(v.id)
                .execute(&mut **tx)
                .await?;
                sqlx::query("delete from home_visit_staff where visit_id = $1")
                    .bind(v.id)
                    .execute(&mut **tx)
                    .await?;
                for m in team {
                    sqlx::query("insert into home_visit_staff (visit_id, user_id) values ($1, $2)")
                        .bind(v.id)
                        .bind(m.id)
                        .execute(&mut **tx)
                        .await?;
                }
                let b = reload(&mut tx, v.id).await?;
                audit(
                    &mut tx,
                    actor,
                    v,
                    "arrange_details",
                    json!({
                        "visit_date": b.visit_date, "visit_time": b.visit_time, "place": b.place,
                        "materials": b.materials,
                        "staff": team.iter().map(|m| m.login.as_str()).collect::<Vec<_>>(),
                    }),
                    now,
                )
                .await?;
                tell(&mut tx, &b, "home_arranged", now).await?;
                Ok(b)
            })
        })
        .await
}

/// A home visit refused with the hall manager's approval; its message is read in the
/// transaction.
impl Refusable for HomeVisit {
    type State = VisitState;
    type Told = ();
    const LIFECYCLE: Lifecycle = VISITS;
    const PROPOSE: VisitAction = VisitAction::ProposeRefusal;
    const APPROVE: VisitAction = VisitAction::ApproveRefusal;

    fn id(&self) -> i64 {
        self.id.get()
    }

    async fn act(
        &self,
        tx: &mut Tx,
        action: VisitAction,
        actor: &Actor,
        note: &str,
        now: i64,
    ) -> AppResult<VisitState> {
        act(tx, self, action, actor, note, now).await
    }

    async fn reload(&self, tx: &mut Tx) -> AppResult<Self> {
        reload(tx, self.id).await
    }

    async fn refused(&self, tx: &mut Tx, _: &(), now: i64) -> AppResult<()> {
        tell(tx, self, "home_refused", now).await
    }
}

/// 不同意: a clerk proposes it with the reason; the hall manager approves. A hall manager's
/// own refusal is approved at once. The applicant is told the reason once it is approved.
pub async fn refuse(
    app: &App,
    user: &CurrentUser,
    code: &str,
    reason: &str,
) -> AppResult<HomeVisit> {
    let reason = plain("reason", "不同意的理由", reason, 2, 200)?;
    let (v, actor) = for_action(app, code, &By::Staff(user)).await?;
    let approved = refusal::approves(user, v.center_id);
    let now = app.clock.now_micros();
    let (v, actor, reason) = (&v, &actor, &reason);
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                refusal::propose(&mut tx, v, actor, reason, approved, &(), now).await
            })
        })
        .await
}

/// The hall manager approves a proposed refusal (`approve`) or turns it down, after which the
/// request waits to be arranged.
pub async fn decide_refusal(
    app: &App,
    user: &CurrentUser,
    code: &str,
    approve: bool,
) -> AppResult<HomeVisit> {
    let (v, actor) = for_action(app, code, &By::Staff(user)).await?;
    refusal::may_decide(user, v.center_id, "上门服务")?;
    let now = app.clock.now_micros();
    let (v, actor) = (&v, &actor);
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                if approve {
                    return refusal::approve(&mut tx, v, actor, &(), now).await;
                }
                act(&mut tx, v, VisitAction::DenyRefusal, actor, "", now).await?;
                sqlx::query("update home_visits set refusal_reason = '' where id = $1")
                    .bind(v.id)
                    .execute(&mut **tx)
                    .await?;
                reload(&mut tx, v.id).await
            })
        })
        .await
}

/// 办结: after the visit a clerk of the center marks it done.
pub async fn complete(app: &App, user: &CurrentUser, code: &str) -> AppResult<HomeVisit> {
    only_step(app, code, &By::Staff(user), VisitAction::Complete, None).await
}

/// Cancels a request or an arranged visit (the applicant with code + phone, or staff).
pub async fn cancel(app: &App, code: &str, by: By<'_>) -> AppResult<HomeVisit> {
    only_step(app, code, &by, VisitAction::Cancel, Some("home_cancelled")).await
}

/// Performs `action`, which changes nothing but the state, on the visit with `code`; the
/// applicant is told `message` (a kind of [`text`]) where there is one.
async fn only_step(
    app: &App,
    code: &str,
    by: &By<'_>,
    action: VisitAction,
    message: Option<&str>,
) -> AppResult<HomeVisit> {
    let (v, actor) = for_action(app, code, by).await?;
    let now = app.clock.now_micros();
    let (v, actor) = (&v, &actor);
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                act(&mut tx, v, action, actor, "", now).await?;
                let b = reload(&mut tx, v.id).await?;
                if let Some(kind) = message {
                    tell(&mut tx, &b, kind, now).await?;
                }
                Ok(b)
            })
        })
        .await
}

/// Asked for before today and still not answered: shown red to the hall manager.
pub fn overdue(app: &App, v: &HomeVisit) -> bool {
    let today = crate::timetable::today(app);
    let start = crate::booking::service::instant(today, jiff::civil::Time::midnight()).get();
    VisitState::OPEN.contains(&v.state) && v.created_at < start
}
