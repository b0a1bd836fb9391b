//! The applicant's data checked field by field, and the per-person rules (黄牛) every booking
//! and every move to a new hour is held to.

use jiff::civil::Date;

use super::book::BookInput;
use crate::booking::{Person, Settings, queries};
use crate::db::{Backend, Conn, Tx};
use crate::error::{AppError, AppResult};
use crate::identity;
use crate::ids::BookingId;

/// A one-line text of `min` to `max` characters, trimmed, with no control characters.
pub(super) fn plain(
    field: &str,
    label: &str,
    text: &str,
    min: usize,
    max: usize,
) -> AppResult<String> {
    checked_text(field, label, text, (min, max), false)
}

/// A text of `min` to `max` characters, trimmed, with no control characters but, where
/// `lines` allows them, line breaks (kept as `\n`).
pub(in crate::booking) fn checked_text(
    field: &str,
    label: &str,
    text: &str,
    (min, max): (usize, usize),
    lines: bool,
) -> AppResult<String> {
    let t = text.trim();
    let n = t.chars().count();
    if n < min {
        return Err(AppError::invalid_field(field, format!("请填写{label}")));
    }
    if n > max {
        return Err(AppError::invalid_field(
            field,
            format!("{label}不能超过 {max} 个字"),
        ));
    }
    let line_break = |c: char| lines && (c == '\n' || c == '\r');
    if t.chars().any(|c| c.is_control() && !line_break(c)) {
        return Err(AppError::invalid_field(
            field,
            format!("{label}含有不可见的控制字符"),
        ));
    }
    Ok(if lines {
        t.replace("\r\n", "\n")
    } else {
        t.to_owned()
    })
}

/// A phone number: a mobile (11 digits from 1) or a landline with its area code.
pub fn check_phone(field: &str, text: &str) -> AppResult<String> {
    let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let ok = digits.bytes().all(|b| b.is_ascii_digit())
        && ((digits.len() == 11 && digits.starts_with('1'))
            || (digits.starts_with('0') && (10..=12).contains(&digits.len())));
    if digits.is_empty() {
        return Err(AppError::invalid_field(field, "请填写联系电话"));
    }
    if !ok {
        return Err(AppError::invalid_field(
            field,
            "联系电话须为 11 位手机号码，或带区号的固定电话",
        ));
    }
    Ok(digits)
}

pub(super) fn person(input: &BookInput) -> AppResult<Person> {
    let name = plain("name", "申请人姓名", &input.name, 1, 30)?;
    let phone = check_phone("phone", &input.phone)?;
    let id_card = identity::check_id_card(&input.id_card)
        .map_err(|m| AppError::invalid_field("id_card", m))?;
    let reason = plain("reason", "预约事由", &input.reason, 2, 200)?;
    let agent_name = plain("agent_name", "代理人姓名", &input.agent_name, 0, 30)?;
    let agent_phone = if agent_name.is_empty() {
        if !input.agent_phone.trim().is_empty() {
            return Err(AppError::invalid_field("agent_name", "请填写代理人姓名"));
        }
        String::new()
    } else {
        check_phone("agent_phone", &input.agent_phone)?
    };
    Ok(Person {
        name,
        phone,
        id_card,
        reason,
        agent_name,
        agent_phone,
    })
}

/// Serialises bookings of one person and of one phone (PostgreSQL), so the caps hold when one
/// person books from several tabs at once; SQLite's one writer serialises them already. Both
/// locks are taken in the same order by every booking, so two never wait for each other.
pub(super) async fn lock_person(
    tx: &mut Tx,
    backend: Backend,
    id_card: &str,
    phone: &str,
) -> AppResult<()> {
    if backend == Backend::Postgres {
        sqlx::query("select pg_advisory_xact_lock(7101, hashtext($1))")
            .bind(id_card)
            .execute(&mut **tx)
            .await?;
        sqlx::query("select pg_advisory_xact_lock(7102, hashtext($1))")
            .bind(phone)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The booking the fairness rules are checked for.
pub(super) struct Wanted {
    pub matter: crate::ids::MatterId,
    pub date: Date,
    pub online: bool,
    /// The booking being moved, which does not count against itself.
    pub except: Option<BookingId>,
}

/// The refusal of a second active booking of one ID number for one matter and day, whether
/// the count or the unique index finds it.
pub(super) fn one_a_day() -> AppError {
    AppError::Conflict("该身份证号当天已预约过此事项，同一事项每人每天只能保留一个预约".into())
}

/// The per-person rules (黄牛): one active booking per ID number, matter and day; at most
/// `max_per_person` and `max_per_phone` active bookings; no more online booking after
/// `no_show_limit` no-shows in 90 days.
pub(super) async fn fairness(
    conn: &mut Conn,
    settings: &Settings,
    p: &Person,
    w: Wanted,
    now: i64,
) -> AppResult<()> {
    let Wanted {
        matter,
        date,
        online,
        except,
    } = w;
    let except = except.map_or(0, |b| b.get());
    let c = queries::active_counts(conn, &p.id_card, &p.phone, matter, date, now, except).await?;
    if c.same_day > 0 {
        return Err(one_a_day());
    }
    // (field, whose, active bookings, cap), the ID number's first.
    let caps = [
        ("id_card", "该身份证号", c.person, settings.max_per_person),
        ("phone", "该手机号", c.phone, settings.max_per_phone),
    ];
    for (field, whose, active, cap) in caps {
        if active >= cap {
            return Err(AppError::invalid_field(
                field,
                format!("{whose}已有 {active} 个未到期的预约，最多可同时保留 {cap} 个"),
            ));
        }
    }
    if online && settings.no_show_limit > 0 {
        let since = now - 90 * 86_400 * 1_000_000;
        let n = queries::no_shows(conn, &p.id_card, since).await?;
        if n >= settings.no_show_limit {
            return Err(AppError::invalid_field(
                "id_card",
                format!("90 天内已有 {n} 次预约未到，暂停网上预约，请致电或到窗口预约"),
            ));
        }
    }
    Ok(())
}
