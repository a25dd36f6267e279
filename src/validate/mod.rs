//! Validation: a raw ZotArtifactStore becomes a [`ValidatedStore`] the rest of the operator trusts, or a
//! [`Refusal`] naming the field and the reason.
//!
//! Every CEL rule of the CRD is checked here too (objects may predate a CRD upgrade, and `zot-operator render`
//! runs without an API server), together with what CEL cannot judge.
mod certificates;
mod check;
mod features;
mod field_formats;
mod formats;
mod quantity;
mod references;
mod rules;
mod scaling;

use std::fmt;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::Resource;

use crate::api::names::Names;
use crate::api::v1alpha1::{
    AzureStorage, DatabaseType, DynamoDbDatabase, GcsStorage, RedisDatabase, S3Storage,
    StorageType, ZotArtifactStore, ZotArtifactStoreSpec, messages,
};

pub use certificates::serving_pair;
pub use formats::{duration_seconds, is_count_or_percent};
pub use quantity::{is_positive as is_positive_quantity, value as quantity_value};
pub use references::{keycloak_client_secret, redis_password, s3_access_keys};

/// Default size of the volume of filesystem storage.
pub const DEFAULT_STORAGE_SIZE: &str = "5Gi";
/// Default size of the volume of the embedded database with remote storage.
pub const DEFAULT_DATABASE_SIZE: &str = "5Gi";

/// Why a spec is refused: the field at fault (e.g. `spec.storage.s3.bucket`) and a reason a person understands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Path of the field at fault, from the object's root, e.g. `spec.storage.s3.bucket`.
    pub field: String,
    /// What is wrong and what to do instead.
    pub reason: String,
}

impl Refusal {
    pub(crate) fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for Refusal {}

/// Where zot keeps images, reduced to what the chosen backend needs.
#[derive(Clone, Debug, PartialEq)]
pub enum Backend {
    /// A volume per pod (StatefulSet).
    Filesystem {
        /// Size of the volume: storage.size, plus database.embedded.storageSize when the embedded database
        /// shares the volume.
        size: Quantity,
        /// The part of `size` requested for the embedded database (database.embedded.storageSize), if any.
        database_share: Option<Quantity>,
        /// StorageClass of the volume; None uses the cluster default.
        storage_class: Option<String>,
    },
    /// S3 or S3-compatible object storage.
    S3(S3Storage),
    /// Google Cloud Storage.
    Gcs(GcsStorage),
    /// Azure Blob Storage.
    Azure(AzureStorage),
}

impl Backend {
    /// Whether images live in a shared object store (so pods are interchangeable: a Deployment).
    pub fn is_remote(&self) -> bool {
        !matches!(self, Backend::Filesystem { .. })
    }
}

/// zot's metadata database, reduced to what the chosen kind needs.
#[derive(Clone, Debug, PartialEq)]
pub enum Database {
    /// BoltDB inside zot's data directory. `volume` is the size of the dedicated volume used with remote
    /// storage; None with filesystem storage, whose volume holds the database.
    Embedded {
        /// The database volume (remote storage only).
        volume: Option<DatabaseVolume>,
    },
    /// A shared redis.
    Redis(RedisDatabase),
    /// Shared DynamoDB tables.
    DynamoDb(DynamoDbDatabase),
}

/// The volume of the embedded database with remote storage.
#[derive(Clone, Debug, PartialEq)]
pub struct DatabaseVolume {
    /// Size of the volume.
    pub size: Quantity,
    /// StorageClass of the volume; None uses the cluster default.
    pub storage_class: Option<String>,
}

/// A store whose spec the operator accepts, with defaults resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidatedStore {
    /// Name of the ZotArtifactStore.
    pub name: String,
    /// Namespace of the ZotArtifactStore and of every child.
    pub namespace: String,
    /// Owner reference to set on every child; None when the object has no uid yet (offline rendering).
    pub owner: Option<OwnerReference>,
    /// The spec as written (with the CRD's defaults).
    pub spec: ZotArtifactStoreSpec,
    /// Where zot keeps images.
    pub backend: Backend,
    /// zot's metadata database.
    pub database: Database,
    /// Accounts of push/pull Secret requests (from `<store>-accounts`); empty from validation and offline. The
    /// controller sets them after reading that Secret.
    pub accounts: Vec<crate::access::accounts::Account>,
}

impl ValidatedStore {
    /// Names of the store's children.
    pub fn names(&self) -> Names {
        Names::new(&self.name)
    }

    /// Every Secret the zot pods read (credentials, certificates), with the field that names it: the controller
    /// watches them and passes their versions to rendering, so that a rotated credential rolls the pods.
    pub fn referenced_secret_fields(&self) -> Vec<(&'static str, String)> {
        references::referenced_secrets(&self.spec)
    }

    /// Names of the Secrets the store depends on, without duplicates: those the zot pods read (see
    /// [`Self::referenced_secret_fields`]) and the signing key's, which the operator creates when absent.
    pub fn referenced_secrets(&self) -> Vec<String> {
        let mut names: Vec<String> = references::referenced_secrets(&self.spec)
            .into_iter()
            .map(|(_, n)| n)
            .chain(self.signing_key().map(|k| k.secret))
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// Where the key pair of signature verification lives, with the spec's defaults resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningKeyRef {
    /// The Secret (keySecretRef.name, default `<store>-signing-key`).
    pub secret: String,
    /// Key of the sealed private key.
    pub private_field: String,
    /// Key of the PEM public key.
    pub public_field: String,
    /// Key of the private key's password.
    pub password_field: String,
    /// Bits of an RSA pair the operator creates.
    pub key_size: usize,
}

impl ValidatedStore {
    /// The key pair zot trusts, when signature verification is on (supplyChain.enabled and signing.enabled).
    pub fn signing_key(&self) -> Option<SigningKeyRef> {
        let chain = &self.spec.supply_chain;
        let signing = chain
            .signing
            .as_ref()
            .filter(|s| chain.enabled && s.enabled)?;
        let reference = signing.key_secret_ref.as_ref();
        let field = |f: Option<&Option<String>>, default: &str| {
            f.and_then(|v| v.clone())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_string())
        };
        Some(SigningKeyRef {
            secret: reference
                .map(|r| r.name.clone())
                .unwrap_or_else(|| self.names().signing_key_secret()),
            private_field: field(
                reference.map(|r| &r.private_key_field),
                crate::signing::DEFAULT_PRIVATE_KEY_FIELD,
            ),
            public_field: field(
                reference.map(|r| &r.public_key_field),
                crate::signing::DEFAULT_PUBLIC_KEY_FIELD,
            ),
            password_field: field(
                reference.map(|r| &r.password_field),
                crate::signing::DEFAULT_PASSWORD_FIELD,
            ),
            key_size: usize::try_from(signing.key_size).unwrap_or(4096),
        })
    }
}

/// Checks a ZotArtifactStore. `default_namespace` is used when the object has no namespace (offline rendering).
pub fn validate(
    store: &ZotArtifactStore,
    default_namespace: &str,
) -> Result<ValidatedStore, Refusal> {
    let name = store
        .metadata
        .name
        .clone()
        .ok_or_else(|| Refusal::new("metadata.name", "a ZotArtifactStore needs a name"))?;
    rules::check_name(&name)?;
    let spec = &store.spec;
    let database_kind = rules::database_kind(spec)?;
    rules::check(spec)?;
    references::check_secret_names(spec, &Names::new(&name))?;
    let namespace = store
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| default_namespace.to_string());
    Ok(ValidatedStore {
        owner: store.controller_owner_ref(&()),
        backend: backend(spec)?,
        database: database(spec, database_kind)?,
        accounts: Vec::new(),
        spec: spec.clone(),
        name,
        namespace,
    })
}

fn backend(spec: &ZotArtifactStoreSpec) -> Result<Backend, Refusal> {
    let storage = &spec.storage;
    let missing = |kind: &str| {
        Refusal::new(
            format!("spec.storage.{kind}"),
            format!("storage.type {kind} needs a storage.{kind} section"),
        )
    };
    Ok(match storage.type_ {
        StorageType::Filesystem => {
            let images = storage
                .size
                .clone()
                .unwrap_or_else(|| Quantity(DEFAULT_STORAGE_SIZE.into()));
            // The embedded database lives in zot's data directory, on this volume: the size asked for it (the
            // product documents' "embedded BoltDB" snippet) is added to the volume.
            let database_share = spec
                .database
                .embedded
                .as_ref()
                .filter(|_| spec.database.type_ == DatabaseType::Embedded)
                .and_then(|e| e.storage_size.clone());
            let size = match &database_share {
                Some(share) => quantity::sum(&images, share).ok_or_else(|| {
                    Refusal::new(
                        "spec.database.embedded.storageSize",
                        messages::POSITIVE_QUANTITY,
                    )
                })?,
                None => images,
            };
            Backend::Filesystem {
                size,
                database_share,
                storage_class: storage.storage_class.clone(),
            }
        }
        StorageType::S3 => Backend::S3(storage.s3.clone().ok_or_else(|| missing("s3"))?),
        StorageType::Gcs => Backend::Gcs(storage.gcs.clone().ok_or_else(|| missing("gcs"))?),
        StorageType::Azure => {
            Backend::Azure(storage.azure.clone().ok_or_else(|| missing("azure"))?)
        }
    })
}

fn database(spec: &ZotArtifactStoreSpec, kind: rules::DatabaseKind) -> Result<Database, Refusal> {
    let db = &spec.database;
    let missing = |kind: &str| {
        Refusal::new(
            format!("spec.database.{kind}"),
            format!("database.type {kind} needs a database.{kind} section"),
        )
    };
    Ok(match kind {
        rules::DatabaseKind::Embedded => Database::Embedded {
            volume: (spec.storage.type_ != StorageType::Filesystem).then(|| DatabaseVolume {
                size: db
                    .embedded
                    .as_ref()
                    .and_then(|e| e.storage_size.clone())
                    .unwrap_or_else(|| Quantity(DEFAULT_DATABASE_SIZE.into())),
                storage_class: db.embedded.as_ref().and_then(|e| e.storage_class.clone()),
            }),
        },
        rules::DatabaseKind::Redis => {
            Database::Redis(db.redis.clone().ok_or_else(|| missing("redis"))?)
        }
        rules::DatabaseKind::Dynamodb => {
            Database::DynamoDb(db.dynamodb.clone().ok_or_else(|| missing("dynamodb"))?)
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
