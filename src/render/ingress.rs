//! The Ingress publishing the registry outside the cluster.
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
};

use crate::api::names::ZOT_PORT_NAME;
use crate::validate::ValidatedStore;

use super::meta;

/// The Ingress, when networking.ingress.enabled: every path of the host to the main Service.
pub fn ingress(store: &ValidatedStore) -> Option<Ingress> {
    let spec = store
        .spec
        .networking
        .ingress
        .as_ref()
        .filter(|i| i.enabled)?;
    let mut metadata = meta::owned(store, store.names().base());
    metadata.annotations = (!spec.annotations.is_empty()).then(|| spec.annotations.clone());
    let backend = IngressBackend {
        service: Some(IngressServiceBackend {
            name: store.names().base(),
            port: Some(ServiceBackendPort {
                name: Some(ZOT_PORT_NAME.to_string()),
                ..ServiceBackendPort::default()
            }),
        }),
        ..IngressBackend::default()
    };
    let tls = spec.tls.as_ref().filter(|t| t.enabled).map(|t| {
        vec![IngressTLS {
            hosts: spec.host.clone().map(|h| vec![h]),
            secret_name: t.secret_name.clone(),
        }]
    });
    Some(Ingress {
        metadata,
        spec: Some(IngressSpec {
            ingress_class_name: spec.class_name.clone(),
            rules: Some(vec![IngressRule {
                host: spec.host.clone(),
                http: Some(HTTPIngressRuleValue {
                    paths: vec![HTTPIngressPath {
                        path: Some("/".to_string()),
                        path_type: "Prefix".to_string(),
                        backend,
                    }],
                }),
            }]),
            tls,
            ..IngressSpec::default()
        }),
        ..Ingress::default()
    })
}
