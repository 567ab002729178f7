//! Who is calling: the admin password session cookie or a Clerk JWT, resolved to a
//! [`Principal`]; plus the key material derived from the process secret.
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub mod clerk;
pub mod crypto;
pub mod key_file;
pub mod password;
pub mod routes;
pub mod session;
pub mod sessions;

use crate::time::Millis;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Member,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        match value {
            "member" => Some(Role::Member),
            "admin" => Some(Role::Admin),
            "owner" => Some(Role::Owner),
            _ => None,
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// Logged in with the admin password: a platform admin.
    PasswordAdmin,
    /// A Clerk user; `platform_admin` when the email is listed in `ADMIN_EMAILS`.
    User { email: String, platform_admin: bool },
}

impl Principal {
    pub fn is_platform_admin(&self) -> bool {
        match self {
            Principal::PasswordAdmin => true,
            Principal::User { platform_admin, .. } => *platform_admin,
        }
    }

    pub fn email(&self) -> Option<&str> {
        match self {
            Principal::PasswordAdmin => None,
            Principal::User { email, .. } => Some(email),
        }
    }
}

/// Keys derived from the process secret, each for one purpose.
#[derive(Clone, Debug)]
pub struct Keys {
    pub session: session::SessionKey,
    pub encryption: crypto::EncryptionKey,
}

impl Keys {
    pub fn derive(secret: &[u8]) -> Keys {
        let derive = |purpose: &str| -> [u8; 32] {
            let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
            mac.update(purpose.as_bytes());
            mac.finalize().into_bytes().into()
        };
        Keys {
            session: session::SessionKey::new(derive("promostack/session/v1")),
            encryption: crypto::EncryptionKey::new(derive("promostack/encryption/v1")),
        }
    }
}

/// Login attempts per client address: at most `LIMIT` failures in a window of `WINDOW_MS`.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<IpAddr, (Millis, u32)>>,
}

impl LoginLimiter {
    pub const LIMIT: u32 = 10;
    pub const WINDOW_MS: i64 = 5 * 60 * 1000;

    /// Count an attempt before its password is checked, in one step under the lock, so that
    /// concurrent requests cannot all pass a check made before any of them failed: at most
    /// [`Self::LIMIT`] passwords are checked per address and window. `Err(seconds to wait)`
    /// when the address is over the limit (no argon2 work is started for it). A correct
    /// password clears the count ([`Self::record_success`]).
    pub fn reserve(&self, ip: IpAddr, now: Millis) -> Result<(), u64> {
        let mut failures = self.failures.lock().expect("limiter lock");
        // Bound memory under a spray of addresses: drop expired windows first.
        if failures.len() > 10_000 {
            failures.retain(|_, (start, _)| now - *start < Self::WINDOW_MS);
        }
        let entry = failures.entry(ip).or_insert((now, 0));
        if now - entry.0 >= Self::WINDOW_MS {
            *entry = (now, 0);
        }
        if entry.1 >= Self::LIMIT {
            return Err(((Self::WINDOW_MS - (now - entry.0)) / 1000).max(1) as u64);
        }
        entry.1 += 1;
        Ok(())
    }

    pub fn record_success(&self, ip: IpAddr) {
        self.failures.lock().expect("limiter lock").remove(&ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_locks_after_limit_and_reopens_after_window() {
        let limiter = LoginLimiter::default();
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..LoginLimiter::LIMIT {
            assert!(limiter.reserve(ip, 0).is_ok());
        }
        assert_eq!(limiter.reserve(ip, 1000), Err(299));
        assert!(
            limiter.reserve([10, 0, 0, 2].into(), 1000).is_ok(),
            "per address"
        );
        assert!(limiter.reserve(ip, LoginLimiter::WINDOW_MS).is_ok());
        limiter.record_success(ip);
        assert!(
            limiter.reserve(ip, LoginLimiter::WINDOW_MS).is_ok(),
            "success clears"
        );
    }

    #[test]
    fn derived_keys_differ_by_purpose_and_secret() {
        let a = Keys::derive(b"one");
        let b = Keys::derive(b"two");
        let cookie = a.session.sign("admin", "s1", i64::MAX);
        assert!(a.session.verify(&cookie, 0).is_some());
        assert!(b.session.verify(&cookie, 0).is_none());
    }

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Owner > Role::Admin && Role::Admin > Role::Member);
        assert_eq!(Role::parse("admin"), Some(Role::Admin));
        assert_eq!(Role::parse("root"), None);
    }
}
