//! Records on two backends: SQLite (embedded default) and PostgreSQL, one portable SQL dialect
//! (docs/design.md §8). Repositories write each query once and run it on either pool through
//! [`on_pool!`] / [`on_tx!`], which expand the same tokens for each concrete pool type. Where the
//! backends must differ, the same macros take one block per backend instead (`sqlite { .. }
//! postgres { .. }`), so each backend's code sits in the one arm that runs it.
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::config::DatabaseConfig;

mod migrate;
pub mod settings;
pub use migrate::{MIGRATIONS, migrate, migrate_to};

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Run one expression against whichever pool `db` holds: `on_pool!(db, pool => query.fetch_all(pool))`.
///
/// Where the backends need different code, give one block per backend, SQLite first:
/// `on_pool!(db, pool => sqlite { .. } postgres { .. })`. Each block is compiled only for its
/// own pool type and may do nothing with `pool` (say, `postgres { Ok(()) }`); a block is part of
/// the enclosing function, so `?` and `return` inside it work as they would outside.
#[macro_export]
macro_rules! on_pool {
    ($db:expr, $pool:ident => sqlite $sqlite:block postgres $postgres:block) => {
        match $db {
            #[allow(unused_variables)]
            $crate::db::Db::Sqlite($pool) => $sqlite,
            #[allow(unused_variables)]
            $crate::db::Db::Postgres($pool) => $postgres,
        }
    };
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// Like [`on_pool!`] for an open transaction: `on_tx!(tx, conn => query.execute(&mut **conn))`,
/// or per backend: `on_tx!(tx, conn => sqlite { .. } postgres { .. })`.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => sqlite $sqlite:block postgres $postgres:block) => {
        match $tx {
            #[allow(unused_variables)]
            $crate::db::Tx::Sqlite($conn) => $sqlite,
            #[allow(unused_variables)]
            $crate::db::Tx::Postgres($conn) => $postgres,
        }
    };
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite($conn) => $body,
            $crate::db::Tx::Postgres($conn) => $body,
        }
    };
}

/// How many rows a statement changed, as a [`DbResult`]:
/// `on_pool!(db, pool => query.execute(pool).await.affected())`. The two backends return
/// different result types, so this gives the arms of [`on_pool!`] / [`on_tx!`] one type.
pub trait Affected {
    fn affected(self) -> DbResult<u64>;
}

impl Affected for Result<sqlx::sqlite::SqliteQueryResult, sqlx::Error> {
    fn affected(self) -> DbResult<u64> {
        Ok(self?.rows_affected())
    }
}

impl Affected for Result<sqlx::postgres::PgQueryResult, sqlx::Error> {
    fn affected(self) -> DbResult<u64> {
        Ok(self?.rows_affected())
    }
}

/// Store an enum as TEXT on both backends: `text_enum!(Status)` gives it sqlx's `Type`, `Encode`
/// and `Decode` through its `as_str()` / `parse()` (an `Option`), so status columns are read and
/// written as typed values with no database-side enum type (PostgreSQL enums cannot be altered
/// in a transaction, and SQLite has none). An unknown stored value is a decode error naming it.
#[macro_export]
macro_rules! text_enum {
    ($ty:ty) => {
        impl<DB: sqlx::Database> sqlx::Type<DB> for $ty
        where
            str: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $ty
        where
            &'static str: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&'static str as sqlx::Encode<'q, DB>>::encode(self.as_str(), buf)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $ty
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(
                value: <DB as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&'r str as sqlx::Decode<'r, DB>>::decode(value)?;
                <$ty>::parse(text)
                    .ok_or_else(|| format!("unknown {} '{}'", stringify!($ty), text).into())
            }
        }
    };
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("constraint violated: {0}")]
    Constraint(String),
    #[error("not found")]
    NotFound,
    /// Anything else; the driver's error is kept as the cause.
    #[error("database error: {context}")]
    Other {
        context: String,
        #[source]
        source: crate::domains::error::Cause,
    },
}

impl DbError {
    /// An unexpected failure with its cause: `DbError::other("migration 3", err)`.
    pub fn other(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        DbError::Other {
            context: context.into(),
            source: source.into().into(),
        }
    }
}

impl From<sqlx::Error> for DbError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => DbError::NotFound,
            sqlx::Error::Database(db) => match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => {
                    DbError::Conflict(db.message().to_owned())
                }
                sqlx::error::ErrorKind::ForeignKeyViolation
                | sqlx::error::ErrorKind::NotNullViolation
                | sqlx::error::ErrorKind::CheckViolation => {
                    DbError::Constraint(db.message().to_owned())
                }
                _ if database_gone(db.code().as_deref(), db.message()) => {
                    DbError::Unavailable(db.message().to_owned())
                }
                _ => DbError::other("query failed", err),
            },
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => DbError::Unavailable(err.to_string()),
            _ => DbError::other("query failed", err),
        }
    }
}

/// The database itself is gone or going, not the query wrong: a server shutting down or
/// restarting (57P01-03), a connection failure (08xxx), too many connections (53300), the
/// database dropped (3D000), or the schema missing after the database came back empty
/// (PostgreSQL 42P01, SQLite "no such table"). These answer 503 like an unreachable database,
/// and the health probe re-runs migrations when the schema is gone (app.rs).
fn database_gone(code: Option<&str>, message: &str) -> bool {
    match code {
        Some(code) => {
            matches!(
                code,
                "57P01" | "57P02" | "57P03" | "3D000" | "53300" | "42P01"
            ) || code.starts_with("08")
                || message.starts_with("no such table")
        }
        None => message.starts_with("no such table"),
    }
}

pub type DbResult<T> = Result<T, DbError>;

impl Db {
    /// Open the pool lazily: start-up never blocks on an unreachable PostgreSQL, and routes that
    /// need records answer 503 until it comes back.
    pub fn connect(config: &DatabaseConfig) -> DbResult<Db> {
        match config {
            DatabaseConfig::Sqlite { path } => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        DbError::Unavailable(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    // WAL is switched on once by `migrate` (see `use_wal`), not per connection.
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5));
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect_lazy_with(options);
                Ok(Db::Sqlite(pool))
            }
            DatabaseConfig::Postgres { url } => {
                let options = PgConnectOptions::from_str(url.expose())
                    .map_err(|e| DbError::other("invalid DATABASE_URL", e))?;
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(3))
                    .connect_lazy_with(options);
                Ok(Db::Postgres(pool))
            }
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Cheap round trip for readiness checks.
    /// Whether the schema is there and up to date: `Ok(false)` when `schema_migrations` is
    /// missing or behind (the database was replaced by an empty one, or restored from an older
    /// backup); `Err` when the database cannot be reached.
    pub async fn schema_is_current(&self) -> DbResult<bool> {
        let latest = migrate::MIGRATIONS.last().map_or(0, |m| m.version);
        let found = on_pool!(self, pool => sqlx::query_scalar::<_, Option<i64>>(
            "SELECT MAX(version) FROM schema_migrations"
        ).fetch_one(pool).await);
        match found {
            Ok(version) => Ok(version.unwrap_or(0) >= latest),
            Err(err) => match DbError::from(err) {
                DbError::Unavailable(detail)
                    if detail.contains("schema_migrations") || detail.contains("no such table") =>
                {
                    Ok(false)
                }
                other => Err(other),
            },
        }
    }

    pub async fn ping(&self) -> DbResult<()> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.affected())?;
        Ok(())
    }

    /// Start a transaction. On SQLite it takes the write lock at once ([`begin_immediate`]).
    pub async fn begin(&self) -> DbResult<Tx> {
        match self {
            Db::Sqlite(pool) => Ok(Tx::Sqlite(begin_immediate(pool).await?)),
            Db::Postgres(pool) => Ok(Tx::Postgres(pool.begin().await?)),
        }
    }

    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

/// A SQLite transaction that takes the write lock at once (`BEGIN IMMEDIATE`), so two writers
/// never deadlock upgrading read locks; for the `sqlite` arm of an [`on_pool!`] that needs one.
pub async fn begin_immediate(pool: &SqlitePool) -> DbResult<Transaction<'static, Sqlite>> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

impl Tx {
    pub async fn commit(self) -> DbResult<()> {
        on_tx!(self, tx => tx.commit().await)?;
        Ok(())
    }
}

/// `n` copies of `item` joined by ", ": the `VALUES` rows or `IN (…)` list of a batch statement on
/// SQLite, written with plain `?` markers and bound in textual order. SQLite treats `$n` as a
/// NAME, looked up among all earlier ones while parsing and again by sqlx while binding, so a
/// 1,600-parameter batch in `$n` form was quadratic to prepare.
pub fn sqlite_list(item: &str, n: usize) -> String {
    vec![item; n].join(", ")
}

/// `items` in chunks whose lengths are powers of two, largest first, none over `max` (itself a
/// power of two): 200 rows go as 128 + 64 + 8. A SQLite batch statement written per chunk then
/// has at most log2(max) + 1 texts, which sqlx's statement cache (100 per connection) keeps
/// prepared; one text per batch size made it re-parse them under load.
pub fn pow2_chunks<T>(mut items: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    debug_assert!(max.is_power_of_two());
    std::iter::from_fn(move || {
        if items.is_empty() {
            return None;
        }
        let n = max.min(1 << items.len().ilog2());
        let (chunk, rest) = items.split_at(n);
        items = rest;
        Some(chunk)
    })
}

/// `$first, $first+1, …` (`n` placeholders) for an `IN (…)` list whose values are bound; only
/// these generated markers go into the SQL text.
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A fresh UUIDv7 as text: ids are generated in the app so both backends agree.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::pow2_chunks;

    #[test]
    fn pow2_chunks_are_powers_of_two_largest_first() {
        let items: Vec<u32> = (0..200).collect();
        let sizes = |items: &[u32], max| {
            pow2_chunks(items, max)
                .map(<[u32]>::len)
                .collect::<Vec<_>>()
        };
        assert_eq!(sizes(&items, 128), [128, 64, 8]);
        assert_eq!(sizes(&items, 32), [32, 32, 32, 32, 32, 32, 8]);
        assert_eq!(sizes(&items[..7], 4), [4, 2, 1]);
        assert_eq!(sizes(&items[..0], 8), Vec::<usize>::new());
        let joined: Vec<u32> = pow2_chunks(&items, 128).flatten().copied().collect();
        assert_eq!(joined, items, "every item once, in order");
    }
}
