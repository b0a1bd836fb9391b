//! The platform event hub: across two servers on one PostgreSQL database, and locally after
//! commit on SQLite; nothing is delivered for a rolled-back change.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use yichuang::{
    db::Backend,
    events::{self, Event, Hub},
};

use crate::helpers::{TestApp, fresh_database, test_config};

/// An event type of its own, on its own channel, so these tests hear nothing of the queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Ping {
    n: i64,
}

impl Event for Ping {
    const CHANNEL: &'static str = "yichuang_test_ping";
}

/// Publishes `Ping { n }` as a use case does: NOTIFY in the transaction, commit (or roll
/// back), then the SQLite local delivery.
async fn ping(app: &TestApp, hub: &Hub<Ping>, n: i64, commit: bool) {
    let backend = app.app.db.backend();
    let e = Ping { n };
    let mut tx = app.app.db.begin().await.unwrap();
    events::notify_in(&mut tx, backend, &e).await.unwrap();
    if commit {
        tx.commit().await.unwrap();
        hub.after_commit(backend, vec![e]);
    } else {
        tx.rollback().await.unwrap();
    }
}

async fn next(rx: &mut tokio::sync::broadcast::Receiver<Ping>) -> Ping {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("the event arrives")
        .expect("no lag")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_committed_on_one_server_reaches_a_subscriber_on_another() {
    let (url, _) = fresh_database(Backend::Postgres).await;
    let a = TestApp::spawn_with(Backend::Postgres, test_config(&url), None).await;
    let b = TestApp::spawn_with(Backend::Postgres, test_config(&url), None).await;
    let hub_a = Hub::<Ping>::new();
    let hub_b = Hub::<Ping>::new();
    hub_a.spawn_listener(&a.app.db, url.clone());
    hub_b.spawn_listener(&b.app.db, url.clone());
    let mut on_b = hub_b.subscribe();
    // The listener connects in the background: ping until B hears one.
    let mut first = None;
    for n in 0..50 {
        ping(&a, &hub_a, n, true).await;
        if let Ok(Ok(e)) = tokio::time::timeout(Duration::from_millis(200), on_b.recv()).await {
            first = Some(e);
            break;
        }
    }
    assert!(first.is_some(), "server B never heard server A");
    while on_b.try_recv().is_ok() {}

    // A rolled-back change sends nothing; the next committed one arrives, alone.
    ping(&a, &hub_a, 1000, false).await;
    ping(&a, &hub_a, 1001, true).await;
    let mut got = next(&mut on_b).await;
    while got.n < 1000 {
        // late echoes of the warm-up pings
        got = next(&mut on_b).await;
    }
    assert_eq!(got, Ping { n: 1001 });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_an_event_is_delivered_locally_after_commit_only() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let hub = Hub::<Ping>::new();
    hub.spawn_listener(&app.app.db, String::new()); // nothing to listen to on SQLite
    let mut rx = hub.subscribe();
    ping(&app, &hub, 1, false).await;
    assert!(
        rx.try_recv().is_err(),
        "a rolled-back change is not announced"
    );
    ping(&app, &hub, 2, true).await;
    assert_eq!(next(&mut rx).await, Ping { n: 2 });
    assert!(rx.try_recv().is_err());
}

#[test]
fn the_queue_hub_is_the_platform_hub_on_its_channel() {
    use yichuang::queue::hub::CHANNEL;
    assert_eq!(<yichuang::queue::QueueEvent as Event>::CHANNEL, CHANNEL);
    assert_eq!(CHANNEL, "yichuang_queue");
}
