//! Schema parity: a fresh SQLite and a fresh PostgreSQL database, each migrated, have the same
//! tables, the same columns and the same nullability — except what one engine alone needs,
//! listed (with the reason) below.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Row;
use yichuang::db::{Backend, Db};

use crate::helpers::fresh_database;

/// Tables only one engine has.
const ENGINE_ONLY_TABLES: &[(&str, &str)] = &[
    // SQLite's own bookkeeping (sqlite_sequence, sqlite_stat1 …).
    ("sqlite_", "SQLite internal"),
    // The FTS5 index of the catalogue search and its shadow tables (matter_fts_data, …);
    // PostgreSQL indexes `matter_search` instead.
    ("matter_fts", "SQLite full-text search"),
    // PostgreSQL's search table (migration 0021): each matter's lower-cased name and search
    // tokens, with a GIN index over the tokens' prefixes, narrow so that a search reads few
    // heap blocks; SQLite's is matter_fts.
    ("matter_search", "PostgreSQL full-text search"),
];

/// Columns only one engine has: (table, column, reason).
const ENGINE_ONLY_COLUMNS: &[(&str, &str, &str)] = &[];

/// Known nullability differences: (table, column, reason).
const NULLABILITY_DIFFERENCES: &[(&str, &str, &str)] = &[];

type Schema = BTreeMap<String, BTreeMap<String, bool>>;

fn engine_only_table(name: &str) -> bool {
    ENGINE_ONLY_TABLES.iter().any(|(p, _)| name.starts_with(p))
}

fn engine_only_column(table: &str, column: &str) -> bool {
    ENGINE_ONLY_COLUMNS
        .iter()
        .any(|(t, c, _)| *t == table && *c == column)
}

/// table → column → nullable, for a freshly migrated database of `backend`.
async fn schema_of(backend: Backend) -> Schema {
    let (url, _dir) = fresh_database(backend).await;
    let db = Db::connect(&url, 2).await.expect("connect");
    db.migrate().await.expect("migrate");
    let mut schema = Schema::new();
    match backend {
        Backend::Sqlite => {
            let tables: Vec<String> = sqlx::query_scalar(
                "select name from sqlite_master where type = 'table' order by name",
            )
            .fetch_all(db.pool())
            .await
            .unwrap();
            for t in tables {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "select name, \"notnull\" as not_null, pk from pragma_table_info('{t}')"
                )))
                .fetch_all(db.pool())
                .await
                .unwrap();
                let cols = schema.entry(t).or_default();
                for r in rows {
                    let name: String = r.try_get("name").unwrap();
                    let notnull: i64 = r.try_get("not_null").unwrap();
                    // SQLite lets a non-integer primary key hold null; ours are all integer
                    // or composite of not-null columns, which PostgreSQL makes not null.
                    let pk: i64 = r.try_get("pk").unwrap();
                    cols.insert(name, notnull == 0 && pk == 0);
                }
            }
        }
        Backend::Postgres => {
            let rows = sqlx::query(
                "select cast(c.table_name as text) as table_name, cast(c.column_name as text) as column_name, \
                 cast(c.is_nullable as text) as is_nullable from information_schema.columns c \
                 join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name \
                 where c.table_schema = 'public' and t.table_type = 'BASE TABLE'",
            )
            .fetch_all(db.pool())
            .await
            .unwrap();
            for r in rows {
                let t: String = r.try_get("table_name").unwrap();
                let c: String = r.try_get("column_name").unwrap();
                let n: String = r.try_get("is_nullable").unwrap();
                schema.entry(t).or_default().insert(c, n == "YES");
            }
        }
    }
    db.close().await;
    schema
        .into_iter()
        .filter(|(t, _)| !engine_only_table(t))
        .map(|(t, cols)| {
            let cols = cols
                .into_iter()
                .filter(|(c, _)| !engine_only_column(&t, c))
                .collect();
            (t, cols)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_have_the_same_tables_columns_and_nullability() {
    let sqlite = schema_of(Backend::Sqlite).await;
    let postgres = schema_of(Backend::Postgres).await;
    let mut differences = Vec::new();
    let tables: BTreeSet<&String> = sqlite.keys().chain(postgres.keys()).collect();
    for t in tables {
        match (sqlite.get(t), postgres.get(t)) {
            (Some(_), None) => differences.push(format!("table {t}: SQLite only")),
            (None, Some(_)) => differences.push(format!("table {t}: PostgreSQL only")),
            (Some(s), Some(p)) => {
                let cols: BTreeSet<&String> = s.keys().chain(p.keys()).collect();
                for c in cols {
                    match (s.get(c), p.get(c)) {
                        (Some(_), None) => differences.push(format!("{t}.{c}: SQLite only")),
                        (None, Some(_)) => differences.push(format!("{t}.{c}: PostgreSQL only")),
                        (Some(a), Some(b))
                            if a != b
                                && !NULLABILITY_DIFFERENCES
                                    .iter()
                                    .any(|(tt, cc, _)| tt == t && cc == c) =>
                        {
                            differences.push(format!(
                                "{t}.{c}: nullable on SQLite {a}, on PostgreSQL {b}"
                            ));
                        }
                        _ => {}
                    }
                }
            }
            (None, None) => unreachable!(),
        }
    }
    assert!(
        sqlite.contains_key("jobs") && postgres.contains_key("jobs"),
        "the comparison sees the tables"
    );
    assert!(
        sqlite.len() > 10,
        "every table is compared: {:?}",
        sqlite.keys()
    );
    assert!(
        differences.is_empty(),
        "schema differences:\n{}",
        differences.join("\n")
    );
}
