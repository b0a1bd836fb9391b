//! In the back office: stops of the clock, extensions, the decision and the chief
//! representative's sign-off; at the issuance window, 出件. Due dates are recomputed by every
//! step that moves them.

use super::*;
use crate::calendar::HolidayTable;

/// The due and warning days of a case accepted on `accepted`, as things stand.
pub(super) async fn due_of(
    app: &App,
    conn: &mut Conn,
    case: &Case,
    accepted: Date,
    (settings, table): (Settings, &HolidayTable),
) -> AppResult<Option<Due>> {
    if case.limit_days.is_none() {
        return Ok(None);
    }
    let stops = queries::stops(conn, case.id).await?;
    let granted = queries::granted_days(&queries::extensions(conn, case.id).await?);
    let unit = limit_unit(conn, case.matter_id).await?;
    due_from(
        app,
        case,
        accepted,
        &unit,
        (&stops, granted),
        (settings, table),
    )
}

/// [`due_of`] with the matter's limit unit, the case's stops and granted extension days known.
pub(super) fn due_from(
    app: &App,
    case: &Case,
    accepted: Date,
    unit: &str,
    (stops, granted): (&[clock::Stop], u32),
    (settings, table): (Settings, &HolidayTable),
) -> AppResult<Option<Due>> {
    let Some(days) = case.limit_days else {
        return Ok(None);
    };
    let days = u32::try_from(days).unwrap_or(0);
    let today = crate::timetable::today(app);
    clock::due(
        table,
        accepted,
        days,
        unit,
        stops,
        granted,
        u32::try_from(settings.yellow_percent).unwrap_or(80),
        today,
    )
    .map(Some)
    .map_err(|e| AppError::Invalid(format!("无法计算办结期限：{e}")))
}

pub(super) async fn limit_unit(conn: &mut Conn, matter: MatterId) -> AppResult<String> {
    Ok(
        sqlx::query_scalar("select limit_unit from matters where id = $1")
            .bind(matter)
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// Writes the due and warning days and schedules the deadline job for the warning day.
pub(super) async fn set_due(
    tx: &mut Tx,
    case: CaseId,
    due: Option<&Due>,
    now: i64,
) -> AppResult<()> {
    sqlx::query("update cases set due_on = $1, warn_on = $2, warning = '' where id = $3")
        .bind(due.map(|d| CivilDate(d.due)))
        .bind(due.map(|d| CivilDate(d.warn)))
        .bind(case)
        .execute(&mut **tx)
        .await?;
    if let Some(d) = due {
        crate::cases::warn::schedule(tx, case, d.warn, now).await?;
    }
    Ok(())
}

/// Stops the clock (补正 in the back office, or a special procedure).
pub async fn suspend(app: &App, user: &CurrentUser, number: &str, input: &SuspendInput) -> Outcome {
    let reason = required(
        "reason",
        &input.reason,
        Some(50),
        "请填写中止计时的事由（如补正、公示、听证、专家评审、现场踏勘）",
    )?;
    let today = crate::timetable::today(app);
    on_case(app, user, number, |mut tx, case, now| {
        Box::pin(async move {
            allow(
                policy::can_approve(user, case.deciding_center().get()),
                "只有本中心的后台审批人员可以中止计时",
            )?;
            let note = format!("{reason} {}", input.note.trim());
            let set = ("", vec![]);
            let suspended = advance(&mut tx, &case, user, CaseAction::Suspend, set, note.trim(), now).await?;
            sqlx::query(
                "insert into case_suspensions (case_id, reason, start_on, created_by, created_at) values ($1, $2, $3, $4, $5)",
            )
            .bind(case.id)
            .bind(&reason)
            .bind(CivilDate(today))
            .bind(user.id)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            Ok(suspended)
        })
    })
    .await
}

/// Restarts the clock; the due date moves by the working days it stood still.
pub async fn resume(app: &App, user: &CurrentUser, number: &str) -> Outcome {
    let table = crate::timetable::holiday_table(app).await?;
    let table = &*table;
    let today = crate::timetable::today(app);
    on_case(app, user, number, |mut tx, case, now| {
        Box::pin(async move {
            allow(
                policy::can_approve(user, case.deciding_center().get()),
                "只有本中心的后台审批人员可以恢复计时",
            )?;
            advance(
                &mut tx,
                &case,
                user,
                CaseAction::Resume,
                ("", vec![]),
                "",
                now,
            )
            .await?;
            let yesterday = today.yesterday().unwrap_or(today);
            sqlx::query(
                "update case_suspensions set end_on = $1 where case_id = $2 and end_on is null",
            )
            .bind(CivilDate(yesterday))
            .bind(case.id)
            .execute(&mut **tx)
            .await?;
            recompute(app, &mut tx, (case.id, table), now).await?;
            load(&mut tx, case.id).await
        })
    })
    .await
}

/// Recomputes a case's dates (and its co-departments') in its transaction. The holiday table
/// is read before the transaction, so no second connection is taken while one is held.
pub(super) async fn recompute(
    app: &App,
    tx: &mut Tx,
    (id, table): (CaseId, &HolidayTable),
    now: i64,
) -> AppResult<()> {
    let case = load(tx, id).await?;
    let Some(accepted) = case.accepted_on else {
        return Ok(());
    };
    let settings = queries::settings(tx, case.center_id).await?;
    let due = due_of(app, tx, &case, accepted.date(), (settings, table)).await?;
    set_due(tx, id, due.as_ref(), now).await?;
    recompute_tasks(app, tx, &case, table, now).await
}

/// The decision is final: a 上报件 is back at its own center, and the applicant is told the
/// result and any fee.
async fn finished(tx: &mut Tx, id: CaseId, now: i64) -> AppResult<()> {
    sqlx::query(
        "update cases set returned_at = $1 where id = $2 and reported_to is not null and returned_at is null",
    )
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    let case = load(tx, id).await?;
    let fee = fee(tx, id).await?;
    crate::cases::messages::decided(tx, &case, fee.as_ref(), now).await
}

/// The approver asks for more time; the hall manager or chief representative decides.
pub async fn request_extension(
    app: &App,
    user: &CurrentUser,
    number: &str,
    input: &ExtendInput,
) -> Outcome {
    let reason = required(
        "reason",
        &input.reason,
        None,
        "请填写延期理由（将写入延期告知书）",
    )?;
    if !(1..=60).contains(&input.days) {
        return Err(AppError::invalid_field(
            "days",
            "延长的工作日应在 1 到 60 之间",
        ));
    }
    let days = input.days;
    on_case(app, user, number, |mut tx, case, now| {
        Box::pin(async move {
            allow(
                policy::can_approve(user, case.deciding_center().get()),
                "只有本中心的后台审批人员可以申请延期",
            )?;
            if !case.state.clock_runs() && case.state != CaseState::Suspended {
                return Err(state_refusal(&case, "不能申请延期"));
            }
            let exts = queries::extensions(&mut tx, case.id).await?;
            if exts.iter().any(|e| e.state == "requested") {
                return Err(AppError::InvalidState("已有待批准的延期申请".into()));
            }
            let limit = u32::try_from(case.limit_days.unwrap_or(0)).unwrap_or(0);
            let legal = case.legal_days.and_then(|d| u32::try_from(d).ok());
            let room = clock::extension_room(limit, legal, queries::granted_days(&exts));
            if days as u32 > room {
                return Err(AppError::invalid_field(
                    "days",
                    format!("延期后将超过法定办结时限，最多还可延长 {room} 个工作日"),
                ));
            }
            sqlx::query(
                "insert into case_extensions (case_id, days, reason, state, requested_by, requested_at) \
                 values ($1, $2, $3, 'requested', $4, $5)",
            )
            .bind(case.id)
            .bind(days)
            .bind(&reason)
            .bind(user.id)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            let note = format!("{days} 个工作日：{reason}");
            noted(&mut tx, &case, user, "extend_request", &note, now).await
        })
    })
    .await
}

/// Approves or refuses the pending extension; an approved one moves the due date.
pub async fn decide_extension(
    app: &App,
    user: &CurrentUser,
    number: &str,
    approve: bool,
) -> Outcome {
    let table = crate::timetable::holiday_table(app).await?;
    let table = &*table;
    on_case(app, user, number, |mut tx, case, now| {
        Box::pin(async move {
            allow(
                policy::can_grant_extension(user, case.deciding_center().get()),
                "延期须由首席代表或大厅管理员批准",
            )?;
            let state = if approve { "approved" } else { "refused" };
            let done: Option<i64> = sqlx::query_scalar(
                "update case_extensions set state = $1, decided_by = $2, decided_at = $3 \
                 where case_id = $4 and state = 'requested' returning days",
            )
            .bind(state)
            .bind(user.id)
            .bind(now)
            .bind(case.id)
            .fetch_optional(&mut **tx)
            .await?;
            let Some(days) = done else {
                return Err(AppError::InvalidState("没有待批准的延期申请".into()));
            };
            if approve {
                recompute(app, &mut tx, (case.id, table), now).await?;
            }
            let action = if approve {
                "extend_approve"
            } else {
                "extend_refuse"
            };
            noted(
                &mut tx,
                &case,
                user,
                action,
                &format!("{days} 个工作日"),
                now,
            )
            .await
        })
    })
    .await
}

/// The department's decision: final, or proposed to the chief representative where the center
/// wants sign-off.
pub async fn decide(app: &App, user: &CurrentUser, number: &str, input: &DecideInput) -> Outcome {
    let (decision, note) = parse_decision(input)?;
    let today = crate::timetable::today(app);
    on_case(app, user, number, |mut tx, case, now| {
        Box::pin(async move {
            allow(
                policy::can_decide(user, case.deciding_center().get(), case.kind == CaseKind::Immediate),
                "只有本中心的后台审批人员可以作出决定（即办件由受理窗口办结）",
            )?;
            if case.kind == CaseKind::Reported && case.reported_to.is_none() && case.state.allows(CaseAction::Decide) {
                return Err(AppError::InvalidState("上报件须先上报上级中心，由上级中心作出决定".into()));
            }
            let waiting = open_departments(&mut tx, case.id).await?;
            if !waiting.is_empty() && case.state.allows(CaseAction::Decide) {
                return Err(AppError::InvalidState(format!("协办部门尚未办结：{}", waiting.join("、"))));
            }
            let fee = if decision == Decision::Approved {
                fee_of(&mut tx, &case, input.fee_fen).await?
            } else {
                None
            };
            let settings = queries::settings(&mut tx, case.deciding_center()).await?;
            let action = if settings.chief_signoff != 0 { CaseAction::Propose } else { CaseAction::Decide };
            let set = if action == CaseAction::Decide {
                ", decision = $3, decision_note = $4, decided_by = $5, decided_at = $6, decided_on = $7"
            } else {
                ", decision = $3, decision_note = $4, decided_by = $5"
            };
            let mut binds = vec![
                Bind::Text(decision.as_str().into()),
                Bind::Text(note.clone()),
                Bind::Int(user.id.get()),
            ];
            if action == CaseAction::Decide {
                binds.push(Bind::Int(now));
                binds.push(Bind::Text(today.to_string()));
            }
            let mut text = format!("{}{}{}", decision.label(), if note.is_empty() { "" } else { "：" }, note);
            if let Some((fen, _)) = &fee {
                text.push_str(&format!("；应收费用 {}", yuan(*fen)));
            }
            advance(&mut tx, &case, user, action, (set, binds), &text, now).await?;
            charge(&mut tx, case.id, fee.as_ref(), now).await?;
            if action == CaseAction::Decide {
                finished(&mut tx, case.id, now).await?;
            }
            load(&mut tx, case.id).await
        })
    })
    .await
}

/// 首席代表 signs the proposed decision, or sends it back.
pub async fn sign(
    app: &App,
    user: &CurrentUser,
    number: &str,
    approve: bool,
    note: &str,
) -> Outcome {
    let note = note.trim().to_owned();
    if !approve && note.is_empty() {
        return Err(AppError::invalid_field("note", "退回须写明理由"));
    }
    let today = crate::timetable::today(app);
    on_case(app, user, number, |mut tx, case, now| {
        Box::pin(async move {
            allow(
                policy::is_chief_representative(user, case.deciding_center().get()),
                "只有本中心的首席代表可以签批",
            )?;
            if approve {
                let set = (
                    ", decided_at = $3, decided_on = $4",
                    vec![Bind::Int(now), Bind::Text(today.to_string())],
                );
                advance(&mut tx, &case, user, CaseAction::Sign, set, &note, now).await?;
                finished(&mut tx, case.id, now).await?;
            } else {
                let set = (", decision = ''", vec![]);
                advance(&mut tx, &case, user, CaseAction::SendBack, set, &note, now).await?;
                charge(&mut tx, case.id, None, now).await?;
            }
            load(&mut tx, case.id).await
        })
    })
    .await
}

/// 出件: the result handed over (identity checked) or posted with a tracking number.
pub async fn issue(app: &App, user: &CurrentUser, number: &str, input: &IssueInput) -> Outcome {
    let delivery = Delivery::parse(input.delivery.trim())
        .ok_or_else(|| AppError::invalid_field("delivery", "请选择窗口领取或邮寄送达"))?;
    on_case(app, user, number, |mut tx, case, now| {
        Box::pin(async move {
            allow(
                policy::can_take_in(user, case.center_id.get()),
                "只有本中心的窗口工作人员可以出件",
            )?;
            if let Some(f) = fee(&mut tx, case.id).await?
                && !f.paid()
                && case.state.allows(CaseAction::Issue)
            {
                return Err(AppError::InvalidState(format!(
                    "尚未缴纳费用 {}，缴费后才能出件",
                    f.amount_text()
                )));
            }
            let (tracking, note) = match delivery {
                Delivery::Onsite => {
                    let raw = input.id_card.as_deref().unwrap_or("");
                    let id = identity::check_id_card(raw)
                        .map_err(|m| AppError::invalid_field("id_card", format!("领取人{m}")))?;
                    let applicant =
                        case.applicant_kind == ApplicantKind::Person && id == case.applicant_no;
                    let agent = !case.agent_id_card.is_empty() && id == case.agent_id_card;
                    if !applicant && !agent {
                        return Err(AppError::invalid_field(
                            "id_card",
                            "领取人身份与申请人或登记的代办人不一致",
                        ));
                    }
                    (
                        String::new(),
                        format!("窗口领取，领取人 {}", identity::mask_number(&id)),
                    )
                }
                Delivery::Post => {
                    let t = input.tracking_no.as_deref().unwrap_or("").trim().to_owned();
                    if t.is_empty() || t.len() > 40 || !t.bytes().all(|b| b.is_ascii_alphanumeric())
                    {
                        return Err(AppError::invalid_field(
                            "tracking_no",
                            "请填写邮件号（字母和数字）",
                        ));
                    }
                    (t.clone(), format!("政务专递，邮件号 {t}"))
                }
            };
            let set = (
                ", delivery = $3, tracking_no = $4, closed_at = $5",
                vec![
                    Bind::Text(delivery.as_str().into()),
                    Bind::Text(tracking),
                    Bind::Int(now),
                ],
            );
            let case = advance(&mut tx, &case, user, CaseAction::Issue, set, &note, now).await?;
            if delivery == Delivery::Post {
                crate::cases::messages::posted(&mut tx, &case, &case.tracking_no, now).await?;
            }
            Ok(case)
        })
    })
    .await
}
