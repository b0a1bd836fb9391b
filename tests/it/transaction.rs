//! `Db::transaction`, the one helper that begins and commits: a refusal changes nothing, and
//! its future can be spawned (every axum handler's future must be `Send + 'static`).

use yichuang::error::AppError;

use crate::helpers::{TestApp, on_both};

async fn zone_names(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("select name from zones where code = 'TXTEST' order by name")
        .fetch_all(app.app.db.pool())
        .await
        .unwrap()
}

async fn insert_zone(tx: &mut yichuang::db::Tx, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into zones (center_id, code, name, sort_order, created_at) \
         select id, 'TXTEST', $1, 999, 0 from centers order by id limit 1",
    )
    .bind(name)
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

on_both!(
    a_transaction_commits_on_ok_and_changes_nothing_on_err,
    |app: TestApp| async move {
        let shared = app.app.clone();
        let name = String::from("事务测试区");
        // Spawned, with a borrow of a local inside the closure's future.
        let committed = tokio::spawn(async move {
            let name = &name;
            shared
                .db
                .transaction(|mut tx| {
                    Box::pin(async move {
                        insert_zone(&mut tx, name).await?;
                        Ok::<_, AppError>(name.clone())
                    })
                })
                .await
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(committed, "事务测试区");
        assert_eq!(zone_names(&app).await, vec!["事务测试区".to_owned()]);

        let refused = app
            .app
            .db
            .transaction(|mut tx| {
                Box::pin(async move {
                    sqlx::query("update zones set name = '改名' where code = 'TXTEST'")
                        .execute(&mut **tx)
                        .await?;
                    Err::<(), _>(AppError::Invalid("名称不合规".into()))
                })
            })
            .await;
        assert!(matches!(refused, Err(AppError::Invalid(_))));
        assert_eq!(zone_names(&app).await, vec!["事务测试区".to_owned()]);
    }
);
