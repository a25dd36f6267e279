//! The Secrets the operator owns: zot's configuration, the composed OpenID credentials file and the session keys.
use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use sha2::{Digest, Sha256};

use crate::api::names::{CONFIG_FILE, OIDC_FILE, SESSION_FILE};
use crate::validate::ValidatedStore;
use crate::zot::{OpenIdCredentials, ZotConfig};

use super::trust::{
    CA_CERT_KEY, CA_KEY_KEY, ServingCertificate, ca_secret_name, serving_certificate,
};
use super::{Inputs, meta};
use crate::platform::Platform;

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

/// `<store>-session`: zot's session keys file ({"hashKey", "encryptKey"}), the same for every replica. The keys
/// are made once by the controller (random) and read back from this Secret afterwards; rendered only with
/// authentication on and keys known (not offline).
pub fn session_secret(store: &ValidatedStore, inputs: &Inputs) -> Option<Secret> {
    let keys = inputs
        .session_keys
        .as_ref()
        .filter(|_| store.spec.rbac.enabled)?;
    let json = serde_json::to_vec(keys).ok()?;
    Some(Secret {
        metadata: meta::owned(store, store.names().session_secret()),
        type_: Some("Opaque".to_string()),
        data: Some(BTreeMap::from([(
            SESSION_FILE.to_string(),
            ByteString(json),
        )])),
        ..Secret::default()
    })
}

/// `<store>-ca` (ca.crt, ca.key; Opaque) and `<store>-tls` (tls.crt, tls.key, ca.crt; kubernetes.io/tls) when
/// zot serves the operator's certificate and the controller has the pairs ([`Inputs::operator_tls`]).
pub fn operator_tls_secrets(
    store: &ValidatedStore,
    platform: &Platform,
    inputs: &Inputs,
) -> Vec<Secret> {
    let Some(ServingCertificate::Operator { secret }) = serving_certificate(store, platform) else {
        return Vec::new();
    };
    let Some(tls) = &inputs.operator_tls else {
        return Vec::new();
    };
    let bytes = |s: &str| ByteString(s.as_bytes().to_vec());
    let ca = Secret {
        metadata: meta::owned(store, ca_secret_name(store)),
        type_: Some("Opaque".to_string()),
        data: Some(BTreeMap::from([
            (CA_CERT_KEY.to_string(), bytes(&tls.ca.cert_pem)),
            (CA_KEY_KEY.to_string(), bytes(&tls.ca.key_pem)),
        ])),
        ..Secret::default()
    };
    let serving = Secret {
        metadata: meta::owned(store, secret),
        type_: Some("kubernetes.io/tls".to_string()),
        data: Some(BTreeMap::from([
            ("tls.crt".to_string(), bytes(&tls.serving.cert_pem)),
            ("tls.key".to_string(), bytes(&tls.serving.key_pem)),
            (CA_CERT_KEY.to_string(), bytes(&tls.ca.cert_pem)),
        ])),
        ..Secret::default()
    };
    vec![ca, serving]
}

/// `<store>-htpasswd`: the htpasswd file zot reads when the store has push/pull Secret accounts: the user's file
/// (rbac.htpasswd, read by the controller) without reserved names, then the accounts' bcrypt lines. Not rendered
/// without accounts (zot then mounts the user's Secret itself) or offline.
pub fn htpasswd_secret(store: &ValidatedStore, inputs: &Inputs) -> Option<Secret> {
    if store.accounts.is_empty() || !store.spec.rbac.enabled {
        return None;
    }
    let file =
        crate::access::accounts::merged_htpasswd(inputs.user_htpasswd.as_deref(), &store.accounts);
    Some(Secret {
        metadata: meta::owned(store, store.names().htpasswd_secret()),
        type_: Some("Opaque".to_string()),
        data: Some(BTreeMap::from([(
            crate::render::zot_config::HTPASSWD_FILE.to_string(),
            ByteString(file.into_bytes()),
        )])),
        ..Secret::default()
    })
}

/// Hash of zot's configuration, of the versions of the Secrets the pods read, of the trusted CA bundle's
/// version, of the signing public key's fingerprint and of the session keys: the pod-template annotation that
/// rolls the pods when any of them changes.
pub fn config_hash(config: &ZotConfig, inputs: &Inputs) -> String {
    config_hash_with_accounts(config, inputs, &[])
}

/// [`config_hash`] with the htpasswd lines of push/pull Secret accounts: zot reads its htpasswd file once at
/// start, so a new, changed or removed account rolls the pods.
pub fn config_hash_with_accounts(
    config: &ZotConfig,
    inputs: &Inputs,
    accounts: &[crate::access::accounts::Account],
) -> String {
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
    for account in accounts {
        hasher.update(b"\naccount ");
        hasher.update(account.htpasswd.as_bytes());
    }
    // zot reads its session keys once at start: new keys (the Secret was deleted and made anew) roll the pods.
    if let Some(keys) = &inputs.session_keys {
        hasher.update(b"\nsession ");
        hasher.update(keys.hash_key.as_bytes());
        hasher.update(keys.encrypt_key.as_deref().unwrap_or_default().as_bytes());
    }
    hex::encode(hasher.finalize())
}
