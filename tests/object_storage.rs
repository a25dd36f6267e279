//! Object storage and a shared database for real: stores on the test platform's MinIO and Redis
//! (hack/services.sh, outside the cluster at fixed addresses of the pod bridge), whose pods are real zot processes
//! that oras pushes to and pulls from. The operator makes sure of the bucket before zot starts, reports what S3 says
//! when it cannot, and deletes zot's data with the store only when the deletion policy says so.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};
use support::operator::{Operator, in_restricted_namespace};
use support::registry::{
    http, image_files, manifest_digest, oras, oras_ok, pod_logs, push_image, random_bytes,
    same_file, wait_ready_pods, write,
};
use support::services::{
    self, BucketState, REDIS_ADDR, REDIS_PASSWORD, S3, S3_ENDPOINT, S3_OTHER, S3_ROOT, S3Account,
};
use support::{Flavour, TestNamespace, condition, eventually, get, kubectl};

const V: Flavour = Flavour::Vanilla;
const WAIT: Duration = Duration::from_secs(180);

/// A restricted namespace with an operator of its own (its log is checked for secrets, and some tests stop it).
async fn setup(prefix: &str) -> (TestNamespace, Operator) {
    services::ensure_up();
    in_restricted_namespace(V, prefix, &format!("{prefix}-operator"), &[]).await
}

fn apply(ns: &str, yaml: &str) {
    support::apply(V, ns, yaml);
}

fn keys_secret(name: &str, account: S3Account) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\nstringData:\n  access-key: {}\n  secret-key: {}\n",
        account.access_key, account.secret_key
    )
}

const REDIS_SECRET: &str =
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: redis-auth\nstringData:\n  password: ";

/// A store on the platform's S3 with the access key of Secret `s3-keys`; `extra` is more YAML under spec. zot
/// serves plain HTTP here (`tls.enabled: false`): these tests are about storage, and clients reach pods by address;
/// TLS (the default) is proven in tests/tls.rs and tests/registry.rs.
fn s3_store(name: &str, bucket: &str, extra: &str) -> String {
    format!(
        r#"apiVersion: artifact.zotregistry.io/v1alpha1
kind: ZotArtifactStore
metadata:
  name: {name}
spec:
  tls:
    enabled: false
  storage:
    type: s3
    s3:
      endpoint: {S3_ENDPOINT}
      bucket: {bucket}
      region: us-east-1
      accessKeySecret:
        name: s3-keys
{extra}"#
    )
}

/// Waits until `check` holds for the store's StorageReady condition (status, reason, message); returns the store.
async fn wait_storage(
    ns: &str,
    name: &str,
    check: impl Fn(&(String, String, String)) -> bool,
) -> Value {
    eventually(
        &format!("StorageReady of {name} as expected"),
        WAIT,
        || async {
            let store = get(V, ns, &format!("zas/{name}"))?;
            condition(&store, "StorageReady")
                .filter(|c| check(c))
                .map(|_| store)
        },
    )
    .await
}

fn event_reasons(ns: &str) -> Vec<(String, String)> {
    let (ok, out, err) = kubectl(V, &["get", "events", "-n", ns, "-o", "json"], None);
    assert!(ok, "{err}");
    let list: Value = serde_json::from_str(&out).unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["reason"].as_str().unwrap_or_default().to_string(),
                e["message"]
                    .as_str()
                    .or(e["note"].as_str())
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

async fn wait_event(ns: &str, reason: &str) -> String {
    eventually(&format!("a {reason} event"), WAIT, || async {
        event_reasons(ns)
            .into_iter()
            .find(|(r, _)| r == reason)
            .map(|(_, m)| m)
    })
    .await
}

fn sha256_hex(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// Keys and sizes of every object under `prefix` (ListObjectsV2 as MinIO's root).
fn objects(bucket: &str, prefix: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut query = format!("/{bucket}?list-type=2&prefix={}", services::encode(prefix));
        if let Some(t) = &token {
            query.push_str(&format!("&continuation-token={}", services::encode(t)));
        }
        let (status, body) = S3::root().request("GET", &query, None);
        assert_eq!(status, 200, "listing {bucket}/{prefix}: {body}");
        for content in body.split("<Contents>").skip(1) {
            let field = |tag: &str| {
                let open = format!("<{tag}>");
                let start = content.find(&open).unwrap() + open.len();
                let end = content[start..].find(&format!("</{tag}>")).unwrap();
                content[start..start + end].to_string()
            };
            out.push((field("Key"), field("Size").parse().unwrap()));
        }
        token = body
            .split_once("<NextContinuationToken>")
            .and_then(|(_, rest)| rest.split_once("</NextContinuationToken>"))
            .map(|(t, _)| t.to_string());
        if token.is_none() {
            return out;
        }
    }
}

#[tokio::test]
async fn the_operator_creates_the_bucket_and_zot_keeps_what_is_pushed_there_with_the_keys_only_in_their_secret()
 {
    let (ns, operator) = setup("s3-push").await;
    let bucket = format!("{}-images", ns.name);
    assert_eq!(S3::root().bucket_state(&bucket), BucketState::Missing);
    apply(&ns.name, &keys_secret("s3-keys", S3_ROOT));
    apply(&ns.name, &s3_store("zot", &bucket, ""));
    let store = support::ready(V, &ns.name, "zot").await;
    assert_eq!(
        store["status"]["storage"],
        serde_json::json!({"bucket": bucket, "endpoint": S3_ENDPOINT, "createdByOperator": true}),
        "{store}"
    );
    let storage = condition(&store, "StorageReady").unwrap();
    assert_eq!(
        (storage.0.as_str(), storage.1.as_str()),
        ("True", "BucketReady")
    );
    assert_eq!(S3::root().bucket_state(&bucket), BucketState::Exists);
    assert!(
        wait_event(&ns.name, "BucketCreated")
            .await
            .contains(&bucket)
    );

    let pods = wait_ready_pods(V, &ns.name, "zot", 1).await;
    let registry = format!("{}:5000", pods[0].1);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    image_files(w);
    push_image(w, &format!("{registry}/demo/app:v1"), &["--plain-http"]);
    oras_ok(
        &[
            "pull",
            &format!("{registry}/demo/app:v1"),
            "--plain-http",
            "-o",
            "out",
        ],
        w,
    );
    same_file(&w.join("layer.tar.gz"), &w.join("out/layer.tar.gz"));
    // The blob is in the bucket, under zot's root directory, whole.
    let layer = sha256_hex(&w.join("layer.tar.gz"));
    let stored = objects(&bucket, "zot/");
    assert!(
        stored
            .iter()
            .any(|(k, size)| k.ends_with(&format!("/blobs/sha256/{layer}")) && *size == 64 * 1024),
        "no blob {layer} in bucket {bucket}: {stored:?}"
    );

    // The secret key is in its own Secret only: not in a ConfigMap, the config Secret, events, logs or status.
    let secret = S3_ROOT.secret_key;
    let (ok, configmaps, _) = kubectl(
        V,
        &["get", "configmaps", "-n", &ns.name, "-o", "json"],
        None,
    );
    assert!(ok && !configmaps.contains(secret));
    let config = get(V, &ns.name, "secret/zot-config").unwrap();
    let config_json = String::from_utf8(base64_decode(
        config["data"]["config.json"].as_str().unwrap(),
    ))
    .unwrap();
    assert!(
        config_json.contains(&bucket) && !config_json.contains(secret),
        "{config_json}"
    );
    let (_, events, _) = kubectl(V, &["get", "events", "-n", &ns.name, "-o", "json"], None);
    assert!(!events.contains(secret));
    assert!(
        !get(V, &ns.name, "zas/zot")
            .unwrap()
            .to_string()
            .contains(secret)
    );
    let logs = pod_logs(V, &ns.name);
    assert!(
        !logs.is_empty() && !logs.contains(secret),
        "zot's log holds the secret key"
    );
    assert!(
        !operator.logs().contains(secret),
        "the operator's log holds the secret key"
    );
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

#[tokio::test]
async fn what_s3_refuses_is_storage_ready_false_with_its_message_and_a_fixed_secret_recovers() {
    let (ns, operator) = setup("s3-bad").await;
    let bucket = format!("{}-images", ns.name);
    // The other account's keys, on a bucket of root's: access denied.
    let foreign = format!("{}-root", ns.name);
    S3::root().create_bucket(&foreign).unwrap();
    apply(&ns.name, &keys_secret("other-keys", S3_OTHER));
    let foreign_store =
        s3_store("denied", &foreign, "").replace("name: s3-keys", "name: other-keys");
    apply(&ns.name, &foreign_store);
    // A wrong secret key.
    let wrong = S3Account {
        access_key: S3_ROOT.access_key,
        secret_key: "not-the-secret-key",
    };
    apply(&ns.name, &keys_secret("s3-keys", wrong));
    apply(&ns.name, &s3_store("wrong-key", &bucket, ""));
    // Nobody answers at this address.
    let unreachable =
        s3_store("unreachable", &bucket, "").replace(S3_ENDPOINT, "http://10.250.255.99:9000");
    apply(&ns.name, &unreachable);
    // A region the server does not serve.
    let region = s3_store("region", &bucket, "").replace("region: us-east-1", "region: eu-west-1");
    apply(&ns.name, &region);

    let denied = wait_storage(&ns.name, "denied", |c| c.0 == "False").await;
    let c = condition(&denied, "StorageReady").unwrap();
    assert_eq!(c.1, "AccessDenied", "{c:?}");
    assert!(c.2.contains("Access Denied"), "S3's own message: {c:?}");
    let wrong_key = wait_storage(&ns.name, "wrong-key", |c| c.0 == "False").await;
    let c = condition(&wrong_key, "StorageReady").unwrap();
    assert_eq!(c.1, "InvalidCredentials", "{c:?}");
    assert!(
        c.2.contains("SignatureDoesNotMatch"),
        "S3's own code: {c:?}"
    );
    assert_eq!(condition(&wrong_key, "Ready").unwrap().0, "False");
    let far = wait_storage(&ns.name, "unreachable", |c| c.0 == "False").await;
    let c = condition(&far, "StorageReady").unwrap();
    assert_eq!(c.1, "EndpointUnreachable", "{c:?}");
    assert!(c.2.contains("10.250.255.99:9000"), "{c:?}");
    let elsewhere = wait_storage(&ns.name, "region", |c| c.0 == "False").await;
    let c = condition(&elsewhere, "StorageReady").unwrap();
    assert_eq!(c.1, "WrongRegion", "{c:?}");
    assert!(
        c.2.contains("the region is wrong; expecting 'us-east-1'"),
        "S3's own message: {c:?}"
    );
    // zot is not started against a bucket that is not there, and nothing was created with wrong keys.
    assert!(get(V, &ns.name, "deployment/wrong-key").is_none());
    assert_eq!(S3::root().bucket_state(&bucket), BucketState::Missing);

    // The right key: the bucket is made and the store serves.
    apply(&ns.name, &keys_secret("s3-keys", S3_ROOT));
    let fixed = support::ready(V, &ns.name, "wrong-key").await;
    assert_eq!(condition(&fixed, "StorageReady").unwrap().1, "BucketReady");
    assert_eq!(S3::root().bucket_state(&bucket), BucketState::Exists);
    // Through all of it the operator kept running.
    assert_eq!(operator.http_get("/healthz").map(|r| r.0), Some(200));
}

/// The layer of `w` as a path under zot's root directory in the bucket, for each repository holding it.
fn layer_objects(bucket: &str, w: &Path) -> Vec<(String, u64)> {
    let layer = sha256_hex(&w.join("layer.tar.gz"));
    objects(bucket, "zot/")
        .into_iter()
        .filter(|(k, _)| k.ends_with(&format!("/blobs/sha256/{layer}")))
        .collect()
}

fn tags(registry: &str, repo: &str) -> Value {
    let (status, body) = http(
        "GET",
        &format!("http://{registry}/v2/{repo}/tags/list"),
        &[],
    );
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body).unwrap()["tags"].clone()
}

#[tokio::test]
async fn three_replicas_on_s3_and_redis_serve_one_registry_through_pod_loss_scaling_and_a_redis_restart()
 {
    let (ns, operator) = setup("s3-ha").await;
    let bucket = format!("{}-images", ns.name);
    apply(&ns.name, &keys_secret("s3-keys", S3_ROOT));
    apply(&ns.name, &format!("{REDIS_SECRET}{REDIS_PASSWORD}\n"));
    let spec = format!(
        "  replicas: 3\n  database:\n    type: redis\n    redis:\n      url: redis://{REDIS_ADDR}/0\n      passwordSecretRef: {{name: redis-auth, key: password}}\n"
    );
    apply(&ns.name, &s3_store("zot", &bucket, &spec));
    support::ready(V, &ns.name, "zot").await;
    let pods = wait_ready_pods(V, &ns.name, "zot", 3).await;
    let registries: Vec<String> = pods.iter().map(|(_, ip)| format!("{ip}:5000")).collect();
    // The password reaches zot only through the config Secret (zot reads it nowhere else): never a ConfigMap,
    // an event or a log (zot masks its `password` option when it logs its configuration).
    let (_, configmaps, _) = kubectl(
        V,
        &["get", "configmaps", "-n", &ns.name, "-o", "json"],
        None,
    );
    assert!(!configmaps.contains(REDIS_PASSWORD));
    let (_, events, _) = kubectl(V, &["get", "events", "-n", &ns.name, "-o", "json"], None);
    assert!(!events.contains(REDIS_PASSWORD));
    let logs = pod_logs(V, &ns.name);
    assert!(
        logs.contains("configuration settings") && !logs.contains(REDIS_PASSWORD),
        "zot's log holds the redis password"
    );
    assert!(!operator.logs().contains(REDIS_PASSWORD));

    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    image_files(w);
    push_image(
        w,
        &format!("{}/team/app:v1", registries[0]),
        &["--plain-http"],
    );
    for registry in &registries[1..] {
        let out = w.join("out");
        let _ = std::fs::remove_dir_all(&out);
        oras_ok(
            &[
                "pull",
                &format!("{registry}/team/app:v1"),
                "--plain-http",
                "-o",
                "out",
            ],
            w,
        );
        same_file(&w.join("layer.tar.gz"), &out.join("layer.tar.gz"));
        assert_eq!(tags(registry, "team/app"), serde_json::json!(["v1"]));
    }
    // zot's metadata is in redis under the store's key prefix, reached with the password.
    let keys = services::redis_cli(
        &services::Origin::Host,
        Some(REDIS_PASSWORD),
        &["--scan", "--pattern", &format!("{}-zot*", ns.name)],
    );
    assert!(!keys.trim().is_empty(), "no key of this store in redis");

    // Dedupe across replicas: the same layer pushed to another repository through another pod is stored once
    // (zot keeps the original and an empty placeholder, through the shared redis index).
    push_image(
        w,
        &format!("{}/team/copy:v1", registries[1]),
        &["--plain-http"],
    );
    let copies = layer_objects(&bucket, w);
    assert_eq!(copies.len(), 2, "{copies:?}");
    assert_eq!(
        copies.iter().filter(|(_, size)| *size > 0).count(),
        1,
        "dedupe keeps one full copy: {copies:?}"
    );

    // A pod lost in the middle of a pull: the client's retry against another pod gets the same bytes.
    write(w, "big.bin", &random_bytes(24 * 1024 * 1024));
    oras_ok(
        &[
            "push",
            &format!("{}/team/big:v1", registries[0]),
            "--plain-http",
            "big.bin:application/octet-stream",
        ],
        w,
    );
    let digest = sha256_hex(&w.join("big.bin"));
    let blob = |registry: &str| format!("http://{registry}/v2/team/big/blobs/sha256:{digest}");
    let slow = std::process::Command::new("curl")
        // A client that gives up on a connection gone silent for 5 s, as pull clients do. Slow enough (96 s for
        // the blob) that the pod is surely gone before the end, even on a loaded machine (at 1M/s, 24 s were once
        // not enough); an interrupted pull ends within seconds of the kill, so this costs the test nothing.
        .args([
            "-sS",
            "--limit-rate",
            "256K",
            "--speed-limit",
            "1024",
            "--speed-time",
            "5",
        ])
        .args([
            "-f",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{size_download}",
        ])
        .arg(blob(&registries[2]))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    // zot finishes the requests it serves on SIGTERM: a pod killed one second later is a lost pod.
    let (ok, _, err) = kubectl(
        V,
        &[
            "delete",
            "pod",
            "-n",
            &ns.name,
            &pods[2].0,
            "--grace-period=1",
            "--wait=false",
        ],
        None,
    );
    assert!(ok, "{err}");
    let interrupted = slow.wait_with_output().unwrap();
    // Not an HTTP error (22): a transfer cut short.
    assert!(
        !interrupted.status.success() && interrupted.status.code() != Some(22),
        "the pull from the deleted pod was not interrupted: {:?} {} {}",
        interrupted.status,
        String::from_utf8_lossy(&interrupted.stdout),
        String::from_utf8_lossy(&interrupted.stderr)
    );
    let retry = w.join("retry.bin");
    let fetched = std::process::Command::new("curl")
        .args([
            "-sSf",
            "--max-time",
            "60",
            "-o",
            retry.to_str().unwrap(),
            &blob(&registries[1]),
        ])
        .status()
        .unwrap();
    assert!(fetched.success(), "the retry against another pod failed");
    same_file(&w.join("big.bin"), &retry);

    // Scale to one and back to three: nothing lost.
    let scale = |n: &str| {
        let (ok, _, err) = kubectl(
            V,
            &["scale", "zas/zot", "-n", &ns.name, "--replicas", n],
            None,
        );
        assert!(ok, "{err}");
    };
    scale("1");
    let one = wait_ready_pods(V, &ns.name, "zot", 1).await;
    assert_eq!(
        tags(&format!("{}:5000", one[0].1), "team/copy"),
        serde_json::json!(["v1"])
    );
    scale("3");
    let three = wait_ready_pods(V, &ns.name, "zot", 3).await;
    for (_, ip) in &three {
        let registry = format!("{ip}:5000");
        assert_eq!(tags(&registry, "team/app"), serde_json::json!(["v1"]));
        let out = w.join("out");
        let _ = std::fs::remove_dir_all(&out);
        oras_ok(
            &[
                "pull",
                &format!("{registry}/team/big:v1"),
                "--plain-http",
                "-o",
                "out",
            ],
            w,
        );
        same_file(&w.join("big.bin"), &out.join("big.bin"));
    }

    // Redis restarts: zot reconnects, and a push through one pod is listed by the others.
    services::restart_redis();
    let registries: Vec<String> = three.iter().map(|(_, ip)| format!("{ip}:5000")).collect();
    eventually("a push after the redis restart", WAIT, || async {
        let (ok, _, _) = oras(
            &[
                "push",
                &format!("{}/team/app:v2", registries[0]),
                "--plain-http",
                "--config",
                "config.json:application/vnd.oci.image.config.v1+json",
                "layer.tar.gz:application/vnd.oci.image.layer.v1.tar+gzip",
            ],
            w,
        );
        ok.then_some(())
    })
    .await;
    for registry in &registries[1..] {
        assert_eq!(tags(registry, "team/app"), serde_json::json!(["v1", "v2"]));
    }
}

/// Pushes one image to the store's first ready pod.
async fn push_to(ns: &str, store: &str, w: &Path) {
    let pods = wait_ready_pods(V, ns, store, 1).await;
    push_image(
        w,
        &format!("{}:5000/demo/app:v1", pods[0].1),
        &["--plain-http"],
    );
}

async fn wait_gone(ns: &str, what: &str) {
    eventually(&format!("{what} to be deleted"), WAIT, || async {
        get(V, ns, what).is_none().then_some(())
    })
    .await
}

#[tokio::test]
async fn deletion_removes_data_and_an_operator_bucket_only_when_asked_and_is_never_blocked() {
    let (ns, operator) = setup("s3-delete").await;
    apply(&ns.name, &keys_secret("s3-keys", S3_ROOT));
    let with_policy = |name: &str, bucket: &str, policy: &str| {
        s3_store(name, bucket, "").replace(
            "  storage:\n",
            &format!("  storage:\n    deletionPolicy: {policy}\n"),
        )
    };
    let made = format!("{}-made", ns.name);
    let kept = format!("{}-kept", ns.name);
    let theirs = format!("{}-theirs", ns.name);
    // A bucket that was there before, with something of someone else's.
    S3::root().create_bucket(&theirs).unwrap();
    S3::root()
        .put_object(&theirs, "outside/readme.txt", b"not zot's")
        .unwrap();
    apply(&ns.name, &with_policy("made", &made, "Delete"));
    apply(&ns.name, &with_policy("kept", &kept, "Retain"));
    apply(&ns.name, &with_policy("theirs", &theirs, "Delete"));
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    image_files(w);
    for store in ["made", "kept", "theirs"] {
        support::ready(V, &ns.name, store).await;
        push_to(&ns.name, store, w).await;
    }
    let finalizers = |name: &str| {
        get(V, &ns.name, &format!("zas/{name}")).unwrap()["metadata"]["finalizers"].clone()
    };
    assert_eq!(
        finalizers("made"),
        serde_json::json!(["artifact.zotregistry.io/storage-cleanup"])
    );
    assert!(finalizers("kept").is_null(), "Retain needs no finalizer");
    let created = |name: &str| {
        get(V, &ns.name, &format!("zas/{name}")).unwrap()["status"]["storage"]["createdByOperator"]
            .clone()
    };
    assert_eq!(created("made"), true);
    assert_eq!(created("theirs"), false);

    for store in ["made", "kept", "theirs"] {
        let (ok, _, err) = kubectl(
            V,
            &["delete", "zas", store, "-n", &ns.name, "--wait=false"],
            None,
        );
        assert!(ok, "{err}");
    }
    for store in ["made", "kept", "theirs"] {
        wait_gone(&ns.name, &format!("zas/{store}")).await;
    }
    // Delete + the operator's bucket: data and bucket gone.
    assert_eq!(S3::root().bucket_state(&made), BucketState::Missing);
    // Retain: bucket and data kept.
    assert!(!objects(&kept, "zot/").is_empty());
    // Delete + a bucket the operator did not create: zot's data gone, the bucket and the rest kept.
    assert!(objects(&theirs, "zot/").is_empty());
    assert_eq!(
        objects(&theirs, ""),
        vec![("outside/readme.txt".to_string(), 9)]
    );
    let deleted = wait_event(&ns.name, "StorageDeleted").await;
    assert!(deleted.contains("deleted zot's data"), "{deleted}");

    // The access key's Secret gone first: the store is let go, and a Warning says what was left.
    let orphan = format!("{}-orphan", ns.name);
    apply(&ns.name, &keys_secret("orphan-keys", S3_ROOT));
    apply(
        &ns.name,
        &with_policy("orphan", &orphan, "Delete").replace("name: s3-keys", "name: orphan-keys"),
    );
    support::ready(V, &ns.name, "orphan").await;
    let (ok, _, err) = kubectl(
        V,
        &["delete", "secret", "orphan-keys", "-n", &ns.name],
        None,
    );
    assert!(ok, "{err}");
    let (ok, _, err) = kubectl(
        V,
        &["delete", "zas", "orphan", "-n", &ns.name, "--wait=false"],
        None,
    );
    assert!(ok, "{err}");
    wait_gone(&ns.name, "zas/orphan").await;
    let left = wait_event(&ns.name, "StorageLeftBehind").await;
    assert!(
        left.contains(&orphan) && left.contains("orphan-keys"),
        "{left}"
    );
    assert_eq!(S3::root().bucket_state(&orphan), BucketState::Exists);

    // The operator down when two stores are deleted: the finalizer holds them, and the next operator finishes —
    // also for one whose data is already gone, as an operator killed between deleting the data and deleting the
    // bucket leaves it.
    let late = format!("{}-late", ns.name);
    let halfway = format!("{}-halfway", ns.name);
    for (name, bucket) in [("late", &late), ("halfway", &halfway)] {
        apply(&ns.name, &with_policy(name, bucket, "Delete"));
        support::ready(V, &ns.name, name).await;
        push_to(&ns.name, name, w).await;
    }
    operator.kill();
    for name in ["late", "halfway"] {
        let (ok, _, err) = kubectl(
            V,
            &["delete", "zas", name, "-n", &ns.name, "--wait=false"],
            None,
        );
        assert!(ok, "{err}");
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        get(V, &ns.name, "zas/late").is_some(),
        "the finalizer holds the store"
    );
    assert!(!objects(&late, "zot/").is_empty());
    for (key, _) in objects(&halfway, "zot/") {
        let (status, body) = S3::root().request("DELETE", &format!("/{halfway}/{key}"), None);
        assert_eq!(status, 204, "{body}");
    }
    let _next = Operator::start(
        V,
        "s3-delete-operator",
        &[("WATCH_NAMESPACE", ns.name.as_str())],
    );
    wait_gone(&ns.name, "zas/late").await;
    wait_gone(&ns.name, "zas/halfway").await;
    assert_eq!(S3::root().bucket_state(&late), BucketState::Missing);
    assert_eq!(S3::root().bucket_state(&late), BucketState::Missing);
    assert_eq!(S3::root().bucket_state(&halfway), BucketState::Missing);
}

#[tokio::test]
async fn a_setting_zot_refuses_at_start_crash_loops_the_new_pod_with_zots_message_while_the_old_pods_keep_serving()
 {
    let (ns, _operator) = setup("s3-rollout").await;
    let bucket = format!("{}-images", ns.name);
    apply(&ns.name, &keys_secret("s3-keys", S3_ROOT));
    let password = |value: &str| format!("{REDIS_SECRET}{value}\n");
    apply(&ns.name, &password(REDIS_PASSWORD));
    let spec = format!(
        "  replicas: 2\n  database:\n    type: redis\n    redis:\n      url: redis://{REDIS_ADDR}/0\n      passwordSecretRef: {{name: redis-auth, key: password}}\n"
    );
    apply(&ns.name, &s3_store("zot", &bucket, &spec));
    support::ready(V, &ns.name, "zot").await;
    let old = wait_ready_pods(V, &ns.name, "zot", 2).await;
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    image_files(w);
    push_image(
        w,
        &format!("{}:5000/team/app:v1", old[0].1),
        &["--plain-http"],
    );

    // A password redis refuses: the new pod's zot exits at start, the rollout stops there.
    apply(&ns.name, &password("not-the-password"));
    let store = eventually("Ready=False with zot's own message", WAIT, || async {
        let store = get(V, &ns.name, "zas/zot")?;
        let ready = condition(&store, "Ready")?;
        (ready.0 == "False" && ready.1 == "ZotNotStarting").then_some(store)
    })
    .await;
    let message = condition(&store, "Ready").unwrap().2;
    assert!(
        message.contains("WRONGPASS"),
        "redis's refusal, as zot logged it: {message}"
    );
    // The old pods keep serving what was pushed, and no old pod was stopped for the broken one.
    for (_, ip) in &old {
        let out = w.join("out");
        let _ = std::fs::remove_dir_all(&out);
        oras_ok(
            &[
                "pull",
                &format!("{ip}:5000/team/app:v1"),
                "--plain-http",
                "-o",
                "out",
            ],
            w,
        );
        same_file(&w.join("layer.tar.gz"), &out.join("layer.tar.gz"));
    }
    let serving: Vec<String> = support::registry::ready_pods(V, &ns.name, "zot")
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(serving.len(), 2, "{serving:?}");
    assert!(
        old.iter().all(|(name, _)| serving.contains(name)),
        "{serving:?}"
    );

    // The right password again: the rollout completes on new pods that serve the same registry.
    apply(&ns.name, &password(REDIS_PASSWORD));
    eventually("the rollout to finish on new pods", WAIT, || async {
        let store = get(V, &ns.name, "zas/zot")?;
        let ready = condition(&store, "Ready")?;
        let pods = support::registry::ready_pods(V, &ns.name, "zot");
        let renewed = pods.len() == 2 && pods.iter().all(|(n, _)| old.iter().all(|(o, _)| o != n));
        (ready.0 == "True" && renewed).then_some(())
    })
    .await;
    let new = support::registry::ready_pods(V, &ns.name, "zot");
    assert_eq!(
        tags(&format!("{}:5000", new[0].1), "team/app"),
        serde_json::json!(["v1"])
    );
}

#[tokio::test]
async fn garbage_collection_set_in_the_spec_runs_on_the_shared_bucket_of_several_replicas() {
    let (ns, _operator) = setup("s3-gc").await;
    let bucket = format!("{}-images", ns.name);
    apply(&ns.name, &keys_secret("s3-keys", S3_ROOT));
    apply(&ns.name, &format!("{REDIS_SECRET}{REDIS_PASSWORD}\n"));
    let spec = format!(
        "  replicas: 2\n  database:\n    type: redis\n    redis:\n      url: redis://{REDIS_ADDR}/0\n      passwordSecretRef: {{name: redis-auth, key: password}}\n"
    );
    let store = s3_store("zot", &bucket, &spec).replace(
        "  storage:\n",
        "  storage:\n    gc: true\n    gcInterval: 10s\n    gcDelay: 1s\n",
    );
    apply(&ns.name, &store);
    support::ready(V, &ns.name, "zot").await;
    let pods = wait_ready_pods(V, &ns.name, "zot", 2).await;
    let (first, second) = (format!("{}:5000", pods[0].1), format!("{}:5000", pods[1].1));
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    image_files(w);
    let kept_dir = tempfile::tempdir().unwrap();
    image_files(kept_dir.path());
    // Two images through one pod; the first one's manifest deleted through the other.
    push_image(w, &format!("{first}/team/gone:v1"), &["--plain-http"]);
    push_image(
        kept_dir.path(),
        &format!("{first}/team/kept:v1"),
        &["--plain-http"],
    );
    assert_eq!(layer_objects(&bucket, w).len(), 1);
    let (status, _) = http(
        "HEAD",
        &format!("http://{second}/v2/team/gone/manifests/v1"),
        &[
            "-H",
            "Accept: application/vnd.oci.image.manifest.v1+json",
            "-I",
        ],
    );
    assert_eq!(status, 200);
    let digest = manifest_digest(&second, "team/gone", "v1");
    let (status, body) = http(
        "DELETE",
        &format!("http://{second}/v2/team/gone/manifests/{digest}"),
        &[],
    );
    assert_eq!(status, 202, "{body}");
    // zot's periodic garbage collection (every 10 s here, for blobs older than 1 s) removes the orphan layer from
    // the bucket; the other image keeps its layer.
    eventually(
        "the orphan layer to be collected from the bucket",
        Duration::from_secs(150),
        || async { layer_objects(&bucket, w).is_empty().then_some(()) },
    )
    .await;
    assert_eq!(layer_objects(&bucket, kept_dir.path()).len(), 1);
    let out = w.join("out");
    oras_ok(
        &[
            "pull",
            &format!("{second}/team/kept:v1"),
            "--plain-http",
            "-o",
            "out",
        ],
        w,
    );
    same_file(
        &kept_dir.path().join("layer.tar.gz"),
        &out.join("layer.tar.gz"),
    );
}
