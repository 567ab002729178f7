//! Bot analytics: the `/api/bot-stats` payload (kept compatible with the original) and the
//! popular-codes table, bucketed in the tenant's time zone.
use crate::ids::TenantId;
use jiff::tz::TimeZone;
use serde::Serialize;

use super::NewUsage;
use super::range::{Granularity, Range, Window};
use super::repo::{self, CodeRow};
use crate::db::{Db, DbResult};
use crate::domains::error::{DomainError, DomainResult};
use crate::domains::tenants::TenantService;
use crate::time::Clock;

pub const CODES_PER_PAGE: i64 = 50;
const TOP_TEMPLATES: i64 = 10;
/// Codes per distinct-users lookup in the CSV export.
const CSV_CHUNK: usize = 200;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UsagePoint {
    pub label: String,
    pub date: String,
    pub count: i64,
    pub successes: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TemplateUsage {
    /// The template's slug as the bot recorded it.
    pub template: String,
    pub count: i64,
    pub success_rate: f64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CodeUsage {
    pub code: String,
    pub count: i64,
    pub successes: i64,
    pub users: i64,
    pub last_used: i64,
}

impl CodeUsage {
    fn new(row: CodeRow, users: i64) -> Self {
        CodeUsage {
            code: row.code,
            count: row.generations,
            successes: row.successes,
            users,
            last_used: row.last_used,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CodePage {
    pub codes: Vec<CodeUsage>,
    pub page: i64,
    pub pages: i64,
    pub per_page: i64,
    pub total: i64,
}

/// The original's payload, snake_case as it was.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BotStats {
    pub days: String,
    #[schema(value_type = String)]
    pub granularity: Granularity,
    pub timezone: String,
    pub start: i64,
    pub end: i64,
    pub total_generations: i64,
    pub successful_generations: i64,
    pub unique_users: i64,
    /// Percent, one decimal; 0 when there were no generations.
    pub success_rate: f64,
    pub top_templates: Vec<TemplateUsage>,
    /// The series: 24 hourly points for today/yesterday, one per day otherwise.
    pub daily_usage: Vec<UsagePoint>,
    /// First page of [`CodePage`].
    pub popular_codes: Vec<CodeUsage>,
    pub popular_codes_total: i64,
}

fn percent(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 1000.0 / whole as f64).round() / 10.0
    }
}

pub fn parse_range(days: Option<&str>) -> DomainResult<Range> {
    let raw = days.unwrap_or("7");
    Range::parse(raw).ok_or_else(|| {
        DomainError::malformed(format!(
            "days must be one of today, yesterday, 7, 30 or 90 (got '{}')",
            raw.chars().take(40).collect::<String>()
        ))
    })
}

#[derive(Clone)]
pub struct AnalyticsService {
    db: Db,
    clock: Clock,
    tenants: TenantService,
}

impl AnalyticsService {
    pub fn new(db: Db, clock: Clock, tenants: TenantService) -> Self {
        Self { db, clock, tenants }
    }

    /// Record one generation attempt (the coupon bot calls this for every attempt): the raw row
    /// and its rollups in one transaction.
    pub async fn record_usage(&self, usage: &NewUsage<'_>) -> DbResult<()> {
        self.record_usages(std::slice::from_ref(usage)).await
    }

    /// Record several attempts in one transaction (imports, seeding); all or none.
    pub async fn record_usages(&self, usages: &[NewUsage<'_>]) -> DbResult<()> {
        let mut tx = self.db.begin().await?;
        for usage in usages {
            repo::record_usage(&mut tx, usage).await?;
        }
        tx.commit().await
    }

    /// Recompute a tenant's rollups from its raw `bot_usage` rows (repairs after a rolling
    /// upgrade from before migration 8, bulk loads); `promostack rebuild-rollups` runs it.
    pub async fn rebuild_rollups(&self, tenant_id: &TenantId) -> DomainResult<()> {
        // Unknown ids are a clear 404 rather than a silent no-op.
        self.tenants.get(tenant_id).await?;
        repo::rebuild_rollups(&self.db, tenant_id).await?;
        Ok(())
    }

    /// Distinct users of each of `rows`' codes in the window, in `rows`' order.
    async fn with_users(
        &self,
        tenant_id: &TenantId,
        window: &Window,
        rows: Vec<CodeRow>,
    ) -> DbResult<Vec<CodeUsage>> {
        let codes: Vec<&str> = rows.iter().map(|r| r.code.as_str()).collect();
        let users: std::collections::HashMap<String, i64> =
            repo::code_users(&self.db, tenant_id, window.start, window.end, &codes)
                .await?
                .into_iter()
                .collect();
        Ok(rows
            .into_iter()
            .map(|row| {
                let n = users.get(&row.code).copied().unwrap_or(0);
                CodeUsage::new(row, n)
            })
            .collect())
    }

    /// The report window for `range` in the tenant's zone (UTC when the stored name is unknown).
    pub async fn window(&self, tenant_id: &TenantId, range: Range) -> DomainResult<Window> {
        let tenant = self.tenants.get(tenant_id).await?;
        let tz = TimeZone::get(&tenant.timezone).unwrap_or(TimeZone::UTC);
        Window::resolve(range, tz, self.clock.now())
            .map_err(|e| DomainError::internal(format!("report window: {e}")))
    }

    pub async fn bot_stats(&self, tenant_id: &TenantId, range: Range) -> DomainResult<BotStats> {
        let window = self.window(tenant_id, range).await?;
        let (from_slot, to_slot) = window.slots();
        let cover = window.day_cover();
        let db = &self.db;
        // Four independent reads of the rollups, side by side on separate connections.
        let (slots, users, templates, codes) = tokio::try_join!(
            repo::usage_by_slot(db, tenant_id, from_slot, to_slot),
            repo::unique_users(db, tenant_id, window.start, window.end),
            repo::top_templates(db, tenant_id, &cover, TOP_TEMPLATES),
            repo::popular_codes(db, tenant_id, &cover, "%", CODES_PER_PAGE, 0),
        )?;
        let buckets = window.buckets();
        let mut series: Vec<UsagePoint> = buckets
            .into_iter()
            .map(|b| UsagePoint {
                label: b.label,
                date: b.date,
                count: 0,
                successes: 0,
            })
            .collect();
        let (mut total, mut successes) = (0, 0);
        for row in slots {
            if let Some(point) = window.bucket_of(row.slot).and_then(|i| series.get_mut(i)) {
                point.count += row.generations;
                point.successes += row.successes;
                total += row.generations;
                successes += row.successes;
            }
        }
        let codes_total = codes.first().map_or(0, |c| c.total);
        let codes = self.with_users(tenant_id, &window, codes).await?;
        Ok(BotStats {
            days: range.as_str(),
            granularity: window.granularity(),
            timezone: window.tz.iana_name().unwrap_or("UTC").to_owned(),
            start: window.start,
            end: window.end,
            total_generations: total,
            successful_generations: successes,
            unique_users: users,
            success_rate: percent(successes, total),
            top_templates: templates
                .into_iter()
                .map(|t| TemplateUsage {
                    template: t.template_slug,
                    count: t.generations,
                    success_rate: percent(t.successes, t.generations),
                })
                .collect(),
            daily_usage: series,
            popular_codes: codes,
            popular_codes_total: codes_total,
        })
    }

    /// One page (1-based) of codes matching `query`; a page past the end is a 400.
    pub async fn codes(
        &self,
        tenant_id: &TenantId,
        range: Range,
        query: &str,
        page: i64,
    ) -> DomainResult<CodePage> {
        let query = validate_query(query)?;
        if page < 1 {
            return Err(DomainError::malformed("page must be 1 or more"));
        }
        let window = self.window(tenant_id, range).await?;
        let pattern = repo::like_pattern(query);
        let offset = (page - 1).saturating_mul(CODES_PER_PAGE);
        let cover = window.day_cover();
        let rows = repo::popular_codes(
            &self.db,
            tenant_id,
            &cover,
            &pattern,
            CODES_PER_PAGE,
            offset,
        )
        .await?;
        let total = match rows.first() {
            Some(row) => row.total,
            None => repo::count_codes(&self.db, tenant_id, &cover, &pattern).await?,
        };
        let pages = ((total + CODES_PER_PAGE - 1) / CODES_PER_PAGE).max(1);
        if page > pages {
            return Err(DomainError::malformed(format!(
                "page {page} is out of range: there {} {pages} page{}",
                if pages == 1 { "is" } else { "are" },
                if pages == 1 { "" } else { "s" }
            )));
        }
        Ok(CodePage {
            codes: self.with_users(tenant_id, &window, rows).await?,
            page,
            pages,
            per_page: CODES_PER_PAGE,
            total,
        })
    }

    /// Stream every matching code as CSV lines into `tx` (header first).
    pub async fn codes_csv(
        &self,
        tenant_id: &TenantId,
        range: Range,
        query: &str,
        tx: tokio::sync::mpsc::Sender<String>,
    ) -> DomainResult<()> {
        let query = validate_query(query)?;
        let window = self.window(tenant_id, range).await?;
        let pattern = repo::like_pattern(query);
        if tx
            .send("code,generations,successful,users,last_used\r\n".into())
            .await
            .is_err()
        {
            return Ok(());
        }
        // Codes come in chunks so distinct users are looked up for a few hundred codes at a time.
        repo::stream_codes(
            &self.db,
            tenant_id,
            &window.day_cover(),
            &pattern,
            CSV_CHUNK,
            |rows| {
                let (service, tenant_id, window, tx) = (
                    self.clone(),
                    tenant_id.to_owned(),
                    window.clone(),
                    tx.clone(),
                );
                async move {
                    let codes = service.with_users(&tenant_id, &window, rows).await?;
                    for code in codes {
                        if tx.send(csv_line(&code, &window.tz)).await.is_err() {
                            return Ok(false);
                        }
                    }
                    Ok(true)
                }
            },
        )
        .await?;
        Ok(())
    }
}

fn csv_line(code: &CodeUsage, tz: &TimeZone) -> String {
    let last = jiff::Timestamp::from_millisecond(code.last_used)
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string()
        })
        .unwrap_or_default();
    crate::csv::row(&[
        &code.code,
        &code.count.to_string(),
        &code.successes.to_string(),
        &code.users.to_string(),
        &last,
    ])
}

fn validate_query(query: &str) -> DomainResult<&str> {
    let query = query.trim();
    if query.chars().count() > 64 {
        return Err(DomainError::malformed(
            "search text is limited to 64 characters",
        ));
    }
    Ok(query)
}
