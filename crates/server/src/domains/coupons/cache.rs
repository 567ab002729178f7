//! A small in-memory cache of CRM answers per (tenant, code key): bounded, with a time to live per
//! entry, dropped per tenant when the tenant edits its list or settings.
use std::collections::HashMap;

use crate::time::Millis;

pub struct TtlCache<V> {
    entries: HashMap<(String, String), (V, Millis)>,
    capacity: usize,
}

impl<V: Clone> TtlCache<V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            capacity: capacity.max(1),
        }
    }

    pub fn get(&self, tenant_id: &str, key: &str, now: Millis) -> Option<V> {
        // Borrowed lookup without allocating a key tuple is not possible for tuple keys; the
        // codes are ≤ 64 chars, so the two small allocations per lookup are fine.
        let (value, expires_at) = self.entries.get(&(tenant_id.to_owned(), key.to_owned()))?;
        (*expires_at > now).then(|| value.clone())
    }

    pub fn insert(
        &mut self,
        tenant_id: &str,
        key: &str,
        value: V,
        expires_at: Millis,
        now: Millis,
    ) {
        if self.entries.len() >= self.capacity {
            self.entries.retain(|_, (_, at)| *at > now);
        }
        if self.entries.len() >= self.capacity {
            // Still full of live entries: drop the one that would expire first.
            if let Some(first) = self
                .entries
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(k, _)| k.clone())
            {
                self.entries.remove(&first);
            }
        }
        self.entries
            .insert((tenant_id.to_owned(), key.to_owned()), (value, expires_at));
    }

    pub fn forget_tenant(&mut self, tenant_id: &str) {
        self.entries.retain(|(tenant, _), _| tenant != tenant_id);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::TtlCache;

    #[test]
    fn entries_expire_are_bounded_and_forgotten_per_tenant() {
        let mut cache = TtlCache::new(2);
        cache.insert("a", "X", 1, 100, 0);
        assert_eq!(cache.get("a", "X", 99), Some(1));
        assert_eq!(cache.get("a", "X", 100), None, "expired at its deadline");
        assert_eq!(cache.get("b", "X", 0), None, "other tenants never see it");
        cache.insert("a", "Y", 2, 50, 0);
        cache.insert("b", "Z", 3, 200, 0);
        assert_eq!(cache.len(), 2, "bounded");
        assert_eq!(
            cache.get("a", "Y", 0),
            None,
            "the soonest to expire went first"
        );
        cache.insert("a", "W", 4, 300, 0);
        cache.forget_tenant("a");
        assert_eq!(cache.get("a", "W", 0), None);
        assert_eq!(cache.get("b", "Z", 0), Some(3));
    }
}
