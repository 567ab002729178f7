//! The `admin_session` cookie: `v2.<subject>.<session id>.<expires_ms>.<hmac>` where the
//! HMAC-SHA256 covers everything before it. The expiry lives inside the signed payload, so a
//! client cannot extend it; the session id names a row of `auth_sessions`
//! ([`super::sessions::LoginSessions`]), so logout revokes the cookie before it expires.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::time::Millis;

pub const COOKIE_NAME: &str = "admin_session";
pub const SESSION_TTL_MS: i64 = 24 * 60 * 60 * 1000;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct SessionKey([u8; 32]);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey([redacted])")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub subject: String,
    pub session_id: String,
    pub expires_at: Millis,
}

impl SessionKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    fn mac(&self, payload: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(payload.as_bytes());
        mac
    }

    /// `session_id` must not contain `.` (ids are UUIDs in simple form).
    pub fn sign(&self, subject: &str, session_id: &str, expires_at: Millis) -> String {
        debug_assert!(!session_id.contains('.'));
        let payload = format!(
            "v2.{}.{session_id}.{expires_at}",
            URL_SAFE_NO_PAD.encode(subject)
        );
        let tag = URL_SAFE_NO_PAD.encode(self.mac(&payload).finalize().into_bytes());
        format!("{payload}.{tag}")
    }

    /// The session when the value is authentic and unexpired at `now`.
    pub fn verify(&self, value: &str, now: Millis) -> Option<Session> {
        let (payload, tag) = value.rsplit_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        // Constant-time comparison of the tag (hmac's verify_slice).
        self.mac(payload).verify_slice(&tag).ok()?;
        let mut parts = payload.split('.');
        let (Some("v2"), Some(subject), Some(session_id), Some(expires), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        let subject = String::from_utf8(URL_SAFE_NO_PAD.decode(subject).ok()?).ok()?;
        let expires_at: Millis = expires.parse().ok()?;
        (expires_at > now && !session_id.is_empty()).then(|| Session {
            subject,
            session_id: session_id.to_owned(),
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_tamper_and_expiry() {
        let key = SessionKey::new([7; 32]);
        let cookie = key.sign("admin", "s1", 1_000);
        let session = key.verify(&cookie, 999).unwrap();
        assert_eq!(
            (session.subject.as_str(), session.session_id.as_str()),
            ("admin", "s1")
        );
        assert!(
            key.verify(&cookie, 1_000).is_none(),
            "expired at its expiry"
        );
        let other = SessionKey::new([8; 32]);
        assert!(other.verify(&cookie, 0).is_none(), "another key");
        // Moving the expiry without re-signing breaks the tag.
        let forged = cookie.replacen(".1000.", ".9999999.", 1);
        assert_ne!(forged, cookie);
        assert!(key.verify(&forged, 0).is_none());
        assert!(key.verify("garbage", 0).is_none());
        assert!(key.verify("v1.a.b.c.d", 0).is_none());
        // Another session id under the same tag is a forgery too.
        assert!(key.verify(&cookie.replacen(".s1.", ".s2.", 1), 0).is_none());
    }
}
