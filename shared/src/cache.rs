//! What a warm Lambda instance keeps between requests — tenant records, signing keys, app
//! client secrets, password policies — in one small cache with a time to live. Each entry
//! remembers when it was stored, so a reader may also take a stale one on purpose (and see
//! how old it is).

use std::{
    borrow::Borrow,
    collections::HashMap,
    hash::Hash,
    sync::Mutex,
    time::{Duration, Instant},
};

pub struct TtlCache<K, V> {
    ttl: Duration,
    max_entries: usize,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    /// Entries live `ttl`; past `max_entries` they are dropped wholesale, a bound on memory
    /// when callers choose the keys (junk tenant headers, say).
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        Self {
            ttl,
            max_entries,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The value under `key`, if it is younger than the time to live.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get_with_age(key)
            .filter(|(_, age)| *age < self.ttl)
            .map(|(value, _)| value)
    }

    /// The value under `key` however old it is, with its age.
    pub fn get_with_age<Q>(&self, key: &Q) -> Option<(V, Duration)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .map(|(at, value)| (value.clone(), at.elapsed()))
    }

    pub fn insert(&self, key: K, value: V) {
        self.insert_at(key, value, Instant::now());
    }

    /// Stores `value` as if it had been stored `age` ago (tests of what happens to old entries).
    #[cfg(test)]
    pub fn insert_aged(&self, key: K, value: V, age: Duration) {
        let at = Instant::now().checked_sub(age).unwrap_or_else(Instant::now);
        self.insert_at(key, value, at);
    }

    fn insert_at(&self, key: K, value: V, at: Instant) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.max_entries {
                entries.clear();
            }
            entries.insert(key, (at, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_lives_its_time_to_live_and_is_still_there_when_stale() {
        let fresh = TtlCache::new(Duration::from_secs(60), 8);
        fresh.insert("a".to_string(), 1);
        assert_eq!(fresh.get("a"), Some(1));
        assert_eq!(fresh.get("b"), None);

        let stale = TtlCache::new(Duration::ZERO, 8);
        stale.insert("a".to_string(), 1);
        assert_eq!(stale.get("a"), None);
        assert_eq!(stale.get_with_age("a").map(|(v, _)| v), Some(1));
    }

    #[test]
    fn entries_past_the_bound_are_dropped_wholesale() {
        let cache = TtlCache::new(Duration::from_secs(60), 2);
        cache.insert(1, "a");
        cache.insert(2, "b");
        cache.insert(3, "c");
        assert_eq!((cache.get(&1), cache.get(&3)), (None, Some("c")));
    }
}
