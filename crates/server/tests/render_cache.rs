//! The leader's render-cache pruner (`render-cache-pruner`): rendered coupons cached in object
//! storage are deleted once older than the configured age and beyond the newest N per tenant,
//! nothing else is touched, and tenants never affect each other. Driven through the worker's
//! `step()` on both database backends with the local store, and on the loopback S3 server that
//! `scripts/test` starts.
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use promostack::config::RenderCacheConfig;
use promostack::domains::templates::render::{RenderRequest, render_cache_prefix};
use promostack::domains::templates::workers::RenderCachePruner;
use promostack::state::AppState;
use promostack::storage::StorageConfig;
use promostack::time::Clock;
use promostack::workers::Worker;
use promostack_render::OutputFormat;
use promostack_testkit::{Backend, TestDatabase, backend_tests, local_config};

const DAY_MS: i64 = 24 * 3600 * 1000;

fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

/// A bootstrapped app state (migrations, default tenant) without the server loop, on a clock the
/// test moves; the store's object times are real wall-clock times.
async fn state_on(
    database: &TestDatabase,
    dir: &std::path::Path,
    storage: Option<StorageConfig>,
    clock: Clock,
) -> AppState {
    let mut config = local_config(dir, database.config.clone());
    if let Some(storage) = storage {
        config.storage = storage;
    }
    config.render_cache = RenderCacheConfig {
        max_age_ms: 7 * DAY_MS,
        max_per_tenant: 3,
    };
    let state = promostack::app::build_state(config, clock)
        .await
        .expect("app state");
    promostack::app::bootstrap(&state).await.expect("bootstrap");
    state
}

async fn put(state: &AppState, key: &str) {
    state
        .storage
        .put(key, Bytes::from_static(b"\xFF\xD8 render"), "image/jpeg")
        .await
        .expect("put");
}

async fn renders_of(state: &AppState, tenant_id: &promostack::ids::TenantId) -> Vec<String> {
    state
        .storage
        .list(&render_cache_prefix(tenant_id))
        .await
        .expect("list")
}

/// The whole story on one state: a real render lands where the pruner looks; the cap keeps the
/// newest per tenant; the age limit empties the cache later; other objects and other tenants'
/// renders survive.
async fn pruner_story(state: AppState, clock: Clock) {
    let a = state
        .tenants
        .default_tenant()
        .await
        .expect("default tenant")
        .expect("bootstrap made one")
        .id;
    let b = state
        .tenants
        .create("Second", "second", None)
        .await
        .expect("second tenant")
        .id;

    // A real render through the service is written to the folder the pruner prunes.
    state.templates.seed_demo(&a).await.expect("demo templates");
    let template = state.templates.list(&a).await.expect("templates").remove(0);
    state
        .templates
        .render(
            &a,
            RenderRequest {
                template: &template.id,
                variant: "square",
                code: "PRUNE1",
                format: OutputFormat::JPEG,
                logo: None,
                persist: true,
            },
        )
        .await
        .expect("render");
    // The storage copy is written in the background.
    let mut rendered = Vec::new();
    for _ in 0..100 {
        rendered = renders_of(&state, &a).await;
        if !rendered.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(rendered.len(), 1, "the render was cached in storage");
    let template_files = state
        .storage
        .list(&format!("tenants/{a}/templates"))
        .await
        .expect("list templates");
    assert!(!template_files.is_empty());

    // Two older renders, then (a second later: S3 times have whole seconds) three newer ones.
    let prefix_a = render_cache_prefix(&a);
    for name in ["old1", "old2"] {
        put(&state, &format!("{prefix_a}/{name}.jpg")).await;
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let newest: Vec<String> = ["new1", "new2", "new3"]
        .iter()
        .map(|n| format!("{prefix_a}/{n}.png"))
        .collect();
    for key in &newest {
        put(&state, key).await;
    }
    let prefix_b = render_cache_prefix(&b);
    let of_b = vec![format!("{prefix_b}/b1.jpg"), format!("{prefix_b}/b2.webp")];
    for key in &of_b {
        put(&state, key).await;
    }

    RenderCachePruner.step(&state).await.expect("step");
    assert_eq!(
        renders_of(&state, &a).await,
        newest,
        "tenant A keeps only its 3 newest renders"
    );
    assert_eq!(
        renders_of(&state, &b).await,
        of_b,
        "tenant B is under the cap and keeps both"
    );

    // A second step with nothing to do deletes nothing.
    RenderCachePruner.step(&state).await.expect("step again");
    assert_eq!(renders_of(&state, &a).await.len(), 3);

    // Six days on nothing is old enough; eight days on every render is.
    clock.advance(6 * DAY_MS);
    RenderCachePruner
        .step(&state)
        .await
        .expect("step at 6 days");
    assert_eq!(renders_of(&state, &a).await.len(), 3);
    assert_eq!(renders_of(&state, &b).await.len(), 2);
    clock.advance(2 * DAY_MS);
    RenderCachePruner
        .step(&state)
        .await
        .expect("step at 8 days");
    assert!(renders_of(&state, &a).await.is_empty());
    assert!(renders_of(&state, &b).await.is_empty());

    // Template images are not cache entries.
    assert_eq!(
        state
            .storage
            .list(&format!("tenants/{a}/templates"))
            .await
            .expect("list templates"),
        template_files
    );
}

async fn prunes_local_storage(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Clock::fixed(wall_clock_ms());
    let state = state_on(&database, dir.path(), None, clock.clone()).await;
    assert_eq!(state.storage.kind(), "local");
    pruner_story(state, clock).await;
}

backend_tests!(prunes_local_storage);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prunes_s3_storage() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Clock::fixed(wall_clock_ms());
    let storage = Some(promostack_testkit::s3_storage_config());
    let state = state_on(&database, dir.path(), storage, clock.clone()).await;
    assert_eq!(state.storage.kind(), "s3");
    pruner_story(state, clock).await;
}

#[test]
fn defaults_are_seven_days_and_a_thousand_per_tenant() {
    let defaults = RenderCacheConfig::default();
    assert_eq!(defaults.max_age_ms, 7 * DAY_MS);
    assert_eq!(defaults.max_per_tenant, 1_000);
}
