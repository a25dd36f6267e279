//! Server-side apply of a store's children with one field manager, and pruning of owned children that are no
//! longer desired — selected by label and by the store's owner UID only, never by name alone.
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ManagedFieldsEntry, ObjectMeta};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Client, Resource, ResourceExt};
use tracing::{Instrument, info_span};

use crate::api::names::{self, MANAGED_BY};
use crate::cached::Cached;
use crate::children::{Caches, ChildKind, Objects, with_child_kinds};
use crate::writes::{self, APPLIED_DIGEST, AppliedChildren};

/// A child the API server would not apply or delete.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Server-side apply of a child.
    #[error("applying {kind} {name}: {source}")]
    Apply {
        kind: &'static str,
        name: String,
        #[source]
        source: kube::Error,
    },
    /// Deleting a child that is no longer wanted.
    #[error("pruning {kind} {name}: {source}")]
    Prune {
        kind: &'static str,
        name: String,
        #[source]
        source: kube::Error,
    },
}

impl Error {
    /// A fixed label for metrics and spans.
    pub fn category(&self) -> &'static str {
        match self {
            Error::Apply { .. } => "apply",
            Error::Prune { .. } => "prune",
        }
    }

    /// The condition reason and message a store shows when this failure persists: the API server's own message,
    /// not the client's debug dump.
    pub fn refusal(&self) -> (&'static str, String) {
        let (reason, what, source) = match self {
            Error::Apply { kind, name, source } => {
                ("ApplyFailed", format!("applying {kind} {name}"), source)
            }
            Error::Prune { kind, name, source } => {
                ("PruneFailed", format!("deleting {kind} {name}"), source)
            }
        };
        let why = match source {
            kube::Error::Api(status) => format!("{} (HTTP {})", status.message, status.code),
            other => other.to_string(),
        };
        (
            reason,
            format!("{what} failed: {why}; retrying with backoff"),
        )
    }
}

/// One thing apply or prune did to a child, for Events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Created { kind: &'static str, name: String },
    Updated { kind: &'static str, name: String },
    Pruned { kind: &'static str, name: String },
}

/// What one apply of a store's children did.
#[derive(Debug, Default)]
pub struct Applied {
    /// What changed, for Events.
    pub changes: Vec<Change>,
    /// Some child was left alone on the strength of a recent write the cache has not shown yet: look again once
    /// the cache has caught up ([`writes::CACHE_LAG`]).
    pub unconfirmed: bool,
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
pub fn owned_by<K: Resource>(obj: &Cached<K>, owner: &Owner<'_>) -> bool {
    obj.meta().namespace.as_deref() == Some(owner.namespace)
        && obj.managed_by_us()
        && obj.instance() == Some(owner.store)
        && obj
            .owner_references()
            .iter()
            .any(|r| r.uid == owner.uid && r.controller == Some(true))
}

macro_rules! apply_kinds {
    ($($field:ident: $kind:ty),* $(,)?) => {
        /// Applies every desired child kind by kind, in the order of the one table of kinds (identity and
        /// configuration first, workloads last), pruning what the store owns but no longer wants. A kind the
        /// platform does not serve (no cache) is skipped.
        pub async fn apply_all(
            client: &Client,
            owner: &Owner<'_>,
            desired: Objects,
            caches: &Caches,
            recent: &AppliedChildren,
        ) -> Result<Applied, Error> {
            let Objects { $($field,)* } = desired;
            let mut applied = Applied::default();
            $(
                if let Some(cache) = &caches.$field {
                    sync(client, owner, $field, cache, recent, &mut applied).await?;
                }
            )*
            Ok(applied)
        }
    };
}
with_child_kinds!(apply_kinds);

/// Applies the `desired` objects of one kind that the cache `observed` (or a recent write of ours) does not show
/// already, and deletes every other object of that kind the store owns. Adds what changed to `applied`.
pub async fn sync<K: ChildKind>(
    client: &Client,
    owner: &Owner<'_>,
    desired: Vec<K>,
    observed: &Store<Cached<K>>,
    recent: &AppliedChildren,
    applied: &mut Applied,
) -> Result<(), Error> {
    let api = K::api(client, owner.namespace);
    let kind = K::KIND;
    let mut wanted = Vec::new();
    for mut obj in desired {
        let name = obj.name_any();
        let before =
            observed.get(&ObjectRef::new_with(&name, K::dyntype()).within(owner.namespace));
        let digest = writes::digest(&obj);
        if let Some(digest) = &digest {
            obj.annotations_mut()
                .insert(APPLIED_DIGEST.to_string(), digest.clone());
        }
        let key = (owner.namespace.to_string(), kind, name.clone());
        match unchanged(&obj, digest.as_deref(), before.as_deref(), recent, &key) {
            Some(Confirmed::ByCache) => {
                wanted.push(name);
                continue;
            }
            Some(Confirmed::ByRecentWrite) => {
                applied.unconfirmed = true;
                wanted.push(name);
                continue;
            }
            None => {}
        }
        let after = api
            .patch(&name, &params(), &Patch::Apply(&obj))
            .instrument(info_span!("apply", kind, name = %name))
            .await
            .map_err(|source| Error::Apply {
                kind,
                name: name.clone(),
                source,
            })?;
        if let Some(digest) = digest {
            recent.remember(key, writes::revision(after.meta()), digest);
        }
        match before {
            None => applied.changes.push(Change::Created {
                kind,
                name: name.clone(),
            }),
            Some(b) if changed_by_us(b.meta(), after.meta()) => {
                applied.changes.push(Change::Updated {
                    kind,
                    name: name.clone(),
                })
            }
            Some(_) => {}
        }
        wanted.push(name);
    }
    for stale in observed.state() {
        if owned_by(stale.as_ref(), owner) && !wanted.contains(&stale.name_any()) {
            let name = stale.name_any();
            delete(&api, kind, &name).await?;
            applied.changes.push(Change::Pruned { kind, name });
        }
    }
    Ok(())
}

/// Why a child needs no apply.
enum Confirmed {
    /// The cache shows it holding the rendered object.
    ByCache,
    /// The operator applied this very object a moment ago and the cache has not shown the write yet.
    ByRecentWrite,
}

/// Whether applying `desired` (carrying its `digest`) would change nothing, and who says so.
fn unchanged<K: ChildKind>(
    desired: &K,
    digest: Option<&str>,
    cached: Option<&Cached<K>>,
    recent: &AppliedChildren,
    key: &writes::ChildKey,
) -> Option<Confirmed> {
    let digest = digest?;
    let written = recent.newer_than(key, cached.and_then(|c| writes::revision(c.meta())));
    if written.as_deref() == Some(digest) {
        return Some(Confirmed::ByRecentWrite);
    }
    let cached = cached?;
    // The annotation first: it costs no parsing of the cached text.
    if written.is_some() || cached.applied_digest() != Some(digest) {
        return None;
    }
    let desired = serde_json::to_value(desired).ok()?;
    writes::holds(&desired, digest, &cached.value()).then_some(Confirmed::ByCache)
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
        annotations.remove(LAST_APPLIED);
    }
}

/// kubectl's copy of the whole object, which nothing here reads.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

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

async fn delete<K: ChildKind>(api: &Api<K>, kind: &'static str, name: &str) -> Result<(), Error> {
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

/// The label selector of every object the operator manages (used by its watches).
pub fn managed_selector() -> String {
    names::managed_selector()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::api::names::label;
    use k8s_openapi::api::core::v1::Service;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

    fn service(ns: &str, instance: &str, uid: &str, managed: bool) -> Cached<Service> {
        serde_json::from_value(
            serde_json::to_value(typed_service(ns, instance, uid, managed)).unwrap(),
        )
        .unwrap()
    }

    fn typed_service(ns: &str, instance: &str, uid: &str, managed: bool) -> Service {
        let mut s = Service::default();
        s.metadata.name = Some("x".into());
        s.metadata.namespace = Some(ns.into());
        let mut labels = std::collections::BTreeMap::new();
        labels.insert(label::INSTANCE.to_string(), instance.to_string());
        if managed {
            labels.insert(label::MANAGED_BY.to_string(), MANAGED_BY.to_string());
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
    fn a_cached_child_as_the_server_sent_it_holds_what_was_rendered() {
        let mut desired = typed_service("a", "zot", "u1", true);
        desired.spec = Some(k8s_openapi::api::core::v1::ServiceSpec {
            ports: Some(vec![k8s_openapi::api::core::v1::ServicePort {
                port: 5000,
                ..Default::default()
            }]),
            ..Default::default()
        });
        let digest = writes::digest(&desired).unwrap();
        desired
            .annotations_mut()
            .insert(APPLIED_DIGEST.into(), digest.clone());
        // The server's answer: the rendered object with what the server adds.
        let mut served = serde_json::to_value(&desired).unwrap();
        served["metadata"]["resourceVersion"] = "12".into();
        served["spec"]["ports"][0]["protocol"] = "TCP".into();
        served["spec"]["clusterIP"] = "10.0.0.7".into();
        served["status"] = serde_json::json!({"loadBalancer": {}});
        let cached: Cached<Service> = serde_json::from_value(served.clone()).unwrap();
        let recent = AppliedChildren::default();
        let key = ("a".to_string(), "Service", "x".to_string());
        let held = unchanged(&desired, Some(&digest), Some(&cached), &recent, &key);
        assert!(matches!(held, Some(Confirmed::ByCache)));
        // Someone changed a port the operator sets.
        served["spec"]["ports"][0]["port"] = 5001.into();
        let edited: Cached<Service> = serde_json::from_value(served).unwrap();
        assert!(unchanged(&desired, Some(&digest), Some(&edited), &recent, &key).is_none());
    }

    #[test]
    fn a_refused_apply_shows_the_api_servers_message() {
        let status =
            kube::core::Status::failure("exceeded quota: pods=10", "Forbidden").with_code(403);
        let error = Error::Apply {
            kind: "Service",
            name: "zot".into(),
            source: kube::Error::Api(Box::new(status)),
        };
        let (reason, message) = error.refusal();
        assert_eq!(reason, "ApplyFailed");
        assert_eq!(
            message,
            "applying Service zot failed: exceeded quota: pods=10 (HTTP 403); retrying with backoff"
        );
        assert_eq!(error.category(), "apply");
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
