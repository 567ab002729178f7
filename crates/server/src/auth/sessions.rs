//! Server-side login sessions (`auth_sessions`, migration 12): a row per login, named by the
//! cookie. Logout revokes the row; "log out everywhere" revokes every row of the subject. Each
//! instance remembers a live session for [`RECHECK`], so a revocation on another instance
//! takes effect within that time and one on this instance at once.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::db::{Affected, Db, DbResult};
use crate::on_pool;
use crate::time::{Clock, Millis};

/// How long a session seen live is trusted without asking the database again.
pub const RECHECK: Duration = Duration::from_secs(5);
/// Expired rows are deleted this long after they expired (a login prunes them).
const KEEP_EXPIRED_MS: i64 = 24 * 3_600_000;

pub struct LoginSessions {
    db: Db,
    clock: Clock,
    live: Mutex<HashMap<String, Instant>>,
}

impl LoginSessions {
    pub fn new(db: Db, clock: Clock) -> Self {
        Self {
            db,
            clock,
            live: Mutex::new(HashMap::new()),
        }
    }

    /// A new session of `subject` until `expires_at`; its id goes into the cookie.
    pub async fn start(&self, subject: &str, expires_at: Millis) -> DbResult<String> {
        let mut bytes = [0u8; 16];
        rand::fill(&mut bytes);
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let now = self.clock.now();
        on_pool!(&self.db, pool => sqlx::query(
            "INSERT INTO auth_sessions (id, subject, created_at, expires_at) VALUES ($1, $2, $3, $4)"
        ).bind(&id).bind(subject).bind(now).bind(expires_at).execute(pool).await.affected())?;
        on_pool!(&self.db, pool => sqlx::query(
            "DELETE FROM auth_sessions WHERE expires_at < $1"
        ).bind(now - KEEP_EXPIRED_MS).execute(pool).await.affected())?;
        Ok(id)
    }

    /// Whether the session was neither revoked nor has expired.
    pub async fn is_live(&self, id: &str) -> DbResult<bool> {
        if let Some(seen) = self.live.lock().expect("sessions lock").get(id)
            && seen.elapsed() < RECHECK
        {
            return Ok(true);
        }
        let now = self.clock.now();
        let live = on_pool!(&self.db, pool => sqlx::query_scalar::<_, i64>(
            "SELECT CAST(1 AS BIGINT) FROM auth_sessions WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2"
        ).bind(id).bind(now).fetch_optional(pool).await)?
        .is_some();
        let mut cache = self.live.lock().expect("sessions lock");
        if live {
            // Bounded: a burst of distinct sessions cannot grow it without limit.
            if cache.len() > 10_000 {
                cache.retain(|_, seen| seen.elapsed() < RECHECK);
            }
            cache.insert(id.to_owned(), Instant::now());
        } else {
            cache.remove(id);
        }
        Ok(live)
    }

    /// Logout: this session ends now.
    pub async fn revoke(&self, id: &str) -> DbResult<()> {
        self.live.lock().expect("sessions lock").remove(id);
        on_pool!(&self.db, pool => sqlx::query(
            "UPDATE auth_sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL"
        ).bind(id).bind(self.clock.now()).execute(pool).await.affected())?;
        Ok(())
    }

    /// Log out everywhere: every session of `subject` ends now. Returns how many were live.
    pub async fn revoke_all(&self, subject: &str) -> DbResult<u64> {
        let revoked = on_pool!(&self.db, pool => sqlx::query(
            "UPDATE auth_sessions SET revoked_at = $2 WHERE subject = $1 AND revoked_at IS NULL AND expires_at > $2"
        ).bind(subject).bind(self.clock.now()).execute(pool).await.affected())?;
        self.live.lock().expect("sessions lock").clear();
        Ok(revoked)
    }
}
