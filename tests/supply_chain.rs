//! Supply chain for real: the operator keeps a cosign key pair in a Secret, every zot pod trusts its public key, and
//! cosign (built from its module by hack/tools.sh) signs images pushed to real zot pods (zot-podrunner). zot's own
//! search API says whether each image is signed and whether the signature is trusted.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::operator::{Operator, in_restricted_namespace};
use support::registry::{
    http, image_files, manifest_digest, oras_ok, pod_logs, push_image, wait_ready_pods, write,
};
use support::services::{self, REDIS_ADDR, REDIS_PASSWORD, S3_ENDPOINT, S3_ROOT};
use support::{Flavour, TestNamespace, condition, eventually, get, kubectl, tool};

const V: Flavour = Flavour::Vanilla;
const WAIT: Duration = Duration::from_secs(180);

async fn setup(prefix: &str) -> (TestNamespace, Operator) {
    in_restricted_namespace(V, prefix, &format!("{prefix}-operator"), &[]).await
}

fn apply(ns: &str, yaml: &str) {
    support::apply(V, ns, yaml);
}

/// A store signing with `signing` (YAML under supplyChain.signing). zot serves plain HTTP in this file
/// (`tls.enabled: false`): these tests are about signatures and SBOMs, and clients reach pods by address; TLS (the
/// default) is proven in tests/tls.rs and tests/registry.rs.
fn store(name: &str, signing: &str) -> String {
    format!(
        "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: {name}\nspec:\n  tls:\n    enabled: false\n  supplyChain:\n    enabled: true\n    signing:\n      enabled: true\n{signing}"
    )
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

/// The value of `key` of Secret `name`.
fn secret_value(ns: &str, name: &str, key: &str) -> Option<String> {
    let secret = get(V, ns, &format!("secret/{name}"))?;
    let value = secret["data"][key].as_str()?;
    Some(String::from_utf8(base64_decode(value)).unwrap())
}

/// Runs cosign with a throwaway HOME (no cached TUF root, no credentials) and `env`; (success, stdout, stderr).
fn cosign(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> (bool, String, String) {
    let out = Command::new(tool("cosign"))
        .args(args)
        .current_dir(cwd)
        .env("HOME", cwd)
        .env_remove("DOCKER_CONFIG")
        .envs(env.iter().copied())
        .output()
        .expect("run cosign");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Signs `image` (a digest reference) offline with the key file `key`: no transparency log, plain HTTP.
fn sign(w: &Path, key: &str, password: &str, image: &str) {
    let (ok, out, err) = cosign(
        &[
            "sign",
            "--key",
            key,
            "--tlog-upload=false",
            "--allow-http-registry",
            "--allow-insecure-registry",
            "--yes",
            image,
        ],
        w,
        &[("COSIGN_PASSWORD", password)],
    );
    assert!(ok, "cosign sign {image} failed:\n{out}\n{err}");
}

/// Pushes an image to `registry/repo:tag` and returns its digest reference.
fn push(w: &Path, registry: &str, repo: &str) -> String {
    let reference = format!("{registry}/{repo}:v1");
    image_files(w);
    push_image(w, &reference, &["--plain-http"]);
    let digest = oras_ok(&["resolve", &reference, "--plain-http"], w);
    format!("{registry}/{repo}@{}", digest.trim())
}

/// zot's search API on `registry`: `Image { IsSigned SignatureInfo { Tool IsTrusted Author } }` of `image`.
fn signature_info(registry: &str, image: &str) -> Value {
    let query =
        format!("{{Image(image:\"{image}\"){{IsSigned SignatureInfo{{Tool IsTrusted Author}}}}}}");
    let (status, body) = http(
        "GET",
        &format!("http://{registry}/v2/_zot/ext/search"),
        &["-G", "--data-urlencode", &format!("query={query}")],
    );
    assert_eq!(status, 200, "search API: {body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["data"]["Image"].clone()
}

/// Waits until zot on `registry` reports `image` signed by cosign with the given trust; returns the signatures.
async fn wait_signed(registry: &str, image: &str, trusted: bool) -> Vec<Value> {
    eventually(
        &format!("{image} signed and trusted={trusted} according to zot at {registry}"),
        Duration::from_secs(60),
        || async {
            let info = signature_info(registry, image);
            let sigs = info["SignatureInfo"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            (info["IsSigned"] == true
                && !sigs.is_empty()
                && sigs
                    .iter()
                    .all(|s| s["Tool"] == "cosign" && s["IsTrusted"] == trusted))
            .then_some(sigs)
        },
    )
    .await
}

/// A key pair of cosign's own making (`cosign generate-key-pair`), unknown to zot.
fn foreign_key(w: &Path) -> String {
    let (ok, out, err) = cosign(
        &["generate-key-pair", "--output-key-prefix", "foreign"],
        w,
        &[("COSIGN_PASSWORD", "foreign")],
    );
    assert!(ok, "cosign generate-key-pair failed:\n{out}\n{err}");
    w.join("foreign.key").display().to_string()
}

/// The operator's key files of Secret `secret` written to `w` (cosign.key, cosign.pub); returns the password.
fn key_files(ns: &str, secret: &str, w: &Path) -> String {
    for key in ["cosign.key", "cosign.pub"] {
        write(w, key, secret_value(ns, secret, key).unwrap().as_bytes());
    }
    secret_value(ns, secret, "cosign.password").unwrap()
}

#[tokio::test]
async fn the_operator_creates_a_key_pair_that_zot_trusts_and_a_signature_of_another_key_is_untrusted()
 {
    let (ns, operator) = setup("sign-created").await;
    apply(&ns.name, &store("zot", ""));
    let store = support::ready(V, &ns.name, "zot").await;

    // The pair is in zot-signing-key, in cosign's own Secret layout, RSA of the default keySize.
    let private = secret_value(&ns.name, "zot-signing-key", "cosign.key").unwrap();
    let password = secret_value(&ns.name, "zot-signing-key", "cosign.password").unwrap();
    let public = secret_value(&ns.name, "zot-signing-key", "cosign.pub").unwrap();
    assert!(private.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
    let signing = &store["status"]["signing"];
    assert_eq!(signing["secretName"], "zot-signing-key", "{store}");
    assert_eq!(signing["algorithm"], "RSA 4096-bit", "{store}");
    assert_eq!(signing["createdByOperator"], true, "{store}");
    let ready = condition(&store, "SigningReady").unwrap();
    assert_eq!((ready.0.as_str(), ready.1.as_str()), ("True", "KeyCreated"));
    assert!(ready.2.contains("RSA 4096-bit"), "{}", ready.2);

    let pods = wait_ready_pods(V, &ns.name, "zot", 1).await;
    let registry = format!("{}:5000", pods[0].1);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let password_file = key_files(&ns.name, "zot-signing-key", w);
    assert_eq!(password_file, password);
    // cosign itself takes the key: its public key is the Secret's.
    let (ok, out, err) = cosign(
        &["public-key", "--key", "cosign.key"],
        w,
        &[("COSIGN_PASSWORD", &password)],
    );
    assert!(ok, "{err}");
    assert_eq!(out.trim(), public.trim());

    let signed = push(w, &registry, "demo/signed");
    sign(w, "cosign.key", &password, &signed);
    let sigs = wait_signed(&registry, "demo/signed:v1", true).await;
    assert_eq!(
        sigs[0]["Author"].as_str().unwrap().trim(),
        public.trim(),
        "zot names the trusted key as the author"
    );

    let foreign = foreign_key(w);
    let other = push(w, &registry, "demo/foreign");
    sign(w, &foreign, "foreign", &other);
    let sigs = wait_signed(&registry, "demo/foreign:v1", false).await;
    assert_eq!(
        sigs[0]["Author"], "",
        "an untrusted signature has no author"
    );

    // An SBOM attached by a client is a referrer zot's search lists for the image, beside the signature.
    write(
        w,
        "sbom.spdx.json",
        br#"{"spdxVersion":"SPDX-2.3","name":"demo"}"#,
    );
    oras_ok(
        &[
            "attach",
            &signed,
            "--plain-http",
            "--artifact-type",
            "application/spdx+json",
            "sbom.spdx.json:application/spdx+json",
        ],
        w,
    );
    let digest = signed.rsplit_once('@').unwrap().1;
    let query = format!(
        "{{Referrers(repo:\"demo/signed\",digest:\"{digest}\",type:[]){{ArtifactType MediaType Digest}}}}"
    );
    let (status, body) = http(
        "GET",
        &format!("http://{registry}/v2/_zot/ext/search"),
        &["-G", "--data-urlencode", &format!("query={query}")],
    );
    assert_eq!(status, 200, "{body}");
    let found: Value = serde_json::from_str(&body).unwrap();
    let referrers = found["data"]["Referrers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        referrers
            .iter()
            .any(|r| r["ArtifactType"] == "application/spdx+json"),
        "zot's search lists no SBOM referrer: {body}"
    );

    // The pod mounts the public key alone; the private key and its password are nowhere else.
    let pod = get(V, &ns.name, &format!("pod/{}", pods[0].0)).unwrap();
    let volume = pod["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["secret"]["secretName"] == "zot-signing-key")
        .cloned()
        .unwrap();
    assert_eq!(
        volume["secret"]["items"],
        serde_json::json!([{"key": "cosign.pub", "path": "cosign.pub"}])
    );
    let body = private
        .lines()
        .nth(1)
        .unwrap()
        .chars()
        .take(40)
        .collect::<String>();
    for (what, text) in [
        (
            "ConfigMaps",
            kubectl(
                V,
                &["get", "configmaps", "-n", &ns.name, "-o", "json"],
                None,
            )
            .1,
        ),
        (
            "other Secrets",
            kubectl(V, &["get", "secrets", "-n", &ns.name, "-o", "json"], None)
                .1
                .replace(&base64_encode(&private), "")
                .replace(&base64_encode(&password), ""),
        ),
        (
            "events",
            kubectl(V, &["get", "events", "-n", &ns.name, "-o", "json"], None).1,
        ),
        (
            "the status",
            get(V, &ns.name, "zas/zot").unwrap().to_string(),
        ),
        ("zot's log", pod_logs(V, &ns.name)),
        ("the operator's log", operator.logs()),
    ] {
        assert!(
            !text.contains(&body) && !text.contains(&password),
            "the private key or its password is in {what}"
        );
    }
}

fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test]
async fn a_new_key_in_the_secret_rolls_the_pods_and_only_signatures_of_the_new_key_stay_trusted() {
    let (ns, _operator) = setup("sign-rotate").await;
    apply(&ns.name, &store("zot", "      keySize: 2048\n"));
    let first = support::ready(V, &ns.name, "zot").await;
    let old_fingerprint = first["status"]["signing"]["publicKeyFingerprint"].clone();
    let pods = wait_ready_pods(V, &ns.name, "zot", 1).await;
    let registry = format!("{}:5000", pods[0].1);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let password = key_files(&ns.name, "zot-signing-key", w);
    let image = push(w, &registry, "demo/app");
    sign(w, "cosign.key", &password, &image);
    wait_signed(&registry, "demo/app:v1", true).await;

    // Rotation: delete the Secret; the operator makes a new pair and the pods roll.
    let (ok, _, err) = kubectl(
        V,
        &["delete", "secret", "zot-signing-key", "-n", &ns.name],
        None,
    );
    assert!(ok, "{err}");
    let rotated = eventually("a new key pair", WAIT, || async {
        let store = get(V, &ns.name, "zas/zot")?;
        let fingerprint = &store["status"]["signing"]["publicKeyFingerprint"];
        (fingerprint.is_string() && *fingerprint != old_fingerprint).then_some(store)
    })
    .await;
    assert_eq!(rotated["status"]["signing"]["createdByOperator"], true);
    let old_uid =
        get(V, &ns.name, &format!("pod/{}", pods[0].0)).unwrap()["metadata"]["uid"].clone();
    let new_ip = eventually("a new zot pod, ready, with the new key", WAIT, || async {
        support::list(V, &ns.name, "pods")
            .into_iter()
            .filter(|p| p["metadata"]["labels"]["app.kubernetes.io/instance"] == "zot")
            .filter(|p| {
                p["metadata"]["uid"] != old_uid && p["metadata"]["deletionTimestamp"].is_null()
            })
            .filter(|p| {
                p["status"]["conditions"].as_array().is_some_and(|c| {
                    c.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                })
            })
            .find_map(|p| p["status"]["podIP"].as_str().map(str::to_string))
    })
    .await;
    let registry = format!("{new_ip}:5000");
    // zot re-checks every signature when it starts: the old key's signature is no longer trusted ...
    wait_signed(&registry, "demo/app:v1", false).await;
    // ... and a signature of the new key is.
    let password = key_files(&ns.name, "zot-signing-key", w);
    let image = push(w, &registry, "demo/next");
    sign(w, "cosign.key", &password, &image);
    wait_signed(&registry, "demo/next:v1", true).await;
}

const SECRET_HEAD: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: team-key\n";

/// A Secret `team-key` with the given cosign.* values (None leaves the key out).
fn key_secret(private: Option<&str>, public: Option<&str>, password: Option<&str>) -> String {
    let mut yaml = format!("{SECRET_HEAD}stringData:\n");
    for (key, value) in [
        ("cosign.key", private),
        ("cosign.pub", public),
        ("cosign.password", password),
    ] {
        match value {
            // A block scalar keeps the PEM's final newline; a one-line value (the password) gets none.
            Some(value) if value.contains('\n') => {
                yaml.push_str(&format!("  {key}: |\n"));
                for line in value.lines() {
                    yaml.push_str(&format!("    {line}\n"));
                }
            }
            Some(value) => yaml.push_str(&format!("  {key}: {value:?}\n")),
            None => {}
        }
    }
    yaml
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        support::repo_root()
            .join("tests/fixtures/cosign")
            .join(name),
    )
    .unwrap()
}

async fn wait_refused(ns: &str, field: &str) -> String {
    let deadline = std::time::Instant::now() + WAIT;
    let mut last = Value::Null;
    while std::time::Instant::now() < deadline {
        if let Some(store) = get(V, ns, "zas/zot") {
            if let Some((status, reason, message)) = condition(&store, "Ready")
                && status == "False"
                && reason == "InvalidSigningKey"
                && message.contains(field)
            {
                return message;
            }
            last = store["status"].clone();
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    panic!("timed out waiting for Ready=False naming {field}; last status: {last:#}");
}

#[tokio::test]
async fn a_users_key_secret_is_checked_never_replaced_and_a_valid_pair_of_another_size_is_used_as_it_is()
 {
    let (ns, _operator) = setup("sign-user").await;
    let signing = "      keySecretRef: {name: team-key}\n";
    let rsa = (fixture("rsa3072.key"), fixture("rsa3072.pub"));
    let ecdsa_public = fixture("ecdsa.pub");

    // A private key without its public half.
    apply(&ns.name, &key_secret(Some(&rsa.0), None, Some("fixture")));
    apply(&ns.name, &store("zot", signing));
    let message = wait_refused(&ns.name, "keySecretRef.publicKeyField").await;
    assert!(
        message.contains("Secret team-key") && message.contains("cosign.pub"),
        "{message}"
    );
    // Two halves of different pairs.
    apply(
        &ns.name,
        &key_secret(Some(&rsa.0), Some(&ecdsa_public), Some("fixture")),
    );
    let message = wait_refused(&ns.name, "keySecretRef.privateKeyField").await;
    assert!(message.contains("not one key pair"), "{message}");
    // The wrong password.
    apply(
        &ns.name,
        &key_secret(Some(&rsa.0), Some(&rsa.1), Some("wrong")),
    );
    let message = wait_refused(&ns.name, "keySecretRef.passwordField").await;
    assert!(message.contains("cosign.password"), "{message}");
    // An RSA key of 1024 bits.
    let small = fixture("rsa1024.pub");
    apply(
        &ns.name,
        &key_secret(Some(&rsa.0), Some(&small), Some("fixture")),
    );
    let message = wait_refused(&ns.name, "keySecretRef.publicKeyField").await;
    assert!(message.contains("too small"), "{message}");
    // Never replaced: the operator left the user's (bad) data as it was.
    assert_eq!(
        secret_value(&ns.name, "team-key", "cosign.pub")
            .unwrap()
            .trim(),
        small.trim()
    );

    // A good pair of another size than keySize (4096): used as it is, and the status says so.
    apply(
        &ns.name,
        &key_secret(Some(&rsa.0), Some(&rsa.1), Some("fixture")),
    );
    let store = support::ready(V, &ns.name, "zot").await;
    assert_eq!(store["status"]["signing"]["algorithm"], "RSA 3072-bit");
    assert_eq!(store["status"]["signing"]["createdByOperator"], false);
    let ready = condition(&store, "SigningReady").unwrap();
    assert_eq!(ready.1, "KeyFound");
    assert!(
        ready
            .2
            .contains("keySize 4096 applies only to a pair the operator creates"),
        "{}",
        ready.2
    );
    assert_eq!(
        secret_value(&ns.name, "team-key", "cosign.key")
            .unwrap()
            .trim(),
        rsa.0.trim()
    );
    // zot trusts it: an image signed with it is trusted.
    let pods = wait_ready_pods(V, &ns.name, "zot", 1).await;
    let registry = format!("{}:5000", pods[0].1);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    write(w, "team.key", rsa.0.as_bytes());
    let image = push(w, &registry, "team/app");
    sign(w, "team.key", "fixture", &image);
    wait_signed(&registry, "team/app:v1", true).await;
}

#[tokio::test]
async fn every_replica_on_s3_and_redis_trusts_the_key_and_sees_the_same_verdicts() {
    services::ensure_up();
    let (ns, _operator) = setup("sign-replicas").await;
    let bucket = format!("{}-images", ns.name);
    apply(
        &ns.name,
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s3-keys\nstringData:\n  access-key: {}\n  secret-key: {}\n",
            S3_ROOT.access_key, S3_ROOT.secret_key
        ),
    );
    apply(
        &ns.name,
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: redis-auth\nstringData:\n  password: {REDIS_PASSWORD}\n"
        ),
    );
    let spec = format!(
        "      keySize: 2048\n  replicas: 2\n  storage:\n    type: s3\n    s3:\n      endpoint: {S3_ENDPOINT}\n      bucket: {bucket}\n      region: us-east-1\n      accessKeySecret:\n        name: s3-keys\n  database:\n    type: redis\n    redis:\n      url: redis://{REDIS_ADDR}/0\n      passwordSecretRef: {{name: redis-auth, key: password}}\n"
    );
    apply(&ns.name, &store("zot", &spec));
    support::ready(V, &ns.name, "zot").await;
    let pods = wait_ready_pods(V, &ns.name, "zot", 2).await;
    let (first, second) = (format!("{}:5000", pods[0].1), format!("{}:5000", pods[1].1));
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let password = key_files(&ns.name, "zot-signing-key", w);

    // Signed through one pod with the store's key: trusted on both.
    let image = push(w, &first, "demo/app");
    sign(w, "cosign.key", &password, &image);
    wait_signed(&first, "demo/app:v1", true).await;
    wait_signed(&second, "demo/app:v1", true).await;
    // Signed through the other pod with a foreign key: untrusted on both.
    let foreign = foreign_key(w);
    let other = push(w, &second, "demo/foreign");
    sign(w, &foreign, "foreign", &other);
    wait_signed(&second, "demo/foreign:v1", false).await;
    wait_signed(&first, "demo/foreign:v1", false).await;
    // Each pod verified with its own mounted key: the second pod's verdict on a signature pushed through it.
    let again = push(w, &second, "demo/again");
    sign(w, "cosign.key", &password, &again);
    wait_signed(&first, "demo/again:v1", true).await;
}

/// Tags of `repo` on `registry` (empty when the repository is gone).
fn tags(registry: &str, repo: &str) -> Vec<String> {
    let (status, body) = http(
        "GET",
        &format!("http://{registry}/v2/{repo}/tags/list"),
        &[],
    );
    if status != 200 {
        return Vec::new();
    }
    let v: Value = serde_json::from_str(&body).unwrap();
    let mut tags: Vec<String> = v["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str().map(str::to_string))
        .collect();
    tags.sort();
    tags
}

#[tokio::test]
async fn retention_policies_keep_the_newest_matching_tags_and_delete_the_rest_and_untagged_manifests()
 {
    let (ns, _operator) = setup("retention").await;
    // GC every 10 s for what is older than 1 s; in keep/**, tags v* are kept two at a time and others deleted;
    // elsewhere every tag is kept and manifests that lost their tag go.
    apply(
        &ns.name,
        "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: zot\nspec:\n  tls:\n    enabled: false\n  storage:\n    gcInterval: 10s\n    gcDelay: 1s\n    retention:\n      delay: 1s\n      policies:\n      - repositories: ['keep/**']\n        keepTags:\n        - patterns: ['^v']\n          mostRecentlyPushedCount: 2\n      - repositories: ['**']\n        deleteUntagged: true\n",
    );
    support::ready(V, &ns.name, "zot").await;
    let pods = wait_ready_pods(V, &ns.name, "zot", 1).await;
    let registry = format!("{}:5000", pods[0].1);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    // The policies as zot reads them from its config.
    let config = secret_value(&ns.name, "zot-config", "config.json").unwrap();
    let config: Value = serde_json::from_str(&config).unwrap();
    assert_eq!(
        config["storage"]["retention"]["policies"][0]["keepTags"][0]["mostRecentlyPushedCount"],
        2
    );

    for tag in ["v1", "v2", "dev", "v3"] {
        // Each tag its own image.
        image_files(w);
        push_image(w, &format!("{registry}/keep/app:{tag}"), &["--plain-http"]);
        // Push times that order the tags.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    let old = push(w, &registry, "other/app");
    let old_digest = old.rsplit_once('@').unwrap().1.to_string();
    push(w, &registry, "other/app");
    assert_eq!(tags(&registry, "other/app"), ["v1"]);

    eventually(
        "zot's retention to keep v2 and v3 of keep/app only",
        Duration::from_secs(120),
        || async { (tags(&registry, "keep/app") == ["v2", "v3"]).then_some(()) },
    )
    .await;
    eventually(
        "the manifest other/app:v1 no longer points to, to be deleted",
        Duration::from_secs(120),
        || async {
            let (status, _) = http(
                "HEAD",
                &format!("http://{registry}/v2/other/app/manifests/{old_digest}"),
                &["-I"],
            );
            (status == 404).then_some(())
        },
    )
    .await;
    assert_eq!(
        tags(&registry, "other/app"),
        ["v1"],
        "a tag no policy limits is kept"
    );
}

#[tokio::test]
async fn the_scanner_downloads_from_the_mirror_in_the_spec_and_the_status_says_when_it_does_not_answer()
 {
    let (ns, _operator) = setup("cve-mirror").await;
    // The mirror is zot's own port: it answers plain HTTP, so zot's HTTPS download fails at once, with zot's
    // message naming the mirror. The operator, on another network, gets no answer either.
    let mirror = "127.0.0.1:5000/aquasecurity/trivy-db";
    apply(
        &ns.name,
        &format!(
            "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: zot\nspec:\n  tls:\n    enabled: false\n  extensions:\n    search:\n      cve:\n        enabled: true\n        dbRepository: {mirror}\n        javaDbRepository: 127.0.0.1:5000/aquasecurity/trivy-java-db\n"
        ),
    );
    let store = support::ready(V, &ns.name, "zot").await;
    let config: Value =
        serde_json::from_str(&secret_value(&ns.name, "zot-config", "config.json").unwrap())
            .unwrap();
    assert_eq!(
        config["extensions"]["search"]["cve"]["trivy"]["dbRepository"],
        mirror
    );
    let (status, reason, message) = eventually("VulnerabilityDatabaseReady", WAIT, || async {
        condition(&get(V, &ns.name, "zas/zot")?, "VulnerabilityDatabaseReady")
    })
    .await;
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "RegistryUnreachable"),
        "{store}"
    );
    assert!(
        message.contains(&format!(
            "{mirror}:2 (spec.extensions.search.cve.dbRepository)"
        )),
        "{message}"
    );
    let ready = condition(&get(V, &ns.name, "zas/zot").unwrap(), "Ready").unwrap();
    assert_eq!(ready.0, "True", "the registry serves without a scanner");
    // zot tried the mirror, and says why it has no database.
    let log = eventually("zot's failed download from the mirror", WAIT, || async {
        let log = pod_logs(V, &ns.name);
        (log.contains("failed to download trivy-db") && log.contains(&format!("{mirror}:2")))
            .then_some(log)
    })
    .await;
    assert!(
        !log.contains("ghcr.io/aquasecurity/trivy-db"),
        "zot went to ghcr.io"
    );
}

/// A vulnerability database mirror for the tests: a zot serving HTTPS in the services' network namespace (where the
/// pods can reach it) with a certificate of a CA made for the test, holding a minimal Trivy database
/// (tests/fixtures/trivy-db and a schema-2 `metadata.json`, as Trivy's `trivy-db:2` artifact lays them out) at
/// `trivy-db:2`. Stopped when dropped.
struct DatabaseMirror {
    process: std::process::Child,
    /// The CA's certificate (PEM), for the store's trusted CA bundle and the operator's SSL_CERT_FILE.
    ca_file: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// Where the mirror listens: MinIO's address in the services' namespace, on a port of its own.
const MIRROR: &str = "10.250.255.2:5443";

impl DatabaseMirror {
    fn start() -> Self {
        services::ensure_up();
        let dir = tempfile::tempdir().unwrap();
        let d = &dir.path().to_path_buf();
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(d)
                .output()
                .unwrap();
            assert!(out.status.success(), "openssl {args:?}: {out:?}");
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=zot-operator test mirror CA",
        ]);
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "tls.key",
            "-out",
            "tls.csr",
            "-subj",
            "/CN=mirror",
        ]);
        write(d, "ext.cnf", b"subjectAltName=IP:10.250.255.2\n");
        openssl(&[
            "x509",
            "-req",
            "-in",
            "tls.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "tls.crt",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ]);
        let config = serde_json::json!({
            "distSpecVersion": "1.1.1",
            "storage": {"rootDirectory": d.join("data")},
            "http": {"address": "10.250.255.2", "port": "5443",
                     "tls": {"cert": d.join("tls.crt"), "key": d.join("tls.key")}},
            "log": {"level": "warn", "output": d.join("mirror.log")},
        });
        write(d, "config.json", config.to_string().as_bytes());
        let process = services::Origin::Netns("zp-services".into())
            .command(tool("zot").to_str().unwrap())
            .args(["serve", d.join("config.json").to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mirror = DatabaseMirror {
            process,
            ca_file: d.join("ca.pem"),
            _dir: dir,
        };
        let db = d.join("db");
        std::fs::create_dir_all(&db).unwrap();
        std::fs::copy(
            support::repo_root().join("tests/fixtures/trivy-db/trivy.db"),
            db.join("trivy.db"),
        )
        .unwrap();
        write(
            &db,
            "metadata.json",
            br#"{"Version":2,"NextUpdate":"2099-01-01T00:00:00Z","UpdatedAt":"2026-12-07T00:00:00Z","DownloadedAt":"0001-01-01T00:00:00Z"}"#,
        );
        let tar = Command::new("tar")
            .args(["-C", db.to_str().unwrap(), "-czf"])
            .arg(d.join("db.tar.gz"))
            .args(["trivy.db", "metadata.json"])
            .status()
            .unwrap();
        assert!(tar.success());
        let ca = mirror.ca_file.to_str().unwrap().to_string();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let (ok, _, err) = support::registry::oras(
                &[
                    "push",
                    "--ca-file",
                    &ca,
                    &format!("{MIRROR}/trivy-db:2"),
                    "--artifact-type",
                    "application/vnd.aquasec.trivy.config.v1+json",
                    "db.tar.gz:application/vnd.aquasec.trivy.db.layer.v1.tar+gzip",
                ],
                d,
            );
            if ok {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the database mirror took no push: {err}"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
        mirror
    }
}

impl Drop for DatabaseMirror {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// An image Trivy recognises: Alpine's os-release and apk database with one package (musl).
fn alpine_like_image(w: &Path) {
    let root = w.join("rootfs");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("lib/apk/db")).unwrap();
    write(
        &root.join("etc"),
        "os-release",
        b"NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\n",
    );
    write(
        &root.join("lib/apk/db"),
        "installed",
        b"P:musl\nV:1.2.4_git20230717-r4\nA:x86_64\nL:MIT\no:musl\n\n",
    );
    let tar = Command::new("tar")
        .args(["-C", root.to_str().unwrap(), "-cf"])
        .arg(w.join("layer.tar"))
        .args(["etc", "lib"])
        .status()
        .unwrap();
    assert!(tar.success());
    let layer = std::fs::read(w.join("layer.tar")).unwrap();
    let diff_id = {
        use sha2::Digest;
        format!("sha256:{:x}", sha2::Sha256::digest(&layer))
    };
    let gz = Command::new("gzip")
        .args(["-nf", "layer.tar"])
        .current_dir(w)
        .status()
        .unwrap();
    assert!(gz.success());
    let config = serde_json::json!({"architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [diff_id]}, "config": {}});
    write(w, "config.json", config.to_string().as_bytes());
}

/// supplyChain.sbom for real: with a database mirror it trusts (on OpenShift through the cluster's trusted CA
/// bundle, as the network operator injects it), zot's scanner downloads the database, scans a pushed image and
/// stores the SBOM it generates (SPDX JSON by default) as a referrer of the image; the store says the mirror
/// answers.
#[tokio::test]
async fn with_a_database_mirror_it_trusts_zot_generates_the_sbom_of_a_pushed_image_as_a_referrer() {
    const O: Flavour = Flavour::OpenShift;
    let mirror = DatabaseMirror::start();
    let ca = std::fs::read_to_string(&mirror.ca_file).unwrap();
    // The operator asks the mirror too, from its own network, trusting the same CA.
    let (ns, _operator) = in_restricted_namespace(
        O,
        "sbom",
        "sbom-operator",
        &[("SSL_CERT_FILE", mirror.ca_file.to_str().unwrap())],
    )
    .await;
    support::apply(
        O,
        &ns.name,
        &format!(
            "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: zot\nspec:\n  tls:\n    enabled: false\n  supplyChain:\n    enabled: true\n    sbom:\n      enabled: true\n  extensions:\n    search:\n      cve:\n        enabled: true\n        dbRepository: {MIRROR}/trivy-db\n        javaDbRepository: {MIRROR}/trivy-java-db\n"
        ),
    );
    support::ready(O, &ns.name, "zot").await;
    // What OpenShift's network operator does for a ConfigMap labelled inject-trusted-cabundle: fill it with the
    // cluster's trusted CAs (here the mirror's CA). A pod started afterwards reads it through SSL_CERT_FILE.
    let patch = serde_json::json!({"data": {"ca-bundle.crt": ca}}).to_string();
    let (ok, _, err) = kubectl(
        O,
        &[
            "patch",
            "-n",
            &ns.name,
            "configmap/zot-trusted-ca",
            "--type=merge",
            "-p",
            &patch,
        ],
        None,
    );
    assert!(ok, "{err}");
    let before = wait_ready_pods(O, &ns.name, "zot", 1).await;
    let uid =
        |pod: &str| get(O, &ns.name, &format!("pod/{pod}")).map(|p| p["metadata"]["uid"].clone());
    let old_uid = uid(&before[0].0).unwrap();
    let (ok, _, err) = kubectl(O, &["delete", "pod", "-n", &ns.name, &before[0].0], None);
    assert!(ok, "{err}");
    let pods = eventually("a new zot pod", WAIT, || async {
        let pods = support::registry::ready_pods(O, &ns.name, "zot");
        (pods.len() == 1 && uid(&pods[0].0).is_some_and(|u| u != old_uid)).then_some(pods)
    })
    .await;
    let registry = format!("{}:5000", pods[0].1);

    let work = tempfile::tempdir().unwrap();
    alpine_like_image(work.path());
    push_image(
        work.path(),
        &format!("{registry}/app:v1"),
        &["--plain-http"],
    );
    let digest = manifest_digest(&registry, "app", "v1");
    // Asking for the image's CVEs makes zot scan it (once its database is there); the SBOM is stored with the scan.
    let sbom = eventually(
        "zot's generated SBOM as a referrer of app:v1",
        WAIT,
        || async {
            let query = r#"{"query":"{ CVEListForImage(image:\"app:v1\"){ Tag } }"}"#;
            http(
                "POST",
                &format!("http://{registry}/v2/_zot/ext/search"),
                &["-H", "Content-Type: application/json", "-d", query],
            );
            let (status, body) = http(
                "GET",
                &format!("http://{registry}/v2/app/referrers/{digest}"),
                &[],
            );
            let index: Value = serde_json::from_str(&body).ok().filter(|_| status == 200)?;
            index["manifests"]
                .as_array()?
                .iter()
                .find(|m| m["artifactType"] == "application/spdx+json")
                .cloned()
        },
    )
    .await;
    let (status, manifest) = http(
        "GET",
        &format!(
            "http://{registry}/v2/app/manifests/{}",
            sbom["digest"].as_str().unwrap()
        ),
        &["-H", "Accept: application/vnd.oci.image.manifest.v1+json"],
    );
    assert_eq!(status, 200, "{manifest}");
    let manifest: Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(manifest["subject"]["digest"], digest.as_str(), "{manifest}");
    let (status, document) = http(
        "GET",
        &format!(
            "http://{registry}/v2/app/blobs/{}",
            manifest["layers"][0]["digest"].as_str().unwrap()
        ),
        &["-L"],
    );
    assert_eq!(status, 200);
    let document: Value = serde_json::from_str(&document).unwrap();
    assert!(
        document["spdxVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("SPDX-")),
        "not an SPDX document: {document}"
    );
    assert!(
        document["packages"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["name"] == "musl")),
        "the SBOM does not list the image's package: {document}"
    );
    let (status, reason, message) = eventually("VulnerabilityDatabaseReady", WAIT, || async {
        condition(&get(O, &ns.name, "zas/zot")?, "VulnerabilityDatabaseReady")
    })
    .await;
    assert_eq!(status, "True", "{reason}: {message}");
    drop(mirror);
}
