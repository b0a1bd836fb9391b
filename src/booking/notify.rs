//! Messages to citizens: an outbox (`notifications`) written in the transaction of the change
//! that causes the message, sent by a `notify.send` job through the server's [`SmsSender`], with
//! each message's delivery status kept. The built-in [`LogSender`] writes the message to the log
//! (and the outbox page shows it), so a hall plugs in its SMS provider by implementing the trait.
//!
//! Two more jobs per confirmed booking: `booking.remind` the afternoon before (提醒), and
//! `booking.no_show` when the grace time after the hour has passed (爽约). Both read the
//! booking as it is then, so a cancelled or moved booking makes them do nothing.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Appointment, BookingState, Settings, queries};
use crate::app::App;
use crate::db::{Conn, Micros};
use crate::error::AppResult;
use crate::ids::BookingId;

pub const SEND: &str = "notify.send";
pub const REMIND: &str = "booking.remind";
pub const NO_SHOW: &str = "booking.no_show";

/// Sends one text message. Implement it for the hall's SMS provider.
pub trait SmsSender: Send + Sync + std::fmt::Debug + 'static {
    /// Sends `body` to `phone`; `Err` carries the provider's reason (retried with backoff).
    fn send<'a>(
        &'a self,
        phone: &'a str,
        body: &'a str,
    ) -> futures_util::future::BoxFuture<'a, Result<(), String>>;
    /// The sender's name on the outbox page.
    fn name(&self) -> &'static str;
}

/// Writes each message to the log: the default where no provider is configured.
#[derive(Debug)]
pub struct LogSender;

impl SmsSender for LogSender {
    fn send<'a>(
        &'a self,
        phone: &'a str,
        body: &'a str,
    ) -> futures_util::future::BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            tracing::info!(target: "sms", to = %crate::identity::mask_phone(phone), %body, "message");
            Ok(())
        })
    }

    fn name(&self) -> &'static str {
        "日志（未接入短信平台）"
    }
}

/// What a message says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message {
    Received,
    Confirmed,
    Refused,
    Cancelled,
    Reminder,
}

impl Message {
    pub fn kind(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Confirmed => "confirmed",
            Self::Refused => "refused",
            Self::Cancelled => "cancelled",
            Self::Reminder => "reminder",
        }
    }
}

/// The text of a message about `a`.
pub fn text(a: &Appointment, center: &str, matter: &str, kind: Message) -> String {
    let (code, start, end) = (&a.code, &a.start, &a.slot_end);
    let when = format!("{} {start}-{end}", a.service_date);
    match kind {
        Message::Received => {
            format!(
                "【{center}】已收到您{when}办理“{matter}”的预约申请（预约码 {code}），今天内答复。"
            )
        }
        Message::Confirmed => format!(
            "【{center}】您已预约{when}办理“{matter}”，预约码 {code}。请携带身份证和申请材料，凭预约码或身份证签到取号。"
        ),
        Message::Refused => format!(
            "【{center}】很抱歉，您{when}办理“{matter}”的预约未获同意：{}。如有疑问请致电咨询。",
            a.refusal_reason
        ),
        Message::Cancelled => format!("【{center}】您{when}办理“{matter}”的预约（{code}）已取消。"),
        Message::Reminder => format!(
            "【{center}】提醒：您预约了明天{start}-{end}办理“{matter}”，预约码 {code}，请按时到达签到。"
        ),
    }
}

#[derive(Serialize, Deserialize)]
struct SendPayload {
    id: i64,
}

#[derive(Serialize, Deserialize)]
struct BookingPayload {
    booking: BookingId,
    /// The hour the job was made for: a moved booking makes an old job do nothing.
    starts_at: i64,
}

/// What an outbox message is about: the column of `notifications` that links it.
#[derive(Clone, Copy, Debug)]
pub enum About {
    Appointment(i64),
    HomeVisit(i64),
    Case(i64),
}

/// Writes one message to the outbox and enqueues its sending, in the caller's transaction:
/// the one way any area tells a citizen something (预约、上门服务、办件的缴费和办结).
pub async fn outbox(
    tx: &mut Conn,
    center: i64,
    about: About,
    phone: &str,
    kind: &str,
    body: &str,
    now: i64,
) -> AppResult<()> {
    let (column, link) = match about {
        About::Appointment(id) => ("appointment_id", id),
        About::HomeVisit(id) => ("home_visit_id", id),
        About::Case(id) => ("case_id", id),
    };
    let sql = format!(
        "insert into notifications (center_id, {column}, phone, kind, body, state, created_at) \
         values ($1, $2, $3, $4, $5, 'pending', $6) returning id"
    );
    let id: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(center)
        .bind(link)
        .bind(phone)
        .bind(kind)
        .bind(body)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
    crate::jobs::enqueue(tx, SEND, &SendPayload { id }, Micros(now), Micros(now)).await?;
    Ok(())
}

/// Writes a message about a booking to the outbox, in the caller's transaction.
pub async fn queue(
    tx: &mut Conn,
    a: &Appointment,
    center: &str,
    matter: &str,
    kind: Message,
    now: i64,
) -> AppResult<()> {
    let body = text(a, center, matter, kind);
    outbox(
        tx,
        a.center_id.get(),
        About::Appointment(a.id.get()),
        &a.person.phone,
        kind.kind(),
        &body,
        now,
    )
    .await
}

/// Writes a message about a home visit to the outbox, in the caller's transaction.
pub async fn queue_home_visit(
    tx: &mut Conn,
    v: &super::home::HomeVisit,
    kind: &str,
    body: &str,
    now: i64,
) -> AppResult<()> {
    outbox(
        tx,
        v.center_id.get(),
        About::HomeVisit(v.id.get()),
        &v.phone,
        kind,
        body,
        now,
    )
    .await
}

/// The reminder (16:00 the day before, if that is still ahead) and the no-show check of a
/// confirmed booking.
pub async fn schedule_followups(
    tx: &mut Conn,
    a: &Appointment,
    settings: &Settings,
    now: i64,
) -> AppResult<()> {
    let payload = BookingPayload {
        booking: a.id,
        starts_at: a.starts_at.get(),
    };
    if let Ok(eve) = a.service_date.date().yesterday() {
        let at = super::service::instant(eve, jiff::civil::Time::constant(16, 0, 0, 0));
        if at.get() > now {
            crate::jobs::enqueue(tx, REMIND, &payload, at, Micros(now)).await?;
        }
    }
    let check = a.starts_at.get() + (settings.grace_minutes + 1) * 60_000_000;
    crate::jobs::enqueue(tx, NO_SHOW, &payload, Micros(check), Micros(now)).await?;
    Ok(())
}

/// Sends one outbox message; a failure is kept on the message and retried by the runner.
pub async fn send(app: &App, id: i64) -> Result<(), String> {
    let row: Option<(String, String, String)> =
        sqlx::query_as("select phone, body, state from notifications where id = $1")
            .bind(id)
            .fetch_optional(app.db.pool())
            .await
            .map_err(|e| e.to_string())?;
    let Some((phone, body, state)) = row else {
        return Ok(());
    };
    if state == "sent" {
        return Ok(());
    }
    let now = app.clock.now_micros();
    let result = app.sms.send(&phone, &body).await;
    let (state, error) = match &result {
        Ok(()) => ("sent", String::new()),
        Err(e) => ("failed", e.clone()),
    };
    sqlx::query(
        "update notifications set state = $1, error = $2, attempts = attempts + 1, \
         sent_at = case when $1 = 'sent' then $3 else sent_at end where id = $4",
    )
    .bind(state)
    .bind(&error)
    .bind(now)
    .bind(id)
    .execute(app.db.pool())
    .await
    .map_err(|e| e.to_string())?;
    result
}

async fn remind(app: &App, p: BookingPayload) -> AppResult<()> {
    let mut conn = app.db.pool().acquire().await?;
    let Some(a) = queries::by_id(&mut conn, p.booking).await? else {
        return Ok(());
    };
    if a.state != BookingState::Confirmed || a.starts_at.get() != p.starts_at {
        return Ok(());
    }
    let (center, matter) = queries::names(&mut conn, &a).await?;
    drop(conn);
    let now = app.clock.now_micros();
    let (a, center, matter) = (&a, &center, &matter);
    app.db
        .transaction(|mut tx| {
            Box::pin(async move { queue(&mut tx, a, center, matter, Message::Reminder, now).await })
        })
        .await
}

/// Registers the jobs with the runner.
pub fn register(jobs: &crate::jobs::Jobs) {
    jobs.register(SEND, |app: Arc<App>, run| async move {
        let p: SendPayload =
            serde_json::from_value(run.payload).map_err(|e| format!("任务参数无效：{e}"))?;
        send(&app, p.id).await
    });
    jobs.register(REMIND, |app: Arc<App>, run| async move {
        let p: BookingPayload =
            serde_json::from_value(run.payload).map_err(|e| format!("任务参数无效：{e}"))?;
        remind(&app, p).await.map_err(|e| e.to_string())
    });
    jobs.register(NO_SHOW, |app: Arc<App>, run| async move {
        let p: BookingPayload =
            serde_json::from_value(run.payload).map_err(|e| format!("任务参数无效：{e}"))?;
        super::service::mark_no_show(&app, p.booking)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
}

/// One message as the outbox page shows it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Outgoing {
    pub id: i64,
    pub phone: String,
    pub kind: String,
    pub body: String,
    /// `pending`, `sent` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub error: String,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

/// The newest messages of some centers.
pub async fn recent(conn: &mut Conn, centers: &[i64], limit: i64) -> AppResult<Vec<Outgoing>> {
    if centers.is_empty() {
        return Ok(Vec::new());
    }
    let ids = centers
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select id, phone, kind, body, state, attempts, error, created_at, sent_at from notifications \
         where center_id in ({ids}) order by id desc limit $1"
    )))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?)
}
