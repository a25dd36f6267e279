//! TLS by default, end to end on real zot pods: the store's own CA and the serving certificate it signs (names,
//! chain, renewal without a restart), cert-manager's certificate through tls.issuerRef with the real cert-manager
//! controllers (hack/cert-manager), an issuer that never issues, and switching sources rolling the pods.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::operator::Operator;
use support::registry::{http, image_files, oras, oras_ok, push_image, same_file, wait_ready_pods};
use support::tls::{Zot, cert_manager, describe, secret_key, verifies};
use support::{Flavour, TestNamespace, condition, eventually, get};

const V: Flavour = Flavour::Vanilla;

/// The operator of this file: every namespace, serving certificates that live 90 s (renewed after 60 s), so that
/// a test sees a renewal; the other tests do not mind (zot reloads a renewed certificate).
fn operator() {
    static RUNNING: OnceLock<Mutex<Option<Operator>>> = OnceLock::new();
    let mut running = RUNNING.get_or_init(Default::default).lock().unwrap();
    if running.is_none() {
        *running = Some(Operator::start(
            V,
            "tests-tls",
            &[("ZOT_OPERATOR_SERVING_CERT_LIFETIME", "90")],
        ));
    }
}

async fn setup(prefix: &str) -> TestNamespace {
    operator();
    TestNamespace::new(
        V,
        prefix,
        &[("pod-security.kubernetes.io/enforce", "restricted")],
    )
    .await
}

fn store(name: &str, tls: &str) -> String {
    format!(
        "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: {name}\nspec:\n  storage: {{size: 1Gi}}\n{tls}"
    )
}

fn pod_uid(ns: &str, pod: &str) -> String {
    get(V, ns, &format!("pod/{pod}")).unwrap()["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Pushes an image through `zot` (verifying its certificate) and pulls it back byte-identical.
fn push_and_pull(zot: &Zot, w: &Path, tag: &str) {
    let image = zot.reference(&format!("demo/app:{tag}"));
    let flags = zot.oras_flags();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    image_files(w);
    push_image(w, &image, &flags);
    let out = format!("out-{tag}");
    let mut pull = vec!["pull", image.as_str(), "-o", out.as_str()];
    pull.extend_from_slice(&flags);
    oras_ok(&pull, w);
    same_file(&w.join("layer.tar.gz"), &w.join(&out).join("layer.tar.gz"));
}

#[tokio::test]
async fn a_default_store_serves_https_with_a_certificate_of_its_own_ca_for_its_service_names() {
    let ns = setup("tls-default").await;
    support::apply(V, &ns.name, &store("plain", ""));
    support::ready(V, &ns.name, "plain").await;
    let pods = wait_ready_pods(V, &ns.name, "plain", 1).await;
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let zot = Zot::trusting_store_ca(V, &ns.name, "plain", &pods[0].1, w);
    let ca = std::fs::read_to_string(&zot.ca_file).unwrap();

    // The CA is the store's: owned by it, and also in ca.crt of the Secret zot mounts.
    let ca_secret = get(V, &ns.name, "secret/plain-ca").unwrap();
    assert_eq!(
        ca_secret["metadata"]["ownerReferences"][0]["kind"],
        "ZotArtifactStore"
    );
    assert_eq!(
        secret_key(V, &ns.name, "plain-tls", "ca.crt").as_deref(),
        Some(ca.as_str())
    );

    // zot serves a certificate of that CA, for every name of its Service.
    let served = zot.served_certificate();
    let text = describe(&served, w);
    for name in [
        "plain".to_string(),
        format!("plain.{}", ns.name),
        format!("plain.{}.svc", ns.name),
        format!("plain.{}.svc.cluster.local", ns.name),
    ] {
        assert!(text.contains(&format!("DNS:{name}")), "{name} in\n{text}");
        verifies(&served, &ca, &name, w).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert!(verifies(&served, &ca, "other.example.com", w).is_err());

    // Clients that trust the CA push and pull over TLS; one that does not is refused; plain HTTP is not served.
    assert_eq!(zot.http("GET", "/v2/", &[]).0, 200);
    push_and_pull(&zot, w, "v1");
    let image = zot.reference("demo/app:v1");
    let resolve = format!("{}:{}:5000", zot.host, zot.ip);
    let (ok, _, err) = oras(
        &["pull", &image, "--resolve", &resolve, "-o", "untrusted"],
        w,
    );
    assert!(!ok && err.contains("certificate"), "{err}");
    let (code, _) = http("GET", &format!("http://{}:5000/v2/", pods[0].1), &[]);
    assert_ne!(code, 200, "plain HTTP is not served");

    // The CA's key is in its Secret only: not in the operator's log, the events or the status.
    let key = secret_key(V, &ns.name, "plain-ca", "ca.key").unwrap();
    assert!(key.contains("PRIVATE KEY"));
    let body = key.lines().nth(1).unwrap();
    let events = support::kubectl(V, &["get", "events", "-n", &ns.name, "-o", "json"], None).1;
    let status = get(V, &ns.name, "zas/plain").unwrap()["status"].to_string();
    let log =
        std::fs::read_to_string(support::repo_root().join("target/e2e/tests-tls.vanilla.log"))
            .unwrap_or_default();
    for (what, text) in [
        ("events", &events),
        ("status", &status),
        ("operator log", &log),
    ] {
        assert!(!text.contains(body), "the CA key is in the {what}");
    }
}

#[tokio::test]
async fn the_serving_certificate_is_renewed_before_expiry_and_zot_serves_the_new_one_without_a_restart()
 {
    // This file's operator makes serving certificates that live 90 s: renewed after 60 s.
    let ns = setup("tls-renew").await;
    support::apply(V, &ns.name, &store("renew", ""));
    support::ready(V, &ns.name, "renew").await;
    let pods = wait_ready_pods(V, &ns.name, "renew", 1).await;
    let uid = pod_uid(&ns.name, &pods[0].0);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let zot = Zot::trusting_store_ca(V, &ns.name, "renew", &pods[0].1, w);
    let ca = std::fs::read_to_string(&zot.ca_file).unwrap();
    let first = zot.served_certificate();
    let not_after = |pem: &str| {
        describe(pem, w)
            .lines()
            .find(|l| l.contains("Not After"))
            .unwrap()
            .to_string()
    };
    let first_end = not_after(&first);

    // Every second a verified request, until zot serves a new certificate (at most 100 s: renewal comes at 60 s,
    // the pod's Secret volume follows within seconds and zot reloads it).
    let start = Instant::now();
    let mut requests = 0;
    let renewed = loop {
        let (code, body) = zot.http("GET", "/v2/", &[]);
        assert_eq!(
            code,
            200,
            "request {requests} after {:?}: {body}",
            start.elapsed()
        );
        requests += 1;
        let served = zot.served_certificate();
        if !served.is_empty() && served != first {
            break served;
        }
        assert!(
            start.elapsed() < Duration::from_secs(100),
            "zot still serves the first certificate after {:?}",
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    assert!(requests > 20, "renewed after {requests} requests only");
    assert_ne!(not_after(&renewed), first_end, "a new validity");
    verifies(&renewed, &ca, &format!("renew.{}.svc", ns.name), w).unwrap();
    // The same pod, never restarted: zot reloaded the certificate.
    let now = wait_ready_pods(V, &ns.name, "renew", 1).await;
    assert_eq!(pod_uid(&ns.name, &now[0].0), uid, "the pod was replaced");
    let pod = get(V, &ns.name, &format!("pod/{}", now[0].0)).unwrap();
    assert_eq!(pod["status"]["containerStatuses"][0]["restartCount"], 0);
    push_and_pull(&zot, w, "after-renewal");
}

/// A CA for cert-manager's CA Issuer, made with openssl: the Secret `team-ca-key` (tls.crt, tls.key).
fn team_ca(dir: &Path) -> String {
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=team CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
            "-keyout",
        ])
        .arg(dir.join("team-ca.key"))
        .arg("-out")
        .arg(dir.join("team-ca.crt"))
        .output()
        .unwrap()
        .status
        .success();
    assert!(ok, "openssl could not make the team CA");
    std::fs::read_to_string(dir.join("team-ca.crt")).unwrap()
}

async fn store_condition(
    ns: &str,
    name: &str,
    type_: &str,
    status: &str,
) -> (Value, String, String) {
    eventually(
        &format!("zas/{name} {type_}={status}"),
        Duration::from_secs(120),
        || async {
            let store = get(V, ns, &format!("zas/{name}"))?;
            let (s, reason, message) = condition(&store, type_)?;
            (s == status
                && store["status"]["observedGeneration"] == store["metadata"]["generation"])
                .then_some((store, reason, message))
        },
    )
    .await
}

#[tokio::test]
async fn an_issuer_ref_serves_cert_managers_certificate_an_issuer_that_never_issues_says_why_and_switching_rolls_the_pods()
 {
    cert_manager(V);
    let ns = setup("tls-issuer").await;
    let work = tempfile::tempdir().unwrap();
    let w = work.path();

    // A store whose issuer never issues (it does not exist): TLSReady=False with the reason, retried, and
    // nothing of zot is created.
    support::apply(
        V,
        &ns.name,
        &store("never", "  tls:\n    issuerRef: {name: nobody}\n"),
    );
    let (_, reason, message) = store_condition(&ns.name, "never", "TLSReady", "False").await;
    assert_eq!(reason, "CertificateNotIssued", "{message}");
    assert!(message.contains("Issuer nobody"), "{message}");
    assert!(
        get(V, &ns.name, "certificate/never").is_some(),
        "the Certificate is asked for"
    );
    assert!(
        get(V, &ns.name, "statefulset/never").is_none(),
        "no zot without its certificate"
    );
    let (_, ready_reason, _) = store_condition(&ns.name, "never", "Ready", "False").await;
    assert_eq!(ready_reason, "CertificateNotIssued");

    // A running store (the operator's CA) switched to an issuer that is not there yet keeps its pod serving.
    support::apply(V, &ns.name, &store("switch", ""));
    support::ready(V, &ns.name, "switch").await;
    let pods = wait_ready_pods(V, &ns.name, "switch", 1).await;
    let first_uid = pod_uid(&ns.name, &pods[0].0);
    let operator_zot = Zot::trusting_store_ca(V, &ns.name, "switch", &pods[0].1, w);
    push_and_pull(&operator_zot, w, "v1");
    support::apply(
        V,
        &ns.name,
        &store("switch", "  tls:\n    issuerRef: {name: team-ca}\n"),
    );
    let (_, reason, message) = store_condition(&ns.name, "switch", "TLSReady", "False").await;
    assert_eq!(reason, "CertificateNotIssued", "{message}");
    tokio::time::sleep(Duration::from_secs(15)).await;
    let still = wait_ready_pods(V, &ns.name, "switch", 1).await;
    assert_eq!(
        pod_uid(&ns.name, &still[0].0),
        first_uid,
        "the running pod was left alone"
    );
    assert_eq!(
        operator_zot.http("GET", "/v2/", &[]).0,
        200,
        "it still serves"
    );

    // The CA Issuer appears: cert-manager issues, the pods roll and serve cert-manager's certificate.
    let team = team_ca(w);
    let secret = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls", "metadata": {"name": "team-ca-key"},
        "stringData": {
            "tls.crt": team,
            "tls.key": std::fs::read_to_string(w.join("team-ca.key")).unwrap(),
        },
    });
    support::apply(V, &ns.name, &secret.to_string());
    support::apply(
        V,
        &ns.name,
        "apiVersion: cert-manager.io/v1\nkind: Issuer\nmetadata:\n  name: team-ca\nspec:\n  ca:\n    secretName: team-ca-key\n",
    );
    support::ready(V, &ns.name, "switch").await;
    let rolled = eventually("the pod to roll", Duration::from_secs(120), || async {
        let pods = support::registry::ready_pods(V, &ns.name, "switch");
        (pods.len() == 1 && pod_uid(&ns.name, &pods[0].0) != first_uid).then_some(pods)
    })
    .await;
    let issued_ca = secret_key(V, &ns.name, "switch-issued-tls", "ca.crt").unwrap();
    assert_eq!(
        issued_ca.trim(),
        team.trim(),
        "cert-manager's CA issuer puts its CA in ca.crt"
    );
    let cm_zot = Zot::new(&ns.name, "switch", &rolled[0].1, &team, w);
    let served = cm_zot.served_certificate();
    verifies(
        &served,
        &team,
        &format!("switch.{}.svc.cluster.local", ns.name),
        w,
    )
    .unwrap();
    push_and_pull(&cm_zot, w, "v2");
    let certificate = get(V, &ns.name, "certificate/switch").unwrap();
    assert_eq!(certificate["spec"]["issuerRef"]["name"], "team-ca");
    assert!(
        get(V, &ns.name, "secret/switch-ca").is_none()
            && get(V, &ns.name, "secret/switch-tls").is_none(),
        "the operator's CA and certificate go with their source"
    );

    // TLS off: the pods roll again and serve plain HTTP.
    support::apply(
        V,
        &ns.name,
        &store("switch", "  tls:\n    enabled: false\n"),
    );
    let second_uid = pod_uid(&ns.name, &rolled[0].0);
    let plain = eventually(
        "the pod to roll to plain HTTP",
        Duration::from_secs(120),
        || async {
            let pods = support::registry::ready_pods(V, &ns.name, "switch");
            (pods.len() == 1 && pod_uid(&ns.name, &pods[0].0) != second_uid).then_some(pods)
        },
    )
    .await;
    let (code, _) = http("GET", &format!("http://{}:5000/v2/", plain[0].1), &[]);
    assert_eq!(code, 200, "plain HTTP after tls.enabled: false");
    eventually(
        "the former issuer's Certificate to go",
        Duration::from_secs(60),
        || async {
            get(V, &ns.name, "certificate/switch")
                .is_none()
                .then_some(())
        },
    )
    .await;
    let out = w.join("plain");
    let _ = std::fs::remove_dir_all(&out);
    oras_ok(
        &[
            "pull",
            &format!("{}:5000/demo/app:v2", plain[0].1),
            "--plain-http",
            "-o",
            "plain",
        ],
        w,
    );
}
