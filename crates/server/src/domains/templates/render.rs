//! Rendering coupons for the API: decoded backgrounds cached per template version, finished
//! images cached in memory (bounded) and in object storage, keyed by a hash of every input.
use crate::ids::TenantId;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use promostack_render::{
    BackgroundCache, CacheKey, DecodeLimits, Font, OutputFormat, PreparedBackground, TemplateSpec,
};
use sha2::{Digest, Sha256};

use super::service::{LOGO_FILE, TemplateService, render_error, storage_error};
use crate::domains::error::{DomainError, DomainResult};

/// Decoded backgrounds kept (each ~4.7 MB for 1080×1080 plus encoder state). Bounded well
/// under the render budget so cache and renders in flight stay under 512 MB together.
const BACKGROUND_ENTRIES: usize = 48;
const BACKGROUND_BYTES: usize = 96 * 1024 * 1024;
/// Finished images kept in memory.
const OUTPUT_BYTES: usize = 64 * 1024 * 1024;

pub struct Renderer {
    font: Arc<Font>,
    /// Uploaded template fonts, parsed once per template version.
    fonts: Mutex<HashMap<(String, i64), Arc<Font>>>,
    backgrounds: Mutex<BackgroundCache>,
    outputs: Mutex<OutputCache>,
    budget: super::budget::RenderBudget,
}

#[derive(Default)]
struct OutputCache {
    entries: HashMap<String, Bytes>,
    order: VecDeque<String>,
    bytes: usize,
}

impl OutputCache {
    fn get(&self, key: &str) -> Option<Bytes> {
        self.entries.get(key).cloned()
    }

    fn insert(&mut self, key: String, value: Bytes) {
        if value.len() > OUTPUT_BYTES / 4 || self.entries.contains_key(&key) {
            return;
        }
        self.bytes += value.len();
        self.order.push_back(key.clone());
        self.entries.insert(key, value);
        while self.bytes > OUTPUT_BYTES {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(evicted) = self.entries.remove(&oldest) {
                self.bytes -= evicted.len();
            }
        }
    }
}

pub struct RenderRequest<'a> {
    pub template: &'a str,
    pub variant: &'a str,
    pub code: &'a str,
    pub format: OutputFormat,
    /// A logo for this render only (the generator's upload), replacing the template's.
    pub logo: Option<Bytes>,
    /// Also write the output to the storage cache (shared by instances). The bot does not: it
    /// re-sends a photo by Telegram's file_id, and creating a file per new code cost its photo
    /// path about a third of the server's CPU (ext4 inode allocation).
    pub persist: bool,
}

pub struct Rendered {
    pub bytes: Bytes,
    pub content_type: &'static str,
    /// Hash of every input: the ETag and the cache key.
    pub etag: String,
}

impl Renderer {
    pub fn new(budget: crate::config::RenderBudgetConfig) -> Self {
        Renderer {
            font: Font::bundled(),
            fonts: Mutex::new(HashMap::new()),
            backgrounds: Mutex::new(BackgroundCache::new(BACKGROUND_ENTRIES, BACKGROUND_BYTES)),
            outputs: Mutex::new(OutputCache::default()),
            budget: super::budget::RenderBudget::new(budget),
        }
    }

    /// Drop cached backgrounds of a template (its version changed or it was deleted).
    pub fn forget(&self, template_id: &str) {
        self.backgrounds
            .lock()
            .expect("cache lock")
            .remove_template(template_id);
        self.fonts
            .lock()
            .expect("cache lock")
            .retain(|(id, _), _| id != template_id);
    }

    #[allow(clippy::too_many_arguments)] // one call site; a struct would only rename them
    fn render_blocking(
        &self,
        key: CacheKey,
        spec: &TemplateSpec,
        variant: &str,
        load: impl FnOnce() -> DomainResult<(Bytes, Option<Bytes>)>,
        font: &Font,
        code: &str,
        format: OutputFormat,
    ) -> DomainResult<Vec<u8>> {
        let cached = self.backgrounds.lock().expect("cache lock").get(&key);
        let background = match cached {
            Some(background) => background,
            None => {
                // Decode outside the lock so other renders go on meanwhile.
                let (image, logo) = load()?;
                let prepared = PreparedBackground::prepare(
                    spec,
                    variant,
                    &image,
                    logo.as_deref(),
                    &DecodeLimits::default(),
                )
                .map_err(render_error)?;
                let prepared = Arc::new(prepared);
                // A logo sent with this request only is a one-off: caching its background would
                // let a stream of unique logos evict every template's and hold memory for
                // nothing (its finished image is still cached by the output cache).
                if key.logo.is_none() {
                    self.backgrounds
                        .lock()
                        .expect("cache lock")
                        .insert(key, prepared.clone());
                }
                prepared
            }
        };
        promostack_render::render(&background, &spec.style, font, code, format)
            .map_err(render_error)
    }
}

fn hash_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hasher
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn format_name(format: OutputFormat) -> String {
    match format {
        OutputFormat::Jpeg { quality } => format!("jpeg-q{quality}"),
        other => other.extension().to_owned(),
    }
}

/// Folder of a tenant's rendered images in object storage.
pub fn render_cache_prefix(tenant_id: &TenantId) -> String {
    format!("tenants/{tenant_id}/renders")
}

impl TemplateService {
    /// Deletes the tenant's rendered images in the storage cache that are older than `max_age_ms`
    /// at `now`, and all but the `keep` newest of the rest. Returns how many were deleted. A
    /// deleted render is simply rendered again on its next request.
    pub async fn prune_render_cache(
        &self,
        tenant_id: &TenantId,
        now: i64,
        max_age_ms: i64,
        keep: usize,
    ) -> Result<usize, crate::storage::StorageError> {
        let mut objects = self
            .storage()
            .list_with_meta(&render_cache_prefix(tenant_id))
            .await?;
        // Newest first; the key breaks ties (S3 times have whole seconds) so runs agree.
        objects.sort_by(|a, b| {
            b.last_modified_ms
                .cmp(&a.last_modified_ms)
                .then_with(|| a.key.cmp(&b.key))
        });
        let cutoff = now.saturating_sub(max_age_ms);
        let mut deleted = 0;
        for (rank, object) in objects.iter().enumerate() {
            if rank >= keep || object.last_modified_ms < cutoff {
                self.storage().delete(&object.key).await?;
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    /// The font a template renders with: its uploaded one, else the bundled Inter.
    async fn font_for(
        &self,
        row: &super::repo::TemplateRow,
        spec: &TemplateSpec,
    ) -> DomainResult<Arc<Font>> {
        let Some(name) = &spec.style.font else {
            return Ok(self.renderer.font.clone());
        };
        let key = (row.id.clone(), row.version);
        if let Some(font) = self.renderer.fonts.lock().expect("cache lock").get(&key) {
            return Ok(font.clone());
        }
        let bytes = self.file(row, name).await?;
        let font = tokio::task::spawn_blocking(move || Font::from_bytes(bytes.to_vec()))
            .await
            .map_err(|e| DomainError::internal(e.to_string()))?
            .map_err(render_error)?;
        let font = Arc::new(font);
        let mut fonts = self.renderer.fonts.lock().expect("cache lock");
        if fonts.len() >= 64 {
            fonts.clear();
        }
        fonts.insert(key, font.clone());
        Ok(font)
    }

    /// Render a saved template; identical requests are answered from the caches.
    pub async fn render(
        &self,
        tenant_id: &TenantId,
        request: RenderRequest<'_>,
    ) -> DomainResult<Rendered> {
        promostack_render::validate_code(request.code).map_err(render_error)?;
        let row = self.row(tenant_id, request.template).await?;
        let spec = Self::spec_of(&row)?;
        let variant = spec.variant(request.variant).map_err(render_error)?.clone();
        let logo_hash = request.logo.as_ref().map(|l| hash_hex(&[l]));
        let etag = hash_hex(&[
            tenant_id.as_str().as_bytes(),
            row.id.as_bytes(),
            &row.version.to_le_bytes(),
            request.variant.as_bytes(),
            request.code.as_bytes(),
            format_name(request.format).as_bytes(),
            logo_hash.as_deref().unwrap_or("").as_bytes(),
        ]);
        let content_type = request.format.mime_type();
        if let Some(bytes) = self.renderer.outputs.lock().expect("cache lock").get(&etag) {
            metrics::counter!("render_cache_hits_total", "tier" => "memory").increment(1);
            return Ok(Rendered {
                bytes,
                content_type,
                etag,
            });
        }
        let object_key = format!(
            "{}/{etag}.{}",
            render_cache_prefix(tenant_id),
            request.format.extension()
        );
        if let Ok(Some(bytes)) = self.storage().get(&object_key).await {
            metrics::counter!("render_cache_hits_total", "tier" => "storage").increment(1);
            self.renderer
                .outputs
                .lock()
                .expect("cache lock")
                .insert(etag.clone(), bytes.clone());
            return Ok(Rendered {
                bytes,
                content_type,
                etag,
            });
        }
        // Load the files up front only when the background is not cached yet.
        let mut key = CacheKey::new(row.id.clone(), row.version, request.variant);
        key.logo = logo_hash;
        let needs_files = self
            .renderer
            .backgrounds
            .lock()
            .expect("cache lock")
            .get(&key)
            .is_none();
        let files = if needs_files {
            let image = self.file(&row, &variant.image).await?;
            let logo = match request.logo {
                Some(logo) => Some(logo),
                None if row.has_logo => Some(self.file(&row, LOGO_FILE).await?),
                None => None,
            };
            Some((image, logo))
        } else {
            None
        };
        let font = self.font_for(&row, &spec).await?;
        let cost = match &files {
            Some((image, logo)) => {
                let (w, h) = promostack_render::image_dimensions(image).unwrap_or((0, 0));
                let logo = logo
                    .as_deref()
                    .and_then(promostack_render::image_dimensions);
                super::budget::estimate(w, h, logo)
            }
            // A cached background: the text layer and the encoder's planes.
            None => super::budget::CACHED_RENDER,
        };
        let admission = self.renderer.budget.admit(cost).await?;
        let renderer = self.renderer.clone();
        let code = request.code.to_owned();
        let variant_name = request.variant.to_owned();
        let format = request.format;
        let request_persist = request.persist;
        let bytes = tokio::task::spawn_blocking(move || {
            let _admission = admission;
            renderer.render_blocking(
                key,
                &spec,
                &variant_name,
                || files.ok_or_else(|| DomainError::internal("background evicted; retry")),
                &font,
                &code,
                format,
            )
        })
        .await
        .map_err(|e| DomainError::internal(e.to_string()))??;
        metrics::counter!("renders_total").increment(1);
        let bytes = Bytes::from(bytes);
        self.renderer
            .outputs
            .lock()
            .expect("cache lock")
            .insert(etag.clone(), bytes.clone());
        if !request_persist {
            return Ok(Rendered {
                bytes,
                content_type,
                etag,
            });
        }
        // Persist for other instances without making the caller wait.
        let storage = self.storage().clone();
        let stored = bytes.clone();
        tokio::spawn(async move {
            if let Err(err) = storage.put(&object_key, stored, content_type).await {
                tracing::debug!(error = %storage_error(err), "render not cached in storage");
            }
        });
        Ok(Rendered {
            bytes,
            content_type,
            etag,
        })
    }

    /// Render with an unsaved spec (the editor's live preview); never cached.
    pub async fn preview(
        &self,
        tenant_id: &TenantId,
        id: &str,
        spec: TemplateSpec,
        variant: &str,
        code: &str,
        format: OutputFormat,
    ) -> DomainResult<Rendered> {
        promostack_render::validate_code(code).map_err(render_error)?;
        spec.validate().map_err(render_error)?;
        let row = self.row(tenant_id, id).await?;
        let saved = Self::spec_of(&row)?;
        let variant_spec = spec.variant(variant).map_err(render_error)?;
        // The preview may move boxes but must use this template's own images.
        let saved_image = saved.variant(variant).map_err(render_error)?.image.clone();
        if variant_spec.image != saved_image {
            return Err(DomainError::invalid(format!(
                "variant {variant} must keep image '{saved_image}'"
            )));
        }
        let image = self.file(&row, &saved_image).await?;
        let logo = if row.has_logo {
            Some(self.file(&row, LOGO_FILE).await?)
        } else {
            None
        };
        if spec.style.font.is_some() && spec.style.font != saved.style.font {
            return Err(DomainError::invalid(
                "a preview uses the template's saved font",
            ));
        }
        let font = self.font_for(&row, &saved).await?;
        let size = promostack_render::image_dimensions(&image).unwrap_or((0, 0));
        let logo_size = logo
            .as_deref()
            .and_then(promostack_render::image_dimensions);
        let admission = self
            .renderer
            .budget
            .admit(super::budget::estimate(size.0, size.1, logo_size))
            .await?;
        let variant = variant.to_owned();
        let code = code.to_owned();
        let bytes = tokio::task::spawn_blocking(move || {
            let _admission = admission;
            let prepared = PreparedBackground::prepare(
                &spec,
                &variant,
                &image,
                logo.as_deref(),
                &DecodeLimits::default(),
            )
            .map_err(render_error)?;
            promostack_render::render(&prepared, &spec.style, &font, &code, format)
                .map_err(render_error)
        })
        .await
        .map_err(|e| DomainError::internal(e.to_string()))??;
        let etag = hash_hex(&[&bytes]);
        Ok(Rendered {
            bytes: Bytes::from(bytes),
            content_type: format.mime_type(),
            etag,
        })
    }
}
