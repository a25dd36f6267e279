//! Side files zot reads next to its config: they carry the secrets the main config only points at. The
//! operator renders them into a Secret and mounts them; zot decodes each strictly (unknown keys refused).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `http.auth.ldap.credentialsFile`: the LDAP bind identity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdapCredentials {
    /// DN zot binds as to search for users.
    #[serde(rename = "bindDN")]
    pub bind_dn: String,
    /// Password of `bindDN`.
    #[serde(rename = "bindPassword")]
    pub bind_password: String,
}

/// `http.auth.openid.providers.<id>.credentialsFile`: OAuth2 client credentials.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenIdCredentials {
    /// OAuth2 client id.
    #[serde(rename = "clientid")]
    pub client_id: String,
    /// OAuth2 client secret.
    #[serde(rename = "clientsecret")]
    pub client_secret: String,
}

/// `http.auth.sessionKeysFile`: keys for the session cookie. Shared keys let sessions survive restarts and
/// work across replicas.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionKeys {
    /// HMAC key authenticating the cookie (32 or 64 random bytes recommended).
    pub hash_key: String,
    /// AES key encrypting the cookie: 16, 24 or 32 bytes; unset leaves the cookie unencrypted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encrypt_key: Option<String>,
}

/// `extensions.sync.credentialsFile`: upstream registry `host[:port]` → credentials.
pub type SyncCredentialsFile = BTreeMap<String, SyncCredentials>;

/// Basic-auth credentials for one upstream registry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncCredentials {
    /// User name.
    pub username: String,
    /// Password or token.
    pub password: String,
}

/// `oauth2CredentialHelper.signingFile`: the key and claims zot uses to mint a fresh, single-use JWT
/// assertion on every token refresh. (Keys as in zot's `examples/sync-oauth2-signing.json`.)
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncOAuth2SigningFile {
    /// PEM private key file.
    pub private_key_file: String,
    /// JWS algorithm, e.g. `RS256`.
    pub algorithm: String,
    /// `kid` header value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// `iss` claim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// `sub` claim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// `aud` claim (usually the token endpoint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
}
