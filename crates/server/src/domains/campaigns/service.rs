//! Rules for campaigns: validation, status over time, overlays in object storage, entries.
//!
//! An overlay is written to a fresh key BEFORE the row points at it; the old object is removed
//! only after the row has moved on, so a reader never finds the row naming a missing object.
use crate::ids::TenantId;
use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use promostack_render::{DecodeLimits, ImageFormat, sniff_format};
use serde::{Deserialize, Serialize};

use super::limiter::AttemptLimiter;
use super::links::{self, PLATFORMS};
use super::repo::{self, CampaignRow, CampaignWithCounts, SubmissionRow};
use crate::db::{Db, DbError, new_id};
use crate::domains::error::{DomainError, DomainResult};
use crate::domains::templates::service::{render_error, storage_error};
use crate::storage::Storage;
use crate::time::{Clock, Millis};

pub const MAX_TITLE_CHARS: usize = 120;
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
pub const MAX_NAME_CHARS: usize = 80;
pub const MAX_HANDLE_CHARS: usize = 64;
pub const MAX_EMAIL_CHARS: usize = 254;
/// Entry attempts per client address per window.
pub const SUBMISSIONS_PER_WINDOW: u32 = 10;
pub const SUBMISSION_WINDOW_MS: i64 = 10 * 60 * 1000;
/// Server-side composites per client address per window (each is a full decode and encode).
pub const COMPOSITES_PER_WINDOW: u32 = 30;

/// Overlays are drawn over phone photos: 10 MB and 25 MP (e.g. 5000×5000) are plenty.
pub fn overlay_limits() -> DecodeLimits {
    DecodeLimits {
        max_bytes: 10 * 1024 * 1024,
        max_pixels: 25_000_000,
        max_dimension: 8192,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Upcoming,
    Active,
    Paused,
    Ended,
}

impl Status {
    /// The window decides first: an ended campaign stays ended even when paused; a pause
    /// applies to upcoming and active campaigns.
    pub fn at(starts_at: Millis, ends_at: Millis, paused: bool, now: Millis) -> Status {
        if now >= ends_at {
            Status::Ended
        } else if paused {
            Status::Paused
        } else if now < starts_at {
            Status::Upcoming
        } else {
            Status::Active
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct OverlaySize {
    pub width: i64,
    pub height: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Campaign {
    pub id: String,
    pub title: String,
    pub description: String,
    pub starts_at: Millis,
    pub ends_at: Millis,
    pub platforms: Vec<String>,
    pub paused: bool,
    pub status: Status,
    pub overlay: Option<OverlaySize>,
    pub entries: i64,
    pub pending: i64,
    /// Path of the public participation page.
    pub public_path: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlatformInfo {
    pub id: &'static str,
    pub label: &'static str,
}

/// What the public page may know: no counts, no tenant, no entries.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicCampaign {
    pub id: String,
    pub title: String,
    pub description: String,
    pub starts_at: Millis,
    pub ends_at: Millis,
    pub platforms: Vec<PlatformInfo>,
    pub status: Status,
    pub overlay: Option<OverlaySize>,
    /// The server's clock, so the countdown does not trust the device's.
    pub now: Millis,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Submission {
    pub id: String,
    pub campaign_id: String,
    pub url: String,
    pub platform: String,
    pub name: Option<String>,
    pub handle: Option<String>,
    pub email: Option<String>,
    pub status: String,
    pub created_at: Millis,
    pub reviewed_at: Option<Millis>,
}

impl From<SubmissionRow> for Submission {
    fn from(row: SubmissionRow) -> Self {
        Submission {
            id: row.id,
            campaign_id: row.campaign_id,
            url: row.url,
            platform: row.platform,
            name: row.name,
            handle: row.handle,
            email: row.email,
            status: row.status,
            created_at: row.created_at,
            reviewed_at: row.reviewed_at,
        }
    }
}

/// Create/replace body of a campaign.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CampaignInput {
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(deserialize_with = "crate::serde_int::i64")]
    pub starts_at: Millis,
    #[serde(deserialize_with = "crate::serde_int::i64")]
    pub ends_at: Millis,
    /// Platform ids: instagram, tiktok, x, facebook, telegram, youtube.
    pub platforms: Vec<String>,
    #[serde(default)]
    pub paused: bool,
}

/// A participant's entry.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubmissionInput {
    pub url: String,
    pub name: Option<String>,
    pub handle: Option<String>,
    pub email: Option<String>,
}

pub const SUBMISSION_STATUSES: [&str; 3] = ["pending", "approved", "rejected"];

#[derive(Clone)]
pub struct CampaignService {
    db: Db,
    storage: Storage,
    clock: Clock,
    limiter: Arc<AttemptLimiter>,
    composite_limiter: Arc<AttemptLimiter>,
}

impl CampaignService {
    pub fn new(db: Db, storage: Storage, clock: Clock) -> Self {
        Self {
            db,
            storage,
            clock,
            limiter: Arc::new(AttemptLimiter::new(
                SUBMISSIONS_PER_WINDOW,
                SUBMISSION_WINDOW_MS,
            )),
            composite_limiter: Arc::new(AttemptLimiter::new(
                COMPOSITES_PER_WINDOW,
                SUBMISSION_WINDOW_MS,
            )),
        }
    }

    fn to_campaign(&self, row: CampaignWithCounts) -> DomainResult<Campaign> {
        let c = row.campaign;
        let now = self.clock.now();
        Ok(Campaign {
            status: Status::at(c.starts_at, c.ends_at, c.paused, now),
            platforms: platforms_of(&c)?,
            overlay: overlay_size(&c),
            public_path: format!("/campaign/{}", c.id),
            id: c.id,
            title: c.title,
            description: c.description,
            starts_at: c.starts_at,
            ends_at: c.ends_at,
            paused: c.paused,
            entries: row.entries,
            pending: row.pending,
            created_at: c.created_at,
            updated_at: c.updated_at,
        })
    }

    async fn row(&self, tenant_id: &TenantId, id: &str) -> DomainResult<CampaignWithCounts> {
        repo::find(&self.db, tenant_id, id)
            .await?
            .ok_or(DomainError::NotFound("campaign"))
    }

    pub async fn list(&self, tenant_id: &TenantId) -> DomainResult<Vec<Campaign>> {
        repo::list(&self.db, tenant_id)
            .await?
            .into_iter()
            .map(|r| self.to_campaign(r))
            .collect()
    }

    pub async fn get(&self, tenant_id: &TenantId, id: &str) -> DomainResult<Campaign> {
        let row = self.row(tenant_id, id).await?;
        self.to_campaign(row)
    }

    pub async fn create(
        &self,
        tenant_id: &TenantId,
        input: CampaignInput,
    ) -> DomainResult<Campaign> {
        let input = validate_input(input)?;
        let now = self.clock.now();
        let row = CampaignRow {
            id: new_id(),
            tenant_id: tenant_id.to_owned(),
            title: input.title,
            description: input.description,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            platforms_json: json_string(&input.platforms)?,
            paused: input.paused,
            overlay_key: None,
            overlay_width: None,
            overlay_height: None,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.db.begin().await?;
        repo::insert(&mut tx, &row).await?;
        tx.commit().await?;
        self.get(tenant_id, &row.id).await
    }

    /// Replace the details (overlay and entries stay).
    pub async fn update(
        &self,
        tenant_id: &TenantId,
        id: &str,
        input: CampaignInput,
    ) -> DomainResult<Campaign> {
        let existing = self.row(tenant_id, id).await?.campaign;
        let input = validate_input(input)?;
        let row = CampaignRow {
            title: input.title,
            description: input.description,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            platforms_json: json_string(&input.platforms)?,
            paused: input.paused,
            updated_at: self.clock.now(),
            ..existing
        };
        let mut tx = self.db.begin().await?;
        if !repo::update_details(&mut tx, &row).await? {
            return Err(DomainError::NotFound("campaign"));
        }
        tx.commit().await?;
        self.get(tenant_id, id).await
    }

    /// Pause or resume without resending the other fields.
    pub async fn set_paused(
        &self,
        tenant_id: &TenantId,
        id: &str,
        paused: bool,
    ) -> DomainResult<Campaign> {
        let existing = self.row(tenant_id, id).await?.campaign;
        let row = CampaignRow {
            paused,
            updated_at: self.clock.now(),
            ..existing
        };
        let mut tx = self.db.begin().await?;
        if !repo::update_details(&mut tx, &row).await? {
            return Err(DomainError::NotFound("campaign"));
        }
        tx.commit().await?;
        self.get(tenant_id, id).await
    }

    /// Delete the campaign, its entries (cascade) and its overlay objects.
    pub async fn delete(&self, tenant_id: &TenantId, id: &str) -> DomainResult<()> {
        let mut tx = self.db.begin().await?;
        if !repo::delete(&mut tx, tenant_id, id).await? {
            return Err(DomainError::NotFound("campaign"));
        }
        tx.commit().await?;
        self.delete_objects(&overlay_prefix(tenant_id, id)).await;
        Ok(())
    }

    /// Check and store a new overlay image; the previous one is removed afterwards.
    pub async fn set_overlay(
        &self,
        tenant_id: &TenantId,
        id: &str,
        bytes: Bytes,
    ) -> DomainResult<Campaign> {
        let existing = self.row(tenant_id, id).await?.campaign;
        let (format, width, height) = check_overlay(bytes.clone()).await?;
        let ext = match format {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpg",
            ImageFormat::WebP => "webp",
        };
        let key = format!("{}/{}.{ext}", overlay_prefix(tenant_id, id), new_id());
        self.storage
            .put(&key, bytes, mime(format))
            .await
            .map_err(storage_error)?;
        let committed = async {
            let mut tx = self.db.begin().await?;
            let moved = repo::set_overlay(
                &mut tx,
                tenant_id,
                id,
                existing.overlay_key.as_deref(),
                Some((&key, width, height)),
                self.clock.now(),
            )
            .await?;
            if !moved {
                return Err(DomainError::conflict(
                    "the overlay was changed meanwhile; reload and try again",
                ));
            }
            tx.commit().await?;
            Ok(())
        }
        .await;
        if let Err(err) = committed {
            self.delete_object(&key).await;
            return Err(err);
        }
        if let Some(old) = existing.overlay_key {
            self.delete_object(&old).await;
        }
        self.get(tenant_id, id).await
    }

    pub async fn remove_overlay(&self, tenant_id: &TenantId, id: &str) -> DomainResult<Campaign> {
        let existing = self.row(tenant_id, id).await?.campaign;
        let Some(old) = existing.overlay_key else {
            return self.get(tenant_id, id).await;
        };
        let mut tx = self.db.begin().await?;
        if !repo::set_overlay(&mut tx, tenant_id, id, Some(&old), None, self.clock.now()).await? {
            return Err(DomainError::conflict(
                "the overlay was changed meanwhile; reload and try again",
            ));
        }
        tx.commit().await?;
        self.delete_object(&old).await;
        self.get(tenant_id, id).await
    }

    /// The overlay of a campaign of this tenant (the editor's preview).
    pub async fn overlay(&self, tenant_id: &TenantId, id: &str) -> DomainResult<Bytes> {
        let row = self.row(tenant_id, id).await?.campaign;
        self.overlay_bytes(&row).await
    }

    async fn overlay_bytes(&self, row: &CampaignRow) -> DomainResult<Bytes> {
        let key = row
            .overlay_key
            .as_deref()
            .ok_or(DomainError::NotFound("overlay"))?;
        self.storage
            .get(key)
            .await
            .map_err(storage_error)?
            .ok_or_else(|| DomainError::internal(format!("object {key} is missing")))
    }

    async fn public_row(&self, id: &str) -> DomainResult<CampaignRow> {
        // Ids are UUIDv7 text; anything else cannot exist, so skip the query.
        if id.len() > 64 {
            return Err(DomainError::NotFound("campaign"));
        }
        repo::find_public(&self.db, id)
            .await?
            .ok_or(DomainError::NotFound("campaign"))
    }

    pub async fn public(&self, id: &str) -> DomainResult<PublicCampaign> {
        let row = self.public_row(id).await?;
        let now = self.clock.now();
        let platforms = platforms_of(&row)?
            .iter()
            .filter_map(|p| links::platform(p))
            .map(|p| PlatformInfo {
                id: p.id,
                label: p.label,
            })
            .collect();
        Ok(PublicCampaign {
            status: Status::at(row.starts_at, row.ends_at, row.paused, now),
            overlay: overlay_size(&row),
            id: row.id,
            title: row.title,
            description: row.description,
            starts_at: row.starts_at,
            ends_at: row.ends_at,
            platforms,
            now,
        })
    }

    pub async fn public_overlay(&self, id: &str) -> DomainResult<Bytes> {
        let row = self.public_row(id).await?;
        self.overlay_bytes(&row).await
    }

    /// The overlay bytes (if any) for a server-side composite, counted against the client's
    /// budget.
    pub async fn composite_overlay(&self, id: &str, client: IpAddr) -> DomainResult<Option<Bytes>> {
        self.composite_limiter
            .attempt(client, self.clock.now())
            .map_err(|retry_after_secs| DomainError::RateLimited { retry_after_secs })?;
        let row = self.public_row(id).await?;
        match row.overlay_key {
            Some(_) => Ok(Some(self.overlay_bytes(&row).await?)),
            None => Ok(None),
        }
    }

    /// A participant's entry: counted against the address's budget first, then checked.
    pub async fn submit(
        &self,
        campaign_id: &str,
        input: SubmissionInput,
        client: IpAddr,
    ) -> DomainResult<Submission> {
        let now = self.clock.now();
        self.limiter
            .attempt(client, now)
            .map_err(|retry_after_secs| DomainError::RateLimited { retry_after_secs })?;
        let campaign = self.public_row(campaign_id).await?;
        match Status::at(campaign.starts_at, campaign.ends_at, campaign.paused, now) {
            Status::Active => {}
            Status::Upcoming => {
                return Err(DomainError::conflict(format!(
                    "this campaign has not started yet; entries open at {}",
                    rfc3339(campaign.starts_at)
                )));
            }
            Status::Paused => {
                return Err(DomainError::conflict(
                    "entries are paused for this campaign; try again later",
                ));
            }
            Status::Ended => {
                return Err(DomainError::conflict(format!(
                    "this campaign ended at {}; entries are closed",
                    rfc3339(campaign.ends_at)
                )));
            }
        }
        let allowed = platforms_of(&campaign)?;
        let link =
            links::check(&input.url, &allowed).map_err(|e| DomainError::invalid(e.to_string()))?;
        let name = optional_text(input.name, "name", MAX_NAME_CHARS)?;
        let handle = optional_text(input.handle, "handle", MAX_HANDLE_CHARS)?;
        let email = optional_text(input.email, "email", MAX_EMAIL_CHARS)?.map(|e| e.to_lowercase());
        if let Some(email) = &email
            && !plausible_email(email)
        {
            return Err(DomainError::invalid(
                "that email address does not look right",
            ));
        }
        let row = SubmissionRow {
            id: new_id(),
            campaign_id: campaign.id.clone(),
            tenant_id: campaign.tenant_id.clone(),
            url: link.url,
            normalized_url: link.normalized,
            platform: link.platform.to_owned(),
            name,
            handle,
            email,
            status: "pending".into(),
            created_at: now,
            reviewed_at: None,
        };
        let mut tx = self.db.begin().await?;
        repo::insert_submission(&mut tx, &row)
            .await
            .map_err(|e| match e {
                DbError::Conflict(_) => {
                    DomainError::duplicate("this post was already entered in this campaign")
                }
                other => other.into(),
            })?;
        tx.commit().await?;
        metrics::counter!("campaign_submissions_total", "platform" => row.platform.clone())
            .increment(1);
        Ok(row.into())
    }

    pub async fn submissions(
        &self,
        tenant_id: &TenantId,
        campaign_id: &str,
        platform: Option<&str>,
        status: Option<&str>,
    ) -> DomainResult<Vec<Submission>> {
        self.row(tenant_id, campaign_id).await?;
        let platform = platform.unwrap_or("").trim();
        let status = status.unwrap_or("").trim();
        if !platform.is_empty() && links::platform(platform).is_none() {
            return Err(DomainError::invalid(format!(
                "unknown platform '{platform}'"
            )));
        }
        if !status.is_empty() && !SUBMISSION_STATUSES.contains(&status) {
            return Err(DomainError::invalid(
                "status must be pending, approved or rejected",
            ));
        }
        Ok(
            repo::list_submissions(&self.db, tenant_id, campaign_id, platform, status)
                .await?
                .into_iter()
                .map(Submission::from)
                .collect(),
        )
    }

    pub async fn review(
        &self,
        tenant_id: &TenantId,
        campaign_id: &str,
        submission_id: &str,
        status: &str,
    ) -> DomainResult<Submission> {
        if !SUBMISSION_STATUSES.contains(&status) {
            return Err(DomainError::invalid(
                "status must be pending, approved or rejected",
            ));
        }
        self.row(tenant_id, campaign_id).await?;
        let mut tx = self.db.begin().await?;
        let now = self.clock.now();
        if !repo::set_submission_status(&mut tx, tenant_id, campaign_id, submission_id, status, now)
            .await?
        {
            return Err(DomainError::NotFound("submission"));
        }
        tx.commit().await?;
        repo::find_submission(&self.db, tenant_id, campaign_id, submission_id)
            .await?
            .map(Submission::from)
            .ok_or(DomainError::NotFound("submission"))
    }

    /// The (filtered) entries as CSV; every cell is guarded against spreadsheet formulas.
    pub async fn submissions_csv(
        &self,
        tenant_id: &TenantId,
        campaign_id: &str,
        platform: Option<&str>,
        status: Option<&str>,
    ) -> DomainResult<String> {
        let rows = self
            .submissions(tenant_id, campaign_id, platform, status)
            .await?;
        let mut out = String::from("submitted_at,platform,status,url,name,handle,email\r\n");
        for s in rows {
            let cells = [
                rfc3339(s.created_at),
                s.platform,
                s.status,
                s.url,
                s.name.unwrap_or_default(),
                s.handle.unwrap_or_default(),
                s.email.unwrap_or_default(),
            ];
            out.push_str(&crate::csv::row(&cells.each_ref().map(String::as_str)));
        }
        Ok(out)
    }

    async fn delete_object(&self, key: &str) {
        if let Err(err) = self.storage.delete(key).await {
            tracing::warn!(%key, error = %err, "could not delete an old overlay object");
        }
    }

    async fn delete_objects(&self, prefix: &str) {
        match self.storage.list(prefix).await {
            Ok(keys) => {
                for key in keys {
                    self.delete_object(&key).await;
                }
            }
            Err(err) => tracing::warn!(%prefix, error = %err, "could not list overlay objects"),
        }
    }
}

pub fn overlay_prefix(tenant_id: &TenantId, campaign_id: &str) -> String {
    format!("tenants/{tenant_id}/campaigns/overlays/{campaign_id}")
}

/// Content sniffing, byte/pixel caps and a full decode (truncation, bombs) off the async workers.
async fn check_overlay(bytes: Bytes) -> DomainResult<(ImageFormat, i64, i64)> {
    let format = sniff_format(&bytes).ok_or_else(|| {
        DomainError::UnsupportedMedia("the overlay is not a PNG, JPEG or WebP image".into())
    })?;
    let limits = overlay_limits();
    if bytes.len() > limits.max_bytes {
        return Err(DomainError::TooLarge);
    }
    let pixmap = tokio::task::spawn_blocking(move || {
        promostack_render::decode_image(&bytes, &limits, "overlay image")
    })
    .await
    .map_err(|e| DomainError::internal(e.to_string()))?
    .map_err(render_error)?;
    Ok((
        format,
        i64::from(pixmap.width()),
        i64::from(pixmap.height()),
    ))
}

fn mime(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "image/png",
        ImageFormat::Jpeg => "image/jpeg",
        ImageFormat::WebP => "image/webp",
    }
}

fn validate_input(mut input: CampaignInput) -> DomainResult<CampaignInput> {
    input.title = input.title.trim().to_owned();
    input.description = input.description.trim().to_owned();
    let title_len = input.title.chars().count();
    if title_len == 0 || title_len > MAX_TITLE_CHARS {
        return Err(DomainError::invalid(format!(
            "title must be 1 to {MAX_TITLE_CHARS} characters"
        )));
    }
    if input.title.chars().any(char::is_control) {
        return Err(DomainError::invalid("title must be a single line"));
    }
    if input.description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(DomainError::invalid(format!(
            "description must be at most {MAX_DESCRIPTION_CHARS} characters"
        )));
    }
    if input.starts_at <= 0 || input.ends_at <= 0 {
        return Err(DomainError::invalid(
            "startsAt and endsAt are unix milliseconds",
        ));
    }
    if input.ends_at <= input.starts_at {
        return Err(DomainError::invalid(
            "the campaign must end after it starts",
        ));
    }
    let mut platforms = Vec::new();
    for p in &input.platforms {
        let p = p.trim().to_lowercase();
        if links::platform(&p).is_none() {
            let known: Vec<_> = PLATFORMS.iter().map(|p| p.id).collect();
            return Err(DomainError::invalid(format!(
                "unknown platform '{p}' (use {})",
                known.join(", ")
            )));
        }
        if !platforms.contains(&p) {
            platforms.push(p);
        }
    }
    if platforms.is_empty() {
        return Err(DomainError::invalid("choose at least one target platform"));
    }
    // Keep the table's order, so lists read the same everywhere.
    platforms.sort_by_key(|p| PLATFORMS.iter().position(|k| k.id == p));
    input.platforms = platforms;
    Ok(input)
}

fn platforms_of(row: &CampaignRow) -> DomainResult<Vec<String>> {
    serde_json::from_str(&row.platforms_json).map_err(|e| DomainError::internal(e.to_string()))
}

fn overlay_size(row: &CampaignRow) -> Option<OverlaySize> {
    match (&row.overlay_key, row.overlay_width, row.overlay_height) {
        (Some(_), Some(width), Some(height)) => Some(OverlaySize { width, height }),
        _ => None,
    }
}

fn json_string<T: Serialize>(value: &T) -> DomainResult<String> {
    serde_json::to_string(value).map_err(|e| DomainError::internal(e.to_string()))
}

fn optional_text(value: Option<String>, field: &str, max: usize) -> DomainResult<Option<String>> {
    let Some(value) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max {
        return Err(DomainError::invalid(format!(
            "{field} must be at most {max} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(DomainError::invalid(format!(
            "{field} must be a single line"
        )));
    }
    Ok(Some(value))
}

fn plausible_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    }
}

fn rfc3339(ms: Millis) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.round(jiff::Unit::Second).unwrap_or(t).to_string())
        .unwrap_or_else(|_| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_window_then_pause() {
        let (start, end) = (1_000, 2_000);
        assert_eq!(Status::at(start, end, false, 999), Status::Upcoming);
        assert_eq!(Status::at(start, end, false, 1_000), Status::Active);
        assert_eq!(Status::at(start, end, true, 1_500), Status::Paused);
        assert_eq!(Status::at(start, end, true, 500), Status::Paused);
        assert_eq!(Status::at(start, end, false, 2_000), Status::Ended);
        assert_eq!(Status::at(start, end, true, 2_000), Status::Ended);
    }

    #[test]
    fn emails() {
        assert!(plausible_email("ann@example.com"));
        for bad in [
            "ann",
            "@example.com",
            "ann@example",
            "ann@.com",
            "a b@example.com",
        ] {
            assert!(!plausible_email(bad), "{bad}");
        }
    }
}
