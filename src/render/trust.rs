//! Certificates around zot: the certificate zot serves (the user's, or one from OpenShift's service CA behind a
//! reencrypt Route), the CA the router checks it with, and the cluster's trusted CA bundle zot trusts on OpenShift.
//!
//! zot is a Go program: Go reads the file named by SSL_CERT_FILE instead of its built-in list of bundle files, and
//! still adds every certificate of the default directories (/etc/ssl/certs, /etc/pki/tls/certs). So the bundle
//! OpenShift injects (the system CAs plus the cluster's additional trust, e.g. a proxy's CA) is mounted at
//! OpenShift's usual path and named by SSL_CERT_FILE; until it is injected the file is missing and Go uses the
//! image's own CAs. SSL_CERT_DIR would instead replace those directories, leaving zot with no CA at all before the
//! injection.
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;

use crate::api::v1alpha1::RouteTermination;
use crate::platform::Platform;
use crate::validate::ValidatedStore;

use super::meta;
use super::route::route_plan;

/// Label that makes OpenShift's network operator inject the cluster's trusted CAs into a ConfigMap.
pub const TRUSTED_CA_INJECT_LABEL: &str = "config.openshift.io/inject-trusted-cabundle";
/// Key of the injected bundle.
pub const TRUSTED_CA_KEY: &str = "ca-bundle.crt";
/// Directory the bundle is mounted in: where RHEL-based images keep the extracted system trust.
pub const TRUSTED_CA_DIR: &str = "/etc/pki/ca-trust/extracted/pem";
/// File name of the bundle in [`TRUSTED_CA_DIR`].
pub const TRUSTED_CA_FILE: &str = "tls-ca-bundle.pem";
/// The environment variable that points Go's TLS at the bundle.
pub const SSL_CERT_FILE: &str = "SSL_CERT_FILE";
/// Service annotation that makes OpenShift's service CA issue a serving certificate into the named Secret.
pub const SERVING_CERT_ANNOTATION: &str = "service.beta.openshift.io/serving-cert-secret-name";
/// ConfigMap OpenShift creates in every namespace with the service CA (key [`SERVICE_CA_KEY`]).
pub const SERVICE_CA_CONFIG_MAP: &str = "openshift-service-ca.crt";
/// Key of the service CA in [`SERVICE_CA_CONFIG_MAP`].
pub const SERVICE_CA_KEY: &str = "service-ca.crt";
/// Key of the CA in a user's kubernetes.io/tls Secret (as cert-manager writes it).
pub const USER_CA_KEY: &str = "ca.crt";

/// `<store>-trusted-ca`: the ConfigMap OpenShift fills with the cluster's trusted CA bundle.
pub fn trusted_ca_name(store: &ValidatedStore) -> String {
    format!("{}-trusted-ca", store.name)
}

/// `<store>-serving-cert`: the Secret OpenShift's service CA issues zot's certificate into.
pub fn serving_cert_name(store: &ValidatedStore) -> String {
    format!("{}-serving-cert", store.name)
}

/// `<store>-trusted-ca` on OpenShift: empty, labelled for the network operator to inject `ca-bundle.crt` (the
/// operator applies no data, so the injected key is never taken back).
pub fn trusted_ca_bundle(store: &ValidatedStore, platform: &Platform) -> Option<ConfigMap> {
    platform.openshift.then(|| {
        let mut metadata = meta::owned(store, trusted_ca_name(store));
        if let Some(labels) = metadata.labels.as_mut() {
            labels.insert(TRUSTED_CA_INJECT_LABEL.to_string(), "true".to_string());
        }
        ConfigMap {
            metadata,
            ..ConfigMap::default()
        }
    })
}

/// Where the certificate zot serves comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServingCertificate {
    /// spec.tls: the user's kubernetes.io/tls Secret.
    User {
        /// Name of the Secret.
        secret: String,
    },
    /// OpenShift's service CA, for a reencrypt Route when spec.tls is off: the main Service carries
    /// [`SERVING_CERT_ANNOTATION`] and the service CA writes tls.crt and tls.key into the Secret.
    ServiceCa {
        /// Name of the Secret ([`serving_cert_name`]).
        secret: String,
    },
}

impl ServingCertificate {
    /// The Secret holding tls.crt and tls.key, mounted into zot.
    pub fn secret(&self) -> &str {
        match self {
            ServingCertificate::User { secret } | ServingCertificate::ServiceCa { secret } => {
                secret
            }
        }
    }
}

/// The certificate zot serves, or None when zot serves plain HTTP. The controller watches its Secret like the
/// referenced ones, so that a renewed certificate rolls the pods.
pub fn serving_certificate(
    store: &ValidatedStore,
    platform: &Platform,
) -> Option<ServingCertificate> {
    let tls = &store.spec.tls;
    if let (true, Some(secret)) = (tls.enabled, &tls.secret_name) {
        return Some(ServingCertificate::User {
            secret: secret.clone(),
        });
    }
    route_plan(store, platform)
        .filter(|plan| plan.termination == RouteTermination::Reencrypt)
        .map(|_| ServingCertificate::ServiceCa {
            secret: serving_cert_name(store),
        })
}

/// Where a CA is read from: a key of a ConfigMap or of a Secret in the store's namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaSource {
    /// A key of a ConfigMap.
    ConfigMap {
        /// Name of the ConfigMap.
        name: String,
        /// Key holding the PEM CA.
        key: String,
    },
    /// A key of a Secret.
    Secret {
        /// Name of the Secret.
        name: String,
        /// Key holding the PEM CA.
        key: String,
    },
}

/// For a reencrypt Route, where the controller reads the CA the router verifies zot's certificate with
/// ([`super::Inputs::destination_ca`]): the service CA (ConfigMap `openshift-service-ca.crt`) or ca.crt of the
/// user's tls Secret. None for other Routes and without a Route.
pub fn destination_ca_source(store: &ValidatedStore, platform: &Platform) -> Option<CaSource> {
    route_plan(store, platform).filter(|plan| plan.termination == RouteTermination::Reencrypt)?;
    Some(match serving_certificate(store, platform)? {
        ServingCertificate::User { secret } => CaSource::Secret {
            name: secret,
            key: USER_CA_KEY.to_string(),
        },
        ServingCertificate::ServiceCa { .. } => CaSource::ConfigMap {
            name: SERVICE_CA_CONFIG_MAP.to_string(),
            key: SERVICE_CA_KEY.to_string(),
        },
    })
}

/// Annotations of the main Service: the user's, plus the service CA's request on OpenShift when zot serves a
/// service-CA certificate.
pub fn main_service_annotations(
    store: &ValidatedStore,
    platform: &Platform,
) -> Option<BTreeMap<String, String>> {
    let mut annotations = store.spec.networking.service.annotations.clone();
    if let Some(ServingCertificate::ServiceCa { secret }) = serving_certificate(store, platform) {
        annotations.insert(SERVING_CERT_ANNOTATION.to_string(), secret);
    }
    (!annotations.is_empty()).then_some(annotations)
}
