//! The observed state of a store, written by the operator.
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Observed state of a ZotArtifactStore, written by the operator only.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ZotArtifactStoreStatus {
    /// Summary of the store's life cycle: Creating (until a first zot pod serves), Running (ready), Updating (a
    /// serving store rolling out or not fully ready) or Failed (the spec, or something it names, keeps the
    /// store from running; the Ready condition says why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// Detailed conditions: Ready, Available, Progressing, Degraded, ConfigReady, StorageReady, DatabaseReady,
    /// RouteReady and others, each with a reason and message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Number of zot pods that are ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_replicas: Option<i32>,
    /// Number of zot pods (the scale subresource reads it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// Label selector of zot's pods (the scale subresource and HorizontalPodAutoscalers read it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// Addresses at which the registry is reachable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Endpoints>,
    /// The bucket of s3 storage as the operator found or made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<StorageStatus>,
    /// The key pair zot trusts signatures of (supplyChain.signing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing: Option<SigningStatus>,
    /// Version of zot that runs (the image tag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zot_version: Option<String>,
    /// The metadata.generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// Summary of a store's life cycle.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Creating,
    Running,
    Updating,
    Failed,
}

impl Phase {
    /// The phase as written in the status (and as a metric label): a fixed string, never derived from `Debug`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Phase::Creating => "Creating",
            Phase::Running => "Running",
            Phase::Updating => "Updating",
            Phase::Failed => "Failed",
        }
    }
}

/// Addresses of the registry.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    /// In-cluster address, e.g. `zot.artifacts.svc:5000`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal: Option<String>,
    /// Address published by an Ingress or Route, e.g. `https://artifacts.example.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<String>,
}

/// The bucket of s3 storage.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StorageStatus {
    /// Name of the bucket.
    pub bucket: String,
    /// Endpoint of the bucket (AWS S3 of the region when the spec names none).
    pub endpoint: String,
    /// True when the operator created the bucket. With deletionPolicy Delete such a bucket is deleted with the
    /// store, once zot's data is gone, unless it holds other objects; a bucket the operator did not create is
    /// never deleted.
    #[serde(default)]
    pub created_by_operator: bool,
}

/// The key pair of signature verification: which public key every zot pod trusts. Nothing of the private key.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SigningStatus {
    /// The Secret holding the pair.
    pub secret_name: String,
    /// Algorithm and size of the pair, e.g. `RSA 4096-bit` or `ECDSA P-256`.
    pub algorithm: String,
    /// SHA-256 of the public key (its DER SubjectPublicKeyInfo), as `sha256:<hex>`.
    pub public_key_fingerprint: String,
    /// True when the operator created the pair (keySize then applies); false for a pair found in the Secret,
    /// which is used as it is.
    #[serde(default)]
    pub created_by_operator: bool,
}
