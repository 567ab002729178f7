//! Rules for templates: validation against the decoded images, versioned storage, index files.
//!
//! Objects are written under `tenants/{tenant}/templates/{id}/v{version}/` BEFORE the row that
//! points at them is committed; a failed upload leaves no row (and its objects are removed), and
//! a reader of the old version keeps working until the new one is committed.
use crate::ids::TenantId;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use promostack_render::{
    BoxSpec, DecodeLimits, PreparedBackground, TemplateSpec, VariantSpec, sniff_format,
};
use serde::Serialize;

use super::render::Renderer;
use super::repo::{self, TemplateRow};
use crate::db::{Db, new_id};
use crate::domains::error::{ConflictKind, DomainError, DomainResult};
use crate::storage::Storage;
use crate::time::Clock;

/// Variants the product knows; a template has one or both.
pub const VARIANTS: [&str; 2] = ["square", "portrait"];
pub const LOGO_FILE: &str = "logo.png";
/// An uploaded brand font is stored under this name and named in `style.font`.
pub const FONT_FILE: &str = "font.ttf";

#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ImageSize {
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub telegram_enabled: bool,
    pub version: i64,
    pub updated_at: i64,
    /// The template in the `meta.json` format of docs/design.md §6.
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
    pub variants: BTreeMap<String, ImageSize>,
    pub has_logo: bool,
}

impl Template {
    fn from_row(row: &TemplateRow) -> DomainResult<Template> {
        Ok(Template {
            id: row.id.clone(),
            slug: row.slug.clone(),
            name: row.name.clone(),
            telegram_enabled: row.telegram_enabled,
            version: row.version,
            updated_at: row.updated_at,
            spec: serde_json::from_str(&row.spec_json)
                .map_err(|e| DomainError::internal(e.to_string()))?,
            variants: serde_json::from_str(&row.variants_json)
                .map_err(|e| DomainError::internal(e.to_string()))?,
            has_logo: row.has_logo,
        })
    }
}

/// Files of one template version, by file name.
pub type Files = BTreeMap<String, Bytes>;

/// How long the bot reuses a workspace's list of Telegram templates. A change made through this
/// instance drops the list at once; one made through another instance shows within this time.
pub const TELEGRAM_LIST_TTL: Duration = Duration::from_secs(5);
/// Workspaces whose list is kept at most (beyond this the whole cache is dropped).
const TELEGRAM_LISTS_MAX: usize = 10_000;

#[derive(Clone)]
pub struct TemplateService {
    db: Db,
    storage: Storage,
    clock: Clock,
    pub renderer: Arc<Renderer>,
    telegram_lists: Arc<TelegramLists>,
}

/// A workspace's Telegram templates and when they were read.
type TelegramList = (Instant, Arc<[Template]>);

/// The bot's per-workspace lists (every /help, /start and /generate needs one: reading and
/// parsing every template's spec each time cost more than the rest of the update).
#[derive(Default)]
struct TelegramLists {
    lists: Mutex<HashMap<String, TelegramList>>,
    /// Bumped by every write; a list read while a write committed is not kept.
    writes: AtomicU64,
}

pub fn prefix(tenant_id: &TenantId, id: &str, version: i64) -> String {
    format!("tenants/{tenant_id}/templates/{id}/v{version}")
}

impl TemplateService {
    pub fn new(
        db: Db,
        storage: Storage,
        clock: Clock,
        budget: crate::config::RenderBudgetConfig,
    ) -> Self {
        Self {
            db,
            storage,
            clock,
            renderer: Arc::new(Renderer::new(budget)),
            telegram_lists: Arc::default(),
        }
    }

    /// The workspace's Telegram-enabled templates, by name (case-insensitive); cached for
    /// [`TELEGRAM_LIST_TTL`].
    pub async fn telegram_templates(&self, tenant_id: &TenantId) -> DomainResult<Arc<[Template]>> {
        let cache = &self.telegram_lists;
        if let Some((at, list)) = cache
            .lists
            .lock()
            .expect("lists lock")
            .get(tenant_id.as_str())
            && at.elapsed() < TELEGRAM_LIST_TTL
        {
            return Ok(list.clone());
        }
        let writes = cache.writes.load(Ordering::Acquire);
        let mut templates: Vec<Template> = self
            .list(tenant_id)
            .await?
            .into_iter()
            .filter(|t| t.telegram_enabled)
            .collect();
        templates.sort_by_key(|t| t.name.to_lowercase());
        let list: Arc<[Template]> = templates.into();
        let mut lists = cache.lists.lock().expect("lists lock");
        if cache.writes.load(Ordering::Acquire) == writes {
            if lists.len() >= TELEGRAM_LISTS_MAX {
                lists.clear();
            }
            lists.insert(tenant_id.to_string(), (Instant::now(), list.clone()));
        }
        Ok(list)
    }

    /// After a committed write: the workspace's cached list is stale.
    fn changed(&self, tenant_id: &TenantId) {
        let cache = &self.telegram_lists;
        let mut lists = cache.lists.lock().expect("lists lock");
        cache.writes.fetch_add(1, Ordering::AcqRel);
        lists.remove(tenant_id.as_str());
    }

    pub(super) fn storage(&self) -> &Storage {
        &self.storage
    }

    pub async fn list(&self, tenant_id: &TenantId) -> DomainResult<Vec<Template>> {
        repo::list(&self.db, tenant_id)
            .await?
            .iter()
            .map(Template::from_row)
            .collect()
    }

    pub(super) async fn row(
        &self,
        tenant_id: &TenantId,
        id_or_slug: &str,
    ) -> DomainResult<TemplateRow> {
        repo::find(&self.db, tenant_id, id_or_slug)
            .await?
            .ok_or(DomainError::NotFound("template"))
    }

    pub async fn get(&self, tenant_id: &TenantId, id_or_slug: &str) -> DomainResult<Template> {
        Template::from_row(&self.row(tenant_id, id_or_slug).await?)
    }

    pub(super) fn spec_of(row: &TemplateRow) -> DomainResult<TemplateSpec> {
        TemplateSpec::from_json(row.spec_json.as_bytes())
            .map_err(|e| DomainError::internal(e.to_string()))
    }

    /// A file of the current version (background image or logo).
    pub async fn file(&self, row: &TemplateRow, name: &str) -> DomainResult<Bytes> {
        let key = format!("{}/{name}", prefix(&row.tenant_id, &row.id, row.version));
        self.storage
            .get(&key)
            .await
            .map_err(storage_error)?
            .ok_or_else(|| DomainError::internal(format!("object {key} is missing")))
    }

    pub async fn image(
        &self,
        tenant_id: &TenantId,
        id: &str,
        variant: &str,
    ) -> DomainResult<Bytes> {
        let row = self.row(tenant_id, id).await?;
        let spec = Self::spec_of(&row)?;
        let variant = spec
            .variants
            .get(variant)
            .ok_or(DomainError::NotFound("variant"))?;
        self.file(&row, &variant.image).await
    }

    pub async fn logo(&self, tenant_id: &TenantId, id: &str) -> DomainResult<Bytes> {
        let row = self.row(tenant_id, id).await?;
        if !row.has_logo {
            return Err(DomainError::NotFound("logo"));
        }
        self.file(&row, LOGO_FILE).await
    }

    /// New template from uploaded backgrounds (by variant) and an optional logo.
    pub async fn create(
        &self,
        tenant_id: &TenantId,
        name: &str,
        slug: Option<&str>,
        images: BTreeMap<String, Bytes>,
        logo: Option<Bytes>,
    ) -> DomainResult<Template> {
        let name = template_name(name)?;
        let name = name.as_str();
        if images.is_empty() {
            return Err(DomainError::invalid(
                "upload a square and/or a portrait image",
            ));
        }
        let slug = match slug.map(str::trim).filter(|s| !s.is_empty()) {
            Some(slug) => slug.to_owned(),
            None => slugify(name),
        };
        let mut spec: TemplateSpec = serde_json::from_value(serde_json::json!({
            "name": name, "slug": slug, "telegramEnabled": true, "style": {}, "variants": {}
        }))
        .map_err(|e| DomainError::internal(e.to_string()))?;
        let mut files = Files::new();
        for (variant, bytes) in images {
            let (file, size) = variant_file(&variant, &bytes)?;
            spec.variants.insert(variant, default_variant(&file, size));
            files.insert(file, bytes);
        }
        self.save(tenant_id, None, spec, files, logo.map(Some))
            .await
    }

    /// Import a full spec with its files (archive import, demo seeding).
    pub async fn create_from_spec(
        &self,
        tenant_id: &TenantId,
        spec: TemplateSpec,
        files: Files,
        logo: Option<Bytes>,
    ) -> DomainResult<Template> {
        self.save(tenant_id, None, spec, files, logo.map(Some))
            .await
    }

    /// Replace the spec (boxes, style, name, slug, Telegram flag); images stay.
    pub async fn update_spec(
        &self,
        tenant_id: &TenantId,
        id: &str,
        spec: TemplateSpec,
    ) -> DomainResult<Template> {
        let row = self.row(tenant_id, id).await?;
        self.save(tenant_id, Some(&row), spec, Files::new(), None)
            .await
    }

    /// Replace or add backgrounds and/or the logo.
    pub async fn replace_assets(
        &self,
        tenant_id: &TenantId,
        id: &str,
        images: BTreeMap<String, Bytes>,
        logo: Option<Option<Bytes>>,
        font: Option<Bytes>,
    ) -> DomainResult<Template> {
        let row = self.row(tenant_id, id).await?;
        let mut spec = Self::spec_of(&row)?;
        let mut files = Files::new();
        if let Some(font) = font {
            spec.style.font = Some(FONT_FILE.to_owned());
            files.insert(FONT_FILE.to_owned(), font);
        }
        for (variant, bytes) in images {
            let (file, size) = variant_file(&variant, &bytes)?;
            match spec.variants.get_mut(&variant) {
                // Keep the boxes when they still fit the new image; else start from defaults.
                Some(existing) if fits(existing, size) => existing.image = file.clone(),
                _ => {
                    spec.variants.insert(variant, default_variant(&file, size));
                }
            }
            files.insert(file, bytes);
        }
        self.save(tenant_id, Some(&row), spec, files, logo).await
    }

    pub async fn set_telegram(
        &self,
        tenant_id: &TenantId,
        id: &str,
        enabled: bool,
    ) -> DomainResult<Template> {
        let row = self.row(tenant_id, id).await?;
        let mut spec = Self::spec_of(&row)?;
        spec.telegram_enabled = enabled;
        self.save(tenant_id, Some(&row), spec, Files::new(), None)
            .await
    }

    /// Delete several templates in one transaction; ids of other tenants count as absent.
    pub async fn bulk_delete(&self, tenant_id: &TenantId, ids: &[String]) -> DomainResult<u64> {
        if ids.len() > 500 {
            return Err(DomainError::invalid("at most 500 ids per request"));
        }
        let mut rows = Vec::new();
        for id in ids {
            if let Some(row) = repo::find(&self.db, tenant_id, id).await? {
                rows.push(row);
            }
        }
        let mut tx = self.db.begin().await?;
        let mut deleted = 0;
        for row in &rows {
            if repo::delete(&mut tx, tenant_id, &row.id).await? {
                deleted += 1;
            }
        }
        tx.commit().await?;
        self.changed(tenant_id);
        for row in &rows {
            self.renderer.forget(&row.id);
            self.delete_prefix(&prefix(tenant_id, &row.id, row.version))
                .await;
        }
        self.write_index(tenant_id).await;
        Ok(deleted)
    }

    /// Validate `spec` against its images, store the files under a new version prefix, then
    /// commit the row. `logo`: `None` keeps the current logo, `Some(None)` removes it.
    async fn save(
        &self,
        tenant_id: &TenantId,
        existing: Option<&TemplateRow>,
        mut spec: TemplateSpec,
        mut files: Files,
        logo: Option<Option<Bytes>>,
    ) -> DomainResult<Template> {
        // One validation for create and every update.
        spec.name = template_name(&spec.name)?;
        spec.slug = spec.slug.trim().to_lowercase();
        validate_slug(&spec.slug)?;
        spec.validate().map_err(render_error)?;
        for name in spec.variants.keys() {
            if !VARIANTS.contains(&name.as_str()) {
                return Err(DomainError::invalid(format!(
                    "unknown variant '{name}' (use square or portrait)"
                )));
            }
        }
        // Carry over files of the current version that the new spec still names.
        let logo = match (logo, existing) {
            (Some(new), _) => new,
            (None, Some(row)) if row.has_logo => Some(self.file(row, LOGO_FILE).await?),
            (None, _) => None,
        };
        if let (Some(row), Some(font)) = (existing, &spec.style.font)
            && !files.contains_key(font)
        {
            let bytes = self.file(row, font).await.map_err(|_| {
                DomainError::invalid(format!(
                    "font '{font}' is not part of this template; upload it"
                ))
            })?;
            files.insert(font.clone(), bytes);
        }
        if let Some(row) = existing {
            for variant in spec.variants.values() {
                if !files.contains_key(&variant.image) {
                    let bytes = self.file(row, &variant.image).await.map_err(|_| {
                        DomainError::invalid(format!(
                            "image '{}' is not part of this template",
                            variant.image
                        ))
                    })?;
                    files.insert(variant.image.clone(), bytes);
                }
            }
        }
        // Decode every background once: checks content, pixel limits and boxes.
        let checked = {
            let spec = spec.clone();
            let files = files.clone();
            let logo = logo.clone();
            tokio::task::spawn_blocking(move || check_images(&spec, &files, logo.as_deref()))
                .await
                .map_err(|e| DomainError::internal(e.to_string()))??
        };
        let now = self.clock.now();
        let (id, version, created_at) = match existing {
            Some(row) => (row.id.clone(), row.version + 1, row.created_at),
            None => (new_id(), 1, now),
        };
        let row = TemplateRow {
            id,
            tenant_id: tenant_id.to_owned(),
            slug: spec.slug.clone(),
            name: spec.name.clone(),
            telegram_enabled: spec.telegram_enabled,
            version,
            spec_json: String::from_utf8(spec.to_json())
                .map_err(|e| DomainError::internal(e.to_string()))?,
            variants_json: serde_json::to_string(&checked)
                .map_err(|e| DomainError::internal(e.to_string()))?,
            has_logo: logo.is_some(),
            created_at,
            updated_at: now,
        };
        let new_prefix = prefix(tenant_id, &row.id, version);
        if let Err(err) = self
            .put_version(&new_prefix, &spec, &files, logo.as_ref(), &row.spec_json)
            .await
        {
            self.delete_prefix(&new_prefix).await;
            return Err(err);
        }
        let committed = async {
            let mut tx = self.db.begin().await?;
            let written = match existing {
                Some(old) => repo::update_version(&mut tx, &row, old.version).await?,
                None => {
                    repo::insert(&mut tx, &row).await?;
                    true
                }
            };
            if !written {
                return Err(DomainError::stale_version(
                    "the template was changed meanwhile; reload and try again",
                ));
            }
            tx.commit().await?;
            Ok(())
        }
        .await
        .map_err(|e: DomainError| match e {
            DomainError::Conflict {
                kind: ConflictKind::Duplicate,
                ..
            } => DomainError::duplicate(format!("a template with slug '{}' exists", row.slug)),
            other => other,
        });
        if let Err(err) = committed {
            self.delete_prefix(&new_prefix).await;
            return Err(err);
        }
        self.changed(tenant_id);
        if let Some(old) = existing {
            self.renderer.forget(&old.id);
            self.delete_prefix(&prefix(tenant_id, &old.id, old.version))
                .await;
        }
        self.write_index(tenant_id).await;
        Template::from_row(&row)
    }

    async fn put_version(
        &self,
        prefix: &str,
        spec: &TemplateSpec,
        files: &Files,
        logo: Option<&Bytes>,
        meta_json: &str,
    ) -> DomainResult<()> {
        for variant in spec.variants.values() {
            let bytes = files.get(&variant.image).ok_or_else(|| {
                DomainError::invalid(format!("image '{}' was not uploaded", variant.image))
            })?;
            let mime = sniff_format(bytes)
                .map(|f| format!("image/{f:?}").to_lowercase())
                .unwrap_or_default();
            self.storage
                .put(&format!("{prefix}/{}", variant.image), bytes.clone(), &mime)
                .await
                .map_err(storage_error)?;
        }
        if let Some(font) = &spec.style.font {
            let bytes = files
                .get(font)
                .ok_or_else(|| DomainError::invalid(format!("font '{font}' was not uploaded")))?;
            self.storage
                .put(&format!("{prefix}/{font}"), bytes.clone(), "font/ttf")
                .await
                .map_err(storage_error)?;
        }
        if let Some(logo) = logo {
            self.storage
                .put(&format!("{prefix}/{LOGO_FILE}"), logo.clone(), "image/png")
                .await
                .map_err(storage_error)?;
        }
        self.storage
            .put(
                &format!("{prefix}/meta.json"),
                Bytes::from(meta_json.to_owned()),
                "application/json",
            )
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    async fn delete_prefix(&self, prefix: &str) {
        match self.storage.list(prefix).await {
            Ok(keys) => {
                for key in keys {
                    if let Err(err) = self.storage.delete(&key).await {
                        tracing::warn!(%key, error = %err, "could not delete an old template object");
                    }
                }
            }
            Err(err) => {
                tracing::warn!(%prefix, error = %err, "could not list old template objects")
            }
        }
    }

    /// `tenants/{tenant}/templates/index.json`: the original's index for CDN/static consumers.
    async fn write_index(&self, tenant_id: &TenantId) {
        let Ok(rows) = repo::list(&self.db, tenant_id).await else {
            return;
        };
        let entries: Vec<_> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "slug": r.slug, "name": r.name, "telegramEnabled": r.telegram_enabled,
                    "version": r.version, "path": format!("{}/v{}/", r.id, r.version),
                })
            })
            .collect();
        let body = serde_json::json!({ "templates": entries }).to_string();
        let key = format!("tenants/{tenant_id}/templates/index.json");
        if let Err(err) = self
            .storage
            .put(&key, Bytes::from(body), "application/json")
            .await
        {
            tracing::warn!(error = %err, "could not write the template index");
        }
    }

    /// Seed the demo templates into `tenant_id` (first start of a fresh installation).
    pub async fn seed_demo(&self, tenant_id: &TenantId) -> DomainResult<usize> {
        if repo::count(&self.db, tenant_id).await? > 0 {
            return Ok(0);
        }
        let demos = tokio::task::spawn_blocking(promostack_render::demo::demo_templates)
            .await
            .map_err(|e| DomainError::internal(e.to_string()))?;
        let mut seeded = 0;
        for demo in demos {
            let files = demo
                .images
                .into_iter()
                .map(|(variant, png)| (format!("{variant}.png"), Bytes::from(png)))
                .collect();
            self.create_from_spec(tenant_id, demo.spec, files, demo.logo.map(Bytes::from))
                .await?;
            seeded += 1;
        }
        Ok(seeded)
    }
}

/// Decode each variant's background (and the logo) and check the boxes; returns image sizes.
fn check_images(
    spec: &TemplateSpec,
    files: &Files,
    logo: Option<&[u8]>,
) -> DomainResult<BTreeMap<String, ImageSize>> {
    let limits = DecodeLimits::default();
    if let Some(font) = &spec.style.font {
        let bytes = files
            .get(font)
            .ok_or_else(|| DomainError::invalid(format!("font '{font}' was not uploaded")))?;
        promostack_render::Font::from_bytes(bytes.to_vec()).map_err(render_error)?;
    }
    let mut sizes = BTreeMap::new();
    for (name, variant) in &spec.variants {
        let bytes = files.get(&variant.image).ok_or_else(|| {
            DomainError::invalid(format!("image '{}' was not uploaded", variant.image))
        })?;
        let prepared =
            PreparedBackground::prepare(spec, name, bytes, logo, &limits).map_err(render_error)?;
        sizes.insert(
            name.clone(),
            ImageSize {
                width: prepared.width(),
                height: prepared.height(),
            },
        );
    }
    Ok(sizes)
}

/// File name and size for an uploaded background of `variant`.
fn variant_file(variant: &str, bytes: &[u8]) -> DomainResult<(String, ImageSize)> {
    if !VARIANTS.contains(&variant) {
        return Err(DomainError::invalid(format!(
            "unknown variant '{variant}' (use square or portrait)"
        )));
    }
    let format = sniff_format(bytes).ok_or_else(|| {
        DomainError::UnsupportedMedia(format!(
            "the {variant} upload is not a PNG, JPEG or WebP image"
        ))
    })?;
    let ext = match format {
        promostack_render::ImageFormat::Png => "png",
        promostack_render::ImageFormat::Jpeg => "jpg",
        promostack_render::ImageFormat::WebP => "webp",
    };
    let pixmap =
        promostack_render::decode_image(bytes, &DecodeLimits::default(), "background image")
            .map_err(render_error)?;
    Ok((
        format!("{variant}.{ext}"),
        ImageSize {
            width: pixmap.width(),
            height: pixmap.height(),
        },
    ))
}

/// The default text box: centred, 74% wide, 17% tall, centred at 62% of the height.
fn default_variant(file: &str, size: ImageSize) -> VariantSpec {
    let width = (size.width as f32 * 0.74).round().max(1.0) as u32;
    let height = (size.height as f32 * 0.17).round().max(1.0) as u32;
    let x = (size.width - width) / 2;
    let y = ((size.height as f32 * 0.62) as u32)
        .saturating_sub(height / 2)
        .min(size.height - height);
    VariantSpec {
        image: file.to_owned(),
        text: BoxSpec {
            x,
            y,
            width,
            height,
        },
        logo: None,
        extra: Default::default(),
    }
}

fn fits(variant: &VariantSpec, size: ImageSize) -> bool {
    let inside =
        |b: &BoxSpec| b.right() <= u64::from(size.width) && b.bottom() <= u64::from(size.height);
    inside(&variant.text) && variant.logo.as_ref().is_none_or(inside)
}

/// A template's name: 1 to 80 characters once trimmed.
fn template_name(name: &str) -> DomainResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(DomainError::invalid_field(
            "name",
            "name must be 1 to 80 characters",
        ));
    }
    Ok(name.to_owned())
}

pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug
        .trim_end_matches('-')
        .chars()
        .take(40)
        .collect::<String>();
    if slug.len() < 2 {
        format!("template-{}", &new_id()[..8])
    } else {
        slug
    }
}

fn validate_slug(slug: &str) -> DomainResult<()> {
    let ok = (2..=40).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "slug must be 2 to 40 characters of a-z, 0-9, '-' and '_'",
        ))
    }
}

pub fn render_error(err: promostack_render::RenderError) -> DomainError {
    if err.is_client_error() {
        DomainError::invalid(err.to_string())
    } else {
        DomainError::internal(err.to_string())
    }
}

pub fn storage_error(err: crate::storage::StorageError) -> DomainError {
    tracing::warn!(error = %err, "object storage call failed");
    DomainError::unavailable(
        "storage",
        "object storage is unavailable; nothing was saved, try again",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_default_boxes() {
        assert_eq!(slugify("Black Friday 2026!"), "black-friday-2026");
        assert!(slugify("!").starts_with("template-"));
        let v = default_variant(
            "square.png",
            ImageSize {
                width: 1080,
                height: 1080,
            },
        );
        assert_eq!((v.text.width, v.text.height), (799, 184));
        assert_eq!(v.text.x, (1080 - 799) / 2);
        assert!(v.text.bottom() <= 1080);
        assert!(fits(
            &v,
            ImageSize {
                width: 1080,
                height: 1080
            }
        ));
        assert!(!fits(
            &v,
            ImageSize {
                width: 500,
                height: 500
            }
        ));
    }
}
