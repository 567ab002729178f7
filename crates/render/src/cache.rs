//! A bounded LRU of prepared backgrounds, owned by the caller (the server keeps one per process,
//! the CLI one per run). Keys carry the template version, so an edited template never hits a
//! stale entry; old versions simply age out.
use std::collections::HashMap;
use std::sync::Arc;

use crate::Result;
use crate::render::PreparedBackground;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub template_id: String,
    pub version: i64,
    pub variant: String,
    /// Identifies a logo other than the template's own (e.g. its content hash); `None` when the
    /// template's logo (or none) is used.
    pub logo: Option<String>,
}

impl CacheKey {
    pub fn new(
        template_id: impl Into<String>,
        version: i64,
        variant: impl Into<String>,
    ) -> CacheKey {
        CacheKey {
            template_id: template_id.into(),
            version,
            variant: variant.into(),
            logo: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    pub entries: usize,
}

/// LRU bounded by entry count and by approximate memory (decoded pixels + encoder caches).
pub struct BackgroundCache {
    max_entries: usize,
    max_bytes: usize,
    clock: u64,
    entries: HashMap<CacheKey, (Arc<PreparedBackground>, u64)>,
    stats: CacheStats,
}

impl BackgroundCache {
    pub fn new(max_entries: usize, max_bytes: usize) -> BackgroundCache {
        BackgroundCache {
            max_entries: max_entries.max(1),
            max_bytes,
            clock: 0,
            entries: HashMap::new(),
            stats: CacheStats::default(),
        }
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            entries: self.entries.len(),
            ..self.stats
        }
    }

    pub fn get(&mut self, key: &CacheKey) -> Option<Arc<PreparedBackground>> {
        self.clock += 1;
        let now = self.clock;
        let hit = self.entries.get_mut(key).map(|(bg, used)| {
            *used = now;
            bg.clone()
        });
        if hit.is_some() {
            self.stats.hits += 1;
        } else {
            self.stats.misses += 1;
        }
        hit
    }

    pub fn insert(&mut self, key: CacheKey, background: Arc<PreparedBackground>) {
        self.clock += 1;
        self.entries.insert(key, (background, self.clock));
        self.evict();
    }

    /// The cached background for `key`, or the result of `prepare` (cached on success).
    pub fn get_or_prepare(
        &mut self,
        key: &CacheKey,
        prepare: impl FnOnce() -> Result<PreparedBackground>,
    ) -> Result<Arc<PreparedBackground>> {
        if let Some(hit) = self.get(key) {
            return Ok(hit);
        }
        let prepared = Arc::new(prepare()?);
        self.insert(key.clone(), prepared.clone());
        Ok(prepared)
    }

    /// Drops every entry of one template (e.g. on delete).
    pub fn remove_template(&mut self, template_id: &str) {
        self.entries.retain(|k, _| k.template_id != template_id);
    }

    fn evict(&mut self) {
        loop {
            let bytes: usize = self.entries.values().map(|(bg, _)| bg.memory_bytes()).sum();
            if self.entries.len() <= self.max_entries
                && (bytes <= self.max_bytes || self.entries.len() <= 1)
            {
                return;
            }
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(key) => {
                    self.entries.remove(&key);
                    self.stats.evictions += 1;
                }
                None => return,
            }
        }
    }
}
