//! Auth's use cases: signing in (with the lockout) and out, and API tokens. Each decides,
//! then writes in one transaction through [`super::queries`]; the API and the pages both
//! call them.

use super::{CurrentUser, SESSION_COOKIE, policy, queries, random_hex, secret_hash, tokens};
use crate::{
    app::App,
    audit::{self, Actor},
    error::{AppError, AppResult},
    ids::TokenId,
};

/// Refuses the token pages to anyone but a system admin.
pub fn require_token_admin(user: &CurrentUser) -> AppResult<()> {
    if policy::is_admin(user) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "只有系统管理员可以管理 API 令牌".into(),
        ))
    }
}

/// Creates an API token for `login` (the user's own when `None`); only a system admin may
/// create one for someone else. Returns the secret, shown once.
pub async fn create_token(
    app: &App,
    user: &CurrentUser,
    login: Option<&str>,
    name: &str,
) -> AppResult<String> {
    let login = match login {
        Some(l) if l != user.login => {
            if !policy::is_admin(user) {
                return Err(AppError::Forbidden(
                    "只有系统管理员可以为他人创建令牌".into(),
                ));
            }
            l
        }
        _ => user.login.as_str(),
    };
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                tokens::create(
                    &mut tx,
                    &Actor::from(user),
                    login,
                    name,
                    app.clock.now_micros(),
                )
                .await
            })
        })
        .await
}

/// Revokes a token (system admin); revoking twice is harmless.
pub async fn revoke_token(app: &App, user: &CurrentUser, id: TokenId) -> AppResult<()> {
    require_token_admin(user)?;
    let mut tx = app.db.begin().await?;
    tokens::revoke(
        &mut tx,
        &Actor::from(user),
        id.get(),
        app.clock.now_micros(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The `client` of the account-wide count in `sign_in_attempts`.
const EVERY_ADDRESS: &str = "*";

const MINUTE: i64 = 60_000_000;

/// A client address as the lockout counts it: IPv4 as is, IPv6 by its /64 (one subscriber's
/// network; addresses within it cost an attacker nothing).
pub fn client_key(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// A login as the lockout counts it: trimmed and at most 64 characters (no account has a
/// longer one), whether or not an account has it.
fn login_key(login: &str) -> String {
    login.trim().chars().take(64).collect()
}

/// A lock that a counted attempt set, for the audit entry written if its password is wrong.
struct Lock {
    /// The client address, or [`EVERY_ADDRESS`].
    client: String,
    failures: i64,
    until: i64,
}

fn locked(message: &str, until: i64, now: i64) -> AppError {
    let secs = ((until - now).max(0) + 999_999) / 1_000_000;
    let minutes = ((secs + 59) / 60).max(1);
    AppError::Locked {
        message: message.replace("{minutes}", &minutes.to_string()),
        retry_after_secs: secs.max(1) as u64,
    }
}

/// Counts a sign-in attempt before its password is checked, for the pair (login, address)
/// and for the login over every address, in one transaction: a locked pair or account
/// refuses it (429) and counts nothing. Returns the locks this attempt set.
async fn count_attempt(app: &App, login: &str, client: &str, now: i64) -> AppResult<Vec<Lock>> {
    let lock_for = app.config.lockout_minutes.max(1) * MINUTE;
    let after = app.config.lockout_after.max(1);
    let account_after = app.config.lockout_account_after;
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                let mut locks = Vec::new();
                let Some(n) =
                    queries::count_attempt(&mut tx, login, client, now, i64::MIN, true).await?
                else {
                    let until = queries::locked_until(&mut tx, login, client).await?;
                    return Err(locked(
                        "该账号因连续登录失败已被锁定，请 {minutes} 分钟后再试，或请管理员重置密码",
                        until.unwrap_or(now),
                        now,
                    ));
                };
                if n >= after {
                    let until = now + lock_for;
                    queries::lock_attempts(&mut tx, login, client, until).await?;
                    locks.push(Lock {
                        client: client.to_owned(),
                        failures: n,
                        until,
                    });
                }
                // Over every address: forgotten after a quiet spell as long as an address's
                // lock, so one address alone (locked after `after` failures) never reaches
                // `account_after`.
                let forget_before = now - lock_for;
                let Some(total) =
                    queries::count_attempt(&mut tx, login, EVERY_ADDRESS, now, forget_before, false)
                        .await?
                else {
                    let until = queries::locked_until(&mut tx, login, EVERY_ADDRESS).await?;
                    // An error rolls back the count of the pair as well.
                    return Err(locked(
                        "该账号近期登录失败次数过多，已暂停登录，请 {minutes} 分钟后再试，或请管理员重置密码",
                        until.unwrap_or(now),
                        now,
                    ));
                };
                if account_after > 0 && total >= account_after {
                    let doublings = (total - account_after).min(20) as u32;
                    let wait = (MINUTE << doublings).min((lock_for / 2).max(MINUTE));
                    let until = now + wait;
                    queries::lock_attempts(&mut tx, login, EVERY_ADDRESS, until).await?;
                    locks.push(Lock {
                        client: EVERY_ADDRESS.to_owned(),
                        failures: total,
                        until,
                    });
                }
                Ok(locks)
            })
        })
        .await
}

/// Writes the audit entries of the locks a wrong password set, one per center of the account
/// (a login without an account: one for the system admin), so the hall manager sees them.
async fn record_locks(
    app: &App,
    login: &str,
    user_id: Option<i64>,
    client: &str,
    locks: &[Lock],
    now: i64,
) -> AppResult<()> {
    for lock in locks {
        tracing::warn!(
            login,
            client,
            scope = %lock.client,
            failures = lock.failures,
            "sign-in locked after repeated failures"
        );
    }
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                // Read for a login without an account too, so both take the same steps.
                let centers = queries::user_center_ids(&mut tx, user_id.unwrap_or(-1)).await?;
                let centers: Vec<Option<i64>> = if centers.is_empty() {
                    vec![None]
                } else {
                    centers.into_iter().map(Some).collect()
                };
                for lock in locks {
                    let scope = if lock.client == EVERY_ADDRESS {
                        "所有地址"
                    } else {
                        "该地址"
                    };
                    let after = serde_json::json!({
                        "client": client,
                        "scope": scope,
                        "failures": lock.failures,
                        "locked_until": crate::clock::format_local(lock.until),
                    });
                    for center in &centers {
                        audit::record(
                            &mut tx,
                            &Actor::system(),
                            "lock",
                            "sign_in",
                            login,
                            *center,
                            None,
                            Some(after.clone()),
                            now,
                        )
                        .await?;
                    }
                }
                Ok(())
            })
        })
        .await
}

/// Checks a login and password from `client`; on success opens a session and returns its
/// secret. The attempt is counted before the password is checked ([`count_attempt`]):
/// `lockout_after` failures in a row lock the login for that address for `lockout_minutes`,
/// and `lockout_account_after` failures from every address make the account back off. A
/// login without an account is counted, checked (against a decoy hash) and answered exactly
/// like one with an account.
pub async fn sign_in(
    app: &App,
    login: &str,
    plain: &str,
    client: std::net::IpAddr,
) -> AppResult<String> {
    let now = app.clock.now_micros();
    let refused = || AppError::Invalid("用户名或密码错误".into());
    let login = login_key(login);
    let client = client_key(client);
    let account = queries::account(app, &login).await?;
    let (user_id, hash, active) = match account {
        Some(a) => (Some(a.id), a.password_hash, a.active != 0),
        None => (None, app.decoy_hash.clone(), false),
    };
    // The permit first: a sign-in answered "busy" has not been counted.
    let permit = app.hashers.acquire().await?;
    let locks = count_attempt(app, &login, &client, now).await?;
    let ok = permit.verify(plain.to_owned(), hash).await?;
    let Some(user_id) = user_id.filter(|_| ok && active) else {
        if !locks.is_empty() {
            record_locks(app, &login, user_id, &client, &locks, now).await?;
        }
        return Err(refused());
    };
    let secret = random_hex(32);
    let expires_at = now + app.config.session_hours * 3_600_000_000;
    let mut tx = app.db.begin().await?;
    queries::forget_attempts(&mut tx, &login, &[&client, EVERY_ADDRESS]).await?;
    queries::delete_expired_sessions(&mut tx, now).await?;
    queries::insert_session(&mut tx, &secret_hash(&secret), user_id, now, expires_at).await?;
    tx.commit().await?;
    Ok(secret)
}

/// Ends the session whose cookie the request carries, if any.
pub async fn end_session(app: &App, headers: &axum::http::HeaderMap) -> AppResult<()> {
    let secret = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned());
    if let Some(s) = secret {
        let mut tx = app.db.begin().await?;
        queries::delete_session(&mut tx, &secret_hash(&s)).await?;
        tx.commit().await?;
    }
    Ok(())
}
