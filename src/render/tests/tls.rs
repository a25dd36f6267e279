//! TLS by default: where zot's certificate comes from, the names it holds, the Secrets and the cert-manager
//! Certificate rendered for it, and where clients read its CA.
use std::time::SystemTime;

use pretty_assertions::assert_eq;

use super::*;
use crate::pki;

fn operator_tls() -> OperatorTls {
    let now = SystemTime::now();
    let ca = pki::new_ca("ca", now, pki::CA_LIFETIME).unwrap();
    let serving = pki::issue(&ca, &["zot".into()], now, pki::SERVING_LIFETIME).unwrap();
    OperatorTls { ca, serving }
}

#[test]
fn a_store_that_says_nothing_serves_the_operators_certificate_over_https() {
    let s = store("{}");
    let k8s_platform = Platform::kubernetes();
    assert_eq!(
        serving_certificate(&s, &k8s_platform),
        Some(ServingCertificate::Operator {
            secret: "zot-tls".into()
        })
    );
    let inputs = Inputs {
        operator_tls: Some(operator_tls()),
        ..Inputs::default()
    };
    let desired = desired(&s, &k8s_platform, &inputs);
    let names: Vec<_> = desired
        .tls_secrets
        .iter()
        .map(|s| (s.metadata.name.clone().unwrap(), s.type_.clone().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            ("zot-ca".to_string(), "Opaque".to_string()),
            ("zot-tls".to_string(), "kubernetes.io/tls".to_string())
        ]
    );
    let serving = desired.tls_secrets[1].data.as_ref().unwrap();
    assert!(serving.contains_key("tls.crt") && serving.contains_key("tls.key"));
    assert_eq!(
        serving["ca.crt"],
        desired.tls_secrets[0].data.as_ref().unwrap()["ca.crt"]
    );
    assert_eq!(
        config(&desired)["http"]["tls"],
        serde_json::json!({"cert": "/var/run/secrets/zot/tls/tls.crt", "key": "/var/run/secrets/zot/tls/tls.key"})
    );
    let probe = pod_spec(&desired).containers[0]
        .readiness_probe
        .clone()
        .unwrap();
    assert_eq!(probe.http_get.unwrap().scheme.as_deref(), Some("HTTPS"));
    assert_eq!(
        client_ca_source(&s, &k8s_platform),
        Some(CaSource::Secret {
            name: "zot-ca".into(),
            key: "ca.crt".into()
        })
    );
    // Offline (no pairs known), the Secrets are not rendered.
    assert!(k8s("{}").tls_secrets.is_empty());
}

#[test]
fn tls_enabled_false_serves_plain_http_and_keeps_no_ca() {
    let s = store("tls: {enabled: false}");
    assert_eq!(serving_certificate(&s, &Platform::kubernetes()), None);
    let desired = k8s("tls: {enabled: false}");
    assert_eq!(config(&desired)["http"].get("tls"), None);
    let probe = pod_spec(&desired).containers[0]
        .readiness_probe
        .clone()
        .unwrap();
    assert_eq!(probe.http_get.unwrap().scheme.as_deref(), Some("HTTP"));
    assert_eq!(client_ca_source(&s, &Platform::kubernetes()), None);
}

#[test]
fn the_certificate_names_the_service_in_every_form_and_the_published_hosts() {
    let spec = "networking:\n  ingress: {enabled: true, host: zot.example.com}";
    assert_eq!(
        serving_names(&store(spec), &Platform::kubernetes()),
        [
            "zot",
            "zot.team",
            "zot.team.svc",
            "zot.team.svc.cluster.local",
            "zot.example.com"
        ]
    );
    let openshift = Platform::openshift(Some("apps.example.com".into()));
    assert_eq!(
        serving_names(&store("{}"), &openshift)
            .last()
            .map(String::as_str),
        Some("zot-team.apps.example.com")
    );
}

#[test]
fn an_issuer_ref_becomes_a_cert_manager_certificate_whose_secret_zot_serves() {
    let spec = "tls:\n  issuerRef: {name: team-ca}";
    let s = store(spec);
    let k8s_platform = Platform::kubernetes();
    assert_eq!(
        serving_certificate(&s, &k8s_platform),
        Some(ServingCertificate::CertManager {
            secret: "zot-issued-tls".into()
        })
    );
    let certificate = certificate(&s, &k8s_platform).unwrap();
    assert_eq!(certificate.metadata.name.as_deref(), Some("zot"));
    assert!(certificate.metadata.owner_references.is_some());
    assert_eq!(
        certificate.data["spec"],
        serde_json::json!({
            "secretName": "zot-issued-tls",
            "dnsNames": ["zot", "zot.team", "zot.team.svc", "zot.team.svc.cluster.local"],
            "issuerRef": {"name": "team-ca", "kind": "Issuer", "group": "cert-manager.io"},
            "usages": ["server auth", "digital signature", "key encipherment"],
            "privateKey": {"rotationPolicy": "Always"},
        })
    );
    let desired = k8s(spec);
    let volumes = pod_spec(&desired).volumes.unwrap();
    let tls = volumes.iter().find(|v| v.name == "tls").unwrap();
    assert_eq!(
        tls.secret.as_ref().unwrap().secret_name.as_deref(),
        Some("zot-issued-tls")
    );
    assert!(desired.tls_secrets.is_empty());
    assert_eq!(
        client_ca_source(&s, &k8s_platform),
        Some(CaSource::Secret {
            name: "zot-issued-tls".into(),
            key: "ca.crt".into()
        })
    );
    assert_eq!(super::certificate(&store("{}"), &k8s_platform), None);
}

#[test]
fn switching_the_source_of_the_certificate_changes_the_pod_template() {
    let template = |spec: &str| {
        let desired = k8s(spec);
        serde_json::to_value(desired.statefulset.unwrap().spec.unwrap().template).unwrap()
    };
    let specs = [
        "{}",
        "tls: {enabled: false}",
        "tls: {secretName: mine}",
        "tls:\n  issuerRef: {name: team-ca}",
    ];
    for (i, a) in specs.iter().enumerate() {
        for b in &specs[i + 1..] {
            assert_ne!(template(a), template(b), "{a} vs {b}");
        }
    }
}
