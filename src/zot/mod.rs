//! Typed model of zot's configuration file (upstream zot v2.1.20).
//!
//! zot loads its config with viper's `UnmarshalExact`: a key it does not know makes it refuse to start, so
//! these types hold only keys zot v2.1.20 really reads, spelled as zot's own examples spell them. Sources:
//! `pkg/api/config/config.go`, `pkg/extensions/config/**`, `pkg/api/config/redis/redis.go`, the metadb and
//! cache drivers, the distribution/v3 storage drivers zot links, and the v2.1.20 `examples/*.json`
//! (`tests/zot_examples.rs` round-trips every one of them through these types).
//!
//! Conventions:
//! - Every key is optional on the wire (`Option<T>`, omitted when `None`), so a rendering emits exactly what the
//!   operator set and zot applies its own defaults to the rest. Where zot's default is surprising (e.g. `dedupe`
//!   and `gc` default to `true`) the field's doc says so.
//! - Durations are Go duration strings (`"24h"`, `"90m"`, `"10s"`), kept as `String`.
//! - viper lower-cases every key, including map keys (repository globs, subpath prefixes, provider names, HTTP
//!   header names): keys are case-insensitive to zot, and the spelling here is the one zot's examples use.
//! - `storageDriver`, `cacheDriver` and `auth.sessionDriver` are free-form maps in zot (unknown keys in them are
//!   silently ignored, not refused); they are modelled as enums tagged by `name`, holding the parameters the
//!   driver really reads. Parameters that can only carry a secret inline (S3 `accesskey`/`secretkey`, Azure
//!   `accountkey`/`secret`, OpenID `clientsecret`, event-sink `password`/`token`) are deliberately not modelled:
//!   the operator hands secrets to zot through env vars or mounted files (see each driver's doc).
//!
//! Build-info fields of zot's Go `Config` (`goVersion`, `commit`, `releaseTag`, `binaryType`) are decodable
//! from the file but are overwritten build metadata, so they are not modelled.

use serde::{Deserialize, Serialize};

pub mod auth;
pub mod extensions;
pub mod files;
pub mod http;
pub mod storage;

pub use auth::*;
pub use extensions::*;
pub use files::*;
pub use http::*;
pub use storage::*;

/// The OCI distribution-spec version zot v2.1.20 implements; every v2.1.20 example declares it. zot logs a
/// warning and uses its own value when the file says something else.
pub const DIST_SPEC_VERSION: &str = "1.1.1";

/// zot's whole configuration file (`config.json`), top-level keys in zot's order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ZotConfig {
    /// OCI distribution-spec version the file was written for; set it to [`DIST_SPEC_VERSION`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dist_spec_version: Option<String>,
    /// Where and how images are stored (root directory, storage and cache drivers, GC, retention, subpaths).
    pub storage: StorageConfig,
    /// The HTTP listener: address, port, TLS, authentication, authorization, rate limits.
    pub http: HttpConfig,
    /// Logging (level, output file, audit log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<LogConfig>,
    /// Optional features (search/CVE, sync, metrics, scrub, lint, UI, trust, events). Only honoured by a full
    /// (not `-minimal`) zot image built with the matching extension tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<ExtensionsConfig>,
    /// Background task scheduler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<SchedulerConfig>,
    /// Scale-out cluster: identical on every member; zot hashes repository names to members and proxies
    /// requests to the owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterConfig>,
}

impl ZotConfig {
    /// Renders the config as pretty JSON; keys come out in struct order (maps sorted), so equal configs
    /// render byte for byte the same and a config hash is stable.
    pub fn to_json(&self) -> String {
        #[allow(clippy::expect_used)]
        serde_json::to_string_pretty(self).expect(
            "ZotConfig serializes: every map key is a String and no field has a fallible Serialize",
        )
    }
}

/// `log`: zot's zerolog logger.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogConfig {
    /// Minimum level logged; zot defaults to `debug`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<LogLevel>,
    /// File to log to; unset logs JSON lines to stdout (what a container wants).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// File for the audit log (one record per mutating request); unset disables audit logging.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<String>,
}

/// zerolog level names zot accepts (`zerolog.ParseLevel`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Most verbose.
    Trace,
    /// zot's default.
    #[default]
    Debug,
    /// Normal operation.
    Info,
    /// Warnings and errors only.
    Warn,
    /// Errors only.
    Error,
}

/// `scheduler`: zot's background task scheduler (GC, scrub, sync, CVE scans, metadb tasks).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SchedulerConfig {
    /// Number of worker goroutines; zot defaults to 4 × the number of CPUs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_workers: Option<u32>,
}

/// `cluster`: scale-out. Every member gets the same list; zot finds itself in `members` by matching its own
/// interface addresses and port, and a member name that does not resolve at start-up makes zot panic.
/// With remote storage (S3/GCS/Azure) the members also share a remote metadata DB (redis or dynamodb); with
/// local storage each member stores only the repositories it owns. CVE scanning and the trust extension are
/// not supported in a cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterConfig {
    /// `host:port` of every member, in the same order on every member.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<String>>,
    /// SipHash key used to pick a repository's owner: exactly 16 bytes, identical on every member.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_key: Option<String>,
    /// Client TLS used when proxying to another member (`cacert` to trust the members' serving certs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
