//! A/B posts (AB岗), R1.6: every window has an A and at least one B, so a window is never
//! left empty when its A is away. The admin page lists the posts that lack one.

use serde::Serialize;
use serde_json::json;

use crate::{
    audit::{self, Actor},
    auth::CurrentUser,
    db::Tx,
    error::{AppError, AppResult},
};

/// A or B.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub enum Post {
    A,
    B,
}

impl Post {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "A" | "a" => Some(Post::A),
            "B" | "b" => Some(Post::B),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Post::A => "A",
            Post::B => "B",
        }
    }
}

/// Who holds the posts of one window.
#[derive(Clone, Debug, Serialize)]
pub struct WindowPosts {
    pub window_code: String,
    pub window_name: String,
    pub active: bool,
    /// (login, name) of the A post.
    pub a: Option<(String, String)>,
    /// (login, name) of each B post.
    pub b: Vec<(String, String)>,
}

impl WindowPosts {
    /// The warning the page shows, if any.
    pub fn gap(&self) -> Option<&'static str> {
        match (self.a.is_some(), !self.b.is_empty()) {
            (false, false) => Some("缺少A岗和B岗"),
            (false, true) => Some("缺少A岗"),
            (true, false) => Some("缺少B岗"),
            (true, true) => None,
        }
    }

    pub fn b_names(&self) -> String {
        self.b
            .iter()
            .map(|(_, n)| n.as_str())
            .collect::<Vec<_>>()
            .join("、")
    }
}

/// A window as the posts overview reads it.
#[derive(sqlx::FromRow)]
struct WindowRow {
    id: i64,
    code: String,
    name: String,
    /// 0/1.
    active: i64,
}

/// Someone's post at a window.
#[derive(sqlx::FromRow)]
struct PostRow {
    window_id: i64,
    post: String,
    login: String,
    display_name: String,
}

/// Posts of every window of a center, by window code.
pub async fn of_center(pool: &sqlx::AnyPool, center_id: i64) -> AppResult<Vec<WindowPosts>> {
    let windows: Vec<WindowRow> = sqlx::query_as(
        "select id, code, name, active from windows where center_id = $1 order by code",
    )
    .bind(center_id)
    .fetch_all(pool)
    .await?;
    let posts: Vec<PostRow> = sqlx::query_as(
        "select p.window_id, p.post, u.login, u.display_name from window_posts p \
         join users u on u.id = p.user_id join windows w on w.id = p.window_id \
         where w.center_id = $1 order by u.login",
    )
    .bind(center_id)
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(windows.len());
    for w in windows {
        let mut wp = WindowPosts {
            window_code: w.code,
            window_name: w.name,
            active: w.active != 0,
            a: None,
            b: Vec::new(),
        };
        for p in posts.iter().filter(|p| p.window_id == w.id) {
            let holder = (p.login.clone(), p.display_name.clone());
            if p.post == "A" {
                wp.a = Some(holder);
            } else {
                wp.b.push(holder);
            }
        }
        out.push(wp);
    }
    Ok(out)
}

async fn ids(tx: &mut Tx, center_id: i64, window: &str, login: &str) -> AppResult<(i64, i64)> {
    let window_id: Option<i64> =
        sqlx::query_scalar("select id from windows where center_id = $1 and code = $2")
            .bind(center_id)
            .bind(window)
            .fetch_optional(&mut **tx)
            .await?;
    let window_id = window_id.ok_or_else(|| super::input::missing("编码", window, "窗口"))?;
    let user_id: Option<i64> = sqlx::query_scalar(
        "select u.id from users u join user_centers uc on uc.user_id = u.id \
         where u.login = $1 and uc.center_id = $2 and u.active = 1",
    )
    .bind(login)
    .bind(center_id)
    .fetch_optional(&mut **tx)
    .await?;
    let user_id = user_id.ok_or_else(|| {
        AppError::Invalid(format!(
            "“{}”不是本中心的在岗人员",
            crate::error::quote(login)
        ))
    })?;
    Ok((window_id, user_id))
}

/// Puts `login` on the A or B post of a window (replacing their previous post there).
/// A window has one A: assigning a second A is refused with the holder's name.
pub async fn assign(
    tx: &mut Tx,
    by: &CurrentUser,
    center_id: i64,
    window: &str,
    login: &str,
    post: Post,
    now: i64,
) -> AppResult<()> {
    let (window_id, user_id) = ids(tx, center_id, window, login).await?;
    if post == Post::A {
        let holder: Option<String> = sqlx::query_scalar(
            "select u.display_name from window_posts p join users u on u.id = p.user_id \
             where p.window_id = $1 and p.post = 'A' and p.user_id <> $2",
        )
        .bind(window_id)
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(h) = holder {
            return Err(AppError::Conflict(format!(
                "该窗口的A岗已由{h}担任，请先调整"
            )));
        }
    }
    let before: Option<String> =
        sqlx::query_scalar("select post from window_posts where window_id = $1 and user_id = $2")
            .bind(window_id)
            .bind(user_id)
            .fetch_optional(&mut **tx)
            .await?;
    sqlx::query(
        "insert into window_posts (window_id, user_id, post) values ($1, $2, $3) \
         on conflict (window_id, user_id) do update set post = excluded.post",
    )
    .bind(window_id)
    .bind(user_id)
    .bind(post.as_str())
    .execute(&mut **tx)
    .await?;
    audit::record(
        tx,
        &Actor::from(by),
        "assign",
        "window_post",
        &format!("{window}/{login}"),
        Some(center_id),
        before.map(|p| json!({"post": p})),
        Some(json!({"post": post.as_str()})),
        now,
    )
    .await
}

/// Takes `login` off their post at a window.
pub async fn remove(
    tx: &mut Tx,
    by: &CurrentUser,
    center_id: i64,
    window: &str,
    login: &str,
    now: i64,
) -> AppResult<()> {
    let (window_id, user_id) = ids(tx, center_id, window, login).await?;
    let before: Option<String> = sqlx::query_scalar(
        "delete from window_posts where window_id = $1 and user_id = $2 returning post",
    )
    .bind(window_id)
    .bind(user_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(before) = before else {
        return Err(AppError::NotFound(format!(
            "“{}”在该窗口没有岗位",
            crate::error::quote(login)
        )));
    };
    audit::record(
        tx,
        &Actor::from(by),
        "remove",
        "window_post",
        &format!("{window}/{login}"),
        Some(center_id),
        Some(json!({"post": before})),
        None,
        now,
    )
    .await
}

/// A system admin may act at any window (support); anyone else only where they hold a post.
pub async fn may_act_at(
    pool: &sqlx::AnyPool,
    user: &CurrentUser,
    window_id: i64,
) -> AppResult<bool> {
    if crate::auth::policy::can_act_at_window(user, false) {
        return Ok(true);
    }
    let n: i64 = sqlx::query_scalar(
        "select count(*) from window_posts where window_id = $1 and user_id = $2",
    )
    .bind(window_id)
    .bind(user.id)
    .fetch_one(pool)
    .await?;
    Ok(crate::auth::policy::can_act_at_window(user, n > 0))
}
