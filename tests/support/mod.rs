//! Test support for integration tests: one real local cluster per flavour and test run (hack/cluster.sh, shared by
//! every test binary through its lock), a namespace per test, and the project's tools.
//!
//! `ZOT_TEST_KUBECONFIG` points the tests at an existing cluster instead (it must have the flavour's CRDs).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace as CoreNamespace;
use kube::api::{Api, DeleteParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flavour {
    Vanilla,
    OpenShift,
}

impl Flavour {
    pub fn as_str(self) -> &'static str {
        match self {
            Flavour::Vanilla => "vanilla",
            Flavour::OpenShift => "openshift",
        }
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn shared_dir() -> PathBuf {
    std::env::var_os("ZOT_OPERATOR_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared"))
}

/// Absolute path of a tool built by hack/tools.sh (built on first use). A tool that cannot be built fails the test
/// with the build's message: tests never skip because a tool is missing.
pub fn tool(name: &str) -> PathBuf {
    static CACHE: OnceLock<std::sync::Mutex<std::collections::HashMap<String, PathBuf>>> =
        OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(p) = cache.lock().unwrap().get(name) {
        return p.clone();
    }
    let out = Command::new(repo_root().join("hack/tools.sh"))
        .args(["path", name])
        .output()
        .expect("run hack/tools.sh");
    assert!(
        out.status.success(),
        "tool '{name}' could not be built by hack/tools.sh:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    cache.lock().unwrap().insert(name.to_string(), path.clone());
    path
}

/// The kubeconfig of the flavour's cluster, starting it (or reusing the running one) through hack/cluster.sh.
pub fn kubeconfig(flavour: Flavour) -> PathBuf {
    static PATHS: OnceLock<std::sync::Mutex<std::collections::HashMap<Flavour, PathBuf>>> =
        OnceLock::new();
    let paths = PATHS.get_or_init(Default::default);
    let mut guard = paths.lock().unwrap();
    if let Some(p) = guard.get(&flavour) {
        return p.clone();
    }
    let path = if let Some(p) = std::env::var_os("ZOT_TEST_KUBECONFIG") {
        PathBuf::from(p)
    } else {
        let out = Command::new(repo_root().join("hack/cluster.sh"))
            .args(["up", "--flavour", flavour.as_str()])
            // The kubelet for zot pods of this build (cluster.sh restarts a runner whose binary changed).
            .env(
                "ZOT_OPERATOR_PODRUNNER",
                env!("CARGO_BIN_EXE_zot-podrunner"),
            )
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("run hack/cluster.sh");
        assert!(
            out.status.success(),
            "hack/cluster.sh up --flavour {} failed",
            flavour.as_str()
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("export KUBECONFIG="))
            .expect("cluster.sh prints the kubeconfig");
        PathBuf::from(line.trim())
    };
    guard.insert(flavour, path.clone());
    path
}

/// Every document of a multi-document YAML text, empty ones left out.
pub fn yaml_docs(text: &str) -> Vec<serde_json::Value> {
    use serde::Deserialize;
    serde_yaml::Deserializer::from_str(text)
        .map(|doc| serde_json::Value::deserialize(doc).unwrap())
        .filter(|v| !v.is_null())
        .collect()
}

/// The API server's audit log of the operator's requests (hack/audit-policy.yaml), one JSON event per line.
pub fn audit_events(flavour: Flavour) -> Vec<serde_json::Value> {
    let kubeconfig = kubeconfig(flavour);
    let path = kubeconfig.parent().unwrap().join(format!(
        "kwok/clusters/zot-{}/logs/audit.log",
        flavour.as_str()
    ));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the cluster's audit log {} cannot be read ({e}): hack/cluster.sh up starts the API server with hack/audit-policy.yaml",
            path.display()
        )
    });
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

pub async fn client(flavour: Flavour) -> Client {
    client_from(&kubeconfig(flavour)).await
}

pub async fn client_from(path: &Path) -> Client {
    let kc = Kubeconfig::read_from(path).expect("read kubeconfig");
    let config = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig is usable");
    Client::try_from(config).expect("client")
}

/// Runs the project's kubectl against the flavour's cluster; returns (success, stdout, stderr).
pub fn kubectl(flavour: Flavour, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    use std::io::Write;
    let mut child = Command::new(tool("kubectl"))
        .arg("--kubeconfig")
        .arg(kubeconfig(flavour))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn kubectl");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("kubectl output");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `kubectl get -n <namespace> <what> -o json`, None when it does not exist (or cannot be read).
pub fn get(flavour: Flavour, namespace: &str, what: &str) -> Option<serde_json::Value> {
    let (ok, out, _) = kubectl(flavour, &["get", "-n", namespace, what, "-o", "json"], None);
    ok.then(|| serde_json::from_str(&out).expect("kubectl prints JSON"))
}

/// `kubectl apply -n <namespace>` of `yaml`, which must succeed.
pub fn apply(flavour: Flavour, namespace: &str, yaml: &str) {
    let (ok, _, err) = kubectl(flavour, &["apply", "-n", namespace, "-f", "-"], Some(yaml));
    assert!(ok, "kubectl apply failed: {err}\n{yaml}");
}

/// Waits (up to 3 minutes) until the store is Ready for its current generation, and returns it.
pub async fn ready(flavour: Flavour, namespace: &str, name: &str) -> serde_json::Value {
    eventually(
        &format!("zas/{name} to be Ready"),
        Duration::from_secs(180),
        || async {
            let store = get(flavour, namespace, &format!("zas/{name}"))?;
            let current = store["status"]["observedGeneration"] == store["metadata"]["generation"];
            (current && condition(&store, "Ready")?.0 == "True").then_some(store)
        },
    )
    .await
}

/// The (status, reason, message) of a store's condition `type_`.
pub fn condition(store: &serde_json::Value, type_: &str) -> Option<(String, String, String)> {
    let c = store["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)?;
    Some((
        c["status"].as_str()?.to_string(),
        c["reason"].as_str()?.to_string(),
        c["message"].as_str()?.to_string(),
    ))
}

/// The objects `kubectl get <kinds> -n <namespace>` lists (kinds comma-separated).
pub fn list(flavour: Flavour, namespace: &str, kinds: &str) -> Vec<serde_json::Value> {
    let (ok, out, err) = kubectl(
        flavour,
        &["get", "-n", namespace, kinds, "-o", "json"],
        None,
    );
    assert!(ok, "kubectl get {kinds}: {err}");
    let mut list: serde_json::Value = serde_json::from_str(&out).expect("kubectl prints JSON");
    match list["items"].take() {
        serde_json::Value::Array(items) => items,
        other => panic!("kubectl get {kinds} listed no items: {other}"),
    }
}

/// Waits (up to 60 s) until the named CRD is Established. `kubectl wait --for=condition=Established` is not used:
/// it fails at once, instead of waiting, while a just-created CRD has no `status.conditions` yet.
pub fn wait_for_crd_established(flavour: Flavour, name: &str) {
    let jsonpath = r#"-o=jsonpath={.status.conditions[?(@.type=="Established")].status}"#;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (ok, out, err) = kubectl(flavour, &["get", &format!("crd/{name}"), jsonpath], None);
        if ok && out.trim() == "True" {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "CRD {name} did not become Established within 60 s: {out}{err}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Namespace label with which a test opts out of real zot pods: zot-podrunner makes that namespace's zot pods Ready
/// at once, as kwok would, without running zot. Only for tests that check admission, scale or what the operator does
/// with objects, never for a registry behaviour; README lists them.
pub const SIMULATED_PODS: (&str, &str) = ("zot-operator.test/pods", "simulated");

/// A namespace of its own for one test, deleted when the guard drops.
pub struct TestNamespace {
    pub name: String,
    flavour: Flavour,
}

impl TestNamespace {
    pub async fn new(flavour: Flavour, prefix: &str, labels: &[(&str, &str)]) -> Self {
        let client = client(flavour).await;
        let suffix: u32 = rand_suffix();
        let name = format!("{prefix}-{suffix:08x}");
        let mut ns = CoreNamespace::default();
        ns.metadata.name = Some(name.clone());
        ns.metadata.labels = Some(
            labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .chain([("zot-operator.test/e2e".to_string(), "true".to_string())])
                .collect(),
        );
        Api::<CoreNamespace>::all(client)
            .create(&PostParams::default(), &ns)
            .await
            .expect("create test namespace");
        TestNamespace { name, flavour }
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        if std::env::var_os("ZOT_TEST_KEEP_NAMESPACES").is_some() {
            return;
        }
        let _ = Command::new(tool("kubectl"))
            .arg("--kubeconfig")
            .arg(kubeconfig(self.flavour))
            .args([
                "delete",
                "namespace",
                &self.name,
                "--wait=false",
                "--ignore-not-found",
            ])
            .output();
    }
}

fn rand_suffix() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish() as u32
}

/// Polls `check` until it returns Some or the timeout passes; the panic message says what was awaited.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

pub async fn delete_ns(client: Client, name: &str) {
    let _ = Api::<CoreNamespace>::all(client)
        .delete(name, &DeleteParams::default())
        .await;
}
pub mod keycloak;
pub mod olm;
pub mod olm_catalog;
pub mod operator;
pub mod registry;
pub mod services;
pub mod tls;
