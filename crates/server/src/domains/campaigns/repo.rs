//! SQL for campaigns and their entries; every admin query is scoped by tenant id, the public
//! ones look a campaign up by its (unguessable) id alone.
use crate::db::{Affected, Db, DbResult, Tx};
use crate::ids::TenantId;
use crate::{on_pool, on_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignRow {
    pub id: String,
    pub tenant_id: TenantId,
    pub title: String,
    pub description: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub platforms_json: String,
    pub paused: bool,
    pub overlay_key: Option<String>,
    pub overlay_width: Option<i64>,
    pub overlay_height: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A campaign with its entry counts (the admin list).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignWithCounts {
    #[sqlx(flatten)]
    pub campaign: CampaignRow,
    pub entries: i64,
    pub pending: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubmissionRow {
    pub id: String,
    pub campaign_id: String,
    pub tenant_id: TenantId,
    pub url: String,
    pub normalized_url: String,
    pub platform: String,
    pub name: Option<String>,
    pub handle: Option<String>,
    pub email: Option<String>,
    pub status: String,
    pub created_at: i64,
    pub reviewed_at: Option<i64>,
}

const CAMPAIGN_COLUMNS: &str = "c.id, c.tenant_id, c.title, c.description, c.starts_at, c.ends_at, c.platforms_json, \
     c.paused, c.overlay_key, c.overlay_width, c.overlay_height, c.created_at, c.updated_at";

const SUBMISSION_COLUMNS: &str = "id, campaign_id, tenant_id, url, normalized_url, platform, name, handle, email, \
     status, created_at, reviewed_at";

pub async fn list(db: &Db, tenant_id: &TenantId) -> DbResult<Vec<CampaignWithCounts>> {
    let sql = format!(
        "SELECT {CAMPAIGN_COLUMNS}, \
         (SELECT COUNT(*) FROM campaign_submissions s WHERE s.campaign_id = c.id) AS entries, \
         (SELECT COUNT(*) FROM campaign_submissions s WHERE s.campaign_id = c.id AND s.status = 'pending') AS pending \
         FROM campaigns c WHERE c.tenant_id = $1 ORDER BY c.starts_at DESC, c.id"
    );
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, CampaignWithCounts>(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id).fetch_all(pool).await)?,
    )
}

pub async fn find(db: &Db, tenant_id: &TenantId, id: &str) -> DbResult<Option<CampaignWithCounts>> {
    let sql = format!(
        "SELECT {CAMPAIGN_COLUMNS}, \
         (SELECT COUNT(*) FROM campaign_submissions s WHERE s.campaign_id = c.id) AS entries, \
         (SELECT COUNT(*) FROM campaign_submissions s WHERE s.campaign_id = c.id AND s.status = 'pending') AS pending \
         FROM campaigns c WHERE c.tenant_id = $1 AND c.id = $2"
    );
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, CampaignWithCounts>(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id).bind(id).fetch_optional(pool).await)?,
    )
}

/// By id alone: the public page and the public entry form.
pub async fn find_public(db: &Db, id: &str) -> DbResult<Option<CampaignRow>> {
    let sql = format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns c WHERE c.id = $1");
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, CampaignRow>(sqlx::AssertSqlSafe(sql))
        .bind(id).fetch_optional(pool).await)?,
    )
}

pub async fn insert(tx: &mut Tx, row: &CampaignRow) -> DbResult<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO campaigns (id, tenant_id, title, description, starts_at, ends_at, platforms_json, paused, \
         overlay_key, overlay_width, overlay_height, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    ).bind(&row.id).bind(&row.tenant_id).bind(&row.title).bind(&row.description).bind(row.starts_at)
        .bind(row.ends_at).bind(&row.platforms_json).bind(row.paused).bind(&row.overlay_key)
        .bind(row.overlay_width).bind(row.overlay_height).bind(row.created_at).bind(row.updated_at)
        .execute(&mut **conn).await.affected())?;
    Ok(())
}

/// Title, description, window, platforms and pause flag. Returns whether a row was written.
pub async fn update_details(tx: &mut Tx, row: &CampaignRow) -> DbResult<bool> {
    let n = on_tx!(tx, conn => sqlx::query(
        "UPDATE campaigns SET title = $3, description = $4, starts_at = $5, ends_at = $6, platforms_json = $7, \
         paused = $8, updated_at = $9 WHERE tenant_id = $1 AND id = $2"
    ).bind(&row.tenant_id).bind(&row.id).bind(&row.title).bind(&row.description).bind(row.starts_at)
        .bind(row.ends_at).bind(&row.platforms_json).bind(row.paused).bind(row.updated_at)
        .execute(&mut **conn).await.affected())?;
    Ok(n == 1)
}

/// Point the campaign at a new overlay object (or none) only if it still names `expected_key`,
/// so two concurrent uploads cannot leave the row naming an object the other one deleted.
pub async fn set_overlay(
    tx: &mut Tx,
    tenant_id: &TenantId,
    id: &str,
    expected_key: Option<&str>,
    overlay: Option<(&str, i64, i64)>,
    now: i64,
) -> DbResult<bool> {
    let (key, width, height) = match overlay {
        Some((key, w, h)) => (Some(key), Some(w), Some(h)),
        None => (None, None, None),
    };
    let n = on_tx!(tx, conn => sqlx::query(
        "UPDATE campaigns SET overlay_key = $3, overlay_width = $4, overlay_height = $5, updated_at = $6 \
         WHERE tenant_id = $1 AND id = $2 AND COALESCE(overlay_key, '') = $7"
    ).bind(tenant_id).bind(id).bind(key).bind(width).bind(height).bind(now)
        .bind(expected_key.unwrap_or(""))
        .execute(&mut **conn).await.affected())?;
    Ok(n == 1)
}

pub async fn delete(tx: &mut Tx, tenant_id: &TenantId, id: &str) -> DbResult<bool> {
    let n = on_tx!(tx, conn => sqlx::query("DELETE FROM campaigns WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id).bind(id).execute(&mut **conn).await.affected())?;
    Ok(n == 1)
}

pub async fn insert_submission(tx: &mut Tx, row: &SubmissionRow) -> DbResult<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO campaign_submissions (id, campaign_id, tenant_id, url, normalized_url, platform, name, handle, \
         email, status, created_at, reviewed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    ).bind(&row.id).bind(&row.campaign_id).bind(&row.tenant_id).bind(&row.url).bind(&row.normalized_url)
        .bind(&row.platform).bind(&row.name).bind(&row.handle).bind(&row.email).bind(&row.status)
        .bind(row.created_at).bind(row.reviewed_at)
        .execute(&mut **conn).await.affected())?;
    Ok(())
}

/// Entries of one campaign, newest first; `""` for a filter means "any".
pub async fn list_submissions(
    db: &Db,
    tenant_id: &TenantId,
    campaign_id: &str,
    platform: &str,
    status: &str,
) -> DbResult<Vec<SubmissionRow>> {
    let sql = format!(
        "SELECT {SUBMISSION_COLUMNS} FROM campaign_submissions WHERE tenant_id = $1 AND campaign_id = $2 \
         AND ($3 = '' OR platform = $3) AND ($4 = '' OR status = $4) ORDER BY created_at DESC, id DESC"
    );
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, SubmissionRow>(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id).bind(campaign_id).bind(platform).bind(status).fetch_all(pool).await)?,
    )
}

pub async fn find_submission(
    db: &Db,
    tenant_id: &TenantId,
    campaign_id: &str,
    id: &str,
) -> DbResult<Option<SubmissionRow>> {
    let sql = format!(
        "SELECT {SUBMISSION_COLUMNS} FROM campaign_submissions WHERE tenant_id = $1 AND campaign_id = $2 AND id = $3"
    );
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, SubmissionRow>(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id).bind(campaign_id).bind(id).fetch_optional(pool).await)?,
    )
}

pub async fn set_submission_status(
    tx: &mut Tx,
    tenant_id: &TenantId,
    campaign_id: &str,
    id: &str,
    status: &str,
    now: i64,
) -> DbResult<bool> {
    let n = on_tx!(tx, conn => sqlx::query(
        "UPDATE campaign_submissions SET status = $4, reviewed_at = $5 \
         WHERE tenant_id = $1 AND campaign_id = $2 AND id = $3"
    ).bind(tenant_id).bind(campaign_id).bind(id).bind(status).bind(now)
        .execute(&mut **conn).await.affected())?;
    Ok(n == 1)
}
