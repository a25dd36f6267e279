//! `storage`: image storage, the storage drivers (S3, GCS, Azure via distribution/v3), the remote metadata
//! and dedupe cache drivers (dynamodb, redis), garbage collection and retention.
//!
//! Metadata/cache database selection in zot v2.1.20:
//! - `remoteCache` false (the default for local storage): an embedded boltdb file under `rootDirectory`. It is
//!   single-writer: only one zot process may use it. There is no `cacheDriver` named `boltdb`; with
//!   `remoteCache` false any `cacheDriver` is ignored (with a warning).
//! - `remoteCache` true (the default when a `storageDriver` is set and `dedupe` is true): `cacheDriver` must be
//!   `dynamodb` (remote storage only) or `redis` (remote storage, or local storage with a single zot).
//! - There is no SQL driver.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Top-level `storage`: the default store plus optional `subPaths`. (zot's `GlobalStorageConfig`.)
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StorageConfig {
    /// Local directory. For local storage it holds the images; with a `storageDriver` it holds only the
    /// boltdb cache/metadata (and sessions), the images live in the bucket. Required by zot for the default
    /// store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_directory: Option<String>,
    /// Quota: maximum number of repositories (0/unset = unlimited).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_repos: Option<u32>,
    /// Deduplicate identical blobs (hard links locally, cache-db references on remote storage). zot's
    /// default is `true`; on a filesystem without hard links zot turns it off with a warning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dedupe: Option<bool>,
    /// Use `cacheDriver` (redis/dynamodb) instead of the embedded boltdb; see the module doc for defaults.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_cache: Option<bool>,
    /// Answer blob GETs with a redirect to a pre-signed URL of the storage backend (S3/GCS/Azure).
    #[serde(rename = "redirectBlobURL", skip_serializing_if = "Option::is_none")]
    pub redirect_blob_url: Option<bool>,
    /// Periodic garbage collection of unreferenced blobs and manifests; zot's default is `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gc: Option<bool>,
    /// fsync every write before acknowledging it (local storage).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<bool>,
    /// Minimum age (Go duration) before an orphan blob is collected; default `1h`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gc_delay: Option<String>,
    /// How often GC runs over all repositories (Go duration); default `1h`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gc_interval: Option<String>,
    /// Daily UTC window `"HH:MM-HH:MM"` in which a periodic GC sweep may start (may wrap midnight).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gc_time_window: Option<String>,
    /// Tag and untagged-manifest retention policies applied by GC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention: Option<RetentionConfig>,
    /// Remote object storage; unset means local storage under `rootDirectory`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_driver: Option<StorageDriver>,
    /// Remote metadata/dedupe database, used when `remoteCache` is true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_driver: Option<CacheDriver>,
    /// Repository path prefix (e.g. `/a`) → its own store. Each needs a distinct `rootDirectory`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_paths: Option<BTreeMap<String, SubPathStorageConfig>>,
    /// Skip the start-up storage walk when neither the zot binary nor the storage config changed since the
    /// last run (the metadb keeps a stamp). Faster restarts; out-of-band changes to storage go unnoticed.
    /// Top-level only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fast_restart: Option<bool>,
}

/// One `storage.subPaths` entry: the same settings as the default store, without `subPaths` and
/// `fastRestart`. (zot's `StorageConfig`.)
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubPathStorageConfig {
    /// See [`StorageConfig::root_directory`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_directory: Option<String>,
    /// See [`StorageConfig::max_repos`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_repos: Option<u32>,
    /// See [`StorageConfig::dedupe`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dedupe: Option<bool>,
    /// See [`StorageConfig::remote_cache`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_cache: Option<bool>,
    /// See [`StorageConfig::redirect_blob_url`].
    #[serde(rename = "redirectBlobURL", skip_serializing_if = "Option::is_none")]
    pub redirect_blob_url: Option<bool>,
    /// See [`StorageConfig::gc`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gc: Option<bool>,
    /// See [`StorageConfig::commit`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<bool>,
    /// See [`StorageConfig::gc_delay`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gc_delay: Option<String>,
    /// See [`StorageConfig::gc_interval`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gc_interval: Option<String>,
    /// See [`StorageConfig::gc_time_window`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gc_time_window: Option<String>,
    /// See [`StorageConfig::retention`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention: Option<RetentionConfig>,
    /// See [`StorageConfig::storage_driver`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_driver: Option<StorageDriver>,
    /// See [`StorageConfig::cache_driver`]; subpaths accept only `dynamodb`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_driver: Option<CacheDriver>,
}

/// `storage.retention`: which tags and untagged manifests GC keeps. Tag policies need the metadb.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetentionConfig {
    /// Log what would be deleted without deleting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    /// Minimum age (Go duration) of referrers and untagged manifests before deletion; default `24h`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay: Option<String>,
    /// Policies; the first whose `repositories` matches a repository applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policies: Option<Vec<RetentionPolicy>>,
}

/// One retention policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetentionPolicy {
    /// Repository globs this policy applies to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repositories: Option<Vec<String>>,
    /// Delete referrers (signatures, SBOMs) whose subject is gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_referrers: Option<bool>,
    /// Delete untagged manifests; zot's default is `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_untagged: Option<bool>,
    /// Tags to keep; a tag matched by none of these rules is deleted. Unset keeps all tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_tags: Option<Vec<KeepTagsPolicy>>,
    /// Untagged manifests to keep despite `deleteUntagged`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_untagged: Option<KeepUntaggedPolicy>,
}

/// A keep-tags rule: tags matching `patterns` that satisfy any of the limits are kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeepTagsPolicy {
    /// Tag regexes; unset matches every tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patterns: Option<Vec<String>>,
    /// Keep tags pulled within this Go duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pulled_within: Option<String>,
    /// Keep tags pushed within this Go duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pushed_within: Option<String>,
    /// Keep the N most recently pushed matching tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub most_recently_pushed_count: Option<u32>,
    /// Keep the N most recently pulled matching tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub most_recently_pulled_count: Option<u32>,
}

/// Which untagged manifests to keep.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeepUntaggedPolicy {
    /// Keep untagged manifests pulled within this Go duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pulled_within: Option<String>,
    /// Keep untagged manifests pushed within this Go duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pushed_within: Option<String>,
    /// Keep the N most recently pushed untagged manifests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub most_recently_pushed_count: Option<u32>,
    /// Keep the N most recently pulled untagged manifests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub most_recently_pulled_count: Option<u32>,
}

/// `storageDriver`, tagged by `name`. zot passes the map to the distribution/v3 driver factory; parameter
/// names are the drivers' own (all lower case).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "lowercase")]
pub enum StorageDriver {
    /// Amazon S3 or an S3-compatible service.
    S3(S3Driver),
    /// Google Cloud Storage.
    Gcs(GcsDriver),
    /// Azure Blob Storage.
    Azure(AzureDriver),
}

/// distribution/v3 `s3` driver parameters.
///
/// Credentials: `accesskey`/`secretkey`/`sessiontoken` are deliberately not modelled. With them omitted the
/// AWS SDK default chain is used: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`) env
/// vars, `AWS_WEB_IDENTITY_TOKEN_FILE`+`AWS_ROLE_ARN` (IRSA), shared config files, or the instance role.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Driver {
    /// Prefix inside the bucket under which zot stores everything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rootdirectory: Option<String>,
    /// AWS region (required; any value for most S3-compatible services).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Endpoint of an S3-compatible service (`host:port` or URL); unset uses AWS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regionendpoint: Option<String>,
    /// Bucket name (must exist).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// Path-style addressing (`endpoint/bucket`), needed by most S3-compatible services. zot sets it to
    /// `true` when `regionendpoint` is set and this is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forcepathstyle: Option<bool>,
    /// Use HTTPS (default `true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secure: Option<bool>,
    /// Do not verify the endpoint's TLS certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipverify: Option<bool>,
    /// Server-side encryption.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encrypt: Option<bool>,
    /// KMS key id for server-side encryption.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyid: Option<String>,
    /// S3 storage class (e.g. `STANDARD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storageclass: Option<String>,
    /// Multipart upload chunk size in bytes (minimum 5 MiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunksize: Option<u64>,
}

/// distribution/v3 `gcs` driver parameters.
///
/// Credentials: `keyfile` (path to a service-account JSON key) or, when unset, Google Application Default
/// Credentials (`GOOGLE_APPLICATION_CREDENTIALS` pointing at a mounted key file, or GKE workload identity).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcsDriver {
    /// Prefix inside the bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rootdirectory: Option<String>,
    /// Bucket name (must exist).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// Path of a service-account JSON key file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyfile: Option<String>,
    /// The key zot's own `config-gcs.json` example uses. The distribution/v3 gcs driver zot links reads
    /// `keyfile`, not this key, so it has no effect there (zot does not refuse it because `storageDriver` is
    /// a free-form map). Render `keyfile` or set `GOOGLE_APPLICATION_CREDENTIALS` instead.
    #[serde(rename = "credentialsFile", skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<String>,
    /// Upload chunk size in bytes (multiple of 256 KiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunksize: Option<u64>,
    /// Maximum concurrent GCS operations (default 50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maxconcurrency: Option<u32>,
}

/// distribution/v3 `azure` driver parameters.
///
/// Credentials (`credentials.type`):
/// - `default_credentials`: azidentity `DefaultAzureCredential` — env vars `AZURE_CLIENT_ID` +
///   `AZURE_TENANT_ID` + `AZURE_CLIENT_SECRET` (or `AZURE_CLIENT_CERTIFICATE_PATH`), AKS workload identity
///   (`AZURE_FEDERATED_TOKEN_FILE`), or managed identity. This is the only way to keep the secret out of the
///   config file.
/// - `client_secret`: `clientid`/`tenantid` plus an inline `secret` (not modelled: inline secret).
/// - `shared_key`: the storage account key inline as `accountkey` (not modelled: inline secret). The driver
///   does not read the account key from any env var.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureDriver {
    /// Prefix inside the container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rootdirectory: Option<String>,
    /// Storage account name (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accountname: Option<String>,
    /// Blob container name (required, must exist).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// How the driver authenticates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<AzureCredentials>,
    /// Azure cloud domain (default `core.windows.net`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    /// Blob service URL; default `https://<accountname>.blob.<realm>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serviceurl: Option<String>,
}

/// Azure driver `credentials`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureCredentials {
    /// Credential type.
    #[serde(rename = "type")]
    pub kind: AzureCredentialsType,
    /// Entra application (client) id, for `client_secret`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clientid: Option<String>,
    /// Entra tenant id, for `client_secret`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenantid: Option<String>,
}

/// Azure driver credential types.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AzureCredentialsType {
    /// `DefaultAzureCredential` (env vars, workload identity, managed identity).
    #[default]
    DefaultCredentials,
    /// Service principal with an inline client secret.
    ClientSecret,
    /// Storage account key inline.
    SharedKey,
}

/// `cacheDriver`, tagged by `name`: the remote database for dedupe references and zot's metadata (repo
/// metadata, user data, API keys) when `remoteCache` is true.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "lowercase")]
// Built once per reconcile and never held in bulk; boxing the redis options would only cost ergonomics.
#[allow(clippy::large_enum_variant)]
pub enum CacheDriver {
    /// AWS DynamoDB (remote storage only). Tables are created by zot if missing.
    Dynamodb(DynamoDbDriver),
    /// Redis (cluster, sentinel or single node). `keyprefix` defaults to `zot`.
    Redis(RedisConfig),
}

/// `cacheDriver` with `name: dynamodb`. Credentials come from the AWS SDK default chain (env vars, IRSA,
/// shared files, instance role) — there are no credential keys. All table names except `cacheTablename`
/// are needed for the metadb (search/UI, API keys, user preferences, retention).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DynamoDbDriver {
    /// DynamoDB endpoint URL, e.g. `https://dynamodb.us-east-2.amazonaws.com`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// AWS region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Table of blob digest → location (dedupe cache).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_tablename: Option<String>,
    /// Repository metadata table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo_meta_tablename: Option<String>,
    /// Image (manifest/index) metadata table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_meta_tablename: Option<String>,
    /// Per-repository blob info table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo_blobs_info_tablename: Option<String>,
    /// User data (stars, bookmarks) table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_data_tablename: Option<String>,
    /// API keys table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_tablename: Option<String>,
    /// Schema version table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_tablename: Option<String>,
}

/// Redis connection settings, shared by `cacheDriver` and `http.auth.sessionDriver` (name `redis`).
///
/// Either `url` (`redis://` or `rediss://` for TLS; extra `addr=` query parameters make it a cluster URL) or
/// the go-redis `UniversalOptions` keys below (several `addr` = cluster, with `master_name` = sentinel).
/// The password can only be given inline (`password`, or in `url`): zot reads it from no env var or file,
/// so the rendered config must be stored as a Secret. TLS other than via a `rediss://` URL is not
/// configurable.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// Connection URL; when set, the option keys below (other than `keyprefix`) are ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Prefix of every key zot writes (`zot` for the cache, `zotsession` for sessions by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyprefix: Option<String>,
    /// `host:port` addresses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<Vec<String>>,
    /// Client name sent with `CLIENT SETNAME`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// Database number (single node / sentinel).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db: Option<u32>,
    /// RESP protocol version (2 or 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<u8>,
    /// ACL user name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Password (inline only; see the type doc).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Sentinel ACL user name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentinel_username: Option<String>,
    /// Sentinel password (inline only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentinel_password: Option<String>,
    /// Retries before giving up (-1 disables retries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<i32>,
    /// Minimum retry backoff (Go duration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_retry_backoff: Option<String>,
    /// Maximum retry backoff (Go duration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_retry_backoff: Option<String>,
    /// Dial timeout (Go duration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dial_timeout: Option<String>,
    /// Read timeout (Go duration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_timeout: Option<String>,
    /// Write timeout (Go duration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_timeout: Option<String>,
    /// Honour context deadlines on commands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_timeout_enabled: Option<bool>,
    /// FIFO instead of LIFO connection pool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool_fifo: Option<bool>,
    /// Connections per node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool_size: Option<u32>,
    /// Wait for a free pool connection (Go duration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool_timeout: Option<String>,
    /// Idle connections kept open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_idle_conns: Option<u32>,
    /// Maximum idle connections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_idle_conns: Option<u32>,
    /// Maximum connections per node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_active_conns: Option<u32>,
    /// Close connections idle this long (Go duration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conn_max_idle_time: Option<String>,
    /// Close connections this old (Go duration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conn_max_lifetime: Option<String>,
    /// Cluster: maximum MOVED/ASK redirects followed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_redirects: Option<u32>,
    /// Cluster: allow read-only commands on replicas.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    /// Cluster: route read-only commands to the closest node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_by_latency: Option<bool>,
    /// Cluster: route read-only commands to a random node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_randomly: Option<bool>,
    /// Sentinel master name (turns on failover mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_name: Option<String>,
    /// Do not send `CLIENT SETINFO` on connect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_identity: Option<bool>,
    /// Suffix appended to the client library name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_suffix: Option<String>,
    /// Enable unstable RESP3 features.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unstable_resp3: Option<bool>,
}
