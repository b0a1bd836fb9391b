//! Staff (工作人员) and their roles and centers, R1.5. Passwords are argon2id hashes.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    audited::{self, Audited},
    input,
};
use crate::{
    audit::Actor,
    auth::{CurrentUser, Role, password},
    db::Tx,
    error::{AppError, AppResult, conflict_on_duplicate},
};

/// A person as listed and edited.
#[derive(Clone, Debug, Serialize)]
pub struct Staff {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    pub employment: String,
    pub active: bool,
    pub roles: Vec<Role>,
    /// Codes of the centers the person belongs to.
    pub centers: Vec<String>,
    pub locked: bool,
}

impl Staff {
    pub fn role_labels(&self) -> String {
        Role::labels(&self.roles)
    }

    pub fn has_role(&self, r: &str) -> bool {
        self.roles.iter().any(|x| x.as_str() == r)
    }

    pub fn in_center(&self, code: &str) -> bool {
        self.centers.iter().any(|c| c == code)
    }

    pub fn employment_label(&self) -> &'static str {
        if self.employment == "purchased" {
            "购买服务"
        } else {
            "部门人员"
        }
    }
}

impl Audited for Staff {
    const ENTITY: &'static str = "staff";

    fn key(&self) -> &str {
        &self.login
    }

    fn snapshot(&self) -> serde_json::Value {
        json!({"login": self.login, "display_name": self.display_name, "employment": self.employment,
               "active": self.active, "roles": self.roles, "centers": self.centers})
    }
}

/// A row of `users` as staff lists read it.
#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    login: String,
    display_name: String,
    employment: String,
    /// 0/1.
    active: i64,
    locked_until: Option<i64>,
}

/// A role someone holds.
#[derive(sqlx::FromRow)]
struct RoleRow {
    user_id: i64,
    role: String,
}

/// A center someone belongs to, by code.
#[derive(sqlx::FromRow)]
struct CenterRow {
    user_id: i64,
    code: String,
}

/// `locked_until`: the latest lock of the login's sign-ins from any address
/// (`sign_in_attempts`, issue 14), so the list shows a lock however it came about.
const USER_COLUMNS: &str = "id, login, display_name, employment, active, \
     (select max(a.locked_until) from sign_in_attempts a where a.login = users.login) as locked_until";

/// A person from their row, with their roles and centers (in the order given).
fn assemble(u: UserRow, roles: &[RoleRow], centers: &[CenterRow], now: i64) -> Staff {
    Staff {
        id: u.id,
        login: u.login,
        display_name: u.display_name,
        employment: u.employment,
        active: u.active != 0,
        roles: roles
            .iter()
            .filter(|r| r.user_id == u.id)
            .filter_map(|r| Role::parse(&r.role))
            .collect(),
        centers: centers
            .iter()
            .filter(|r| r.user_id == u.id)
            .map(|r| r.code.clone())
            .collect(),
        locked: u.locked_until.is_some_and(|t| t > now),
    }
}

/// Loads people, optionally only those of one center; `now` decides whether a lock holds.
pub async fn list(db: &sqlx::AnyPool, center_id: Option<i64>, now: i64) -> AppResult<Vec<Staff>> {
    let users: Vec<UserRow> = match center_id {
        Some(c) => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select {USER_COLUMNS} from users \
                 where exists (select 1 from user_centers uc where uc.user_id = users.id and uc.center_id = $1) \
                 order by login"
            )))
            .bind(c)
            .fetch_all(db)
            .await?
        }
        None => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select {USER_COLUMNS} from users order by login"
            )))
            .fetch_all(db)
            .await?
        }
    };
    let roles: Vec<RoleRow> = sqlx::query_as("select user_id, role from user_roles")
        .fetch_all(db)
        .await?;
    let centers: Vec<CenterRow> = sqlx::query_as(
        "select uc.user_id, c.code from user_centers uc join centers c on c.id = uc.center_id order by c.code",
    )
    .fetch_all(db)
    .await?;
    Ok(users
        .into_iter()
        .map(|u| assemble(u, &roles, &centers, now))
        .collect())
}

/// One person by login.
pub async fn by_login(tx: &mut Tx, login: &str, now: i64) -> AppResult<Staff> {
    let id: Option<i64> = sqlx::query_scalar("select id from users where login = $1")
        .bind(login)
        .fetch_optional(&mut **tx)
        .await?;
    let id = id.ok_or_else(|| input::missing("登录名", login, "人员"))?;
    load_one(tx, id, now).await
}

async fn load_one(tx: &mut Tx, id: i64, now: i64) -> AppResult<Staff> {
    let u: UserRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {USER_COLUMNS} from users where id = $1"
    )))
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    let roles: Vec<RoleRow> =
        sqlx::query_as("select user_id, role from user_roles where user_id = $1 order by role")
            .bind(id)
            .fetch_all(&mut **tx)
            .await?;
    let centers: Vec<CenterRow> = sqlx::query_as(
        "select uc.user_id, c.code from user_centers uc join centers c on c.id = uc.center_id where uc.user_id = $1 order by c.code",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(assemble(u, &roles, &centers, now))
}

/// A person as submitted by an admin page or the API.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct StaffInput {
    pub login: Option<String>,
    pub display_name: String,
    #[serde(default)]
    pub employment: Option<String>,
    pub roles: Vec<Role>,
    /// Codes of the person's centers.
    pub centers: Vec<String>,
    #[serde(default = "yes")]
    pub active: bool,
    /// A new password; generated when creating without one.
    #[serde(default)]
    pub password: Option<String>,
}

fn yes() -> bool {
    true
}

struct Parsed {
    display_name: String,
    employment: &'static str,
    center_ids: Vec<(i64, String)>,
}

/// `by` is `None` for the console and the demo loader, which act as the system.
async fn parse(tx: &mut Tx, by: Option<&CurrentUser>, s: &StaffInput) -> AppResult<Parsed> {
    let is_admin = by.is_none_or(CurrentUser::is_admin);
    let display_name = input::name(&s.display_name, "姓名")?;
    let employment = match s.employment.as_deref().map(str::trim) {
        None | Some("") | Some("department") => "department",
        Some("purchased") => "purchased",
        Some(_) => {
            return Err(AppError::Invalid(
                "用工方式须为 department（部门人员）或 purchased（购买服务）".into(),
            ));
        }
    };
    if s.roles.is_empty() {
        return Err(AppError::Invalid("至少选择一个角色".into()));
    }
    if s.roles.contains(&Role::SystemAdmin) && !is_admin {
        return Err(AppError::Forbidden(
            "只有系统管理员可以授予系统管理员角色".into(),
        ));
    }
    if s.centers.is_empty() && !s.roles.contains(&Role::SystemAdmin) {
        return Err(AppError::Invalid("至少选择一个所属中心".into()));
    }
    let mut center_ids = Vec::new();
    for code in &s.centers {
        let c = super::centers::by_code(&mut **tx, code.trim())
            .await
            .map_err(|_| AppError::Invalid(format!("中心“{}”不存在", crate::error::quote(code))))?;
        if by.is_some_and(|u| !u.can_manage_center(c.id)) {
            return Err(AppError::Forbidden(format!(
                "您不能管理中心“{}”的人员",
                c.name
            )));
        }
        if !center_ids.iter().any(|(id, _)| *id == c.id) {
            center_ids.push((c.id, c.code));
        }
    }
    Ok(Parsed {
        display_name,
        employment,
        center_ids,
    })
}

async fn write_links(
    tx: &mut Tx,
    user_id: i64,
    roles: &[Role],
    centers: &[(i64, String)],
) -> AppResult<()> {
    sqlx::query("delete from user_roles where user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("delete from user_centers where user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    for r in roles {
        sqlx::query(
            "insert into user_roles (user_id, role) values ($1, $2) on conflict do nothing",
        )
        .bind(user_id)
        .bind(r.as_str())
        .execute(&mut **tx)
        .await?;
    }
    for (c, _) in centers {
        sqlx::query("insert into user_centers (user_id, center_id) values ($1, $2)")
            .bind(user_id)
            .bind(c)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// A person's record may be changed by `by`: admins anyone; managers only people all of
/// whose centers they manage, and never a system admin.
fn may_edit(by: &CurrentUser, target: &Staff, target_center_ids: &[i64]) -> bool {
    by.is_admin()
        || (by.has_role(Role::HallManager)
            && !target.roles.contains(&Role::SystemAdmin)
            && target_center_ids.iter().all(|c| by.can_manage_center(*c)))
}

async fn center_ids_of(tx: &mut Tx, user_id: i64) -> AppResult<Vec<i64>> {
    Ok(
        sqlx::query_scalar("select center_id from user_centers where user_id = $1")
            .bind(user_id)
            .fetch_all(&mut **tx)
            .await?,
    )
}

/// Adds a person. Returns the record and the password (generated if none was given).
/// `password_hash` is computed by the caller off the async runtime.
pub async fn create(
    tx: &mut Tx,
    by: Option<&CurrentUser>,
    actor: &Actor,
    s: &StaffInput,
    password_hash: &str,
    now: i64,
) -> AppResult<Staff> {
    if by.is_some_and(|u| !u.is_manager()) {
        return Err(AppError::forbidden());
    }
    let login = input::login(s.login.as_deref().unwrap_or(""))?;
    let p = parse(tx, by, s).await?;
    let id: i64 = sqlx::query_scalar(
        "insert into users (login, display_name, password_hash, employment, active, created_at) \
         values ($1, $2, $3, $4, $5, $6) returning id",
    )
    .bind(&login)
    .bind(&p.display_name)
    .bind(password_hash)
    .bind(p.employment)
    .bind(i64::from(s.active))
    .bind(now)
    .fetch_one(&mut **tx)
    .await
    .map_err(conflict_on_duplicate(format!(
        "登录名“{}”已被使用",
        crate::error::quote(&login)
    )))?;
    write_links(tx, id, &s.roles, &p.center_ids).await?;
    let staff = load_one(tx, id, now).await?;
    let center = p.center_ids.first().map(|(id, _)| *id);
    audited::created(tx, actor, center, &staff, now).await?;
    Ok(staff)
}

/// Edits a person's name, employment, roles, centers and active flag; a new password hash
/// replaces the old one when given (and unlocks the account).
pub async fn update(
    tx: &mut Tx,
    by: &CurrentUser,
    login: &str,
    s: &StaffInput,
    new_password_hash: Option<&str>,
    now: i64,
) -> AppResult<Staff> {
    let before = by_login(tx, login, now).await?;
    let before_centers = center_ids_of(tx, before.id).await?;
    if !may_edit(by, &before, &before_centers) {
        return Err(if before_centers.iter().any(|c| by.can_see_center(*c)) {
            AppError::forbidden()
        } else {
            input::missing("登录名", login, "人员")
        });
    }
    if by.id.get() == before.id
        && (!s.active
            || (before.roles.contains(&Role::SystemAdmin) && !s.roles.contains(&Role::SystemAdmin)))
    {
        return Err(AppError::Invalid(
            "不能停用自己的账号或取消自己的系统管理员角色".into(),
        ));
    }
    let p = parse(tx, Some(by), s).await?;
    sqlx::query("update users set display_name = $1, employment = $2, active = $3 where id = $4")
        .bind(&p.display_name)
        .bind(p.employment)
        .bind(i64::from(s.active))
        .bind(before.id)
        .execute(&mut **tx)
        .await?;
    if let Some(h) = new_password_hash {
        set_password_hash(tx, before.id, h).await?;
    }
    if !s.active {
        sqlx::query("delete from sessions where user_id = $1")
            .bind(before.id)
            .execute(&mut **tx)
            .await?;
    }
    write_links(tx, before.id, &s.roles, &p.center_ids).await?;
    let after = load_one(tx, before.id, now).await?;
    let mut after_json = after.snapshot();
    if new_password_hash.is_some() {
        after_json["password"] = json!("(changed)");
    }
    let center = p
        .center_ids
        .first()
        .map(|(id, _)| *id)
        .or(before_centers.first().copied());
    audited::updated(tx, &Actor::from(by), center, &before, after_json, now).await?;
    Ok(after)
}

/// Replaces a password hash, unlocks the account and ends its sessions.
pub async fn set_password_hash(tx: &mut Tx, user_id: i64, hash: &str) -> AppResult<()> {
    sqlx::query(
        "update users set password_hash = $1, failed_logins = 0, locked_until = null where id = $2",
    )
    .bind(hash)
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("delete from sessions where user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    // Every lock of the login, from every address, ends with the new password.
    sqlx::query(
        "delete from sign_in_attempts where login = (select login from users where id = $1)",
    )
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Hashes a password off the async runtime, checking its strength first.
pub async fn hash_new_password(plain: String, cost: password::HashCost) -> AppResult<String> {
    password::check_strength(&plain).map_err(AppError::Invalid)?;
    Ok(tokio::task::spawn_blocking(move || password::hash(&plain, cost)).await?)
}
