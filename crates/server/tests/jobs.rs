//! The job queue on both backends: idempotent enqueue, exclusive claims (also under concurrent
//! claimers), heartbeats that stop a runner which lost its claim, the reaper, retries.
use std::collections::HashSet;

use promostack::db::Db;
use promostack::workers::jobs::{self, JobOutcome, JobTimings, NewJob};
use promostack_testkit::{Backend, TestDatabase, backend_tests};
use serde_json::json;

backend_tests!(
    queue_claims_once_and_reaps,
    concurrent_claimers_never_share_a_job
);

async fn fresh(backend: Backend) -> (Db, TestDatabase) {
    let database = TestDatabase::create(backend).await;
    let db = Db::connect(&database.config).unwrap();
    promostack::db::migrate(&db).await.unwrap();
    (db, database)
}

fn job(key: &str, run_at: i64) -> NewJob {
    NewJob {
        kind: "test",
        tenant_id: None,
        idempotency_key: key.into(),
        payload: json!({"n": key}),
        run_at,
        max_attempts: 2,
    }
}

async fn enqueue(db: &Db, new: &NewJob, now: i64) -> (String, bool) {
    let mut tx = db.begin().await.unwrap();
    let out = jobs::enqueue(&mut tx, new, now).await.unwrap();
    tx.commit().await.unwrap();
    out
}

async fn queue_claims_once_and_reaps(backend: Backend) {
    let (db, _keep) = fresh(backend).await;
    let timings = JobTimings::default();
    let (id, created) = enqueue(&db, &job("a", 1_000), 1_000).await;
    assert!(created);
    let (again, created) = enqueue(&db, &job("a", 1_000), 1_001).await;
    assert_eq!(
        (again.as_str(), created),
        (id.as_str(), false),
        "one job per key"
    );
    // Not due yet.
    enqueue(&db, &job("later", 50_000), 1_000).await;

    let claimed = jobs::claim(&db, "runner-1", 2_000).await.unwrap().unwrap();
    assert_eq!(claimed.id, id);
    assert_eq!(claimed.attempts, 1);
    assert_eq!(claimed.payload_json()["n"], "a");
    assert!(
        jobs::claim(&db, "runner-2", 2_000).await.unwrap().is_none(),
        "claimed once"
    );
    assert!(jobs::heartbeat(&db, &claimed, 3_000).await.unwrap());

    // The runner dies: no heartbeat for longer than stale_after; the reaper re-queues it.
    assert_eq!(
        jobs::reap(
            &db,
            3_000 + timings.stale_after_ms - 1,
            timings.stale_after_ms
        )
        .await
        .unwrap(),
        0
    );
    assert_eq!(
        jobs::reap(&db, 3_001 + timings.stale_after_ms, timings.stale_after_ms)
            .await
            .unwrap(),
        1
    );
    // The dead runner's claim is void: no heartbeat, no finish.
    assert!(!jobs::heartbeat(&db, &claimed, 40_000).await.unwrap());
    assert!(
        !jobs::finish(&db, &claimed, &Ok(JobOutcome::Done), timings, 40_000)
            .await
            .unwrap()
    );

    let second = jobs::claim(&db, "runner-2", 40_000).await.unwrap().unwrap();
    assert_eq!((second.id.as_str(), second.attempts), (id.as_str(), 2));
    assert_ne!(second.claim_token, claimed.claim_token);
    // A failure with attempts left is retried after a back-off; out of attempts it fails.
    assert!(
        jobs::finish(&db, &second, &Err("boom".into()), timings, 41_000)
            .await
            .unwrap()
    );
    let status: (String, i64) = promostack::on_pool!(&db, pool => sqlx::query_as(
        "SELECT status, run_at FROM jobs WHERE id = $1").bind(&id).fetch_one(pool).await)
    .unwrap();
    assert_eq!(status.0, "failed", "2 of 2 attempts used");

    // Parked jobs wait until re-queued.
    let later = jobs::claim(&db, "runner-1", 60_000).await.unwrap().unwrap();
    assert!(
        jobs::finish(&db, &later, &Ok(JobOutcome::Parked), timings, 60_001)
            .await
            .unwrap()
    );
    assert!(
        jobs::claim(&db, "runner-1", 70_000)
            .await
            .unwrap()
            .is_none()
    );
    let mut tx = db.begin().await.unwrap();
    assert!(jobs::requeue(&mut tx, "later", 70_000).await.unwrap());
    tx.commit().await.unwrap();
    let woken = jobs::claim(&db, "runner-1", 70_001).await.unwrap().unwrap();
    assert_eq!(woken.idempotency_key, "later");
    assert!(
        jobs::finish(&db, &woken, &Err("transient".into()), timings, 70_002)
            .await
            .unwrap()
    );
    let (status, run_at): (String, i64) = promostack::on_pool!(&db, pool => sqlx::query_as(
        "SELECT status, run_at FROM jobs WHERE idempotency_key = 'later'").fetch_one(pool).await)
    .unwrap();
    assert_eq!(status, "queued");
    assert_eq!(run_at, 70_002 + timings.retry_backoff_ms);
}

async fn concurrent_claimers_never_share_a_job(backend: Backend) {
    let (db, _keep) = fresh(backend).await;
    for i in 0..40 {
        enqueue(&db, &job(&format!("job-{i}"), 0), 0).await;
    }
    let mut tasks = tokio::task::JoinSet::new();
    for runner in 0..4 {
        let db = db.clone();
        tasks.spawn(async move {
            let mut mine = Vec::new();
            while let Some(job) = jobs::claim(&db, &format!("runner-{runner}"), 1)
                .await
                .unwrap()
            {
                mine.push(job.id);
            }
            mine
        });
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    while let Some(ids) = tasks.join_next().await {
        for id in ids.unwrap() {
            total += 1;
            assert!(seen.insert(id), "a job was claimed twice");
        }
    }
    assert_eq!((total, seen.len()), (40, 40));
}
