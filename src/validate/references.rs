//! The Secrets a store refers to.
use crate::api::names::Names;
use crate::api::v1alpha1::{StorageType, ZotArtifactStoreSpec};

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
    if spec.tls.enabled {
        add("spec.tls.secretName", spec.tls.secret_name.as_ref());
    }
    if let Some(sync) = spec.extensions.sync.as_ref().filter(|s| s.enabled) {
        add(
            "spec.extensions.sync.credentialsSecretRef.name",
            sync.credentials_secret_ref.as_ref().map(|r| &r.name),
        );
    }
    referenced
}
/// Secret references must not name the Secrets the operator owns: it would overwrite them.
pub(super) fn check_secret_names(spec: &ZotArtifactStoreSpec, names: &Names) -> Check {
    let owned = [names.config_secret(), names.oidc_secret()];
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
    let reference = &keycloak.client_secret_ref;
    if reference.name != name {
        return None;
    }
    let value = secret
        .data
        .as_ref()
        .and_then(|d| d.get(&reference.key))
        .and_then(|v| String::from_utf8(v.0.clone()).ok());
    Some(value.ok_or_else(|| {
        super::Refusal::new(
            "spec.rbac.keycloak.clientSecretRef.key",
            format!("Secret {name} has no key {}", reference.key),
        )
    }))
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
