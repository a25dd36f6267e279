//! A child as the operator's caches hold it: the object in the JSON text the API server sent, and apart from it the
//! few metadata fields that are read as fields. A typed object holds every optional field of its kind inline, set or
//! not, and each map in its own allocations: a StatefulSet of the minimal sample takes about 22 KiB as
//! `StatefulSet` (each of its volumes has room for every kind of volume source), and the metadata of any child about
//! 2.8 KiB as `ObjectMeta` (its labels and annotations most of it); as text, a fifth of that. The caches are read a
//! few times per reconcile, so the object is parsed when it is read ([`Cached::object`], [`Cached::value`]).
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::api::names::{MANAGED_BY, label};
use crate::apply::{LAST_APPLIED, slim};
use crate::writes::APPLIED_DIGEST;

/// An object of kind `K` as a cache keeps it.
pub struct Cached<K> {
    /// What the reflector, the owner watch and `apply` read as fields: name, namespace, uid, resourceVersion,
    /// generation, ownerReferences and the operator's own managedFields entry without its field set. No labels or
    /// annotations: they are in `text`, and the ones the operator reads are below.
    metadata: ObjectMeta,
    /// The `app.kubernetes.io/instance` label: the store the child belongs to.
    instance: Option<Box<str>>,
    /// Whether the `app.kubernetes.io/managed-by` label names this operator.
    managed: bool,
    /// The [`APPLIED_DIGEST`] annotation.
    applied_digest: Option<Box<str>>,
    /// The whole object as served, without managedFields and kubectl's last-applied copy.
    text: Box<str>,
    kind: PhantomData<fn() -> K>,
}

impl<K> Cached<K> {
    /// The object as JSON (what [`crate::writes::holds`] compares with a rendered object).
    pub fn value(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_default()
    }

    /// The store the child belongs to, by its `app.kubernetes.io/instance` label.
    pub fn instance(&self) -> Option<&str> {
        self.instance.as_deref()
    }

    /// Whether the `app.kubernetes.io/managed-by` label names this operator.
    pub fn managed_by_us(&self) -> bool {
        self.managed
    }

    /// The digest of what the operator last applied ([`APPLIED_DIGEST`]).
    pub fn applied_digest(&self) -> Option<&str> {
        self.applied_digest.as_deref()
    }

    /// How many bytes of text the object takes (for the cache figures).
    pub fn text_len(&self) -> usize {
        self.text.len()
    }
}

impl<K: DeserializeOwned> Cached<K> {
    /// The typed object. None only if the text does not parse as `K`, which the API server's answers always do.
    pub fn object(&self) -> Option<K> {
        serde_json::from_str(&self.text).ok()
    }
}

impl<K> Clone for Cached<K> {
    fn clone(&self) -> Self {
        Self {
            metadata: self.metadata.clone(),
            instance: self.instance.clone(),
            managed: self.managed,
            applied_digest: self.applied_digest.clone(),
            text: self.text.clone(),
            kind: PhantomData,
        }
    }
}

impl<K> fmt::Debug for Cached<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cached")
            .field("namespace", &self.metadata.namespace)
            .field("name", &self.metadata.name)
            .field("text_bytes", &self.text.len())
            .finish()
    }
}

/// The string at `key` of a JSON object of strings.
fn text_of(map: Option<&Value>, key: &str) -> Option<Box<str>> {
    map?.get(key)?.as_str().map(Box::from)
}

impl<'de, K> Deserialize<'de> for Cached<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut object = Map::<String, Value>::deserialize(deserializer)?;
        let mut meta = match object.remove("metadata") {
            Some(Value::Object(meta)) => meta,
            _ => Map::new(),
        };
        if let Some(Value::Object(annotations)) = meta.get_mut("annotations") {
            annotations.remove(LAST_APPLIED);
        }
        let managed_fields = meta.remove("managedFields");
        let labels = meta.get("labels");
        let instance = text_of(labels, label::INSTANCE);
        let managed = text_of(labels, label::MANAGED_BY).as_deref() == Some(MANAGED_BY);
        let applied_digest = text_of(meta.get("annotations"), APPLIED_DIGEST);
        let mut fields = meta.clone();
        fields.remove("labels");
        fields.remove("annotations");
        if let Some(entries) = managed_fields {
            fields.insert("managedFields".into(), entries);
        }
        let mut metadata: ObjectMeta =
            serde_json::from_value(Value::Object(fields)).map_err(D::Error::custom)?;
        // Only the operator's own managedFields entry, without its field set.
        slim(&mut metadata);
        object.insert("metadata".into(), Value::Object(meta));
        let text = serde_json::to_string(&object).map_err(D::Error::custom)?;
        Ok(Self {
            metadata,
            instance,
            managed,
            applied_digest,
            text: text.into_boxed_str(),
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
            "metadata": {"name": "zot", "namespace": "team", "resourceVersion": "12", "generation": 3,
                         "labels": {label::INSTANCE: "zot", label::MANAGED_BY: MANAGED_BY, "x": "y"},
                         "annotations": {APPLIED_DIGEST: "d1", "a": "b"},
                         "ownerReferences": [{"apiVersion": "artifact.zotregistry.io/v1alpha1",
                                              "kind": "ZotArtifactStore", "name": "zot", "uid": "u1",
                                              "controller": true}]},
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
        assert_eq!(cached.meta().generation, Some(3));
        assert_eq!(cached.owner_references()[0].uid, "u1");
        assert_eq!(cached.instance(), Some("zot"));
        assert!(cached.managed_by_us());
        assert_eq!(cached.applied_digest(), Some("d1"));
        let typed: StatefulSet = serde_json::from_value(served()).unwrap();
        assert_eq!(cached.object(), Some(typed));
        assert_eq!(cached.value(), served());
        assert!(cached.text_len() > 0);
        // Labels and annotations are read from the text, not kept twice.
        assert_eq!(cached.meta().labels, None);
        assert_eq!(cached.meta().annotations, None);
    }

    #[test]
    fn what_nothing_reads_is_not_kept() {
        let mut served = served();
        served["metadata"]["annotations"][LAST_APPLIED] = json!("{\"a\": \"copy\"}");
        served["metadata"]["labels"][label::MANAGED_BY] = json!("helm");
        served["metadata"]["managedFields"] = json!([
            {"manager": MANAGED_BY, "operation": "Apply", "apiVersion": "apps/v1",
             "time": "2026-12-07T10:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {}}},
            {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "apps/v1",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {}}}
        ]);
        let cached: Cached<StatefulSet> = serde_json::from_value(served).unwrap();
        assert!(!cached.managed_by_us());
        let value = cached.value();
        assert_eq!(value["metadata"]["annotations"].get(LAST_APPLIED), None);
        assert_eq!(value["metadata"].get("managedFields"), None);
        let ours = cached.meta().managed_fields.as_deref().unwrap();
        assert_eq!(ours.len(), 1);
        assert_eq!(ours[0].manager.as_deref(), Some(MANAGED_BY));
        assert_eq!(ours[0].fields_v1, None);
        assert_eq!(Cached::<StatefulSet>::kind(&()), "StatefulSet");
        assert_eq!(Cached::<StatefulSet>::plural(&()), "statefulsets");
    }
}
