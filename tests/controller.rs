//! Day-1 and day-2 behaviour of the operator on a real control plane (kube-apiserver, controller-manager,
//! scheduler, kwok nodes), with the operator running as its least-privilege ServiceAccount.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use std::time::Duration;

use serde_json::Value;
use support::{Flavour, TestNamespace, condition, eventually, kubectl};

const V: Flavour = Flavour::Vanilla;
const WAIT: Duration = Duration::from_secs(120);

async fn setup(prefix: &str) -> TestNamespace {
    support::operator::shared(V);
    TestNamespace::new(
        V,
        prefix,
        &[("pod-security.kubernetes.io/enforce", "restricted")],
    )
    .await
}

/// A namespace whose zot pods are made Ready without running zot (`zot-operator.test/pods: simulated`): for the
/// tests of S3 + redis stores, which check what the operator does with workloads, HPAs and children. The operator
/// still makes sure of their bucket on the platform's S3 (hack/services.sh); tests/object_storage.rs runs such
/// stores for real.
async fn setup_simulated(prefix: &str) -> TestNamespace {
    support::services::ensure_up();
    support::operator::shared(V);
    TestNamespace::new(
        V,
        prefix,
        &[
            ("pod-security.kubernetes.io/enforce", "restricted"),
            (support::SIMULATED_PODS.0, support::SIMULATED_PODS.1),
        ],
    )
    .await
}

fn apply(ns: &str, yaml: &str) {
    let (ok, _, err) = kubectl(V, &["apply", "-n", ns, "-f", "-"], Some(yaml));
    assert!(ok, "kubectl apply failed: {err}\n{yaml}");
}

fn get(ns: &str, what: &str) -> Option<Value> {
    support::get(V, ns, what)
}

async fn wait_ready(ns: &str, name: &str) -> Value {
    eventually(&format!("zas/{name} to be Ready"), WAIT, || async {
        let store = get(ns, &format!("zas/{name}"))?;
        let ready = condition(&store, "Ready")?;
        let current = store["status"]["observedGeneration"] == store["metadata"]["generation"];
        (ready.0 == "True" && current).then_some(store)
    })
    .await
}

async fn wait_for_object(ns: &str, what: &str) -> Value {
    eventually(&format!("{what} to exist"), WAIT, || async {
        get(ns, what)
    })
    .await
}

async fn wait_gone(ns: &str, what: &str) {
    eventually(&format!("{what} to be deleted"), WAIT, || async {
        get(ns, what).is_none().then_some(())
    })
    .await
}

fn s3_store(name: &str, extra: &str) -> String {
    format!(
        r#"apiVersion: artifact.zotregistry.io/v1alpha1
kind: ZotArtifactStore
metadata:
  name: {name}
spec:
  replicas: 2
  storage:
    type: s3
    s3:
      endpoint: {endpoint}
      bucket: controller-tests
      region: us-east-1
      accessKeySecret:
        name: s3-credentials
  database:
    type: redis
    redis:
      url: redis://redis.example.svc:6379/0
{extra}"#,
        endpoint = support::services::S3_ENDPOINT
    )
}

const S3_SECRET: &str = r#"apiVersion: v1
kind: Secret
metadata:
  name: s3-credentials
stringData:
  access-key: zot-s3-root
  secret-key: zot-s3-root-secret
"#;

#[tokio::test]
async fn the_minimal_sample_becomes_ready_with_its_statefulset_claim_services_and_config() {
    let ns = setup("minimal").await;
    let sample =
        std::fs::read_to_string(support::repo_root().join("config/samples/minimal.yaml")).unwrap();
    apply(&ns.name, &sample);
    let name = "minimal-artifact-store";
    let store = wait_ready(&ns.name, name).await;
    assert_eq!(store["status"]["phase"], "Running");
    assert_eq!(store["status"]["readyReplicas"], 1);
    let internal = store["status"]["endpoints"]["internal"].as_str().unwrap();
    assert!(
        internal.contains(&format!("{name}.{}.svc", ns.name)),
        "internal endpoint {internal}"
    );
    for what in [
        format!("statefulset/{name}"),
        format!("service/{name}"),
        format!("service/{name}-metrics"),
        format!("secret/{name}-config"),
        format!("serviceaccount/{name}"),
        format!("pvc/data-{name}-0"),
    ] {
        assert!(get(&ns.name, &what).is_some(), "{what} is missing");
    }
    assert_eq!(
        get(&ns.name, &format!("pvc/data-{name}-0")).unwrap()["status"]["phase"],
        "Bound"
    );
    // The config Secret holds zot's config and nothing else; no ConfigMap carries it.
    let secret = get(&ns.name, &format!("secret/{name}-config")).unwrap();
    assert!(secret["data"]["config.json"].is_string());
    // kubectl's own wait works on the store's Ready condition.
    let (ok, _, err) = kubectl(
        V,
        &[
            "wait",
            "-n",
            &ns.name,
            "--for=condition=Ready",
            &format!("zas/{name}"),
            "--timeout=30s",
        ],
        None,
    );
    assert!(ok, "kubectl wait: {err}");
    // `kubectl get zas` shows the printer columns.
    let (ok, table, err) = kubectl(V, &["get", "-n", &ns.name, "zas", name], None);
    assert!(ok, "{err}");
    let row: Vec<&str> = table.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(
        &row[..5],
        &[name, "Running", "True", "1", internal],
        "kubectl get zas:\n{table}"
    );
    // An Event says it became ready.
    let (ok, events, _) = kubectl(
        V,
        &["get", "events.events.k8s.io", "-n", &ns.name, "-o", "json"],
        None,
    );
    assert!(ok);
    let events: Value = serde_json::from_str(&events).unwrap();
    let reasons: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["reason"].as_str())
        .collect();
    assert!(reasons.contains(&"Ready"), "events: {reasons:?}");
    // A new store's children are announced by its Ready event, not one Event each.
    assert!(!reasons.contains(&"Created"), "events: {reasons:?}");
}

/// The notes of the Events of `reason` about `zas/store`.
fn event_notes(ns: &str, store: &str, reason: &str) -> Vec<String> {
    let (ok, events, err) = kubectl(
        V,
        &["get", "events.events.k8s.io", "-n", ns, "-o", "json"],
        None,
    );
    assert!(ok, "{err}");
    let events: Value = serde_json::from_str(&events).unwrap();
    events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["reason"] == reason && e["regarding"]["name"] == store)
        .filter_map(|e| e["note"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn kubectl_scale_scales_the_workload_and_status_replicas_follow() {
    let ns = setup_simulated("scale").await;
    apply(&ns.name, S3_SECRET);
    apply(&ns.name, &s3_store("scaled", ""));
    wait_ready(&ns.name, "scaled").await;
    let (ok, _, err) = kubectl(
        V,
        &["scale", "-n", &ns.name, "zas/scaled", "--replicas=3"],
        None,
    );
    assert!(ok, "kubectl scale: {err}");
    let deployment = wait_for_object(&ns.name, "deployment/scaled").await;
    assert_eq!(deployment["metadata"]["name"], "scaled");
    eventually("status.replicas to follow the scale", WAIT, || async {
        let d = get(&ns.name, "deployment/scaled")?;
        let s = get(&ns.name, "zas/scaled")?;
        (d["spec"]["replicas"] == 3
            && s["status"]["replicas"] == 3
            && s["status"]["readyReplicas"] == 3)
            .then_some(())
    })
    .await;
    // The scale subresource reads the selector from the status.
    let (ok, scale, _) = kubectl(
        V,
        &[
            "get",
            "--raw",
            &format!(
                "/apis/artifact.zotregistry.io/v1alpha1/namespaces/{}/zotartifactstores/scaled/scale",
                ns.name
            ),
        ],
        None,
    );
    assert!(ok);
    let scale: Value = serde_json::from_str(&scale).unwrap();
    assert!(
        scale["status"]["selector"]
            .as_str()
            .unwrap()
            .contains("app.kubernetes.io/instance=scaled")
    );
}

#[tokio::test]
async fn with_autoscaling_on_the_operator_leaves_replicas_to_the_hpa() {
    let ns = setup_simulated("hpa").await;
    apply(&ns.name, S3_SECRET);
    let autoscaling = "  resources:\n    requests: {cpu: 100m, memory: 128Mi}\n  autoscaling:\n    enabled: true\n    minReplicas: 2\n    maxReplicas: 6\n";
    apply(&ns.name, &s3_store("auto", autoscaling));
    wait_for_object(&ns.name, "hpa/auto").await;
    wait_for_object(&ns.name, "deployment/auto").await;
    // Play the HPA: set the Deployment's replicas as the autoscaler would.
    let (ok, _, err) = kubectl(
        V,
        &["scale", "-n", &ns.name, "deployment/auto", "--replicas=5"],
        None,
    );
    assert!(ok, "{err}");
    // Make the operator reconcile again (a spec change), then check it did not fight over replicas.
    apply(
        &ns.name,
        &s3_store("auto", &format!("{autoscaling}  logLevel: debug\n")),
    );
    wait_ready(&ns.name, "auto").await;
    let (ok, d, err) = kubectl(
        V,
        &[
            "get",
            "-n",
            &ns.name,
            "deployment/auto",
            "-o",
            "json",
            "--show-managed-fields",
        ],
        None,
    );
    assert!(ok, "{err}");
    let d: Value = serde_json::from_str(&d).unwrap();
    assert_eq!(
        d["spec"]["replicas"], 5,
        "the operator overwrote the autoscaler's replicas"
    );
    let managers: Vec<String> = d["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["manager"] == "zot-operator")
        .map(|m| m["fieldsV1"].to_string())
        .collect();
    assert!(!managers.is_empty());
    assert!(
        managers.iter().all(|f| !f.contains("f:replicas")),
        "zot-operator owns spec.replicas: {managers:?}"
    );
}

#[tokio::test]
async fn changing_the_image_tag_or_a_zot_setting_rolls_the_pods() {
    let ns = setup("roll").await;
    let store = |extra: &str| {
        format!(
            "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: rolling\nspec:\n{extra}"
        )
    };
    apply(&ns.name, &store("  logLevel: info\n"));
    wait_ready(&ns.name, "rolling").await;
    let hash = |sts: &Value| {
        sts["spec"]["template"]["metadata"]["annotations"]["artifact.zotregistry.io/config-hash"]
            .clone()
    };
    let before = get(&ns.name, "statefulset/rolling").unwrap();
    apply(&ns.name, &store("  logLevel: debug\n"));
    let after = eventually("a new config hash", WAIT, || async {
        let s = get(&ns.name, "statefulset/rolling")?;
        (hash(&s) != hash(&before)).then_some(s)
    })
    .await;
    assert!(hash(&after).is_string());
    wait_ready(&ns.name, "rolling").await;
    apply(
        &ns.name,
        &store("  logLevel: debug\n  image:\n    repository: mirror.example.com/project-zot/zot\n"),
    );
    eventually("the pods to run the new image", WAIT, || async {
        let (ok, out, _) = kubectl(
            V,
            &[
                "get",
                "pods",
                "-n",
                &ns.name,
                "-l",
                "app.kubernetes.io/instance=rolling",
                "-o",
                "jsonpath={.items[*].spec.containers[0].image}",
            ],
            None,
        );
        (ok && out.starts_with("mirror.example.com/") && !out.contains(' ')).then_some(())
    })
    .await;
    let ready = wait_ready(&ns.name, "rolling").await;
    assert_eq!(ready["status"]["zotVersion"], "v2.1.20");
}

#[tokio::test]
async fn turning_a_feature_off_prunes_exactly_that_child_and_leaves_foreign_objects_alone() {
    let ns = setup_simulated("prune").await;
    apply(&ns.name, S3_SECRET);
    let features = "  networking:\n    ingress:\n      enabled: true\n      host: zot.example.test\n  podDisruptionBudget:\n    enabled: true\n    minAvailable: 1\n";
    apply(&ns.name, &s3_store("features", features));
    wait_for_object(&ns.name, "ingress/features").await;
    wait_for_object(&ns.name, "pdb/features").await;
    // An Ingress that looks like ours (same labels) but is not owned by the store.
    let foreign = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: features-foreign\n  labels:\n    app.kubernetes.io/managed-by: zot-operator\n    app.kubernetes.io/instance: features\nspec:\n  defaultBackend:\n    service: {name: features, port: {number: 5000}}\n";
    apply(&ns.name, foreign);
    apply(
        &ns.name,
        &s3_store(
            "features",
            "  podDisruptionBudget:\n    enabled: true\n    minAvailable: 1\n",
        ),
    );
    wait_gone(&ns.name, "ingress/features").await;
    wait_ready(&ns.name, "features").await;
    assert!(
        get(&ns.name, "pdb/features").is_some(),
        "the PDB was pruned too"
    );
    assert!(
        get(&ns.name, "ingress/features-foreign").is_some(),
        "a foreign Ingress was pruned"
    );
    apply(&ns.name, &s3_store("features", ""));
    wait_gone(&ns.name, "pdb/features").await;
    assert!(get(&ns.name, "deployment/features").is_some());
    assert!(get(&ns.name, "service/features-metrics").is_some());
}

#[tokio::test]
async fn a_deleted_child_is_recreated_and_an_edited_field_restored() {
    let ns = setup("heal").await;
    apply(
        &ns.name,
        "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: heal\nspec: {}\n",
    );
    wait_ready(&ns.name, "heal").await;
    let original = get(&ns.name, "service/heal-metrics").unwrap();
    let (ok, _, err) = kubectl(V, &["delete", "-n", &ns.name, "service/heal-metrics"], None);
    assert!(ok, "{err}");
    eventually("service/heal-metrics to come back", WAIT, || async {
        let s = get(&ns.name, "service/heal-metrics")?;
        (s["metadata"]["uid"] != original["metadata"]["uid"]).then_some(())
    })
    .await;
    eventually("an Event naming the child made again", WAIT, || async {
        event_notes(&ns.name, "heal", "Created")
            .iter()
            .any(|n| n == "created Service heal-metrics")
            .then_some(())
    })
    .await;
    // Someone edits zot's configuration by hand: the operator puts its own back.
    let config = get(&ns.name, "secret/heal-config").unwrap()["data"]["config.json"].clone();
    let (ok, _, err) = kubectl(
        V,
        &[
            "patch",
            "-n",
            &ns.name,
            "secret/heal-config",
            "--type=merge",
            "-p",
            r#"{"stringData":{"config.json":"{}"}}"#,
        ],
        None,
    );
    assert!(ok, "{err}");
    eventually("the config Secret to be restored", WAIT, || async {
        let s = get(&ns.name, "secret/heal-config")?;
        (s["data"]["config.json"] == config).then_some(())
    })
    .await;
    // ... and a label it manages.
    let (ok, _, err) = kubectl(
        V,
        &[
            "label",
            "--overwrite",
            "-n",
            &ns.name,
            "service/heal",
            "app.kubernetes.io/part-of=something-else",
        ],
        None,
    );
    assert!(ok, "{err}");
    eventually("the Service label to be restored", WAIT, || async {
        let s = get(&ns.name, "service/heal")?;
        (s["metadata"]["labels"]["app.kubernetes.io/part-of"] == "zot-artifact-store").then_some(())
    })
    .await;
}

#[tokio::test]
async fn the_api_server_refuses_postgres_with_the_cel_message() {
    let ns = setup("cel").await;
    let store = "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: pg\nspec:\n  database:\n    type: postgres\n    postgres:\n      host: pg.example\n      port: 5432\n      database: zot\n      credentialsSecret: pg\n";
    let (ok, _, err) = kubectl(V, &["apply", "-n", &ns.name, "-f", "-"], Some(store));
    assert!(!ok, "postgres was accepted");
    assert!(
        err.contains("postgres") && err.contains("redis"),
        "refusal does not explain: {err}"
    );
    assert!(
        err.contains("spec.database"),
        "refusal names no field: {err}"
    );
}

#[tokio::test]
async fn a_missing_secret_makes_the_store_not_ready_until_it_is_created() {
    let ns = setup_simulated("secret").await;
    apply(&ns.name, &s3_store("needs-secret", ""));
    let store = eventually("Ready=False with a reason", WAIT, || async {
        let s = get(&ns.name, "zas/needs-secret")?;
        let ready = condition(&s, "Ready")?;
        (ready.0 == "False" && ready.1 == "SecretNotFound").then_some(s)
    })
    .await;
    let (_, _, message) = condition(&store, "Ready").unwrap();
    assert!(
        message.contains("spec.storage.s3.accessKeySecret.name"),
        "message names no field: {message}"
    );
    assert_eq!(store["status"]["phase"], "Failed");
    assert!(
        get(&ns.name, "deployment/needs-secret").is_none(),
        "rendered despite the missing Secret"
    );
    apply(&ns.name, S3_SECRET);
    wait_ready(&ns.name, "needs-secret").await;
}

#[tokio::test]
async fn deleting_a_store_keeps_its_data_unless_the_deletion_policy_says_delete() {
    let ns = setup("delete").await;
    let store = |name: &str, policy: &str| {
        format!(
            "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: {name}\nspec:\n  storage:\n    type: filesystem\n    size: 1Gi\n    deletionPolicy: {policy}\n"
        )
    };
    apply(&ns.name, &store("keep", "Retain"));
    apply(&ns.name, &store("drop", "Delete"));
    wait_ready(&ns.name, "keep").await;
    wait_ready(&ns.name, "drop").await;
    for name in ["keep", "drop"] {
        let (ok, _, err) = kubectl(
            V,
            &[
                "delete",
                "-n",
                &ns.name,
                &format!("zas/{name}"),
                "--wait=true",
            ],
            None,
        );
        assert!(ok, "{err}");
    }
    wait_gone(&ns.name, "statefulset/keep").await;
    wait_gone(&ns.name, "service/keep").await;
    wait_gone(&ns.name, "secret/keep-config").await;
    wait_gone(&ns.name, "pvc/data-drop-0").await;
    assert!(
        get(&ns.name, "pvc/data-keep-0").is_some(),
        "the Retain store's data volume was deleted"
    );
}

#[tokio::test]
async fn a_child_the_api_server_keeps_refusing_shows_in_the_status_and_recovers() {
    let ns = setup("quota").await;
    // A namespace quota of one Service: a store needs two (the registry and its metrics).
    let quota = "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: one-service\nspec:\n  hard:\n    services: \"1\"\n";
    apply(&ns.name, quota);
    eventually("the quota controller to count", WAIT, || async {
        let q = get(&ns.name, "resourcequota/one-service")?;
        q["status"]["hard"]["services"].is_string().then_some(())
    })
    .await;
    apply(
        &ns.name,
        "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: quota\nspec:\n  replicas: 1\n",
    );
    let store = eventually("Ready=False because of the quota", WAIT, || async {
        let s = get(&ns.name, "zas/quota")?;
        let ready = condition(&s, "Ready")?;
        (ready.0 == "False" && ready.1 == "ApplyFailed").then_some(s)
    })
    .await;
    let (_, _, message) = condition(&store, "Ready").unwrap();
    assert!(
        message.starts_with("applying Service quota") && message.contains("exceeded quota"),
        "{message}"
    );
    assert!(
        !message.contains("Status {"),
        "the API server's message, not a debug dump: {message}"
    );
    assert_eq!(store["status"]["phase"], "Failed");
    let (ok, events, _) = kubectl(
        V,
        &[
            "get",
            "events",
            "-n",
            &ns.name,
            "--field-selector",
            "reason=ApplyFailed,type=Warning",
            "-o",
            "name",
        ],
        None,
    );
    assert!(
        ok && !events.trim().is_empty(),
        "no ApplyFailed Warning event"
    );

    // Lifting the quota is enough: the retries (backing off) find the way clear.
    let (ok, _, err) = kubectl(
        V,
        &["delete", "-n", &ns.name, "resourcequota/one-service"],
        None,
    );
    assert!(ok, "{err}");
    let store = wait_ready(&ns.name, "quota").await;
    assert_eq!(
        condition(&store, "ConfigReady").map(|c| c.1),
        Some("Rendered".to_string())
    );
}

/// The operator's writes (create, update, patch, delete) in `ns` among the audit events after the first `since`, as
/// `verb resource[/subresource]`.
fn operator_writes(since: usize, ns: &str) -> Vec<String> {
    support::audit_events(V)
        .iter()
        .skip(since)
        .filter(|e| {
            e["user"]["username"] == "system:serviceaccount:zot-operator-system:zot-operator"
                && e["stage"] == "ResponseComplete"
                && e["objectRef"]["namespace"] == ns
                && ["create", "update", "patch", "delete"]
                    .contains(&e["verb"].as_str().unwrap_or(""))
        })
        .map(|e| {
            let sub = e["objectRef"]["subresource"]
                .as_str()
                .map(|s| format!("/{s}"))
                .unwrap_or_default();
            format!(
                "{} {}{sub}",
                e["verb"].as_str().unwrap_or("?"),
                e["objectRef"]["resource"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

#[tokio::test]
async fn a_store_already_in_shape_costs_no_write_and_a_change_writes_only_the_child_it_changes() {
    let ns = setup_simulated("nowrite").await;
    apply(
        &ns.name,
        "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: calm\nspec:\n  replicas: 1\n",
    );
    wait_ready(&ns.name, "calm").await;
    // Let the reconciles that the children's own status changes start come to rest.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let since = support::audit_events(V).len();
    // Five reconciles of a store whose children already hold what it renders.
    for round in 0..5 {
        let (ok, _, err) = kubectl(
            V,
            &[
                "annotate",
                "--overwrite",
                "-n",
                &ns.name,
                "zas/calm",
                &format!("test/round={round}"),
            ],
            None,
        );
        assert!(ok, "{err}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    tokio::time::sleep(Duration::from_secs(8)).await;
    let idle = operator_writes(since, &ns.name);
    assert!(
        idle.is_empty(),
        "writes for a store already in shape: {idle:?}"
    );

    // One change of the spec: the StatefulSet alone is applied again, and the status follows.
    let since = support::audit_events(V).len();
    let (ok, _, err) = kubectl(
        V,
        &[
            "patch",
            "-n",
            &ns.name,
            "zas/calm",
            "--type=merge",
            "-p",
            r#"{"spec":{"replicas":0}}"#,
        ],
        None,
    );
    assert!(ok, "{err}");
    eventually("the StatefulSet to be scaled to 0", WAIT, || async {
        let sts = get(&ns.name, "statefulset/calm")?;
        (sts["spec"]["replicas"] == 0).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    let writes = operator_writes(since, &ns.name);
    let children: Vec<&String> = writes
        .iter()
        .filter(|w| !w.ends_with("zotartifactstores/status") && !w.ends_with(" events"))
        .collect();
    assert_eq!(children, ["patch statefulsets"], "all writes: {writes:?}");
}
