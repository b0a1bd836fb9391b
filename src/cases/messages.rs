//! What a case tells its applicant by SMS (seed 003 §(四)2(2): 缴费、办结 by 书面通知、电话或短信),
//! written to the outbox in the step's transaction (`booking::notify::outbox`). An applicant
//! without a phone number gets no message.

use super::Case;
use super::service::Fee;
use crate::booking::notify::{About, outbox};
use crate::db::Conn;
use crate::error::AppResult;

/// Writes the message `kind` to the outbox, its text from the names of the case's center and
/// matter; an applicant without a phone number gets none.
async fn send(
    conn: &mut Conn,
    case: &Case,
    kind: &str,
    now: i64,
    body: impl FnOnce(&str, &str) -> String,
) -> AppResult<()> {
    if case.applicant_phone.trim().is_empty() {
        return Ok(());
    }
    let (center, matter): (String, String) = sqlx::query_as(
        "select ce.name, m.name from centers ce, matters m where ce.id = $1 and m.id = $2",
    )
    .bind(case.center_id)
    .bind(case.matter_id)
    .fetch_one(&mut *conn)
    .await?;
    let body = body(&center, &matter);
    outbox(
        conn,
        case.center_id.get(),
        About::Case(case.id.get()),
        &case.applicant_phone,
        kind,
        &body,
        now,
    )
    .await
}

/// 办结: the decision, the fee to pay if any, and where to collect.
pub async fn decided(conn: &mut Conn, case: &Case, fee: Option<&Fee>, now: i64) -> AppResult<()> {
    let result = case.decision().map(|d| d.label()).unwrap_or("已作出决定");
    let pay = match fee {
        Some(f) => format!(
            "应缴费用 {}，请网上支付（老年人可在窗口以现金缴纳）后",
            f.amount_text()
        ),
        None => String::new(),
    };
    send(conn, case, "case_decided", now, |center, matter| {
        format!(
            "【{center}】您申请的“{matter}”（办件编号 {}）已办结，结果：{result}。请{pay}凭身份证到统一出件窗口领取，或申请邮寄送达。",
            case.number
        )
    })
    .await
}

/// 缴费: the payment received.
pub async fn paid(conn: &mut Conn, case: &Case, fee: &Fee, now: i64) -> AppResult<()> {
    send(conn, case, "case_paid", now, |center, _| {
        format!(
            "【{center}】已收到办件 {} 的费用 {}，凭证号 {}。请到统一出件窗口领取结果。",
            case.number,
            fee.amount_text(),
            fee.receipt
        )
    })
    .await
}

/// 政务专递: the result posted.
pub async fn posted(conn: &mut Conn, case: &Case, tracking: &str, now: i64) -> AppResult<()> {
    send(conn, case, "case_posted", now, |center, _| {
        format!(
            "【{center}】办件 {} 的结果已通过政务专递寄出，邮件号 {tracking}。",
            case.number
        )
    })
    .await
}
