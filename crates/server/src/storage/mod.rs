//! Object storage for template images, overlays and renders: a local directory by default
//! (`data/objects`), or an S3-compatible bucket (DigitalOcean Spaces) in production.
//!
//! Both backends are `object_store` stores behind one small API with one set of key rules
//! ([`MAX_KEY_BYTES`], see `key.rs`). Objects are private: serve them through the app, or through
//! [`Storage::public_url`] when a CDN in front of the bucket is configured.

mod key;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::list::{PaginatedListOptions, PaginatedListStore};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutOptions,
    PutPayload, RetryConfig,
};

pub use key::MAX_KEY_BYTES;

/// Where objects live. Built by the configuration code from `DATA_DIR` or the `SPACES_*` variables.
#[derive(Clone, Debug)]
pub enum StorageConfig {
    /// A directory on this machine; created on open.
    Local { root: PathBuf },
    /// An S3-compatible bucket.
    S3(S3Config),
}

/// An S3-compatible bucket. `Debug` redacts both keys.
#[derive(Clone)]
pub struct S3Config {
    pub access_key: String,
    pub secret_key: String,
    /// Region slug, e.g. `nyc3`; also used to sign requests.
    pub region: String,
    pub bucket: String,
    /// Defaults to DigitalOcean Spaces: `https://{region}.digitaloceanspaces.com`.
    /// `http://` is accepted (for a test server on loopback) and then only plain HTTP is used.
    pub endpoint: Option<String>,
    /// Public base URL of a CDN in front of the bucket, e.g. `https://cdn.example.com`.
    pub cdn_url: Option<String>,
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("access_key", &"<redacted>")
            .field("secret_key", &"<redacted>")
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("cdn_url", &self.cdn_url)
            .finish()
    }
}

impl S3Config {
    /// The endpoint actually used: the configured one, else the Spaces endpoint of the region.
    pub fn effective_endpoint(&self) -> String {
        match self.endpoint.as_deref().map(str::trim) {
            Some(endpoint) if !endpoint.is_empty() => endpoint.trim_end_matches('/').to_string(),
            _ => format!("https://{}.digitaloceanspaces.com", self.region.trim()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The key breaks the key rules; nothing was sent to the backend.
    #[error("invalid object key: {0}")]
    InvalidKey(String),
    /// The backend could not be reached or failed (network, timeouts, 5xx after retries, a local
    /// I/O error). Usually transient.
    #[error("object storage unavailable: {0}")]
    Unavailable(String),
    /// The backend refused the credentials or the operation.
    #[error("object storage denied access: {0}")]
    Denied(String),
    /// Local backend only: the key collides with the folder structure (`a/b` while `a/b/c`
    /// exists, or `a/b/c` while `a/b` is an object), which files cannot represent.
    #[error("object key conflicts with another object: {0}")]
    Conflict(String),
    /// The configuration cannot work (missing bucket name, bad endpoint URL, ...).
    #[error("object storage misconfigured: {0}")]
    Config(String),
}

/// One object of a listing with its metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectInfo {
    pub key: String,
    /// Last write, unix milliseconds (file mtime locally, `LastModified` on S3: whole seconds).
    pub last_modified_ms: i64,
}

impl From<object_store::ObjectMeta> for ObjectInfo {
    fn from(meta: object_store::ObjectMeta) -> Self {
        ObjectInfo {
            key: meta.location.to_string(),
            last_modified_ms: meta.last_modified.timestamp_millis(),
        }
    }
}

/// Upper bound for [`Storage::check`], so a readiness probe never hangs on retries.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// A handle on the object store; cheap to clone.
#[derive(Clone)]
pub struct Storage {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Local {
        store: Arc<LocalFileSystem>,
        root: PathBuf,
    },
    S3 {
        store: Arc<AmazonS3>,
        bucket: String,
        endpoint: String,
        cdn_url: Option<String>,
    },
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.backend {
            Backend::Local { root, .. } => f
                .debug_struct("Storage::Local")
                .field("root", root)
                .finish(),
            Backend::S3 {
                bucket, endpoint, ..
            } => f
                .debug_struct("Storage::S3")
                .field("bucket", bucket)
                .field("endpoint", endpoint)
                .finish(),
        }
    }
}

impl Storage {
    /// Opens the store. Local: creates the directory. S3: builds the client without a network
    /// round trip (use [`Storage::check`] for that), so start-up does not depend on the bucket.
    pub async fn open(cfg: &StorageConfig) -> Result<Storage, StorageError> {
        let backend = match cfg {
            StorageConfig::Local { root } => open_local(root).await?,
            StorageConfig::S3(s3) => open_s3(s3)?,
        };
        let storage = Storage { backend };
        tracing::info!(storage = ?storage, "object storage opened");
        Ok(storage)
    }

    /// `"local"` or `"s3"`.
    pub fn kind(&self) -> &'static str {
        match self.backend {
            Backend::Local { .. } => "local",
            Backend::S3 { .. } => "s3",
        }
    }

    /// Writes the whole object, replacing any previous one. Readers never see a partial object:
    /// S3 PUTs are atomic, and the local backend writes a staging file, fsyncs it and renames it.
    /// The content type is stored on S3; the local backend does not keep it.
    pub async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), StorageError> {
        let path = key::parse_key(key)?;
        let payload = PutPayload::from_bytes(bytes);
        match &self.backend {
            Backend::Local { store, root } => match store.put(&path, payload).await {
                Ok(_) => Ok(()),
                Err(e) => Err(local_conflict(root, key)
                    .await
                    .unwrap_or_else(|| backend_error(e))),
            },
            Backend::S3 { store, .. } => {
                let mut attributes = Attributes::new();
                if !content_type.is_empty() {
                    attributes.insert(Attribute::ContentType, content_type.to_string().into());
                }
                let options = PutOptions {
                    attributes,
                    ..PutOptions::default()
                };
                store
                    .put_opts(&path, payload, options)
                    .await
                    .map(drop)
                    .map_err(backend_error)
            }
        }
    }

    /// Reads the whole object; `None` when there is no object under `key`.
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>, StorageError> {
        let path = key::parse_key(key)?;
        let result = match &self.backend {
            Backend::Local { store, .. } => store.get(&path).await,
            Backend::S3 { store, .. } => store.get(&path).await,
        };
        match result {
            Ok(found) => found.bytes().await.map(Some).map_err(backend_error),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(backend_error(e)),
        }
    }

    /// Deletes the object; deleting an absent object succeeds.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let path = key::parse_key(key)?;
        let result = match &self.backend {
            Backend::Local { store, root } => {
                // A folder of other objects is not an object: nothing to delete.
                if tokio::fs::metadata(root.join(key))
                    .await
                    .is_ok_and(|m| m.is_dir())
                {
                    return Ok(());
                }
                store.delete(&path).await
            }
            Backend::S3 { store, .. } => store.delete(&path).await,
        };
        match result {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(backend_error(e)),
        }
    }

    /// All keys under the folder `prefix`, recursively, sorted. `prefix` is a folder, not a string
    /// prefix: `list("tenants/1")` (or `"tenants/1/"`) returns `tenants/1/logo.png` but never
    /// `tenants/10/logo.png`. `""` lists everything.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        Ok(self
            .list_with_meta(prefix)
            .await?
            .into_iter()
            .map(|o| o.key)
            .collect())
    }

    /// Like [`Storage::list`], with each object's last-modified time (what a listing
    /// returns anyway, so no extra round trips).
    pub async fn list_with_meta(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StorageError> {
        let folder = key::parse_prefix(prefix)?;
        let mut objects = match &self.backend {
            Backend::Local { store, .. } => list_local(store, folder).await?,
            Backend::S3 { store, .. } => list_s3(store, folder).await?,
        };
        objects.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(objects)
    }

    /// Readiness probe, one cheap round trip bounded by a few seconds. Local: the root is a
    /// directory. S3: a one-key listing, which proves endpoint, credentials and bucket.
    pub async fn check(&self) -> Result<(), StorageError> {
        match &self.backend {
            Backend::Local { root, .. } => match tokio::fs::metadata(root).await {
                Ok(meta) if meta.is_dir() => Ok(()),
                Ok(_) => Err(StorageError::Unavailable(format!(
                    "{} is not a directory",
                    root.display()
                ))),
                Err(e) => Err(StorageError::Unavailable(format!(
                    "{}: {e}",
                    root.display()
                ))),
            },
            Backend::S3 { store, .. } => {
                let options = PaginatedListOptions {
                    max_keys: Some(1),
                    ..PaginatedListOptions::default()
                };
                let probe = store.list_paginated(Some("readyz-probe/"), options);
                match tokio::time::timeout(CHECK_TIMEOUT, probe).await {
                    Ok(result) => result.map(drop).map_err(backend_error),
                    Err(_) => Err(StorageError::Unavailable(format!(
                        "no answer within {} s",
                        CHECK_TIMEOUT.as_secs()
                    ))),
                }
            }
        }
    }

    /// The public CDN URL of `key`, when a CDN is configured (S3 only) and the key is valid.
    pub fn public_url(&self, key: &str) -> Option<String> {
        let Backend::S3 {
            cdn_url: Some(cdn), ..
        } = &self.backend
        else {
            return None;
        };
        key::parse_key(key).ok()?;
        let encoded: Vec<String> = key.split('/').map(encode_url_segment).collect();
        Some(format!(
            "{}/{}",
            cdn.trim_end_matches('/'),
            encoded.join("/")
        ))
    }
}

async fn open_local(root: &std::path::Path) -> Result<Backend, StorageError> {
    tokio::fs::create_dir_all(root)
        .await
        .map_err(|e| StorageError::Unavailable(format!("creating {}: {e}", root.display())))?;
    let store = LocalFileSystem::new_with_prefix(root)
        .map_err(|e| StorageError::Config(format!("{}: {e}", root.display())))?
        // Deleting the last object of a folder removes the folder, as on S3.
        .with_automatic_cleanup(true)
        // A successful put survives a crash, as it would on S3.
        .with_fsync(true);
    Ok(Backend::Local {
        store: Arc::new(store),
        root: root.to_path_buf(),
    })
}

fn open_s3(cfg: &S3Config) -> Result<Backend, StorageError> {
    crate::install_crypto_provider();
    for (name, value) in [
        ("access key", &cfg.access_key),
        ("secret key", &cfg.secret_key),
        ("region", &cfg.region),
        ("bucket", &cfg.bucket),
    ] {
        if value.trim().is_empty() {
            return Err(StorageError::Config(format!("S3 {name} is empty")));
        }
    }
    let endpoint = cfg.effective_endpoint();
    let allow_http = if endpoint.starts_with("http://") {
        true
    } else if endpoint.starts_with("https://") {
        false
    } else {
        return Err(StorageError::Config(format!(
            "S3 endpoint must start with https:// (or http:// for a local test server): {endpoint:?}"
        )));
    };
    let client = ClientOptions::new()
        .with_allow_http(allow_http)
        .with_connect_timeout(Duration::from_secs(5))
        // Per request; generous enough for a large upload over a slow link.
        .with_timeout(Duration::from_secs(120))
        .with_pool_idle_timeout(Duration::from_secs(60));
    let retry = RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            base: 2.0,
        },
        max_retries: 4,
        // Bounds how long a caller waits on an outage before getting `Unavailable`.
        retry_timeout: Duration::from_secs(30),
    };
    // `new()`, not `from_env()`: only our configuration applies, never stray AWS_* variables.
    let store = AmazonS3Builder::new()
        .with_access_key_id(cfg.access_key.trim())
        .with_secret_access_key(cfg.secret_key.trim())
        .with_region(cfg.region.trim())
        .with_bucket_name(cfg.bucket.trim())
        .with_endpoint(&endpoint)
        // Spaces and test servers are addressed path-style: {endpoint}/{bucket}/{key}.
        .with_virtual_hosted_style_request(false)
        .with_client_options(client)
        .with_retry(retry)
        .build()
        .map_err(|e| StorageError::Config(e.to_string()))?;
    Ok(Backend::S3 {
        store: Arc::new(store),
        bucket: cfg.bucket.trim().to_string(),
        endpoint,
        cdn_url: cfg
            .cdn_url
            .as_deref()
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .map(str::to_string),
    })
}

/// Explains a failed local put when the key collides with the folder structure. Only called on
/// the error path; `key` is validated, so joining it to the root stays inside the root.
async fn local_conflict(root: &std::path::Path, key: &str) -> Option<StorageError> {
    if tokio::fs::metadata(root.join(key))
        .await
        .is_ok_and(|m| m.is_dir())
    {
        return Some(StorageError::Conflict(format!(
            "{key:?} is a folder holding other objects"
        )));
    }
    let mut ancestor = key;
    while let Some((parent, _)) = ancestor.rsplit_once('/') {
        if tokio::fs::metadata(root.join(parent))
            .await
            .is_ok_and(|m| m.is_file())
        {
            return Some(StorageError::Conflict(format!(
                "{parent:?} is an object, so it cannot hold {key:?}"
            )));
        }
        ancestor = parent;
    }
    None
}

/// Walks the folder tree with delimiter listings (one directory read per folder).
async fn list_local(
    store: &LocalFileSystem,
    folder: Option<Path>,
) -> Result<Vec<ObjectInfo>, StorageError> {
    let mut keys = Vec::new();
    let mut pending = vec![folder];
    while let Some(folder) = pending.pop() {
        let listing = match store.list_with_delimiter(folder.as_ref()).await {
            Ok(listing) => listing,
            Err(object_store::Error::NotFound { .. }) => continue,
            Err(e) => return Err(backend_error(e)),
        };
        keys.extend(listing.objects.into_iter().map(ObjectInfo::from));
        pending.extend(listing.common_prefixes.into_iter().map(Some));
    }
    Ok(keys)
}

/// Flat listing, 1000 keys per request, following continuation tokens.
async fn list_s3(store: &AmazonS3, folder: Option<Path>) -> Result<Vec<ObjectInfo>, StorageError> {
    // A trailing '/' makes the prefix a folder: "tenants/1/" does not match "tenants/10/...".
    let prefix = folder.map(|f| format!("{f}/"));
    let mut keys = Vec::new();
    let mut page_token = None;
    loop {
        let options = PaginatedListOptions {
            page_token: page_token.take(),
            ..PaginatedListOptions::default()
        };
        let page = store
            .list_paginated(prefix.as_deref(), options)
            .await
            .map_err(backend_error)?;
        keys.extend(page.result.objects.into_iter().map(ObjectInfo::from));
        match page.page_token {
            Some(token) => page_token = Some(token),
            None => return Ok(keys),
        }
    }
}

fn backend_error(e: object_store::Error) -> StorageError {
    match e {
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => StorageError::Denied(error_chain(&e)),
        object_store::Error::InvalidPath { .. } => StorageError::InvalidKey(error_chain(&e)),
        object_store::Error::UnknownConfigurationKey { .. } => {
            StorageError::Config(error_chain(&e))
        }
        _ => StorageError::Unavailable(error_chain(&e)),
    }
}

/// The error and its sources in one line. object_store's messages carry URLs and paths, never the
/// request's signature or keys.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// Percent-encodes one URL path segment, keeping RFC 3986 unreserved characters.
fn encode_url_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
