//! Process-wide settings rows shared by every instance.
use super::{Affected, Db, DbResult};
use crate::on_pool;

pub async fn get(db: &Db, name: &str) -> DbResult<Option<String>> {
    Ok(
        on_pool!(db, pool => sqlx::query_scalar::<_, String>("SELECT value FROM settings WHERE name = $1")
        .bind(name).fetch_optional(pool).await)?,
    )
}

/// Store `value` unless the setting exists; returns the value now stored and whether it was ours.
/// Several instances starting together agree on one value.
pub async fn get_or_insert(db: &Db, name: &str, value: &str, now: i64) -> DbResult<(String, bool)> {
    let inserted = on_pool!(db, pool => sqlx::query(
        "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING"
    ).bind(name).bind(value).bind(now).execute(pool).await.affected())?
        == 1;
    let stored = get(db, name).await?.unwrap_or_else(|| value.to_owned());
    Ok((stored, inserted))
}

pub async fn delete(db: &Db, name: &str) -> DbResult<()> {
    on_pool!(db, pool => sqlx::query("DELETE FROM settings WHERE name = $1")
        .bind(name).execute(pool).await.affected())?;
    Ok(())
}
