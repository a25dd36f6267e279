//! The CA of the certificate a store's zot serves, for `ca.crt` of its push and pull Secrets and for the
//! operator's own calls to zot. The one place that knows where it comes from.
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{Api, Client};

use crate::platform::Platform;
use crate::render::{CaSource, SERVICE_CA_CONFIG_MAP, SERVICE_CA_KEY, client_ca_source};
use crate::validate::ValidatedStore;

/// Key of the CA in a kubernetes.io/tls Secret (cert-manager writes it there too).
pub const TLS_SECRET_CA_KEY: &str = "ca.crt";

/// Where zot's serving certificate comes from, as far as the CA goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaLocation {
    /// zot serves plain HTTP: there is no CA.
    PlainHttp,
    /// A key of a Secret: `ca.crt` of the store's own CA (`<store>-ca`, the default), of cert-manager's Secret
    /// (tls.issuerRef) or of tls.secretName.
    SecretKey { secret: String, key: String },
    /// OpenShift's service CA (ConfigMap `openshift-service-ca.crt`, key `service-ca.crt`).
    ServiceCa,
}

/// Where the CA of `store`'s serving certificate is (pure): where the store's TLS says clients find it
/// ([`client_ca_source`]).
pub fn ca_location(store: &ValidatedStore, platform: &Platform) -> CaLocation {
    match client_ca_source(store, platform) {
        None => CaLocation::PlainHttp,
        Some(CaSource::Secret { name, key }) => CaLocation::SecretKey { secret: name, key },
        Some(CaSource::ConfigMap { .. }) => CaLocation::ServiceCa,
    }
}

/// The store's TLS, as the push/pull Secrets need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreTls {
    /// zot serves plain HTTP.
    PlainHttp,
    /// zot serves HTTPS; the PEM CA when known (None: the Secret gets no `ca.crt`, clients use their own trust).
    Https { ca: Option<String> },
}

impl StoreTls {
    /// The PEM CA, when zot serves HTTPS with a known CA.
    pub fn ca(&self) -> Option<&str> {
        match self {
            StoreTls::Https { ca } => ca.as_deref(),
            StoreTls::PlainHttp => None,
        }
    }
}

/// The CA of `store`'s serving certificate, read from where [`ca_location`] says; `Https { ca: None }` when that
/// key or object does not exist (yet).
pub async fn store_ca(
    client: &Client,
    store: &ValidatedStore,
    platform: &Platform,
) -> Result<StoreTls, kube::Error> {
    let namespace = &store.namespace;
    Ok(match ca_location(store, platform) {
        CaLocation::PlainHttp => StoreTls::PlainHttp,
        CaLocation::SecretKey { secret, key } => {
            let found = Api::<Secret>::namespaced(client.clone(), namespace)
                .get_opt(&secret)
                .await?;
            StoreTls::Https {
                ca: found
                    .and_then(|s| s.data)
                    .and_then(|d| d.get(&key).cloned())
                    .and_then(|v| String::from_utf8(v.0).ok())
                    .filter(|pem| pem.contains("-----BEGIN CERTIFICATE-----")),
            }
        }
        CaLocation::ServiceCa => {
            let found = Api::<ConfigMap>::namespaced(client.clone(), namespace)
                .get_opt(SERVICE_CA_CONFIG_MAP)
                .await?;
            StoreTls::Https {
                ca: found
                    .and_then(|m| m.data)
                    .and_then(|d| d.get(SERVICE_CA_KEY).cloned())
                    .filter(|pem| pem.contains("-----BEGIN CERTIFICATE-----")),
            }
        }
    })
}
