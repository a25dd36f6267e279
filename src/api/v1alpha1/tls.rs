//! TLS served by zot itself.
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::messages;

/// TLS served by zot itself. On by default: the operator keeps a CA of the store (the Secret `<store>-ca`, key
/// ca.crt, which clients trust) and a serving certificate signed by it (the Secret `<store>-tls`) for the store's
/// Service names and its Route/Ingress host, renewed when two thirds of its lifetime have passed (zot reloads it
/// without a restart). tls.secretName serves a certificate of your own instead, tls.issuerRef one that cert-manager
/// issues, and on OpenShift a reencrypt Route without either serves one from OpenShift's service CA. Probes and the
/// ServiceMonitor use HTTPS whenever zot does. `enabled: false` serves plain HTTP. Stores created before TLS became
/// the default were stored with `enabled: false` and keep serving plain HTTP.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("!has(self.secretName) || !has(self.issuerRef)")
        .message(messages::TLS_ONE_SOURCE),
    validation = Rule::new("!has(self.issuerRef) || !has(self.enabled) || self.enabled")
        .message(messages::TLS_ISSUER_OFF),
)]
pub struct TlsSpec {
    /// Serve HTTPS. Unset (the default) or true: HTTPS with the certificate of secretName, of issuerRef, of
    /// OpenShift's service CA (reencrypt Route) or else of the operator's CA. false: plain HTTP (secretName is then
    /// not used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// A Secret of type kubernetes.io/tls of your own with tls.crt and tls.key (and ca.crt, which the
    /// ServiceMonitor trusts when present). Rotating it rolls the pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub secret_name: Option<String>,
    /// A cert-manager Issuer or ClusterIssuer: the operator creates the cert-manager Certificate `<store>` for the
    /// store's names, and zot serves the Secret `<store>-issued-tls` it issues. Until it is issued the store is
    /// Ready=False (reason CertificateNotIssued, with cert-manager's message) and running pods keep serving.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_ref: Option<IssuerRef>,
}

impl TlsSpec {
    /// Whether zot serves HTTPS: unless `enabled: false`.
    pub fn on(&self) -> bool {
        self.enabled != Some(false)
    }
}

/// A cert-manager issuer.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IssuerRef {
    /// Name of the Issuer (in the store's namespace) or ClusterIssuer.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Issuer (default) or ClusterIssuer.
    #[serde(default)]
    pub kind: IssuerKind,
    /// API group of the issuer. Defaults to cert-manager.io (external issuers have their own).
    #[serde(default = "default_issuer_group")]
    #[schemars(length(min = 1, max = 253))]
    pub group: String,
}

fn default_issuer_group() -> String {
    "cert-manager.io".to_string()
}

/// Kind of a cert-manager issuer.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IssuerKind {
    /// An Issuer in the store's namespace.
    #[default]
    Issuer,
    /// A cluster-wide ClusterIssuer.
    ClusterIssuer,
}

impl IssuerKind {
    /// The kind as cert-manager names it.
    pub fn as_str(self) -> &'static str {
        match self {
            IssuerKind::Issuer => "Issuer",
            IssuerKind::ClusterIssuer => "ClusterIssuer",
        }
    }
}
