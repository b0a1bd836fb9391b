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

/// A zone of its own per member (zones' codes and names are unique per center).
async fn insert_member(tx: &mut yichuang::db::Tx, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into zones (center_id, code, name, sort_order, created_at) \
         select id, 'TXG-' || $1, $1, 999, 0 from centers order by id limit 1",
    )
    .bind(name)
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

async fn member_names(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("select name from zones where code like 'TXG-%' order by name")
        .fetch_all(app.app.db.pool())
        .await
        .unwrap()
}

/// Spawns a use case that adds the member `name` and then, given a `refusal`, is refused.
fn spawn_member(
    app: &TestApp,
    name: String,
    refusal: Option<String>,
) -> tokio::task::JoinHandle<Result<(), AppError>> {
    let shared = app.app.clone();
    tokio::spawn(async move {
        let (name, refusal) = (&name, &refusal);
        shared
            .db
            .transaction(|mut tx| {
                Box::pin(async move {
                    insert_member(&mut tx, name).await?;
                    match refusal {
                        Some(r) => Err(AppError::Invalid(r.clone())),
                        None => Ok(()),
                    }
                })
            })
            .await
    })
}

on_both!(
    concurrent_transactions_keep_every_kept_change_and_no_refused_one,
    |app: TestApp| async move {
        // 200 use cases at once: on SQLite they share group commits, each in its own
        // savepoint; every third is refused after it wrote, and must leave nothing behind.
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let refusal = (i % 3 == 0).then(|| format!("第 {i} 个被拒绝"));
                spawn_member(&app, format!("并发{i:03}"), refusal)
            })
            .collect();
        let mut kept = Vec::new();
        for (i, t) in tasks.into_iter().enumerate() {
            match t.await.unwrap() {
                Ok(()) => kept.push(format!("并发{i:03}")),
                Err(AppError::Invalid(m)) => assert_eq!(m, format!("第 {i} 个被拒绝")),
                Err(e) => panic!("transaction {i} failed: {e:?}"),
            }
        }
        assert_eq!(kept.len(), 133);
        // Answered means committed: every kept change is there, and nothing refused.
        assert_eq!(member_names(&app).await, kept);
    }
);

on_both!(
    a_transaction_dropped_halfway_leaves_nothing_and_others_commit,
    |app: TestApp| async move {
        let (wrote, written) = tokio::sync::oneshot::channel::<()>();
        let shared = app.app.clone();
        // This one writes and then never finishes; it is dropped while others wait behind it.
        let stuck = tokio::spawn(async move {
            shared
                .db
                .transaction(|mut tx| {
                    Box::pin(async move {
                        insert_member(&mut tx, "半途放弃").await?;
                        let _ = wrote.send(());
                        std::future::pending::<()>().await;
                        Ok::<_, AppError>(())
                    })
                })
                .await
        });
        written.await.unwrap();
        let others: Vec<_> = (0..5)
            .map(|i| spawn_member(&app, format!("其后{i}"), None))
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        stuck.abort();
        assert!(stuck.await.unwrap_err().is_cancelled());
        for t in others {
            t.await.unwrap().unwrap();
        }
        assert_eq!(
            member_names(&app).await,
            (0..5).map(|i| format!("其后{i}")).collect::<Vec<_>>()
        );
    }
);
