//! The stores' zot pods, as their kubelets report them: a cache that keeps only what explains a pod that does not
//! start (container waiting reasons, the last termination), and a watch that reconciles the pod's store when that
//! changes — a crash loop changes no StatefulSet or Deployment field, so the workloads' watches alone would miss it.
use futures::StreamExt;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Pod, PodStatus};
use kube::api::{Api, DeleteParams};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{Controller, WatchStreamExt, watcher};
use kube::{Client, ResourceExt};
use tracing::{info, warn};

use crate::api::names::{label, managed_selector};
use crate::api::v1alpha1::ZotArtifactStore;
use crate::scope::Scope;
use kube::core::DeserializeGuard;

type StoreController = Controller<DeserializeGuard<ZotArtifactStore>>;

/// A trimmed cache of the operator's pods, and `controller` told to reconcile a pod's store when it changes.
pub fn watch(
    client: &Client,
    scope: &Scope,
    controller: StoreController,
) -> (Store<Pod>, StoreController) {
    let writer = reflector::store::Writer::default();
    let reader = writer.as_reader();
    let config = watcher::Config::default().labels(&managed_selector());
    let changes = watcher(scope.api::<Pod>(client), config)
        .default_backoff()
        .modify(trim)
        .reflect(writer)
        .touched_objects()
        .boxed();
    let controller = controller.watches_stream(changes, |pod: Pod| {
        let store = pod.labels().get(label::INSTANCE)?.clone();
        Some(ObjectRef::new(&store).within(&pod.namespace()?))
    });
    (reader, controller)
}

/// Only the metadata that finds the pod's store and the container statuses: no spec, no conditions.
fn trim(pod: &mut Pod) {
    crate::apply::slim(&mut pod.metadata);
    pod.metadata.annotations = None;
    pod.spec = None;
    let statuses = pod.status.take().and_then(|s| s.container_statuses);
    pod.status = Some(PodStatus {
        container_statuses: statuses,
        ..PodStatus::default()
    });
}

/// The cached pods of one store.
pub fn of_store(pods: &Store<Pod>, namespace: &str, store: &str) -> Vec<Pod> {
    pods.state()
        .iter()
        .filter(|p| {
            p.namespace().as_deref() == Some(namespace)
                && p.labels().get(label::INSTANCE).map(String::as_str) == Some(store)
        })
        .map(|p| p.as_ref().clone())
        .collect()
}

/// Deletes the store's pods that cannot start and belong to an older revision of its StatefulSet, so that the
/// rollout which fixes them reaches them (the StatefulSet controller waits for them to be Ready first). Failures
/// are logged: the next reconcile tries again.
pub async fn replace_stuck(client: &Client, pods: &Store<Pod>, statefulset: Option<&StatefulSet>) {
    let Some(statefulset) = statefulset else {
        return;
    };
    let (Some(namespace), Some(revision)) = (
        statefulset.namespace(),
        statefulset
            .status
            .as_ref()
            .and_then(|s| s.update_revision.clone()),
    ) else {
        return;
    };
    let store = statefulset.name_any();
    let api: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    for pod in crate::status::stuck_pods(&of_store(pods, &namespace, &store), &revision) {
        match api.delete(&pod, &DeleteParams::default()).await {
            Ok(_) => {
                info!(store = %store, namespace = %namespace, pod = %pod, "replaced a pod of an older revision that cannot start")
            }
            Err(e) => {
                warn!(store = %store, namespace = %namespace, pod = %pod, error = %e, "could not replace a pod that cannot start")
            }
        }
    }
}
