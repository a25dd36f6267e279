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
    /// A ServiceMonitor for the Prometheus Operator (OpenShift user-workload monitoring): `true` for one with the
    /// defaults (the same as `{enabled: true}`), `false` for none, or an object with enabled, interval and labels.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "service_monitor_or_switch"
    )]
    #[schemars(schema_with = "service_monitor_schema")]
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

/// Reads `serviceMonitor: true|false` as `{enabled: true|false}` and the object as it is; anything else is an
/// error that says what to write (the untyped schema lets the API server store it).
fn service_monitor_or_switch<'de, D>(
    deserializer: D,
) -> Result<Option<ServiceMonitorSpec>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error;
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Bool(enabled) => Ok(Some(ServiceMonitorSpec {
            enabled,
            ..ServiceMonitorSpec::default()
        })),
        object @ serde_json::Value::Object(_) => serde_json::from_value(object)
            .map(Some)
            .map_err(|e| D::Error::custom(format!("metrics.prometheus.serviceMonitor: {e}"))),
        _ => Err(D::Error::custom(format!(
            "metrics.prometheus.serviceMonitor {}",
            messages::SERVICE_MONITOR_FORM
        ))),
    }
}

/// The object's schema without its `type`, so that the API server also takes a boolean. An untyped node must
/// preserve unknown fields to stay structural; `properties` still validate the object form (interval's rule
/// included), and a boolean or an object are the only values the operator reads (anything else: Ready=False).
fn service_monitor_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let mut schema = generator.subschema_for::<ServiceMonitorSpec>();
    if let Some(object) = schema.as_object_mut() {
        object.remove("type");
        object.insert(
            "x-kubernetes-preserve-unknown-fields".to_string(),
            serde_json::Value::Bool(true),
        );
    }
    schema
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
    /// Scrape interval, a duration such as `30s` or `1m`. Defaults to Prometheus' own interval.
    // A pattern, not a CEL rule: the API server runs no CEL below serviceMonitor's untyped node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32), regex(pattern = r"^([0-9]+(ms|s|m|h))+$"))]
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
