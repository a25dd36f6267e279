//! `extensions`: features outside the distribution spec. They work only in a full zot image built with the
//! matching tags (`search`, `sync`, `scrub`, `metrics`, `lint`, `mgmt`, `userprefs`, `imagetrust`, `events`,
//! `ui`); a `-minimal` image ignores this section.
//!
//! There is no `userprefs` key: user preferences (stars, bookmarks) and the `mgmt` endpoint are on whenever
//! both `search` and `ui` are enabled.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `extensions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExtensionsConfig {
    /// GraphQL search (needed by the UI) and CVE scanning with trivy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<SearchConfig>,
    /// Mirroring from other registries (periodic and on-demand pull-through).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync: Option<SyncConfig>,
    /// Prometheus metrics, served on zot's main port (not a separate port) behind its authentication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<MetricsConfig>,
    /// Periodic integrity check of manifests and blobs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrub: Option<ScrubConfig>,
    /// Refuse pushes of manifests lacking mandatory annotations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lint: Option<LintConfig>,
    /// The web UI (requires `search` enabled, else zot refuses to start).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ui: Option<UiConfig>,
    /// Deprecated: accepted but ignored (with a warning); mgmt is on with search + ui.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mgmt: Option<EnableOnly>,
    /// Deprecated: accepted but ignored (with a warning); use `http.auth.apikey`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apikey: Option<EnableOnly>,
    /// Signature verification (cosign public keys, notation certificates uploaded through zot's API).
    /// Not supported with `cluster`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust: Option<TrustConfig>,
    /// CloudEvents about registry changes, pushed to HTTP or NATS sinks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<EventsConfig>,
}

/// An extension whose only setting is `enable`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnableOnly {
    /// Turns the extension on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
}

/// `extensions.search`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchConfig {
    /// Turns search on; defaults to `true` when the `search` section is present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
    /// CVE scanning; present (with search enabled) means on. zot v2.1.x refuses CVE scanning together with a
    /// `storageDriver` (remote storage) and in a `cluster`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cve: Option<CveConfig>,
}

/// `extensions.search.cve`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CveConfig {
    /// How often the trivy DB is refreshed (Go duration); values under `2h` are raised to `2h`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_interval: Option<String>,
    /// trivy settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trivy: Option<TrivyConfig>,
}

/// `extensions.search.cve.trivy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrivyConfig {
    /// OCI repository of the vulnerability DB; default `ghcr.io/aquasecurity/trivy-db` (mirror it for
    /// disconnected clusters).
    #[serde(rename = "dbRepository", skip_serializing_if = "Option::is_none")]
    pub db_repository: Option<String>,
    /// OCI repository of the Java DB; default `ghcr.io/aquasecurity/trivy-java-db`.
    #[serde(rename = "javaDBRepository", skip_serializing_if = "Option::is_none")]
    pub java_db_repository: Option<String>,
    /// Severity sources in priority order (`auto`, `nvd`, vendor ids …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vuln_severity_sources: Option<Vec<String>>,
    /// Generate an SBOM for each pushed image with trivy and store it as a referrer artifact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sbom: Option<SbomConfig>,
}

/// `extensions.search.cve.trivy.sbom`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SbomConfig {
    /// Turns SBOM generation on. In v2.1.20 it also widens trivy's scan options (comprehensive detection),
    /// which changes the CVEs reported for the same image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
    /// trivy output format of the SBOM: `spdx-json` or `cyclonedx`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// `extensions.metrics`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricsConfig {
    /// Turns metrics on; defaults to `true` when the section is present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
    /// Prometheus exposition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<PrometheusConfig>,
}

/// `extensions.metrics.prometheus`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrometheusConfig {
    /// HTTP path of the metrics endpoint on zot's main port; default `/metrics`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// `extensions.scrub`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScrubConfig {
    /// Turns scrub on; defaults to `true` when the section is present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
    /// Interval between scrubs (Go duration); default `24h`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
}

/// `extensions.lint`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LintConfig {
    /// Turns lint on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
    /// Annotation keys every pushed manifest (or its config labels) must carry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mandatory_annotations: Option<Vec<String>>,
}

/// `extensions.ui`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UiConfig {
    /// Turns the UI on; defaults to `true` when the section is present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
}

/// `extensions.trust`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrustConfig {
    /// Turns the extension on; defaults to `true` when the section is present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
    /// Verify cosign signatures against uploaded public keys (`/v2/_zot/ext/cosign`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cosign: Option<bool>,
    /// Verify notation signatures against uploaded certificates (`/v2/_zot/ext/notation`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notation: Option<bool>,
}

/// `extensions.events`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventsConfig {
    /// Turns event emission on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
    /// Destinations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sinks: Option<Vec<EventSink>>,
}

/// One event sink.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventSink {
    /// Sink kind.
    #[serde(rename = "type")]
    pub kind: EventSinkType,
    /// HTTP URL or `nats://host:port`.
    pub address: String,
    /// NATS subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Delivery timeout (Go duration); HTTP defaults to `30s`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// HTTP proxy URL for an HTTP sink.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    /// Extra HTTP headers (viper lower-cases the names).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    /// Sink authentication. Inline `password`/`token` keys exist in zot but are not modelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<EventSinkCredentials>,
    /// Client TLS for the sink (zot's embedded `TLSConfig` struct; keys are case-insensitive).
    #[serde(rename = "tlsConfig", skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<EventSinkTls>,
}

/// Event sink kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventSinkType {
    /// POST CloudEvents to a URL.
    Http,
    /// Publish to a NATS subject.
    Nats,
}

/// Event sink credentials without inline secrets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventSinkCredentials {
    /// User name for basic auth.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// File holding the credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// Event sink client TLS files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventSinkTls {
    /// PEM CA bundle to verify the sink.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_cert_file: Option<String>,
    /// PEM client certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<String>,
    /// PEM client key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<String>,
}

/// `extensions.sync`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncConfig {
    /// Turns sync on; defaults to `true` when the section is present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
    /// JSON file of registry `host[:port]` → `{username, password}` ([`crate::zot::SyncCredentialsFile`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<String>,
    /// Local staging directory; required when the store uses a `storageDriver`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_dir: Option<String>,
    /// Upstream registries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registries: Option<Vec<SyncRegistry>>,
}

/// One upstream registry to sync from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncRegistry {
    /// Mirror URLs of the same registry, tried in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
    /// Periodic sync interval (Go duration); unset disables periodic sync.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll_interval: Option<String>,
    /// What to sync; unset syncs everything (periodic) or whatever is requested (on demand).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<Vec<SyncContent>>,
    /// Verify the upstream TLS certificate (default `true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_verify: Option<bool>,
    /// Pull-through: fetch an image from upstream when a client asks for one zot lacks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_demand: Option<bool>,
    /// Directory with `ca.crt` / `client.cert` / `client.key` for the upstream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_dir: Option<String>,
    /// Retries for failed requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// Delay between retries (Go duration); required with `maxRetries`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_delay: Option<String>,
    /// Cap of exponential retry backoff (Go duration); unset keeps a fixed `retryDelay`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_retry_delay: Option<String>,
    /// Sync only images carrying a verifiable signature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub only_signed: Option<bool>,
    /// Also sync legacy cosign `sha256-<digest>.sig/.sbom` tags (default `true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_legacy_cosign_tags: Option<bool>,
    /// Credential helper instead of `credentialsFile`: `ecr`, `gcp` or `oauth2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_helper: Option<String>,
    /// Settings of the `oauth2` credential helper.
    #[serde(
        rename = "oauth2CredentialHelper",
        skip_serializing_if = "Option::is_none"
    )]
    pub oauth2_credential_helper: Option<OAuth2CredentialHelper>,
    /// Keep upstream digests (no conversion of Docker manifests to OCI); needs `http.compat` for Docker
    /// images.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preserve_digest: Option<bool>,
    /// Overall HTTP client timeout for sync operations (Go duration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_timeout: Option<String>,
}

/// A sync content rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncContent {
    /// Upstream repository glob (e.g. `/library/**`).
    pub prefix: String,
    /// Tag filters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<SyncTags>,
    /// Local repository path to store under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// Drop the matched prefix when storing under `destination`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strip_prefix: Option<bool>,
}

/// Tag filters of a sync content rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncTags {
    /// Tags must match this regex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// Tags matching this regex are skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude_regex: Option<String>,
    /// Only semver tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub semver: Option<bool>,
}

/// `oauth2CredentialHelper`: exchanges an assertion for a short-lived registry token. Exactly one of
/// `assertionFile` (a JWT rotated by the platform, e.g. a projected service-account token) and `signingFile`
/// ([`crate::zot::SyncOAuth2SigningFile`]) is required. zot decodes this map strictly (unknown keys are
/// refused).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuth2CredentialHelper {
    /// OAuth2 token endpoint.
    #[serde(rename = "tokenURL", skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    /// File with a pre-signed JWT assertion, re-read on every refresh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assertion_file: Option<String>,
    /// File with a private key and claims used to mint assertions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_file: Option<String>,
    /// `client_credentials` (default), `urn:ietf:params:oauth:grant-type:jwt-bearer` or
    /// `urn:ietf:params:oauth:grant-type:token-exchange`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_type: Option<String>,
    /// OAuth2 client id.
    #[serde(rename = "clientID", skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// File holding the OAuth2 client secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_file: Option<String>,
    /// Scopes requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// Registry user name paired with the token (default `<token>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Token-exchange only: target audience (required there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Token-exchange only: subject token type URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_token_type: Option<String>,
    /// Token-exchange only: requested token type URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_token_type: Option<String>,
}
