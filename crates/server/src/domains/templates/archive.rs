//! Template directory archives (zip): `meta.json` + the images it names + optional `logo.png`.
use crate::ids::TenantId;
use std::io::{Cursor, Read, Write};

use bytes::Bytes;
use promostack_render::TemplateSpec;

use super::service::{Files, LOGO_FILE, TemplateService, render_error};
use crate::domains::error::{DomainError, DomainResult};

/// Limits against zip bombs: entries, bytes per entry and in total (uncompressed).
const MAX_ENTRIES: usize = 16;
const MAX_ENTRY_BYTES: u64 = 25 * 1024 * 1024;
const MAX_TOTAL_BYTES: u64 = 60 * 1024 * 1024;

pub struct Unpacked {
    pub spec: TemplateSpec,
    pub files: Files,
    pub logo: Option<Bytes>,
}

/// Read an archive; folders inside it are ignored (a zipped directory works as well).
pub fn unpack(bytes: &[u8]) -> DomainResult<Unpacked> {
    let bad = |msg: String| DomainError::invalid(format!("template archive: {msg}"));
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| bad(format!("not a zip file ({e})")))?;
    if zip.len() > MAX_ENTRIES * 2 {
        return Err(bad(format!(
            "too many entries (at most {MAX_ENTRIES} files)"
        )));
    }
    let mut files = Files::new();
    let mut total = 0u64;
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(|e| bad(e.to_string()))?;
        if entry.is_dir() {
            continue;
        }
        let path = entry.name().map_err(|e| bad(e.to_string()))?.into_owned();
        let name = path.rsplit('/').next().unwrap_or_default().to_owned();
        if name.is_empty() || name.starts_with('.') || path.starts_with("__MACOSX") {
            continue;
        }
        if files.len() >= MAX_ENTRIES {
            return Err(bad(format!("too many files (at most {MAX_ENTRIES})")));
        }
        // Never trust the declared size: read through a limit.
        let mut data = Vec::new();
        entry
            .take(MAX_ENTRY_BYTES + 1)
            .read_to_end(&mut data)
            .map_err(|e| bad(e.to_string()))?;
        if data.len() as u64 > MAX_ENTRY_BYTES {
            return Err(bad(format!(
                "{name} is larger than {} MB",
                MAX_ENTRY_BYTES / 1024 / 1024
            )));
        }
        total += data.len() as u64;
        if total > MAX_TOTAL_BYTES {
            return Err(bad(format!(
                "larger than {} MB uncompressed",
                MAX_TOTAL_BYTES / 1024 / 1024
            )));
        }
        files.insert(name, Bytes::from(data));
    }
    let meta = files
        .remove("meta.json")
        .ok_or_else(|| bad("meta.json is missing".into()))?;
    let spec = TemplateSpec::from_json(&meta).map_err(render_error)?;
    let logo = files.remove(LOGO_FILE);
    Ok(Unpacked { spec, files, logo })
}

pub fn pack(spec_json: &str, files: &[(String, Bytes)]) -> DomainResult<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        // Images are already compressed; store them, deflate the JSON.
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        let deflated = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let err = |e: zip::result::ZipError| DomainError::internal(e.to_string());
        zip.start_file("meta.json", deflated).map_err(err)?;
        zip.write_all(spec_json.as_bytes())
            .map_err(|e| DomainError::internal(e.to_string()))?;
        for (name, bytes) in files {
            zip.start_file(name.as_str(), stored).map_err(err)?;
            zip.write_all(bytes)
                .map_err(|e| DomainError::internal(e.to_string()))?;
        }
        zip.finish().map_err(err)?;
    }
    Ok(out.into_inner())
}

impl TemplateService {
    pub async fn export(&self, tenant_id: &TenantId, id: &str) -> DomainResult<(String, Vec<u8>)> {
        let row = self.row(tenant_id, id).await?;
        let spec = Self::spec_of(&row)?;
        let mut files = Vec::new();
        for variant in spec.variants.values() {
            files.push((
                variant.image.clone(),
                self.file(&row, &variant.image).await?,
            ));
        }
        if let Some(font) = &spec.style.font {
            files.push((font.clone(), self.file(&row, font).await?));
        }
        if row.has_logo {
            files.push((LOGO_FILE.to_owned(), self.file(&row, LOGO_FILE).await?));
        }
        Ok((row.slug.clone(), pack(&row.spec_json, &files)?))
    }

    pub async fn import(
        &self,
        tenant_id: &TenantId,
        archive: &[u8],
    ) -> DomainResult<super::Template> {
        let unpacked = unpack(archive)?;
        self.create_from_spec(tenant_id, unpacked.spec, unpacked.files, unpacked.logo)
            .await
    }
}
