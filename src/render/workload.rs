//! zot's workload: a StatefulSet with a volume per pod for filesystem storage, a Deployment for object storage.
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment, StatefulSet,
    StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::api::names;
use crate::api::v1alpha1::DeletionPolicy;
use crate::platform::Platform;
use crate::validate::{Database, ValidatedStore};

use super::{meta, pod, storage};

/// The replica count the operator writes: none while a HorizontalPodAutoscaler owns it.
fn replicas(store: &ValidatedStore) -> Option<i32> {
    (!store.spec.autoscaling.enabled).then_some(store.spec.replicas)
}

fn selector(store: &ValidatedStore) -> LabelSelector {
    LabelSelector {
        match_labels: Some(names::selector_labels(&store.name)),
        ..LabelSelector::default()
    }
}

/// zot as a StatefulSet: filesystem storage on a ReadWriteOnce claim per pod, kept or deleted with the store
/// as storage.deletionPolicy says.
pub fn statefulset(store: &ValidatedStore, platform: &Platform, config_hash: &str) -> StatefulSet {
    let policy = match store.spec.storage.deletion_policy {
        DeletionPolicy::Retain => "Retain",
        DeletionPolicy::Delete => "Delete",
    };
    StatefulSet {
        metadata: meta::owned(store, store.names().base()),
        spec: Some(StatefulSetSpec {
            replicas: replicas(store),
            service_name: Some(store.names().headless_service()),
            selector: selector(store),
            template: pod::template(store, platform, config_hash),
            volume_claim_templates: storage::data_claim_template(store).map(|t| vec![t]),
            persistent_volume_claim_retention_policy: Some(
                StatefulSetPersistentVolumeClaimRetentionPolicy {
                    when_deleted: Some(policy.to_string()),
                    when_scaled: Some("Retain".to_string()),
                },
            ),
            ..StatefulSetSpec::default()
        }),
        ..StatefulSet::default()
    }
}

/// zot as a Deployment: object storage shared by every pod. A rolling update starts a new pod before stopping
/// an old one, except with the embedded database, whose single ReadWriteOnce volume needs the old pod gone.
pub fn deployment(store: &ValidatedStore, platform: &Platform, config_hash: &str) -> Deployment {
    let single_volume = matches!(store.database, Database::Embedded { volume: Some(_) });
    let strategy = if single_volume {
        DeploymentStrategy {
            type_: Some("Recreate".to_string()),
            ..DeploymentStrategy::default()
        }
    } else {
        DeploymentStrategy {
            type_: Some("RollingUpdate".to_string()),
            rolling_update: Some(RollingUpdateDeployment {
                max_surge: Some(IntOrString::Int(1)),
                max_unavailable: Some(IntOrString::Int(0)),
            }),
        }
    };
    Deployment {
        metadata: meta::owned(store, store.names().base()),
        spec: Some(DeploymentSpec {
            replicas: replicas(store),
            selector: selector(store),
            strategy: Some(strategy),
            template: pod::template(store, platform, config_hash),
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}
