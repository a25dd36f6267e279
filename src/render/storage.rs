//! Persistent volume claims: the data volume of filesystem storage and the embedded database's volume.
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimSpec, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::names::{self, DATA_VOLUME};
use crate::api::v1alpha1::DeletionPolicy;
use crate::validate::{Backend, Database, ValidatedStore};

use super::meta;

fn claim_spec(size: &Quantity, storage_class: &Option<String>) -> PersistentVolumeClaimSpec {
    PersistentVolumeClaimSpec {
        access_modes: Some(vec!["ReadWriteOnce".to_string()]),
        resources: Some(VolumeResourceRequirements {
            requests: Some(BTreeMap::from([("storage".to_string(), size.clone())])),
            ..VolumeResourceRequirements::default()
        }),
        storage_class_name: storage_class.clone(),
        ..PersistentVolumeClaimSpec::default()
    }
}

/// The StatefulSet's claim template for filesystem storage (claims `data-<store>-<ordinal>`).
pub fn data_claim_template(store: &ValidatedStore) -> Option<PersistentVolumeClaim> {
    let Backend::Filesystem {
        size,
        storage_class,
        database_share: _,
    } = &store.backend
    else {
        return None;
    };
    Some(PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some(DATA_VOLUME.to_string()),
            labels: Some(names::labels(&store.name)),
            ..ObjectMeta::default()
        },
        spec: Some(claim_spec(size, storage_class)),
        ..PersistentVolumeClaim::default()
    })
}

/// `<store>-db`: the embedded database's volume with remote storage. Owned by the store (deleted with it) only
/// when storage.deletionPolicy is Delete.
pub fn database_claim(store: &ValidatedStore) -> Option<PersistentVolumeClaim> {
    let Database::Embedded {
        volume: Some(volume),
    } = &store.database
    else {
        return None;
    };
    let name = store.names().database_claim();
    let metadata = match store.spec.storage.deletion_policy {
        DeletionPolicy::Delete => meta::owned(store, name),
        DeletionPolicy::Retain => meta::unowned(store, name),
    };
    Some(PersistentVolumeClaim {
        metadata,
        spec: Some(claim_spec(&volume.size, &volume.storage_class)),
        ..PersistentVolumeClaim::default()
    })
}
