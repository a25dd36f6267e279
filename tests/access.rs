//! Push and pull Secrets (ZotPushSecret, ZotPullSecret) end to end on real zot pods: a pipeline namespace pushes
//! with its push Secret's config.json as DOCKER_CONFIG, a workload namespace pulls with its pull Secret and cannot
//! push, a namespace the store does not allow gets nothing, a scope outside the allowed one is refused, and
//! deleting a request takes its credential away. Clients reach zot at the Secret's `hostname` (the in-cluster
//! Service name), resolved to the pod's address with oras' --resolve.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#[path = "access_cel.rs"]
#[allow(dead_code)]
mod access_cel;
mod support;

use support::registry::htpasswd_line;

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use serde_json::Value;
use support::registry::{
    http, image_files, oras_with_docker_config, push_image, wait_ready_pods, write,
};
use support::{Flavour, TestNamespace, condition, eventually, get, kubectl};

const V: Flavour = Flavour::Vanilla;
const WAIT: Duration = Duration::from_secs(180);

/// A store with an htpasswd user of its own (`admin`) and spec.access letting namespaces labelled `label` ask,
/// pull access to `shared` for all of them.
fn store_yaml(label: &str, shared: &str) -> String {
    format!(
        r#"apiVersion: artifact.zotregistry.io/v1alpha1
kind: ZotArtifactStore
metadata:
  name: hub
spec:
  # Plain HTTP on purpose: the Secrets then carry no ca.crt (over_tls_… covers HTTPS).
  tls: {{enabled: false}}
  rbac:
    enabled: true
    htpasswd: {{name: users, key: htpasswd}}
    adminUsers: [admin]
  access:
    namespaceSelector:
      matchLabels: {{zot-operator.test/access: "{label}"}}
    sharedRepositories: ["{shared}"]
"#
    )
}

fn request_yaml(kind: &str, name: &str, store_ns: &str, extra: &str) -> String {
    format!(
        "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: {kind}\nmetadata:\n  name: {name}\nspec:\n  store: {{name: hub, namespace: {store_ns}}}\n{extra}"
    )
}

/// The request once its Ready condition is `status` (for its current generation).
async fn request_condition(ns: &str, what: &str, status: &str) -> Value {
    eventually(&format!("{what} Ready={status}"), WAIT, || async {
        let request = get(V, ns, what)?;
        let current = request["status"]["observedGeneration"] == request["metadata"]["generation"];
        (current && condition(&request, "Ready")?.0 == status).then_some(request)
    })
    .await
}

fn secret_data(secret: &Value, key: &str) -> Option<String> {
    let b64 = secret["data"][key].as_str()?;
    Some(
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
        )
        .unwrap(),
    )
}

/// The address of the store's ready pod, and oras' --resolve of `hostname` to it.
async fn address(store_ns: &str, hostname: &str) -> (String, String) {
    let pods = wait_ready_pods(V, store_ns, "hub", 1).await;
    (
        format!("{}:5000", pods[0].1),
        format!("{hostname}:{}:5000", pods[0].1),
    )
}

/// Writes the docker config of a push (config.json) or pull (.dockerconfigjson) Secret as `dir/config.json`.
fn docker_config_dir(secret: &Value, key: &str, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    write(
        dir,
        "config.json",
        secret_data(secret, key).unwrap().as_bytes(),
    );
}

#[tokio::test]
async fn over_tls_the_push_secret_carries_the_ca_and_a_pipeline_pushes_verified_by_it() {
    support::operator::shared(V);
    let ns = TestNamespace::new(
        V,
        "access-tls",
        &[("pod-security.kubernetes.io/enforce", "restricted")],
    )
    .await;
    let host = format!("hub.{}.svc", ns.name);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    support::apply(
        V,
        &ns.name,
        &support::registry::tls_secret_for(w, &host, "serving"),
    );
    let users = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "users"},
        "stringData": {"htpasswd": format!("{}\n", htpasswd_line("admin", "admin-secret"))},
    });
    support::apply(V, &ns.name, &users.to_string());
    support::apply(
        V,
        &ns.name,
        "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: hub\nspec:\n  tls: {enabled: true, secretName: serving}\n  rbac:\n    enabled: true\n    htpasswd: {name: users, key: htpasswd}\n",
    );
    support::ready(V, &ns.name, "hub").await;
    support::apply(
        V,
        &ns.name,
        "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotPushSecret\nmetadata:\n  name: pipeline\nspec:\n  store: {name: hub}\n",
    );
    let request = request_condition(&ns.name, "zotpushsecret/pipeline", "True").await;
    assert!(
        condition(&request, "Ready")
            .unwrap()
            .2
            .contains("the registry's CA"),
        "{request}"
    );
    let secret = get(V, &ns.name, "secret/pipeline").unwrap();
    let ca = secret_data(&secret, "ca.crt").expect("the Secret carries the CA");
    assert_eq!(ca, std::fs::read_to_string(w.join("ca.crt")).unwrap());
    let hostname = secret_data(&secret, "hostname").unwrap();
    assert_eq!(hostname, format!("{host}:5000"));
    // The pipeline's files: the Secret's config.json and ca.crt, nothing else.
    let mounted = w.join("mounted");
    docker_config_dir(&secret, "config.json", &mounted);
    write(&mounted, "ca.crt", ca.as_bytes());
    image_files(w);
    let (_, resolve) = address(&ns.name, &hostname).await;
    let image = format!("{hostname}/{}/app:v1", ns.name);
    let ca_file = mounted.join("ca.crt");
    let args = [
        "push",
        &image,
        "--ca-file",
        ca_file.to_str().unwrap(),
        "--resolve",
        &resolve,
        "layer.tar.gz:application/vnd.oci.image.layer.v1.tar+gzip",
    ];
    let (ok, out, err) = oras_with_docker_config(&args, w, &mounted);
    assert!(
        ok,
        "oras over TLS with the Secret's CA and config.json:\n{out}\n{err}"
    );
    let (ok, _, err) = oras_with_docker_config(&args, w, &w.join("no-config"));
    assert!(
        !ok,
        "without the Secret's credential the push is refused: {err}"
    );
}

/// TLS by default: the push Secret carries the store's own CA (`<store>-ca`), a pipeline pushes verified by it,
/// and turning the store's TLS off takes `ca.crt` out of the Secret.
#[tokio::test]
async fn by_default_the_secret_carries_the_stores_own_ca_and_turning_tls_off_takes_it_out() {
    support::operator::shared(V);
    let ns = TestNamespace::new(
        V,
        "access-ca",
        &[("pod-security.kubernetes.io/enforce", "restricted")],
    )
    .await;
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let users = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "users"},
        "stringData": {"htpasswd": format!("{}\n", htpasswd_line("admin", "admin-secret"))},
    });
    support::apply(V, &ns.name, &users.to_string());
    let store = "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: hub\nspec:\n  rbac:\n    enabled: true\n    htpasswd: {name: users, key: htpasswd}\n";
    support::apply(V, &ns.name, store);
    support::ready(V, &ns.name, "hub").await;
    support::apply(
        V,
        &ns.name,
        "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotPushSecret\nmetadata:\n  name: pipeline\nspec:\n  store: {name: hub}\n",
    );
    request_condition(&ns.name, "zotpushsecret/pipeline", "True").await;
    let own_ca = support::tls::secret_key(V, &ns.name, "hub-ca", "ca.crt")
        .expect("the store's own CA, <store>-ca");
    let secret = get(V, &ns.name, "secret/pipeline").unwrap();
    let ca = secret_data(&secret, "ca.crt").expect("the Secret carries the store's CA");
    assert_eq!(ca, own_ca);
    let hostname = secret_data(&secret, "hostname").unwrap();
    let mounted = w.join("mounted");
    docker_config_dir(&secret, "config.json", &mounted);
    write(&mounted, "ca.crt", ca.as_bytes());
    image_files(w);
    let (_, resolve) = address(&ns.name, &hostname).await;
    let image = format!("{hostname}/{}/app:v1", ns.name);
    let ca_file = mounted.join("ca.crt");
    let args = [
        "push",
        &image,
        "--ca-file",
        ca_file.to_str().unwrap(),
        "--resolve",
        &resolve,
        "layer.tar.gz:application/vnd.oci.image.layer.v1.tar+gzip",
    ];
    let (ok, out, err) = oras_with_docker_config(&args, w, &mounted);
    assert!(ok, "oras verified by the Secret's ca.crt:\n{out}\n{err}");

    support::apply(
        V,
        &ns.name,
        &store.replace("spec:\n", "spec:\n  tls: {enabled: false}\n"),
    );
    eventually(
        "the push Secret to lose its ca.crt once the store serves plain HTTP",
        WAIT,
        || async {
            let secret = get(V, &ns.name, "secret/pipeline")?;
            secret_data(&secret, "ca.crt").is_none().then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn the_api_server_refuses_a_short_rotation_an_overlong_grace_and_a_bad_repository_with_their_messages()
 {
    support::operator::install_crd_and_rbac(V);
    let ns = TestNamespace::new(V, "access-cel", &[]).await;
    for (kind, _) in [("ZotPushSecret", ()), ("ZotPullSecret", ())] {
        for (spec, name, refusal) in access_cel::cases() {
            let object = serde_json::json!({
                "apiVersion": "artifact.zotregistry.io/v1alpha1",
                "kind": kind,
                "metadata": {"name": name},
                "spec": spec,
            });
            let (ok, _, err) = kubectl(
                V,
                &["create", "--dry-run=server", "-n", &ns.name, "-f", "-"],
                Some(&object.to_string()),
            );
            match refusal {
                None => assert!(ok, "{kind} {name} is accepted: {err}"),
                Some(message) => assert!(
                    !ok && err.contains(message),
                    "{kind} {name} is refused with '{message}': {err}"
                ),
            }
        }
    }
}

#[tokio::test]
async fn push_and_pull_secrets_give_exactly_their_access_and_a_namespace_the_store_does_not_allow_gets_none()
 {
    support::operator::shared(V);
    let store_ns = TestNamespace::new(
        V,
        "access-store",
        &[("pod-security.kubernetes.io/enforce", "restricted")],
    )
    .await;
    let label = store_ns.name.clone();
    let allowed = [("zot-operator.test/access", label.as_str())];
    let ci = TestNamespace::new(V, "access-ci", &allowed).await;
    let apps = TestNamespace::new(V, "access-apps", &allowed).await;
    let other = TestNamespace::new(V, "access-other", &[]).await;

    let users = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "users"},
        "stringData": {"htpasswd": format!("{}\n", htpasswd_line("admin", "admin-secret"))},
    });
    support::apply(V, &store_ns.name, &users.to_string());
    support::apply(
        V,
        &store_ns.name,
        &store_yaml(&label, &format!("{}/**", ci.name)),
    );
    support::ready(V, &store_ns.name, "hub").await;

    // The pipeline's push Secret.
    support::apply(
        V,
        &ci.name,
        &request_yaml("ZotPushSecret", "builder", &store_ns.name, ""),
    );
    let push = request_condition(&ci.name, "zotpushsecret/builder", "True").await;
    let secret = get(V, &ci.name, "secret/builder").expect("the push Secret exists");
    assert_eq!(secret["type"], "Opaque");
    let hostname = secret_data(&secret, "hostname").unwrap();
    assert_eq!(hostname, format!("hub.{}.svc:5000", store_ns.name));
    assert!(
        secret_data(&secret, "ca.crt").is_none(),
        "zot serves plain HTTP: no CA"
    );
    assert_eq!(push["status"]["secretName"], "builder");
    assert_eq!(push["status"]["hostname"], hostname.as_str());
    let account = format!("push.{}.builder", ci.name);
    assert_eq!(push["status"]["account"], account.as_str());
    let key = secret_data(&secret, "password").unwrap();
    assert!(key.starts_with("zak_"), "the password is a zot API key");
    let status_text = push["status"].to_string();
    assert!(
        !status_text.contains(&key),
        "no credential in the status: {status_text}"
    );
    assert_eq!(
        secret["metadata"]["ownerReferences"][0]["kind"],
        "ZotPushSecret"
    );

    // Each new account rolls the store's pod (zot reads its htpasswd file at start): ask for its address each time.
    let (mut registry, mut resolve) = address(&store_ns.name, &hostname).await;
    assert_eq!(
        http("GET", &format!("http://{registry}/v2/"), &[]).0,
        401,
        "the store asks for credentials"
    );
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    image_files(w);
    let push_config = w.join("push-docker");
    docker_config_dir(&secret, "config.json", &push_config);
    let image = format!("{hostname}/{}/app:v1", ci.name);
    let push_args = |reference: &str, resolve: &str| -> Vec<String> {
        [
            "push",
            reference,
            "--plain-http",
            "--resolve",
            resolve,
            "--config",
            "config.json:application/vnd.oci.image.config.v1+json",
            "layer.tar.gz:application/vnd.oci.image.layer.v1.tar+gzip",
        ]
        .map(String::from)
        .to_vec()
    };
    let run = |args: &[String], config: &Path| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        oras_with_docker_config(&args, w, config)
    };
    let (ok, out, err) = run(&push_args(&image, &resolve), &push_config);
    assert!(
        ok,
        "the pipeline pushes with its Secret's config.json:\n{out}\n{err}"
    );
    let (ok, _, err) = run(
        &push_args(&format!("{hostname}/{}/app:v1", apps.name), &resolve),
        &push_config,
    );
    assert!(
        !ok,
        "the push Secret cannot push outside its namespace's repositories: {err}"
    );

    // The workload's pull Secret, for the pipeline's repositories (the store shares them).
    support::apply(
        V,
        &apps.name,
        &request_yaml(
            "ZotPullSecret",
            "runtime",
            &store_ns.name,
            &format!("  repositories: [\"{}/**\"]\n", ci.name),
        ),
    );
    request_condition(&apps.name, "zotpullsecret/runtime", "True").await;
    (registry, resolve) = address(&store_ns.name, &hostname).await;
    let pull_secret = get(V, &apps.name, "secret/runtime").unwrap();
    assert_eq!(pull_secret["type"], "kubernetes.io/dockerconfigjson");
    let pull_config = w.join("pull-docker");
    docker_config_dir(&pull_secret, ".dockerconfigjson", &pull_config);
    let pull = |config: &Path, out_dir: &str, resolve: &str| {
        run(
            &[
                "pull",
                &image,
                "--plain-http",
                "--resolve",
                resolve,
                "-o",
                out_dir,
            ]
            .map(String::from),
            config,
        )
    };
    let (ok, out, err) = pull(&pull_config, "pulled", &resolve);
    assert!(ok, "the workload pulls with its pull Secret:\n{out}\n{err}");
    support::registry::same_file(&w.join("layer.tar.gz"), &w.join("pulled/layer.tar.gz"));
    let (ok, _, err) = run(
        &push_args(&format!("{hostname}/{}/app:v2", ci.name), &resolve),
        &pull_config,
    );
    assert!(!ok, "a pull Secret cannot push: {err}");
    let pull_user = format!("pull.{}.runtime", apps.name);
    let pull_key = secret_data(&pull_secret, "password").unwrap();
    assert_eq!(
        http(
            "POST",
            &format!("http://{registry}/v2/{}/app/blobs/uploads/", ci.name),
            &["-u", &format!("{pull_user}:{pull_key}")],
        )
        .0,
        403,
        "zot refuses the pull account a push"
    );

    // The store's own htpasswd user still signs in (the operator merged its file with the accounts').
    push_image(
        w,
        &format!("{registry}/{}/admin:v1", store_ns.name),
        &["--plain-http", "-u", "admin", "-p", "admin-secret"],
    );

    // A namespace the store does not select: refused, naming the store's setting, and no Secret.
    support::apply(
        V,
        &other.name,
        &request_yaml("ZotPullSecret", "intruder", &store_ns.name, ""),
    );
    let refused = request_condition(&other.name, "zotpullsecret/intruder", "False").await;
    let (_, reason, message) = condition(&refused, "Ready").unwrap();
    assert_eq!(reason, "NamespaceNotAllowed", "{refused}");
    assert!(
        message.contains("spec.access.namespaceSelector"),
        "{message}"
    );
    assert!(get(V, &other.name, "secret/intruder").is_none());

    // A push scope outside the namespace's own repositories: refused, no Secret.
    support::apply(
        V,
        &apps.name,
        &request_yaml(
            "ZotPushSecret",
            "overreach",
            &store_ns.name,
            &format!("  repositories: [\"{}/**\"]\n", ci.name),
        ),
    );
    let refused = request_condition(&apps.name, "zotpushsecret/overreach", "False").await;
    assert_eq!(condition(&refused, "Ready").unwrap().1, "ScopeNotAllowed");
    assert!(get(V, &apps.name, "secret/overreach").is_none());

    // Deleting the push request: its Secret goes and zot refuses its credential.
    let (ok, _, err) = kubectl(
        V,
        &[
            "delete",
            "-n",
            &ci.name,
            "zotpushsecret/builder",
            "--wait=true",
            "--timeout=120s",
        ],
        None,
    );
    assert!(ok, "{err}");
    assert!(get(V, &ci.name, "secret/builder").is_none());
    // The account leaves zot's htpasswd file too, which rolls the pod: ask whichever pod answers.
    let (code, answered) = eventually("an answer from zot", WAIT, || async {
        let (registry, resolve) = address(&store_ns.name, &hostname).await;
        let tags = format!("http://{registry}/v2/{}/app/tags/list", ci.name);
        let code = http("GET", &tags, &["-u", &format!("{account}:{key}")]).0;
        (code != 0).then_some((code, resolve))
    })
    .await;
    resolve = answered;
    assert_eq!(code, 401, "zot refuses the deleted request's credential");
    let (ok, _, err) = run(
        &push_args(&format!("{hostname}/{}/app:v3", ci.name), &resolve),
        &push_config,
    );
    assert!(
        !ok && (err.contains("401") || err.contains("nauthorized") || err.contains("credential")),
        "oras with the deleted request's config.json is refused: {err}"
    );

    // Deleting the store: its requests become StoreNotFound and lose their Secret.
    let (ok, _, err) = kubectl(
        V,
        &[
            "delete",
            "-n",
            &store_ns.name,
            "zas/hub",
            "--wait=true",
            "--timeout=120s",
        ],
        None,
    );
    assert!(ok, "{err}");
    eventually("the pull request to be StoreNotFound", WAIT, || async {
        let r = get(V, &apps.name, "zotpullsecret/runtime")?;
        let (status, reason, _) = condition(&r, "Ready")?;
        (status == "False" && reason == "StoreNotFound").then_some(())
    })
    .await;
    eventually("the pull Secret to go with its store", WAIT, || async {
        get(V, &apps.name, "secret/runtime").is_none().then_some(())
    })
    .await;
}
