//! How clients reach zot: Service, Ingress, Route and NetworkPolicy.
use std::collections::BTreeMap;

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How clients reach the registry.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkingSpec {
    /// The Service `<store>` in front of zot.
    #[serde(default)]
    pub service: ServiceSpec,
    /// An Ingress publishing the registry outside the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<IngressSpec>,
    /// An OpenShift Route publishing the registry outside the cluster. On OpenShift a store that names neither
    /// route nor an enabled ingress gets an edge Route on `<store>-<namespace>.<cluster apps domain>`; set
    /// route.enabled: false for none. Only OpenShift serves Routes: elsewhere the store reports a condition saying
    /// the Route cannot be created (use ingress instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<RouteSpec>,
    /// A NetworkPolicy letting traffic reach zot's registry port only.
    #[serde(default)]
    pub network_policy: NetworkPolicySpec,
}

/// The Service in front of zot.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    /// ClusterIP (default), NodePort or LoadBalancer.
    #[serde(rename = "type", default)]
    pub type_: ServiceType,
    /// Port of the Service; it forwards to zot's port 5000. Defaults to 5000.
    #[serde(default = "default_service_port")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,
    /// Annotations of the Service, e.g. for a cloud load balancer.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Default for ServiceSpec {
    fn default() -> Self {
        Self {
            type_: ServiceType::default(),
            port: default_service_port(),
            annotations: BTreeMap::new(),
        }
    }
}

fn default_service_port() -> i32 {
    5000
}

/// Type of the Service.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ServiceType {
    #[default]
    ClusterIP,
    NodePort,
    LoadBalancer,
}

impl ServiceType {
    /// The value Kubernetes expects in a Service's type.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::ClusterIP => "ClusterIP",
            ServiceType::NodePort => "NodePort",
            ServiceType::LoadBalancer => "LoadBalancer",
        }
    }
}

/// An Ingress for the registry.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IngressSpec {
    /// Create the Ingress. Defaults to false.
    #[serde(default)]
    pub enabled: bool,
    /// IngressClass that serves it, e.g. `nginx`. Defaults to the cluster's default class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    /// Host name clients use, e.g. `artifacts.example.com`; it also becomes zot's external URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    #[x_kube(validation = Rule::new("self.matches('^(\\\\*\\\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')")
        .message("must be a lower-case DNS host name such as artifacts.example.com"))]
    pub host: Option<String>,
    /// TLS termination at the Ingress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<IngressTls>,
    /// Annotations of the Ingress, e.g. `cert-manager.io/cluster-issuer`. Registries need large request
    /// bodies: with ingress-nginx add `nginx.ingress.kubernetes.io/proxy-body-size: "0"`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// TLS of an Ingress.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.enabled) || !self.enabled || has(self.secretName)")
    .message("ingress.tls.enabled needs ingress.tls.secretName: the Secret (type kubernetes.io/tls) that holds or will hold the certificate"))]
pub struct IngressTls {
    /// Terminate TLS at the Ingress. Defaults to false.
    #[serde(default)]
    pub enabled: bool,
    /// Secret of type kubernetes.io/tls with the certificate, e.g. one cert-manager issues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub secret_name: Option<String>,
}

/// An OpenShift Route for the registry.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RouteSpec {
    /// Create the Route. Defaults to true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Host name of the Route. Defaults to `<store>-<namespace>.<cluster apps domain>`. When the Ingress has the
    /// same host, OpenShift already makes a Route of the Ingress and the operator creates none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    #[x_kube(validation = Rule::new("self.matches('^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$')")
        .message("must be a lower-case DNS host name such as artifacts.apps.example.com (no wildcard, labels of at most 63 characters)"))]
    pub host: Option<String>,
    /// TLS termination: edge (default; the router terminates TLS and redirects plain HTTP), reencrypt (the
    /// router re-encrypts to zot, which serves tls.secretName's or tls.issuerRef's certificate or else one issued
    /// by OpenShift's service CA) or passthrough (zot terminates TLS: the operator's certificate, which names the
    /// Route's host, or that of tls.secretName or tls.issuerRef). While zot serves HTTPS (the default; not with
    /// tls.enabled: false) edge becomes reencrypt, trusting the CA of zot's certificate.
    #[serde(default)]
    pub termination: RouteTermination,
}

impl Default for RouteSpec {
    fn default() -> Self {
        Self {
            enabled: true,
            host: None,
            termination: RouteTermination::default(),
        }
    }
}

/// TLS termination of a Route.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RouteTermination {
    #[default]
    Edge,
    Reencrypt,
    Passthrough,
}

/// The NetworkPolicy of the store.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicySpec {
    /// Create a NetworkPolicy that admits TCP traffic from anywhere to zot's registry port (which also serves
    /// the metrics) and nothing else. Clients, nodes pulling images and Prometheus all use that port. Defaults to
    /// true.
    #[serde(default = "yes")]
    pub enabled: bool,
}

impl Default for NetworkPolicySpec {
    fn default() -> Self {
        Self { enabled: true }
    }
}

fn yes() -> bool {
    true
}
