//! Object metadata shared by every child: name, namespace, labels and the owner reference.
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::names;
use crate::validate::ValidatedStore;

/// Metadata of a child called `name`, owned by the store (deleted with it).
pub fn owned(store: &ValidatedStore, name: String) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: Some(store.namespace.clone()),
        labels: Some(names::labels(&store.name)),
        owner_references: store.owner.clone().map(|o| vec![o]),
        ..ObjectMeta::default()
    }
}

/// Metadata of a child called `name` that outlives the store (retained data).
pub fn unowned(store: &ValidatedStore, name: String) -> ObjectMeta {
    ObjectMeta {
        owner_references: None,
        ..owned(store, name)
    }
}

/// The pods' ServiceAccount.
pub fn service_account(store: &ValidatedStore) -> ServiceAccount {
    ServiceAccount {
        metadata: owned(store, store.names().base()),
        automount_service_account_token: Some(false),
        ..ServiceAccount::default()
    }
}
