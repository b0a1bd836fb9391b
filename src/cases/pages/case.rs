//! A case's page: its materials, history and notices, and the steps its state and the viewer's
//! role allow.

use super::*;

#[derive(Template)]
#[template(path = "cases/case.html")]
pub(super) struct CasePage {
    chrome: Chrome,
    f: Full,
    ok: Option<String>,
    error: Option<String>,
    /// What the viewer may do now.
    can_intake: bool,
    can_decide: bool,
    can_accept: bool,
    can_suspend: bool,
    can_grant: bool,
    can_sign: bool,
    can_opine: bool,
    /// A 上报件 may be forwarded now.
    can_report: bool,
    /// The clerk's proposed 一次性告知: the materials marked missing.
    missing_draft: String,
    /// The review points with their keys and whether they are ticked.
    points: Vec<(String, String, bool)>,
    supply_by: String,
}

impl CasePage {
    fn applicant_no(&self) -> String {
        self.f.case.applicant_no.clone()
    }
    fn warning(&self) -> Option<&'static str> {
        crate::cases::api::warning_today(&self.f.case, self.f.today)
    }
    fn has_pending_extension(&self) -> bool {
        self.f.extensions.iter().any(|e| e.state == "requested")
    }
    fn has_approved_extension(&self) -> bool {
        self.f.extensions.iter().any(|e| e.state == "approved")
    }
    fn state(&self) -> CaseState {
        self.f.case.state
    }
    fn is(&self, s: &str) -> bool {
        self.f.case.state.as_str() == s
    }
    fn tolerable_missing(&self) -> Vec<&queries::CaseMaterial> {
        self.f
            .materials
            .iter()
            .filter(|m| m.tolerable != 0 && m.state == MaterialState::Missing)
            .collect()
    }
    fn to_supply(&self) -> Vec<&queries::CaseMaterial> {
        self.f
            .materials
            .iter()
            .filter(|m| matches!(m.state, MaterialState::Tolerated | MaterialState::Missing))
            .collect()
    }
    fn decision_label(&self) -> &'static str {
        self.f
            .case
            .decision()
            .map_or("", crate::cases::Decision::label)
    }
    fn phone(&self) -> &str {
        &self.f.case.applicant_phone
    }
    fn open_tasks(&self) -> Vec<&service::Task> {
        self.f.tasks.iter().filter(|t| !t.done()).collect()
    }
    fn fee_due(&self) -> bool {
        self.f.fee.as_ref().is_some_and(|f| !f.paid())
    }
    fn elderly(&self) -> bool {
        service::elderly(&self.f.case, self.f.today)
    }
}

/// "县税务局 5" per line: a co-department and its step limit in working days.
fn joint_lines(text: &str) -> Vec<service::TaskInput> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let l = l
                .trim_end_matches(['日', '天'])
                .trim_end_matches("个工作")
                .trim();
            match l.rsplit_once([' ', '，', ',', '\t', '：', ':']) {
                Some((dept, days)) => service::TaskInput {
                    department: dept.trim().to_owned(),
                    days: days.trim().parse().unwrap_or(0),
                },
                None => service::TaskInput {
                    department: l.to_owned(),
                    days: 0,
                },
            }
        })
        .collect()
}

/// The fee typed in 元 on the decision form: empty for the standard's amount.
fn fee_field(text: &str) -> Option<i64> {
    let t = text.trim().trim_end_matches('元').trim();
    if t.is_empty() {
        return None;
    }
    Some(service::parse_fen(t).unwrap_or(-1))
}

pub(super) async fn case_page(
    app: &App,
    user: CurrentUser,
    csrf: CsrfToken,
    number: &str,
    ok: Option<String>,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let f = service::get(app, &user, number).await?;
    let center = f.case.center_id.get();
    let immediate = f.case.kind == CaseKind::Immediate;
    let missing_draft = f
        .materials
        .iter()
        .filter(|m| m.state == MaterialState::Missing)
        .map(|m| format!("{}（{}，{} 份）", m.name, m.form_label(), m.copies))
        .collect::<Vec<_>>()
        .join("\n");
    let (sit_form, sit_content) = {
        let sit = service::situation_for_form(app, &f.matter_code).await.ok();
        sit.map(|s| (s.input.review_form, s.input.review_content))
            .unwrap_or_default()
    };
    let ticked = f.case.ticked();
    let mut points = Vec::new();
    for (kind, list) in [("form", &sit_form), ("content", &sit_content)] {
        for (i, text) in list.iter().enumerate() {
            let key = format!("{kind}:{}", i + 1);
            let on = ticked.contains(&key);
            points.push((key, text.clone(), on));
        }
    }
    let table = crate::timetable::holiday_table(app).await?;
    let supply_by = table
        .deadline(f.today, 5, &[], None)
        .map(|d| d.due.to_string())
        .unwrap_or_default();
    let deciding = f.case.deciding_center().get();
    let page = CasePage {
        can_report: f.case.kind == CaseKind::Reported
            && f.case.reported_to.is_none()
            && f.case.state == CaseState::Accepted
            && policy::can_take_in(&user, center),
        can_intake: policy::can_take_in(&user, center),
        can_decide: policy::can_decide(&user, deciding, immediate)
            && !(f.case.kind == CaseKind::Reported && f.case.reported_to.is_none()),
        can_accept: if f.case.collect_only != 0 {
            policy::can_accept_collected(&user, center)
        } else {
            policy::can_take_in(&user, center)
        },
        can_suspend: policy::can_approve(&user, deciding),
        can_grant: policy::can_grant_extension(&user, deciding),
        can_sign: policy::is_chief_representative(&user, deciding),
        can_opine: policy::can_give_opinion(&user, center),
        chrome: Chrome::new(Some(user), csrf),
        f,
        ok,
        missing_draft,
        points,
        supply_by,
        error: error.as_ref().map(|e| e.1.clone()),
    };
    render_after(error.map(|e| e.0), &page)
}

pub(super) async fn show(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path(number): Path<String>,
    Query(q): Query<Flash>,
) -> PageResult {
    case_page(&app, user, csrf, &number, q.ok, None).await
}

/// One step from the case page: `action` names the use case.
pub(super) async fn act(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path((number, action)): Path<(String, String)>,
    form: Fields,
) -> PageResult {
    let result = match action.as_str() {
        "accept" => {
            let input = service::AcceptInput {
                tolerated: positions(&form, "tolerated"),
                supply_by: Some(form.get("supply_by").to_owned()),
                commitment: form.checked("commitment"),
                fast_track: Some(form.get("fast_track").to_owned()),
                kind: Some(form.get("kind").to_owned()),
                joint: joint_lines(form.get("joint")),
            };
            service::accept(&app, &user, &number, &input)
                .await
                .map(|_| "已受理，可打印受理通知书")
        }
        "notify-missing" => {
            let items: Vec<String> = form.get("items").lines().map(str::to_owned).collect();
            service::notify_missing(&app, &user, &number, &items)
                .await
                .map(|_| "已一次性告知，可打印补正告知书")
        }
        "refuse" => service::refuse(&app, &user, &number, form.get("reason"), form.get("basis"))
            .await
            .map(|_| "已不予受理，并登记否定报备"),
        "decide" => {
            let input = service::DecideInput {
                decision: form.get("decision").to_owned(),
                note: form.get("note").to_owned(),
                fee_fen: fee_field(form.get("fee")),
            };
            service::decide(&app, &user, &number, &input)
                .await
                .map(|_| "已作出决定")
        }
        "sign" => service::sign(
            &app,
            &user,
            &number,
            form.get("approve") == "1",
            form.get("note"),
        )
        .await
        .map(|_| "已签批"),
        "suspend" => {
            let input = service::SuspendInput {
                reason: form.get("reason").to_owned(),
                note: form.get("note").to_owned(),
            };
            service::suspend(&app, &user, &number, &input)
                .await
                .map(|_| "已中止计时")
        }
        "resume" => service::resume(&app, &user, &number)
            .await
            .map(|_| "已恢复计时，到期日已重新计算"),
        "extend" => {
            let input = service::ExtendInput {
                days: form.get("days").trim().parse().unwrap_or(0),
                reason: form.get("reason").to_owned(),
            };
            service::request_extension(&app, &user, &number, &input)
                .await
                .map(|_| "已提交延期申请")
        }
        "grant" => service::decide_extension(&app, &user, &number, form.get("approve") == "1")
            .await
            .map(|_| "已处理延期申请"),
        "issue" => {
            let input = service::IssueInput {
                delivery: form.get("delivery").to_owned(),
                id_card: Some(form.get("id_card").to_owned()),
                tracking_no: Some(form.get("tracking_no").to_owned()),
            };
            service::issue(&app, &user, &number, &input)
                .await
                .map(|_| "已出件")
        }
        "supply" => service::supply(
            &app,
            &user,
            &number,
            form.get("position").parse().unwrap_or(0),
        )
        .await
        .map(|_| "已登记补交材料"),
        "task" => {
            let input = service::TaskDoneInput {
                department: form.get("department").to_owned(),
                opinion: form.get("opinion").to_owned(),
            };
            service::finish_task(&app, &user, &number, &input)
                .await
                .map(|_| "协办环节已办结")
        }
        "report" => service::report(&app, &user, &number, form.get("note"))
            .await
            .map(|_| "已连同材料上报上级中心"),
        "pay" => {
            let input = service::PayInput {
                method: form.get("method").to_owned(),
                receipt: form.get("receipt").to_owned(),
            };
            service::pay(&app, &user, &number, &input)
                .await
                .map(|_| "已登记缴费")
        }
        "opinion" => service::refusal_opinion(&app, &user, &number, form.get("opinion"))
            .await
            .map(|_| "已签署意见"),
        _ => Err(AppError::NotFound("没有这个操作".into())),
    };
    match result {
        Ok(msg) => done(&format!("/cases/{number}"), msg),
        Err(e) => {
            let refusal = shown_refusal(e)?;
            case_page(&app, user, csrf, &number, None, Some(refusal)).await
        }
    }
}

pub(super) async fn notice(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    headers: HeaderMap,
    Path((number, kind)): Path<(String, String)>,
) -> PageResult {
    Ok(crate::cases::api::notice_pdf(&app, &user, &headers, &number, &kind).await?)
}
