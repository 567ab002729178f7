//! A small embedded migration runner. One ordered list of portable SQL files runs on both
//! backends; each file is applied once, in its own transaction, recorded in `schema_migrations`.
//! (sqlx's runner needs its `macros` feature to embed files; this keeps builds database-free.)
use std::time::{Duration, Instant};

use sqlx::AssertSqlSafe;

use super::{Affected, Db, DbError, DbResult, Tx};
use crate::{on_pool, on_tx};

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sql: include_str!("migrations/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "templates",
        sql: include_str!("migrations/0002_templates.sql"),
    },
    Migration {
        version: 3,
        name: "bot_users",
        sql: include_str!("migrations/0003_bot_users.sql"),
    },
    Migration {
        version: 4,
        name: "coupons",
        sql: include_str!("migrations/0004_coupons.sql"),
    },
    Migration {
        version: 5,
        name: "bot",
        sql: include_str!("migrations/0005_bot.sql"),
    },
    Migration {
        version: 6,
        name: "campaigns",
        sql: include_str!("migrations/0006_campaigns.sql"),
    },
    Migration {
        version: 7,
        name: "broadcasts",
        sql: include_str!("migrations/0007_broadcasts.sql"),
    },
    Migration {
        version: 8,
        name: "bot_usage_rollups",
        sql: include_str!("migrations/0008_bot_usage_rollups.sql"),
    },
    Migration {
        version: 9,
        name: "bot_updates_pending_indexes",
        sql: include_str!("migrations/0009_bot_updates_pending_indexes.sql"),
    },
    Migration {
        version: 10,
        name: "connections",
        sql: include_str!("migrations/0010_connections.sql"),
    },
    Migration {
        version: 11,
        name: "connection_secret_grace",
        sql: include_str!("migrations/0011_connection_secret_grace.sql"),
    },
    Migration {
        version: 12,
        name: "auth_sessions",
        sql: include_str!("migrations/0012_auth_sessions.sql"),
    },
    Migration {
        version: 13,
        name: "forex",
        sql: include_str!("migrations/0013_forex.sql"),
    },
];

/// Apply every pending migration. Safe to call from several instances at once: PostgreSQL
/// serialises them with a transaction-scoped advisory lock, SQLite with `BEGIN IMMEDIATE`.
pub async fn migrate(db: &Db) -> DbResult<Vec<i64>> {
    migrate_to(db, i64::MAX).await
}

/// Apply pending migrations up to and including `version` (tests of a migration's back-fill
/// start from the schema before it).
pub async fn migrate_to(db: &Db, version: i64) -> DbResult<Vec<i64>> {
    use_wal(db).await?;
    // Even `CREATE TABLE IF NOT EXISTS` races on PostgreSQL (catalog unique violation), so the
    // bookkeeping table is created under the same lock as the migrations.
    let mut tx = db.begin().await?;
    lock_migrations(&mut tx).await?;
    on_tx!(&mut tx, conn => sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
    ).execute(&mut **conn).await.affected())?;
    tx.commit().await?;
    let mut applied = Vec::new();
    for migration in MIGRATIONS.iter().filter(|m| m.version <= version) {
        let mut tx = db.begin().await?;
        lock_migrations(&mut tx).await?;
        let done: Option<i64> = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "SELECT version FROM schema_migrations WHERE version = $1"
        ).bind(migration.version).fetch_optional(&mut **conn).await)?;
        if done.is_some() {
            continue;
        }
        for statement in split_statements(migration.sql) {
            on_tx!(&mut tx, conn => sqlx::query(AssertSqlSafe(statement.to_owned())).execute(&mut **conn).await.affected())
                .map_err(|e| DbError::other(format!("migration {} failed", migration.name), e))?;
        }
        on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)"
        ).bind(migration.version).bind(migration.name).bind(crate::time::system_now())
            .execute(&mut **conn).await.affected())?;
        tx.commit().await?;
        applied.push(migration.version);
    }
    Ok(applied)
}

/// Serialise migrators across instances: a transaction-scoped advisory lock on PostgreSQL; on
/// SQLite the `BEGIN IMMEDIATE` of [`Db::begin`] already holds the write lock.
async fn lock_migrations(tx: &mut Tx) -> DbResult<()> {
    on_tx!(tx, conn => sqlite {
        Ok(())
    } postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(7123001)")
            .execute(&mut **conn)
            .await
            .affected()?;
        Ok(())
    })
}

/// How long instances starting together on one fresh SQLite file keep retrying the WAL switch.
const WAL_SWITCH_PATIENCE: Duration = Duration::from_secs(15);

/// Switch a SQLite file to WAL (persistent in the file, so every later connection opens in WAL).
/// This is not a connect option: a switch racing another connection's is refused with
/// SQLITE_BUSY at once, without the busy handler (SQLite's rule against two readers deadlocking
/// on the upgrade to a write), so instances starting together on a fresh file retry here.
async fn use_wal(db: &Db) -> DbResult<()> {
    on_pool!(db, pool => sqlite {
        let deadline = Instant::now() + WAL_SWITCH_PATIENCE;
        let mut attempt: u64 = 0;
        loop {
            let result: Result<String, sqlx::Error> = sqlx::query_scalar("PRAGMA journal_mode = WAL")
                .fetch_one(pool)
                .await;
            match result {
                Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
                Ok(mode) => {
                    // An in-memory database answers "memory"; it still works, one connection at a time.
                    tracing::warn!(journal_mode = %mode, "SQLite did not switch to WAL");
                    return Ok(());
                }
                Err(err) if is_busy(&err) && Instant::now() < deadline => {
                    attempt += 1;
                    // Spread the retries so the racing instances do not collide again in step.
                    let jitter = rand::random_range(0..20 * attempt.min(10));
                    tokio::time::sleep(Duration::from_millis(5 + jitter)).await;
                }
                Err(err) => return Err(err.into()),
            }
        }
    } postgres {
        Ok(())
    })
}

/// SQLITE_BUSY and its extended codes (primary code 5 in the low byte).
fn is_busy(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| code & 0xff == 5),
        _ => false,
    }
}

/// Split a migration file on `;` at line ends (our migrations hold no procedural code).
fn split_statements(sql: &str) -> impl Iterator<Item = &str> {
    sql.split(";\n").map(str::trim).filter(|s| {
        s.lines().any(|line| {
            let line = line.trim();
            !line.is_empty() && !line.starts_with("--")
        })
    })
}
