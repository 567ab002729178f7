//! The repository story: one sequence of record operations, run on SQLite and on PostgreSQL.
use promostack::auth::Role;
use promostack::db::{self, Db, settings};
use promostack::domains::error::DomainError;
use promostack::domains::tenants::TenantService;
use promostack::time::Clock;
use promostack::workers::leader;
use promostack_testkit::{Backend, TestDatabase, backend_tests};

backend_tests!(repository_story, concurrent_migrations_and_bootstrap_agree);

async fn repository_story(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let db = Db::connect(&database.config).unwrap();
    assert_eq!(
        db.backend(),
        match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    );

    // Migrations apply once, then are a no-op.
    let applied = db::migrate(&db).await.unwrap();
    assert_eq!(
        applied,
        db::MIGRATIONS.iter().map(|m| m.version).collect::<Vec<_>>()
    );
    assert!(db::migrate(&db).await.unwrap().is_empty());

    let clock = Clock::fixed(1_700_000_000_000);
    let tenants = TenantService::new(db.clone(), clock.clone());

    // The default tenant is created once, whatever the number of calls.
    let default = tenants.ensure_default().await.unwrap();
    assert_eq!(tenants.ensure_default().await.unwrap().id, default.id);
    assert!(default.is_default);
    assert_eq!(tenants.list_all().await.unwrap().len(), 1);

    // A tenant with its owner, atomically; duplicate slugs conflict.
    let acme = tenants
        .create("Acme", "acme", Some("Owner@Acme.test"))
        .await
        .unwrap();
    assert!(matches!(
        tenants.create("Other", "acme", None).await,
        Err(DomainError::Conflict { .. })
    ));
    assert!(matches!(
        tenants.create("Bad", "acme", Some("not-an-email")).await,
        Err(DomainError::Invalid { .. })
    ));
    assert_eq!(
        tenants.list_all().await.unwrap().len(),
        2,
        "a failed create leaves nothing behind"
    );

    let members = tenants.members(&acme.id).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].email, "owner@acme.test");
    assert_eq!(members[0].role, Role::Owner);

    // Members: add, duplicate, scoped lookups, last-owner guard.
    let ann = tenants
        .add_member(&acme.id, Role::Owner, "ann@acme.test", Role::Member)
        .await
        .unwrap();
    assert!(matches!(
        tenants
            .add_member(&acme.id, Role::Owner, "ANN@acme.test", Role::Admin)
            .await,
        Err(DomainError::Conflict { .. })
    ));
    tenants
        .add_member(&default.id, Role::Owner, "ann@acme.test", Role::Admin)
        .await
        .unwrap();
    let memberships = tenants.memberships("ann@acme.test").await.unwrap();
    assert_eq!(memberships.len(), 2);
    assert!(
        memberships
            .iter()
            .any(|m| m.tenant_id == acme.id && m.role == Role::Member)
    );

    // A member id of one tenant is not found in another.
    assert!(matches!(
        tenants
            .remove_member(&default.id, Role::Owner, &ann.id)
            .await,
        Err(DomainError::NotFound(_))
    ));
    tenants
        .remove_member(&acme.id, Role::Owner, &ann.id)
        .await
        .unwrap();
    assert_eq!(tenants.members(&acme.id).await.unwrap().len(), 1);
    let owner = &tenants.members(&acme.id).await.unwrap()[0];
    assert!(matches!(
        tenants
            .remove_member(&acme.id, Role::Owner, &owner.id)
            .await,
        Err(DomainError::Conflict { .. })
    ));

    // Updates validate and touch only the named tenant.
    clock.advance(1000);
    let renamed = tenants
        .update(&acme.id, Some("Acme Corp"), Some("Europe/Rome"))
        .await
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.timezone.as_str()),
        ("Acme Corp", "Europe/Rome")
    );
    assert!(matches!(
        tenants.update(&acme.id, None, Some("Nowhere/City")).await,
        Err(DomainError::Invalid { .. })
    ));
    assert_eq!(tenants.get(&default.id).await.unwrap().name, default.name);
    assert!(matches!(
        tenants
            .get(&promostack::ids::TenantId::parse("missing").unwrap())
            .await,
        Err(DomainError::NotFound(_))
    ));

    // Settings: first writer wins.
    let (value, inserted) = settings::get_or_insert(&db, "k", "first", 1).await.unwrap();
    assert_eq!((value.as_str(), inserted), ("first", true));
    let (value, inserted) = settings::get_or_insert(&db, "k", "second", 2)
        .await
        .unwrap();
    assert_eq!((value.as_str(), inserted), ("first", false));

    // Leases: one holder at a time; renewal keeps the epoch; takeover after expiry bumps it.
    let now = 10_000;
    assert_eq!(
        leader::try_acquire(&db, "w", "a", now, 30_000)
            .await
            .unwrap(),
        Some(1)
    );
    assert_eq!(
        leader::try_acquire(&db, "w", "b", now + 1, 30_000)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        leader::try_acquire(&db, "w", "a", now + 10_000, 30_000)
            .await
            .unwrap(),
        Some(1)
    );
    assert_eq!(
        leader::try_acquire(&db, "w", "b", now + 39_999, 30_000)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        leader::try_acquire(&db, "w", "b", now + 40_001, 30_000)
            .await
            .unwrap(),
        Some(2)
    );
    assert_eq!(
        leader::try_acquire(&db, "w", "a", now + 40_002, 30_000)
            .await
            .unwrap(),
        None,
        "fenced out"
    );
    leader::release(&db, "w", "b").await.unwrap();
    assert_eq!(
        leader::try_acquire(&db, "w", "a", now + 40_003, 30_000)
            .await
            .unwrap(),
        Some(3)
    );

    db.close().await;
}

/// Several instances starting at once on one fresh database: migrations run once, one default
/// tenant, and on SQLite the racing switches to WAL all end in WAL (SQLite refuses a racing
/// switch without waiting; CI once failed here with "database is locked").
async fn concurrent_migrations_and_bootstrap_agree(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let mut handles = Vec::new();
    for _ in 0..8 {
        let db = Db::connect(&database.config).unwrap();
        handles.push(tokio::spawn(async move {
            db::migrate(&db).await.unwrap();
            TenantService::new(db.clone(), Clock::system())
                .ensure_default()
                .await
                .unwrap()
                .id
        }));
    }
    let mut ids = Vec::new();
    for handle in handles {
        ids.push(handle.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every instance sees the same default tenant");
    let db = Db::connect(&database.config).unwrap();
    promostack::on_pool!(&db, pool => sqlite {
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
    } postgres {
        // PostgreSQL has no journal mode to check.
    });
    assert_eq!(
        TenantService::new(db, Clock::system())
            .list_all()
            .await
            .unwrap()
            .len(),
        1
    );
}
