//! `http`: zot's listener, TLS, rate limits and authorization (`accessControl`). Authentication lives in
//! [`crate::zot::auth`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::auth::AuthConfig;

/// `http`: the single listener serving the registry API, the UI, `/metrics` and the health endpoints.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpConfig {
    /// Address to bind; zot defaults to `127.0.0.1`, so a pod needs `0.0.0.0` (or `::`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Public URL of the registry (scheme://host[:port]); used to build OpenID callback URLs behind a proxy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_url: Option<String>,
    /// Port to listen on, as a string (zot defaults to `"8080"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// Origins allowed by CORS (`Access-Control-Allow-Origin`), comma separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_origin: Option<String>,
    /// Maximum time to read a whole request including its body (Go duration); `"0s"` or less disables it.
    /// Unset keeps zot's server default. Large blob uploads need a generous value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_timeout: Option<String>,
    /// Maximum time to write a response (Go duration); `"0s"` or less disables it. Large blob downloads need a
    /// generous value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_timeout: Option<String>,
    /// Serving certificate; with `cacert` set zot also requires and verifies client certificates (mTLS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
    /// Authentication methods (htpasswd, LDAP, bearer, OpenID, API keys, mTLS identities, sessions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthConfig>,
    /// Authorization: per-repository policies, admin policy, groups, metrics access. Present means enforced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_control: Option<AccessControlConfig>,
    /// Realm sent in `WWW-Authenticate: Basic realm=...` challenges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    /// Per-client request rate limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratelimit: Option<RatelimitConfig>,
    /// Non-OCI media types zot accepts on push (Docker schema 2 manifests).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compat: Option<Vec<MediaCompatibility>>,
}

/// A certificate/key pair plus an optional CA bundle (`http.tls`, `cluster.tls`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate (chain) file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert: Option<String>,
    /// PEM private key file for `cert`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// PEM CA bundle: under `http.tls` it turns on client-certificate (mTLS) authentication; under
    /// `cluster.tls` it is the CA used to verify the other members.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cacert: Option<String>,
}

/// `http.ratelimit`: token-bucket limits applied per client.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RatelimitConfig {
    /// Requests per second allowed for any method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<u32>,
    /// Per-HTTP-method overrides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<MethodRatelimit>>,
}

/// One per-method rate limit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MethodRatelimit {
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// Requests per second for that method.
    pub rate: u32,
}

/// Media-type compatibility modes (`http.compat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MediaCompatibility {
    /// Accept Docker image manifest v2 schema 2 (and manifest lists) as pushed, without conversion.
    #[serde(rename = "docker2s2")]
    Docker2s2,
}

/// `http.accessControl`: identity-based authorization. Requires some authentication method unless every
/// policy is an `anonymousPolicy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessControlConfig {
    /// Repository glob (doublestar syntax: `**`, `infra/*`, `prod/**`) → policies. When several globs match
    /// a repository, the longest (most specific) one applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repositories: Option<BTreeMap<String, PolicyGroup>>,
    /// Users/groups granted the listed actions on every repository, overriding repository policies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_policy: Option<Policy>,
    /// Named groups of users (in addition to groups coming from LDAP/OpenID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<BTreeMap<String, Group>>,
    /// Who may read `/metrics` (which is served on zot's main port behind authentication).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<MetricsAccess>,
}

/// Policies for one repository glob.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyGroup {
    /// Grants to specific users/groups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policies: Option<Vec<Policy>>,
    /// Actions every authenticated user gets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_policy: Option<Vec<Action>>,
    /// Actions unauthenticated clients get.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anonymous_policy: Option<Vec<Action>>,
}

/// A grant: these users and groups may perform these actions, if every condition holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Policy {
    /// User names (as the authentication method reports them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<String>>,
    /// Actions granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions: Option<Vec<Action>>,
    /// Group names (from `accessControl.groups`, LDAP or OpenID claims).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    /// CEL expressions over `req` that must all be true for this grant to apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<PolicyCondition>>,
}

/// A CEL condition gating a [`Policy`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyCondition {
    /// Boolean CEL expression over `req` (`req.time`, `req.action`, `req.user.groups`, `req.client.ip` …).
    pub expression: String,
    /// Reason returned in the 403 body when the expression is false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A registry action an access policy grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Pull manifests and blobs, list tags.
    Read,
    /// Push new manifests/tags and blobs.
    Create,
    /// Overwrite an existing tag.
    Update,
    /// Delete manifests and tags.
    Delete,
}

/// A named group of users.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Group {
    /// Members of the group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<String>>,
}

/// `accessControl.metrics`: access to `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricsAccess {
    /// Users allowed to scrape `/metrics`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<String>>,
    /// `["read"]` lets unauthenticated clients scrape `/metrics` (e.g. Prometheus without credentials).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anonymous_policy: Option<Vec<Action>>,
}
