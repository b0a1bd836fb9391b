//! At the window, after 收件 (`intake.rs`): exactly one decision (受理, 一次性告知, 不予受理), the leader's
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
    taken_in_hall(&input)?;
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
    if case.collect_only != 0 {
        allow(
            policy::can_accept_collected(user, center),
            "本件由仅有收件权的窗口收取，须由部门工作人员决定是否受理",
        )?;
    } else {
        allow(
            policy::can_take_in(user, center),
            "只有本中心的窗口工作人员可以受理办件",
        )?;
    }
    if !case.state.allows(CaseAction::Accept) {
        return Err(invalid_state(&case, CaseAction::Accept));
    }
    let sit = terms(&mut conn, case.matter_id).await?;
    if input.commitment && !sit.notice_commitment {
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
    let kind = chosen_kind(default_kind(&sit), input.kind.as_deref())?;
    let limit = match kind {
        CaseKind::Immediate => Some(0),
        _ => clock::working_days(sit.promised_limit, &sit.limit_unit)
            .or(clock::working_days(sit.legal_limit, &sit.limit_unit))
            .map(i64::from),
    };
    let legal = clock::working_days(sit.legal_limit, &sit.limit_unit).map(i64::from);
    if kind == CaseKind::Reported && parent_center(&mut conn, case.center_id).await?.is_none() {
        return Err(AppError::invalid_field(
            "kind",
            "本中心没有上级中心，不能按上报件受理",
        ));
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
    // Never accepted before, so no suspension or extension counts yet.
    let due = due_from(
        app,
        &planned,
        today,
        &sit.limit_unit,
        (&[], 0),
        (settings, &table),
    )?;
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
                let set = ", accepted_on = $3, kind = $4, limit_days = $5, legal_days = $6, \
                     tolerated = $7, commitment = $8, fast_track = $9, due_on = $10, warn_on = $11, \
                     warning = ''";
                let binds = vec![
                    Bind::Text(today.to_string()),
                    Bind::Text(kind.as_str().into()),
                    Bind::OptInt(limit),
                    Bind::OptInt(legal),
                    Bind::Int(i64::from(!tolerated.is_empty())),
                    Bind::Int(i64::from(input.commitment)),
                    Bind::Text(fast.clone()),
                    Bind::OptText(due.as_ref().map(|d| d.due.to_string())),
                    Bind::OptText(due.as_ref().map(|d| d.warn.to_string())),
                ];
                let action = CaseAction::Accept;
                let accepted = advance(&mut tx, case, user, action, (set, binds), note, now).await?;
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
                Ok::<_, AppError>(accepted)
            })
        })
        .await
}

/// The terms of a case's matter as the catalogue has them now; refused where the matter is
/// no longer one the hall accepts (made a directory, or put on the negative list).
async fn terms(conn: &mut Conn, matter: MatterId) -> AppResult<crate::catalog::MatterInput> {
    let Some(terms) = crate::catalog::queries::terms(conn, matter).await? else {
        return Err(AppError::invalid_field("situation", "找不到该办件的事项"));
    };
    taken_in_hall(&terms)?;
    Ok(terms)
}

/// A matter the hall takes in: a 办事情形 (not a directory) that is not on the negative list.
fn taken_in_hall(input: &crate::catalog::MatterInput) -> AppResult<()> {
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
    Ok(())
}

/// 一次性告知: every missing or wrong item, once, in writing.
pub async fn notify_missing(
    app: &App,
    user: &CurrentUser,
    number: &str,
    items: &[String],
) -> Outcome {
    let items = clean_items(items)?;
    on_case(app, user, number, |mut tx, case, now| {
        Box::pin(async move {
            window_clerk(user, &case)?;
            let json = serde_json::to_string(&items).unwrap_or_else(|_| "[]".into());
            let set = (", missing_json = $3", vec![Bind::Text(json)]);
            let note = items.join("；");
            advance(
                &mut tx,
                &case,
                user,
                CaseAction::NotifyMissing,
                set,
                &note,
                now,
            )
            .await
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
    let reason = required("reason", reason, None, "请填写不予受理的理由")?;
    let basis = match basis.trim() {
        "" => REFUSAL_BASIS.to_owned(),
        b => b.to_owned(),
    };
    on_case(app, user, number, |mut tx, case, now| {
        Box::pin(async move {
            window_clerk(user, &case)?;
            let set = (
                ", refusal_reason = $3, refusal_basis = $4, closed_at = $5",
                vec![Bind::Text(reason.clone()), Bind::Text(basis.clone()), Bind::Int(now)],
            );
            let refused = advance(&mut tx, &case, user, CaseAction::Refuse, set, &reason, now).await?;
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
            Ok(refused)
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
    let opinion = required("opinion", opinion, None, "请填写领导意见")?;
    on_case(app, user, number, |mut tx, case, now| {
        Box::pin(async move {
            allow(
                policy::can_give_opinion(user, case.center_id.get()),
                "只有本中心的领导可以签署否定报备意见",
            )?;
            let rows = sqlx::query(
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
            changed(rows, "该办件没有待签署的否定报备")?;
            noted(&mut tx, &case, user, "opinion", &opinion, now).await
        })
    })
    .await
}

/// A 容缺 material handed in after acceptance.
pub async fn supply(app: &App, user: &CurrentUser, number: &str, position: i64) -> Outcome {
    on_case(app, user, number, |mut tx, case, now| {
        Box::pin(async move {
            window_clerk(user, &case)?;
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
            noted(&mut tx, &case, user, "supply", &name, now).await
        })
    })
    .await
}
