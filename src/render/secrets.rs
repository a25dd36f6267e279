//! The Secrets the operator owns: zot's configuration and the composed OpenID credentials file.
use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use sha2::{Digest, Sha256};

use crate::api::names::{CONFIG_FILE, OIDC_FILE};
use crate::validate::ValidatedStore;
use crate::zot::{OpenIdCredentials, ZotConfig};

use super::Inputs;
use super::meta;

/// `<store>-config`: zot's config.json. It holds paths and settings; credentials reach zot as environment
/// variables or files mounted from their own Secrets — but for the redis password, which zot reads only from this
/// file (see database.redis.passwordSecretRef).
pub fn config_secret(store: &ValidatedStore, config: &ZotConfig) -> Secret {
    Secret {
        metadata: meta::owned(store, store.names().config_secret()),
        type_: Some("Opaque".to_string()),
        data: Some(BTreeMap::from([(
            CONFIG_FILE.to_string(),
            ByteString(config.to_json().into_bytes()),
        )])),
        ..Secret::default()
    }
}

/// `<store>-oidc`: the credentials file of zot's OpenID provider ({"clientid", "clientsecret"}), which zot
/// reads only as one file. Rendered only with Keycloak and a client secret read by the controller.
pub fn oidc_secret(store: &ValidatedStore, inputs: &Inputs) -> Option<Secret> {
    let rbac = &store.spec.rbac;
    let keycloak = rbac.keycloak.as_ref().filter(|_| rbac.enabled)?;
    let client_secret = inputs.keycloak_client_secret.clone()?;
    let credentials = OpenIdCredentials {
        client_id: keycloak.client_id.clone(),
        client_secret,
    };
    let json = serde_json::to_vec(&credentials).ok()?;
    Some(Secret {
        metadata: meta::owned(store, store.names().oidc_secret()),
        type_: Some("Opaque".to_string()),
        data: Some(BTreeMap::from([(OIDC_FILE.to_string(), ByteString(json))])),
        ..Secret::default()
    })
}

/// Hash of zot's configuration, of the versions of the Secrets the pods read, of the trusted CA bundle's
/// version and of the signing public key's fingerprint: the pod-template annotation that rolls the pods when any of them changes.
pub fn config_hash(config: &ZotConfig, inputs: &Inputs) -> String {
    let mut hasher = Sha256::new();
    hasher.update(config.to_json().as_bytes());
    for (name, version) in &inputs.secret_versions {
        hasher.update(format!("\nsecret {name} {version}").as_bytes());
    }
    if let Some(version) = &inputs.trusted_ca_version {
        hasher.update(format!("\ntrusted-ca {version}").as_bytes());
    }
    if let Some(fingerprint) = &inputs.trusted_key {
        hasher.update(format!("\ntrusted-key {fingerprint}").as_bytes());
    }
    hex::encode(hasher.finalize())
}
