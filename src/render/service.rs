//! Services: the registry, the StatefulSet's headless Service and the metrics Service.
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::api::names::{self, ZOT_PORT, ZOT_PORT_NAME};
use crate::platform::Platform;
use crate::validate::ValidatedStore;

use super::meta;

fn port(name: &str, port: i32) -> ServicePort {
    ServicePort {
        name: Some(name.to_string()),
        port,
        protocol: Some("TCP".to_string()),
        target_port: Some(IntOrString::String(ZOT_PORT_NAME.to_string())),
        ..ServicePort::default()
    }
}

/// `<store>`: the registry, on networking.service.port. On OpenShift, when zot serves a service-CA certificate
/// (reencrypt Route), it asks the service CA for it.
pub fn main_service(store: &ValidatedStore, platform: &Platform) -> Service {
    let service = &store.spec.networking.service;
    let mut metadata = meta::owned(store, store.names().base());
    metadata.annotations = super::trust::main_service_annotations(store, platform);
    Service {
        metadata,
        spec: Some(ServiceSpec {
            type_: Some(service.type_.as_str().to_string()),
            selector: Some(names::selector_labels(&store.name)),
            ports: Some(vec![port(ZOT_PORT_NAME, service.port)]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// `<store>-headless`: stable DNS names for the StatefulSet's pods, published before they are ready.
pub fn headless_service(store: &ValidatedStore) -> Service {
    Service {
        metadata: meta::owned(store, store.names().headless_service()),
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".to_string()),
            publish_not_ready_addresses: Some(true),
            selector: Some(names::selector_labels(&store.name)),
            ports: Some(vec![port(ZOT_PORT_NAME, ZOT_PORT)]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// `<store>-metrics`: zot's metrics on metrics.prometheus.port (8081), forwarded to zot's registry port where
/// zot serves them.
pub fn metrics_service(store: &ValidatedStore) -> Option<Service> {
    let metrics = &store.spec.metrics;
    (metrics.enabled && metrics.prometheus.enabled).then(|| Service {
        metadata: meta::owned(store, store.names().metrics_service()),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".to_string()),
            selector: Some(names::selector_labels(&store.name)),
            ports: Some(vec![port(METRICS_PORT_NAME, metrics.prometheus.port)]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    })
}

/// Name of the metrics Service's port, which the ServiceMonitor scrapes.
pub const METRICS_PORT_NAME: &str = "metrics";
