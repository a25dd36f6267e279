//! The Ingress publishing the registry outside the cluster.
use std::borrow::Cow;

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
};

use crate::api::names::ZOT_PORT_NAME;
use crate::api::v1alpha1::{IngressSpec as StoreIngress, IngressTls, RouteTermination};
use crate::platform::Platform;
use crate::validate::ValidatedStore;

use super::meta;

/// ingress-nginx's annotation naming the protocol it speaks to the backend.
pub const BACKEND_PROTOCOL_ANNOTATION: &str = "nginx.ingress.kubernetes.io/backend-protocol";

/// What publishes the store through an Ingress on `platform`: networking.ingress when enabled; otherwise, on a
/// cluster without OpenShift Routes, the Route the store asks for ([`route_fallback`]).
pub fn published_ingress<'a>(
    store: &'a ValidatedStore,
    platform: &Platform,
) -> Option<Cow<'a, StoreIngress>> {
    match store.spec.networking.ingress.as_ref() {
        Some(ingress) if ingress.enabled => Some(Cow::Borrowed(ingress)),
        _ => route_fallback(store, platform).map(Cow::Owned),
    }
}

/// Off OpenShift, a store that asks for an edge Route (networking.route.enabled) and says
/// nothing of an Ingress is published by an Ingress instead: the Route's host (every host when it names none), the
/// cluster's default IngressClass, TLS at the ingress controller's default certificate when there is a host to
/// serve it for. A reencrypt or passthrough Route has no portable Ingress equivalent and gets none, and a store
/// that sets networking.ingress (even `enabled: false`) gets what it says ([`super::gaps`]).
pub fn route_fallback(store: &ValidatedStore, platform: &Platform) -> Option<StoreIngress> {
    let networking = &store.spec.networking;
    if platform.openshift || networking.ingress.is_some() {
        return None;
    }
    let route = networking.route.as_ref().filter(|r| r.enabled)?;
    if route.termination != RouteTermination::Edge {
        return None;
    }
    Some(StoreIngress {
        enabled: true,
        class_name: None,
        host: route.host.clone(),
        tls: route.host.as_ref().map(|_| IngressTls {
            enabled: true,
            secret_name: None,
        }),
        annotations: Default::default(),
    })
}

/// The Ingress of [`published_ingress`]: every path of the host to the main Service.
pub fn ingress(store: &ValidatedStore, platform: &Platform) -> Option<Ingress> {
    let spec = published_ingress(store, platform)?;
    let mut metadata = meta::owned(store, store.names().base());
    let mut annotations = spec.annotations.clone();
    if super::serving_certificate(store, platform).is_some() {
        // zot serves HTTPS (the default): ingress-nginx must speak it to the backend. Other controllers have their
        // own annotation, which networking.ingress.annotations sets.
        annotations
            .entry(BACKEND_PROTOCOL_ANNOTATION.to_string())
            .or_insert_with(|| "HTTPS".to_string());
    }
    metadata.annotations = (!annotations.is_empty()).then_some(annotations);
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
