//! `artifact.zotregistry.io/v1alpha1`: the ZotArtifactStore kind and the push/pull Secret requests.
//!
//! Field names follow the Zot Artifact Store product documentation, so its example objects apply unchanged;
//! fields zot cannot honour are accepted by name and refused with a reason by the CRD's CEL rules.
mod access;
mod common;
mod database;
mod extensions;
mod image;
pub mod messages;
mod metrics;
mod networking;
mod rbac;
mod rules;
mod scaling;
mod spec;
mod status;
mod storage;
mod supply_chain;
mod tls;

pub use access::{
    AccessRequestSpec, AccessSecretStatus, AccessSpec, DEFAULT_GRACE_PERIOD,
    DEFAULT_ROTATION_PERIOD, MIN_GRACE_PERIOD, MIN_ROTATION_PERIOD, ROTATE_ANNOTATION,
    RotationSpec, StoreRef, ZotPullSecret, ZotPullSecretSpec, ZotPushSecret, ZotPushSecretSpec,
};
pub use common::{LocalRef, SecretKeyRef};
pub use database::{
    DatabaseSpec, DatabaseType, DynamoDbDatabase, EmbeddedDatabase, RedisDatabase, SqlDatabase,
};
pub use extensions::{
    CveSpec, ExtensionsSpec, LintSpec, ScrubSpec, SearchSpec, SyncContent, SyncRegistry, SyncSpec,
    SyncTags,
};
pub use image::{ImageSpec, PullPolicy};
pub use metrics::{MetricsSpec, PrometheusSpec, ServiceMonitorSpec, TracingSpec};
pub use networking::{
    IngressSpec, IngressTls, NetworkPolicySpec, NetworkingSpec, RouteSpec, RouteTermination,
    ServiceSpec, ServiceType,
};
pub use rbac::{
    AccessPolicy, Action, DEFAULT_USERNAME_CLAIM, GROUPS_CLAIM, GROUPS_SCOPE, KeycloakSpec,
    RbacSpec,
};
pub use scaling::{AutoscalingSpec, PodDisruptionBudgetSpec};
pub use spec::{LogLevel, ZotArtifactStore, ZotArtifactStoreSpec};
pub use status::{Endpoints, Phase, SigningStatus, StorageStatus, ZotArtifactStoreStatus};
pub use storage::{
    AccessKeySecret, AzureStorage, DeletionPolicy, GcsStorage, KeepTagsSpec, RetentionPolicySpec,
    RetentionSpec, S3Storage, StorageSpec, StorageType,
};
pub use supply_chain::{KeySecretRef, SbomFormat, SbomSpec, SigningSpec, SupplyChainSpec};
pub use tls::{IssuerKind, IssuerRef, TlsSpec};
