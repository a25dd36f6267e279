//! What saves a write that would change nothing: whether a child in the cache already holds what the operator
//! would apply ([`holds`]), and a short memory of the operator's own writes that the caches have not shown yet
//! ([`Recent`]), so that a reconcile right after another one does not apply the same objects again.
//!
//! Every applied child carries [`APPLIED_DIGEST`], a digest of the object as rendered. A child is left alone when
//! its annotation names the digest of what would be applied now (so nothing was added to or taken out of the
//! rendered object since) *and* every field of the rendered object still has its value in the cached child (so
//! nobody changed a field the operator sets). Anything else is applied, as before.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Annotation on every child: the digest of the object the operator last applied.
pub const APPLIED_DIGEST: &str = "artifact.zotregistry.io/applied-digest";

/// How long a write of ours stands in for the cache that has not shown it yet. Past that, the cache alone says
/// what exists (a watch that lags longer than this costs one more, harmless, apply).
pub const CACHE_LAG: Duration = Duration::from_secs(5);

/// The digest of `object` as it would be applied, without the annotation that carries it.
pub fn digest<T: Serialize>(object: &T) -> Option<String> {
    let bytes = serde_json::to_vec(object).ok()?;
    let sum = Sha256::digest(&bytes);
    Some(sum.iter().take(16).map(|b| format!("{b:02x}")).collect())
}

/// Whether the cached `current` object already holds `desired` (rendered, with its [`APPLIED_DIGEST`]): the same
/// digest, and every field `desired` sets present in `current` with the same value.
pub fn holds(desired: &Value, digest: &str, current: &Value) -> bool {
    current["metadata"]["annotations"][APPLIED_DIGEST].as_str() == Some(digest)
        && covers(desired, current)
}

/// Whether every field of `desired` has its value in `actual`. Lists must have the same length and hold their
/// items in order; fields the API server adds (defaults, status, metadata) do not matter; an empty value in
/// `desired` matches an absent one (the API server drops empty strings, maps and lists).
pub fn covers(desired: &Value, actual: &Value) -> bool {
    match (desired, actual) {
        (Value::Object(want), Value::Object(have)) => want.iter().all(|(key, value)| {
            have.get(key)
                .map_or_else(|| is_empty(value), |found| covers(value, found))
        }),
        (Value::Array(want), Value::Array(have)) => {
            want.len() == have.len() && want.iter().zip(have).all(|(w, h)| covers(w, h))
        }
        (want, Value::Null) => is_empty(want),
        (want, have) => want == have,
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.values().all(is_empty),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// The resourceVersion of `meta` as a number: the API server's are etcd revisions. An opaque one is never
/// compared (the cache then decides alone).
pub fn revision(meta: &ObjectMeta) -> Option<u64> {
    meta.resource_version.as_deref()?.parse().ok()
}

/// A child, by namespace, kind and name.
pub type ChildKey = (String, &'static str, String);
/// The digests of the children the operator applied recently.
pub type AppliedChildren = Recent<ChildKey, String>;

struct Entry<T> {
    revision: u64,
    value: T,
    at: Instant,
}

/// The operator's own recent writes, by object, until the cache shows them (or [`CACHE_LAG`] has passed). Holds
/// nothing once the caches have caught up: its size is the number of writes in flight, not the number of stores.
pub struct Recent<K, T> {
    entries: Mutex<HashMap<K, Entry<T>>>,
}

impl<K, T> Default for Recent<K, T> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: std::hash::Hash + Eq, T: Clone> Recent<K, T> {
    /// Remembers that the operator wrote `value` to `key`, which the API server stored at `revision`.
    pub fn remember(&self, key: K, revision: Option<u64>, value: T) {
        let Some(revision) = revision else { return };
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, e| e.at.elapsed() < CACHE_LAG);
            entries.insert(
                key,
                Entry {
                    revision,
                    value,
                    at: Instant::now(),
                },
            );
        }
    }

    /// What the operator wrote to `key` that is newer than the cached object's `cached` revision (None: the cache
    /// has no such object yet), within [`CACHE_LAG`]. Forgets the write once the cache holds it or something newer.
    pub fn newer_than(&self, key: &K, cached: Option<u64>) -> Option<T> {
        let mut entries = self.entries.lock().ok()?;
        let entry = entries.get(key)?;
        let caught_up = cached.is_some_and(|c| c >= entry.revision);
        if caught_up || entry.at.elapsed() >= CACHE_LAG {
            entries.remove(key);
            return None;
        }
        Some(entry.value.clone())
    }

    /// How many writes are remembered (for the tests and the bench).
    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// When the operator last wrote each store's status, for as long as that matters (a gathering window).
#[derive(Default)]
pub struct LastWrites {
    at: Mutex<HashMap<(String, String), Instant>>,
}

impl LastWrites {
    /// Notes a write of `key` now; forgets writes older than `window`.
    pub fn wrote(&self, key: (String, String), window: Duration) {
        if let Ok(mut at) = self.at.lock() {
            at.retain(|_, t| t.elapsed() < window);
            at.insert(key, Instant::now());
        }
    }

    /// How long until `window` has passed since the last write of `key`; None when it has (or there was none).
    pub fn wait(&self, key: &(String, String), window: Duration) -> Option<Duration> {
        let at = self.at.lock().ok()?;
        let since = at.get(key)?.elapsed();
        window.checked_sub(since).filter(|w| !w.is_zero())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_child_with_more_fields_than_rendered_holds_what_is_rendered() {
        let desired = json!({"spec": {"ports": [{"port": 5000, "name": "http"}], "selector": {"a": "b"}},
                             "metadata": {"labels": {"x": "y"}, "annotations": {}}});
        let served = json!({"spec": {"ports": [{"port": 5000, "name": "http", "protocol": "TCP"}],
                                     "selector": {"a": "b"}, "clusterIP": "10.0.0.1"},
                            "metadata": {"labels": {"x": "y"}, "resourceVersion": "7"}, "status": {}});
        assert!(covers(&desired, &served));
    }

    #[test]
    fn a_changed_value_a_missing_item_or_a_missing_field_is_not_held() {
        let desired = json!({"spec": {"ports": [{"port": 5000}, {"port": 5001}], "replicas": 1}});
        assert!(!covers(
            &desired,
            &json!({"spec": {"ports": [{"port": 5000}, {"port": 5001}], "replicas": 2}})
        ));
        assert!(!covers(
            &desired,
            &json!({"spec": {"ports": [{"port": 5000}], "replicas": 1}})
        ));
        assert!(!covers(
            &desired,
            &json!({"spec": {"ports": [{"port": 5000}, {"port": 5001}]}})
        ));
        assert!(!covers(&json!({"enabled": false}), &json!({})));
    }

    #[test]
    fn the_digest_annotation_must_name_what_is_rendered_now() {
        let object = json!({"metadata": {"name": "a"}, "data": {"k": "djE="}});
        let digest = digest(&object).unwrap();
        assert_eq!(digest.len(), 32);
        let mut desired = object.clone();
        desired["metadata"]["annotations"] = json!({APPLIED_DIGEST: digest});
        let mut cached = desired.clone();
        cached["metadata"]["resourceVersion"] = json!("3");
        assert!(holds(&desired, &digest, &cached));
        // A field taken out of the rendered object is only seen through the digest.
        let mut older = cached.clone();
        older["metadata"]["annotations"][APPLIED_DIGEST] = json!("0123");
        assert!(!holds(&desired, &digest, &older));
        // Someone changed a value the operator sets.
        let mut edited = cached;
        edited["data"]["k"] = json!("djI=");
        assert!(!holds(&desired, &digest, &edited));
        assert_ne!(
            digest,
            super::digest(&json!({"metadata": {"name": "b"}})).unwrap()
        );
    }

    #[test]
    fn a_write_holds_the_next_for_the_rest_of_its_window() {
        let writes = LastWrites::default();
        let key = ("ns".to_string(), "zot".to_string());
        assert_eq!(
            writes.wait(&key, Duration::from_secs(1)),
            None,
            "never written"
        );
        writes.wrote(key.clone(), Duration::from_secs(1));
        let wait = writes.wait(&key, Duration::from_secs(1)).unwrap();
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1));
        assert_eq!(writes.wait(&key, Duration::ZERO), None, "window passed");
    }

    #[test]
    fn a_recent_write_stands_in_for_the_cache_until_the_cache_shows_it() {
        let recent: Recent<&str, &str> = Recent::default();
        recent.remember("svc", Some(10), "d1");
        assert_eq!(
            recent.newer_than(&"svc", None),
            Some("d1"),
            "not cached yet"
        );
        assert_eq!(recent.newer_than(&"svc", Some(9)), Some("d1"), "cache lags");
        assert_eq!(recent.newer_than(&"svc", Some(10)), None, "cache caught up");
        assert!(recent.is_empty(), "forgotten once the cache holds it");
        recent.remember("opaque", None, "d2");
        assert!(
            recent.is_empty(),
            "an opaque resourceVersion is never remembered"
        );
    }
}
