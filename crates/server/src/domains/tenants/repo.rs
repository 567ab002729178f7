//! SQL for tenants and tenant_users. Every member query is scoped by tenant id.
use crate::db::{Affected, Db, DbResult, Tx};
use crate::ids::TenantId;
use crate::time::Millis;
use crate::{on_pool, on_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TenantRow {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub timezone: String,
    pub is_default: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub id: String,
    pub tenant_id: TenantId,
    pub email: String,
    pub role: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MembershipRow {
    pub tenant_id: TenantId,
    pub role: String,
}

pub async fn insert_tenant(tx: &mut Tx, row: &TenantRow) -> DbResult<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO tenants (id, slug, name, timezone, is_default, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    ).bind(&row.id).bind(&row.slug).bind(&row.name).bind(&row.timezone).bind(row.is_default)
        .bind(row.created_at).bind(row.updated_at).execute(&mut **conn).await.affected())?;
    Ok(())
}

/// Create the default tenant unless one exists; safe when several instances start at once.
pub async fn ensure_default_tenant(db: &Db, row: &TenantRow) -> DbResult<()> {
    on_pool!(db, pool => sqlx::query(
        "INSERT INTO tenants (id, slug, name, timezone, is_default, created_at, updated_at) VALUES ($1, $2, $3, $4, TRUE, $5, $6) ON CONFLICT (slug) DO NOTHING"
    ).bind(&row.id).bind(&row.slug).bind(&row.name).bind(&row.timezone)
        .bind(row.created_at).bind(row.updated_at).execute(pool).await.affected())?;
    Ok(())
}

pub async fn get_tenant(db: &Db, tenant_id: &TenantId) -> DbResult<Option<TenantRow>> {
    Ok(on_pool!(db, pool => sqlx::query_as::<_, TenantRow>(
        "SELECT id, slug, name, timezone, is_default, created_at, updated_at FROM tenants WHERE id = $1"
    ).bind(tenant_id).fetch_optional(pool).await)?)
}

pub async fn default_tenant(db: &Db) -> DbResult<Option<TenantRow>> {
    Ok(on_pool!(db, pool => sqlx::query_as::<_, TenantRow>(
        "SELECT id, slug, name, timezone, is_default, created_at, updated_at FROM tenants WHERE is_default = TRUE ORDER BY created_at LIMIT 1"
    ).fetch_optional(pool).await)?)
}

pub async fn list_tenants(db: &Db) -> DbResult<Vec<TenantRow>> {
    Ok(on_pool!(db, pool => sqlx::query_as::<_, TenantRow>(
        "SELECT id, slug, name, timezone, is_default, created_at, updated_at FROM tenants ORDER BY created_at, id"
    ).fetch_all(pool).await)?)
}

pub async fn update_tenant(
    db: &Db,
    tenant_id: &TenantId,
    name: &str,
    timezone: &str,
    now: Millis,
) -> DbResult<Option<TenantRow>> {
    Ok(on_pool!(db, pool => sqlx::query_as::<_, TenantRow>(
        "UPDATE tenants SET name = $2, timezone = $3, updated_at = $4 WHERE id = $1 RETURNING id, slug, name, timezone, is_default, created_at, updated_at"
    ).bind(tenant_id).bind(name).bind(timezone).bind(now).fetch_optional(pool).await)?)
}

pub async fn insert_member(tx: &mut Tx, row: &MemberRow) -> DbResult<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO tenant_users (id, tenant_id, email, role, created_at) VALUES ($1, $2, $3, $4, $5)"
    ).bind(&row.id).bind(&row.tenant_id).bind(&row.email).bind(&row.role).bind(row.created_at)
        .execute(&mut **conn).await.affected())?;
    Ok(())
}

pub async fn list_members(db: &Db, tenant_id: &TenantId) -> DbResult<Vec<MemberRow>> {
    Ok(on_pool!(db, pool => sqlx::query_as::<_, MemberRow>(
        "SELECT id, tenant_id, email, role, created_at FROM tenant_users WHERE tenant_id = $1 ORDER BY created_at, id"
    ).bind(tenant_id).fetch_all(pool).await)?)
}

pub async fn get_member(
    tx: &mut Tx,
    tenant_id: &TenantId,
    member_id: &str,
) -> DbResult<Option<MemberRow>> {
    Ok(on_tx!(tx, conn => sqlx::query_as::<_, MemberRow>(
        "SELECT id, tenant_id, email, role, created_at FROM tenant_users WHERE tenant_id = $1 AND id = $2"
    ).bind(tenant_id).bind(member_id).fetch_optional(&mut **conn).await)?)
}

pub async fn count_owners(tx: &mut Tx, tenant_id: &TenantId) -> DbResult<i64> {
    Ok(on_tx!(tx, conn => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM tenant_users WHERE tenant_id = $1 AND role = 'owner'"
    ).bind(tenant_id).fetch_one(&mut **conn).await)?)
}

pub async fn delete_member(tx: &mut Tx, tenant_id: &TenantId, member_id: &str) -> DbResult<bool> {
    let result = on_tx!(tx, conn => sqlx::query(
        "DELETE FROM tenant_users WHERE tenant_id = $1 AND id = $2"
    ).bind(tenant_id).bind(member_id).execute(&mut **conn).await.affected())?;
    Ok(result == 1)
}

pub async fn memberships_for_email(db: &Db, email: &str) -> DbResult<Vec<MembershipRow>> {
    Ok(on_pool!(db, pool => sqlx::query_as::<_, MembershipRow>(
        "SELECT tenant_id, role FROM tenant_users WHERE email = $1 ORDER BY created_at, tenant_id"
    ).bind(email).fetch_all(pool).await)?)
}
