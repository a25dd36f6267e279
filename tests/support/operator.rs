//! Runs the real `zot-operator run` binary against a local cluster, as the least-privilege ServiceAccount of
//! config/rbac (a TokenRequest token, not the admin certificate), so that a missing permission fails a test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use super::{Flavour, TestNamespace, kubeconfig, kubectl, repo_root};

pub const CRD_FILE: &str = "config/crd/bases/artifact.zotregistry.io_zotartifactstores.yaml";
pub const PUSH_CRD_FILE: &str = "config/crd/bases/artifact.zotregistry.io_zotpushsecrets.yaml";
pub const PULL_CRD_FILE: &str = "config/crd/bases/artifact.zotregistry.io_zotpullsecrets.yaml";
pub const OPERATOR_NAMESPACE: &str = "zot-operator-system";

/// Installs (server-side apply) the CRD, the namespace and the RBAC of config/, and waits for the CRD.
pub fn install_crd_and_rbac(flavour: Flavour) {
    let root = repo_root();
    let ns = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {OPERATOR_NAMESPACE}\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n"
    );
    let (ok, _, err) = kubectl(
        flavour,
        &["apply", "--server-side", "--force-conflicts", "-f", "-"],
        Some(&ns),
    );
    assert!(ok, "creating {OPERATOR_NAMESPACE}: {err}");
    for file in [
        CRD_FILE,
        PUSH_CRD_FILE,
        PULL_CRD_FILE,
        "config/rbac/service_account.yaml",
        "config/rbac/role.yaml",
        "config/rbac/role_binding.yaml",
    ] {
        let path = root.join(file);
        let (ok, _, err) = kubectl(
            flavour,
            &[
                "apply",
                "--server-side",
                "--force-conflicts",
                "--field-manager=zot-operator-tests",
                "-f",
                path.to_str().unwrap(),
            ],
            None,
        );
        assert!(ok, "applying {file}: {err}");
    }
    super::wait_for_crd_established(flavour, "zotartifactstores.artifact.zotregistry.io");
    super::wait_for_crd_established(flavour, "zotpushsecrets.artifact.zotregistry.io");
    super::wait_for_crd_established(flavour, "zotpullsecrets.artifact.zotregistry.io");
}

/// A kubeconfig that authenticates as the operator's ServiceAccount with a TokenRequest token.
pub fn service_account_kubeconfig(flavour: Flavour, name: &str) -> PathBuf {
    token_kubeconfig(flavour, OPERATOR_NAMESPACE, "zot-operator", name)
}

/// A kubeconfig (target/e2e/<name>.<flavour>.kubeconfig) that authenticates as ServiceAccount `namespace/account`
/// with a TokenRequest token.
pub fn token_kubeconfig(flavour: Flavour, namespace: &str, account: &str, name: &str) -> PathBuf {
    let (ok, token, err) = kubectl(
        flavour,
        &["create", "token", account, "-n", namespace, "--duration=2h"],
        None,
    );
    assert!(
        ok,
        "TokenRequest for ServiceAccount {namespace}/{account}: {err}"
    );
    let admin: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(kubeconfig(flavour)).unwrap()).unwrap();
    let cluster = &admin["clusters"][0]["cluster"];
    let config = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {
            "server": cluster["server"].as_str().unwrap(),
            "certificate-authority": cluster["certificate-authority"].as_str().unwrap(),
        }}],
        "users": [{"name": "zot-operator", "user": {"token": token.trim()}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "zot-operator"}}],
        "current-context": "c",
    });
    let dir = repo_root().join("target/e2e");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.{}.kubeconfig", flavour.as_str()));
    std::fs::write(&path, serde_yaml::to_string(&config).unwrap()).unwrap();
    path
}

/// A running operator process. It stops when this value drops or, if the test process dies, when its stdin
/// closes (the wrapper shell kills it), so no operator outlives the tests.
pub struct Operator {
    child: Child,
    name: String,
    pub http_port: u16,
    pub log: PathBuf,
}

impl Operator {
    /// Starts the operator as the ServiceAccount, with its own lease `name` and the given extra environment.
    pub fn start(flavour: Flavour, name: &str, env: &[(&str, &str)]) -> Operator {
        Self::start_with_lease(flavour, name, name, env)
    }

    /// Starts an operator called `name` (its log file and identity) that campaigns for the Lease `lease`.
    pub fn start_with_lease(
        flavour: Flavour,
        name: &str,
        lease: &str,
        env: &[(&str, &str)],
    ) -> Operator {
        install_crd_and_rbac(flavour);
        let config = service_account_kubeconfig(flavour, name);
        Self::spawn(flavour, name, lease, &config, OPERATOR_NAMESPACE, env)
    }

    /// Starts an operator called `name` that authenticates with `config` and runs as if in a pod of `pod_namespace`
    /// (its Lease's namespace), installing nothing: the CRD and RBAC are whoever installed the operator's.
    pub fn spawn(
        flavour: Flavour,
        name: &str,
        lease: &str,
        config: &std::path::Path,
        pod_namespace: &str,
        env: &[(&str, &str)],
    ) -> Operator {
        // An operator of the same name left behind by an interrupted run would hold this test's Lease.
        kill_by_identity(name);
        let http_port = free_port();
        let log = repo_root().join(format!("target/e2e/{name}.{}.log", flavour.as_str()));
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let bin = env!("CARGO_BIN_EXE_zot-operator");
        let script = format!(
            "'{bin}' run --http-addr 127.0.0.1:{http_port} --lease-name {lease} --identity {name} & pid=$!; \
             trap 'kill -TERM $pid 2>/dev/null; wait $pid' EXIT; read -r _; exit 0"
        );
        let mut command = Command::new("bash");
        command
            .args(["-c", &script])
            .env("KUBECONFIG", config)
            .env("POD_NAMESPACE", pod_namespace)
            .env("RUST_LOG", "info,kube=warn")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stdin(Stdio::piped())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file);
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().expect("start zot-operator");
        Operator {
            child,
            name: name.to_string(),
            http_port,
            log,
        }
    }

    /// Kills the operator with SIGKILL, wherever it is (no graceful shutdown, no lease release).
    pub fn kill(mut self) {
        kill_by_identity(&self.name);
        self.shutdown();
    }

    /// Stops the operator (SIGTERM, graceful) and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    /// Asks the wrapper to stop the operator gracefully and waits up to 30 s for it; whatever is still running
    /// then is killed, so that no operator outlives its test (it would keep reconciling and hold its Lease).
    fn shutdown(&mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.write_all(b"\n");
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while matches!(self.child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        kill_by_identity(&self.name);
    }

    /// GET a path of the operator's HTTP endpoint: (status code, body); None while it does not answer.
    pub fn http_get(&self, path: &str) -> Option<(u16, String)> {
        http_get(self.http_port, path)
    }

    /// The value of a counter or gauge line of /metrics (summed over label sets matching `labels`).
    pub fn metric(&self, name: &str, labels: &str) -> f64 {
        let Some((200, body)) = self.http_get("/metrics") else {
            return 0.0;
        };
        body.lines()
            .filter(|l| l.starts_with(name) && l.contains(labels))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// The operator process's resident memory now and at its peak (VmRSS, VmHWM), in KiB.
    pub fn memory_kib(&self) -> Option<(u64, u64)> {
        let pattern = format!("zot-operator run .*--identity {}$", self.name);
        let out = Command::new("pgrep").args(["-f", &pattern]).output().ok()?;
        let pid = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()?
            .to_string();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))?
                .split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
        };
        Some((field("VmRSS:")?, field("VmHWM:")?))
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// SIGKILLs every operator process started with `--identity name`.
fn kill_by_identity(name: &str) {
    let pattern = format!("zot-operator run .*--identity {name}$");
    let _ = Command::new("pkill")
        .args(["-KILL", "-f", &pattern])
        .status();
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A namespace under restricted Pod Security and an operator called `name` that watches only it (as OLM's
/// OwnNamespace and SingleNamespace install modes run it), with the given extra environment.
pub async fn in_restricted_namespace(
    flavour: Flavour,
    prefix: &str,
    name: &str,
    env: &[(&str, &str)],
) -> (TestNamespace, Operator) {
    let ns = TestNamespace::new(
        flavour,
        prefix,
        &[("pod-security.kubernetes.io/enforce", "restricted")],
    )
    .await;
    let mut scoped = vec![("WATCH_NAMESPACE", ns.name.as_str())];
    scoped.extend_from_slice(env);
    let operator = Operator::start(flavour, name, &scoped);
    (ns, operator)
}

/// One operator per test binary and flavour, started on first use.
pub fn shared(flavour: Flavour) {
    static RUNNING: OnceLock<Mutex<Vec<(Flavour, Operator)>>> = OnceLock::new();
    let running = RUNNING.get_or_init(Default::default);
    let mut guard = running.lock().unwrap();
    if guard.iter().any(|(f, _)| *f == flavour) {
        return;
    }
    let name = format!(
        "tests-{}",
        std::env::current_exe()
            .unwrap()
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .replace('_', "-")
    );
    let operator = Operator::start(flavour, &name, &[]);
    guard.push((flavour, operator));
}

/// A plain HTTP GET of `path` on 127.0.0.1:`port`: the status code and the body.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let code = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((code, body))
}
