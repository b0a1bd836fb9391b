//! The command line, run as the real binary.

use yichuang::db::Backend;

use crate::helpers::fresh_database;

use crate::helpers::run_cli as yichuang;

#[tokio::test]
async fn operators_migrate_load_demo_add_users_mint_tokens_and_back_up() {
    let (url, dir) = fresh_database(Backend::Sqlite).await;
    let (ok, out, err) = yichuang(&url, &["migrate"]);
    assert!(ok, "{err}");
    let expected = yichuang::db::migrations_for(Backend::Sqlite).len();
    assert!(out.contains(&format!("已应用 {expected} 个迁移")), "{out}");

    let (ok, out, err) = yichuang(&url, &["demo"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("manager") && out.contains("大厅管理员"),
        "{out}"
    );
    let (ok, _, err) = yichuang(&url, &["demo"]);
    assert!(!ok);
    assert!(err.contains("空数据库"), "{err}");

    let (ok, out, err) = yichuang(
        &url,
        &[
            "user",
            "add",
            "clerk30",
            "--name",
            "钟晓琳",
            "--center",
            "GX",
        ],
    );
    assert!(ok, "{err}");
    let password = out.lines().last().unwrap().trim();
    assert_eq!(password.len(), 14);
    let (ok, _, err) = yichuang(
        &url,
        &["user", "add", "clerk30", "--name", "重复", "--center", "GX"],
    );
    assert!(!ok);
    assert!(err.contains("已被使用"), "{err}");
    let (ok, out, err) = yichuang(&url, &["user", "passwd", "clerk30"]);
    assert!(ok, "{err}");
    assert_ne!(out.lines().last().unwrap().trim(), password);

    let (ok, out, err) = yichuang(&url, &["token", "create", "--user", "manager"]);
    assert!(ok, "{err}");
    let token = out.lines().last().unwrap().trim().to_owned();
    assert!(token.starts_with("yct_") && token.len() == 52, "{token}");
    let (ok, _, err) = yichuang(&url, &["token", "create", "--user", "ghost"]);
    assert!(!ok);
    assert!(err.contains("找不到"), "{err}");

    let backup = dir.as_ref().unwrap().path().join("backup.db");
    let (ok, _, err) = yichuang(&url, &["backup", backup.to_str().unwrap()]);
    assert!(ok, "{err}");
    let copy = format!("sqlite://{}", backup.display());
    let db = yichuang::db::Db::connect(&copy, 1).await.unwrap();
    let n: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(db.pool())
        .await
        .unwrap();
    // The demo's 24 accounts and the one added above.
    assert_eq!(n, 25);
    let (ok, _, err) = yichuang(&url, &["backup", backup.to_str().unwrap()]);
    assert!(!ok, "refuses to overwrite");
    assert!(err.contains("已存在"), "{err}");
}

#[tokio::test]
async fn backup_of_postgres_points_to_pg_dump_and_bad_urls_are_explained() {
    let (url, _) = fresh_database(Backend::Postgres).await;
    let (ok, _, err) = yichuang(&url, &["backup", "/tmp/never-written.db"]);
    assert!(!ok);
    assert!(err.contains("pg_dump"), "{err}");
    let (ok, _, err) = yichuang("mysql://localhost/x", &["migrate"]);
    assert!(!ok);
    assert!(err.contains("不支持的数据库地址"), "{err}");
}
