//! `make bench-compare`: the same N stores (BENCH_STORES, default 100) on one local cluster, three ways in turn, each
//! on a clean set of namespaces (one per 10 stores, their pods simulated by the test platform's pod runner):
//!
//! - **the limit**: `kubectl apply --server-side` of exactly the objects `zot-operator render --certificates` prints
//!   for the stores, as ServiceAccount bench-limit, until every StatefulSet has its ready replica: the fastest way they can exist;
//! - **zot-operator**: the operator (the real binary, as its least-privilege ServiceAccount, watching every
//!   namespace) and N minimal stores (config/samples/minimal.yaml) created at once, until every store is Ready;
//! - **the peer**: operator-sdk's Helm operator (hack/tools.sh helm-operator, 2 workers, its defaults otherwise) and
//!   N ZotCharts (hack/bench-peer: zot's official chart with values equivalent to the minimal sample), until every
//!   release's StatefulSet has its ready replica.
//!
//! For each it prints the time to converge, the controller's peak and settled memory (VmHWM, VmRSS) and CPU time,
//! its API requests by verb while converging (from the API server's audit log, by its own username), the API
//! server's 5xx and 429 answers to anyone during the side's run (apiserver_request_total), its writes during
//! BENCH_IDLE_SECS (default 300) of idleness, and the latency from a spec change to the child written (100 changes,
//! from the user's request to the controller's write in the audit log). One table, also written into
//! docs/benchmarks.md (BENCH_DOC) with the date, the machine and the command. Figures are printed, never asserted:
//! only convergence is.
#![allow(clippy::expect_used, clippy::unwrap_used)]
#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::{Value, json};
use support::operator::{OPERATOR_NAMESPACE, Operator, free_port, http_get, token_kubeconfig};
use support::{Flavour, kubeconfig, repo_root, tool, yaml_docs};

const V: Flavour = Flavour::Vanilla;
/// Stores per namespace.
const PER_NAMESPACE: usize = 10;
/// Spec changes whose latency is measured.
const CHANGES: usize = 100;
/// The most the spec changes of one side may take.
const CHANGE_BUDGET: Duration = Duration::from_secs(600);
/// kubectl processes applying at once (the limit's objects, the stores, the ZotCharts).
const PARALLEL: usize = 4;
/// The peer's workers (the Helm operator's --max-concurrent-reconciles; its default is the number of CPUs).
const PEER_WORKERS: usize = 2;
const OPERATOR_IDENTITY: &str = "bench-compare";
const CONVERGE_TIMEOUT: Duration = Duration::from_secs(1800);

fn sa_user(name: &str) -> String {
    format!("system:serviceaccount:{OPERATOR_NAMESPACE}:{name}")
}

/// Figures of one side; None prints as n/a.
#[derive(Default)]
struct Figures {
    converge: f64,
    peak_rss_kib: Option<u64>,
    settled_rss_kib: Option<u64>,
    cpu_seconds: Option<f64>,
    verbs: BTreeMap<String, usize>,
    server_errors: u64,
    throttled: u64,
    idle_writes: usize,
    /// The idle writes by verb and resource ("patch secrets 50, ...").
    idle_kinds: String,
    latency_ms: Option<(f64, f64, usize)>,
    caches: Option<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Limit,
    Operator,
    Peer,
}

impl Side {
    fn title(self) -> &'static str {
        match self {
            Side::Limit => "the limit",
            Side::Operator => "zot-operator",
            Side::Peer => "Helm operator",
        }
    }
    fn prefix(self) -> &'static str {
        match self {
            Side::Limit => "bc-limit",
            Side::Operator => "bc-operator",
            Side::Peer => "bc-peer",
        }
    }
    fn user(self) -> String {
        match self {
            Side::Limit => sa_user("bench-limit"),
            Side::Operator => sa_user("zot-operator"),
            Side::Peer => sa_user("bench-helm-operator"),
        }
    }
}

fn namespaces(side: Side, n: usize) -> Vec<String> {
    (0..n.div_ceil(PER_NAMESPACE))
        .map(|k| format!("{}-{k:03}", side.prefix()))
        .collect()
}

/// (namespace, name) of store `i`.
fn slot(side: Side, i: usize) -> (String, String) {
    (
        format!("{}-{:03}", side.prefix(), i / PER_NAMESPACE),
        format!("s-{}", i % PER_NAMESPACE),
    )
}

fn level(round: usize) -> &'static str {
    if round % 2 == 0 { "debug" } else { "info" }
}

// ---------------------------------------------------------------------------------------------------------------
// kubectl and the cluster

/// kubectl with `config` (a ServiceAccount's kubeconfig, or the admin's); (success, stdout, stderr).
fn kubectl_as(config: &Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(tool("kubectl"))
        .arg("--kubeconfig")
        .arg(config)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kubectl");
    let mut stdin_pipe = child.stdin.take().unwrap();
    let input = stdin.unwrap_or_default().to_string();
    let writer = std::thread::spawn(move || {
        let _ = stdin_pipe.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().expect("kubectl output");
    writer.join().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Applies (server-side, as `config`) the YAML streams, PARALLEL kubectl processes at a time.
fn apply_parallel(config: &Path, manager: &str, streams: Vec<String>) {
    let queue = Mutex::new(streams);
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL {
            scope.spawn(|| {
                loop {
                    let Some(stream) = queue.lock().unwrap().pop() else {
                        return;
                    };
                    let (ok, _, err) = kubectl_as(
                        config,
                        &[
                            "apply",
                            "--server-side",
                            &format!("--field-manager={manager}"),
                            "-f",
                            "-",
                        ],
                        Some(&stream),
                    );
                    assert!(ok, "kubectl apply as {}: {err}", config.display());
                }
            });
        }
    });
}

fn admin() -> PathBuf {
    kubeconfig(V)
}

fn create_namespaces(names: &[String]) {
    let docs: Vec<String> = names
        .iter()
        .map(|n| {
            format!(
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {n}\n  labels:\n    {}: {}\n    zot-operator.test/e2e: \"true\"\n",
                support::SIMULATED_PODS.0,
                support::SIMULATED_PODS.1
            )
        })
        .collect();
    let (ok, _, err) = kubectl_as(
        &admin(),
        &["apply", "--server-side", "-f", "-"],
        Some(&docs.join("---\n")),
    );
    assert!(ok, "creating namespaces: {err}");
}

/// Deletes the namespaces and waits until they are gone (stripping the finalizers of what is left after 3 minutes:
/// a controller that stopped early would leave its stores or releases behind).
fn delete_namespaces(prefix: &str, names: &[String]) {
    let mut args = vec!["delete", "namespace", "--wait=false", "--ignore-not-found"];
    args.extend(names.iter().map(String::as_str));
    let (ok, _, err) = kubectl_as(&admin(), &args, None);
    assert!(ok, "deleting namespaces: {err}");
    let start = Instant::now();
    let mut stripped = false;
    loop {
        let (_, out, _) = kubectl_as(&admin(), &["get", "namespaces", "-o", "name"], None);
        let left: Vec<&str> = out
            .lines()
            .filter_map(|l| l.strip_prefix("namespace/"))
            .filter(|n| n.starts_with(prefix))
            .collect();
        if left.is_empty() {
            return;
        }
        if !stripped && start.elapsed() > Duration::from_secs(180) {
            stripped = true;
            eprintln!(
                "  {} namespaces still terminating: removing finalizers",
                left.len()
            );
            for ns in &left {
                for kind in ["zotartifactstores", "zotcharts"] {
                    let (_, names, _) =
                        kubectl_as(&admin(), &["get", kind, "-n", ns, "-o", "name"], None);
                    for name in names.lines() {
                        kubectl_as(
                            &admin(),
                            &[
                                "patch",
                                "-n",
                                ns,
                                name,
                                "--type=merge",
                                "-p",
                                r#"{"metadata":{"finalizers":null}}"#,
                            ],
                            None,
                        );
                    }
                }
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(900),
            "namespaces {left:?} not gone after 15 minutes"
        );
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// The API server's answers with code 5xx and 429 so far, to every user (apiserver_request_total).
fn server_errors() -> (u64, u64) {
    let (ok, out, err) = kubectl_as(&admin(), &["get", "--raw", "/metrics"], None);
    assert!(ok, "the API server's /metrics: {err}");
    let (mut errors, mut throttled) = (0.0, 0.0);
    for line in out
        .lines()
        .filter(|l| l.starts_with("apiserver_request_total{"))
    {
        let Some(code) = line
            .split("code=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
        else {
            continue;
        };
        let value: f64 = line
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        if code.starts_with('5') {
            errors += value;
        } else if code == "429" {
            throttled += value;
        }
    }
    (errors as u64, throttled as u64)
}

// ---------------------------------------------------------------------------------------------------------------
// The audit log

struct Audit {
    path: PathBuf,
}

impl Audit {
    fn new() -> Audit {
        Audit {
            path: admin()
                .parent()
                .unwrap()
                .join(format!("kwok/clusters/zot-{}/logs/audit.log", V.as_str())),
        }
    }

    /// Where the log is now: its file (by inode: the API server rotates audit.log at 100 MB, renaming it to
    /// audit-<time>.log) and its length.
    fn offset(&self) -> Mark {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(&self.path)
            .map(|m| Mark {
                inode: m.ino(),
                len: m.len(),
            })
            .unwrap_or(Mark { inode: 0, len: 0 })
    }

    /// The events written after `mark`, once the API server has flushed them (it writes asynchronously): the rest
    /// of the file it was in (rotated or not), then every later file.
    fn since(&self, mark: Mark) -> Vec<Value> {
        use std::os::unix::fs::MetadataExt;
        std::thread::sleep(Duration::from_secs(2));
        let dir = self.path.parent().unwrap();
        // audit-<RFC 3339 time>.log sort by time; the current audit.log is the last.
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("audit-") && n.ends_with(".log"))
            })
            .collect();
        files.sort();
        files.push(self.path.clone());
        let start = files
            .iter()
            .position(|f| std::fs::metadata(f).is_ok_and(|m| m.ino() == mark.inode))
            .unwrap_or(files.len() - 1);
        let mut events = Vec::new();
        for (k, path) in files[start..].iter().enumerate() {
            let mut file = std::fs::File::open(path).expect("the cluster's audit log");
            if k == 0 {
                file.seek(std::io::SeekFrom::Start(mark.len)).unwrap();
            }
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).unwrap();
            events.extend(
                String::from_utf8_lossy(&bytes)
                    .lines()
                    .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                    .filter(|e| e["stage"] == "ResponseComplete"),
            );
        }
        events
    }
}

/// A position in the audit log (Audit::offset).
#[derive(Clone, Copy)]
struct Mark {
    inode: u64,
    len: u64,
}

fn verbs_of(events: &[Value], user: &str) -> BTreeMap<String, usize> {
    let mut verbs = BTreeMap::new();
    for e in events.iter().filter(|e| e["user"]["username"] == user) {
        *verbs
            .entry(e["verb"].as_str().unwrap_or("?").to_string())
            .or_insert(0) += 1;
    }
    verbs
}

/// The user's writes by verb and resource, most first.
fn writes_by_resource(events: &[Value], user: &str) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for e in events.iter().filter(|e| e["user"]["username"] == user) {
        let verb = e["verb"].as_str().unwrap_or("?");
        if is_write(verb) {
            let resource = e["objectRef"]["resource"].as_str().unwrap_or("?");
            let sub = e["objectRef"]["subresource"]
                .as_str()
                .map(|s| format!("/{s}"))
                .unwrap_or_default();
            *counts.entry(format!("{verb} {resource}{sub}")).or_insert(0) += 1;
        }
    }
    let mut counts: Vec<(String, usize)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if counts.is_empty() {
        return "none".into();
    }
    counts
        .iter()
        .map(|(k, c)| format!("{k} {c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn is_write(verb: &str) -> bool {
    matches!(
        verb,
        "create" | "update" | "patch" | "delete" | "deletecollection"
    )
}

/// Microseconds since the epoch of an RFC 3339 UTC timestamp as the audit log writes them.
fn micros(ts: &str) -> Option<i64> {
    let (date, time) = ts.strip_suffix('Z')?.split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.split(':').map(|x| x.parse::<i64>().ok());
    let (h, mi, s) = (t.next()??, t.next()??, t.next()??);
    let frac: i64 = format!("{frac:0<6}")[..6].parse().ok()?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3600 + mi * 60 + s) * 1_000_000) + frac)
}

// ---------------------------------------------------------------------------------------------------------------
// Processes

/// The controller process's (VmRSS, VmHWM) in KiB and its CPU time (user + system) in seconds.
fn process_figures(pid: u32) -> Option<(u64, u64, f64)> {
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
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat(5), the 12th and 13th after the command's closing parenthesis.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    let hz: f64 = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
        .unwrap_or(100.0);
    Some((field("VmRSS:")?, field("VmHWM:")?, ticks / hz))
}

fn pgrep(pattern: &str) -> Option<u32> {
    let out = Command::new("pgrep").args(["-f", pattern]).output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn wait_http_ok(what: &str, port: u16, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !matches!(http_get(port, path), Some((200, _))) {
        assert!(Instant::now() < deadline, "{what} not ready in 2 minutes");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The Helm operator as a process, with the kubeconfig of its own ServiceAccount; stopped on drop (and when the
/// benchmark dies: its wrapper shell reads our stdin).
struct HelmOperator {
    child: Child,
    pid: u32,
}

impl HelmOperator {
    fn start(config: &Path) -> HelmOperator {
        let dir = repo_root().join("target/bench-compare");
        std::fs::create_dir_all(&dir).unwrap();
        // The Helm operator loads a chart from a directory only: the release archive is unpacked for it.
        let archive = support::shared_dir().join("src/zot-helm-chart-0.1.122.tgz");
        assert!(
            archive.is_file(),
            "zot's chart {} is missing",
            archive.display()
        );
        let charts = dir.join("chart");
        let _ = std::fs::remove_dir_all(&charts);
        std::fs::create_dir_all(&charts).unwrap();
        let status = Command::new("tar")
            .arg("-xzf")
            .arg(&archive)
            .arg("-C")
            .arg(&charts)
            .status()
            .expect("tar");
        assert!(status.success(), "unpacking {}", archive.display());
        let chart = charts.join("zot");
        let watches =
            std::fs::read_to_string(repo_root().join("hack/bench-peer/watches.yaml")).unwrap();
        let watches: String = watches
            .lines()
            .map(|l| {
                if l.trim_start().starts_with("chart:") {
                    format!("  chart: {}", chart.canonicalize().unwrap().display())
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let watches_file = dir.join("watches.yaml");
        std::fs::write(&watches_file, watches).unwrap();
        let pid_file = dir.join("helm-operator.pid");
        let _ = std::fs::remove_file(&pid_file);
        let (metrics, probes) = (free_port(), free_port());
        let log = std::fs::File::create(dir.join("helm-operator.log")).unwrap();
        let bin = tool("helm-operator");
        let script = format!(
            "'{}' run --watches-file '{}' --leader-elect=false --max-concurrent-reconciles {PEER_WORKERS} \
             --metrics-bind-address 127.0.0.1:{metrics} --health-probe-bind-address 127.0.0.1:{probes} & pid=$!; \
             echo $pid > '{}'; trap 'kill -TERM $pid 2>/dev/null; wait $pid' EXIT; read -r _; exit 0",
            bin.display(),
            watches_file.display(),
            pid_file.display()
        );
        let child = Command::new("bash")
            .args(["-c", &script])
            .env("KUBECONFIG", config)
            .env_remove("WATCH_NAMESPACE")
            .env("HELM_CACHE_HOME", dir.join("helm-cache"))
            .env("HELM_CONFIG_HOME", dir.join("helm-config"))
            .stdin(Stdio::piped())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start the Helm operator");
        let deadline = Instant::now() + Duration::from_secs(10);
        let pid = loop {
            if let Some(pid) = std::fs::read_to_string(&pid_file)
                .ok()
                .and_then(|p| p.trim().parse().ok())
            {
                break pid;
            }
            assert!(Instant::now() < deadline, "the Helm operator did not start");
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut operator = HelmOperator { child, pid };
        let deadline = Instant::now() + Duration::from_secs(120);
        while !matches!(http_get(probes, "/readyz"), Some((200, _))) {
            assert!(
                matches!(operator.child.try_wait(), Ok(None)),
                "the Helm operator stopped: see target/bench-compare/helm-operator.log"
            );
            assert!(
                Instant::now() < deadline,
                "the Helm operator not ready in 2 minutes"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        operator
    }
}

impl Drop for HelmOperator {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.write_all(b"\n");
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The controller of a side: its pid and, for the operator, its metrics.
enum Controller {
    None,
    Operator(Operator),
    Peer(HelmOperator),
}

impl Controller {
    fn pid(&self) -> Option<u32> {
        match self {
            Controller::None => None,
            Controller::Operator(_) => pgrep(&format!(
                "zot-operator run .*--identity {OPERATOR_IDENTITY}$"
            )),
            Controller::Peer(p) => Some(p.pid),
        }
    }

    fn figures(&self) -> Option<(u64, u64, f64)> {
        process_figures(self.pid()?)
    }
}

// ---------------------------------------------------------------------------------------------------------------
// What each side applies

struct Workload {
    /// The limit's objects, per store name (s-0 .. s-9), namespace left out; and the store's config Secret after
    /// each log level.
    rendered: BTreeMap<String, Vec<Value>>,
    changed_secret: BTreeMap<(String, &'static str), Value>,
    peer_values: Value,
}

fn render(name: &str, log_level: &str) -> Vec<Value> {
    let store = format!(
        "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: {name}\nspec:\n  logLevel: {log_level}\n"
    );
    let sample: Value = serde_yaml::from_str(
        &std::fs::read_to_string(repo_root().join("config/samples/minimal.yaml")).unwrap(),
    )
    .unwrap();
    let mut store: Value = serde_yaml::from_str(&store).unwrap();
    store["spec"] = sample["spec"].clone();
    store["spec"]["logLevel"] = json!(log_level);
    let mut child = Command::new(env!("CARGO_BIN_EXE_zot-operator"))
        // With the store's own CA and serving certificate, as the operator makes them: the same objects.
        .args(["render", "--certificates", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("zot-operator render");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&store).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "zot-operator render: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    yaml_docs(&String::from_utf8(out.stdout).unwrap())
        .into_iter()
        .map(|mut o| {
            o["metadata"].as_object_mut().unwrap().remove("namespace");
            o
        })
        .collect()
}

impl Workload {
    fn new() -> Workload {
        let mut rendered = BTreeMap::new();
        let mut changed_secret = BTreeMap::new();
        for j in 0..PER_NAMESPACE {
            let name = format!("s-{j}");
            rendered.insert(name.clone(), render(&name, "info"));
            for level in ["debug", "info"] {
                let secret = render(&name, level)
                    .into_iter()
                    .find(|o| {
                        o["kind"] == "Secret" && o["metadata"]["name"] == config_secret(&name)
                    })
                    .expect("render prints the store's config Secret");
                changed_secret.insert((name.clone(), level), secret);
            }
        }
        let peer_values: Value = serde_yaml::from_str(
            &std::fs::read_to_string(repo_root().join("hack/bench-peer/values.yaml")).unwrap(),
        )
        .unwrap();
        Workload {
            rendered,
            changed_secret,
            peer_values,
        }
    }

    /// One YAML stream per namespace of the side's N objects (the limit's, the stores or the ZotCharts).
    fn streams(&self, side: Side, n: usize) -> Vec<String> {
        let mut streams: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for i in 0..n {
            let (ns, name) = slot(side, i);
            let docs: Vec<Value> = match side {
                Side::Limit => self.rendered[&name].clone(),
                Side::Operator => {
                    let mut store: Value = serde_yaml::from_str(
                        &std::fs::read_to_string(repo_root().join("config/samples/minimal.yaml"))
                            .unwrap(),
                    )
                    .unwrap();
                    store["metadata"]["name"] = json!(name);
                    vec![store]
                }
                Side::Peer => vec![json!({
                    "apiVersion": "bench.zotregistry.io/v1alpha1",
                    "kind": "ZotChart",
                    "metadata": {"name": name},
                    "spec": self.peer_values,
                })],
            };
            let entry = streams.entry(ns.clone()).or_default();
            for mut doc in docs {
                doc["metadata"]["namespace"] = json!(ns);
                entry.push(serde_json::to_string(&doc).unwrap());
            }
        }
        streams
            .into_values()
            .map(|docs| docs.join("\n---\n"))
            .collect()
    }

    fn peer_config(&self, level: &str) -> String {
        self.peer_values["configFiles"]["config.json"]
            .as_str()
            .unwrap()
            .replace("\"level\": \"info\"", &format!("\"level\": \"{level}\""))
    }
}

fn config_secret(store: &str) -> String {
    format!("{store}-config")
}

// ---------------------------------------------------------------------------------------------------------------
// Convergence: a watch (as the admin, whose requests the audit policy leaves out) counts what is ready.

struct ReadyWatch {
    state: Arc<Mutex<(HashSet<String>, Option<Instant>)>>,
    task: tokio::task::JoinHandle<()>,
}

impl ReadyWatch {
    async fn start(side: Side) -> ReadyWatch {
        let client = support::client(V).await;
        let (ar, ready): (ApiResource, fn(&DynamicObject) -> bool) = match side {
            Side::Operator => (
                ApiResource::from_gvk_with_plural(
                    &GroupVersionKind::gvk(
                        "artifact.zotregistry.io",
                        "v1alpha1",
                        "ZotArtifactStore",
                    ),
                    "zotartifactstores",
                ),
                |o| {
                    let s = &o.data["status"];
                    s["observedGeneration"].as_i64() == o.metadata.generation
                        && s["conditions"].as_array().is_some_and(|cs| {
                            cs.iter()
                                .any(|c| c["type"] == "Ready" && c["status"] == "True")
                        })
                },
            ),
            Side::Limit | Side::Peer => (ApiResource::erase::<StatefulSet>(&()), |o| {
                o.data["status"]["readyReplicas"].as_i64().unwrap_or(0)
                    >= o.data["spec"]["replicas"].as_i64().unwrap_or(1)
            }),
        };
        let api: Api<DynamicObject> = Api::all_with(client, &ar);
        let state: Arc<Mutex<(HashSet<String>, Option<Instant>)>> = Default::default();
        let shared = state.clone();
        let prefix = format!("{}-", side.prefix());
        let task = tokio::spawn(async move {
            let mut stream = watcher(api, watcher::Config::default())
                .default_backoff()
                .applied_objects()
                .boxed();
            while let Some(item) = stream.next().await {
                let Ok(object) = item else { continue };
                let ns = object.metadata.namespace.clone().unwrap_or_default();
                if ns.starts_with(&prefix) && ready(&object) {
                    let key = format!("{ns}/{}", object.metadata.name.clone().unwrap_or_default());
                    let mut state = shared.lock().unwrap();
                    if state.0.insert(key) {
                        state.1 = Some(Instant::now());
                    }
                }
            }
        });
        ReadyWatch { state, task }
    }

    /// Waits until `n` objects are ready; the time from `start` to the last one.
    fn wait(&self, what: &str, n: usize, start: Instant) -> f64 {
        let mut shown = 0;
        loop {
            let (count, last) = {
                let s = self.state.lock().unwrap();
                (s.0.len(), s.1)
            };
            if count >= n {
                return last.unwrap().duration_since(start).as_secs_f64();
            }
            if count / 100 != shown / 100 {
                eprintln!(
                    "  {count}/{n} {what} ({:.0} s)",
                    start.elapsed().as_secs_f64()
                );
                shown = count;
            }
            assert!(
                start.elapsed() < CONVERGE_TIMEOUT,
                "only {count} of {n} {what} after {CONVERGE_TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for ReadyWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Spec change -> child written

/// Makes CHANGES spec changes one after another, each waiting for the child to hold it, and measures from the
/// audit log: from the user's request (requestReceivedTimestamp) to the end of the controller's first write of the
/// child after it (stageTimestamp). For the limit, which has no controller, it is the latency of its own apply of
/// the changed child. Returns (p50 ms, p99 ms, changes measured).
async fn change_latency(
    side: Side,
    n: usize,
    workload: &Workload,
    audit: &Audit,
    configs: &Configs,
) -> (f64, f64, usize) {
    let client = support::client(V).await;
    let offset = audit.offset();
    let mut expected: Vec<(String, String)> = Vec::new();
    let budget = Instant::now() + CHANGE_BUDGET;
    for c in 0..CHANGES {
        let i = c % n;
        let level = level(c / n);
        let (ns, name) = slot(side, i);
        match side {
            Side::Limit => {
                let mut secret = workload.changed_secret[&(name.clone(), level)].clone();
                secret["metadata"]["namespace"] = json!(ns);
                let (ok, _, err) = kubectl_as(
                    &configs.limit,
                    &[
                        "apply",
                        "--server-side",
                        "--field-manager=bench-limit",
                        "-f",
                        "-",
                    ],
                    Some(&serde_json::to_string(&secret).unwrap()),
                );
                assert!(ok, "{err}");
            }
            Side::Operator => {
                let patch = json!({"spec": {"logLevel": level}}).to_string();
                let (ok, _, err) = kubectl_as(
                    &configs.user,
                    &[
                        "patch",
                        "-n",
                        &ns,
                        &format!("zotartifactstores/{name}"),
                        "--type=merge",
                        "-p",
                        &patch,
                    ],
                    None,
                );
                assert!(ok, "{err}");
            }
            Side::Peer => {
                let patch =
                    json!({"spec": {"configFiles": {"config.json": workload.peer_config(level)}}})
                        .to_string();
                let (ok, _, err) = kubectl_as(
                    &configs.user,
                    &[
                        "patch",
                        "-n",
                        &ns,
                        &format!("zotcharts/{name}"),
                        "--type=merge",
                        "-p",
                        &patch,
                    ],
                    None,
                );
                assert!(ok, "{err}");
            }
        }
        let child = match side {
            Side::Peer => format!("{name}-config"),
            _ => config_secret(&name),
        };
        let want = format!("\"level\": \"{level}\"");
        let mut done = false;
        loop {
            let text = match side {
                Side::Peer => Api::<ConfigMap>::namespaced(client.clone(), &ns)
                    .get_opt(&child)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|c| c.data?.get("config.json").cloned()),
                _ => Api::<Secret>::namespaced(client.clone(), &ns)
                    .get_opt(&child)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|s| {
                        let b = s.data?.get("config.json")?.0.clone();
                        String::from_utf8(b).ok()
                    }),
            };
            if text.is_some_and(|t| t.contains(&want)) {
                done = true;
                break;
            }
            if Instant::now() > budget {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        expected.push((ns, child));
        if !done {
            // A controller whose queue is behind (the peer's periodic reconciles of many releases) would keep a
            // run waiting for hours: what fits the budget is measured, and the table says how many.
            eprintln!(
                "  {}: {} of {CHANGES} changes made in {CHANGE_BUDGET:?}; the last not written yet",
                side.title(),
                c + 1
            );
            break;
        }
    }
    let events = audit.since(offset);
    let (changer, child_resource) = match side {
        Side::Limit => (sa_user("bench-limit"), "secrets"),
        Side::Operator => (sa_user("bench-user"), "secrets"),
        Side::Peer => (sa_user("bench-user"), "configmaps"),
    };
    let store_resource = match side {
        Side::Operator => "zotartifactstores",
        Side::Peer => "zotcharts",
        Side::Limit => "secrets",
    };
    let requests: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e["user"]["username"] == changer.as_str()
                && e["objectRef"]["resource"] == store_resource
                && is_write(e["verb"].as_str().unwrap_or(""))
        })
        .collect();
    let controller = side.user();
    let mut latencies: Vec<f64> = Vec::new();
    for (k, request) in requests.iter().enumerate() {
        let Some((ns, child)) = expected.get(k) else {
            break;
        };
        let Some(asked) = request["requestReceivedTimestamp"]
            .as_str()
            .and_then(micros)
        else {
            continue;
        };
        if side == Side::Limit {
            if let Some(done) = request["stageTimestamp"].as_str().and_then(micros) {
                latencies.push((done - asked) as f64 / 1000.0);
            }
            continue;
        }
        let written = events
            .iter()
            .filter(|e| {
                e["user"]["username"] == controller.as_str()
                    && e["objectRef"]["resource"] == child_resource
                    && e["objectRef"]["namespace"] == ns.as_str()
                    && e["objectRef"]["name"] == child.as_str()
                    && is_write(e["verb"].as_str().unwrap_or(""))
            })
            .filter_map(|e| e["stageTimestamp"].as_str().and_then(micros))
            .filter(|&t| t >= asked)
            .min();
        if let Some(done) = written {
            latencies.push((done - asked) as f64 / 1000.0);
        }
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| {
        if latencies.is_empty() {
            f64::NAN
        } else {
            latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1]
        }
    };
    (pct(0.50), pct(0.99), latencies.len())
}

// ---------------------------------------------------------------------------------------------------------------
// One side

struct Configs {
    limit: PathBuf,
    peer: PathBuf,
    user: PathBuf,
}

async fn run_side(
    side: Side,
    n: usize,
    idle: u64,
    workload: &Workload,
    audit: &Audit,
    configs: &Configs,
) -> Figures {
    eprintln!("== {} ({n} stores)", side.title());
    let names = namespaces(side, n);
    create_namespaces(&names);
    let errors_before = server_errors();
    let controller = match side {
        Side::Limit => Controller::None,
        Side::Operator => Controller::Operator(Operator::start(V, OPERATOR_IDENTITY, &[])),
        Side::Peer => Controller::Peer(HelmOperator::start(&configs.peer)),
    };
    if let Controller::Operator(operator) = &controller {
        wait_http_ok("the operator", operator.http_port, "/readyz");
    }
    let watch = ReadyWatch::start(side).await;
    let streams = workload.streams(side, n);
    let offset = audit.offset();
    let cpu_before = controller.figures().map(|f| f.2);

    let start = Instant::now();
    match side {
        Side::Limit => apply_parallel(&configs.limit, "bench-limit", streams),
        _ => apply_parallel(&admin(), "bench-compare", streams),
    }
    let what = if side == Side::Operator {
        "stores Ready"
    } else {
        "StatefulSets ready"
    };
    let converge = watch.wait(what, n, start);
    drop(watch);
    let at_convergence = controller.figures();
    let verbs = verbs_of(&audit.since(offset), &side.user());

    eprintln!("  converged in {converge:.1} s; idle for {idle} s");
    let idle_offset = audit.offset();
    std::thread::sleep(Duration::from_secs(idle));
    let idle_events = audit.since(idle_offset);
    let idle_writes = verbs_of(&idle_events, &side.user())
        .iter()
        .filter(|(v, _)| is_write(v))
        .map(|(_, c)| c)
        .sum();
    let idle_kinds = writes_by_resource(&idle_events, &side.user());
    let settled = controller.figures();
    // After the idle period: the gauges are brought up to date every 5 s.
    let caches = match &controller {
        Controller::Operator(operator) => Some(cache_objects(operator)),
        _ => None,
    };

    eprintln!("  {CHANGES} spec changes");
    let latency = change_latency(side, n, workload, audit, configs).await;
    let errors_after = server_errors();

    eprintln!(
        "  requests {verbs:?}, idle writes {idle_writes}, latency p50/p99/count {latency:?}, peak/settled/cpu {:?}/{:?}",
        at_convergence, settled
    );
    eprintln!("  deleting the namespaces");
    delete_namespaces(side.prefix(), &names);
    drop(controller);
    Figures {
        converge,
        peak_rss_kib: at_convergence.map(|f| f.1),
        settled_rss_kib: settled.map(|f| f.0),
        cpu_seconds: at_convergence
            .zip(cpu_before)
            .map(|(f, before)| f.2 - before),
        verbs,
        server_errors: errors_after.0 - errors_before.0,
        throttled: errors_after.1 - errors_before.1,
        idle_writes,
        idle_kinds,
        latency_ms: Some(latency),
        caches: caches.flatten(),
    }
}

/// zot_operator_cache_objects by kind (kinds with objects only), with zot_operator_cache_text_bytes where the
/// operator exposes it: "StatefulSet 100 (412 KiB)".
fn cache_objects(operator: &Operator) -> Option<String> {
    let (200, body) = operator.http_get("/metrics")? else {
        return None;
    };
    let gauge = |name: &str| -> BTreeMap<String, f64> {
        let prefix = format!("{name}{{");
        body.lines()
            .filter(|l| l.starts_with(&prefix))
            .filter_map(|l| {
                let kind = l.split("kind=\"").nth(1)?.split('"').next()?;
                let value: f64 = l.rsplit(' ').next()?.parse().ok()?;
                Some((kind.to_string(), value))
            })
            .collect()
    };
    let bytes = gauge("zot_operator_cache_text_bytes");
    let kinds: Vec<String> = gauge("zot_operator_cache_objects")
        .into_iter()
        .filter(|(_, count)| *count > 0.0)
        .map(|(kind, count)| match bytes.get(&kind) {
            Some(b) => format!("{kind} {count} ({:.0} KiB)", b / 1024.0),
            None => format!("{kind} {count}"),
        })
        .collect();
    (!kinds.is_empty()).then(|| kinds.join(", "))
}

// ---------------------------------------------------------------------------------------------------------------
// The table

fn mib(kib: Option<u64>) -> String {
    kib.map_or("n/a".into(), |k| format!("{:.1}", k as f64 / 1024.0))
}

fn table(n: usize, idle: u64, sides: &[(Side, Figures)]) -> String {
    let limit = &sides[0].1;
    let limit_requests: usize = limit.verbs.values().sum();
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut row = |label: &str, f: &dyn Fn(&Figures) -> String| {
        rows.push((label.to_string(), sides.iter().map(|(_, x)| f(x)).collect()));
    };
    row("time to converge (s)", &|f| format!("{:.1}", f.converge));
    row("… × the limit", &|f| {
        format!("{:.2}", f.converge / limit.converge)
    });
    row("time per store (ms)", &|f| {
        format!("{:.0}", f.converge * 1000.0 / n as f64)
    });
    row("controller peak RSS at convergence (MiB)", &|f| {
        mib(f.peak_rss_kib)
    });
    row(&format!("controller RSS after {idle} s idle (MiB)"), &|f| {
        mib(f.settled_rss_kib)
    });
    row("RSS per store (KiB)", &|f| {
        f.settled_rss_kib
            .map_or("n/a".into(), |k| format!("{:.0}", k as f64 / n as f64))
    });
    row("controller CPU while converging (s)", &|f| {
        f.cpu_seconds.map_or("n/a".into(), |c| format!("{c:.1}"))
    });
    row("API requests while converging", &|f| {
        f.verbs.values().sum::<usize>().to_string()
    });
    row("… × the limit", &|f| {
        format!(
            "{:.2}",
            f.verbs.values().sum::<usize>() as f64 / limit_requests.max(1) as f64
        )
    });
    row("API requests per store", &|f| {
        format!("{:.1}", f.verbs.values().sum::<usize>() as f64 / n as f64)
    });
    let mut all_verbs: Vec<String> = sides
        .iter()
        .flat_map(|(_, f)| f.verbs.keys().cloned())
        .collect();
    all_verbs.sort();
    all_verbs.dedup();
    for verb in all_verbs {
        row(&format!("… {verb}"), &|f| {
            f.verbs.get(&verb).copied().unwrap_or(0).to_string()
        });
    }
    row("API server 5xx / 429, all users, whole run", &|f| {
        format!("{} / {}", f.server_errors, f.throttled)
    });
    row(&format!("writes in {idle} s idle"), &|f| {
        f.idle_writes.to_string()
    });
    row("… of which", &|f| f.idle_kinds.clone());
    row(
        &format!("spec change → child written, p50 / p99 (ms, {CHANGES} changes)"),
        &|f| {
            f.latency_ms.map_or("n/a".into(), |(p50, p99, count)| {
                let of = if count < CHANGES {
                    format!(" ({count} measured)")
                } else {
                    String::new()
                };
                format!("{p50:.0} / {p99:.0}{of}")
            })
        },
    );
    row("cached objects, settled (text held)", &|f| {
        f.caches.clone().unwrap_or_else(|| "n/a".into())
    });
    let mut out = String::new();
    out.push_str(&format!(
        "| {n} stores | {} |\n|---|{}\n",
        sides
            .iter()
            .map(|(s, _)| s.title())
            .collect::<Vec<_>>()
            .join(" | "),
        "---:|".repeat(sides.len())
    ));
    for (label, cells) in rows {
        out.push_str(&format!("| {label} | {} |\n", cells.join(" | ")));
    }
    out
}

fn machine() -> String {
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .map_or("?".into(), |k| {
            format!("{:.1} GiB", k as f64 / 1024.0 / 1024.0)
        });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_string();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_default();
    format!("{nproc} CPUs ({cpu}), {mem} memory, Linux {kernel}")
}

/// Replaces (or adds) the section of docs/benchmarks.md for `n` stores.
fn write_doc(n: usize, idle: u64, table: &str) {
    let path = std::env::var_os("BENCH_DOC")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("docs/benchmarks.md"));
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let begin = format!("<!-- bench-compare {n} begin -->");
    let end = format!("<!-- bench-compare {n} end -->");
    let section = format!(
        "{begin}\n### {n} stores\n\n{date}; {}; `make bench-compare BENCH_STORES={n} BENCH_IDLE_SECS={idle}`.\n\n{table}{end}",
        machine()
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        "# Benchmarks\n\n<!-- bench-compare sections: `make bench-compare` rewrites its own below -->\n".into()
    });
    let text = match (text.find(&begin), text.find(&end)) {
        (Some(b), Some(e)) if e > b => format!("{}{section}{}", &text[..b], &text[e + end.len()..]),
        _ => format!("{}\n{section}\n", text.trim_end()),
    };
    std::fs::write(&path, text).unwrap();
    println!("(written into {})", path.display());
}

#[tokio::main]
async fn main() {
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(default)
    };
    let n = env("BENCH_STORES", 100).max(1) as usize;
    let idle = env("BENCH_IDLE_SECS", 300);
    println!(
        "bench-compare: {n} stores, {} namespaces, idle {idle} s, {CHANGES} spec changes; {}",
        n.div_ceil(PER_NAMESPACE),
        machine()
    );
    let workload = Workload::new();
    // The cluster, the operator's CRD and RBAC, the peer's CRD and the benchmark's users.
    support::operator::install_crd_and_rbac(V);
    for file in [
        "hack/bench-peer/zotchart-crd.yaml",
        "hack/bench-peer/rbac.yaml",
    ] {
        let path = repo_root().join(file);
        let (ok, _, err) = kubectl_as(
            &admin(),
            &[
                "apply",
                "--server-side",
                "--force-conflicts",
                "-f",
                path.to_str().unwrap(),
            ],
            None,
        );
        assert!(ok, "applying {file}: {err}");
    }
    support::wait_for_crd_established(V, "zotcharts.bench.zotregistry.io");
    let configs = Configs {
        limit: token_kubeconfig(V, OPERATOR_NAMESPACE, "bench-limit", "bench-limit"),
        peer: token_kubeconfig(
            V,
            OPERATOR_NAMESPACE,
            "bench-helm-operator",
            "bench-helm-operator",
        ),
        user: token_kubeconfig(V, OPERATOR_NAMESPACE, "bench-user", "bench-user"),
    };
    let audit = Audit::new();
    let mut sides = Vec::new();
    for side in [Side::Limit, Side::Operator, Side::Peer] {
        let figures = run_side(side, n, idle, &workload, &audit, &configs).await;
        sides.push((side, figures));
    }
    let table = table(n, idle, &sides);
    println!("\n{table}");
    write_doc(n, idle, &table);
}
