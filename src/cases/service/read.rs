//! A case with everything about it, for its page, the API and the public progress lookup.

use super::*;

/// Everything a case page or the API's `GET` shows.
pub struct Full {
    pub case: Case,
    pub matter_code: String,
    pub matter_name: String,
    pub center_code: String,
    pub center_name: String,
    pub window_name: Option<String>,
    pub ticket_number: Option<String>,
    pub materials: Vec<queries::CaseMaterial>,
    pub steps: Vec<queries::Step>,
    pub stops: Vec<clock::Stop>,
    pub extensions: Vec<queries::ExtensionRow>,
    pub refusal: Option<queries::Refusal>,
    pub settings: Settings,
    pub today: Date,
    /// 联办件: the co-departments' parts.
    pub tasks: Vec<Task>,
    pub fee: Option<Fee>,
    /// 上报件: the upper level's center it went to.
    pub reported_to_name: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(super) struct Names {
    matter_code: String,
    matter_name: String,
    center_code: String,
    center_name: String,
    window_name: Option<String>,
    ticket_number: Option<String>,
    reported_to_name: Option<String>,
}

/// What the API answers about a case ([`crate::cases::api::CaseItem`]): the case with its
/// names, history, co-department parts and fee, in five statements.
pub struct Brief {
    pub case: Case,
    pub matter_code: String,
    pub matter_name: String,
    pub center_code: String,
    pub center_name: String,
    pub window_name: Option<String>,
    pub ticket_number: Option<String>,
    pub steps: Vec<queries::Step>,
    pub today: Date,
    pub tasks: Vec<Task>,
    pub fee: Option<Fee>,
    pub reported_to_name: Option<String>,
}

/// A case with its names, history, parts and fee.
pub async fn brief(app: &App, conn: &mut Conn, case: Case) -> AppResult<Brief> {
    let names: Names = sqlx::query_as(
        "select m.code as matter_code, m.name as matter_name, ce.code as center_code, ce.name as center_name, \
         w.name as window_name, t.number as ticket_number, rc.name as reported_to_name \
         from cases c join matters m on m.id = c.matter_id join centers ce on ce.id = c.center_id \
         left join windows w on w.id = c.window_id left join tickets t on t.id = c.ticket_id \
         left join centers rc on rc.id = c.reported_to where c.id = $1",
    )
    .bind(case.id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Brief {
        matter_code: names.matter_code,
        matter_name: names.matter_name,
        center_code: names.center_code,
        center_name: names.center_name,
        window_name: names.window_name,
        ticket_number: names.ticket_number,
        reported_to_name: names.reported_to_name,
        steps: queries::steps(conn, case.id).await?,
        today: crate::timetable::today(app),
        tasks: tasks(conn, case.id).await?,
        fee: fee(conn, case.id).await?,
        case,
    })
}

/// A case with everything about it.
pub async fn full(app: &App, conn: &mut Conn, case: Case) -> AppResult<Full> {
    let id = case.id;
    let center = case.center_id;
    let b = brief(app, conn, case).await?;
    Ok(Full {
        materials: queries::materials(conn, id).await?,
        stops: queries::stops(conn, id).await?,
        extensions: queries::extensions(conn, id).await?,
        refusal: queries::refusal(conn, id).await?,
        settings: queries::settings(conn, center).await?,
        matter_code: b.matter_code,
        matter_name: b.matter_name,
        center_code: b.center_code,
        center_name: b.center_name,
        window_name: b.window_name,
        ticket_number: b.ticket_number,
        steps: b.steps,
        today: b.today,
        tasks: b.tasks,
        fee: b.fee,
        reported_to_name: b.reported_to_name,
        case: b.case,
    })
}

/// A case the caller may see, as the API answers it.
pub async fn get_brief(app: &App, user: &CurrentUser, number: &str) -> AppResult<Brief> {
    let mut conn = app.db.pool().acquire().await?;
    let case = visible(&mut conn, user, number).await?;
    brief(app, &mut conn, case).await
}

/// A case the caller may see, with everything about it.
pub async fn get(app: &App, user: &CurrentUser, number: &str) -> AppResult<Full> {
    let mut conn = app.db.pool().acquire().await?;
    let case = visible(&mut conn, user, number).await?;
    full(app, &mut conn, case).await
}

/// What the public progress page shows: masked, by case number plus the applicant's name.
pub async fn progress(app: &App, number: &str, name: &str) -> AppResult<Full> {
    let mut conn = app.db.pool().acquire().await?;
    let case = queries::by_number(&mut conn, number.trim()).await?;
    match case {
        Some(c) if c.applicant_name == name.trim() => full(app, &mut conn, c).await,
        _ => Err(AppError::NotFound(
            "没有找到该办件，请核对办件编号和申请人姓名".into(),
        )),
    }
}
