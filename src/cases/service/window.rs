//! At the window: 收件, then exactly one decision (受理, 一次性告知, 不予受理), the leader's
//! opinion on a refusal, and 容缺 materials handed in later.

use super::*;

/// The situation a case applies for, with what intake needs of it.
pub struct Situation {
    pub id: MatterId,
    pub center_id: CenterId,
    pub code: String,
    pub name: String,
    pub input: crate::catalog::MatterInput,
}

pub(super) async fn situation(conn: &mut Conn, code: &str) -> AppResult<Situation> {
    let code = code.trim();
    if code.is_empty() {
        return Err(AppError::invalid_field("situation", "请选择办事情形"));
    }
    let Some((meta, input, id)) = crate::catalog::queries::load(conn, code).await? else {
        return Err(AppError::invalid_field(
            "situation",
            format!("找不到编号为“{code}”的事项"),
        ));
    };
    if input.node != "matter" {
        return Err(AppError::invalid_field(
            "situation",
            "请选择具体的办事情形，而不是目录",
        ));
    }
    if input.outside {
        return Err(AppError::invalid_field(
            "situation",
            "该事项在负面清单中，不在大厅受理",
        ));
    }
    Ok(Situation {
        id,
        center_id: meta.center_id,
        code: code.to_owned(),
        name: meta.name,
        input,
    })
}

/// Loads a situation for the intake form.
pub async fn situation_for_form(app: &App, code: &str) -> AppResult<Situation> {
    let mut conn = app.db.pool().acquire().await?;
    situation(&mut conn, code).await
}

pub(super) fn default_kind(input: &crate::catalog::MatterInput) -> CaseKind {
    match CaseKind::parse(&input.kind) {
        Some(k) => k,
        None if input.promised_limit == Some(0) => CaseKind::Immediate,
        None => CaseKind::Promised,
    }
}

/// The kind the clerk chose, where the matter allows it: a 即办件 stays one, and the others may
/// be 承诺件, 联办件 or 上报件.
fn chosen_kind(matter: CaseKind, chosen: Option<&str>) -> AppResult<CaseKind> {
    let Some(text) = chosen.map(str::trim).filter(|k| !k.is_empty()) else {
        return Ok(matter);
    };
    match CaseKind::parse(text) {
        Some(k) if k == matter => Ok(k),
        Some(CaseKind::Immediate) => Err(AppError::invalid_field(
            "kind",
            "该事项不是即办件，不能当场办结",
        )),
        Some(_) if matter == CaseKind::Immediate => Err(AppError::invalid_field(
            "kind",
            "该事项为即办件，应即收即办",
        )),
        Some(k) => Ok(k),
        None => Err(AppError::invalid_field(
            "kind",
            "办件类型应为即办件、承诺件、联办件或上报件",
        )),
    }
}

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
    Ok(sqlx::query_as(
        "select w.id as window_id, w.center_id, w.code, mw.rights from matter_windows mw \
         join windows w on w.id = mw.window_id where mw.matter_id = $1",
    )
    .bind(matter)
    .fetch_all(&mut *conn)
    .await?)
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
    if !policy::can_take_in(user, center.id.get()) {
        return Err(AppError::Forbidden(
            "只有本中心的窗口工作人员可以受理办件".into(),
        ));
    }
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

/// 受理: the case enters the back office with its due date. Everything the decision needs is
/// read and checked first; the write transaction is then one guarded update with the due
/// dates, the warning job and the step, so acceptances keep SQLite's single writer busy for
/// as short a time as possible. A racing step in between makes the guard refuse (409).
pub async fn accept(app: &App, user: &CurrentUser, number: &str, input: &AcceptInput) -> Outcome {
    let now = app.clock.now_micros();
    let today = crate::timetable::today(app);
    let table = crate::timetable::holiday_table(app).await?;
    let mut conn = app.db.pool().acquire().await?;
    let case = visible(&mut conn, user, number).await?;
    let center = case.center_id.get();
    let allowed = if case.collect_only != 0 {
        policy::can_accept_collected(user, center)
    } else {
        policy::can_take_in(user, center)
    };
    if !allowed {
        return Err(AppError::Forbidden(if case.collect_only != 0 {
            "本件由仅有收件权的窗口收取，须由部门工作人员决定是否受理".into()
        } else {
            "只有本中心的窗口工作人员可以受理办件".into()
        }));
    }
    if !case.state.allows(CaseAction::Accept) {
        return Err(invalid_state(&case, CaseAction::Accept));
    }
    let code = matter_code(&mut conn, case.matter_id).await?;
    let sit = situation(&mut conn, &code).await?;
    if input.commitment && !sit.input.notice_commitment {
        return Err(AppError::invalid_field(
            "commitment",
            "该事项不适用告知承诺制",
        ));
    }
    let materials = queries::materials(&mut conn, case.id).await?;
    let mut tolerated = Vec::new();
    for &pos in &input.tolerated {
        match materials.iter().find(|m| m.position == pos) {
            Some(m) if m.tolerable != 0 => tolerated.push(pos),
            Some(m) => {
                return Err(AppError::invalid_field(
                    "tolerated",
                    format!("“{}”不可容缺，须在受理前提交", m.name),
                ));
            }
            None => {
                return Err(AppError::invalid_field(
                    "tolerated",
                    format!("没有第 {pos} 项材料"),
                ));
            }
        }
    }
    let lacking: Vec<&str> = materials
        .iter()
        .filter(|m| {
            m.required != 0
                && matches!(m.state, MaterialState::Missing)
                && !tolerated.contains(&m.position)
        })
        .map(|m| m.name.as_str())
        .collect();
    if !lacking.is_empty() && !input.commitment {
        return Err(AppError::invalid_field(
            "materials",
            format!(
                "材料不齐：{}。请一次性告知补正，或按容缺受理",
                lacking.join("、")
            ),
        ));
    }
    let supply_by = if tolerated.is_empty() {
        None
    } else {
        Some(
            match input.supply_by.as_deref().filter(|s| !s.trim().is_empty()) {
                Some(s) => {
                    let d = parse_day("supply_by", s)?;
                    if d <= today {
                        return Err(AppError::invalid_field(
                            "supply_by",
                            "容缺材料的补交日期应晚于今天",
                        ));
                    }
                    d
                }
                None => table
                    .deadline(today, 5, &[], None)
                    .map(|d| d.due)
                    .map_err(|e| AppError::Invalid(e.to_string()))?,
            },
        )
    };
    let fast = input.fast_track.as_deref().unwrap_or("").trim().to_owned();
    let kind = chosen_kind(default_kind(&sit.input), input.kind.as_deref())?;
    let limit = match kind {
        CaseKind::Immediate => Some(0),
        _ => clock::working_days(sit.input.promised_limit, &sit.input.limit_unit)
            .or(clock::working_days(
                sit.input.legal_limit,
                &sit.input.limit_unit,
            ))
            .map(i64::from),
    };
    let legal = clock::working_days(sit.input.legal_limit, &sit.input.limit_unit).map(i64::from);
    if kind == CaseKind::Reported {
        let parent: Option<Option<CenterId>> =
            sqlx::query_scalar("select parent_id from centers where id = $1")
                .bind(case.center_id)
                .fetch_optional(&mut *conn)
                .await?;
        if parent.flatten().is_none() {
            return Err(AppError::invalid_field(
                "kind",
                "本中心没有上级中心，不能按上报件受理",
            ));
        }
    }
    let tasks = if kind == CaseKind::Joint {
        check_tasks(&input.joint, &case.department, limit)?
    } else {
        if input.joint.iter().any(|t| !t.department.trim().is_empty()) {
            return Err(AppError::invalid_field(
                "joint",
                "只有联办件可以列出协办部门",
            ));
        }
        Vec::new()
    };
    // The case as it will be, for its dates.
    let mut planned = case.clone();
    planned.kind = kind;
    planned.limit_days = limit;
    planned.legal_days = legal;
    let settings = queries::settings(&mut conn, case.center_id).await?;
    let due = due_of(app, &mut conn, &planned, today, (settings, &table)).await?;
    let tasks = plan_tasks(app, &mut conn, &planned, &table, today, tasks).await?;
    let mut note = String::new();
    if !tolerated.is_empty() {
        note.push_str("容缺受理；");
    }
    if input.commitment {
        note.push_str("告知承诺；");
    }
    if !fast.is_empty() {
        note.push_str(&format!("特事特办：{fast}；"));
    }
    if !tasks.is_empty() {
        let list: Vec<String> = tasks
            .iter()
            .map(|(d, n, _)| format!("{d}（{n} 个工作日）"))
            .collect();
        note.push_str(&format!("联办，协办部门：{}；", list.join("、")));
    }
    let note = note.trim_end_matches('；').to_owned();
    drop(conn);
    let (case, tolerated, tasks, due, note) = (&case, &tolerated, &tasks, &due, &note);
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                let from = case.state;
                let to = transit(
                    &mut tx,
                    case,
                    CaseAction::Accept,
                    ", accepted_on = $3, kind = $4, limit_days = $5, legal_days = $6, tolerated = $7, \
                     commitment = $8, fast_track = $9, due_on = $10, warn_on = $11, warning = ''",
                    vec![
                        Bind::Text(today.to_string()),
                        Bind::Text(kind.as_str().into()),
                        Bind::OptInt(limit),
                        Bind::OptInt(legal),
                        Bind::Int(i64::from(!tolerated.is_empty())),
                        Bind::Int(i64::from(input.commitment)),
                        Bind::Text(fast.clone()),
                        Bind::OptText(due.as_ref().map(|d| d.due.to_string())),
                        Bind::OptText(due.as_ref().map(|d| d.warn.to_string())),
                    ],
                    now,
                )
                .await?;
                for &pos in tolerated {
                    sqlx::query("update case_materials set state = $1, due_on = $2 where case_id = $3 and position = $4")
                        .bind(MaterialState::Tolerated)
                        .bind(supply_by.map(CivilDate))
                        .bind(case.id)
                        .bind(pos)
                        .execute(&mut **tx)
                        .await?;
                }
                if let Some(d) = due {
                    crate::cases::warn::schedule(&mut tx, case.id, d.warn, now).await?;
                }
                open_tasks(&mut tx, case.id, tasks, now).await?;
                step(&mut tx, case.id, &actor(user), CaseAction::Accept.as_str(), Some(from), to, note, None, now).await?;
                Ok::<_, AppError>(())
            })
        })
        .await?;
    load(&mut *app.db.pool().acquire().await?, case.id).await
}

pub(super) async fn matter_code(conn: &mut Conn, id: MatterId) -> AppResult<String> {
    Ok(sqlx::query_scalar("select code from matters where id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?)
}

/// 一次性告知: every missing or wrong item, once, in writing.
pub async fn notify_missing(
    app: &App,
    user: &CurrentUser,
    number: &str,
    items: &[String],
) -> Outcome {
    let items = clean_items(items)?;
    let now = app.clock.now_micros();
    on_case(app, user, number, |mut tx, case| {
        Box::pin(async move {
            if !policy::can_take_in(user, case.center_id.get()) {
                return Err(AppError::forbidden());
            }
            let from = case.state;
            let json = serde_json::to_string(&items).unwrap_or_else(|_| "[]".into());
            let to = transit(
                &mut tx,
                &case,
                CaseAction::NotifyMissing,
                ", missing_json = $3",
                vec![Bind::Text(json)],
                now,
            )
            .await?;
            step(
                &mut tx,
                case.id,
                &actor(user),
                CaseAction::NotifyMissing.as_str(),
                Some(from),
                to,
                &items.join("；"),
                None,
                now,
            )
            .await?;
            load(&mut tx, case.id).await
        })
    })
    .await
}

/// The basis a refusal cites when the clerk gives none.
pub const REFUSAL_BASIS: &str = "《中华人民共和国行政许可法》第三十二条";

/// 不予受理: with the reason and its basis, entered in the 否定报备登记表.
pub async fn refuse(
    app: &App,
    user: &CurrentUser,
    number: &str,
    reason: &str,
    basis: &str,
) -> Outcome {
    let reason = reason.trim().to_owned();
    if reason.is_empty() {
        return Err(AppError::invalid_field("reason", "请填写不予受理的理由"));
    }
    let basis = match basis.trim() {
        "" => REFUSAL_BASIS.to_owned(),
        b => b.to_owned(),
    };
    let now = app.clock.now_micros();
    on_case(app, user, number, |mut tx, case| {
        Box::pin(async move {
            if !policy::can_take_in(user, case.center_id.get()) {
                return Err(AppError::forbidden());
            }
            let from = case.state;
            let to = transit(
                &mut tx,
                &case,
                CaseAction::Refuse,
                ", refusal_reason = $3, refusal_basis = $4, closed_at = $5",
                vec![Bind::Text(reason.clone()), Bind::Text(basis.clone()), Bind::Int(now)],
                now,
            )
            .await?;
            let matter: String = sqlx::query_scalar("select name from matters where id = $1")
                .bind(case.matter_id)
                .fetch_one(&mut **tx)
                .await?;
            sqlx::query(
                "insert into case_refusals (case_id, center_id, applicant, phone, matter, reason, basis, clerk, registered_at) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(case.id)
            .bind(case.center_id)
            .bind(&case.applicant_name)
            .bind(&case.applicant_phone)
            .bind(&matter)
            .bind(&reason)
            .bind(&basis)
            .bind(&user.display_name)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            step(&mut tx, case.id, &actor(user), CaseAction::Refuse.as_str(), Some(from), to, &reason, None, now).await?;
            load(&mut tx, case.id).await
        })
    })
    .await
}

/// The leader's opinion on a refusal (否定报备).
pub async fn refusal_opinion(
    app: &App,
    user: &CurrentUser,
    number: &str,
    opinion: &str,
) -> Outcome {
    let opinion = opinion.trim().to_owned();
    if opinion.is_empty() {
        return Err(AppError::invalid_field("opinion", "请填写领导意见"));
    }
    let now = app.clock.now_micros();
    on_case(app, user, number, |mut tx, case| {
        Box::pin(async move {
            if !policy::can_give_opinion(user, case.center_id.get()) {
                return Err(AppError::Forbidden(
                    "只有本中心的领导可以签署否定报备意见".into(),
                ));
            }
            let done = sqlx::query(
                "update case_refusals set opinion = $1, opinion_by = $2, opinion_at = $3 \
                 where case_id = $4 and opinion = ''",
            )
            .bind(&opinion)
            .bind(user.id)
            .bind(now)
            .bind(case.id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if done == 0 {
                return Err(AppError::InvalidState("该办件没有待签署的否定报备".into()));
            }
            step(
                &mut tx,
                case.id,
                &actor(user),
                "opinion",
                Some(case.state),
                case.state,
                &opinion,
                None,
                now,
            )
            .await?;
            load(&mut tx, case.id).await
        })
    })
    .await
}

/// A 容缺 material handed in after acceptance.
pub async fn supply(app: &App, user: &CurrentUser, number: &str, position: i64) -> Outcome {
    let now = app.clock.now_micros();
    on_case(app, user, number, |mut tx, case| {
        Box::pin(async move {
            if !policy::can_take_in(user, case.center_id.get()) {
                return Err(AppError::forbidden());
            }
            if !case.state.is_open() {
                return Err(AppError::InvalidState(format!("办件已{}，不能再补交材料", case.state.label())));
            }
            let name: Option<String> = sqlx::query_scalar(
                "update case_materials set state = $1, supplied_at = $2 where case_id = $3 and position = $4 \
                 and state in ('tolerated', 'missing') returning name",
            )
            .bind(MaterialState::Supplied)
            .bind(now)
            .bind(case.id)
            .bind(position)
            .fetch_optional(&mut **tx)
            .await?;
            let Some(name) = name else {
                return Err(AppError::invalid_field("position", "该材料不在待补交之列"));
            };
            step(&mut tx, case.id, &actor(user), "supply", Some(case.state), case.state, &name, None, now).await?;
            load(&mut tx, case.id).await
        })
    })
    .await
}
