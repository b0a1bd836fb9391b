//! 收件 at the window: pick the situation, see its materials and review points, take the
//! applicant's data.

use super::*;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct NewQuery {
    center: String,
    window: String,
    ticket: String,
    situation: String,
}

/// A situation as the intake form shows it.
pub(super) struct Shown {
    code: String,
    name: String,
    materials: Vec<crate::catalog::Material>,
    form_points: Vec<String>,
    content_points: Vec<String>,
    kind: String,
    commitment: bool,
}

impl Shown {
    fn of(s: &Situation) -> Self {
        Self {
            code: s.code.clone(),
            name: s.name.clone(),
            materials: s.input.materials.clone(),
            form_points: s.input.review_form.clone(),
            content_points: s.input.review_content.clone(),
            kind: s.input.kind.clone(),
            commitment: s.input.notice_commitment,
        }
    }
    fn kind_label(&self) -> &'static str {
        CaseKind::parse(&self.kind).map_or("承诺件", CaseKind::label)
    }
}

/// A leaf matter a center's window may take in.
#[derive(sqlx::FromRow)]
pub(super) struct Option_ {
    code: String,
    name: String,
    department: String,
}

#[derive(Template)]
#[template(path = "cases/new.html")]
pub(super) struct NewPage {
    chrome: Chrome,
    centers: Vec<CenterChoice>,
    form: Fields,
    options: Vec<Option_>,
    shown: Option<Shown>,
    error: Option<String>,
}

impl NewPage {
    fn is_center(&self, code: &str) -> bool {
        self.form.get("center") == code
    }
    fn is_company(&self) -> bool {
        self.form.get("applicant_kind") == "company"
    }
    fn material_form(&self, form: &str) -> &'static str {
        match form {
            "original" => "原件",
            "copy" => "复印件",
            _ => "原件及复印件",
        }
    }
}

pub(super) async fn options(app: &App, center: &str) -> AppResult<Vec<Option_>> {
    Ok(sqlx::query_as(
        "select m.code, m.name, m.department from matters m join centers c on c.id = m.center_id \
         where c.code = $1 and m.node = 'matter' and m.outside = 0 \
         and not exists (select 1 from matters k where k.parent_id = m.id) \
         order by m.department, m.sort_order, m.id limit 2000",
    )
    .bind(center)
    .fetch_all(app.db.pool())
    .await?)
}

pub(super) fn fields_of(q: &NewQuery) -> Fields {
    Fields(vec![
        ("center".into(), q.center.clone()),
        ("window".into(), q.window.clone()),
        ("ticket".into(), q.ticket.clone()),
        ("situation".into(), q.situation.clone()),
    ])
}

pub(super) async fn new_page(
    app: &App,
    user: CurrentUser,
    csrf: CsrfToken,
    mut form: Fields,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let centers = my_centers(app, &user).await?;
    if form.get("center").is_empty()
        && let Some(c) = centers.first()
    {
        form.0.push(("center".into(), c.code.clone()));
    }
    let options = options(app, form.get("center")).await?;
    let code = form.get("situation").trim().to_owned();
    let mut problem = error.clone().map(|e| e.1);
    let shown = if code.is_empty() {
        None
    } else {
        match service::situation_for_form(app, &code).await {
            Ok(s) => Some(Shown::of(&s)),
            Err(e) => {
                problem.get_or_insert(e.public_message());
                None
            }
        }
    };
    let page = NewPage {
        chrome: Chrome::new(Some(user), csrf),
        centers,
        form,
        options,
        shown,
        error: problem,
    };
    render_after(error.map(|e| e.0), &page)
}

pub(super) async fn new_form(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Query(q): Query<NewQuery>,
) -> PageResult {
    new_page(&app, user, csrf, fields_of(&q), None).await
}

pub(super) async fn create(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    form: Fields,
) -> PageResult {
    let credit = form.get("applicant_kind") == "company";
    let no = form.get("applicant_no").to_owned();
    let input = service::IntakeInput {
        center: Some(form.get("center").to_owned()),
        situation: form.get("situation").to_owned(),
        applicant: service::ApplicantInput {
            name: form.get("applicant_name").to_owned(),
            id_card: (!credit).then(|| no.clone()),
            credit_code: credit.then(|| no.clone()),
            phone: Some(form.get("phone").to_owned()),
        },
        agent: Some(service::AgentInput {
            name: form.get("agent_name").to_owned(),
            id_card: form.get("agent_id_card").to_owned(),
        }),
        ticket: Some(form.get("ticket").to_owned()),
        window: Some(form.get("window").to_owned()),
        received: Some(positions(&form, "received")),
        checked: Some(form.all("checked")),
    };
    match service::intake(&app, &user, &input).await {
        Ok(case) => done(&format!("/cases/{}", case.number), "已收件，请作出受理决定"),
        Err(e) => {
            let refusal = shown_refusal(e)?;
            new_page(&app, user, csrf, form, Some(refusal)).await
        }
    }
}
