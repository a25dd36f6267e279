//! Server-side apply of a store's children with one field manager, and pruning of owned children that are no
//! longer desired — selected by label and by the store's owner UID only, never by name alone.
use std::fmt::Debug;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ManagedFieldsEntry, ObjectMeta};
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::core::{ApiResource, NamespaceResourceScope};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::{Instrument, info_span};

use crate::api::names::{self, MANAGED_BY};
use crate::controller::Error;

/// One thing apply or prune did to a child, for Events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Created { kind: &'static str, name: String },
    Updated { kind: &'static str, name: String },
    Pruned { kind: &'static str, name: String },
}

/// Where a store's children live and who owns them.
pub struct Owner<'a> {
    pub namespace: &'a str,
    pub store: &'a str,
    pub uid: &'a str,
}

fn params() -> PatchParams {
    PatchParams::apply(MANAGED_BY).force()
}

/// Whether `obj` belongs to the store: our labels *and* an owner reference with the store's UID.
pub fn owned_by<K: Resource>(obj: &K, owner: &Owner<'_>) -> bool {
    let labels = obj.meta().labels.as_ref();
    let label = |k: &str| labels.and_then(|l| l.get(k)).map(String::as_str);
    obj.meta().namespace.as_deref() == Some(owner.namespace)
        && label("app.kubernetes.io/managed-by") == Some(MANAGED_BY)
        && label("app.kubernetes.io/instance") == Some(owner.store)
        && obj
            .owner_references()
            .iter()
            .any(|r| r.uid == owner.uid && r.controller == Some(true))
}

/// Applies the `desired` objects of one kind and deletes every other object of that kind the store owns (as the
/// cache `observed` shows them). Returns what changed.
pub async fn sync<K>(
    client: &Client,
    owner: &Owner<'_>,
    desired: Vec<K>,
    observed: &Store<K>,
) -> Result<Vec<Change>, Error>
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + Debug
        + Serialize
        + DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let api: Api<K> = Api::namespaced(client.clone(), owner.namespace);
    apply_and_prune(&api, kind_of::<K>(), &(), owner, desired, observed).await
}

/// [`sync`] for a kind known only at run time (e.g. the ServiceMonitor, whose CRD may be absent).
pub async fn sync_dynamic(
    client: &Client,
    owner: &Owner<'_>,
    resource: &ApiResource,
    desired: Option<DynamicObject>,
    observed: &Store<DynamicObject>,
) -> Result<Vec<Change>, Error> {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), owner.namespace, resource);
    let desired = desired.into_iter().collect();
    apply_and_prune(
        &api,
        static_kind(&resource.kind),
        resource,
        owner,
        desired,
        observed,
    )
    .await
}

async fn apply_and_prune<K>(
    api: &Api<K>,
    kind: &'static str,
    dyntype: &K::DynamicType,
    owner: &Owner<'_>,
    desired: Vec<K>,
    observed: &Store<K>,
) -> Result<Vec<Change>, Error>
where
    K: Resource + Clone + Debug + Serialize + DeserializeOwned,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    let mut changes = Vec::new();
    let mut wanted = Vec::new();
    for obj in desired {
        let name = obj.name_any();
        let before =
            observed.get(&ObjectRef::new_with(&name, dyntype.clone()).within(owner.namespace));
        let after = api
            .patch(&name, &params(), &Patch::Apply(&obj))
            .instrument(info_span!("apply", kind, name = %name))
            .await
            .map_err(|source| Error::Apply {
                kind,
                name: name.clone(),
                source,
            })?;
        match before {
            None => changes.push(Change::Created {
                kind,
                name: name.clone(),
            }),
            Some(b) if changed_by_us(b.meta(), after.meta()) => changes.push(Change::Updated {
                kind,
                name: name.clone(),
            }),
            Some(_) => {}
        }
        wanted.push(name);
    }
    for stale in observed.state() {
        if owned_by(stale.as_ref(), owner) && !wanted.contains(&stale.name_any()) {
            let name = stale.name_any();
            delete(api, kind, &name).await?;
            changes.push(Change::Pruned { kind, name });
        }
    }
    Ok(changes)
}

fn is_ours(entry: &ManagedFieldsEntry) -> bool {
    entry.manager.as_deref() == Some(MANAGED_BY) && entry.operation.as_deref() == Some("Apply")
}

/// Trims what a cache keeps of a child to what the operator reads: other managers' managedFields entries and every
/// field set (a copy of the whole object's shape, often the larger part of it) are dropped; our entry's time and
/// version remain, which is what [`changed_by_us`] compares.
pub fn slim(meta: &mut ObjectMeta) {
    if let Some(entries) = meta.managed_fields.as_mut() {
        entries.retain(is_ours);
        for entry in entries.iter_mut() {
            entry.fields_v1 = None;
        }
    }
    if let Some(annotations) = meta.annotations.as_mut() {
        annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
}

/// Whether our apply wrote something between the cached object `before` and the API server's answer `after`.
///
/// A different resourceVersion alone does not say so: the cache may lag behind a status write by another
/// controller. A write of ours moves our own managedFields entry (its time) or, for kinds with a
/// spec, the generation; a no-op apply moves neither.
fn changed_by_us(before: &ObjectMeta, after: &ObjectMeta) -> bool {
    let ours = |meta: &ObjectMeta| {
        meta.managed_fields
            .iter()
            .flatten()
            .find(|entry| is_ours(entry))
            .map(|entry| ManagedFieldsEntry {
                // The caches keep no field sets (see `slim`): compare what both sides have.
                fields_v1: None,
                ..entry.clone()
            })
    };
    before.resource_version != after.resource_version
        && (ours(before) != ours(after) || before.generation != after.generation)
}

async fn delete<K>(api: &Api<K>, kind: &'static str, name: &str) -> Result<(), Error>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    match api
        .delete(name, &DeleteParams::background())
        .instrument(info_span!("prune", kind, name = %name))
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(source) => Err(Error::Prune {
            kind,
            name: name.to_string(),
            source,
        }),
    }
}

fn kind_of<K: Resource<DynamicType = ()>>() -> &'static str {
    static_kind(&K::kind(&()))
}

/// Kinds as `&'static str` for spans, metrics and events: the kinds the operator manages are a fixed set.
fn static_kind(kind: &str) -> &'static str {
    const KINDS: [&str; 14] = [
        "ServiceAccount",
        "Secret",
        "ConfigMap",
        "PersistentVolumeClaim",
        "Service",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Ingress",
        "Route",
        "ServiceMonitor",
        "StatefulSet",
        "Deployment",
        "HorizontalPodAutoscaler",
        "ZotArtifactStore",
    ];
    KINDS
        .iter()
        .find(|k| **k == kind)
        .copied()
        .unwrap_or("Other")
}

/// The label selector of every object the operator manages (used by its watches).
pub fn managed_selector() -> String {
    format!("app.kubernetes.io/managed-by={}", names::MANAGED_BY)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Service;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

    fn service(ns: &str, instance: &str, uid: &str, managed: bool) -> Service {
        let mut s = Service::default();
        s.metadata.name = Some("x".into());
        s.metadata.namespace = Some(ns.into());
        let mut labels = std::collections::BTreeMap::new();
        labels.insert(
            "app.kubernetes.io/instance".to_string(),
            instance.to_string(),
        );
        if managed {
            labels.insert(
                "app.kubernetes.io/managed-by".to_string(),
                MANAGED_BY.to_string(),
            );
        }
        s.metadata.labels = Some(labels);
        s.metadata.owner_references = Some(vec![OwnerReference {
            uid: uid.into(),
            controller: Some(true),
            ..OwnerReference::default()
        }]);
        s
    }

    #[test]
    fn only_objects_with_our_labels_and_the_stores_uid_are_ours() {
        let owner = Owner {
            namespace: "a",
            store: "zot",
            uid: "u1",
        };
        assert!(owned_by(&service("a", "zot", "u1", true), &owner));
        assert!(
            !owned_by(&service("a", "zot", "u2", true), &owner),
            "another owner UID"
        );
        assert!(
            !owned_by(&service("a", "zot", "u1", false), &owner),
            "not managed by us"
        );
        assert!(
            !owned_by(&service("b", "zot", "u1", true), &owner),
            "another namespace"
        );
        assert!(
            !owned_by(&service("a", "other", "u1", true), &owner),
            "another instance"
        );
    }

    #[test]
    fn kinds_map_to_fixed_labels() {
        assert_eq!(kind_of::<Service>(), "Service");
        assert_eq!(static_kind("Unheard"), "Other");
    }

    fn meta(rv: &str, entries: serde_json::Value) -> ObjectMeta {
        serde_json::from_value(serde_json::json!({"resourceVersion": rv, "managedFields": entries}))
            .unwrap()
    }

    fn entry(manager: &str, operation: &str, time: &str) -> serde_json::Value {
        serde_json::json!({"manager": manager, "operation": operation, "apiVersion": "v1", "time": time,
                           "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:ports": {}}}})
    }

    #[test]
    fn a_slim_cache_keeps_only_our_entry_without_its_field_set_and_still_tells_our_writes() {
        let full = |rv: &str, ours_at: &str| {
            meta(
                rv,
                serde_json::json!([
                    entry(MANAGED_BY, "Apply", ours_at),
                    entry("kube-controller-manager", "Update", "2026-01-01T00:00:09Z"),
                ]),
            )
        };
        let mut cached = full("1", "2026-01-01T00:00:00Z");
        slim(&mut cached);
        let kept = cached.managed_fields.clone().unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].manager.as_deref(), Some(MANAGED_BY));
        assert_eq!(kept[0].fields_v1, None);
        // Another controller wrote (status): not ours.
        assert!(!changed_by_us(&cached, &full("2", "2026-01-01T00:00:00Z")));
        // Our apply changed the object: our entry's time moved.
        assert!(changed_by_us(&cached, &full("3", "2026-01-01T00:00:05Z")));
        // Nothing was written at all.
        assert!(!changed_by_us(&cached, &full("1", "2026-01-01T00:00:00Z")));
    }
}
