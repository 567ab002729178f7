//! Test support for broadcasts and bot analytics: a [`TestApp`] method per endpoint and seeding
//! of `bot_users` / `bot_usage` rows (the coupon bot writes these in production; tests and
//! benchmarks insert them directly).
use std::time::Duration;

use promostack::config::DatabaseConfig;
use promostack::db::{Affected, Db};
use promostack::domains::analytics::NewUsage;
use promostack::time::Clock;
use reqwest::{Method, Response};
use serde_json::Value;

use crate::TestApp;

/// A pool on the app's database, for seeding rows.
pub fn seed_db(config: &DatabaseConfig) -> Db {
    Db::connect(config).expect("seed pool")
}

/// One `bot_usage` row to insert.
#[derive(Debug, Clone)]
pub struct Usage {
    pub user_id: Option<i64>,
    pub template: Option<String>,
    pub code: Option<String>,
    pub success: bool,
    pub at: i64,
}

impl Usage {
    pub fn new(user_id: i64, template: &str, code: &str, success: bool, at: i64) -> Usage {
        Usage {
            user_id: Some(user_id),
            template: Some(template.into()),
            code: Some(code.into()),
            success,
            at,
        }
    }
}

/// Record usage rows for `tenant_id` through the production write path
/// (`AnalyticsService::record_usages`: raw row + rollups), in batched transactions.
pub async fn seed_usage(db: &Db, tenant_id: &str, rows: &[Usage]) {
    let tenant_id = &promostack::ids::TenantId::parse(tenant_id).expect("a workspace id");
    let clock = Clock::fixed(0);
    let analytics = promostack::domains::analytics::AnalyticsService::new(
        db.clone(),
        clock.clone(),
        promostack::domains::tenants::TenantService::new(db.clone(), clock),
    );
    for chunk in rows.chunks(5_000) {
        let usages: Vec<NewUsage<'_>> = chunk
            .iter()
            .map(|row| NewUsage {
                tenant_id,
                user_id: row.user_id,
                chat_id: row.user_id.unwrap_or(-100),
                chat_type: "private",
                template_slug: row.template.as_deref(),
                variant: Some("square"),
                code: row.code.as_deref(),
                failure: if row.success {
                    None
                } else {
                    Some("invalid_coupon")
                },
                latency_ms: 120,
                created_at: row.at,
            })
            .collect();
        analytics
            .record_usages(&usages)
            .await
            .expect("record usage");
    }
}

/// Insert bot users `ids` for `tenant_id` (usernames `user<id>`, or `usernames` when given).
pub async fn seed_bot_users(db: &Db, tenant_id: &str, ids: &[i64], blocked: bool) {
    for chunk in ids.chunks(5_000) {
        let mut tx = db.begin().await.expect("begin");
        for id in chunk {
            promostack::on_tx!(&mut tx, conn => sqlx::query(
                "INSERT INTO bot_users (tenant_id, user_id, username, first_name, language_code, first_seen, last_seen, blocked) \
                 VALUES ($1, $2, $3, 'Test', 'en', 1, 1, $4)"
            ).bind(tenant_id).bind(id).bind(format!("user{id}")).bind(blocked)
                .execute(&mut **conn).await.affected()).expect("insert bot user");
        }
        tx.commit().await.expect("commit");
    }
}

/// Set a bot user's username (e.g. to a formula, for CSV tests).
pub async fn set_username(db: &Db, tenant_id: &str, user_id: i64, username: &str) {
    promostack::on_pool!(db, pool => sqlx::query("UPDATE bot_users SET username = $3 WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant_id).bind(user_id).bind(username).execute(pool).await.affected())
        .expect("update username");
}

/// `(blocked)` of a bot user.
pub async fn is_blocked(db: &Db, tenant_id: &str, user_id: i64) -> bool {
    promostack::on_pool!(db, pool => sqlx::query_scalar::<_, bool>("SELECT blocked FROM bot_users WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant_id).bind(user_id).fetch_one(pool).await)
        .expect("bot user")
}

impl TestApp {
    pub async fn bot_stats(&self, days: &str) -> Response {
        self.send(Method::GET, &format!("/api/bot-stats?days={days}"), None)
            .await
    }

    pub async fn bot_codes(&self, days: &str, q: &str, page: &str) -> Response {
        let path = with_query(
            "/api/bot-stats/codes",
            &[("days", days), ("q", q), ("page", page)],
        );
        self.send(Method::GET, &path, None).await
    }

    pub async fn bot_codes_csv(&self, days: &str, q: &str) -> Response {
        let path = with_query("/api/bot-stats/codes.csv", &[("days", days), ("q", q)]);
        self.send(Method::GET, &path, None).await
    }

    pub async fn broadcast(&self, body: Value) -> Response {
        self.send(Method::POST, "/api/broadcast", Some(body)).await
    }

    pub async fn broadcast_with_key(&self, body: Value, key: &str) -> Response {
        self.request(Method::POST, "/api/broadcast")
            .header("idempotency-key", key)
            .json(&body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn broadcast_audience(&self) -> Response {
        self.send(Method::GET, "/api/broadcast-audience", None)
            .await
    }

    pub async fn broadcast_status(&self, id: &str) -> Response {
        self.send(Method::GET, &format!("/api/broadcast-status/{id}"), None)
            .await
    }

    pub async fn broadcast_jobs(&self) -> Response {
        self.send(Method::GET, "/api/broadcast-jobs", None).await
    }

    /// `action`: pause | resume | cancel.
    pub async fn broadcast_action(&self, id: &str, action: &str) -> Response {
        self.send(Method::POST, &format!("/api/broadcast/{id}/{action}"), None)
            .await
    }

    pub async fn broadcast_report(&self, id: &str) -> Response {
        self.send(Method::GET, &format!("/api/broadcast-report/{id}"), None)
            .await
    }

    /// Poll the status until `done(status)` holds (or panic after `limit`).
    pub async fn wait_broadcast(
        &self,
        id: &str,
        limit: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let status = crate::json(self.broadcast_status(id).await, 200).await;
            if done(&status) {
                return status;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "broadcast {id} did not get there in {limit:?}: {status}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// `path?k=v&..` with the values percent-encoded.
fn with_query(path: &str, params: &[(&str, &str)]) -> String {
    let url =
        reqwest::Url::parse_with_params(&format!("http://localhost{path}"), params).expect("url");
    format!("{}?{}", url.path(), url.query().unwrap_or(""))
}

/// One portable INSERT ... SELECT that writes `rows` usage rows for tenant `$1`, spread evenly
/// over the 89 days before `now` (inside a 90-day report) (20,000 users, 12 templates, 5,000 codes, 90 % success).
/// It bypasses the write path: follow it with [`seed_usage_bulk`]'s rollup rebuild (or call that).
pub fn usage_seed_sql(rows: i64, now: i64) -> String {
    let span = 89 * 24 * 3_600_000i64;
    format!(
        "INSERT INTO bot_usage (id, tenant_id, user_id, chat_id, chat_type, template_slug, variant, code, success, reason, latency_ms, created_at) \
         WITH RECURSIVE n(i) AS (SELECT CAST(0 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < {last}) \
         SELECT 'u' || i, $1, (i * 7919) % 20000, (i * 7919) % 20000, 'private', 'tpl-' || (i % 12), 'square', \
                'CODE' || ((i * 31) % 5000), (i % 10) <> 0, NULL, 100, {now} - (i * {step}) \
         FROM n",
        last = rows - 1,
        now = now - 1,
        step = span / rows,
    )
}

/// Bulk-load `rows` synthetic usage rows ([`usage_seed_sql`]) for `tenant_id`, then rebuild the
/// tenant's rollups with the back-fill of migration 8, as after an upgrade.
pub async fn seed_usage_bulk(db: &Db, tenant_id: &str, rows: i64, now: i64) {
    promostack::on_pool!(db, pool => sqlx::query(sqlx::AssertSqlSafe(usage_seed_sql(rows, now)))
        .bind(tenant_id).execute(pool).await.affected())
    .expect("seed usage");
    let tenant_id = promostack::ids::TenantId::parse(tenant_id).expect("a workspace id");
    promostack::domains::analytics::repo::rebuild_rollups(db, &tenant_id)
        .await
        .expect("rebuild rollups");
}
