//! OpenShift: the Route, the service-CA certificate, the trusted CA bundle and the proxy.
use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use pretty_assertions::assert_eq;

use super::*;
use crate::api::names::TLS_DIR;
use crate::openshift::route::{
    RouteTlsInsecureEdgeTerminationPolicy, RouteTlsTermination, RouteToKind,
};
use crate::platform::Proxy;

fn openshift() -> Platform {
    Platform::openshift(Some("apps.example.com".to_string()))
}

pub(super) fn on_openshift(spec: &str) -> Desired {
    desired(&store(spec), &openshift(), &Inputs::default())
}

fn route_of(desired: &Desired) -> crate::openshift::route::Route {
    desired.route.clone().unwrap()
}

fn termination(desired: &Desired) -> RouteTlsTermination {
    route_of(desired).spec.tls.unwrap().termination
}

fn container(desired: &Desired) -> k8s_openapi::api::core::v1::Container {
    pod_spec(desired).containers[0].clone()
}

pub(super) fn env(desired: &Desired) -> BTreeMap<String, String> {
    container(desired)
        .env
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| e.value.map(|v| (e.name, v)))
        .collect()
}

fn volume_secret(desired: &Desired, name: &str) -> Option<String> {
    pod_spec(desired)
        .volumes
        .unwrap()
        .into_iter()
        .find(|v| v.name == name)
        .and_then(|v| v.secret)
        .and_then(|s| s.secret_name)
}

fn main_service_annotations(desired: &Desired) -> BTreeMap<String, String> {
    desired.services[0]
        .metadata
        .annotations
        .clone()
        .unwrap_or_default()
}

#[test]
fn on_openshift_a_store_naming_no_route_gets_a_reencrypt_route_to_zot_serving_tls_on_the_default_host()
 {
    let desired = on_openshift("{}");
    let tls = route_of(&desired).spec.tls.unwrap();
    assert_eq!(tls.termination, RouteTlsTermination::Reencrypt);
    assert_eq!(
        serving_certificate(&store("{}"), &openshift()),
        Some(ServingCertificate::Operator {
            secret: "zot-tls".into()
        })
    );
    assert!(config(&desired)["http"].get("tls").is_some());
    assert!(gaps(&store("{}"), &openshift()).is_empty());
}

#[test]
fn on_openshift_a_store_serving_plain_http_naming_no_route_gets_an_edge_route_on_the_default_host()
{
    let desired = on_openshift("tls: {enabled: false}");
    let route = route_of(&desired);
    assert_eq!(route.metadata.name.as_deref(), Some("zot"));
    assert_eq!(route.metadata.namespace.as_deref(), Some("team"));
    assert_eq!(
        route.spec.host.as_deref(),
        Some("zot-team.apps.example.com")
    );
    assert_eq!(route.spec.to.kind, RouteToKind::Service);
    assert_eq!(route.spec.to.name, "zot");
    assert_eq!(
        route.spec.port.unwrap().target_port,
        IntOrString::String("http".into())
    );
    let tls = route.spec.tls.unwrap();
    assert_eq!(tls.termination, RouteTlsTermination::Edge);
    assert_eq!(
        tls.insecure_edge_termination_policy,
        Some(RouteTlsInsecureEdgeTerminationPolicy::Redirect)
    );
    assert_eq!(tls.destination_ca_certificate, None);
    assert_eq!(
        config(&desired)["http"]["externalUrl"],
        "https://zot-team.apps.example.com"
    );
    assert_eq!(config(&desired)["http"].get("tls"), None, "zot serves HTTP");
    assert!(gaps(&store("tls: {enabled: false}"), &openshift()).is_empty());
}

#[test]
fn the_route_has_a_long_router_timeout_for_large_pushes() {
    let annotations = route_of(&on_openshift("{}")).metadata.annotations.unwrap();
    assert_eq!(
        annotations["haproxy.router.openshift.io/timeout"],
        ROUTER_TIMEOUT
    );
    assert_eq!(ROUTER_TIMEOUT, "1h");
}

#[test]
fn the_route_host_comes_from_the_spec_and_openshift_picks_one_without_apps_domain() {
    let desired = on_openshift("networking:\n  route: {host: registry.example.com}");
    assert_eq!(
        route_of(&desired).spec.host.as_deref(),
        Some("registry.example.com")
    );
    let unknown_domain = desired_for(&store("{}"), &Platform::openshift(None));
    assert_eq!(route_of(&unknown_domain).spec.host, None);
    assert_eq!(
        endpoints(&store("{}"), &Platform::openshift(None)).external,
        None,
        "the controller reads the host from the admitted Route"
    );
}

fn desired_for(store: &ValidatedStore, platform: &Platform) -> Desired {
    desired(store, platform, &Inputs::default())
}

#[test]
fn a_disabled_route_is_not_rendered() {
    assert_eq!(
        on_openshift("networking:\n  route: {enabled: false}").route,
        None
    );
}

#[test]
fn an_ingress_on_openshift_replaces_the_default_route() {
    let spec = "networking:\n  ingress:\n    enabled: true\n    className: openshift-default\n    host: zot.apps.example.com\n    annotations: {route.openshift.io/termination: edge}";
    let desired = on_openshift(spec);
    assert_eq!(desired.route, None);
    assert!(desired.ingress.is_some());
    assert!(gaps(&store(spec), &openshift()).is_empty());
}

#[test]
fn a_route_for_the_host_the_ingress_publishes_is_not_created_twice() {
    let spec = "networking:\n  ingress: {enabled: true, host: zot.apps.example.com}\n  route: {host: zot.apps.example.com}";
    let desired = on_openshift(spec);
    assert_eq!(desired.route, None);
    assert!(desired.ingress.is_some());
    let gaps = gaps(&store(spec), &openshift());
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].field, "spec.networking.route.host");
    assert!(gaps[0].reason.contains("zot.apps.example.com"), "{gaps:?}");
}

#[test]
fn a_route_and_an_ingress_for_different_hosts_are_both_created() {
    let spec = "networking:\n  ingress: {enabled: true, host: zot.internal.example.com}\n  route: {enabled: true}";
    let desired = on_openshift(spec);
    assert_eq!(
        route_of(&desired).spec.host.as_deref(),
        Some("zot-team.apps.example.com")
    );
    assert!(desired.ingress.is_some());
}

#[test]
fn a_reencrypt_route_gets_zot_a_certificate_from_the_service_ca() {
    let spec = "networking:\n  route: {termination: reencrypt}";
    let inputs = Inputs {
        destination_ca: Some("-----BEGIN CERTIFICATE-----\nservice-ca\n".into()),
        ..Inputs::default()
    };
    let desired = desired(&store(spec), &openshift(), &inputs);
    let tls = route_of(&desired).spec.tls.unwrap();
    assert_eq!(tls.termination, RouteTlsTermination::Reencrypt);
    assert_eq!(
        tls.destination_ca_certificate.as_deref(),
        Some("-----BEGIN CERTIFICATE-----\nservice-ca\n")
    );
    assert_eq!(
        main_service_annotations(&desired)["service.beta.openshift.io/serving-cert-secret-name"],
        "zot-serving-cert"
    );
    assert_eq!(
        volume_secret(&desired, "tls").as_deref(),
        Some("zot-serving-cert")
    );
    assert_eq!(
        config(&desired)["http"]["tls"],
        serde_json::json!({"cert": format!("{TLS_DIR}/tls.crt"), "key": format!("{TLS_DIR}/tls.key")})
    );
    let probe = container(&desired)
        .readiness_probe
        .unwrap()
        .http_get
        .unwrap();
    assert_eq!(probe.scheme.as_deref(), Some("HTTPS"));
    assert_eq!(
        destination_ca_source(&store(spec), &openshift()),
        Some(CaSource::ConfigMap {
            name: "openshift-service-ca.crt".into(),
            key: "service-ca.crt".into()
        })
    );
    assert_eq!(
        serving_certificate(&store(spec), &openshift()),
        Some(ServingCertificate::ServiceCa {
            secret: "zot-serving-cert".into()
        })
    );
}

#[test]
fn the_service_ca_annotation_joins_the_users_service_annotations() {
    let spec = "networking:\n  service:\n    annotations: {team: registry}\n  route: {termination: reencrypt}";
    let annotations = main_service_annotations(&on_openshift(spec));
    assert_eq!(annotations["team"], "registry");
    assert_eq!(
        annotations["service.beta.openshift.io/serving-cert-secret-name"],
        "zot-serving-cert"
    );
}

#[test]
fn a_reencrypt_route_with_the_users_certificate_trusts_its_ca() {
    let spec =
        "networking:\n  route: {termination: reencrypt}\ntls: {enabled: true, secretName: zot-tls}";
    let desired = on_openshift(spec);
    assert_eq!(termination(&desired), RouteTlsTermination::Reencrypt);
    assert_eq!(volume_secret(&desired, "tls").as_deref(), Some("zot-tls"));
    assert!(
        !main_service_annotations(&desired)
            .contains_key("service.beta.openshift.io/serving-cert-secret-name")
    );
    assert_eq!(
        destination_ca_source(&store(spec), &openshift()),
        Some(CaSource::Secret {
            name: "zot-tls".into(),
            key: "ca.crt".into()
        })
    );
}

#[test]
fn a_passthrough_route_sends_tls_to_zots_own_certificate() {
    let spec = "networking:\n  route: {termination: passthrough}\ntls: {enabled: true, secretName: zot-tls}";
    let inputs = Inputs {
        destination_ca: Some("unused".into()),
        ..Inputs::default()
    };
    let desired = desired(&store(spec), &openshift(), &inputs);
    let tls = route_of(&desired).spec.tls.unwrap();
    assert_eq!(tls.termination, RouteTlsTermination::Passthrough);
    assert_eq!(tls.destination_ca_certificate, None);
    assert_eq!(
        tls.insecure_edge_termination_policy,
        Some(RouteTlsInsecureEdgeTerminationPolicy::Redirect)
    );
    assert_eq!(volume_secret(&desired, "tls").as_deref(), Some("zot-tls"));
    assert_eq!(
        config(&desired)["http"]["tls"]["cert"],
        format!("{TLS_DIR}/tls.crt")
    );
    assert!(main_service_annotations(&desired).is_empty());
    assert_eq!(destination_ca_source(&store(spec), &openshift()), None);
}

#[test]
fn an_edge_route_in_front_of_zots_own_tls_re_encrypts_and_says_so() {
    let spec =
        "networking:\n  route: {termination: edge}\ntls: {enabled: true, secretName: zot-tls}";
    assert_eq!(
        termination(&on_openshift(spec)),
        RouteTlsTermination::Reencrypt
    );
    let gaps = gaps(&store(spec), &openshift());
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].field, "spec.networking.route.termination");
    let implicit = "tls: {enabled: true, secretName: zot-tls}";
    assert_eq!(
        termination(&on_openshift(implicit)),
        RouteTlsTermination::Reencrypt
    );
    assert!(
        gaps_on_openshift(implicit).is_empty(),
        "the default Route picks reencrypt by itself"
    );
    assert!(gaps_on_openshift("networking:\n  route: {termination: edge}").is_empty());
}

fn gaps_on_openshift(spec: &str) -> Vec<Gap> {
    gaps(&store(spec), &openshift())
}

#[test]
fn a_default_host_with_an_overlong_first_label_is_a_gap_not_a_refused_route() {
    let long = format!(
        "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata: {{name: {}, namespace: {}}}\nspec: {{}}\n",
        "z".repeat(40),
        "n".repeat(30)
    );
    let raw: crate::api::v1alpha1::ZotArtifactStore = serde_yaml::from_str(&long).unwrap();
    let long_store = crate::validate::validate(&raw, "default").unwrap();
    assert_eq!(desired_for(&long_store, &openshift()).route, None);
    let gaps = gaps(&long_store, &openshift());
    assert_eq!(gaps[0].field, "spec.networking.route.host");
    assert!(gaps[0].reason.contains("71 characters"), "{gaps:?}");
}

#[test]
fn on_openshift_zot_trusts_the_clusters_injected_ca_bundle() {
    let desired = on_openshift("{}");
    let bundle = desired.trusted_ca_bundle.clone().unwrap();
    assert_eq!(bundle.metadata.name.as_deref(), Some("zot-trusted-ca"));
    assert_eq!(
        bundle.metadata.labels.unwrap()["config.openshift.io/inject-trusted-cabundle"],
        "true"
    );
    assert_eq!(bundle.data, None, "OpenShift injects the data");
    let pod = pod_spec(&desired);
    let volume = pod
        .volumes
        .unwrap()
        .into_iter()
        .find(|v| v.name == "trusted-ca")
        .unwrap()
        .config_map
        .unwrap();
    assert_eq!(volume.name, "zot-trusted-ca");
    assert_eq!(volume.optional, Some(true));
    let item = &volume.items.unwrap()[0];
    assert_eq!(
        (item.key.as_str(), item.path.as_str()),
        ("ca-bundle.crt", "tls-ca-bundle.pem")
    );
    let mount = pod.containers[0]
        .volume_mounts
        .clone()
        .unwrap()
        .into_iter()
        .find(|m| m.name == "trusted-ca")
        .unwrap();
    assert_eq!(mount.mount_path, "/etc/pki/ca-trust/extracted/pem");
    assert_eq!(mount.read_only, Some(true));
    assert_eq!(
        env(&desired)["SSL_CERT_FILE"],
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"
    );
}

#[test]
fn a_newly_injected_ca_bundle_rolls_the_pods() {
    let hash = |version: Option<&str>| {
        let inputs = Inputs {
            trusted_ca_version: version.map(str::to_string),
            ..Inputs::default()
        };
        config_hash(&zot_config(&store("{}"), &openshift()), &inputs)
    };
    assert_ne!(hash(None), hash(Some("1")));
    assert_ne!(hash(Some("1")), hash(Some("2")));
}

#[test]
fn the_cluster_proxy_reaches_zots_environment_on_every_platform() {
    let proxy = Proxy {
        http_proxy: Some("http://proxy.corp:3128".into()),
        https_proxy: Some("http://proxy.corp:3128".into()),
        no_proxy: Some(".cluster.local,.svc,10.0.0.0/16".into()),
    };
    for mut platform in [Platform::kubernetes(), openshift()] {
        platform.proxy = proxy.clone();
        let env = env(&desired_for(&store("{}"), &platform));
        for name in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"] {
            assert_eq!(env[name], "http://proxy.corp:3128", "{name}");
        }
        assert_eq!(env["NO_PROXY"], ".cluster.local,.svc,10.0.0.0/16");
        assert_eq!(env["no_proxy"], ".cluster.local,.svc,10.0.0.0/16");
    }
    assert!(!env(&k8s("{}")).contains_key("HTTP_PROXY"));
}

#[test]
fn the_service_monitor_trusts_the_service_ca_behind_a_reencrypt_route() {
    let spec = "networking:\n  route: {termination: reencrypt}\nmetrics:\n  prometheus:\n    serviceMonitor: {enabled: true}";
    let monitor = on_openshift(spec).service_monitor.unwrap();
    let endpoint = &monitor.data["spec"]["endpoints"][0];
    assert_eq!(endpoint["scheme"], "https");
    assert_eq!(
        endpoint["tlsConfig"],
        serde_json::json!({
            "ca": {"configMap": {"name": "openshift-service-ca.crt", "key": "service-ca.crt"}},
            "serverName": "zot.team.svc",
        })
    );
}

#[test]
fn desired_objects_name_the_route_and_the_trusted_ca_bundle_by_kind_in_debug() {
    let debug = format!("{:?}", on_openshift("{}"));
    assert!(debug.contains("\"Route\": [\"zot\"]"), "{debug}");
    assert!(
        debug.contains("\"ConfigMap\": [\"zot-trusted-ca\"]"),
        "{debug}"
    );
    assert!(!debug.contains("config.json"), "names only: {debug}");
}
