//! The demo hall loaded into an empty database: 赣县区政务服务中心 with the zones and window
//! names seed 002 §三(三) prescribes, and 梅林镇综合便民服务中心 with its 公安集成 /
//! 公共服务 / 通用综合 windows, each with its catalogue (`catalog::demo`). People and their
//! names are fictional. Passwords are random, returned once so the console can print them;
//! none is written in the binary.

use crate::{
    audit::Actor,
    auth::{Role, password},
    clock::Clock,
    db::Db,
    error::{AppError, AppResult},
    hall::{
        centers::{self, CenterInput},
        posts::Post,
        staff::{self, StaffInput},
        windows::{self, WindowInput},
        zones::{self, ZoneInput},
    },
};

/// A demo account and its one-time password.
#[derive(Clone, Debug)]
pub struct Account {
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub password: String,
}

pub const COUNTY: &str = "GX";
pub const TOWNSHIP: &str = "GX-ML";

/// (code, name) of the county's zones: the "N+1" zones, plus 关爱专区 for priority service.
const COUNTY_ZONES: &[(&str, &str)] = &[
    ("TYZH", "通用综合"),
    ("BDC", "不动产登记"),
    ("SCZR", "市场准入"),
    ("GCJS", "工程建设项目"),
    ("RSYB", "人社医保"),
    ("GAJC", "公安集成"),
    ("SWJC", "税务集成"),
    ("GJJ", "公积金"),
    ("GAZQ", "关爱专区"),
];

/// (code, name, zone, kind, specials, 不动产和税务联办窗口 — 40 minutes to accept, seed 001 (五)).
type WindowSpec = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    bool,
);

const COUNTY_WINDOWS: &[WindowSpec] = &[
    ("TY01", "通用综合受理1", "TYZH", "general", &[], false),
    ("TY02", "通用综合受理2", "TYZH", "general", &[], false),
    ("TY03", "通用综合受理3", "TYZH", "general", &[], false),
    (
        "TY04",
        "通用综合受理4",
        "TYZH",
        "general",
        &["one_thing"],
        false,
    ),
    (
        "TY05",
        "通用综合受理5",
        "TYZH",
        "general",
        &["cross_region"],
        false,
    ),
    (
        "TY06",
        "通用综合受理6",
        "TYZH",
        "general",
        &["enterprise_policy"],
        false,
    ),
    ("CJ01", "出件", "TYZH", "issuance", &["post"], false),
    // 不动产+税务 joint windows: 40 minutes to accept (seed 001 (五)).
    ("BDC01", "综合受理1", "BDC", "zone", &[], true),
    ("BDC02", "综合受理2", "BDC", "zone", &[], true),
    ("SC01", "综合受理3", "SCZR", "zone", &[], false),
    ("GC01", "综合受理4", "GCJS", "zone", &[], false),
    ("RS01", "综合受理5", "RSYB", "zone", &[], false),
    ("RS02", "综合受理6", "RSYB", "zone", &[], false),
    ("GA01", "综合受理7", "GAJC", "zone", &[], false),
    ("SW01", "综合受理8", "SWJC", "zone", &[], false),
    ("GJ01", "综合受理9", "GJJ", "zone", &[], false),
    (
        "BBCS",
        "办不成事反映",
        "",
        "special",
        &["unresolved"],
        false,
    ),
    ("BBDB", "帮办代办", "GAZQ", "special", &["assisted"], false),
    (
        "YSCS",
        "延时错时预约窗口",
        "",
        "special",
        &["extended_hours"],
        false,
    ),
];

const TOWNSHIP_ZONES: &[(&str, &str)] = &[
    ("GAJC", "公安集成"),
    ("GGFW", "公共服务"),
    ("TYZH", "通用综合"),
];

const TOWNSHIP_WINDOWS: &[WindowSpec] = &[
    // One window each: no number shown (seed 002 §三(三)4).
    ("GA01", "公安集成综合受理", "GAJC", "police", &[], false),
    (
        "GG01",
        "公共服务综合受理",
        "GGFW",
        "public_service",
        &[],
        false,
    ),
    (
        "TY01",
        "通用综合受理1",
        "TYZH",
        "general",
        &["unresolved"],
        false,
    ),
    (
        "TY02",
        "通用综合受理2",
        "TYZH",
        "general",
        &["assisted"],
        false,
    ),
    ("CJ01", "出件", "TYZH", "issuance", &[], false),
];

/// (login, name, role, centers, posts as (center, window, A/B)).
type PersonSpec = (
    &'static str,
    &'static str,
    Role,
    &'static [&'static str],
    &'static [(&'static str, &'static str, Post)],
);

const PEOPLE: &[PersonSpec] = &[
    (
        "admin",
        "系统管理员",
        Role::SystemAdmin,
        &[COUNTY, TOWNSHIP],
        &[],
    ),
    (
        "manager",
        "刘海燕",
        Role::HallManager,
        &[COUNTY, TOWNSHIP],
        &[],
    ),
    (
        "clerk1",
        "陈晓梅",
        Role::WindowClerk,
        &[COUNTY],
        &[(COUNTY, "TY01", Post::A), (COUNTY, "TY06", Post::B)],
    ),
    (
        "clerk2",
        "黄志强",
        Role::WindowClerk,
        &[COUNTY],
        &[(COUNTY, "TY02", Post::A), (COUNTY, "TY01", Post::B)],
    ),
    (
        "clerk3",
        "曾丽华",
        Role::WindowClerk,
        &[COUNTY],
        &[(COUNTY, "TY03", Post::A), (COUNTY, "TY02", Post::B)],
    ),
    (
        "clerk4",
        "钟建平",
        Role::WindowClerk,
        &[COUNTY],
        &[(COUNTY, "TY04", Post::A), (COUNTY, "TY03", Post::B)],
    ),
    (
        "clerk5",
        "谢雨欣",
        Role::WindowClerk,
        &[COUNTY],
        &[(COUNTY, "TY05", Post::A), (COUNTY, "TY04", Post::B)],
    ),
    (
        "clerk6",
        "温国庆",
        Role::WindowClerk,
        &[COUNTY],
        &[(COUNTY, "TY06", Post::A), (COUNTY, "TY05", Post::B)],
    ),
    (
        "clerk7",
        "郭春兰",
        Role::WindowClerk,
        &[TOWNSHIP],
        &[(TOWNSHIP, "TY01", Post::A), (TOWNSHIP, "TY02", Post::B)],
    ),
    (
        "clerk8",
        "邱明辉",
        Role::WindowClerk,
        &[TOWNSHIP],
        &[(TOWNSHIP, "TY02", Post::A), (TOWNSHIP, "TY01", Post::B)],
    ),
    // Every zone's windows have a post holder, so the kiosk offers every zone; the township's
    // 公共服务 window has none this week and is shown as unavailable.
    (
        "clerk9",
        "罗志勇",
        Role::WindowClerk,
        &[COUNTY],
        &[(COUNTY, "BDC01", Post::A), (COUNTY, "BDC02", Post::B)],
    ),
    (
        "clerk10",
        "彭慧敏",
        Role::WindowClerk,
        &[COUNTY],
        &[(COUNTY, "BDC02", Post::A), (COUNTY, "BDC01", Post::B)],
    ),
    (
        "clerk11",
        "刘建华",
        Role::WindowClerk,
        &[COUNTY],
        &[(COUNTY, "SC01", Post::A)],
    ),
    (
        "clerk12",
        "杨秀英",
        Role::WindowClerk,
        &[COUNTY],
        &[(COUNTY, "GC01", Post::A)],
    ),
    (
        "clerk13",
        "朱永明",
        Role::WindowClerk,
        &[COUNTY],
        &[(COUNTY, "RS01", Post::A), (COUNTY, "RS02", Post::B)],
    ),
    (
        "clerk14",
        "李春燕",
        Role::WindowClerk,
        &[COUNTY],
        &[(COUNTY, "RS02", Post::A), (COUNTY, "RS01", Post::B)],
    ),
    (
        "clerk15",
        "何伟东",
        Role::WindowClerk,
        &[COUNTY],
        &[(COUNTY, "GA01", Post::A)],
    ),
    (
        "clerk16",
        "胡婷",
        Role::WindowClerk,
        &[COUNTY],
        &[(COUNTY, "SW01", Post::A)],
    ),
    (
        "clerk17",
        "蓝海涛",
        Role::WindowClerk,
        &[COUNTY],
        &[(COUNTY, "GJ01", Post::A)],
    ),
    (
        "clerk18",
        "叶小红",
        Role::WindowClerk,
        &[COUNTY],
        &[(COUNTY, "BBDB", Post::A)],
    ),
    (
        "clerk19",
        "邹国强",
        Role::WindowClerk,
        &[TOWNSHIP],
        &[(TOWNSHIP, "GA01", Post::A)],
    ),
    (
        "approver",
        "赖文斌",
        Role::Approver,
        &[COUNTY, TOWNSHIP],
        &[],
    ),
    (
        "chief",
        "肖振华",
        Role::ChiefRepresentative,
        &[COUNTY, TOWNSHIP],
        &[],
    ),
    ("leader", "廖建国", Role::Leader, &[COUNTY, TOWNSHIP], &[]),
];

/// Loads the demo hall if the database has no center yet; returns the accounts created.
pub async fn load_if_empty(
    db: &Db,
    clock: &Clock,
    cost: password::HashCost,
) -> AppResult<Vec<Account>> {
    let n: i64 = sqlx::query_scalar("select count(*) from centers")
        .fetch_one(db.pool())
        .await?;
    if n > 0 {
        return Ok(Vec::new());
    }
    match load(db, clock, cost).await {
        // Another server sharing the database loaded it first.
        Err(AppError::Conflict(_)) => Ok(Vec::new()),
        other => other,
    }
}

/// Loads the demo hall into an empty database in one transaction; `Conflict` if not empty.
pub async fn load(db: &Db, clock: &Clock, cost: password::HashCost) -> AppResult<Vec<Account>> {
    // Hash first, on blocking threads, so the write transaction stays short.
    let mut accounts = Vec::new();
    let mut jobs = Vec::new();
    for (login, name, role, _, _) in PEOPLE {
        let plain = password::generate();
        let p = plain.clone();
        jobs.push(tokio::task::spawn_blocking(move || {
            password::hash(&p, cost)
        }));
        accounts.push(Account {
            login: (*login).into(),
            display_name: (*name).into(),
            role: *role,
            password: plain,
        });
    }
    let mut hashes = Vec::new();
    for j in jobs {
        hashes.push(j.await?);
    }

    let now = clock.now_micros();
    let actor = Actor::system();
    let mut tx = db.begin().await?;
    if db.backend() == crate::db::Backend::Postgres {
        // Several servers may start on one empty database: one loads, the others see it.
        sqlx::query("select pg_advisory_xact_lock(7460002)")
            .execute(&mut *tx)
            .await?;
    }
    let n: i64 = sqlx::query_scalar("select count(*) from centers")
        .fetch_one(&mut *tx)
        .await?;
    if n > 0 {
        return Err(AppError::Conflict(
            "数据库中已有中心数据，演示数据只能载入空数据库".into(),
        ));
    }
    let county = centers::create(
        &mut tx,
        &actor,
        &CenterInput {
            code: Some(COUNTY.into()),
            name: "赣县区政务服务中心".into(),
            level: "county".into(),
            parent: None,
            region_code: "360704".into(),
            address: "赣县区梅林大道政务服务中心大楼".into(),
            phone: "0797-0000000".into(),
        },
        now,
    )
    .await?;
    let township = centers::create(
        &mut tx,
        &actor,
        &CenterInput {
            code: Some(TOWNSHIP.into()),
            name: "梅林镇综合便民服务中心".into(),
            level: "township".into(),
            parent: Some(COUNTY.into()),
            region_code: "360704100".into(),
            address: "梅林镇便民服务中心一楼".into(),
            phone: "0797-0000001".into(),
        },
        now,
    )
    .await?;
    for (center, zone_list, window_list) in [
        (county.id, COUNTY_ZONES, COUNTY_WINDOWS),
        (township.id, TOWNSHIP_ZONES, TOWNSHIP_WINDOWS),
    ] {
        for (i, (code, name)) in zone_list.iter().enumerate() {
            // Ticket prefixes A, B, C … in display order.
            let z = ZoneInput {
                code: Some((*code).into()),
                name: (*name).into(),
                sort_order: i as i64 + 1,
                ticket_prefix: Some(char::from(b'A' + i as u8).to_string()),
            };
            zones::create(&mut tx, &actor, center, &z, now).await?;
        }
        for (code, name, zone, kind, specials, joint) in window_list {
            let w = WindowInput {
                code: Some((*code).into()),
                name: (*name).into(),
                zone: (!zone.is_empty()).then(|| (*zone).into()),
                kind: (*kind).into(),
                specials: specials.iter().map(|s| (*s).into()).collect(),
                tidal: false,
                active: true,
                acceptance_limit_minutes: 15,
                joint_property_tax: *joint,
            };
            windows::create(&mut tx, &actor, center, &w, now).await?;
        }
    }
    for ((login, name, role, center_codes, _), hash) in PEOPLE.iter().zip(&hashes) {
        let s = StaffInput {
            login: Some((*login).into()),
            display_name: (*name).into(),
            employment: Some(
                if *role == Role::WindowClerk {
                    "purchased"
                } else {
                    "department"
                }
                .into(),
            ),
            roles: vec![*role],
            centers: center_codes.iter().map(|c| (*c).into()).collect(),
            active: true,
            password: None,
        };
        staff::create(&mut tx, None, &actor, &s, hash, now).await?;
    }
    for (login, _, _, _, posts) in PEOPLE {
        for (center, window, post) in *posts {
            let center_id = if *center == COUNTY {
                county.id
            } else {
                township.id
            };
            sqlx::query(
                "insert into window_posts (window_id, user_id, post) \
                 select w.id, u.id, $1 from windows w, users u where w.center_id = $2 and w.code = $3 and u.login = $4",
            )
            .bind(post.as_str())
            .bind(center_id)
            .bind(*window)
            .bind(*login)
            .execute(&mut *tx)
            .await?;
        }
    }
    crate::catalog::demo::load(&mut tx, &actor, TOWNSHIP, now).await?;
    // The county hall's own catalogue (the township's above is seed 004 附件2).
    crate::catalog::demo::county::load(&mut tx, &actor, COUNTY, now).await?;
    tx.commit().await?;
    Ok(accounts)
}
