//! The registry itself, end to end. On the local cluster every store's pods are real zot processes (zot-podrunner,
//! the test platform's kubelet for zot pods), and an OCI client — oras — pushes to and pulls from them through the
//! addresses of the pods behind the store's Service.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use support::registry::htpasswd_line;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use support::registry::{
    http, image_files, oras, oras_ok, push_image, random_bytes, referrers, same_file,
    wait_ready_pods, write,
};
use support::tls::Zot;
use support::{Flavour, TestNamespace, condition, eventually, kubectl};

const V: Flavour = Flavour::Vanilla;
const WAIT: Duration = Duration::from_secs(180);

/// oras arguments followed by the TLS flags of a [`Zot`].
fn with<'a>(args: &[&'a str], tls: &[&'a str]) -> Vec<&'a str> {
    [args, tls].concat()
}

async fn setup(prefix: &str) -> TestNamespace {
    support::operator::shared(V);
    TestNamespace::new(
        V,
        prefix,
        &[("pod-security.kubernetes.io/enforce", "restricted")],
    )
    .await
}

fn apply(ns: &str, yaml: &str) {
    support::apply(V, ns, yaml);
}

async fn wait_ready(ns: &str, name: &str) -> Value {
    support::ready(V, ns, name).await
}

#[tokio::test]
async fn the_minimal_sample_serves_what_was_pushed_with_its_referrers_across_a_pod_restart() {
    let ns = setup("registry-minimal").await;
    let sample =
        std::fs::read_to_string(support::repo_root().join("config/samples/minimal.yaml")).unwrap();
    apply(&ns.name, &sample);
    let store = wait_ready(&ns.name, "minimal-artifact-store").await;
    assert_eq!(
        condition(&store, "Ready").unwrap().2,
        "the registry is serving",
        "{store}"
    );
    let pods = wait_ready_pods(V, &ns.name, "minimal-artifact-store", 1).await;
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    // TLS by default: clients reach zot by its Service name and trust the store's CA.
    let zot = Zot::trusting_store_ca(V, &ns.name, "minimal-artifact-store", &pods[0].1, w);
    assert_eq!(zot.http("GET", "/v2/", &[]).0, 200, "zot answers /v2/");
    let tls = zot.oras_flags();
    let tls: Vec<&str> = tls.iter().map(String::as_str).collect();
    image_files(w);
    write(w, "notes.txt", &random_bytes(4096));
    write(
        w,
        "sbom.spdx.json",
        format!("{{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"{}\"}}", ns.name).as_bytes(),
    );
    let image = zot.reference("demo/app:v1");
    let artifact = zot.reference("demo/notes:v1");
    push_image(w, &image, &tls);
    oras_ok(
        &with(
            &[
                "push",
                &artifact,
                "--artifact-type",
                "application/vnd.example.notes",
                "notes.txt:text/plain",
            ],
            &tls,
        ),
        w,
    );
    oras_ok(
        &with(
            &[
                "attach",
                &image,
                "--artifact-type",
                "application/spdx+json",
                "sbom.spdx.json:application/spdx+json",
            ],
            &tls,
        ),
        w,
    );

    let check = |w: &Path, zot: &Zot| {
        let tls = zot.oras_flags();
        let tls: Vec<&str> = tls.iter().map(String::as_str).collect();
        let image = zot.reference("demo/app:v1");
        let artifact = zot.reference("demo/notes:v1");
        let out = w.join("out");
        let _ = std::fs::remove_dir_all(&out);
        oras_ok(&with(&["pull", &image, "-o", "out"], &tls), w);
        same_file(&w.join("layer.tar.gz"), &out.join("layer.tar.gz"));
        oras_ok(&with(&["pull", &artifact, "-o", "out"], &tls), w);
        same_file(&w.join("notes.txt"), &out.join("notes.txt"));
        let found = referrers(&oras_ok(
            &with(&["discover", &image, "--format", "json"], &tls),
            w,
        ));
        let sbom = found
            .iter()
            .find(|r| r["artifactType"] == "application/spdx+json")
            .unwrap_or_else(|| panic!("oras discover lists no SBOM referrer: {found:?}"));
        let digest = sbom["digest"].as_str().unwrap();
        oras_ok(
            &with(
                &[
                    "pull",
                    &zot.reference(&format!("demo/app@{digest}")),
                    "-o",
                    "out",
                ],
                &tls,
            ),
            w,
        );
        same_file(&w.join("sbom.spdx.json"), &out.join("sbom.spdx.json"));
    };
    check(w, &zot);

    // A new pod (a new address, as with any kubelet) on the same volume still has everything.
    let (ok, _, err) = kubectl(
        V,
        &["delete", "pod", "-n", &ns.name, &pods[0].0, "--wait=true"],
        None,
    );
    assert!(ok, "{err}");
    let after = wait_ready_pods(V, &ns.name, "minimal-artifact-store", 1).await;
    check(
        w,
        &Zot::trusting_store_ca(V, &ns.name, "minimal-artifact-store", &after[0].1, w),
    );
}

fn auth_store(anonymous: &str) -> String {
    format!(
        r#"apiVersion: artifact.zotregistry.io/v1alpha1
kind: ZotArtifactStore
metadata:
  name: guarded
spec:
  rbac:
    enabled: true
    htpasswd: {{name: users, key: htpasswd}}
    anonymousPolicy: {anonymous}
    policies:
    - repositories: ["**"]
      users: [writer]
      actions: [read, create]
    - repositories: ["**"]
      users: [reader]
      actions: [read]
"#
    )
}

#[tokio::test]
async fn htpasswd_users_get_exactly_what_their_policies_say_and_a_policy_change_reaches_the_running_zot()
 {
    let ns = setup("registry-auth").await;
    let htpasswd = format!(
        "{}\n{}\n",
        htpasswd_line("writer", "w-secret"),
        htpasswd_line("reader", "r-secret")
    );
    let secret = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "users"},
        "stringData": {"htpasswd": htpasswd},
    });
    apply(&ns.name, &secret.to_string());
    apply(&ns.name, &auth_store("[read]"));
    wait_ready(&ns.name, "guarded").await;
    let pods = wait_ready_pods(V, &ns.name, "guarded", 1).await;
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let zot = Zot::trusting_store_ca(V, &ns.name, "guarded", &pods[0].1, w);
    let tls = zot.oras_flags();
    let tls: Vec<&str> = tls.iter().map(String::as_str).collect();
    let uploads = "/v2/team/app/blobs/uploads/";

    assert_eq!(
        zot.http("POST", uploads, &[]).0,
        401,
        "anonymous push is refused"
    );
    assert_eq!(
        zot.http("POST", uploads, &["-u", "reader:r-secret"]).0,
        403,
        "read-only user cannot push"
    );
    assert_eq!(
        zot.http("POST", uploads, &["-u", "writer:w-wrong"]).0,
        401,
        "a wrong password is refused"
    );
    image_files(w);
    let image = zot.reference("team/app:v1");
    let (ok, _, err) = oras(&with(&["push", &image, "layer.tar.gz"], &tls), w);
    // zot answers 401 (curl above); oras reports it as missing credentials.
    assert!(
        !ok && (err.contains("401") || err.contains("credential")),
        "anonymous oras push is refused: {err}"
    );
    push_image(w, &image, &with(&["-u", "writer", "-p", "w-secret"], &tls));
    oras_ok(
        &with(
            &[
                "pull",
                &image,
                "-u",
                "reader",
                "-p",
                "r-secret",
                "-o",
                "by-reader",
            ],
            &tls,
        ),
        w,
    );
    same_file(&w.join("layer.tar.gz"), &w.join("by-reader/layer.tar.gz"));
    let (ok, _, err) = oras(
        &with(
            &[
                "push",
                &zot.reference("team/other:v1"),
                "-u",
                "reader",
                "-p",
                "r-secret",
                "layer.tar.gz",
            ],
            &tls,
        ),
        w,
    );
    assert!(!ok, "reader's oras push is refused: {err}");
    assert_eq!(
        zot.http(
            "GET",
            "/v2/team/other/manifests/v1",
            &["-u", "writer:w-secret"]
        )
        .0,
        404,
        "nothing of the reader's push landed"
    );
    let tags = "/v2/team/app/tags/list";
    assert_eq!(
        zot.http("GET", tags, &[]).0,
        200,
        "anonymousPolicy [read] lets anyone pull"
    );

    // Taking anonymous read away rolls zot onto the new configuration: the new process refuses anonymous reads.
    apply(&ns.name, &auth_store("[]"));
    eventually("the rolled zot to refuse anonymous reads", WAIT, || async {
        let pods = support::registry::ready_pods(V, &ns.name, "guarded");
        let (_, ip) = pods.first()?;
        let zot = Zot::trusting_store_ca(V, &ns.name, "guarded", ip, w);
        (zot.http("GET", tags, &[]).0 == 401).then_some(())
    })
    .await;
    let pods = wait_ready_pods(V, &ns.name, "guarded", 1).await;
    let zot = Zot::trusting_store_ca(V, &ns.name, "guarded", &pods[0].1, w);
    let (code, body) = zot.http("GET", tags, &["-u", "reader:r-secret"]);
    assert_eq!(code, 200, "the reader still reads: {body}");
    assert!(body.contains("v1"), "{body}");
}

/// A CA and a serving certificate for `host` made with the openssl CLI, in `dir`.
fn certificates(dir: &Path, host: &str) {
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        &format!("/CN={host}"),
        "-keyout",
        "tls.key",
        "-out",
        "tls.csr",
    ]);
    std::fs::write(dir.join("ext.cnf"), format!("subjectAltName=DNS:{host}\n")).unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "tls.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "tls.crt",
    ]);
}

fn tls_secret(dir: &Path, name: &str) -> String {
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    serde_json::json!({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls", "metadata": {"name": name},
        "stringData": {"tls.crt": read("tls.crt"), "tls.key": read("tls.key"), "ca.crt": read("ca.crt")},
    })
    .to_string()
}

#[tokio::test]
async fn with_tls_zot_serves_the_secrets_certificate_and_clients_trust_it_through_its_ca() {
    let ns = setup("registry-tls").await;
    let host = format!("secure.{}.svc", ns.name);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    certificates(w, &host);
    apply(&ns.name, &tls_secret(w, "serving"));
    apply(
        &ns.name,
        "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: secure\nspec:\n  tls:\n    enabled: true\n    secretName: serving\n",
    );
    wait_ready(&ns.name, "secure").await;
    let pods = wait_ready_pods(V, &ns.name, "secure", 1).await;
    let resolve = format!("{host}:5000:{}:5000", pods[0].1);
    let image = format!("{host}:5000/demo/app:v1");
    image_files(w);
    push_image(w, &image, &["--ca-file", "ca.crt", "--resolve", &resolve]);
    oras_ok(
        &[
            "pull",
            &image,
            "--ca-file",
            "ca.crt",
            "--resolve",
            &resolve,
            "-o",
            "out",
        ],
        w,
    );
    same_file(&w.join("layer.tar.gz"), &w.join("out/layer.tar.gz"));
    let (ok, _, err) = oras(&["pull", &image, "--resolve", &resolve, "-o", "out2"], w);
    assert!(
        !ok && err.contains("certificate"),
        "without the CA the client refuses the certificate: {err}"
    );
    let (code, _) = http("GET", &format!("http://{}:5000/v2/", pods[0].1), &[]);
    assert_ne!(code, 200, "plain HTTP is not served");
}

/// Sum of a metric's samples in a Prometheus text exposition.
fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.split(['{', ' ']).next() == Some(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn zots_metrics_on_the_port_the_metrics_service_targets_parse_with_promtool_and_move_with_a_push()
 {
    let ns = setup("registry-metrics").await;
    let sample =
        std::fs::read_to_string(support::repo_root().join("config/samples/minimal.yaml")).unwrap();
    apply(&ns.name, &sample);
    wait_ready(&ns.name, "minimal-artifact-store").await;
    let service = support::get(V, &ns.name, "service/minimal-artifact-store-metrics").unwrap();
    let target = service["spec"]["ports"][0]["targetPort"].clone();
    let pod = support::list(V, &ns.name, "pods")
        .into_iter()
        .next()
        .unwrap();
    let port = pod["spec"]["containers"][0]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == target || p["containerPort"] == target)
        .unwrap_or_else(|| {
            panic!("the metrics Service targets {target}, which the pod does not expose")
        })["containerPort"]
        .as_i64()
        .unwrap();
    let pods = wait_ready_pods(V, &ns.name, "minimal-artifact-store", 1).await;
    let work = tempfile::tempdir().unwrap();
    // zot serves its metrics over TLS (the default), as the ServiceMonitor scrapes them: with the store's CA.
    let zot = Zot::trusting_store_ca(
        V,
        &ns.name,
        "minimal-artifact-store",
        &pods[0].1,
        work.path(),
    );
    assert_eq!(port, 5000, "zot serves its metrics on its registry port");
    let scrape = || {
        let (code, body) = zot.http("GET", "/metrics", &[]);
        assert_eq!(code, 200, "{body}");
        body
    };
    let before = scrape();
    let mut promtool = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool (hack/system-deps.sh installs it)");
    std::io::Write::write_all(&mut promtool.stdin.take().unwrap(), before.as_bytes()).unwrap();
    let out = promtool.wait_with_output().unwrap();
    let report =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        !report.contains("error while linting") && !report.contains("parse"),
        "promtool: {report}"
    );
    let requests = "zot_http_requests_total";
    image_files(work.path());
    let tls = zot.oras_flags();
    let tls: Vec<&str> = tls.iter().map(String::as_str).collect();
    push_image(work.path(), &zot.reference("demo/app:v1"), &tls);
    let after = eventually(
        "zot's request counter to move after a push",
        Duration::from_secs(30),
        || async {
            let after = scrape();
            (metric_sum(&after, requests) > metric_sum(&before, requests)).then_some(after)
        },
    )
    .await;
    assert!(
        after.contains("zot_repo_storage_bytes")
            || after.contains("zot_repo_downloads_total")
            || metric_sum(&after, requests) > 0.0
    );
}

#[tokio::test]
async fn a_certificate_zot_cannot_load_is_refused_with_what_is_wrong_and_a_running_store_keeps_serving()
 {
    // zot v2.1.20 logs "failed to load certificate and key pair" and exits 0, which leaves a kubelet no message to
    // report: the operator checks the pair itself, before zot sees it.
    let ns = setup("registry-crash").await;
    let broken = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls", "metadata": {"name": "serving"},
        "stringData": {"tls.crt": "not a certificate", "tls.key": "not a key"},
    });
    apply(&ns.name, &broken.to_string());
    apply(
        &ns.name,
        "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: fragile\nspec:\n  tls:\n    enabled: true\n    secretName: serving\n",
    );
    let refused = |needle: &'static str| {
        let ns = ns.name.clone();
        async move {
            eventually(&format!("the store to say: {needle}"), WAIT, || async {
                let store = support::get(V, &ns, "zas/fragile")?;
                let (status, reason, message) = condition(&store, "Ready")?;
                (status == "False" && reason == "InvalidCertificate" && message.contains(needle))
                    .then_some(message)
            })
            .await
        }
    };
    let message = refused("tls.crt holds no PEM certificate").await;
    assert!(
        message.starts_with("spec.tls.secretName: Secret serving"),
        "{message}"
    );
    assert!(
        support::get(V, &ns.name, "statefulset/fragile").is_none(),
        "zot was started anyway"
    );

    // A valid pair serves.
    let work = tempfile::tempdir().unwrap();
    let host = format!("fragile.{}.svc", ns.name);
    certificates(work.path(), &host);
    apply(&ns.name, &tls_secret(work.path(), "serving"));
    wait_ready(&ns.name, "fragile").await;
    let pods = wait_ready_pods(V, &ns.name, "fragile", 1).await;
    let (code, _) = http("GET", &format!("https://{}:5000/v2/", pods[0].1), &["-k"]);
    assert_eq!(code, 200);

    // A renewal whose key belongs to another certificate is refused; the running zot keeps its pair and serves.
    let other = tempfile::tempdir().unwrap();
    certificates(other.path(), &host);
    let mixed = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls", "metadata": {"name": "serving"},
        "stringData": {
            "tls.crt": std::fs::read_to_string(work.path().join("tls.crt")).unwrap(),
            "tls.key": std::fs::read_to_string(other.path().join("tls.key")).unwrap(),
        },
    });
    apply(&ns.name, &mixed.to_string());
    refused("tls.key is not the key of the first certificate of tls.crt").await;
    let still = wait_ready_pods(V, &ns.name, "fragile", 1).await;
    assert_eq!(still[0].0, pods[0].0, "the serving pod was replaced");
    let (code, _) = http("GET", &format!("https://{}:5000/v2/", still[0].1), &["-k"]);
    assert_eq!(code, 200);
}

#[tokio::test]
async fn an_image_tag_no_zot_build_matches_fails_to_pull_and_the_store_says_so() {
    let ns = setup("registry-pull").await;
    apply(
        &ns.name,
        "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: unknown-tag\nspec:\n  image:\n    tag: v2.0.0-none\n",
    );
    let message = eventually("the store to report the failed pull", WAIT, || async {
        let store = support::get(V, &ns.name, "zas/unknown-tag")?;
        let (status, reason, message) = condition(&store, "Ready")?;
        (status == "False" && reason == "ZotNotStarting").then_some(message)
    })
    .await;
    assert!(
        message.contains("ErrImagePull") || message.contains("ImagePullBackOff"),
        "{message}"
    );
    assert!(message.contains("v2.0.0-none"), "{message}");
}
