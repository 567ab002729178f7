//! Identifiers that cross every layer, parsed once where they enter (a request, a row, a
//! config value) and carried as their own type from there to the repositories.
use std::borrow::Borrow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A workspace (tenant) id: text, a UUIDv7 for every workspace the app creates (ids from older
/// imports or fixtures may be any short token of ASCII letters, digits, `-` and `_`).
/// Every tenant-scoped service and repository function takes one, so a handler cannot pass a
/// template id or an e-mail where the tenant belongs.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type,
)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct TenantId(String);

/// Why a text is not a tenant id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a workspace id")]
pub struct InvalidTenantId(String);

impl TenantId {
    /// A new id for a workspace about to be created.
    pub fn generate() -> Self {
        TenantId(crate::db::new_id())
    }

    /// Read an id from outside (a header, a path, a CLI flag): 1 to 64 ASCII letters, digits,
    /// `-` or `_`. Whether such a workspace exists is the caller's next question.
    pub fn parse(raw: &str) -> Result<Self, InvalidTenantId> {
        let raw = raw.trim();
        let well_formed = (1..=64).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if well_formed {
            Ok(TenantId(raw.to_owned()))
        } else {
            Err(InvalidTenantId(raw.chars().take(64).collect()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for TenantId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// So maps keyed by a tenant id can be looked up with `&str` and vice versa.
impl Borrow<str> for TenantId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for TenantId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl utoipa::PartialSchema for TenantId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <String as utoipa::PartialSchema>::schema()
    }
}

impl utoipa::ToSchema for TenantId {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_short_tokens_only() {
        let id = TenantId::generate();
        assert_eq!(TenantId::parse(id.as_str()), Ok(id.clone()));
        assert_eq!(TenantId::parse(&format!(" {id} ")), Ok(id));
        assert!(TenantId::parse("tenant-a").is_ok());
        assert!(TenantId::parse("").is_err());
        assert!(TenantId::parse("a b").is_err());
        assert!(TenantId::parse("x'; DROP TABLE tenants;--").is_err());
        assert!(TenantId::parse(&"a".repeat(65)).is_err());
    }
}
