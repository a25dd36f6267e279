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
use kube::api::{DynamicObject, GroupVersionKind};
use kube::core::ApiResource;

use crate::api::v1alpha1::RouteTermination;
use crate::platform::Platform;
use crate::validate::ValidatedStore;

use super::meta;
use super::route::{asked_termination, route_plan};

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

/// `<store>-ca`: the store's own CA (keys ca.crt and ca.key), made and kept by the operator when zot serves its
/// certificate ([`ServingCertificate::Operator`]). Clients trust its ca.crt.
pub fn ca_secret_name(store: &ValidatedStore) -> String {
    format!("{}-ca", store.name)
}

/// `<store>-tls`: the serving certificate the store's CA signs (tls.crt, tls.key and ca.crt).
pub fn operator_tls_name(store: &ValidatedStore) -> String {
    format!("{}-tls", store.name)
}

/// `<store>-issued-tls`: the Secret cert-manager issues the Certificate of tls.issuerRef into.
pub fn issued_tls_name(store: &ValidatedStore) -> String {
    format!("{}-issued-tls", store.name)
}

/// Key of the CA certificate in `<store>-ca`, `<store>-tls` and cert-manager's Secrets.
pub const CA_CERT_KEY: &str = "ca.crt";
/// Key of the CA's private key in `<store>-ca`.
pub const CA_KEY_KEY: &str = "ca.key";

/// Where the certificate zot serves comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServingCertificate {
    /// tls.secretName: the user's kubernetes.io/tls Secret. A new version rolls the pods.
    User {
        /// Name of the Secret.
        secret: String,
    },
    /// OpenShift's service CA, for a reencrypt Route (asked as such) without tls.secretName or tls.issuerRef, or
    /// with tls.enabled: false: the main Service carries [`SERVING_CERT_ANNOTATION`] and the service CA writes
    /// tls.crt and tls.key into the Secret.
    ServiceCa {
        /// Name of the Secret ([`serving_cert_name`]).
        secret: String,
    },
    /// The default: the operator's CA `<store>-ca` signs the certificate in `<store>-tls`, renewed by the
    /// operator; zot reloads it when the mounted Secret changes.
    Operator {
        /// Name of the Secret ([`operator_tls_name`]).
        secret: String,
    },
    /// tls.issuerRef: cert-manager issues the Certificate `<store>` into `<store>-issued-tls` and renews it; zot
    /// reloads it when the mounted Secret changes.
    CertManager {
        /// Name of the Secret ([`issued_tls_name`]).
        secret: String,
    },
}

impl ServingCertificate {
    /// The Secret holding tls.crt and tls.key, mounted into zot.
    pub fn secret(&self) -> &str {
        match self {
            ServingCertificate::User { secret }
            | ServingCertificate::ServiceCa { secret }
            | ServingCertificate::Operator { secret }
            | ServingCertificate::CertManager { secret } => secret,
        }
    }

    /// The kind of source, for the status and the config hash.
    pub fn kind(&self) -> &'static str {
        match self {
            ServingCertificate::User { .. } => "secretName",
            ServingCertificate::ServiceCa { .. } => "openshiftServiceCA",
            ServingCertificate::Operator { .. } => "operatorCA",
            ServingCertificate::CertManager { .. } => "issuerRef",
        }
    }
}

/// The certificate zot serves, or None when zot serves plain HTTP (tls.enabled: false, but for a reencrypt
/// Route). The controller watches a user's Secret like the referenced ones, so that a new version rolls the pods.
pub fn serving_certificate(
    store: &ValidatedStore,
    platform: &Platform,
) -> Option<ServingCertificate> {
    let tls = &store.spec.tls;
    let reencrypt = route_plan(store, platform)
        .is_some_and(|plan| plan.termination == RouteTermination::Reencrypt);
    let service_ca = || ServingCertificate::ServiceCa {
        secret: serving_cert_name(store),
    };
    if !tls.on() {
        return reencrypt.then(service_ca);
    }
    if let Some(secret) = &tls.secret_name {
        return Some(ServingCertificate::User {
            secret: secret.clone(),
        });
    }
    if tls.issuer_ref.is_some() {
        return Some(ServingCertificate::CertManager {
            secret: issued_tls_name(store),
        });
    }
    if reencrypt && asked_termination(store, platform) == Some(RouteTermination::Reencrypt) {
        return Some(service_ca());
    }
    Some(ServingCertificate::Operator {
        secret: operator_tls_name(store),
    })
}

/// The DNS names zot's certificate must hold (operator CA and cert-manager): the main Service's `<svc>`,
/// `<svc>.<ns>`, `<svc>.<ns>.svc` and `<svc>.<ns>.svc.cluster.local`, then the Route's and the Ingress's host.
pub fn serving_names(store: &ValidatedStore, platform: &Platform) -> Vec<String> {
    let svc = store.names().base();
    let ns = &store.namespace;
    let mut names = vec![
        svc.clone(),
        format!("{svc}.{ns}"),
        format!("{svc}.{ns}.svc"),
        format!("{svc}.{ns}.svc.cluster.local"),
    ];
    let route = route_plan(store, platform).and_then(|plan| plan.host);
    let ingress = super::ingress::published_ingress(store, platform).and_then(|i| i.host.clone());
    for host in route.into_iter().chain(ingress) {
        if !names.contains(&host) {
            names.push(host);
        }
    }
    names
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

/// Where the CA that verifies zot's certificate is read, in the store's namespace — what clients (push/pull
/// Secrets' ca.crt, the ServiceMonitor, a reencrypt Route) trust. None when zot serves plain HTTP.
/// - the operator's CA (the default): Secret `<store>-ca`, key `ca.crt` (also `ca.crt` of `<store>-tls`);
/// - tls.issuerRef: Secret `<store>-issued-tls`, key `ca.crt` (cert-manager's CA and self-signed issuers fill it);
/// - tls.secretName: that Secret's `ca.crt`, when the user put one there;
/// - OpenShift's service CA: ConfigMap `openshift-service-ca.crt`, key `service-ca.crt`.
pub fn client_ca_source(store: &ValidatedStore, platform: &Platform) -> Option<CaSource> {
    let secret = |name: String| CaSource::Secret {
        name,
        key: CA_CERT_KEY.to_string(),
    };
    Some(match serving_certificate(store, platform)? {
        ServingCertificate::User { secret: name } => secret(name),
        ServingCertificate::CertManager { secret: name } => secret(name),
        ServingCertificate::Operator { .. } => secret(ca_secret_name(store)),
        ServingCertificate::ServiceCa { .. } => CaSource::ConfigMap {
            name: SERVICE_CA_CONFIG_MAP.to_string(),
            key: SERVICE_CA_KEY.to_string(),
        },
    })
}

/// For a reencrypt Route, where the controller reads the CA the router verifies zot's certificate with
/// ([`super::Inputs::destination_ca`]): [`client_ca_source`]. None for other Routes and without a Route.
pub fn destination_ca_source(store: &ValidatedStore, platform: &Platform) -> Option<CaSource> {
    route_plan(store, platform).filter(|plan| plan.termination == RouteTermination::Reencrypt)?;
    client_ca_source(store, platform)
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

/// apiVersion of cert-manager's Certificates.
pub const CERTIFICATE_API_VERSION: &str = "cert-manager.io/v1";

/// The API resource of cert-manager.io/v1 Certificates.
pub fn certificate_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("cert-manager.io", "v1", "Certificate"),
        "certificates",
    )
}

/// The cert-manager Certificate `<store>` of tls.issuerRef: the store's names ([`serving_names`]) issued into
/// `<store>-issued-tls`, a new private key at each renewal. None without tls.issuerRef (or with TLS off).
pub fn certificate(store: &ValidatedStore, platform: &Platform) -> Option<DynamicObject> {
    let Some(ServingCertificate::CertManager { secret }) = serving_certificate(store, platform)
    else {
        return None;
    };
    let issuer = store.spec.tls.issuer_ref.as_ref()?;
    let mut object = DynamicObject::new(&store.names().base(), &certificate_resource());
    object.metadata = meta::owned(store, store.names().base());
    object.data = serde_json::json!({
        "spec": {
            "secretName": secret,
            "dnsNames": serving_names(store, platform),
            "issuerRef": {
                "name": issuer.name,
                "kind": issuer.kind.as_str(),
                "group": issuer.group,
            },
            "usages": ["server auth", "digital signature", "key encipherment"],
            "privateKey": {"rotationPolicy": "Always"},
        }
    });
    Some(object)
}
