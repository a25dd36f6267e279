//! A Route asked for on plain Kubernetes: a gap, or an Ingress for the Route's host where one can stand in.
use pretty_assertions::assert_eq;

use super::openshift::{env, on_openshift};
use super::*;

#[test]
fn on_kubernetes_a_route_is_a_gap_and_nothing_openshift_is_rendered() {
    let spec = "networking:\n  route: {enabled: true}";
    let desired = k8s(spec);
    assert_eq!(desired.route, None);
    assert_eq!(desired.trusted_ca_bundle, None);
    assert!(!env(&desired).contains_key("SSL_CERT_FILE"));
    let gaps = gaps(&store(spec), &Platform::kubernetes());
    assert_eq!(gaps[0].field, "spec.networking.route.enabled");
    assert!(
        gaps[0].reason.contains("an Ingress for every host"),
        "{gaps:?}"
    );
    assert!(k8s("{}").route.is_none());
    assert!(
        k8s("{}").ingress.is_none(),
        "no Route asked for, no Ingress"
    );
    assert!(gaps_for("{}").is_empty(), "no Route asked for, no gap");
}

fn fallback_rule(desired: &Desired) -> k8s_openapi::api::networking::v1::IngressSpec {
    desired.ingress.clone().unwrap().spec.unwrap()
}

#[test]
fn on_kubernetes_an_edge_route_falls_back_to_an_ingress_for_its_host() {
    let spec = "networking:\n  route: {enabled: true, host: zot.example.com}";
    let desired = k8s(spec);
    let ingress = fallback_rule(&desired);
    let rule = &ingress.rules.as_ref().unwrap()[0];
    assert_eq!(rule.host.as_deref(), Some("zot.example.com"));
    let path = &rule.http.as_ref().unwrap().paths[0];
    assert_eq!(path.backend.service.as_ref().unwrap().name, "zot");
    assert_eq!(ingress.ingress_class_name, None, "the default IngressClass");
    let tls = &ingress.tls.unwrap()[0];
    assert_eq!(tls.hosts, Some(vec!["zot.example.com".to_string()]));
    assert_eq!(
        tls.secret_name, None,
        "the controller's default certificate"
    );
    assert_eq!(
        endpoints(&store(spec), &Platform::kubernetes())
            .external
            .as_deref(),
        Some("https://zot.example.com")
    );
    assert!(
        gaps_for(spec)[0]
            .reason
            .contains("an Ingress publishes zot.example.com")
    );

    // Without a host: every host, plain HTTP, and no external address to publish.
    let hostless = fallback_rule(&k8s("networking:\n  route: {enabled: true}"));
    assert_eq!(hostless.rules.unwrap()[0].host, None);
    assert_eq!(hostless.tls, None);
}

#[test]
fn on_kubernetes_a_route_that_needs_zot_to_serve_tls_gets_no_ingress_and_says_why() {
    for spec in [
        "networking:\n  route: {termination: reencrypt, host: zot.example.com}",
        "networking:\n  route: {termination: passthrough}\ntls: {enabled: true, secretName: zot-tls}",
    ] {
        assert_eq!(k8s(spec).ingress, None, "{spec}");
        let gaps = gaps_for(spec);
        assert!(
            gaps[0].reason.contains("zot serves TLS itself"),
            "{spec}: {gaps:?}"
        );
    }
}

#[test]
fn on_kubernetes_an_edge_route_with_zot_serving_tls_gets_an_ingress_speaking_https_to_zot() {
    for spec in [
        "networking:\n  route: {enabled: true, host: zot.example.com}",
        "networking:\n  route: {enabled: true, host: zot.example.com}\ntls: {enabled: true, secretName: zot-tls}",
    ] {
        let ingress = k8s(spec).ingress.unwrap();
        assert_eq!(
            ingress.metadata.annotations.unwrap()["nginx.ingress.kubernetes.io/backend-protocol"],
            "HTTPS",
            "{spec}"
        );
    }
    let plain =
        k8s("networking:\n  route: {enabled: true, host: zot.example.com}\ntls: {enabled: false}");
    assert_eq!(plain.ingress.unwrap().metadata.annotations, None);
}

#[test]
fn on_kubernetes_an_ingress_the_store_names_wins_over_the_route_fallback() {
    let spec = "networking:\n  route: {enabled: true, host: a.example.com}\n  ingress: {enabled: true, host: b.example.com, className: nginx}";
    let ingress = fallback_rule(&k8s(spec));
    assert_eq!(
        ingress.rules.unwrap()[0].host.as_deref(),
        Some("b.example.com")
    );
    assert_eq!(ingress.ingress_class_name.as_deref(), Some("nginx"));
    assert!(
        gaps_for(spec)[0]
            .reason
            .contains("networking.ingress publishes the store")
    );
    // An Ingress the store turns off stays off.
    let off =
        "networking:\n  route: {enabled: true, host: a.example.com}\n  ingress: {enabled: false}";
    assert_eq!(k8s(off).ingress, None);
    assert!(
        gaps_for(off)[0]
            .reason
            .contains("nothing publishes the store")
    );
    // On OpenShift the Route is the Route: no fallback.
    assert_eq!(
        on_openshift("networking:\n  route: {enabled: true, host: a.example.com}").ingress,
        None
    );
}

fn gaps_for(spec: &str) -> Vec<Gap> {
    gaps(&store(spec), &Platform::kubernetes())
}
