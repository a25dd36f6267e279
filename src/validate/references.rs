//! The Secrets a store refers to.
use crate::api::names::Names;
use crate::api::v1alpha1::{DatabaseType, SecretKeyRef, StorageType, ZotArtifactStoreSpec};

use super::check::{Check, refuse_if};

/// Every Secret the zot pods read, with the field that names it.
pub(super) fn referenced_secrets(spec: &ZotArtifactStoreSpec) -> Vec<(&'static str, String)> {
    let mut referenced = Vec::new();
    let mut add = |field: &'static str, name: Option<&String>| {
        if let Some(name) = name {
            referenced.push((field, name.clone()));
        }
    };
    let storage = &spec.storage;
    if storage.type_ == StorageType::S3 {
        add(
            "spec.storage.s3.accessKeySecret.name",
            storage
                .s3
                .as_ref()
                .and_then(|s| s.access_key_secret.as_ref())
                .map(|s| &s.name),
        );
    }
    if storage.type_ == StorageType::Gcs {
        add(
            "spec.storage.gcs.credentialsSecret",
            storage
                .gcs
                .as_ref()
                .and_then(|g| g.credentials_secret.as_ref()),
        );
    }
    if storage.type_ == StorageType::Azure {
        add(
            "spec.storage.azure.credentialsSecret",
            storage
                .azure
                .as_ref()
                .and_then(|a| a.credentials_secret.as_ref()),
        );
    }
    if spec.rbac.enabled {
        add(
            "spec.rbac.keycloak.clientSecretRef.name",
            spec.rbac
                .keycloak
                .as_ref()
                .map(|k| &k.client_secret_ref.name),
        );
        add(
            "spec.rbac.htpasswd.name",
            spec.rbac.htpasswd.as_ref().map(|h| &h.name),
        );
    }
    if spec.tls.on() {
        add("spec.tls.secretName", spec.tls.secret_name.as_ref());
    }
    if let Some(sync) = spec.extensions.sync.as_ref().filter(|s| s.enabled) {
        add(
            "spec.extensions.sync.credentialsSecretRef.name",
            sync.credentials_secret_ref.as_ref().map(|r| &r.name),
        );
    }
    add(
        "spec.database.redis.passwordSecretRef.name",
        redis_password_ref(spec).map(|r| &r.name),
    );
    referenced
}

/// The redis password's Secret key, when the database is redis.
fn redis_password_ref(spec: &ZotArtifactStoreSpec) -> Option<&SecretKeyRef> {
    spec.database
        .redis
        .as_ref()
        .filter(|_| spec.database.type_ == DatabaseType::Redis)
        .and_then(|r| r.password_secret_ref.as_ref())
}

/// The value of `reference`'s key when `secret` (called `name`) is the Secret it names: `Some(Ok(value))`, or
/// `Some(Err(refusal))` on `field` when the key is missing or empty; None for any other Secret.
fn key_value(
    reference: &SecretKeyRef,
    field: &'static str,
    name: &str,
    secret: &k8s_openapi::api::core::v1::Secret,
) -> Option<Result<String, super::Refusal>> {
    if reference.name != name {
        return None;
    }
    let value = secret
        .data
        .as_ref()
        .and_then(|d| d.get(&reference.key))
        .and_then(|v| String::from_utf8(v.0.clone()).ok())
        .filter(|v| !v.is_empty());
    Some(value.ok_or_else(|| {
        super::Refusal::new(
            field,
            format!(
                "Secret {name} has no key {} (or it is empty)",
                reference.key
            ),
        )
    }))
}

/// The redis password, when `secret` (called `name`) is the one database.redis.passwordSecretRef names (see
/// [`keycloak_client_secret`] for the shape).
pub fn redis_password(
    spec: &ZotArtifactStoreSpec,
    name: &str,
    secret: &k8s_openapi::api::core::v1::Secret,
) -> Option<Result<String, super::Refusal>> {
    key_value(
        redis_password_ref(spec)?,
        "spec.database.redis.passwordSecretRef.key",
        name,
        secret,
    )
}
/// Secret references must not name the Secrets the operator owns: it would overwrite them.
pub(super) fn check_secret_names(spec: &ZotArtifactStoreSpec, names: &Names) -> Check {
    let owned = [
        names.config_secret(),
        names.oidc_secret(),
        names.session_secret(),
    ];
    let signing = spec
        .supply_chain
        .signing
        .as_ref()
        .and_then(|s| s.key_secret_ref.as_ref())
        .map(|k| ("spec.supplyChain.signing.keySecretRef.name", k.name.clone()));
    for (field, name) in referenced_secrets(spec).into_iter().chain(signing) {
        refuse_if(
            owned.contains(&name),
            field,
            &format!(
                "the Secret {name} is created and overwritten by the operator; keep your own data in a Secret of another name"
            ),
        )?;
    }
    Ok(())
}

/// The Keycloak client secret, when `secret` (called `name`) is the one rbac.keycloak.clientSecretRef names:
/// `Some(Ok(value))`, or `Some(Err(refusal))` when the Secret lacks the key; None for any other Secret.
pub fn keycloak_client_secret(
    spec: &ZotArtifactStoreSpec,
    name: &str,
    secret: &k8s_openapi::api::core::v1::Secret,
) -> Option<Result<String, super::Refusal>> {
    let keycloak = spec.rbac.keycloak.as_ref().filter(|_| spec.rbac.enabled)?;
    key_value(
        &keycloak.client_secret_ref,
        "spec.rbac.keycloak.clientSecretRef.key",
        name,
        secret,
    )
}

/// The S3 access key pair, when `secret` (called `name`) is the one storage.s3.accessKeySecret names:
/// `Some(Ok(keys))`, or `Some(Err(refusal))` naming the missing key; None for any
/// other Secret.
pub fn s3_access_keys(
    spec: &ZotArtifactStoreSpec,
    name: &str,
    secret: &k8s_openapi::api::core::v1::Secret,
) -> Option<Result<crate::s3::AccessKeys, super::Refusal>> {
    let s3 = spec
        .storage
        .s3
        .as_ref()
        .filter(|_| spec.storage.type_ == crate::api::v1alpha1::StorageType::S3)?;
    let reference = s3.access_key_secret.as_ref().filter(|r| r.name == name)?;
    let value = |field: &'static str, key: &str| {
        secret
            .data
            .as_ref()
            .and_then(|d| d.get(key))
            .and_then(|v| String::from_utf8(v.0.clone()).ok())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                super::Refusal::new(
                    field,
                    format!("Secret {name} has no key {key} (or it is empty)"),
                )
            })
    };
    Some(
        value(
            "spec.storage.s3.accessKeySecret.accessKeyField",
            &reference.access_key_field,
        )
        .and_then(|id| {
            value(
                "spec.storage.s3.accessKeySecret.secretKeyField",
                &reference.secret_key_field,
            )
            .map(|secret| crate::s3::AccessKeys { id, secret })
        }),
    )
}
