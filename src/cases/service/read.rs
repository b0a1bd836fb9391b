//! A case with everything about it, for its page, the API and the public progress lookup.

use super::*;

/// Everything a case page shows: the [`Brief`] (its fields read through it) and the
/// materials, stops, extensions, refusal and the center's settings.
pub struct Full {
    pub brief: Brief,
    pub materials: Vec<queries::CaseMaterial>,
    pub stops: Vec<clock::Stop>,
    pub extensions: Vec<queries::ExtensionRow>,
    pub refusal: Option<queries::Refusal>,
    pub settings: Settings,
}

impl std::ops::Deref for Full {
    type Target = Brief;
    fn deref(&self) -> &Brief {
        &self.brief
    }
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
    /// 联办件: the co-departments' parts.
    pub tasks: Vec<Task>,
    pub fee: Option<Fee>,
    /// 上报件: the upper level's center it went to.
    pub reported_to_name: Option<String>,
}

/// A case with its names, history, parts and fee.
pub async fn brief(app: &App, conn: &mut Conn, case: Case) -> AppResult<Brief> {
    // The names in the order the statement selects them.
    type Names = (
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    );
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
        matter_code: names.0,
        matter_name: names.1,
        center_code: names.2,
        center_name: names.3,
        window_name: names.4,
        ticket_number: names.5,
        reported_to_name: names.6,
        steps: queries::steps(conn, case.id).await?,
        today: crate::timetable::today(app),
        tasks: tasks(conn, case.id).await?,
        fee: fee(conn, case.id).await?,
        case,
    })
}

/// A case with everything about it.
pub async fn full(app: &App, conn: &mut Conn, case: Case) -> AppResult<Full> {
    let (id, center) = (case.id, case.center_id);
    Ok(Full {
        brief: brief(app, conn, case).await?,
        materials: queries::materials(conn, id).await?,
        stops: queries::stops(conn, id).await?,
        extensions: queries::extensions(conn, id).await?,
        refusal: queries::refusal(conn, id).await?,
        settings: queries::settings(conn, center).await?,
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
