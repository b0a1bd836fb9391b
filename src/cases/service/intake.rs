//! 收件 at the window: which center and window take the application, the ticket it came
//! with, its number, and the case written with its materials.

use super::*;

#[derive(sqlx::FromRow)]
pub(super) struct CenterRow {
    id: CenterId,
    code: String,
}

pub(super) async fn center_by_code(conn: &mut Conn, code: &str) -> AppResult<CenterRow> {
    sqlx::query_as("select id, code from centers where code = $1")
        .bind(code.trim())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| AppError::invalid_field("center", format!("找不到中心“{}”", code.trim())))
}

pub(super) async fn center_code(conn: &mut Conn, id: CenterId) -> AppResult<String> {
    Ok(sqlx::query_scalar("select code from centers where id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?)
}

#[derive(sqlx::FromRow)]
pub(super) struct RightRow {
    window_id: WindowId,
    center_id: CenterId,
    code: String,
    rights: String,
}

/// The windows holding 受理权 or 收件权 for a matter.
pub(super) async fn rights(conn: &mut Conn, matter: MatterId) -> AppResult<Vec<RightRow>> {
    let sql = "select w.id as window_id, w.center_id, w.code, mw.rights from matter_windows mw \
         join windows w on w.id = mw.window_id where mw.matter_id = $1";
    queries::select(conn, sql, matter).await
}

/// Which window takes the case and whether it may only collect (收件权).
pub(super) async fn intake_window(
    conn: &mut Conn,
    user: &CurrentUser,
    center: CenterId,
    sit: &Situation,
    window: Option<&str>,
) -> AppResult<(Option<WindowId>, bool)> {
    let rights = rights(conn, sit.id).await?;
    let named = match window.map(str::trim).filter(|w| !w.is_empty()) {
        Some(code) => {
            let id: Option<WindowId> =
                sqlx::query_scalar("select id from windows where center_id = $1 and code = $2")
                    .bind(center)
                    .bind(code)
                    .fetch_optional(&mut *conn)
                    .await?;
            Some(id.ok_or_else(|| {
                AppError::invalid_field("window", format!("本中心没有编号为“{code}”的窗口"))
            })?)
        }
        None => None,
    };
    let here: Vec<&RightRow> = rights.iter().filter(|r| r.center_id == center).collect();
    if rights.is_empty() {
        // No window holds delegated rights: the center's comprehensive windows accept it.
        return Ok((named, false));
    }
    if let Some(id) = named {
        return match here.iter().find(|r| r.window_id == id) {
            Some(r) => Ok((Some(id), r.rights == "collect")),
            None => Err(AppError::invalid_field(
                "window",
                "该窗口没有此事项的受理权或收件权，请引导申请人到有权窗口办理",
            )),
        };
    }
    // The caller's own post at a window with rights.
    // Their A post (where they sit) before a B post (where they stand in), 受理权 before 收件权.
    let posted: Vec<(WindowId, String)> =
        sqlx::query_as("select window_id, post from window_posts where user_id = $1")
            .bind(user.id)
            .fetch_all(&mut *conn)
            .await?;
    let post_of = |w: WindowId| {
        posted
            .iter()
            .find(|(id, _)| *id == w)
            .map(|(_, p)| p.as_str())
    };
    let mine = here
        .iter()
        .filter(|r| post_of(r.window_id).is_some())
        .min_by_key(|r| {
            (
                post_of(r.window_id) != Some("A"),
                r.rights != "accept",
                r.code.clone(),
            )
        });
    match mine {
        Some(r) => Ok((Some(r.window_id), r.rights == "collect")),
        None if policy::is_admin(user) => Ok((None, false)),
        None if here.is_empty() => Err(AppError::invalid_field(
            "center",
            "本中心没有窗口持有该事项的受理权或收件权",
        )),
        None => Err(AppError::invalid_field(
            "window",
            "请在持有该事项受理权或收件权的窗口受理",
        )),
    }
}

pub(super) async fn ticket_today(
    conn: &mut Conn,
    center: CenterId,
    number: &str,
    today: Date,
) -> AppResult<TicketId> {
    let id: Option<TicketId> = sqlx::query_scalar(
        "select id from tickets where center_id = $1 and service_date = $2 and number = $3",
    )
    .bind(center)
    .bind(today.to_string())
    .bind(number.trim().to_ascii_uppercase())
    .fetch_optional(&mut *conn)
    .await?;
    id.ok_or_else(|| AppError::invalid_field("ticket", format!("今天没有号码“{}”", number.trim())))
}

/// The next case number of a center this year: `2026-GX-ML-000123`. One upsert per case, so
/// numbers never repeat, on one server or several.
pub(super) async fn next_number(
    tx: &mut Tx,
    center: CenterId,
    code: &str,
    year: i16,
) -> AppResult<String> {
    let n: i64 = sqlx::query_scalar(
        "insert into case_counters (center_id, year, last_no) values ($1, $2, 1) \
         on conflict (center_id, year) do update set last_no = case_counters.last_no + 1 \
         returning last_no",
    )
    .bind(center)
    .bind(i64::from(year))
    .fetch_one(&mut **tx)
    .await?;
    Ok(format!("{year}-{code}-{n:06}"))
}

/// 收件: a new case at the window, state `received`, with its materials. The situation, the
/// center, the window's rights and the ticket are read and checked first; the write
/// transaction takes the number and writes the case, its materials and its step.
pub async fn intake(app: &App, user: &CurrentUser, input: &IntakeInput) -> Outcome {
    let applicant = check_applicant(&input.applicant)?;
    let (agent_name, agent_id) = check_agent(input.agent.as_ref())?;
    let now = app.clock.now_micros();
    let today = crate::timetable::today(app);
    let mut conn = app.db.pool().acquire().await?;
    let sit = situation(&mut conn, &input.situation).await?;
    let center = match input
        .center
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(code) => center_by_code(&mut conn, code).await?,
        None => CenterRow {
            id: sit.center_id,
            code: center_code(&mut conn, sit.center_id).await?,
        },
    };
    allow(
        policy::can_take_in(user, center.id.get()),
        "只有本中心的窗口工作人员可以受理办件",
    )?;
    if center.id != sit.center_id {
        let holds = rights(&mut conn, sit.id)
            .await?
            .iter()
            .any(|r| r.center_id == center.id);
        if !holds {
            return Err(AppError::invalid_field(
                "center",
                "该事项不属于本中心，本中心也没有它的受理权或收件权",
            ));
        }
    }
    let (window, collect_only) =
        intake_window(&mut conn, user, center.id, &sit, input.window.as_deref()).await?;
    let ticket = match input
        .ticket
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        Some(n) => Some(ticket_today(&mut conn, center.id, n, today).await?),
        None => None,
    };
    let checked = ticked(&sit, input.checked.as_deref().unwrap_or(&[]))?;
    let count = sit.input.materials.len() as i64;
    if let Some(bad) = input
        .received
        .iter()
        .flatten()
        .find(|p| !(1..=count).contains(*p))
    {
        return Err(AppError::invalid_field(
            "received",
            format!("没有第 {bad} 项材料"),
        ));
    }
    let kind = default_kind(&sit.input);
    // Never hold a read connection while waiting for the writer: on PostgreSQL both come from
    // one pool, and requests holding one each while waiting for another would starve it.
    drop(conn);
    let (sit, center, applicant, agent) = (&sit, &center, &applicant, (&agent_name, &agent_id));
    let checked = &checked;
    let id = app
        .db
        .transaction(|mut tx| {
            Box::pin(async move {
                let number = next_number(&mut tx, center.id, &center.code, today.year()).await?;
                let id: CaseId = sqlx::query_scalar(
                    "insert into cases (number, center_id, matter_id, department, window_id, ticket_id, \
                     applicant_kind, applicant_name, applicant_no, applicant_phone, agent_name, agent_id_card, \
                     state, kind, collect_only, review_json, received_by, created_at, updated_at) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) \
                     returning id",
                )
                .bind(&number)
                .bind(center.id)
                .bind(sit.id)
                .bind(&sit.input.department)
                .bind(window)
                .bind(ticket)
                .bind(applicant.kind)
                .bind(&applicant.name)
                .bind(&applicant.no)
                .bind(&applicant.phone)
                .bind(agent.0)
                .bind(agent.1)
                .bind(CaseState::Received)
                .bind(kind)
                .bind(i64::from(collect_only))
                .bind(serde_json::to_string(checked).unwrap_or_else(|_| "[]".into()))
                .bind(user.id)
                .bind(now)
                .fetch_one(&mut **tx)
                .await?;
                insert_materials(&mut tx, id, sit, input.received.as_deref()).await?;
                let note = if collect_only { "收件（本窗口仅有收件权，由部门决定是否受理）" } else { "" };
                step(&mut tx, id, &actor(user), "receive", None, CaseState::Received, note, None, now).await?;
                Ok::<_, AppError>(id)
            })
        })
        .await?;
    load(&mut *app.db.pool().acquire().await?, id).await
}

/// The situation's materials copied to the case in one statement, each received unless
/// `received` lists the positions that were.
async fn insert_materials(
    tx: &mut Tx,
    case: CaseId,
    sit: &Situation,
    received: Option<&[i64]>,
) -> AppResult<()> {
    let materials = &sit.input.materials;
    if materials.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (0..materials.len())
        .map(|i| {
            let b = i * 8;
            format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8
            )
        })
        .collect();
    let sql = format!(
        "insert into case_materials (case_id, position, name, form, copies, required, tolerable, state) values {}",
        rows.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (i, m) in materials.iter().enumerate() {
        let pos = i as i64 + 1;
        let got = received.is_none_or(|r| r.contains(&pos));
        q = q
            .bind(case)
            .bind(pos)
            .bind(&m.name)
            .bind(&m.form)
            .bind(m.copies)
            .bind(i64::from(m.required))
            .bind(i64::from(m.tolerable))
            .bind(if got {
                MaterialState::Received
            } else {
                MaterialState::Missing
            });
    }
    q.execute(&mut **tx).await?;
    Ok(())
}
