//! Keycloak sign-in for real: stores whose rbac.keycloak names the test platform's Keycloak (hack/services.sh up
//! keycloak, realm hack/keycloak/realm.json), real zot pods, and a browser's part of zot's OpenID sign-in played
//! over HTTP (tests/support/keycloak.rs). A signed-in user makes a zot API key and pushes with oras where the
//! policies let the user's name or groups; what Keycloak would refuse is the store's status before zot runs.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use std::time::Duration;

use base64::Engine;
use serde_json::Value;
use support::keycloak::{
    self, ALICE, BOB, CLIENT, CLIENT_SECRET, ISSUER, ROTATE_CLIENT, ROTATE_CLIENT_SECRET, SignIn,
};
use support::operator::{Operator, in_restricted_namespace};
use support::registry::{http, image_files, oras, pod_logs, push_image, wait_ready_pods};
use support::services::{self, REDIS_ADDR, REDIS_PASSWORD, S3_ENDPOINT, S3_ROOT};
use support::{Flavour, TestNamespace, condition, eventually, get, kubectl};

const V: Flavour = Flavour::Vanilla;
const WAIT: Duration = Duration::from_secs(180);
const HOST: &str = "registry.kc.test";

async fn setup(prefix: &str) -> (TestNamespace, Operator) {
    keycloak::ensure_up();
    in_restricted_namespace(V, prefix, &format!("{prefix}-operator"), &[]).await
}

fn apply(ns: &str, yaml: &str) {
    support::apply(V, ns, yaml);
}

fn client_secret(name: &str, key: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\nstringData:\n  {key}: {value}\n"
    )
}

/// Policies: group developers on team/**, user bob (by his Keycloak user name, not his email) on bob/**,
/// anonymous read everywhere.
const POLICIES: &str = r#"    policies:
      - repositories: ["team/**"]
        groups: [developers]
        actions: [read, create, update]
      - repositories: ["bob/**"]
        users: [bob]
        actions: [read, create]
    anonymousPolicy: [read]
"#;

/// A store signing in with the test realm through `client` and the Secret `kc` (key client-secret); `storage`
/// is YAML under spec (indented two spaces). zot serves plain HTTP here (`tls.enabled: false`), as behind a
/// TLS-terminating Ingress: these tests are about sign-in; TLS (the default) is proven in tests/tls.rs.
fn store(name: &str, client: &str, storage: &str) -> String {
    format!(
        r#"apiVersion: artifact.zotregistry.io/v1alpha1
kind: ZotArtifactStore
metadata:
  name: {name}
spec:
  tls:
    enabled: false
{storage}  networking:
    ingress:
      enabled: true
      host: {HOST}
  rbac:
    enabled: true
    keycloak:
      url: http://10.250.255.6:8080
      realm: zot-test
      clientId: {client}
      clientSecretRef: {{name: kc, key: client-secret}}
{POLICIES}"#
    )
}

async fn wait_condition(
    ns: &str,
    name: &str,
    type_: &str,
    check: impl Fn(&(String, String, String)) -> bool,
) -> (String, String, String) {
    eventually(&format!("{type_} of {name} as expected"), WAIT, || async {
        let store = get(V, ns, &format!("zas/{name}"))?;
        condition(&store, type_).filter(|c| check(c))
    })
    .await
}

fn secret_file(ns: &str, secret: &str, key: &str) -> String {
    let secret = get(V, ns, &format!("secret/{secret}")).unwrap();
    let data = secret["data"][key].as_str().unwrap();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap(),
    )
    .unwrap()
}

fn base(ip: &str) -> String {
    format!("http://{ip}:5000")
}

/// What initiating a blob upload answers (create permission) for `credentials` (`user:password`, or none).
fn upload_status(ip: &str, repository: &str, credentials: Option<&str>) -> u16 {
    let url = format!("{}/v2/{repository}/blobs/uploads/", base(ip));
    match credentials {
        Some(c) => http("POST", &url, &["-u", c]).0,
        None => http("POST", &url, &[]).0,
    }
}

fn everything_the_operator_and_zot_wrote(ns: &str, operator: &Operator) -> String {
    let mut text = String::new();
    for what in ["configmaps", "events"] {
        let (_, out, _) = kubectl(V, &["get", what, "-n", ns, "-o", "json"], None);
        text.push_str(&out);
    }
    let (_, stores, _) = kubectl(V, &["get", "zas", "-n", ns, "-o", "json"], None);
    text.push_str(&stores);
    text.push_str(&secret_file(ns, "zot-config", "config.json"));
    text.push_str(&operator.logs());
    text.push_str(&pod_logs(V, ns));
    text
}

#[tokio::test]
async fn a_keycloak_user_signs_in_makes_an_api_key_and_pushes_where_its_name_or_groups_allow() {
    let (ns, operator) = setup("kc-login").await;
    apply(
        &ns.name,
        &client_secret("kc", "client-secret", CLIENT_SECRET),
    );
    apply(&ns.name, &store("zot", CLIENT, ""));
    support::ready(V, &ns.name, "zot").await;
    let (status, reason, message) =
        wait_condition(&ns.name, "zot", "KeycloakReady", |c| c.0 == "True").await;
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("True", "ClientAccepted"),
        "{message}"
    );
    // zot names users by preferred_username and reads groups from the groups claim, whose scope is requested
    // because a policy names a group; the redirect URI is the Ingress host's.
    let config: Value =
        serde_json::from_str(&secret_file(&ns.name, "zot-config", "config.json")).unwrap();
    let provider = &config["http"]["auth"]["openid"]["providers"]["oidc"];
    assert_eq!(provider["issuer"], ISSUER);
    assert_eq!(
        provider["claimMapping"],
        serde_json::json!({"username": "preferred_username", "groups": "groups"})
    );
    assert_eq!(
        provider["scopes"],
        serde_json::json!(["openid", "profile", "email", "groups"])
    );
    assert_eq!(config["http"]["externalUrl"], format!("http://{HOST}"));
    let pods = wait_ready_pods(V, &ns.name, "zot", 1).await;
    let ip = pods[0].1.clone();

    // alice (group developers) signs in; Keycloak sends the browser back to the Ingress host's callback.
    let alice = keycloak::sign_in(&base(&ip), &base(&ip), ALICE)
        .await
        .session();
    assert_eq!(alice.get("user"), Some("alice"), "zot's user cookie");
    let key = keycloak::create_api_key(&base(&ip), &alice, "ci").await;
    assert!(key.starts_with("zak_"));
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    image_files(w);
    let alice_key = format!("alice:{key}");
    push_image(
        w,
        &format!("{ip}:5000/team/app:v1"),
        &["--plain-http", "-u", "alice", "-p", &key],
    );
    // Not on bob/**, which names bob only; and her Keycloak password is no registry password.
    assert_eq!(upload_status(&ip, "bob/tool", Some(&alice_key)), 403);
    assert_eq!(
        upload_status(&ip, "team/app", Some("alice:alice-password")),
        401
    );

    // bob (group contractors) is outside the developers group: 403 on team/**, but his user policy names him by
    // his Keycloak user name (not his email) on bob/**.
    let bob = keycloak::sign_in(&base(&ip), &base(&ip), BOB)
        .await
        .session();
    assert_eq!(bob.get("user"), Some(BOB.name));
    let bob_key = keycloak::create_api_key(&base(&ip), &bob, "ci").await;
    assert_eq!(
        upload_status(&ip, "team/app", Some(&format!("bob:{bob_key}"))),
        403
    );
    let (ok, _, err) = oras(
        &[
            "push",
            &format!("{ip}:5000/team/app:v2"),
            "--plain-http",
            "-u",
            "bob",
            "-p",
            &bob_key,
            "layer.tar.gz",
        ],
        w,
    );
    assert!(!ok, "bob pushed to team/**: {err}");
    push_image(
        w,
        &format!("{ip}:5000/bob/tool:v1"),
        &["--plain-http", "-u", "bob", "-p", &bob_key],
    );
    // A key names its user: bob's key is no key for alice.
    assert_eq!(
        upload_status(&ip, "team/app", Some(&format!("alice:{bob_key}"))),
        401
    );

    // Anonymous clients read (anonymousPolicy), and may not push.
    let out = w.join("out");
    let (ok, _, err) = oras(
        &[
            "pull",
            &format!("{ip}:5000/team/app:v1"),
            "--plain-http",
            "-o",
            out.to_str().unwrap(),
        ],
        w,
    );
    assert!(ok, "anonymous pull: {err}");
    assert_eq!(upload_status(&ip, "team/app", None), 401);
    // A wrong password is Keycloak's to refuse.
    let wrong = keycloak::User {
        password: "not-her-password",
        ..ALICE
    };
    assert!(matches!(
        keycloak::sign_in(&base(&ip), &base(&ip), wrong).await,
        SignIn::Refused(_)
    ));

    // The client secret reaches zot only through the mounted credentials file of <store>-oidc; it and the
    // session keys are in no ConfigMap, event, status, the config, the operator's log or zot's.
    let session_keys = secret_file(&ns.name, "zot-session", "session-keys.json");
    let keys: Value = serde_json::from_str(&session_keys).unwrap();
    let written = everything_the_operator_and_zot_wrote(&ns.name, &operator);
    assert!(!written.contains(CLIENT_SECRET));
    assert!(!written.contains(keys["hashKey"].as_str().unwrap()));
    assert!(!written.contains(keys["encryptKey"].as_str().unwrap()));
    assert!(secret_file(&ns.name, "zot-oidc", "credentials.json").contains(CLIENT_SECRET));
}

#[tokio::test]
async fn with_three_replicas_a_sign_in_and_its_session_and_api_keys_work_on_every_pod() {
    services::ensure_up();
    let (ns, operator) = setup("kc-ha").await;
    let bucket = format!("{}-images", ns.name);
    apply(
        &ns.name,
        &client_secret("kc", "client-secret", CLIENT_SECRET),
    );
    apply(
        &ns.name,
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s3-keys\nstringData:\n  access-key: {}\n  secret-key: {}\n---\n{}{REDIS_PASSWORD}\n",
            S3_ROOT.access_key,
            S3_ROOT.secret_key,
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: redis-auth\nstringData:\n  password: "
        ),
    );
    let storage = format!(
        "  replicas: 3\n  storage:\n    type: s3\n    s3:\n      endpoint: {S3_ENDPOINT}\n      bucket: {bucket}\n      region: us-east-1\n      accessKeySecret:\n        name: s3-keys\n  database:\n    type: redis\n    redis:\n      url: redis://{REDIS_ADDR}/0\n      passwordSecretRef: {{name: redis-auth, key: password}}\n"
    );
    apply(&ns.name, &store("zot", CLIENT, &storage));
    support::ready(V, &ns.name, "zot").await;
    let pods = wait_ready_pods(V, &ns.name, "zot", 3).await;
    let ips: Vec<String> = pods.iter().map(|(_, ip)| ip.clone()).collect();

    // The sign-in starts on one pod and completes on another: the state cookie is good on every replica.
    let alice = keycloak::sign_in(&base(&ips[0]), &base(&ips[1]), ALICE)
        .await
        .session();
    // The session made on pod 1 is alice's on each pod (developers may push to team/**, anonymous clients may
    // not); a forged one is nobody's.
    let upload_with = |ip: &str, jar: &keycloak::Jar| {
        let url = format!("{}/v2/team/app/blobs/uploads/", base(ip));
        let jar = jar.clone();
        async move {
            keycloak::with_session(reqwest::Method::POST, &url, &jar, None)
                .await
                .0
        }
    };
    for ip in &ips {
        assert_eq!(
            upload_with(ip, &alice).await,
            202,
            "alice's session on {ip}"
        );
    }
    let mut forged = alice.clone();
    forged
        .0
        .insert("session".into(), "MTc2NTEyMzQ1Nnx-forged".into());
    let status = upload_with(&ips[2], &forged).await;
    assert!(matches!(status, 401 | 403), "a forged session: {status}");

    // An API key made on pod 2 pushes through pod 0, and the image is read through pod 1 with it.
    let key = keycloak::create_api_key(&base(&ips[2]), &alice, "ci").await;
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    image_files(w);
    push_image(
        w,
        &format!("{}:5000/team/app:v1", ips[0]),
        &["--plain-http", "-u", "alice", "-p", &key],
    );
    for ip in &ips {
        let (status, body) = http(
            "GET",
            &format!("{}/v2/team/app/tags/list", base(ip)),
            &["-u", &format!("alice:{key}")],
        );
        assert_eq!(status, 200, "alice's API key on {ip}: {body}");
        assert_eq!(
            upload_status(ip, "team/app", Some(&format!("alice:{key}"))),
            202
        );
    }
    // bob, outside the developers group, is refused on every pod.
    let bob = keycloak::sign_in(&base(&ips[2]), &base(&ips[0]), BOB)
        .await
        .session();
    let bob_key = keycloak::create_api_key(&base(&ips[1]), &bob, "ci").await;
    for ip in &ips {
        assert_eq!(
            upload_status(ip, "team/app", Some(&format!("bob:{bob_key}"))),
            403
        );
    }
    let written = everything_the_operator_and_zot_wrote(&ns.name, &operator);
    assert!(!written.contains(CLIENT_SECRET));
    let keys: Value =
        serde_json::from_str(&secret_file(&ns.name, "zot-session", "session-keys.json")).unwrap();
    assert!(!written.contains(keys["hashKey"].as_str().unwrap()));
}

#[tokio::test]
async fn what_keycloak_refuses_is_keycloak_ready_false_with_its_answer_before_zot_runs() {
    let (ns, _operator) = setup("kc-refused").await;
    let name = "zot";
    let workload_exists = |ns: &str| get(V, ns, &format!("statefulset/{name}")).is_some();
    // A realm that does not exist: zot would panic at start; the operator says so and starts nothing.
    apply(
        &ns.name,
        &client_secret("kc", "client-secret", CLIENT_SECRET),
    );
    apply(
        &ns.name,
        &store(name, CLIENT, "").replace("realm: zot-test", "realm: no-such-realm"),
    );
    let (_, reason, message) =
        wait_condition(&ns.name, name, "KeycloakReady", |c| c.0 == "False").await;
    assert_eq!(reason, "RealmNotFound", "{message}");
    assert!(message.contains("Realm does not exist"), "{message}");
    let store_now = get(V, &ns.name, &format!("zas/{name}")).unwrap();
    assert_eq!(condition(&store_now, "Ready").unwrap().1, "RealmNotFound");
    assert!(
        !workload_exists(&ns.name),
        "zot was started against a missing realm"
    );

    // A wrong client secret: Keycloak's refusal, in the status and in a Warning event.
    apply(
        &ns.name,
        &client_secret("kc", "client-secret", "not-the-secret"),
    );
    apply(&ns.name, &store(name, CLIENT, ""));
    let (_, reason, message) = wait_condition(&ns.name, name, "KeycloakReady", |c| {
        c.1 == "ClientSecretRefused"
    })
    .await;
    assert!(message.contains("invalid_client"), "{message}");
    assert!(!message.contains("not-the-secret"), "{message}");
    assert_eq!(reason, "ClientSecretRefused");
    eventually("a ClientSecretRefused event", WAIT, || async {
        let (_, out, _) = kubectl(V, &["get", "events", "-n", &ns.name, "-o", "json"], None);
        out.contains("ClientSecretRefused").then_some(())
    })
    .await;
    assert!(!workload_exists(&ns.name));

    // The key the store names is not in the Secret.
    apply(&ns.name, &client_secret("kc", "other-key", CLIENT_SECRET));
    kubectl(
        V,
        &[
            "patch",
            "secret",
            "kc",
            "-n",
            &ns.name,
            "--type=json",
            "-p",
            r#"[{"op":"remove","path":"/data/client-secret"}]"#,
        ],
        None,
    );
    let (_, reason, message) =
        wait_condition(&ns.name, name, "ConfigReady", |c| c.0 == "False").await;
    assert_eq!(reason, "SecretKeyNotFound", "{message}");
    assert!(message.contains("client-secret"), "{message}");

    // Keycloak unreachable (nothing listens on the discard port of loopback). The store changes before the Secret
    // is fixed: a reconcile in between would find everything right and start zot.
    apply(
        &ns.name,
        &store(name, CLIENT, "").replace("http://10.250.255.6:8080", "http://127.0.0.1:9"),
    );
    eventually("the new spec seen, still without the key", WAIT, || async {
        let store = get(V, &ns.name, &format!("zas/{name}"))?;
        let seen = store["status"]["observedGeneration"] == store["metadata"]["generation"];
        (seen && condition(&store, "ConfigReady")?.1 == "SecretKeyNotFound").then_some(())
    })
    .await;
    apply(
        &ns.name,
        &client_secret("kc", "client-secret", CLIENT_SECRET),
    );
    let (_, _, message) = wait_condition(&ns.name, name, "KeycloakReady", |c| {
        c.1 == "KeycloakUnreachable"
    })
    .await;
    assert!(message.contains("127.0.0.1:9"), "{message}");

    // A scope the realm lacks (Keycloak refuses sign-ins asking for it).
    apply(
        &ns.name,
        &store(name, CLIENT, "").replace(
            "      clientId: zot\n",
            "      clientId: zot\n      scopes: [openid, profile, no-such-scope]\n",
        ),
    );
    let (_, _, message) = wait_condition(&ns.name, name, "KeycloakReady", |c| {
        c.1 == "ScopeNotSupported"
    })
    .await;
    assert!(message.contains("no-such-scope"), "{message}");
    assert!(!workload_exists(&ns.name));

    // All fixed: zot runs and signs alice in.
    apply(&ns.name, &store(name, CLIENT, ""));
    support::ready(V, &ns.name, name).await;
    let pods = wait_ready_pods(V, &ns.name, name, 1).await;
    keycloak::sign_in(&base(&pods[0].1), &base(&pods[0].1), ALICE)
        .await
        .session();
}

#[tokio::test]
async fn rotating_the_client_secret_rolls_the_pods_and_a_wrong_one_keeps_them() {
    let (ns, _operator) = setup("kc-rotate").await;
    // The realm may outlive a run (a reused Keycloak): start from the client's first secret.
    keycloak::set_client_secret(ROTATE_CLIENT, ROTATE_CLIENT_SECRET).await;
    apply(
        &ns.name,
        &client_secret("kc", "client-secret", ROTATE_CLIENT_SECRET),
    );
    apply(&ns.name, &store("zot", ROTATE_CLIENT, ""));
    support::ready(V, &ns.name, "zot").await;
    let before = wait_ready_pods(V, &ns.name, "zot", 1).await;
    let pod_uid =
        |pod: &str| get(V, &ns.name, &format!("pod/{pod}")).map(|p| p["metadata"]["uid"].clone());
    let first_uid = pod_uid(&before[0].0).unwrap();
    keycloak::sign_in(&base(&before[0].1), &base(&before[0].1), ALICE)
        .await
        .session();

    // Keycloak's secret changes, then the Secret: the operator checks the new one, and the pods roll onto it.
    let second = "zot-rotate-secret-2";
    keycloak::set_client_secret(ROTATE_CLIENT, second).await;
    apply(&ns.name, &client_secret("kc", "client-secret", second));
    let after = eventually("zot's pod replaced", WAIT, || async {
        let pods = support::registry::ready_pods(V, &ns.name, "zot");
        let rolled = pods.len() == 1 && pod_uid(&pods[0].0).is_some_and(|u| u != first_uid);
        rolled.then_some(pods)
    })
    .await;
    assert!(secret_file(&ns.name, "zot-oidc", "credentials.json").contains(second));
    keycloak::sign_in(&base(&after[0].1), &base(&after[0].1), ALICE)
        .await
        .session();
    let second_uid = pod_uid(&after[0].0).unwrap();

    // A secret Keycloak refuses: the status says so, and the running pod keeps the secret that works.
    apply(
        &ns.name,
        &client_secret("kc", "client-secret", "zot-rotate-wrong"),
    );
    let (_, _, message) = wait_condition(&ns.name, "zot", "KeycloakReady", |c| {
        c.1 == "ClientSecretRefused"
    })
    .await;
    assert!(message.contains("invalid_client"), "{message}");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let pods = support::registry::ready_pods(V, &ns.name, "zot");
    assert_eq!(pods.len(), 1);
    assert_eq!(
        pod_uid(&pods[0].0).unwrap(),
        second_uid,
        "the pod was rolled"
    );
    assert!(secret_file(&ns.name, "zot-oidc", "credentials.json").contains(second));
    keycloak::sign_in(&base(&pods[0].1), &base(&pods[0].1), ALICE)
        .await
        .session();
    keycloak::set_client_secret(ROTATE_CLIENT, ROTATE_CLIENT_SECRET).await;
}

#[tokio::test]
async fn on_openshift_keycloak_sends_the_browser_back_to_the_routes_host() {
    keycloak::ensure_up();
    let o = Flavour::OpenShift;
    let (ns, _operator) = in_restricted_namespace(o, "kc-route", "kc-route-operator", &[]).await;
    support::apply(
        o,
        &ns.name,
        &client_secret("kc", "client-secret", CLIENT_SECRET),
    );
    let spec = store("zot", CLIENT, "").replace(
        &format!("    ingress:\n      enabled: true\n      host: {HOST}\n"),
        "    route:\n      enabled: true\n      termination: edge\n",
    );
    support::apply(o, &ns.name, &spec);
    support::ready(o, &ns.name, "zot").await;
    let pods = wait_ready_pods(o, &ns.name, "zot", 1).await;
    let ip = &pods[0].1;
    // The Route's default host on the cluster's apps domain (hack/cluster.sh: apps.zot.test).
    let host = format!("zot-{}.apps.zot.test", ns.name);
    let (callback, session) = keycloak::sign_in_via(&base(ip), &base(ip), ALICE).await;
    assert!(
        callback.starts_with(&format!("https://{host}/zot/auth/callback/oidc?")),
        "Keycloak sends the browser to {callback}"
    );
    session.session();
}
