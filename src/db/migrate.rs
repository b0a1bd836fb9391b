//! Schema migrations: `migrations/sqlite/` and `migrations/postgres/`, the same versions in
//! each, compiled into the binary and applied in order, all the pending ones in one
//! transaction ([`run`]): an upgrade applies completely or not at all.

use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

use super::{Backend, Db};

#[derive(RustEmbed)]
#[folder = "migrations/sqlite/"]
struct SqliteFiles;

#[derive(RustEmbed)]
#[folder = "migrations/postgres/"]
struct PostgresFiles;

/// One migration file: `0001_foundation.sql` is version 1, named `foundation`.
#[derive(Clone, Debug)]
pub struct Migration {
    pub version: i64,
    pub name: String,
    pub sql: String,
}

/// The migrations for `backend`, ordered by version.
pub fn migrations_for(backend: Backend) -> Vec<Migration> {
    let files: Vec<(String, Vec<u8>)> = match backend {
        Backend::Sqlite => SqliteFiles::iter()
            .filter_map(|f| SqliteFiles::get(&f).map(|d| (f.to_string(), d.data.into_owned())))
            .collect(),
        Backend::Postgres => PostgresFiles::iter()
            .filter_map(|f| PostgresFiles::get(&f).map(|d| (f.to_string(), d.data.into_owned())))
            .collect(),
    };
    let mut out: Vec<Migration> = files
        .into_iter()
        .filter(|(name, _)| name.ends_with(".sql"))
        .filter_map(|(file, data)| {
            let stem = file.trim_end_matches(".sql");
            let (version, name) = stem.split_once('_')?;
            Some(Migration {
                version: version.parse().ok()?,
                name: name.to_owned(),
                sql: String::from_utf8(data).ok()?,
            })
        })
        .collect();
    out.sort_by_key(|m| m.version);
    out
}

/// A migration failed, or the database holds one that differs from the binary's.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("数据库迁移失败：{0}")]
    Db(#[from] sqlx::Error),
    #[error("数据库中的迁移 {0} 与本程序携带的内容不一致（迁移文件只能追加，不能修改）")]
    Changed(i64),
}

fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

/// Whether every migration is applied with its checksum, read outside a transaction; false
/// when the table of migrations does not exist yet.
async fn up_to_date(db: &Db) -> Result<bool, MigrateError> {
    let Ok(rows) =
        sqlx::query_as::<_, (i64, String)>("select version, checksum from schema_migrations")
            .fetch_all(db.pool())
            .await
    else {
        return Ok(false);
    };
    let applied: std::collections::HashMap<i64, String> = rows.into_iter().collect();
    for m in migrations_for(db.backend()) {
        match applied.get(&m.version) {
            Some(sum) if *sum == checksum(&m.sql) => {}
            Some(_) => return Err(MigrateError::Changed(m.version)),
            None => return Ok(false),
        }
    }
    Ok(true)
}

/// Applies what is missing, all in one transaction; returns how many were applied.
/// DDL is transactional on both engines, so a failed upgrade leaves the schema as it was.
pub async fn run(db: &Db) -> Result<usize, MigrateError> {
    // An up-to-date database needs no write transaction, so a server still starts on one it
    // cannot write (a filesystem remounted read-only), serves reads and refuses writes (503).
    if up_to_date(db).await? {
        return Ok(0);
    }
    let mut tx = db.begin().await?;
    if db.backend() == Backend::Postgres {
        // Serialises servers that start together; released at commit.
        sqlx::query("select pg_advisory_xact_lock(7460001)")
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "create table if not exists schema_migrations (\
         version bigint primary key, name text not null, checksum text not null, applied_at bigint not null)",
    )
    .execute(&mut *tx)
    .await?;
    let mut applied = 0;
    for m in migrations_for(db.backend()) {
        let existing: Option<String> =
            sqlx::query_scalar("select checksum from schema_migrations where version = $1")
                .bind(m.version)
                .fetch_optional(&mut *tx)
                .await?;
        let sum = checksum(&m.sql);
        if let Some(old) = existing {
            if old != sum {
                return Err(MigrateError::Changed(m.version));
            }
            continue;
        }
        sqlx::raw_sql(sqlx::AssertSqlSafe(m.sql.clone()))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "insert into schema_migrations (version, name, checksum, applied_at) values ($1, $2, $3, $4)",
        )
        .bind(m.version)
        .bind(&m.name)
        .bind(&sum)
        .bind(jiff::Timestamp::now().as_microsecond())
        .execute(&mut *tx)
        .await?;
        applied += 1;
    }
    tx.commit().await?;
    Ok(applied)
}
