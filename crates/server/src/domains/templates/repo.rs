//! SQL for templates; every query is scoped by tenant id.
use crate::db::{Affected, Db, DbResult, Tx};
use crate::ids::TenantId;
use crate::{on_pool, on_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TemplateRow {
    pub id: String,
    pub tenant_id: TenantId,
    pub slug: String,
    pub name: String,
    pub telegram_enabled: bool,
    pub version: i64,
    pub spec_json: String,
    pub variants_json: String,
    pub has_logo: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn list(db: &Db, tenant_id: &TenantId) -> DbResult<Vec<TemplateRow>> {
    Ok(on_pool!(db, pool => sqlx::query_as::<_, TemplateRow>(
        "SELECT id, tenant_id, slug, name, telegram_enabled, version, spec_json, variants_json, has_logo, created_at, updated_at \
         FROM templates WHERE tenant_id = $1 ORDER BY name, id"
    ).bind(tenant_id).fetch_all(pool).await)?)
}

/// By id or by slug, within one tenant.
pub async fn find(
    db: &Db,
    tenant_id: &TenantId,
    id_or_slug: &str,
) -> DbResult<Option<TemplateRow>> {
    Ok(on_pool!(db, pool => sqlx::query_as::<_, TemplateRow>(
        "SELECT id, tenant_id, slug, name, telegram_enabled, version, spec_json, variants_json, has_logo, created_at, updated_at \
         FROM templates WHERE tenant_id = $1 AND (id = $2 OR slug = $2)"
    ).bind(tenant_id).bind(id_or_slug).fetch_optional(pool).await)?)
}

pub async fn count(db: &Db, tenant_id: &TenantId) -> DbResult<i64> {
    Ok(
        on_pool!(db, pool => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM templates WHERE tenant_id = $1")
        .bind(tenant_id).fetch_one(pool).await)?,
    )
}

pub async fn insert(tx: &mut Tx, row: &TemplateRow) -> DbResult<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO templates (id, tenant_id, slug, name, telegram_enabled, version, spec_json, variants_json, has_logo, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ).bind(&row.id).bind(&row.tenant_id).bind(&row.slug).bind(&row.name).bind(row.telegram_enabled)
        .bind(row.version).bind(&row.spec_json).bind(&row.variants_json).bind(row.has_logo)
        .bind(row.created_at).bind(row.updated_at)
        .execute(&mut **conn).await.affected())?;
    Ok(())
}

/// Write a new version only if the stored one is still `expected_version` (optimistic lock:
/// two concurrent edits cannot silently overwrite each other). Returns whether it was written.
pub async fn update_version(
    tx: &mut Tx,
    row: &TemplateRow,
    expected_version: i64,
) -> DbResult<bool> {
    let n = on_tx!(tx, conn => sqlx::query(
        "UPDATE templates SET slug = $3, name = $4, telegram_enabled = $5, version = $6, spec_json = $7, \
         variants_json = $8, has_logo = $9, updated_at = $10 WHERE tenant_id = $1 AND id = $2 AND version = $11"
    ).bind(&row.tenant_id).bind(&row.id).bind(&row.slug).bind(&row.name).bind(row.telegram_enabled)
        .bind(row.version).bind(&row.spec_json).bind(&row.variants_json).bind(row.has_logo)
        .bind(row.updated_at).bind(expected_version)
        .execute(&mut **conn).await.affected())?;
    Ok(n == 1)
}

pub async fn delete(tx: &mut Tx, tenant_id: &TenantId, id: &str) -> DbResult<bool> {
    let n = on_tx!(tx, conn => sqlx::query("DELETE FROM templates WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id).bind(id).execute(&mut **conn).await.affected())?;
    Ok(n == 1)
}
