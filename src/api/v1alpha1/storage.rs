//! Where zot keeps blobs and manifests.
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::messages;

use super::rules;

/// Where zot stores images: a volume per pod (filesystem) or an object store shared by every replica.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("self.type == 'filesystem' || (!has(self.size) && !has(self.storageClass))")
        .message(messages::VOLUME_WITH_REMOTE),
    validation = Rule::new("self.type != 's3' || has(self.s3)")
        .message("storage.type s3 needs a storage.s3 section with at least a bucket"),
    validation = Rule::new("self.type != 'gcs' || has(self.gcs)")
        .message("storage.type gcs needs a storage.gcs section with at least a bucket"),
    validation = Rule::new("self.type != 'azure' || has(self.azure)")
        .message("storage.type azure needs a storage.azure section with accountName and container"),
    validation = Rule::new("(!has(self.s3) || self.type == 's3') && (!has(self.gcs) || self.type == 'gcs') && (!has(self.azure) || self.type == 'azure')")
        .message(messages::OTHER_STORAGE_SECTION),
    validation = Rule::new("!has(self.gc) || self.gc || (!has(self.gcInterval) && !has(self.gcDelay))")
        .message(messages::GC_SETTINGS_WITHOUT_GC),
    validation = Rule::new("!has(self.gc) || self.gc || !has(self.retention)")
        .message(messages::RETENTION_WITHOUT_GC),
)]
pub struct StorageSpec {
    /// Storage backend: `filesystem` (a PersistentVolumeClaim per pod, run as a StatefulSet; one replica),
    /// `s3`, `gcs` or `azure` (an object store shared by every replica, run as a Deployment). Defaults to
    /// filesystem.
    #[serde(rename = "type", default)]
    pub type_: StorageType,
    /// Size of the volume of filesystem storage, e.g. `50Gi`. Defaults to 5Gi. A larger value expands the
    /// volume when its StorageClass allows it; a smaller one is refused by Kubernetes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "rules::quantity_string")]
    #[x_kube(validation = rules::positive_quantity())]
    pub size: Option<Quantity>,
    /// StorageClass of the volume of filesystem storage. Defaults to the cluster's default StorageClass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub storage_class: Option<String>,
    /// S3 or S3-compatible object storage (AWS, MinIO, Ceph RGW, ODF/NooBaa); used when type is s3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Storage>,
    /// Google Cloud Storage; used when type is gcs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcs: Option<GcsStorage>,
    /// Azure Blob Storage; used when type is azure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<AzureStorage>,
    /// Whether zot stores a blob shared by several images once (zot's dedupe). Defaults to true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedupe: Option<bool>,
    /// Whether zot garbage-collects blobs no image refers to any more (zot's gc). Defaults to true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gc: Option<bool>,
    /// How often garbage collection runs over every repository, e.g. `6h`. Defaults to zot's 1h. Needs gc.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    #[x_kube(validation = Rule::new(rules::DURATION_RULE).message(rules::DURATION_MESSAGE))]
    pub gc_interval: Option<String>,
    /// How long a blob or manifest no image refers to is kept before garbage collection deletes it (an upload in
    /// progress is younger), e.g. `2h`. Defaults to zot's 1h. Needs gc.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    #[x_kube(validation = Rule::new(rules::DURATION_RULE).message(rules::DURATION_MESSAGE))]
    pub gc_delay: Option<String>,
    /// Which tags and untagged images garbage collection deletes, per repository (zot's `storage.retention`).
    /// Unset keeps every tag and deletes untagged manifests after gcDelay, as zot does by default. Needs gc; it
    /// runs with garbage collection, every gcInterval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<RetentionSpec>,
    /// What happens to the data when the ZotArtifactStore is deleted: `Retain` (default) keeps the
    /// PersistentVolumeClaims of filesystem storage and of the embedded database, and never touches a bucket;
    /// `Delete` deletes those claims with the store and, for s3 storage with an accessKeySecret, zot's data under
    /// rootDirectory and a bucket the operator created (unless it holds other objects). A finalizer holds the
    /// store meanwhile; when the clean-up cannot happen (the access key's Secret is gone) or keeps failing for
    /// 15 minutes, the store is let go with a Warning event saying what was left behind. gcs and azure data is
    /// never deleted.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
}

/// zot's retention policies, applied by each garbage collection run.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RetentionSpec {
    /// Log what would be deleted (zot's log, "dry-run") without deleting anything. Defaults to false.
    #[serde(default)]
    pub dry_run: bool,
    /// Age an untagged manifest or a referrer whose subject is gone must reach before it is deleted, e.g. `24h`.
    /// Defaults to gcDelay (zot's 1h). Tags are deleted by their policy at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    #[x_kube(validation = Rule::new(rules::DURATION_RULE).message(rules::DURATION_MESSAGE))]
    pub delay: Option<String>,
    /// The policies. A repository follows the first policy whose `repositories` matches it; a repository no
    /// policy matches keeps all its tags (and its untagged manifests go after `delay`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub policies: Vec<RetentionPolicySpec>,
}

/// One retention policy.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RetentionPolicySpec {
    /// Repository globs this policy applies to, e.g. `team-a/**` or `**` (every repository).
    #[schemars(length(min = 1, max = 64))]
    pub repositories: Vec<String>,
    /// Delete referrers (signatures, SBOMs, attestations) whose subject image is gone, once older than `delay`.
    /// Defaults to false.
    #[serde(default)]
    pub delete_referrers: bool,
    /// Delete manifests no tag points to, once older than `delay`. Defaults to true (zot's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_untagged: Option<bool>,
    /// Which tags to keep. A tag follows the first rule whose patterns match it and is kept when that rule sets
    /// no limit or any of its limits keeps it; a tag no rule matches is deleted. Unset (or empty) keeps every
    /// tag.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    pub keep_tags: Vec<KeepTagsSpec>,
}

/// A rule keeping tags: those matching `patterns` that satisfy any of the limits set (a rule without limits keeps
/// every tag it matches). Pull times are those zot recorded in its metadata database.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KeepTagsSpec {
    /// Tag regular expressions (Go RE2 syntax), e.g. `^v[0-9]+`. Unset matches every tag.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    pub patterns: Vec<String>,
    /// Keep the N most recently pushed matching tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub most_recently_pushed_count: Option<i32>,
    /// Keep the N most recently pulled matching tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub most_recently_pulled_count: Option<i32>,
    /// Keep matching tags pushed within this duration, e.g. `720h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    #[x_kube(validation = Rule::new(rules::DURATION_RULE).message(rules::DURATION_MESSAGE))]
    pub pushed_within: Option<String>,
    /// Keep matching tags pulled within this duration, e.g. `168h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    #[x_kube(validation = Rule::new(rules::DURATION_RULE).message(rules::DURATION_MESSAGE))]
    pub pulled_within: Option<String>,
}

/// Storage backend of zot.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StorageType {
    #[default]
    Filesystem,
    S3,
    Gcs,
    Azure,
}

/// What happens to persistent data when the store is deleted.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeletionPolicy {
    #[default]
    Retain,
    Delete,
}

/// S3 or S3-compatible object storage. Credentials come from a Secret as the AWS_ACCESS_KEY_ID and
/// AWS_SECRET_ACCESS_KEY environment variables of zot; without accessKeySecret zot uses the pod's AWS identity
/// (e.g. IRSA web identity).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct S3Storage {
    /// Endpoint URL of an S3-compatible service, e.g. `https://s3.amazonaws.com` or
    /// `http://minio.minio.svc:9000` (http:// turns TLS off). Defaults to AWS S3 of the region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    #[x_kube(validation = rules::http_url())]
    pub endpoint: Option<String>,
    /// Name of the bucket. With an accessKeySecret the operator creates it (in region, at endpoint) when it does
    /// not exist, before zot starts, and records that in status.storage; without one zot's pod identity must
    /// reach an existing bucket.
    #[schemars(length(min = 3, max = 63))]
    pub bucket: String,
    /// Region of the bucket. Defaults to us-east-1.
    #[serde(default = "default_region")]
    #[schemars(length(min = 1))]
    pub region: String,
    /// Key prefix inside the bucket under which zot keeps its repositories. Defaults to `/zot`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    #[x_kube(validation = Rule::new("self.startsWith('/')").message("must start with /, e.g. /zot"))]
    pub root_directory: Option<String>,
    /// Address buckets as `endpoint/bucket` instead of `bucket.endpoint`; most S3-compatible services need
    /// this. Defaults to true when an endpoint is set, false otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_path_style: Option<bool>,
    /// Secret holding the access key pair, used by zot and by the operator for the bucket (existence, creation,
    /// clean-up). Omit it to use the pod's own AWS identity (the operator then cannot check the bucket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_secret: Option<AccessKeySecret>,
}

fn default_region() -> String {
    "us-east-1".into()
}

/// A Secret holding an S3 access key pair.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AccessKeySecret {
    /// Name of the Secret in the store's namespace.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key of the Secret holding the access key id. Defaults to `access-key`.
    #[serde(default = "default_access_key_field")]
    #[schemars(length(min = 1))]
    pub access_key_field: String,
    /// Key of the Secret holding the secret access key. Defaults to `secret-key`.
    #[serde(default = "default_secret_key_field")]
    #[schemars(length(min = 1))]
    pub secret_key_field: String,
}

fn default_access_key_field() -> String {
    "access-key".into()
}

fn default_secret_key_field() -> String {
    "secret-key".into()
}

/// Google Cloud Storage. Credentials are a service-account key file mounted from a Secret (zot reads it through
/// GOOGLE_APPLICATION_CREDENTIALS); without credentialsSecret zot uses the pod's workload identity.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GcsStorage {
    /// Name of the bucket; it must exist.
    #[schemars(length(min = 3, max = 222))]
    pub bucket: String,
    /// Name of the Secret holding the service-account key file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub credentials_secret: Option<String>,
    /// Key of credentialsSecret holding the JSON key file. Defaults to `credentials.json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub credentials_key: Option<String>,
    /// Key prefix inside the bucket under which zot keeps its repositories. Defaults to `/zot`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    #[x_kube(validation = Rule::new("self.startsWith('/')").message("must start with /, e.g. /zot"))]
    pub root_directory: Option<String>,
}

/// Azure Blob Storage. zot authenticates with Azure's default credential chain: the environment variables
/// AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET taken from credentialsSecret, or the pod's workload
/// identity when credentialsSecret is omitted. Account keys are not used: zot would need them in its config file.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AzureStorage {
    /// Name of the storage account.
    #[schemars(length(min = 3, max = 24))]
    pub account_name: String,
    /// Name of the blob container; it must exist.
    #[schemars(length(min = 3, max = 63))]
    pub container: String,
    /// Name of a Secret whose keys AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET become zot's
    /// environment (a service principal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub credentials_secret: Option<String>,
    /// Key prefix inside the container under which zot keeps its repositories. Defaults to `/zot`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    #[x_kube(validation = Rule::new("self.startsWith('/')").message("must start with /, e.g. /zot"))]
    pub root_directory: Option<String>,
}
