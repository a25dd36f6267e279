//! Prometheus metrics and the (refused) tracing switch.
use std::collections::BTreeMap;

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

use super::messages;

/// Metrics of zot. zot serves Prometheus metrics on its registry port at prometheus.path; the operator exposes
/// them through the Service `<store>-metrics` on prometheus.port.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MetricsSpec {
    /// Turn zot's metrics extension on. Defaults to true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Prometheus exposition of the metrics.
    #[serde(default)]
    pub prometheus: PrometheusSpec,
    /// Distributed tracing of zot. zot emits no traces, so enabled: true is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracing: Option<TracingSpec>,
}

impl Default for MetricsSpec {
    fn default() -> Self {
        Self {
            enabled: true,
            prometheus: PrometheusSpec::default(),
            tracing: None,
        }
    }
}

fn yes() -> bool {
    true
}

/// Prometheus exposition.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusSpec {
    /// Render the `<store>-metrics` Service (and the ServiceMonitor when asked). Defaults to true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Port of the `<store>-metrics` Service; it forwards to zot's registry port. Defaults to 8081.
    #[serde(default = "default_metrics_port")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,
    /// HTTP path at which zot serves the metrics. Defaults to /metrics.
    #[serde(default = "default_metrics_path")]
    #[schemars(length(min = 1, max = 256))]
    #[x_kube(validation = Rule::new("self.startsWith('/') && !self.startsWith('/v2') && self != '/' && !self.endsWith('/') && !self.endsWith('/.') && !self.endsWith('/..') && !self.contains('//') && !self.contains('/./') && !self.contains('/../')")
        .message(messages::METRICS_PATH))]
    pub path: String,
    /// A ServiceMonitor for the Prometheus Operator (OpenShift user-workload monitoring). An object: write
    /// `serviceMonitor: {enabled: true}` for one with the defaults (`serviceMonitor: true` is refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_monitor: Option<ServiceMonitorSpec>,
}

impl Default for PrometheusSpec {
    fn default() -> Self {
        Self {
            enabled: true,
            port: default_metrics_port(),
            path: default_metrics_path(),
            service_monitor: None,
        }
    }
}

fn default_metrics_port() -> i32 {
    8081
}

fn default_metrics_path() -> String {
    "/metrics".into()
}

/// A ServiceMonitor scraping `<store>-metrics`. It is created only where the monitoring.coreos.com API is
/// installed; elsewhere the store reports a condition saying it could not be created.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceMonitorSpec {
    /// Create the ServiceMonitor. Defaults to false.
    #[serde(default)]
    pub enabled: bool,
    /// Scrape interval, e.g. `30s`. Defaults to Prometheus' own interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    #[x_kube(validation = Rule::new("self.matches('^([0-9]+(ms|s|m|h))+$')")
        .message("must be a duration such as 30s or 1m"))]
    pub interval: Option<String>,
    /// Extra labels of the ServiceMonitor, e.g. the `release` label a Prometheus selects monitors by.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// Tracing switch. zot emits no traces: the operator traces its own reconciles instead (set
/// OTEL_EXPORTER_OTLP_ENDPOINT on the operator).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TracingSpec {
    /// Must be false: zot emits no traces.
    #[serde(default)]
    #[x_kube(validation = Rule::new("self == false")
        .message(messages::TRACING))]
    pub enabled: bool,
}
