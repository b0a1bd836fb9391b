//! Demo cases for a fresh demo hall, so every work list and the supervision page have
//! something to show: at 梅林镇, one case waiting for the intake decision, one in the back
//! office, one waiting for 补正, one refused (in the 否定报备登记表) and one waiting at the
//! issuance window. People are fictional; their numbers carry valid check digits.

use jiff::civil::date;

use super::service::{self, AcceptInput, ApplicantInput, DecideInput, IntakeInput};
use crate::app::App;
use crate::auth::extract::{AuthVia, load_user};
use crate::error::AppResult;
use crate::identity::make_id_card;

async fn user(app: &App, login: &str) -> AppResult<Option<crate::auth::CurrentUser>> {
    let id: Option<i64> = sqlx::query_scalar("select id from users where login = $1")
        .bind(login)
        .fetch_optional(app.db.pool())
        .await?;
    match id {
        Some(id) => load_user(app, id, AuthVia::Session).await,
        None => Ok(None),
    }
}

type Person = (&'static str, (i16, i8, i8), u16, &'static str);

/// The applicants: name, the birth day and sequence number of an ID card of region 360721,
/// and phone.
const PEOPLE: [Person; 5] = [
    ("王建明", (1978, 5, 17), 31, "13807970001"),
    ("李秀英", (1965, 11, 2), 42, "13807970002"),
    ("赵志刚", (1990, 1, 23), 15, "13807970003"),
    ("张丽", (1988, 7, 9), 26, "13807970004"),
    ("刘强", (1972, 3, 30), 57, "13807970005"),
];

/// Loads the demo cases once, into a demo hall that has none.
pub async fn load(app: &App) -> AppResult<()> {
    let existing: i64 = sqlx::query_scalar("select count(*) from cases")
        .fetch_one(app.db.pool())
        .await?;
    if existing > 0 {
        return Ok(());
    }
    let (Some(clerk), Some(approver)) = (user(app, "clerk7").await?, user(app, "approver").await?)
    else {
        return Ok(());
    };
    // Situations with materials that the clerk's window TY01 may accept.
    let codes: Vec<String> = sqlx::query_scalar(
        "select m.code from matters m join matter_windows mw on mw.matter_id = m.id \
         join windows w on w.id = mw.window_id join centers c on c.id = w.center_id \
         where c.code = 'GX-ML' and w.code = 'TY01' and mw.rights = 'accept' and m.node = 'matter' \
         and exists (select 1 from matter_materials mm where mm.matter_id = m.id) \
         order by m.id limit 5",
    )
    .fetch_all(app.db.pool())
    .await?;
    if codes.is_empty() {
        return Ok(());
    }
    let mut numbers = Vec::new();
    for (i, &(name, (y, m, d), seq, phone)) in PEOPLE.iter().enumerate() {
        let input = IntakeInput {
            center: Some("GX-ML".into()),
            situation: codes[i % codes.len()].clone(),
            applicant: ApplicantInput {
                name: name.into(),
                id_card: Some(make_id_card("360721", date(y, m, d), seq)),
                credit_code: None,
                phone: Some(phone.into()),
            },
            window: Some("TY01".into()),
            ..Default::default()
        };
        numbers.push(service::intake(app, &clerk, &input).await?.number);
    }
    let accept = AcceptInput::default();
    service::accept(app, &clerk, &numbers[1], &accept).await?;
    service::notify_missing(
        app,
        &clerk,
        &numbers[2],
        &[
            "申请人身份证明复印件（1 份）".into(),
            "申请表须由申请人本人签字".into(),
        ],
    )
    .await?;
    service::refuse(
        app,
        &clerk,
        &numbers[3],
        "申请事项依法不属于本机关职权范围",
        "",
    )
    .await?;
    service::accept(app, &clerk, &numbers[4], &accept).await?;
    let approve = DecideInput {
        decision: "approved".into(),
        note: "材料齐全，符合条件".into(),
        fee_fen: None,
    };
    service::decide(app, &approver, &numbers[4], &approve).await?;
    Ok(())
}
