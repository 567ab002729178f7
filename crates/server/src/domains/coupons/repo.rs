//! SQL for the coupon list and the per-tenant provider settings; every query takes a tenant id.
use crate::db::{Affected, Db, DbResult, Tx};
use crate::ids::TenantId;
use crate::{on_pool, on_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CouponRow {
    pub id: String,
    pub tenant_id: TenantId,
    pub code: String,
    pub code_key: String,
    pub discount_type: Option<String>,
    pub discount_value: Option<f64>,
    pub currency: Option<String>,
    pub note: Option<String>,
    pub active: bool,
    pub expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, tenant_id, code, code_key, discount_type, discount_value, currency, note, active, expires_at, created_at, updated_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SettingsRow {
    pub provider: String,
    pub fail_open: bool,
    pub updated_at: i64,
}

/// The lookup behind every list validation: one indexed row (UNIQUE (tenant_id, code_key)).
pub async fn find_by_key(
    db: &Db,
    tenant_id: &TenantId,
    code_key: &str,
) -> DbResult<Option<CouponRow>> {
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, CouponRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM coupons WHERE tenant_id = $1 AND code_key = $2"
    ))).bind(tenant_id).bind(code_key).fetch_optional(pool).await)?,
    )
}

pub async fn find(db: &Db, tenant_id: &TenantId, id: &str) -> DbResult<Option<CouponRow>> {
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, CouponRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM coupons WHERE tenant_id = $1 AND id = $2"
    ))).bind(tenant_id).bind(id).fetch_optional(pool).await)?,
    )
}

/// A page of the list, codes in order; `pattern` is a LIKE pattern over the upper-cased code and
/// the lower-cased note (already escaped with `\`).
pub async fn list(
    db: &Db,
    tenant_id: &TenantId,
    pattern: Option<(&str, &str)>,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<CouponRow>, i64)> {
    let (code_pattern, note_pattern) = pattern.unwrap_or(("%", "%"));
    let filter = "tenant_id = $1 AND (code_key LIKE $2 ESCAPE '\\' OR LOWER(COALESCE(note, '')) LIKE $3 ESCAPE '\\')";
    let rows = on_pool!(db, pool => sqlx::query_as::<_, CouponRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM coupons WHERE {filter} ORDER BY code_key LIMIT $4 OFFSET $5"
    ))).bind(tenant_id).bind(code_pattern).bind(note_pattern).bind(limit).bind(offset)
        .fetch_all(pool).await)?;
    let total = on_pool!(db, pool => sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM coupons WHERE {filter}"
    ))).bind(tenant_id).bind(code_pattern).bind(note_pattern).fetch_one(pool).await)?;
    Ok((rows, total))
}

/// Every code of the tenant (export).
pub async fn all(db: &Db, tenant_id: &TenantId) -> DbResult<Vec<CouponRow>> {
    Ok(
        on_pool!(db, pool => sqlx::query_as::<_, CouponRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM coupons WHERE tenant_id = $1 ORDER BY code_key"
    ))).bind(tenant_id).fetch_all(pool).await)?,
    )
}

pub async fn insert(tx: &mut Tx, row: &CouponRow) -> DbResult<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO coupons (id, tenant_id, code, code_key, discount_type, discount_value, currency, note, active, expires_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    ).bind(&row.id).bind(&row.tenant_id).bind(&row.code).bind(&row.code_key).bind(&row.discount_type)
        .bind(row.discount_value).bind(&row.currency).bind(&row.note).bind(row.active).bind(row.expires_at)
        .bind(row.created_at).bind(row.updated_at)
        .execute(&mut **conn).await.affected())?;
    Ok(())
}

/// Overwrite the editable fields of one code; returns whether it existed in this tenant.
pub async fn update(tx: &mut Tx, row: &CouponRow) -> DbResult<bool> {
    let n = on_tx!(tx, conn => sqlx::query(
        "UPDATE coupons SET code = $3, code_key = $4, discount_type = $5, discount_value = $6, currency = $7, \
         note = $8, active = $9, expires_at = $10, updated_at = $11 WHERE tenant_id = $1 AND id = $2"
    ).bind(&row.tenant_id).bind(&row.id).bind(&row.code).bind(&row.code_key).bind(&row.discount_type)
        .bind(row.discount_value).bind(&row.currency).bind(&row.note).bind(row.active).bind(row.expires_at)
        .bind(row.updated_at)
        .execute(&mut **conn).await.affected())?;
    Ok(n == 1)
}

/// Find a code inside a transaction (import: update existing codes, insert new ones).
pub async fn find_by_key_tx(
    tx: &mut Tx,
    tenant_id: &TenantId,
    code_key: &str,
) -> DbResult<Option<CouponRow>> {
    Ok(
        on_tx!(tx, conn => sqlx::query_as::<_, CouponRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM coupons WHERE tenant_id = $1 AND code_key = $2"
    ))).bind(tenant_id).bind(code_key).fetch_optional(&mut **conn).await)?,
    )
}

pub async fn delete(db: &Db, tenant_id: &TenantId, id: &str) -> DbResult<bool> {
    let n = on_pool!(db, pool => sqlx::query("DELETE FROM coupons WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id).bind(id).execute(pool).await.affected())?;
    Ok(n == 1)
}

pub async fn count(db: &Db, tenant_id: &TenantId) -> DbResult<i64> {
    Ok(
        on_pool!(db, pool => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM coupons WHERE tenant_id = $1")
        .bind(tenant_id).fetch_one(pool).await)?,
    )
}

pub async fn settings(db: &Db, tenant_id: &TenantId) -> DbResult<Option<SettingsRow>> {
    Ok(on_pool!(db, pool => sqlx::query_as::<_, SettingsRow>(
        "SELECT provider, fail_open, updated_at FROM coupon_settings WHERE tenant_id = $1"
    ).bind(tenant_id).fetch_optional(pool).await)?)
}

pub async fn save_settings(
    db: &Db,
    tenant_id: &TenantId,
    provider: &str,
    fail_open: bool,
    now: i64,
) -> DbResult<()> {
    on_pool!(db, pool => sqlx::query(
        "INSERT INTO coupon_settings (tenant_id, provider, fail_open, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id) DO UPDATE SET provider = excluded.provider, fail_open = excluded.fail_open, updated_at = excluded.updated_at"
    ).bind(tenant_id).bind(provider).bind(fail_open).bind(now).execute(pool).await.affected())?;
    Ok(())
}
