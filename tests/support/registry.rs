//! Talking to the real zot processes behind a store: the addresses of its pods (zot-podrunner gives each its own),
//! oras and plain HTTP.
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use super::{Flavour, eventually, list, tool};

/// Ready pods of a store that are not terminating, with their address.
pub fn ready_pods(flavour: Flavour, namespace: &str, store: &str) -> Vec<(String, String)> {
    list(flavour, namespace, "pods")
        .into_iter()
        .filter(|p| p["metadata"]["labels"]["app.kubernetes.io/instance"] == store)
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .filter(|p| {
            p["status"]["conditions"].as_array().is_some_and(|c| {
                c.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            })
        })
        .filter_map(|p| {
            Some((
                p["metadata"]["name"].as_str()?.to_string(),
                p["status"]["podIP"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// Waits until the store has `count` ready pods and returns them.
pub async fn wait_ready_pods(
    flavour: Flavour,
    namespace: &str,
    store: &str,
    count: usize,
) -> Vec<(String, String)> {
    eventually(
        &format!("{count} ready zot pod(s) of {namespace}/{store}"),
        Duration::from_secs(180),
        || async {
            let pods = ready_pods(flavour, namespace, store);
            (pods.len() == count).then_some(pods)
        },
    )
    .await
}

/// Runs oras; returns (success, stdout, stderr).
pub fn oras(args: &[&str], cwd: &Path) -> (bool, String, String) {
    let out = Command::new(tool("oras"))
        .args(args)
        .current_dir(cwd)
        .env("HOME", cwd)
        .env_remove("DOCKER_CONFIG")
        .output()
        .expect("run oras");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs oras with the docker config in the folder `docker_config` (DOCKER_CONFIG, as a pipeline mounts a push
/// Secret); returns (success, stdout, stderr).
pub fn oras_with_docker_config(
    args: &[&str],
    cwd: &Path,
    docker_config: &Path,
) -> (bool, String, String) {
    let out = Command::new(tool("oras"))
        .args(args)
        .current_dir(cwd)
        .env("HOME", cwd)
        .env("DOCKER_CONFIG", docker_config)
        .output()
        .expect("run oras");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// oras that must succeed; returns its stdout.
pub fn oras_ok(args: &[&str], cwd: &Path) -> String {
    let (ok, out, err) = oras(args, cwd);
    assert!(ok, "oras {} failed:\n{out}\n{err}", args.join(" "));
    out
}

/// HTTP status code and body of a request with curl (`extra` adds e.g. `-u user:pass`, `--cacert`).
pub fn http(method: &str, url: &str, extra: &[&str]) -> (u16, String) {
    http_with(Command::new("curl"), method, url, extra)
}

/// [`http`] with a curl `command` of the caller's (e.g. run inside a network namespace).
pub fn http_with(mut curl: Command, method: &str, url: &str, extra: &[&str]) -> (u16, String) {
    let out = curl
        .args([
            "-sS",
            "--max-time",
            "10",
            "-X",
            method,
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
        ])
        .args(extra)
        .arg(url)
        .output()
        .expect("run curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", text.as_str()));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

/// The `manifests` (referrers) that `oras discover --format json` lists, whichever shape this oras prints.
pub fn referrers(discovered: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(discovered).expect("oras discover prints JSON");
    v["manifests"]
        .as_array()
        .or(v["referrers"].as_array())
        .cloned()
        .unwrap_or_default()
}

/// The log of a zot pod's previous container, as `kubectl logs --previous` would show it: zot-podrunner keeps each
/// container's output in its state folder beside the cluster (`.cluster/pods-<flavour>/pods/<ns>_<pod>_<uid>/`).
pub fn previous_log(flavour: Flavour, pod: &Value) -> String {
    let kubeconfig = super::kubeconfig(flavour);
    let dir = kubeconfig
        .parent()
        .unwrap()
        .join(format!("pods-{}/pods", flavour.as_str()))
        .join(format!(
            "{}_{}_{}",
            pod["metadata"]["namespace"].as_str().unwrap(),
            pod["metadata"]["name"].as_str().unwrap(),
            pod["metadata"]["uid"].as_str().unwrap()
        ));
    let restarts = pod["status"]["containerStatuses"][0]["restartCount"]
        .as_i64()
        .unwrap_or(0);
    let name = pod["status"]["containerStatuses"][0]["name"]
        .as_str()
        .unwrap_or("zot");
    std::fs::read_to_string(dir.join(name).join(format!("{}.log", restarts - 1)))
        .unwrap_or_default()
}

/// Random bytes, so that a pull can only match what this test pushed.
pub fn random_bytes(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut f = std::fs::File::open("/dev/urandom").unwrap();
    std::io::Read::read_to_end(&mut std::io::Read::take(&mut f, len as u64), &mut out).unwrap();
    out
}

pub fn write(dir: &Path, name: &str, content: &[u8]) {
    std::fs::write(dir.join(name), content).unwrap();
}

pub fn same_file(a: &Path, b: &Path) {
    assert!(
        std::fs::read(a).unwrap() == std::fs::read(b).unwrap(),
        "{} and {} differ",
        a.display(),
        b.display()
    );
}

/// Pushes an image (config.json + layer.tar.gz of `work`, see [`image_files`]) (config + one layer) to `reference`, with `extra` oras flags.
pub fn push_image(work: &Path, reference: &str, extra: &[&str]) {
    let mut args = vec![
        "push",
        reference,
        "--config",
        "config.json:application/vnd.oci.image.config.v1+json",
        "layer.tar.gz:application/vnd.oci.image.layer.v1.tar+gzip",
    ];
    args.extend_from_slice(extra);
    oras_ok(&args, work);
}

pub fn image_files(work: &Path) {
    write(
        work,
        "config.json",
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#,
    );
    write(work, "layer.tar.gz", &random_bytes(64 * 1024));
}

/// Every file the pods of namespace `ns` wrote as logs (zot-podrunner keeps them beside the cluster).
pub fn pod_logs(flavour: Flavour, ns: &str) -> String {
    let pods = super::kubeconfig(flavour)
        .parent()
        .unwrap()
        .join(format!("pods-{}/pods", flavour.as_str()));
    let mut text = String::new();
    for entry in std::fs::read_dir(&pods).unwrap().flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .starts_with(&format!("{ns}_"))
        {
            continue;
        }
        for container in std::fs::read_dir(entry.path()).unwrap().flatten() {
            if let Ok(files) = std::fs::read_dir(container.path()) {
                for file in files.flatten() {
                    text.push_str(&std::fs::read_to_string(file.path()).unwrap_or_default());
                }
            }
        }
    }
    text
}

/// The digest of `registry`/`repo`:`tag`'s manifest, as zot names it (plain HTTP).
pub fn manifest_digest(registry: &str, repo: &str, tag: &str) -> String {
    let out = Command::new("curl")
        .args([
            "-sfI",
            "-H",
            "Accept: application/vnd.oci.image.manifest.v1+json",
        ])
        .arg(format!("http://{registry}/v2/{repo}/manifests/{tag}"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("docker-content-digest:")
                .map(|d| d.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no digest for {registry}/{repo}:{tag}: {out:?}"))
}

/// A throwaway CA (`ca.crt`, `ca.key`) and a serving certificate for `host` (`tls.crt`, `tls.key`) made with the
/// openssl CLI in `dir`, and the kubernetes.io/tls Secret `name` holding them with `ca.crt` (as JSON).
pub fn tls_secret_for(dir: &Path, host: &str, name: &str) -> String {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("run openssl");
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
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    serde_json::json!({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls", "metadata": {"name": name},
        "stringData": {"tls.crt": read("tls.crt"), "tls.key": read("tls.key"), "ca.crt": read("ca.crt")},
    })
    .to_string()
}

/// An htpasswd line (bcrypt) for `user`, from Apache's htpasswd.
pub fn htpasswd_line(user: &str, password: &str) -> String {
    let out = std::process::Command::new("htpasswd")
        .args(["-nbB", user, password])
        .output()
        .expect("htpasswd (apache2-utils, installed by hack/system-deps.sh)");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}
