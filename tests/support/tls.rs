//! TLS from the clients' side (zot serves HTTPS by default): a store's zot reached by its in-cluster name with the
//! store's CA, and cert-manager's controller run as a process against the local cluster.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use base64::Engine;

use super::{Flavour, get, kubeconfig, kubectl, repo_root, tool};

/// A zot pod of a store, as a client that checks certificates reaches it: `<store>.<namespace>.svc:5000` (a name
/// the certificate holds) resolved to the pod's address, trusting the CA in `ca_file`.
#[derive(Clone, Debug)]
pub struct Zot {
    /// `<store>.<namespace>.svc:5000`.
    pub host: String,
    /// The pod's address.
    pub ip: String,
    /// The CA clients trust (a PEM file).
    pub ca_file: PathBuf,
}

impl Zot {
    /// The pod at `ip` of `store`, trusting the PEM CA `ca` (written to `dir`).
    pub fn new(namespace: &str, store: &str, ip: &str, ca: &str, dir: &Path) -> Zot {
        let ca_file = dir.join(format!("{store}-ca.crt"));
        std::fs::write(&ca_file, ca).unwrap();
        Zot {
            host: format!("{store}.{namespace}.svc:5000"),
            ip: ip.to_string(),
            ca_file,
        }
    }

    /// The pod at `ip` of `store`, trusting the store's CA: ca.crt of the Secret `<store>-ca` the operator keeps.
    pub fn trusting_store_ca(
        flavour: Flavour,
        namespace: &str,
        store: &str,
        ip: &str,
        dir: &Path,
    ) -> Zot {
        let ca = secret_key(flavour, namespace, &format!("{store}-ca"), "ca.crt")
            .unwrap_or_else(|| panic!("Secret {namespace}/{store}-ca has no ca.crt"));
        Self::new(namespace, store, ip, &ca, dir)
    }

    /// oras flags: the CA and the name's address.
    pub fn oras_flags(&self) -> Vec<String> {
        vec![
            "--ca-file".into(),
            self.ca_file.display().to_string(),
            "--resolve".into(),
            format!("{}:{}:5000", self.host, self.ip),
        ]
    }

    /// curl flags: the CA and the name's address.
    pub fn curl_flags(&self) -> Vec<String> {
        vec![
            "--cacert".into(),
            self.ca_file.display().to_string(),
            "--resolve".into(),
            format!("{}:{}", self.host, self.ip),
        ]
    }

    /// `https://<host><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.host)
    }

    /// `<host>/<repository>`, an oras reference.
    pub fn reference(&self, repository: &str) -> String {
        format!("{}/{repository}", self.host)
    }

    /// HTTP status and body of a request (curl), verifying zot's certificate.
    pub fn http(&self, method: &str, path: &str, extra: &[&str]) -> (u16, String) {
        let mut flags = self.curl_flags();
        flags.extend(extra.iter().map(|s| s.to_string()));
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        super::registry::http(method, &self.url(path), &flags)
    }

    /// The certificate zot serves, as PEM (openssl s_client through the pod's address, with the SNI name).
    pub fn served_certificate(&self) -> String {
        let name = self.host.split(':').next().unwrap();
        let out = Command::new("bash")
            .args([
                "-c",
                &format!(
                    "openssl s_client -connect {}:5000 -servername {name} -showcerts </dev/null 2>/dev/null | openssl x509",
                    self.ip
                ),
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// The value of `key` of a Secret, decoded.
pub fn secret_key(flavour: Flavour, namespace: &str, name: &str, key: &str) -> Option<String> {
    let secret = get(flavour, namespace, &format!("secret/{name}"))?;
    let value = secret["data"][key].as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// What openssl says of a PEM certificate (`x509 -noout -text`).
pub fn describe(cert_pem: &str, dir: &Path) -> String {
    let file = dir.join("describe.crt");
    std::fs::write(&file, cert_pem).unwrap();
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl x509: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether openssl verifies `cert_pem` against the CA `ca_pem` for the host name `name`.
pub fn verifies(cert_pem: &str, ca_pem: &str, name: &str, dir: &Path) -> Result<(), String> {
    let (cert, ca) = (dir.join("verify.crt"), dir.join("verify-ca.crt"));
    std::fs::write(&cert, cert_pem).unwrap();
    std::fs::write(&ca, ca_pem).unwrap();
    let out = Command::new("openssl")
        .args(["verify", "-verify_hostname", name, "-CAfile"])
        .arg(&ca)
        .arg(&cert)
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// cert-manager's controllers (hack/cert-manager, built by hack/tools.sh) running against `flavour`'s cluster,
/// with its CRDs installed; started once per test binary. The process stops when the test process ends (its
/// wrapper reads the test's pipe).
pub fn cert_manager(flavour: Flavour) {
    static RUNNING: OnceLock<Mutex<Vec<(Flavour, Child)>>> = OnceLock::new();
    let running = RUNNING.get_or_init(Default::default);
    let mut guard = running.lock().unwrap();
    if guard.iter().any(|(f, _)| *f == flavour) {
        return;
    }
    let binary = tool("cert-manager");
    let crds = binary.parent().unwrap().join("crds");
    let (ok, _, err) = kubectl(
        flavour,
        &[
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            crds.to_str().unwrap(),
        ],
        None,
    );
    assert!(ok, "installing cert-manager's CRDs: {err}");
    super::wait_for_crd_established(flavour, "certificates.cert-manager.io");
    super::wait_for_crd_established(flavour, "issuers.cert-manager.io");
    let (ok, _, err) = kubectl(flavour, &["create", "namespace", "cert-manager"], None);
    assert!(ok || err.contains("AlreadyExists"), "{err}");
    let log = repo_root().join(format!("target/e2e/cert-manager.{}.log", flavour.as_str()));
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .unwrap();
    let script = format!(
        "'{}' --kubeconfig '{}' & pid=$!; trap 'kill -TERM $pid 2>/dev/null; wait $pid' EXIT; read -r _; exit 0",
        binary.display(),
        kubeconfig(flavour).display()
    );
    let child = Command::new("bash")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .spawn()
        .expect("start cert-manager");
    guard.push((flavour, child));
}
