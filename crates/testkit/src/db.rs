//! Fresh databases per test: a SQLite file in a temp dir, or a new PostgreSQL database on the
//! server named by `TEST_DATABASE_URL` (default: the local server on 127.0.0.1:5432).
use promostack::config::{DatabaseConfig, Secret};
use sqlx::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestDatabase {
    pub config: DatabaseConfig,
    _dir: Option<tempfile::TempDir>,
}

pub fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("test.db");
                TestDatabase {
                    config: DatabaseConfig::Sqlite { path },
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let mut conn = sqlx::PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL tests need a server: {e}. Run scripts/test, which provisions one, \
                         or set TEST_DATABASE_URL."
                    )
                });
                let name = format!("promostack_test_{}", uuid::Uuid::now_v7().simple());
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let url = replace_database(&admin_url, &name);
                TestDatabase {
                    config: DatabaseConfig::Postgres {
                        url: Secret::new(url),
                    },
                    _dir: None,
                }
            }
        }
    }
}

/// `postgres://u@h:p/old?x` -> `postgres://u@h:p/new?x`
pub fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            super::replace_database("postgres://u@h:5432/postgres", "t1"),
            "postgres://u@h:5432/t1"
        );
        assert_eq!(
            super::replace_database("postgres://u@h/db?sslmode=disable", "t2"),
            "postgres://u@h/t2?sslmode=disable"
        );
        assert_eq!(
            super::replace_database("postgres://u@h:1", "t3"),
            "postgres://u@h:1/t3"
        );
    }
}
