//! Coupon validation for the generator, `/api/render` and the Telegram bot: which provider checks
//! a tenant's codes, the checks themselves, and the tenant-managed list.
//!
//! Providers (a tenant's `coupon_settings` row, see docs/coupons.md):
//! - `list`: the tenant's own codes in PromoStack (the embedded default);
//! - `funderpro`: the FunderPro discount API from the environment (default tenant only);
//! - `any`: every well-formed code is accepted, only when chosen explicitly.
use crate::ids::TenantId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::cache::TtlCache;
use super::code::CouponCode;
use super::csv;
use super::repo::{self, CouponRow};
use crate::db::{Db, new_id};
use crate::domains::error::{DomainError, DomainResult};
use crate::domains::tenants::TenantService;
use crate::integrations::funderpro::{self, FunderProClient};
use crate::time::{Clock, Millis};

/// How long a CRM answer is reused: a live code for minutes, a refusal for less (it may be
/// about to go live), an outage for seconds (so a down CRM is not hammered, nor trusted long).
pub const VALID_TTL_MS: Millis = 5 * 60 * 1000;
pub const INVALID_TTL_MS: Millis = 60 * 1000;
pub const UNAVAILABLE_TTL_MS: Millis = 10 * 1000;
/// Cached CRM answers across all tenants.
pub const CACHE_ENTRIES: usize = 10_000;
/// A tenant's provider choice is re-read this often (other instances' edits show within it).
pub const SETTINGS_TTL_MS: Millis = 10 * 1000;
/// Codes per list page and per import.
pub const MAX_PAGE: i64 = 500;
pub const MAX_IMPORT_ROWS: usize = 10_000;

/// Machine reasons in [`CouponCheck::code`].
pub mod reason {
    pub const VALID: &str = "valid";
    pub const ACCEPT_ANY: &str = "accept_any";
    /// Accepted unverified because the CRM was down and the tenant chose to fail open.
    pub const UNVERIFIED: &str = "unverified";
    pub const NOT_FOUND: &str = "not_found";
    pub const EXPIRED: &str = "expired";
    pub const INACTIVE: &str = "inactive";
    pub const NOT_FOR_PRODUCT: &str = "not_for_product";
    pub const CRM_UNAVAILABLE: &str = "crm_unavailable";
}

pub const CRM_UNAVAILABLE_TEXT: &str =
    "We can't verify this code right now; try again in a minute.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DiscountKind {
    Percent,
    Amount,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Discount {
    #[serde(rename = "type")]
    pub kind: DiscountKind,
    /// Percent (0-100] or an amount in `currency`.
    pub value: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

impl Discount {
    pub fn describe(&self) -> String {
        let value = trim_number(self.value);
        match (self.kind, &self.currency) {
            (DiscountKind::Percent, _) => format!("{value}% off"),
            (DiscountKind::Amount, Some(currency)) => format!("{value} {currency} off"),
            (DiscountKind::Amount, None) => format!("{value} off"),
        }
    }
}

fn trim_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value:.2}")
    }
}

/// The answer to "may this code be rendered?": `{valid, reason, code?, discount?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CouponCheck {
    pub valid: bool,
    /// Human text, safe to show to the person who typed the code.
    pub reason: String,
    /// Machine reason: valid | accept_any | unverified | not_found | expired | inactive |
    /// not_for_product | crm_unavailable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<Discount>,
}

impl CouponCheck {
    fn new(valid: bool, code: &str, reason: String, discount: Option<Discount>) -> Self {
        Self {
            valid,
            reason,
            code: Some(code.to_owned()),
            discount,
        }
    }

    fn accepted(display: &str, discount: Option<Discount>) -> Self {
        let reason = match &discount {
            Some(d) => format!("{display} is valid: {}", d.describe()),
            None => format!("{display} is valid"),
        };
        Self::new(true, reason::VALID, reason, discount)
    }

    fn refused(code: &str, reason: String) -> Self {
        Self::new(false, code, reason, None)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    List,
    #[serde(rename = "funderpro")]
    FunderPro,
    Any,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::List => "list",
            Provider::FunderPro => "funderpro",
            Provider::Any => "any",
        }
    }

    pub fn parse(s: &str) -> Option<Provider> {
        match s {
            "list" => Some(Provider::List),
            "funderpro" => Some(Provider::FunderPro),
            "any" => Some(Provider::Any),
            _ => None,
        }
    }
}

/// What one provider said about one code.
#[derive(Debug, Clone)]
pub enum Outcome {
    Checked(CouponCheck),
    /// The CRM did not answer usably (down, slow, misconfigured); the text is for logs.
    Unavailable(String),
}

/// The providers behind one interface. `List` and `AcceptAny` answer from our own records;
/// `FunderPro` asks the CRM (its answers are cached by [`CouponService`]).
pub enum CouponValidator<'a> {
    List { db: &'a Db },
    FunderPro { client: Option<&'a FunderProClient> },
    AcceptAny,
}

impl CouponValidator<'_> {
    pub fn is_remote(&self) -> bool {
        matches!(self, CouponValidator::FunderPro { .. })
    }

    pub async fn check(
        &self,
        tenant_id: &TenantId,
        code: &CouponCode,
        now: Millis,
    ) -> DomainResult<Outcome> {
        match self {
            CouponValidator::AcceptAny => Ok(Outcome::Checked(CouponCheck::new(
                true,
                reason::ACCEPT_ANY,
                "Any code is accepted in this workspace".into(),
                None,
            ))),
            CouponValidator::List { db } => {
                let row = repo::find_by_key(db, tenant_id, code.key()).await?;
                Ok(Outcome::Checked(match row {
                    None => not_found(code.display()),
                    Some(row) => check_listed(&row, now),
                }))
            }
            CouponValidator::FunderPro { client: None } => Ok(Outcome::Unavailable(
                "FunderPro is not configured (FUNDERPRO_API_URL, FUNDERPRO_PRODUCT_ID)".into(),
            )),
            CouponValidator::FunderPro {
                client: Some(client),
            } => Ok(match client.lookup(code.key()).await {
                Ok(funderpro::Lookup::NotFound) => Outcome::Checked(not_found(code.display())),
                Ok(funderpro::Lookup::Found(found)) => Outcome::Checked(check_funderpro(
                    &found,
                    client.product_id(),
                    code.display(),
                    now,
                )),
                Err(funderpro::Unavailable(detail)) => Outcome::Unavailable(detail),
            }),
        }
    }
}

fn not_found(display: &str) -> CouponCheck {
    CouponCheck::refused(reason::NOT_FOUND, format!("{display} is not a valid code"))
}

fn expired(display: &str) -> CouponCheck {
    CouponCheck::refused(reason::EXPIRED, format!("{display} has expired"))
}

fn inactive(display: &str) -> CouponCheck {
    CouponCheck::refused(reason::INACTIVE, format!("{display} is no longer active"))
}

fn check_listed(row: &CouponRow, now: Millis) -> CouponCheck {
    if !row.active {
        inactive(&row.code)
    } else if row.expires_at.is_some_and(|at| at <= now) {
        expired(&row.code)
    } else {
        CouponCheck::accepted(&row.code, discount_of(row))
    }
}

fn check_funderpro(
    found: &funderpro::FunderProDiscount,
    product_id: &str,
    display: &str,
    now: Millis,
) -> CouponCheck {
    let expires_at = found
        .expires_at
        .as_deref()
        .and_then(|s| s.parse::<jiff::Timestamp>().ok())
        .map(|t| t.as_millisecond());
    let for_product = found
        .product_ids
        .as_ref()
        .is_none_or(|ids| ids.is_empty() || ids.iter().any(|id| id == product_id));
    match found.status.as_str() {
        "expired" => expired(display),
        "active" if expires_at.is_some_and(|at| at <= now) => expired(display),
        "active" if !for_product => CouponCheck::refused(
            reason::NOT_FOR_PRODUCT,
            format!("{display} is not valid for this product"),
        ),
        "active" => {
            let discount = found.discount.as_ref().and_then(|d| {
                let kind = match d.kind.as_str() {
                    "percent" | "percentage" => DiscountKind::Percent,
                    "amount" | "fixed" => DiscountKind::Amount,
                    _ => return None,
                };
                Some(Discount {
                    kind,
                    value: d.value,
                    currency: d.currency.clone(),
                })
            });
            CouponCheck::accepted(display, discount)
        }
        _ => inactive(display),
    }
}

fn discount_of(row: &CouponRow) -> Option<Discount> {
    let kind = match row.discount_type.as_deref()? {
        "percent" => DiscountKind::Percent,
        "amount" => DiscountKind::Amount,
        _ => return None,
    };
    Some(Discount {
        kind,
        value: row.discount_value?,
        currency: row.currency.clone(),
    })
}

/// A listed code as the admin API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Coupon {
    pub id: String,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount: Option<Discount>,
    pub active: bool,
    /// Unix ms; absent: never expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// active | inactive | expired, at the time of the request.
    pub status: &'static str,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Coupon {
    fn from_row(row: CouponRow, now: Millis) -> Coupon {
        let status = if !row.active {
            "inactive"
        } else if row.expires_at.is_some_and(|at| at <= now) {
            "expired"
        } else {
            "active"
        };
        Coupon {
            discount: discount_of(&row),
            id: row.id,
            code: row.code,
            active: row.active,
            expires_at: row.expires_at,
            note: row.note,
            status,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A code to add or the new state of one (the whole record: omitted fields are cleared).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CouponInput {
    pub code: String,
    #[serde(default)]
    pub discount: Option<Discount>,
    /// Default true.
    #[serde(default)]
    pub active: Option<bool>,
    /// Unix ms; null: never expires.
    #[serde(default, deserialize_with = "crate::serde_int::option_i64")]
    pub expires_at: Option<i64>,
    #[serde(default)]
    pub note: Option<String>,
}

pub const MAX_NOTE_CHARS: usize = 200;

/// Checked fields of a [`CouponInput`], ready for a row.
struct CleanInput {
    code: CouponCode,
    discount: Option<Discount>,
    active: bool,
    expires_at: Option<i64>,
    note: Option<String>,
}

fn clean_input(input: CouponInput) -> DomainResult<CleanInput> {
    let code = CouponCode::parse(&input.code)?;
    let discount = match input.discount {
        None => None,
        Some(mut d) => {
            if !d.value.is_finite() || d.value <= 0.0 {
                return Err(DomainError::invalid("a discount must be greater than zero"));
            }
            if d.kind == DiscountKind::Percent && d.value > 100.0 {
                return Err(DomainError::invalid("a percent discount is at most 100"));
            }
            if d.value > 1e9 {
                return Err(DomainError::invalid("that discount is too large"));
            }
            d.currency = match d.currency.map(|c| c.trim().to_uppercase()) {
                Some(c) if c.is_empty() => None,
                Some(c) if c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase()) => Some(c),
                Some(_) => {
                    return Err(DomainError::invalid(
                        "currency is a three-letter code such as USD",
                    ));
                }
                None => None,
            };
            if d.kind == DiscountKind::Percent {
                d.currency = None;
            }
            Some(d)
        }
    };
    if input.expires_at.is_some_and(|at| at <= 0) {
        return Err(DomainError::invalid(
            "expiresAt is a time in unix milliseconds",
        ));
    }
    let note = input
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if let Some(note) = &note
        && (note.chars().count() > MAX_NOTE_CHARS || note.chars().any(char::is_control))
    {
        return Err(DomainError::invalid(format!(
            "a note is one line of at most {MAX_NOTE_CHARS} characters"
        )));
    }
    Ok(CleanInput {
        code,
        discount,
        active: input.active.unwrap_or(true),
        expires_at: input.expires_at,
        note,
    })
}

fn row_from(
    tenant_id: &TenantId,
    id: String,
    input: CleanInput,
    created_at: Millis,
    now: Millis,
) -> CouponRow {
    CouponRow {
        id,
        tenant_id: tenant_id.to_owned(),
        code: input.code.display().to_owned(),
        code_key: input.code.key().to_owned(),
        discount_type: input.discount.as_ref().map(|d| match d.kind {
            DiscountKind::Percent => "percent".to_owned(),
            DiscountKind::Amount => "amount".to_owned(),
        }),
        discount_value: input.discount.as_ref().map(|d| d.value),
        currency: input.discount.and_then(|d| d.currency),
        note: input.note,
        active: input.active,
        expires_at: input.expires_at,
        created_at,
        updated_at: now,
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CouponPage {
    pub coupons: Vec<Coupon>,
    pub total: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportResult {
    pub created: u64,
    pub updated: u64,
}

/// The provider a tenant uses and what it could choose.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CouponSettings {
    pub provider: Provider,
    /// Accept codes unverified while the CRM is unreachable (default false: refuse them).
    pub fail_open: bool,
    /// False while the workspace runs on the default provider (it never chose one).
    pub chosen: bool,
    pub funderpro: FunderProStatus,
    /// Codes in the workspace's own list.
    pub listed_codes: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FunderProStatus {
    /// This workspace may use FunderPro (configured, and this is the default workspace).
    pub available: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    pub has_api_key: bool,
    /// Why it is or is not available.
    pub detail: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsInput {
    pub provider: Provider,
    #[serde(default)]
    pub fail_open: bool,
}

/// A tenant's settings as validation uses them.
#[derive(Debug, Clone, Copy)]
struct Resolved {
    provider: Provider,
    fail_open: bool,
    chosen: bool,
    funderpro_available: bool,
}

#[derive(Clone)]
pub struct CouponService(Arc<Inner>);

struct Inner {
    db: Db,
    clock: Clock,
    tenants: TenantService,
    funderpro: Option<FunderProClient>,
    crm_answers: Mutex<TtlCache<Outcome>>,
    settings: Mutex<HashMap<String, (Resolved, Millis)>>,
}

impl CouponService {
    pub fn new(
        db: Db,
        clock: Clock,
        tenants: TenantService,
        funderpro: Option<FunderProClient>,
    ) -> Self {
        Self(Arc::new(Inner {
            db,
            clock,
            tenants,
            funderpro,
            crm_answers: Mutex::new(TtlCache::new(CACHE_ENTRIES)),
            settings: Mutex::new(HashMap::new()),
        }))
    }

    /// May `code` be rendered for `tenant_id`? Malformed codes are a 422; a refused code is
    /// `valid: false` with a reason; a down CRM is `crm_unavailable` unless the tenant fails open.
    pub async fn validate(
        &self,
        tenant_id: &TenantId,
        code: &CouponCode,
    ) -> DomainResult<CouponCheck> {
        let settings = self.resolved(tenant_id).await?;
        let now = self.0.clock.now();
        let validator = match settings.provider {
            Provider::List => CouponValidator::List { db: &self.0.db },
            Provider::Any => CouponValidator::AcceptAny,
            Provider::FunderPro => CouponValidator::FunderPro {
                client: self
                    .0
                    .funderpro
                    .as_ref()
                    .filter(|_| settings.funderpro_available),
            },
        };
        let provider = settings.provider.as_str();
        let cached = validator
            .is_remote()
            .then(|| {
                self.0.crm_answers.lock().expect("coupon cache lock").get(
                    tenant_id.as_str(),
                    code.key(),
                    now,
                )
            })
            .flatten();
        let outcome = match cached {
            Some(outcome) => {
                metrics::counter!("coupon_cache_hits_total", "provider" => provider).increment(1);
                outcome
            }
            None => {
                let outcome = validator.check(tenant_id, code, now).await?;
                if validator.is_remote() {
                    let ttl = match &outcome {
                        Outcome::Checked(check) if check.valid => VALID_TTL_MS,
                        Outcome::Checked(_) => INVALID_TTL_MS,
                        Outcome::Unavailable(_) => UNAVAILABLE_TTL_MS,
                    };
                    self.0
                        .crm_answers
                        .lock()
                        .expect("coupon cache lock")
                        .insert(
                            tenant_id.as_str(),
                            code.key(),
                            outcome.clone(),
                            now + ttl,
                            now,
                        );
                }
                outcome
            }
        };
        let check = match outcome {
            Outcome::Checked(check) => check,
            Outcome::Unavailable(detail) => {
                tracing::warn!(%tenant_id, provider, %detail, "coupon CRM unavailable");
                if settings.fail_open {
                    CouponCheck::new(
                        true,
                        reason::UNVERIFIED,
                        format!(
                            "{} accepted without verification: the coupon CRM is unreachable",
                            code.display()
                        ),
                        None,
                    )
                } else {
                    CouponCheck::refused(reason::CRM_UNAVAILABLE, CRM_UNAVAILABLE_TEXT.into())
                }
            }
        };
        let result = check.code.clone().unwrap_or_default();
        metrics::counter!("coupon_checks_total", "provider" => provider, "result" => result)
            .increment(1);
        Ok(check)
    }

    async fn resolved(&self, tenant_id: &TenantId) -> DomainResult<Resolved> {
        let now = self.0.clock.now();
        if let Some((resolved, at)) = self
            .0
            .settings
            .lock()
            .expect("settings lock")
            .get(tenant_id.as_str())
            && now - at < SETTINGS_TTL_MS
        {
            return Ok(*resolved);
        }
        let tenant = self.0.tenants.get(tenant_id).await?;
        let funderpro_available = tenant.is_default && self.0.funderpro.is_some();
        let row = repo::settings(&self.0.db, tenant_id).await?;
        let resolved = match row
            .as_ref()
            .and_then(|r| Provider::parse(&r.provider).map(|p| (p, r)))
        {
            Some((provider, row)) => Resolved {
                provider,
                fail_open: row.fail_open,
                chosen: true,
                funderpro_available,
            },
            // Default: the environment's FunderPro for the default workspace when configured
            // (the original system's behaviour), else the workspace's own list.
            None => Resolved {
                provider: if funderpro_available {
                    Provider::FunderPro
                } else {
                    Provider::List
                },
                fail_open: false,
                chosen: false,
                funderpro_available,
            },
        };
        self.0
            .settings
            .lock()
            .expect("settings lock")
            .insert(tenant_id.to_string(), (resolved, now));
        Ok(resolved)
    }

    /// Drop everything cached for the tenant (its list or settings changed).
    fn forget(&self, tenant_id: &TenantId) {
        self.0
            .crm_answers
            .lock()
            .expect("coupon cache lock")
            .forget_tenant(tenant_id.as_str());
        self.0
            .settings
            .lock()
            .expect("settings lock")
            .remove(tenant_id.as_str());
    }

    pub async fn settings(&self, tenant_id: &TenantId) -> DomainResult<CouponSettings> {
        self.0
            .settings
            .lock()
            .expect("settings lock")
            .remove(tenant_id.as_str());
        let resolved = self.resolved(tenant_id).await?;
        let detail = match (&self.0.funderpro, resolved.funderpro_available) {
            (Some(client), true) => format!(
                "FunderPro at {} for product {}",
                client.base_url(),
                client.product_id()
            ),
            (Some(_), false) => "Available to the default workspace only".into(),
            (None, _) => {
                "Not configured: set FUNDERPRO_API_URL, FUNDERPRO_PRODUCT_ID and FUNDERPRO_API_KEY"
                    .into()
            }
        };
        let visible = self
            .0
            .funderpro
            .as_ref()
            .filter(|_| resolved.funderpro_available);
        Ok(CouponSettings {
            provider: resolved.provider,
            fail_open: resolved.fail_open,
            chosen: resolved.chosen,
            funderpro: FunderProStatus {
                available: resolved.funderpro_available,
                api_url: visible.map(|c| c.base_url().to_owned()),
                product_id: visible.map(|c| c.product_id().to_owned()),
                has_api_key: visible.is_some_and(|c| c.has_key()),
                detail,
            },
            listed_codes: repo::count(&self.0.db, tenant_id).await?,
        })
    }

    pub async fn update_settings(
        &self,
        tenant_id: &TenantId,
        input: SettingsInput,
    ) -> DomainResult<CouponSettings> {
        let resolved = self.resolved(tenant_id).await?;
        if input.provider == Provider::FunderPro && !resolved.funderpro_available {
            return Err(DomainError::invalid(if self.0.funderpro.is_some() {
                "FunderPro is available to the default workspace only"
            } else {
                "FunderPro is not configured: set FUNDERPRO_API_URL and FUNDERPRO_PRODUCT_ID"
            }));
        }
        repo::save_settings(
            &self.0.db,
            tenant_id,
            input.provider.as_str(),
            input.fail_open,
            self.0.clock.now(),
        )
        .await?;
        self.forget(tenant_id);
        tracing::info!(
            %tenant_id,
            provider = input.provider.as_str(),
            fail_open = input.fail_open,
            "coupon provider changed"
        );
        self.settings(tenant_id).await
    }

    pub async fn list(
        &self,
        tenant_id: &TenantId,
        search: Option<&str>,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> DomainResult<CouponPage> {
        let search = search.map(str::trim).filter(|s| !s.is_empty());
        if search.is_some_and(|s| s.chars().count() > 100) {
            return Err(DomainError::invalid("search is at most 100 characters"));
        }
        let patterns = search.map(|s| {
            let escaped: String = s
                .chars()
                .flat_map(|c| match c {
                    '%' | '_' | '\\' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            (
                format!("%{}%", escaped.to_uppercase()),
                format!("%{}%", escaped.to_lowercase()),
            )
        });
        let limit = limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
        let offset = offset.unwrap_or(0).max(0);
        let (rows, total) = repo::list(
            &self.0.db,
            tenant_id,
            patterns.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
            limit,
            offset,
        )
        .await?;
        let now = self.0.clock.now();
        Ok(CouponPage {
            coupons: rows.into_iter().map(|r| Coupon::from_row(r, now)).collect(),
            total,
        })
    }

    pub async fn get(&self, tenant_id: &TenantId, id: &str) -> DomainResult<Coupon> {
        let row = repo::find(&self.0.db, tenant_id, id)
            .await?
            .ok_or(DomainError::NotFound("coupon"))?;
        Ok(Coupon::from_row(row, self.0.clock.now()))
    }

    pub async fn create(&self, tenant_id: &TenantId, input: CouponInput) -> DomainResult<Coupon> {
        let input = clean_input(input)?;
        let now = self.0.clock.now();
        let row = row_from(tenant_id, new_id(), input, now, now);
        let mut tx = self.0.db.begin().await?;
        repo::insert(&mut tx, &row).await.map_err(|e| match e {
            crate::db::DbError::Conflict(_) => {
                DomainError::conflict(format!("{} is already in the list", row.code))
            }
            other => other.into(),
        })?;
        tx.commit().await?;
        self.forget(tenant_id);
        Ok(Coupon::from_row(row, now))
    }

    pub async fn update(
        &self,
        tenant_id: &TenantId,
        id: &str,
        input: CouponInput,
    ) -> DomainResult<Coupon> {
        let input = clean_input(input)?;
        let existing = repo::find(&self.0.db, tenant_id, id)
            .await?
            .ok_or(DomainError::NotFound("coupon"))?;
        let now = self.0.clock.now();
        let row = row_from(tenant_id, existing.id, input, existing.created_at, now);
        let mut tx = self.0.db.begin().await?;
        let found = repo::update(&mut tx, &row).await.map_err(|e| match e {
            crate::db::DbError::Conflict(_) => {
                DomainError::conflict(format!("{} is already in the list", row.code))
            }
            other => other.into(),
        })?;
        if !found {
            return Err(DomainError::NotFound("coupon"));
        }
        tx.commit().await?;
        self.forget(tenant_id);
        Ok(Coupon::from_row(row, now))
    }

    pub async fn delete(&self, tenant_id: &TenantId, id: &str) -> DomainResult<()> {
        if !repo::delete(&self.0.db, tenant_id, id).await? {
            return Err(DomainError::NotFound("coupon"));
        }
        self.forget(tenant_id);
        Ok(())
    }

    /// Add or update codes from CSV or a pasted list, all or nothing.
    pub async fn import(&self, tenant_id: &TenantId, text: &str) -> DomainResult<ImportResult> {
        let parsed = csv::parse_import(text, self.0.clock.now())?;
        if parsed.len() > MAX_IMPORT_ROWS {
            return Err(DomainError::invalid(format!(
                "import at most {MAX_IMPORT_ROWS} codes at a time"
            )));
        }
        // Check every line before writing anything; a later line for the same code wins.
        let mut cleaned: Vec<CleanInput> = Vec::with_capacity(parsed.len());
        let mut position: HashMap<String, usize> = HashMap::new();
        for (line, input) in parsed {
            let input = clean_input(input)
                .map_err(|e| DomainError::invalid(format!("line {line}: {e}")))?;
            match position.get(input.code.key()) {
                Some(&at) => cleaned[at] = input,
                None => {
                    position.insert(input.code.key().to_owned(), cleaned.len());
                    cleaned.push(input);
                }
            }
        }
        if cleaned.is_empty() {
            return Err(DomainError::invalid("there are no codes to import"));
        }
        let now = self.0.clock.now();
        let (mut created, mut updated) = (0, 0);
        let mut tx = self.0.db.begin().await?;
        for input in cleaned {
            match repo::find_by_key_tx(&mut tx, tenant_id, input.code.key()).await? {
                Some(existing) => {
                    let row = row_from(tenant_id, existing.id, input, existing.created_at, now);
                    repo::update(&mut tx, &row).await?;
                    updated += 1;
                }
                None => {
                    let row = row_from(tenant_id, new_id(), input, now, now);
                    repo::insert(&mut tx, &row).await?;
                    created += 1;
                }
            }
        }
        tx.commit().await?;
        self.forget(tenant_id);
        Ok(ImportResult { created, updated })
    }

    /// Every listed code as CSV (the import format).
    pub async fn export(&self, tenant_id: &TenantId) -> DomainResult<String> {
        let rows = repo::all(&self.0.db, tenant_id).await?;
        Ok(csv::export(&rows))
    }

    /// The demo workspace's codes (first start with demo data): listed unless already there.
    pub async fn seed_demo(&self, tenant_id: &TenantId) -> DomainResult<usize> {
        let mut seeded = 0;
        for (code, percent) in [("SAVE10", 10.0), ("WELCOME20", 20.0), ("GOLD50", 50.0)] {
            let input = CouponInput {
                code: code.into(),
                discount: Some(Discount {
                    kind: DiscountKind::Percent,
                    value: percent,
                    currency: None,
                }),
                active: Some(true),
                expires_at: None,
                note: Some("demo code".into()),
            };
            match self.create(tenant_id, input).await {
                Ok(_) => seeded += 1,
                Err(DomainError::Conflict { .. }) => {}
                Err(other) => return Err(other),
            }
        }
        Ok(seeded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_trimmed_case_folded_and_checked() {
        let code = CouponCode::parse("  save10 ").unwrap();
        assert_eq!(code.display(), "save10");
        assert_eq!(code.key(), "SAVE10");
        assert_eq!(CouponCode::parse("Été-20_x.1").unwrap().key(), "ÉTÉ-20_X.1");
        for bad in [
            "",
            "   ",
            "AB\u{7}C",
            "GO🚀",
            "TWO WORDS",
            "A/B",
            &"X".repeat(65),
        ] {
            assert!(
                matches!(
                    CouponCode::parse(bad).map_err(DomainError::from),
                    Err(DomainError::Invalid { .. })
                ),
                "{bad:?} is refused"
            );
        }
        assert!(CouponCode::parse(&"X".repeat(64)).is_ok());
    }

    #[test]
    fn discounts_read_well() {
        let pct = Discount {
            kind: DiscountKind::Percent,
            value: 10.0,
            currency: None,
        };
        assert_eq!(pct.describe(), "10% off");
        let amount = Discount {
            kind: DiscountKind::Amount,
            value: 12.5,
            currency: Some("USD".into()),
        };
        assert_eq!(amount.describe(), "12.50 USD off");
    }

    #[test]
    fn check_serialises_as_the_public_payload() {
        let check = CouponCheck::accepted(
            "SAVE10",
            Some(Discount {
                kind: DiscountKind::Percent,
                value: 10.0,
                currency: None,
            }),
        );
        let json = serde_json::to_value(&check).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"valid": true, "reason": "SAVE10 is valid: 10% off", "code": "valid",
                "discount": {"type": "percent", "value": 10.0}})
        );
    }
}
