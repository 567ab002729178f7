//! Rules for tenants and members: validation, the last-owner guard, membership resolution.
use crate::ids::TenantId;
use serde::Serialize;

use super::repo::{self, MemberRow, TenantRow};
use crate::auth::Role;
use crate::db::{Db, DbError, new_id};
use crate::domains::error::{DomainError, DomainResult};
use crate::time::Clock;

pub const DEFAULT_TENANT_SLUG: &str = "default";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub timezone: String,
    pub is_default: bool,
    pub created_at: i64,
}

impl From<TenantRow> for Tenant {
    fn from(row: TenantRow) -> Self {
        Tenant {
            id: row.id,
            slug: row.slug,
            name: row.name,
            timezone: row.timezone,
            is_default: row.is_default,
            created_at: row.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub created_at: i64,
}

impl TryFrom<MemberRow> for Member {
    type Error = DomainError;
    fn try_from(row: MemberRow) -> DomainResult<Self> {
        let role = Role::parse(&row.role)
            .ok_or_else(|| DomainError::internal(format!("unknown role {}", row.role)))?;
        Ok(Member {
            id: row.id,
            email: row.email,
            role,
            created_at: row.created_at,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Membership {
    pub tenant_id: TenantId,
    pub role: Role,
}

#[derive(Clone)]
pub struct TenantService {
    db: Db,
    clock: Clock,
}

impl TenantService {
    pub fn new(db: Db, clock: Clock) -> Self {
        Self { db, clock }
    }

    pub async fn ensure_default(&self) -> DomainResult<Tenant> {
        let now = self.clock.now();
        let row = TenantRow {
            id: TenantId::generate(),
            slug: DEFAULT_TENANT_SLUG.into(),
            name: "Default workspace".into(),
            timezone: "UTC".into(),
            is_default: true,
            created_at: now,
            updated_at: now,
        };
        repo::ensure_default_tenant(&self.db, &row).await?;
        repo::default_tenant(&self.db)
            .await?
            .map(Tenant::from)
            .ok_or_else(|| DomainError::internal("default tenant missing after creation"))
    }

    pub async fn default_tenant(&self) -> DomainResult<Option<Tenant>> {
        Ok(repo::default_tenant(&self.db).await?.map(Tenant::from))
    }

    pub async fn get(&self, tenant_id: &TenantId) -> DomainResult<Tenant> {
        repo::get_tenant(&self.db, tenant_id)
            .await?
            .map(Tenant::from)
            .ok_or(DomainError::NotFound("workspace"))
    }

    pub async fn list_all(&self) -> DomainResult<Vec<Tenant>> {
        Ok(repo::list_tenants(&self.db)
            .await?
            .into_iter()
            .map(Tenant::from)
            .collect())
    }

    /// Create a tenant and its first owner in one transaction.
    pub async fn create(
        &self,
        name: &str,
        slug: &str,
        owner_email: Option<&str>,
    ) -> DomainResult<Tenant> {
        let name = validate_name(name)?;
        let slug = validate_slug(slug)?;
        let owner_email = owner_email.map(validate_email).transpose()?;
        let now = self.clock.now();
        let row = TenantRow {
            id: TenantId::generate(),
            slug,
            name,
            timezone: "UTC".into(),
            is_default: false,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.db.begin().await?;
        repo::insert_tenant(&mut tx, &row)
            .await
            .map_err(|e| match e {
                DbError::Conflict(_) => {
                    DomainError::conflict(format!("a workspace with slug '{}' exists", row.slug))
                }
                other => other.into(),
            })?;
        if let Some(email) = owner_email {
            let member = MemberRow {
                id: new_id(),
                tenant_id: row.id.clone(),
                email,
                role: Role::Owner.as_str().into(),
                created_at: now,
            };
            repo::insert_member(&mut tx, &member).await?;
        }
        tx.commit().await?;
        Ok(row.into())
    }

    pub async fn update(
        &self,
        tenant_id: &TenantId,
        name: Option<&str>,
        timezone: Option<&str>,
    ) -> DomainResult<Tenant> {
        let current = self.get(tenant_id).await?;
        let name = match name {
            Some(name) => validate_name(name)?,
            None => current.name,
        };
        let timezone = match timezone {
            Some(tz) => validate_timezone(tz)?,
            None => current.timezone,
        };
        repo::update_tenant(&self.db, tenant_id, &name, &timezone, self.clock.now())
            .await?
            .map(Tenant::from)
            .ok_or(DomainError::NotFound("workspace"))
    }

    pub async fn members(&self, tenant_id: &TenantId) -> DomainResult<Vec<Member>> {
        repo::list_members(&self.db, tenant_id)
            .await?
            .into_iter()
            .map(Member::try_from)
            .collect()
    }

    /// Add a member with `role`. An actor grants at most their own role (only owners add
    /// owners).
    pub async fn add_member(
        &self,
        tenant_id: &TenantId,
        actor: Role,
        email: &str,
        role: Role,
    ) -> DomainResult<Member> {
        if role > actor {
            return Err(DomainError::Forbidden(format!(
                "your role ({}) cannot grant the {} role",
                actor.as_str(),
                role.as_str()
            )));
        }
        let email = validate_email(email)?;
        let row = MemberRow {
            id: new_id(),
            tenant_id: tenant_id.to_owned(),
            email,
            role: role.as_str().into(),
            created_at: self.clock.now(),
        };
        let mut tx = self.db.begin().await?;
        repo::insert_member(&mut tx, &row)
            .await
            .map_err(|e| match e {
                DbError::Conflict(_) => {
                    DomainError::conflict(format!("{} is already a member", row.email))
                }
                other => other.into(),
            })?;
        tx.commit().await?;
        Member::try_from(row)
    }

    /// Remove a member of `tenant_id`; a member id of another tenant is "not found". An actor
    /// removes only members whose role is below theirs, except that owners remove owners; the
    /// last owner stays.
    pub async fn remove_member(
        &self,
        tenant_id: &TenantId,
        actor: Role,
        member_id: &str,
    ) -> DomainResult<()> {
        let mut tx = self.db.begin().await?;
        let member = repo::get_member(&mut tx, tenant_id, member_id)
            .await?
            .ok_or(DomainError::NotFound("member"))?;
        let role = Role::parse(&member.role)
            .ok_or_else(|| DomainError::internal(format!("unknown role {}", member.role)))?;
        if role >= actor && actor != Role::Owner {
            return Err(DomainError::Forbidden(format!(
                "your role ({}) cannot remove a member with the {} role",
                actor.as_str(),
                role.as_str()
            )));
        }
        if role == Role::Owner && repo::count_owners(&mut tx, tenant_id).await? <= 1 {
            return Err(DomainError::conflict(
                "a workspace keeps at least one owner",
            ));
        }
        repo::delete_member(&mut tx, tenant_id, member_id).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn memberships(&self, email: &str) -> DomainResult<Vec<Membership>> {
        Ok(repo::memberships_for_email(&self.db, email)
            .await?
            .into_iter()
            .filter_map(|row| {
                Role::parse(&row.role).map(|role| Membership {
                    tenant_id: row.tenant_id,
                    role,
                })
            })
            .collect())
    }
}

fn validate_name(name: &str) -> DomainResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "name must be 1 to 80 printable characters",
        ));
    }
    Ok(name.to_owned())
}

fn validate_slug(slug: &str) -> DomainResult<String> {
    let slug = slug.trim().to_lowercase();
    let valid = (2..=40).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if !valid {
        return Err(DomainError::invalid(
            "slug must be 2 to 40 characters of a-z, 0-9 and '-'",
        ));
    }
    Ok(slug)
}

/// An e-mail address as people have them: a local part of letters, digits and `. _ % + - '`
/// (no leading, trailing or doubled dot, at most 64 characters) and a domain of LDH labels
/// with an alphabetic top level, lower-cased, at most 254 characters in all. RFC 5322 allows
/// more (`{}`, `$`, quoted strings), but no mail provider hands those out and they are what
/// markup and template-injection probes look like (docs/security.md).
pub fn validate_email(email: &str) -> DomainResult<String> {
    let email = email.trim().to_lowercase();
    let refuse = || {
        DomainError::invalid_field(
            "email",
            format!(
                "'{}' is not a valid e-mail address",
                email.chars().take(80).collect::<String>()
            ),
        )
    };
    let (local, domain) = email.rsplit_once('@').ok_or_else(refuse)?;
    let local_ok = (1..=64).contains(&local.len())
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._%+-'".contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    if email.len() > 254 || !local_ok || !domain_ok {
        return Err(refuse());
    }
    Ok(email)
}

fn validate_timezone(tz: &str) -> DomainResult<String> {
    let tz = tz.trim();
    jiff::tz::TimeZone::get(tz)
        .map(|_| tz.to_owned())
        .map_err(|_| DomainError::invalid(format!("'{tz}' is not a known IANA time zone")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_rules() {
        assert!(validate_name("  Acme  ").is_ok_and(|n| n == "Acme"));
        assert!(validate_name("").is_err());
        assert!(validate_name(&"x".repeat(81)).is_err());
        assert!(validate_slug("acme-2").is_ok());
        assert!(validate_slug("-acme").is_err());
        assert!(validate_slug("a").is_err());
        assert!(validate_email("Ann@Example.com").is_ok_and(|e| e == "ann@example.com"));
        assert!(validate_email("no-at-sign").is_err());
        assert!(validate_email("a@b").is_err());
        assert!(validate_email("o'neil+promo@mail.example.co.uk").is_ok());
        for bad in [
            "</script><script>alert(1)</script>@x.io",
            "{{7*7}}${7*7}@x.io",
            "a@@x.io",
            ".a@x.io",
            "a..b@x.io",
            "a@-x.io",
            "a@x.i0",
            "\"quoted\"@x.io",
        ] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
        assert!(validate_timezone("Europe/Rome").is_ok());
        assert!(validate_timezone("Mars/Olympus").is_err());
    }
}
