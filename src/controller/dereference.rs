//! Dereference and validate: the store reduced to trusted data plus what it references (Secret versions, the
//! Keycloak client secret, the CA a reencrypt Route trusts), or why it cannot run.
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;
use tracing::{Instrument, info_span};

use super::context::Context;
use super::error::{Blocked, Error};
use super::session;
use crate::api::v1alpha1::ZotArtifactStore;
use crate::children::ChildKind;
use crate::render::{self, CaSource, Inputs, ServingCertificate};
use crate::s3::AccessKeys;
use crate::validate::{self, ValidatedStore};

/// The validated store, its rendering inputs and the access key of its bucket, or why it is blocked.
pub type Dereferenced = Result<References, Blocked>;

/// What a store references, read and checked.
#[derive(Debug)]
pub struct References {
    pub validated: ValidatedStore,
    pub inputs: Inputs,
    /// The access key of s3 storage (storage.s3.accessKeySecret); never rendered, used for the bucket only.
    pub s3_keys: Option<AccessKeys>,
}

/// A credential read from one key of a referenced Secret (see `validate::redis_password`).
type KeyLookup = fn(
    &crate::api::v1alpha1::ZotArtifactStoreSpec,
    &str,
    &Secret,
) -> Option<Result<String, validate::Refusal>>;

/// Validates `store` and reads what it references.
pub async fn dereference(store: &ZotArtifactStore, ctx: &Context) -> Result<Dereferenced, Error> {
    let namespace = store.namespace().unwrap_or_default();
    let mut validated = match validate::validate(store, &namespace) {
        Ok(v) => v,
        Err(refusal) => return Ok(Err(refusal.into())),
    };
    let mut inputs = Inputs::default();
    let mut s3_keys = None;
    for (field, name) in validated.referenced_secret_fields() {
        let Some(secret) = read_secret(ctx, &namespace, &name).await? else {
            return Ok(Err(Blocked {
                reason: "SecretNotFound",
                message: format!("{field}: Secret {name} does not exist in namespace {namespace}"),
            }));
        };
        inputs
            .secret_versions
            .insert(name.clone(), secret.resource_version().unwrap_or_default());
        if let Some(htpasswd) = validated
            .spec
            .rbac
            .htpasswd
            .as_ref()
            .filter(|h| h.name == name)
        {
            inputs.user_htpasswd = secret
                .data
                .as_ref()
                .and_then(|d| d.get(&htpasswd.key))
                .and_then(|v| String::from_utf8(v.0.clone()).ok());
        }
        if let Some(Err(refusal)) = validate::serving_pair(&validated.spec, &name, &secret) {
            return Ok(Err(Blocked {
                reason: "InvalidCertificate",
                message: refusal.to_string(),
            }));
        }
        // Credentials zot reads only as a file the operator composes (Keycloak) or from its config (redis).
        for (lookup, slot) in [
            (
                validate::keycloak_client_secret as KeyLookup,
                &mut inputs.keycloak_client_secret,
            ),
            (validate::redis_password, &mut inputs.redis_password),
        ] {
            match lookup(&validated.spec, &name, &secret) {
                Some(Ok(value)) => *slot = Some(value),
                Some(Err(refusal)) => {
                    return Ok(Err(Blocked {
                        reason: "SecretKeyNotFound",
                        message: refusal.to_string(),
                    }));
                }
                None => {}
            }
        }
        match validate::s3_access_keys(&validated.spec, &name, &secret) {
            Some(Ok(keys)) => s3_keys = Some(keys),
            Some(Err(refusal)) => {
                return Ok(Err(Blocked {
                    reason: "SecretKeyNotFound",
                    message: refusal.to_string(),
                }));
            }
            None => {}
        }
    }
    if let Some(source) = render::destination_ca_source(&validated, &ctx.platform) {
        inputs.destination_ca = read_ca(ctx, &namespace, source).await?;
    }
    if let Some(ServingCertificate::ServiceCa { secret }) =
        render::serving_certificate(&validated, &ctx.platform)
    {
        // Issued by OpenShift's service CA once the Service exists; a renewal rolls the pods.
        if let Some(issued) = read_secret(ctx, &namespace, &secret).await? {
            inputs
                .secret_versions
                .insert(secret, issued.resource_version().unwrap_or_default());
        }
    }
    if validated.spec.rbac.enabled {
        // The accounts of push/pull Secret requests, which the requests keep in `<store>-accounts`.
        validated.accounts = read_secret(ctx, &namespace, &validated.names().accounts_secret())
            .await?
            .and_then(|s| s.data)
            .map(|data| crate::access::accounts::Account::parse_all(&data))
            .unwrap_or_default();
        inputs.session_keys = Some(session::keys(ctx, &namespace, &validated.names()).await?);
    }
    let bundle = ObjectRef::new(&render::trusted_ca_name(&validated)).within(&namespace);
    inputs.trusted_ca_version = ctx
        .children
        .config_maps
        .as_ref()
        .and_then(|cache| cache.get(&bundle))
        .and_then(|c| c.resource_version());
    Ok(Ok(References {
        validated,
        inputs,
        s3_keys,
    }))
}

/// Reads one object of `namespace`; None when it does not exist. The one read of the dereference step.
async fn read<K: ChildKind>(
    ctx: &Context,
    namespace: &str,
    name: &str,
) -> Result<Option<K>, kube::Error> {
    K::api(&ctx.client, namespace)
        .get_opt(name)
        .instrument(info_span!("get", kind = K::KIND, name = %name))
        .await
}

pub(super) async fn read_secret(
    ctx: &Context,
    namespace: &str,
    name: &str,
) -> Result<Option<Secret>, Error> {
    read(ctx, namespace, name)
        .await
        .map_err(|source| Error::ReadSecret {
            name: name.to_string(),
            source,
        })
}

/// The PEM CA a reencrypt Route must trust, from a ConfigMap or Secret key; None until it exists.
async fn read_ca(
    ctx: &Context,
    namespace: &str,
    source: CaSource,
) -> Result<Option<String>, Error> {
    match source {
        CaSource::ConfigMap { name, key } => {
            let map: Option<ConfigMap> =
                read(ctx, namespace, &name)
                    .await
                    .map_err(|source| Error::ReadConfigMap {
                        name: name.clone(),
                        source,
                    })?;
            Ok(map.and_then(|m| m.data).and_then(|d| d.get(&key).cloned()))
        }
        CaSource::Secret { name, key } => Ok(read_secret(ctx, namespace, &name)
            .await?
            .and_then(|s| s.data)
            .and_then(|d| d.get(&key).cloned())
            .and_then(|v| String::from_utf8(v.0).ok())),
    }
}
