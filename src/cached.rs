//! A child as the operator's caches hold it: its metadata (trimmed by [`crate::apply::slim`]) and the rest of the
//! object in the JSON text the API server sent. A typed object holds every optional field of its kind inline, set
//! or not: a StatefulSet of the minimal sample takes about 22 KiB as `StatefulSet` (each of its volumes has room
//! for every kind of volume source) and about a quarter of that as text. The caches are read a few times per
//! reconcile, so the object is parsed when it is read ([`Cached::object`], [`Cached::value`]).
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// An object of kind `K` as a cache keeps it.
pub struct Cached<K> {
    metadata: ObjectMeta,
    /// Every field but `metadata` (`apiVersion` and `kind` included: a rendered object has them, and
    /// [`crate::writes::covers`] compares it with this), as a JSON object.
    body: Box<str>,
    kind: PhantomData<fn() -> K>,
}

impl<K> Cached<K> {
    /// The object as JSON, metadata included (what [`crate::writes::holds`] compares).
    pub fn value(&self) -> Value {
        let mut object = serde_json::from_str::<Map<String, Value>>(&self.body).unwrap_or_default();
        if let Ok(metadata) = serde_json::to_value(&self.metadata) {
            object.insert("metadata".into(), metadata);
        }
        Value::Object(object)
    }

    /// How many bytes of text the object's body takes (for the cache figures).
    pub fn body_len(&self) -> usize {
        self.body.len()
    }
}

impl<K: DeserializeOwned> Cached<K> {
    /// The typed object. None only if the text does not parse as `K`, which the API server's answers always do.
    pub fn object(&self) -> Option<K> {
        serde_json::from_value(self.value()).ok()
    }
}

impl<K> Clone for Cached<K> {
    fn clone(&self) -> Self {
        Self {
            metadata: self.metadata.clone(),
            body: self.body.clone(),
            kind: PhantomData,
        }
    }
}

impl<K> fmt::Debug for Cached<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cached")
            .field("namespace", &self.metadata.namespace)
            .field("name", &self.metadata.name)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

impl<'de, K> Deserialize<'de> for Cached<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut object = Map::<String, Value>::deserialize(deserializer)?;
        let metadata = match object.remove("metadata") {
            Some(metadata) => serde_json::from_value(metadata).map_err(D::Error::custom)?,
            None => ObjectMeta::default(),
        };
        let body = serde_json::to_string(&object).map_err(D::Error::custom)?;
        Ok(Self {
            metadata,
            body: body.into_boxed_str(),
            kind: PhantomData,
        })
    }
}

impl<K: Resource> Resource for Cached<K> {
    type DynamicType = K::DynamicType;
    type Scope = K::Scope;

    fn kind(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::kind(dt)
    }
    fn group(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::group(dt)
    }
    fn version(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::version(dt)
    }
    fn api_version(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::api_version(dt)
    }
    fn plural(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::plural(dt)
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::StatefulSet;
    use kube::ResourceExt;
    use serde_json::json;

    fn served() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "zot", "namespace": "team", "resourceVersion": "12",
                         "annotations": {"a": "b"}},
            "spec": {"replicas": 2, "serviceName": "zot-headless",
                     "selector": {"matchLabels": {"app": "zot"}},
                     "template": {"spec": {"containers": [{"name": "zot", "image": "zot:v2"}]}}},
            "status": {"replicas": 2, "readyReplicas": 1, "availableReplicas": 1}
        })
    }

    #[test]
    fn a_cached_object_reads_back_as_the_object_the_server_sent() {
        let cached: Cached<StatefulSet> = serde_json::from_value(served()).unwrap();
        assert_eq!(cached.name_any(), "zot");
        assert_eq!(cached.namespace().as_deref(), Some("team"));
        assert_eq!(cached.annotations().get("a").map(String::as_str), Some("b"));
        let typed: StatefulSet = serde_json::from_value(served()).unwrap();
        assert_eq!(cached.object(), Some(typed));
        assert_eq!(cached.value(), served());
        assert!(cached.body_len() > 0);
    }

    #[test]
    fn metadata_changes_show_in_what_is_read() {
        let mut cached: Cached<StatefulSet> = serde_json::from_value(served()).unwrap();
        cached.meta_mut().annotations = None;
        assert_eq!(cached.object().unwrap().metadata.annotations, None);
        assert_eq!(cached.value()["metadata"].get("annotations"), None);
        assert_eq!(Cached::<StatefulSet>::kind(&()), "StatefulSet");
        assert_eq!(Cached::<StatefulSet>::plural(&()), "statefulsets");
    }
}
