//! The ServiceMonitor for the Prometheus Operator.
use kube::api::DynamicObject;
use serde_json::json;

use crate::api::names;
use crate::platform::Platform;
use crate::validate::ValidatedStore;

use super::meta;
use super::service::METRICS_PORT_NAME;
use super::trust::CaSource;

pub use crate::children::service_monitor_resource;

/// A ServiceMonitor scraping `<store>-metrics`, when asked for and where its CRD is installed.
pub fn service_monitor(store: &ValidatedStore, platform: &Platform) -> Option<DynamicObject> {
    let prometheus = &store.spec.metrics.prometheus;
    let wanted = store.spec.metrics.enabled
        && prometheus.enabled
        && prometheus
            .service_monitor
            .as_ref()
            .is_some_and(|m| m.enabled);
    if !wanted || !platform.service_monitor_crd {
        return None;
    }
    let monitor = prometheus.service_monitor.as_ref()?;
    let mut metadata = meta::owned(store, store.names().base());
    if let Some(labels) = metadata.labels.as_mut() {
        labels.extend(monitor.labels.clone());
    }
    let serving = super::serving_certificate(store, platform);
    let mut endpoint = json!({
        "port": METRICS_PORT_NAME,
        "path": prometheus.path,
        "scheme": if serving.is_some() { "https" } else { "http" },
    });
    if let Some(interval) = &monitor.interval {
        endpoint["interval"] = json!(interval);
    }
    let ca = super::client_ca_source(store, platform).map(|source| match source {
        CaSource::Secret { name, key } => json!({"secret": {"name": name, "key": key}}),
        CaSource::ConfigMap { name, key } => json!({"configMap": {"name": name, "key": key}}),
    });
    if let Some(ca) = ca {
        endpoint["tlsConfig"] = json!({
            "ca": ca,
            "serverName": format!("{}.{}.svc", store.names().base(), store.namespace),
        });
    }
    let mut object = DynamicObject::new(&store.names().base(), &service_monitor_resource());
    object.metadata = metadata;
    object.data = json!({
        "spec": {
            "selector": {"matchLabels": names::selector_labels(&store.name)},
            "endpoints": [endpoint],
        }
    });
    Some(object)
}
