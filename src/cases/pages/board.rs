//! The lobby screen of cases (办件公示, seed 003 §(四)3: "将事项办理情况实时在电子显示屏上滚动
//! 公示"): the results waiting at the issuance window and the cases in the back office with their
//! due dates, the applicants' names masked (张*明). Public, no sign-in; it reloads itself.

use super::*;

/// A line of the screen.
#[derive(sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct BoardLine {
    pub number: String,
    /// Masked: 张*明.
    pub applicant: String,
    pub matter: String,
    #[schema(value_type = String)]
    pub state: CaseState,
    #[schema(value_type = Option<String>)]
    pub due_on: Option<CivilDate>,
}

impl BoardLine {
    fn state_label(&self) -> &'static str {
        self.state.label()
    }
    fn due_text(&self) -> String {
        self.due_on.map(|d| d.to_string()).unwrap_or_default()
    }
}

/// What the screen shows: ready for collection, and in progress.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Board {
    pub center: String,
    pub ready: Vec<BoardLine>,
    pub working: Vec<BoardLine>,
}

/// How many lines of each list the screen holds.
const LINES: i64 = 12;

async fn lines(
    app: &App,
    center: CenterId,
    states: &[CaseState],
    order: &str,
) -> AppResult<Vec<BoardLine>> {
    let sql = format!(
        "select c.number, c.applicant_name as applicant, m.name as matter, c.state, c.due_on \
         from cases c join matters m on m.id = c.matter_id \
         where c.center_id = $1 and {} order by {order} limit {LINES}",
        crate::state::in_list("c.state", states)
    );
    let mut rows: Vec<BoardLine> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(center)
        .fetch_all(app.db.pool())
        .await?;
    for r in &mut rows {
        r.applicant = crate::identity::mask_name(&r.applicant);
    }
    Ok(rows)
}

/// The screen's content for a center.
pub async fn board(app: &App, code: &str) -> AppResult<Board> {
    let center = crate::hall::centers::by_code(app.db.pool(), code).await?;
    let id = CenterId(center.id);
    Ok(Board {
        ready: lines(app, id, &[CaseState::Decided], "c.decided_at desc").await?,
        working: lines(app, id, CaseState::BACK_OFFICE, "c.due_on, c.number").await?,
        center: center.name,
    })
}

#[derive(Template)]
#[template(path = "cases/board.html")]
pub(super) struct BoardPage {
    board: Board,
    code: String,
}

/// The screen (public).
pub(super) async fn screen(State(app): State<Arc<App>>, Path(code): Path<String>) -> PageResult {
    let board = board(&app, &code).await?;
    render(&BoardPage { board, code })
}

#[utoipa::path(get, path = "/api/v1/centers/{center}/cases/board", summary = "办件公示屏内容（公开，申请人姓名已遮挡）", tag = "cases",
    params(("center" = String, Path, description = "中心编码")),
    responses((status = 200, body = Board), (status = 404, description = "没有该中心")))]
pub async fn api_board(
    State(app): State<Arc<App>>,
    Path(code): Path<String>,
) -> AppResult<axum::Json<Board>> {
    Ok(axum::Json(board(&app, &code).await?))
}
