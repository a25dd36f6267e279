//! The `zot-operator` command line: `render` refusals, `version`, `run` refusing what it cannot do.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::io::Write;
use std::process::{Command, Stdio};

fn zot_operator(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zot-operator"))
        .args(args)
        .env_remove("RELATED_IMAGE_ZOT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const STORE: &str = "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata: {name: zot}\nspec:\n";

#[test]
fn a_refused_spec_prints_the_field_and_reason_and_exits_2() {
    let (code, stdout, stderr) =
        zot_operator(&["render", "-f", "-"], &format!("{STORE}  replicas: 3\n"));
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert!(
        stderr.starts_with("error: spec.replicas: replicas > 1 is refused with filesystem storage"),
        "{stderr}"
    );
}

#[test]
fn render_prints_every_object_as_a_yaml_stream() {
    let (code, stdout, stderr) = zot_operator(
        &["render", "-f", "-", "--platform", "openshift"],
        &format!("{STORE}  {{}}\n"),
    );
    assert_eq!(code, 0, "{stderr}");
    let kinds: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("kind: "))
        .collect();
    assert_eq!(
        kinds,
        [
            "ServiceAccount",
            "Secret",
            "ConfigMap",
            "Service",
            "Service",
            "Service",
            "NetworkPolicy",
            "Route",
            "StatefulSet"
        ]
    );
    assert!(stdout.contains("namespace: default"));
    assert!(
        !stdout.contains("runAsUser"),
        "OpenShift's SCC assigns the UID"
    );
}

#[test]
fn a_misspelt_field_is_refused_instead_of_ignored() {
    let (code, _, stderr) = zot_operator(
        &["render", "-f", "-"],
        &format!("{STORE}  storage: {{sise: 5Gi}}\n"),
    );
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: spec.storage.sise: unknown field"),
        "{stderr}"
    );
}

#[test]
fn something_else_than_a_store_is_an_error() {
    let (code, _, stderr) =
        zot_operator(&["render", "-f", "-"], "apiVersion: v1\nkind: ConfigMap\n");
    assert_eq!(code, 1);
    assert!(stderr.contains("not a ZotArtifactStore"), "{stderr}");
}

#[test]
fn version_names_the_default_zot_image() {
    let (code, stdout, _) = zot_operator(&["version"], "");
    assert_eq!(code, 0);
    assert!(stdout.contains(env!("CARGO_PKG_VERSION")));
    assert!(stdout.contains("ghcr.io/project-zot/zot:v2.1.20"));
}

#[test]
fn run_refuses_a_watch_namespace_list_before_touching_a_cluster() {
    // KUBECONFIG points nowhere: the refusal comes first, so nothing is contacted.
    for (watch, expected) in [
        ("team-a,team-b", "several namespaces (team-a,team-b)"),
        ("Team_A", "\"Team_A\" is not a namespace name"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_zot-operator"))
            .args(["run", "--http-addr", "127.0.0.1:0"])
            .env("WATCH_NAMESPACE", watch)
            .env("KUBECONFIG", "/nonexistent/kubeconfig")
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{watch}: {stderr}");
        assert!(stderr.contains(expected), "{watch}: {stderr}");
    }
}

#[test]
fn a_boolean_service_monitor_is_the_object_with_the_defaults() {
    let render = |monitor: &str| {
        let (code, stdout, stderr) = zot_operator(
            &["render", "--service-monitor", "-f", "-"],
            &format!("{STORE}  metrics: {{prometheus: {{serviceMonitor: {monitor}}}}}\n"),
        );
        assert_eq!(code, 0, "serviceMonitor: {monitor}: {stderr}");
        stdout
    };
    let shorthand = render("true");
    assert!(
        shorthand.contains("kind: ServiceMonitor"),
        "serviceMonitor: true renders no ServiceMonitor:\n{shorthand}"
    );
    assert_eq!(shorthand, render("{enabled: true}"));
    let off = render("false");
    assert!(!off.contains("kind: ServiceMonitor"), "{off}");
    assert_eq!(off, render("{enabled: false}"));
}

#[test]
fn a_service_monitor_neither_boolean_nor_object_is_refused_with_what_to_write() {
    let (code, _, stderr) = zot_operator(
        &["render", "-f", "-"],
        &format!("{STORE}  metrics: {{prometheus: {{serviceMonitor: yes-please}}}}\n"),
    );
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: spec.metrics.prometheus.serviceMonitor: must be true"),
        "{stderr}"
    );
    assert!(stderr.contains("{enabled: true, interval: 30s"), "{stderr}");
}

#[test]
fn the_documented_embedded_boltdb_snippet_renders_one_data_volume_with_room_for_the_database() {
    let (code, stdout, stderr) = zot_operator(
        &["render", "-f", "-"],
        &format!("{STORE}  database:\n    type: embedded\n    embedded:\n      storageSize: 5Gi\n"),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("storage: 10Gi"), "{stdout}");
    assert!(
        !stdout.lines().any(|l| l == "kind: PersistentVolumeClaim"),
        "no separate database claim"
    );
}

#[test]
fn run_with_leader_election_asked_for_outside_a_pod_says_what_to_set() {
    let out = Command::new(env!("CARGO_BIN_EXE_zot-operator"))
        .args([
            "run",
            "--http-addr",
            "127.0.0.1:0",
            "--leader-elect",
            "true",
        ])
        .env_remove("POD_NAMESPACE")
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .unwrap();
    let logs =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{logs}");
    assert!(logs.contains("--leader-election-namespace"), "{logs}");
}
