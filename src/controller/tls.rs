//! The certificate zot serves, made ready before anything is applied:
//! - the operator's own CA and serving certificate (TLS by default): read back from `<store>-ca` and `<store>-tls`,
//!   made anew when missing, unusable, naming other hosts or two thirds through their lifetime ([`crate::pki`]);
//!   the render step writes them. The store comes back when the serving certificate is due.
//! - tls.issuerRef: the cert-manager Certificate `<store>` is applied, and until cert-manager has issued its Secret
//!   nothing else is applied (running pods keep serving): `TLSReady=False` (and `Ready=False`), reason
//!   `CertificateNotIssued` with cert-manager's own message, looked at again every [`ISSUE_RETRY`].
//!
//! No key reaches a log line, an event or the status.
use std::time::{Duration, SystemTime};

use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::runtime::reflector::ObjectRef;
use tracing::{Instrument, info, info_span};

use super::context::Context;
use super::dereference::read_secret;
use super::error::Error;
use crate::api::names::MANAGED_BY;
use crate::api::v1alpha1::ZotArtifactStore;
use crate::children::ChildKind;
use crate::pki::{self, CaPair, ServingPair};
use crate::render::{self, CA_CERT_KEY, CA_KEY_KEY, Inputs, OperatorTls, ServingCertificate};
use crate::status::types::TLS_READY;
use crate::validate::ValidatedStore;

/// How soon a store whose cert-manager Certificate is not issued yet is looked at again.
pub const ISSUE_RETRY: Duration = Duration::from_secs(10);

/// What the certificate step leaves to the reconcile.
#[derive(Debug)]
pub enum Prepared {
    /// Go on; come back at `renew_at` at the latest (the operator's certificate is then due).
    Ready { renew_at: Option<SystemTime> },
    /// cert-manager has not issued the Certificate yet: the reason and cert-manager's message.
    NotIssued { reason: String, message: String },
}

/// Makes the certificate of `store` ready (see the module), filling [`Inputs::operator_tls`] and the destination CA
/// of a reencrypt Route. `had_issuer`: the store used tls.issuerRef until now (its status or its pods say so); its
/// cert-manager Certificate is then deleted when the store no longer names an issuer.
pub async fn prepare(
    ctx: &Context,
    store: &ValidatedStore,
    had_issuer: bool,
    inputs: &mut Inputs,
) -> Result<Prepared, Error> {
    let serving = render::serving_certificate(store, &ctx.platform);
    if had_issuer && !matches!(serving, Some(ServingCertificate::CertManager { .. })) {
        delete_certificate(ctx, store).await?;
    }
    match serving {
        Some(ServingCertificate::Operator { secret }) => {
            let (tls, renew_at) = operator_certificate(ctx, store, &secret).await?;
            if render::destination_ca_source(store, &ctx.platform).is_some() {
                inputs.destination_ca = Some(tls.ca.cert_pem.clone());
            }
            inputs.operator_tls = Some(tls);
            Ok(Prepared::Ready {
                renew_at: Some(renew_at),
            })
        }
        Some(ServingCertificate::CertManager { secret }) => {
            issued_certificate(ctx, store, &secret).await
        }
        _ => Ok(Prepared::Ready { renew_at: None }),
    }
}

/// Whether `store` used tls.issuerRef until now: its status has a TLSReady condition (only a Certificate not
/// issued yet sets one) or its cached workload mounts cert-manager's Secret.
pub fn had_issuer(ctx: &Context, store: &ZotArtifactStore, validated: &ValidatedStore) -> bool {
    let in_status = store
        .status
        .as_ref()
        .is_some_and(|s| s.conditions.iter().any(|c| c.type_ == TLS_READY));
    let issued = render::issued_tls_name(validated);
    let mounts = |template: Option<&PodTemplateSpec>| {
        template
            .and_then(|t| t.spec.as_ref())
            .and_then(|s| s.volumes.as_ref())
            .is_some_and(|volumes| {
                volumes.iter().any(|v| {
                    v.secret.as_ref().and_then(|s| s.secret_name.as_deref())
                        == Some(issued.as_str())
                })
            })
    };
    let name = validated.names().base();
    let sts = ctx
        .children
        .statefulsets
        .as_ref()
        .and_then(|c| c.get(&ObjectRef::new(&name).within(&validated.namespace)))
        .and_then(|s| s.object())
        .is_some_and(|s| mounts(s.spec.as_ref().map(|s| &s.template)));
    let deploy = ctx
        .children
        .deployments
        .as_ref()
        .and_then(|c| c.get(&ObjectRef::new(&name).within(&validated.namespace)))
        .and_then(|d| d.object())
        .is_some_and(|d| mounts(d.spec.as_ref().map(|s| &s.template)));
    in_status || sts || deploy
}

/// Deletes the cert-manager Certificate `<store>` of a former tls.issuerRef (gone already, or no cert-manager: fine).
async fn delete_certificate(ctx: &Context, store: &ValidatedStore) -> Result<(), Error> {
    let api: Api<DynamicObject> = Api::namespaced_with(
        ctx.client.clone(),
        &store.namespace,
        &render::certificate_resource(),
    );
    let name = store.names().base();
    match api
        .delete(&name, &DeleteParams::default())
        .instrument(info_span!("delete", kind = "Certificate", name = %name))
        .await
    {
        Ok(_) => {
            info!(store = %store.name, namespace = %store.namespace, "deleted the cert-manager Certificate of the former tls.issuerRef");
            Ok(())
        }
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(source) => Err(Error::ApplyCertificate(source)),
    }
}

/// One of the Secrets the operator writes with its labels (`<store>-ca`, `<store>-tls`). The cache of the
/// operator's Secrets holds every one that exists (the caches are synced before a reconcile starts), except one
/// written a moment ago that it has not shown yet: only that one is read from the API server, so that a new store
/// costs no GETs that answer 404.
async fn own_secret(ctx: &Context, namespace: &str, name: &str) -> Result<Option<Secret>, Error> {
    let key = (namespace.to_string(), Secret::KIND, name.to_string());
    match cached_secret(ctx, namespace, name) {
        Some(secret) => Ok(Some(secret)),
        None if ctx.applied.newer_than(&key, None).is_some() => {
            read_secret(ctx, namespace, name).await
        }
        None => Ok(None),
    }
}

/// Any Secret (cert-manager's, say, which carries no label of the operator's): the cached one, else the API
/// server's.
async fn current_secret(
    ctx: &Context,
    namespace: &str,
    name: &str,
) -> Result<Option<Secret>, Error> {
    match cached_secret(ctx, namespace, name) {
        Some(secret) => Ok(Some(secret)),
        None => read_secret(ctx, namespace, name).await,
    }
}

fn cached_secret(ctx: &Context, namespace: &str, name: &str) -> Option<Secret> {
    ctx.children
        .secrets
        .as_ref()
        .and_then(|cache| cache.get(&ObjectRef::new(name).within(namespace)))
        .and_then(|secret| secret.object())
}

fn text(secret: Option<&Secret>, key: &str) -> Option<String> {
    secret?
        .data
        .as_ref()?
        .get(key)
        .and_then(|v| String::from_utf8(v.0.clone()).ok())
        .filter(|v| !v.is_empty())
}

/// The store's CA and serving certificate: those of its Secrets while they are good, else new ones.
async fn operator_certificate(
    ctx: &Context,
    store: &ValidatedStore,
    serving_secret: &str,
) -> Result<(OperatorTls, SystemTime), Error> {
    let now = SystemTime::now();
    let ns = &store.namespace;
    let ca_secret = own_secret(ctx, ns, &render::ca_secret_name(store)).await?;
    let existing_ca = text(ca_secret.as_ref(), CA_CERT_KEY)
        .zip(text(ca_secret.as_ref(), CA_KEY_KEY))
        .map(|(cert_pem, key_pem)| CaPair { cert_pem, key_pem })
        .filter(|ca| pki::ca_usable(ca, now));
    let ca = match existing_ca {
        Some(ca) => ca,
        None => {
            info!(store = %store.name, namespace = %ns, "making the store's CA");
            pki::new_ca(
                &format!("zot-operator CA {ns}/{}", store.name),
                now,
                pki::CA_LIFETIME,
            )
            .map_err(|e| Error::Certificate(e.to_string()))?
        }
    };
    let names = render::serving_names(store, &ctx.platform);
    let serving = own_secret(ctx, ns, serving_secret).await?;
    let existing = text(serving.as_ref(), "tls.crt")
        .zip(text(serving.as_ref(), "tls.key"))
        .map(|(cert_pem, key_pem)| ServingPair { cert_pem, key_pem });
    let kept = existing.and_then(|pair| match pki::serving_renewal(&pair, &ca, &names, now) {
        None => Some(pair),
        Some(why) => {
            info!(store = %store.name, namespace = %ns, why, "renewing zot's serving certificate");
            None
        }
    });
    let serving = match kept {
        Some(pair) => pair,
        None => pki::issue(&ca, &names, now, ctx.serving_lifetime)
            .map_err(|e| Error::Certificate(e.to_string()))?,
    };
    let renew_at = pki::facts(&serving.cert_pem)
        .map(|f| f.renew_at())
        .map_err(|e| Error::Certificate(e.to_string()))?;
    Ok((OperatorTls { ca, serving }, renew_at))
}

/// Applies the cert-manager Certificate and says whether its Secret is there.
async fn issued_certificate(
    ctx: &Context,
    store: &ValidatedStore,
    secret: &str,
) -> Result<Prepared, Error> {
    let Some(certificate) = render::certificate(store, &ctx.platform) else {
        return Ok(Prepared::Ready { renew_at: None });
    };
    let api: Api<DynamicObject> = Api::namespaced_with(
        ctx.client.clone(),
        &store.namespace,
        &render::certificate_resource(),
    );
    let name = certificate.name_any();
    let mut body = certificate;
    body.types = Some(kube::core::TypeMeta {
        api_version: render::CERTIFICATE_API_VERSION.to_string(),
        kind: "Certificate".to_string(),
    });
    let applied = api
        .patch(
            &name,
            &PatchParams::apply(MANAGED_BY).force(),
            &Patch::Apply(&body),
        )
        .instrument(info_span!("apply", kind = "Certificate", name = %name))
        .await;
    let applied = match applied {
        Ok(applied) => applied,
        // cert-manager's CRDs are not installed: say so, and look again later.
        Err(kube::Error::Api(e)) if e.code == 404 => {
            return Ok(Prepared::NotIssued {
                reason: "CertManagerNotInstalled".to_string(),
                message: format!(
                    "spec.tls.issuerRef: the cluster serves no cert-manager.io/v1 Certificates ({}): install cert-manager, or remove tls.issuerRef for the operator's own CA",
                    e.message
                ),
            });
        }
        Err(source) => return Err(Error::ApplyCertificate(source)),
    };
    let issued = current_secret(ctx, &store.namespace, secret).await?;
    if text(issued.as_ref(), "tls.crt").is_some() && text(issued.as_ref(), "tls.key").is_some() {
        return Ok(Prepared::Ready { renew_at: None });
    }
    let ready = applied
        .data
        .pointer("/status/conditions")
        .and_then(|c| c.as_array())
        .and_then(|c| {
            c.iter()
                .find(|c| c.get("type").and_then(|t| t.as_str()) == Some("Ready"))
        })
        .map(|c| {
            let field = |k: &str| {
                c.get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            (field("reason"), field("message"))
        });
    let issuer = store
        .spec
        .tls
        .issuer_ref
        .as_ref()
        .map(|i| format!("{} {}", i.kind.as_str(), i.name))
        .unwrap_or_default();
    let said = match ready {
        Some((reason, message)) if !message.is_empty() => {
            format!("cert-manager says: {reason}: {message}")
        }
        _ => "cert-manager has not reported on it yet (is cert-manager running?)".to_string(),
    };
    Ok(Prepared::NotIssued {
        reason: "CertificateNotIssued".to_string(),
        message: format!(
            "spec.tls.issuerRef: {issuer} has not issued the Certificate {name} into Secret {secret}; {said}. Running pods keep serving meanwhile"
        ),
    })
}
