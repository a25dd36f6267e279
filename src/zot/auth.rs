//! `http.auth`: zot's authentication methods. Secrets never appear here: htpasswd, LDAP bind credentials,
//! OpenID client credentials and session keys are read by zot from files (see [`crate::zot::files`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::storage::RedisConfig;

/// `http.auth`. Several methods can be enabled together.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthConfig {
    /// Seconds zot waits before answering a failed login (slows password guessing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail_delay: Option<u32>,
    /// Basic authentication against an htpasswd (bcrypt) file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub htpasswd: Option<HtpasswdConfig>,
    /// Basic authentication against an LDAP directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ldap: Option<LdapConfig>,
    /// Bearer tokens: from an external token service (Docker token auth) and/or OIDC workload identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer: Option<BearerConfig>,
    /// Browser login through OpenID Connect / OAuth2 providers (needs the UI or API keys to be useful for
    /// `docker login`; zot turns API keys on whenever OpenID is configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub openid: Option<OpenIdConfig>,
    /// Lets logged-in users mint API keys, usable as Basic-auth passwords by CLI clients.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apikey: Option<bool>,
    /// JSON file with `hashKey` (and optional `encryptKey`) for session cookies
    /// ([`crate::zot::SessionKeys`]). Unset: random keys per process, so sessions do not survive a restart
    /// or work across replicas.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_keys_file: Option<String>,
    /// Where browser sessions are stored; unset keeps them on local disk (or in cookies with remote
    /// storage). Use redis to share sessions between replicas.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_driver: Option<SessionDriver>,
    /// Set the `Secure` flag on session cookies when zot itself serves plain HTTP (e.g. behind a TLS
    /// terminating Route). With `http.tls` set cookies are always secure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secure_session: Option<bool>,
    /// How a verified client certificate (with `http.tls.cacert`) maps to a user name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtls: Option<MtlsConfig>,
}

/// `http.auth.htpasswd`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HtpasswdConfig {
    /// htpasswd file (bcrypt entries); zot watches it and reloads on change.
    pub path: String,
}

/// `http.auth.ldap`. Bind credentials come from `credentialsFile` ([`crate::zot::LdapCredentials`]); without
/// it zot binds anonymously.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LdapConfig {
    /// JSON file holding `bindDN` and `bindPassword`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<String>,
    /// LDAP server port (389, 636 …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Plain, unencrypted LDAP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    /// Upgrade the connection with StartTLS (otherwise LDAPS when not `insecure`).
    #[serde(rename = "startTLS", skip_serializing_if = "Option::is_none")]
    pub start_tls: Option<bool>,
    /// Do not verify the server certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_verify: Option<bool>,
    /// Search the whole subtree under `baseDN` instead of one level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtree_search: Option<bool>,
    /// LDAP server host name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Attribute listing a user's groups (e.g. `memberOf`), used as group names in policies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_group_attribute: Option<String>,
    /// Base DN of the user search.
    #[serde(rename = "baseDN", skip_serializing_if = "Option::is_none")]
    pub base_dn: Option<String>,
    /// Attribute matched against the login name (e.g. `uid`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_attribute: Option<String>,
    /// Extra LDAP filter ANDed into the user search.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_filter: Option<String>,
    /// PEM CA bundle used to verify the LDAP server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cacert: Option<String>,
}

/// `http.auth.bearer`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BearerConfig {
    /// Token endpoint advertised in `WWW-Authenticate: Bearer realm=...`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    /// Service name advertised to clients and expected as the token audience.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Proxy zot's own token endpoint to an upstream token service for credentials zot does not own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_token_endpoint: Option<UpstreamTokenEndpoint>,
    /// PEM certificate whose public key verifies tokens from the external token service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert: Option<String>,
    /// OIDC issuers whose ID tokens are accepted directly (workload identity, e.g. Kubernetes service
    /// account tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oidc: Option<Vec<BearerOidcConfig>>,
    /// Fetch token verification keys from AWS Secrets Manager instead of `cert`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_secrets_manager: Option<AwsSecretsManagerConfig>,
}

/// `http.auth.bearer.upstreamTokenEndpoint`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpstreamTokenEndpoint {
    /// Upstream token endpoint URL (HTTPS unless `allowInsecureHttp`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    /// Service name sent upstream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Allow a plain-HTTP upstream endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_insecure_http: Option<bool>,
}

/// One trusted OIDC issuer for bearer (workload identity) authentication.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BearerOidcConfig {
    /// Issuer URL (discovery at `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    /// Accepted `aud` values; at least one is required.
    pub audiences: Vec<String>,
    /// CEL validation and mapping of claims to a user name and groups. Default user name:
    /// `claims.iss + '/' + claims.sub`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_mapping: Option<CelClaimMapping>,
    /// Inline PEM CA for the issuer's TLS (exclusive with `certificateAuthorityFile`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_authority: Option<String>,
    /// PEM CA file for the issuer's TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_authority_file: Option<String>,
    /// Skip issuer verification (testing only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_issuer_verification: Option<bool>,
}

/// CEL claim validation and mapping for bearer OIDC tokens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CelClaimMapping {
    /// Named CEL expressions evaluated first, usable as `vars.<name>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variables: Option<Vec<CelVariable>>,
    /// Boolean CEL expressions that must all hold, with the message returned when one fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validations: Option<Vec<CelValidation>>,
    /// CEL expression yielding the user name (e.g. `claims.sub`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// CEL expression yielding a list of group names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<String>,
}

/// A named CEL variable.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CelVariable {
    /// Variable name.
    pub name: String,
    /// CEL expression over `claims`.
    pub expression: String,
}

/// A CEL validation rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CelValidation {
    /// Boolean CEL expression over `claims`.
    pub expression: String,
    /// Error message when it is false.
    pub message: String,
}

/// `http.auth.bearer.awsSecretsManager`. AWS credentials come from the SDK's default chain (env vars,
/// IRSA/web identity, instance profile).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AwsSecretsManagerConfig {
    /// AWS region of the secret.
    pub region: String,
    /// Secret holding a JSON object of key id → PEM or JWKS public key.
    pub secret_name: String,
    /// How often to re-read the secret (Go duration, default `1m`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_interval: Option<String>,
}

/// `http.auth.openid`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenIdConfig {
    /// Provider id → settings. OpenID Connect ids: `oidc` (any issuer, e.g. Keycloak at
    /// `<url>/realms/<realm>`), `google`, `gitlab`; OAuth2 id: `github`. Other ids are refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub providers: Option<BTreeMap<String, OpenIdProvider>>,
    /// Absolute origins allowed in the `callback_ui` redirect after login; empty allows only same-origin
    /// relative paths.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_allow_origins: Option<Vec<String>>,
}

/// One OpenID/OAuth2 provider. The client secret is read from `credentialsFile`
/// ([`crate::zot::OpenIdCredentials`]); the inline `clientsecret` key zot also accepts (deprecated) is not
/// modelled. OpenID providers need a client id, `issuer` and `scopes`; `github` needs a client id and scopes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenIdProvider {
    /// JSON file with `clientid` and `clientsecret`; its values replace the inline ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<String>,
    /// Display name on the UI login button (the `oidc` provider).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// OAuth2 client id (not secret; normally read from `credentialsFile` instead).
    #[serde(rename = "clientid", skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Key used to sign the OAuth2 state for the `github` provider; empty generates one.
    #[serde(rename = "keypath", skip_serializing_if = "Option::is_none")]
    pub key_path: Option<String>,
    /// Issuer URL (OpenID providers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Custom authorization URL (GitHub Enterprise).
    #[serde(rename = "authurl", skip_serializing_if = "Option::is_none")]
    pub auth_url: Option<String>,
    /// Custom token URL (GitHub Enterprise).
    #[serde(rename = "tokenurl", skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    /// Scopes requested (`openid` is required for OpenID providers; add `groups` for group claims).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// Which claims give the user name (default `email`) and groups (default `groups`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_mapping: Option<OpenIdClaimMapping>,
}

/// Claim names used for an OpenID user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenIdClaimMapping {
    /// Claim giving the user name (`preferred_username`, `email`, `sub` …); default `email`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Claim giving the group list; default `groups`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<String>,
}

/// `http.auth.sessionDriver`, tagged by `name`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "lowercase")]
// Built once per reconcile and never held in bulk; boxing the redis options would only cost ergonomics.
#[allow(clippy::large_enum_variant)]
pub enum SessionDriver {
    /// Sessions on zot's local disk (`<rootDirectory>/_sessions`), or in cookies with remote storage.
    Local,
    /// Sessions in redis (shared by all replicas). `keyprefix` defaults to `zotsession`.
    Redis(RedisConfig),
}

/// `http.auth.mtls`: how a verified client certificate becomes a user name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MtlsConfig {
    /// Certificate attributes tried in order: `CommonName` (default), `Subject`, `Email`, `URI`, `DNSName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_attributes: Option<Vec<String>>,
    /// Regex with one capture group applied to the URI SAN (e.g. a SPIFFE id); unset uses the whole URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri_san_pattern: Option<String>,
    /// Which URI SAN to use when there are several (0-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri_san_index: Option<u32>,
    /// Which DNS SAN to use (0-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_san_index: Option<u32>,
    /// Which email SAN to use (0-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_san_index: Option<u32>,
}
