//! zot's optional extensions: search (and its vulnerability scanner), sync, scrub and lint.
use kube::KubeSchema;
use serde::{Deserialize, Serialize};

use super::messages;

use super::common::SecretKeyRef;

/// A Go duration such as `24h`, `90m` or `1h30m`, as zot reads it.
use super::rules::{DURATION_MESSAGE, DURATION_RULE};

/// zot's optional extensions.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExtensionsSpec {
    /// Search: the GraphQL search API used by zot's CLI and UI, indexing of signatures and SBOMs, and the
    /// vulnerability scanner.
    #[serde(default)]
    pub search: SearchSpec,
    /// Sync: mirror images from other registries, periodically or on demand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<SyncSpec>,
    /// Scrub: periodically verify the integrity of stored blobs and manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrub: Option<ScrubSpec>,
    /// Lint: refuse pushes of images that miss mandatory annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lint: Option<LintSpec>,
}

/// The search extension.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SearchSpec {
    /// Turn search on. Defaults to true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Vulnerability scanning with zot's embedded Trivy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cve: Option<CveSpec>,
}

impl Default for SearchSpec {
    fn default() -> Self {
        Self {
            enabled: true,
            cve: None,
        }
    }
}

fn yes() -> bool {
    true
}

/// Vulnerability scanning by zot's embedded Trivy, with filesystem storage only. zot downloads Trivy's
/// vulnerability database (and its Java database) as OCI artifacts at start and every updateInterval, from
/// ghcr.io unless dbRepository and javaDbRepository name a mirror (HTTPS, with a certificate zot trusts: what a
/// disconnected cluster needs, e.g. `oras cp ghcr.io/aquasecurity/trivy-db:2 mirror.example.com/trivy-db:2`).
/// Until zot has a database it scans nothing: its search API answers CVE queries with "cve-db is not present",
/// no SBOM is generated, and zot logs "failed to download trivy-db" after each failed download.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CveSpec {
    /// Turn vulnerability scanning on. Defaults to false; supplyChain.sbom turns it on.
    #[serde(default)]
    pub enabled: bool,
    /// How often the vulnerability database is refreshed, at least 2h. Defaults to 24h.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    #[x_kube(validation = Rule::new(DURATION_RULE).message(DURATION_MESSAGE))]
    pub update_interval: Option<String>,
    /// OCI repository of Trivy's vulnerability database, e.g. `mirror.example.com/aquasecurity/trivy-db` (no
    /// scheme; tag `2`, the schema zot's Trivy reads, unless a tag is given). Defaults to
    /// `ghcr.io/aquasecurity/trivy-db`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 512))]
    #[x_kube(validation = Rule::new(OCI_REPOSITORY_RULE).message(OCI_REPOSITORY_MESSAGE))]
    pub db_repository: Option<String>,
    /// OCI repository of Trivy's Java database (used for JAR files), e.g.
    /// `mirror.example.com/aquasecurity/trivy-java-db` (tag `1` unless a tag is given). Defaults to
    /// `ghcr.io/aquasecurity/trivy-java-db`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 512))]
    #[x_kube(validation = Rule::new(OCI_REPOSITORY_RULE).message(OCI_REPOSITORY_MESSAGE))]
    pub java_db_repository: Option<String>,
}

/// An OCI repository reference without scheme: a registry host (with a dot or a port), a path, an optional tag.
/// zot exits at start on a reference it cannot parse.
const OCI_REPOSITORY_RULE: &str = "self.matches('^[a-z0-9]+([.-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$')";
const OCI_REPOSITORY_MESSAGE: &str = messages::OCI_REPOSITORY;

/// The sync extension.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!self.enabled || size(self.registries) > 0").message(messages::SYNC_NEEDS_REGISTRY))]
pub struct SyncSpec {
    /// Turn sync on. Defaults to false.
    #[serde(default)]
    pub enabled: bool,
    /// Secret key holding zot's sync credentials file: JSON mapping each registry host to
    /// {"username": …, "password": …}. It is mounted into zot, never copied into its config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<SecretKeyRef>,
    /// Registries to mirror from.
    #[serde(default)]
    #[schemars(length(max = 32))]
    pub registries: Vec<SyncRegistry>,
}

/// A registry to mirror from.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.onDemand || has(self.pollInterval)")
    .message("a periodic sync needs pollInterval (e.g. 6h); set onDemand: true to fetch images only when they are pulled"))]
pub struct SyncRegistry {
    /// URLs of the registry, tried in order, e.g. `https://registry-1.docker.io`.
    #[schemars(length(min = 1))]
    pub urls: Vec<String>,
    /// Fetch an image when a client pulls it and zot does not have it yet. Defaults to false.
    #[serde(default)]
    pub on_demand: bool,
    /// How often to copy the content below, e.g. `6h`. Without it only on-demand fetching happens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    #[x_kube(validation = Rule::new(DURATION_RULE).message(DURATION_MESSAGE))]
    pub poll_interval: Option<String>,
    /// Verify the registry's TLS certificate. Defaults to true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_verify: Option<bool>,
    /// Copy only signed images. Defaults to false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_signed: Option<bool>,
    /// Attempts per image before giving up. Defaults to zot's own setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub max_retries: Option<i32>,
    /// Pause between attempts, e.g. `5m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    #[x_kube(validation = Rule::new(DURATION_RULE).message(DURATION_MESSAGE))]
    pub retry_delay: Option<String>,
    /// Which repositories to copy. Empty copies everything.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 128))]
    pub content: Vec<SyncContent>,
}

/// Repositories to copy from a registry.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SyncContent {
    /// Repository glob on the remote registry, e.g. `library/**`.
    #[schemars(length(min = 1))]
    pub prefix: String,
    /// Repository path in zot under which the copies are stored. Defaults to the remote path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// Remove the prefix from the remote path when storing. Defaults to false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strip_prefix: Option<bool>,
    /// Which tags to copy. Defaults to all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<SyncTags>,
}

/// Which tags to copy.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SyncTags {
    /// Copy only tags matching this regular expression, e.g. `^v?[0-9.]+$`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// Copy only tags that are semantic versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semver: Option<bool>,
}

/// The scrub extension.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScrubSpec {
    /// Turn scrubbing on. Defaults to false.
    #[serde(default)]
    pub enabled: bool,
    /// How often to scrub, e.g. `24h` (zot's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    #[x_kube(validation = Rule::new(DURATION_RULE).message(DURATION_MESSAGE))]
    pub interval: Option<String>,
}

/// The lint extension.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LintSpec {
    /// Turn lint on. Defaults to false.
    #[serde(default)]
    pub enabled: bool,
    /// Annotations every pushed image manifest must carry, e.g. `org.opencontainers.image.source`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mandatory_annotations: Vec<String>,
}
