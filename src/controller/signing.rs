//! The signing key pair of a store (supplyChain.signing): found in its Secret and checked, or created there when
//! the Secret does not exist. The private key is read only to check the pair, and goes nowhere else: not into
//! zot's configuration, an Event, a log line or the status.
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ObjectMeta, PostParams};
use kube::runtime::events::EventType;
use kube::{Api, ResourceExt};
use sha2::{Digest, Sha256};
use tracing::{Instrument, info, info_span};

use super::context::Context;
use super::error::{Blocked, Error};
use super::events;
use crate::api::names::MANAGED_BY;
use crate::api::v1alpha1::{SigningStatus, ZotArtifactStore};
use crate::signing::{self, Field, KeyInfo, Material, Problem};
use crate::status::SigningState;
use crate::validate::{SigningKeyRef, ValidatedStore};

/// Annotation on a key Secret the operator created (status.signing.createdByOperator).
pub const CREATED_ANNOTATION: &str = "artifact.zotregistry.io/signing-key-created-by";
const CREATED_BY: &str = MANAGED_BY;

/// Verdicts of [`signing::inspect`] by digest of the material it saw: opening a sealed key costs one scrypt, a
/// reconcile should not pay it again for the same Secret.
#[derive(Default)]
pub struct Verdicts(Mutex<HashMap<[u8; 32], Result<KeyInfo, Problem>>>);

impl Verdicts {
    fn get(&self, digest: &[u8; 32]) -> Option<Result<KeyInfo, Problem>> {
        self.0.lock().ok().and_then(|v| v.get(digest).cloned())
    }

    fn put(&self, digest: [u8; 32], verdict: Result<KeyInfo, Problem>) {
        if let Ok(mut v) = self.0.lock() {
            // Bounded: a few entries per store; start afresh rather than grow without end.
            if v.len() >= 4096 {
                v.clear();
            }
            v.insert(digest, verdict);
        }
    }
}

/// The key pair zot trusts, or why the store cannot run; None without signature verification.
pub async fn ensure(
    ctx: &Context,
    store: &ZotArtifactStore,
    validated: &ValidatedStore,
) -> Result<Option<Result<SigningState, Blocked>>, Error> {
    let Some(key) = validated.signing_key() else {
        return Ok(None);
    };
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &validated.namespace);
    let found = api
        .get_opt(&key.secret)
        .instrument(info_span!("get", kind = "Secret", name = %key.secret))
        .await
        .map_err(|source| Error::ReadSecret {
            name: key.secret.clone(),
            source,
        })?;
    let (secret, created) = match found {
        Some(secret) => (secret, false),
        None => (create(ctx, store, validated, &key, &api).await?, true),
    };
    Ok(Some(check(ctx, &key, &secret, created).await))
}

/// Checks the pair in `secret` (cached by content).
async fn check(
    ctx: &Context,
    key: &SigningKeyRef,
    secret: &Secret,
    created: bool,
) -> Result<SigningState, Blocked> {
    let data = secret.data.clone().unwrap_or_default();
    let value = |field: &str| {
        data.get(field)
            .map(|v| v.0.clone())
            .filter(|v| !v.is_empty())
    };
    let (private, public, password) = (
        value(&key.private_field),
        value(&key.public_field),
        value(&key.password_field),
    );
    if private.is_none() && public.is_none() {
        return Err(Blocked {
            reason: "InvalidSigningKey",
            message: format!(
                "spec.supplyChain.signing.keySecretRef: Secret {} exists but holds neither {} nor {}: store a cosign key pair in it, or delete it for the operator to create one",
                key.secret, key.private_field, key.public_field
            ),
        });
    }
    let mut hasher = Sha256::new();
    for part in [&private, &public, &password] {
        let bytes = part.as_deref().unwrap_or_default();
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    }
    let digest: [u8; 32] = hasher.finalize().into();
    let verdict = match ctx.signing_verdicts.get(&digest) {
        Some(verdict) => verdict,
        None => {
            let verdict = tokio::task::spawn_blocking(move || {
                signing::inspect(&Material {
                    private: private.as_deref(),
                    public: public.as_deref(),
                    password: password.as_deref(),
                })
            })
            .await
            .unwrap_or_else(|e| {
                Err(Problem {
                    field: Field::Private,
                    message: format!("could not be checked: {e}"),
                })
            });
            ctx.signing_verdicts.put(digest, verdict.clone());
            verdict
        }
    };
    let info = verdict.map_err(|problem| {
        let (field, name) = match problem.field {
            Field::Private => ("privateKeyField", &key.private_field),
            Field::Public => ("publicKeyField", &key.public_field),
            Field::Password => ("passwordField", &key.password_field),
        };
        Blocked {
            reason: "InvalidSigningKey",
            message: format!(
                "spec.supplyChain.signing.keySecretRef.{field}: key {name} of Secret {} {}",
                key.secret, problem.message
            ),
        }
    })?;
    let created_by_operator = created
        || secret
            .annotations()
            .get(CREATED_ANNOTATION)
            .is_some_and(|v| v == CREATED_BY);
    Ok(SigningState {
        record: SigningStatus {
            secret_name: key.secret.clone(),
            algorithm: info.algorithm.to_string(),
            public_key_fingerprint: info.fingerprint,
            created_by_operator,
        },
        public_field: key.public_field.clone(),
        key_size: key.key_size,
    })
}

/// Creates the Secret with a new RSA pair of keySize bits. Create, never apply: when someone else created the
/// Secret meanwhile, theirs stays (the API server answers AlreadyExists) and is read on the next reconcile.
async fn create(
    ctx: &Context,
    store: &ZotArtifactStore,
    validated: &ValidatedStore,
    key: &SigningKeyRef,
    api: &Api<Secret>,
) -> Result<Secret, Error> {
    let bits = key.key_size;
    let pair = tokio::task::spawn_blocking(move || signing::generate(bits))
        .await
        .map_err(|e| Error::SigningKey(e.to_string()))?
        .map_err(Error::SigningKey)?;
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(key.secret.clone()),
            namespace: Some(validated.namespace.clone()),
            annotations: Some(BTreeMap::from([(
                CREATED_ANNOTATION.to_string(),
                CREATED_BY.to_string(),
            )])),
            ..ObjectMeta::default()
        },
        type_: Some("Opaque".to_string()),
        data: Some(BTreeMap::from([
            (
                key.private_field.clone(),
                ByteString(pair.private_pem.into_bytes()),
            ),
            (
                key.public_field.clone(),
                ByteString(pair.public_pem.into_bytes()),
            ),
            (
                key.password_field.clone(),
                ByteString(pair.password.into_bytes()),
            ),
        ])),
        ..Secret::default()
    };
    let params = PostParams {
        field_manager: Some(MANAGED_BY.to_string()),
        ..PostParams::default()
    };
    let created = api
        .create(&params, &secret)
        .instrument(info_span!("create", kind = "Secret", name = %key.secret))
        .await
        .map_err(|source| Error::CreateSigningKey {
            name: key.secret.clone(),
            source,
        })?;
    info!(store = %store.name_any(), namespace = %validated.namespace, secret = %key.secret,
        algorithm = %pair.info.algorithm, fingerprint = %pair.info.fingerprint, "created the signing key pair");
    events::publish(
        ctx,
        store,
        EventType::Normal,
        "SigningKeyCreated",
        format!(
            "created an {} key pair in Secret {} (public key {})",
            pair.info.algorithm, key.secret, pair.info.fingerprint
        ),
    )
    .await;
    Ok(created)
}
