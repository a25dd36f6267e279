//! TLS served by zot itself.
use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// TLS served by zot itself (end-to-end encryption, Route reencrypt/passthrough). The Secret (type
/// kubernetes.io/tls, e.g. issued by cert-manager) is mounted into zot; probes and the ServiceMonitor then use
/// HTTPS.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!self.enabled || has(self.secretName)")
    .message("tls.enabled needs tls.secretName: a Secret of type kubernetes.io/tls with tls.crt and tls.key"))]
pub struct TlsSpec {
    /// Serve HTTPS instead of HTTP. Defaults to false.
    #[serde(default)]
    pub enabled: bool,
    /// Secret with tls.crt and tls.key (and ca.crt, which the ServiceMonitor trusts when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub secret_name: Option<String>,
}
