//! The real OLM on the OpenShift-flavour cluster (hack/olm.sh: OLM v0's olm-operator and catalog-operator) and the
//! objects of an install as docs/install.md writes them (OperatorGroup, Subscription); the catalogs it installs from
//! are support::olm_catalog's.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Value, json};

use super::operator::{Operator, token_kubeconfig};
use super::{Flavour, TestNamespace, eventually, get, kubeconfig, kubectl, repo_root};

pub const O: Flavour = Flavour::OpenShift;
/// catalog-operator's global catalog namespace (hack/olm.sh), as on OpenShift.
pub const MARKETPLACE: &str = "openshift-marketplace";
pub const PACKAGE: &str = "zot-operator";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub fn csv_name(version: &str) -> String {
    format!("{PACKAGE}.v{version}")
}

/// Starts OLM on the OpenShift-flavour cluster (once per test binary; `hack/olm.sh up` keeps running operators).
pub fn up() {
    static UP: OnceLock<()> = OnceLock::new();
    UP.get_or_init(|| {
        kubeconfig(O);
        let out = Command::new(repo_root().join("hack/olm.sh"))
            .args(["up", "--flavour", O.as_str()])
            .stderr(Stdio::inherit())
            .output()
            .expect("run hack/olm.sh");
        assert!(out.status.success(), "hack/olm.sh up failed");
    });
}

/// The generator's releases (src/bin/olm), rehearsed in a scratch copy of its inputs (config/, the committed
/// catalog/, hack/versions.env), each release's bundle directory kept.
/// Server-side apply of one object, which must succeed.
pub fn apply_object(object: &Value) {
    let (ok, _, err) = kubectl(
        O,
        &[
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=olm-lifecycle-test",
            "-f",
            "-",
        ],
        Some(&object.to_string()),
    );
    assert!(
        ok,
        "applying {} {}: {err}",
        object["kind"], object["metadata"]["name"]
    );
}

/// A namespace made as `oc new-project` makes one: the annotations OpenShift's namespace controller gives it (the
/// UID and group ranges the restricted-v2 SCC assigns from, which zot-podrunner honours) and the requester; no
/// test-platform labels, so its zot pods are real.
pub async fn new_project(prefix: &str, range: u32) -> TestNamespace {
    let ns = TestNamespace::new(O, prefix, &[]).await;
    let uid = format!("{range}/10000");
    let (ok, _, err) = kubectl(
        O,
        &[
            "annotate",
            "namespace",
            &ns.name,
            &format!("openshift.io/sa.scc.uid-range={uid}"),
            &format!("openshift.io/sa.scc.supplemental-groups={uid}"),
            "openshift.io/sa.scc.mcs=s0:c27,c4",
            "openshift.io/requester=developer",
        ],
        None,
    );
    assert!(ok, "annotating {}: {err}", ns.name);
    ns
}

/// The OperatorGroup of docs/install.md in `namespace`: all namespaces without targets, else the targets; with a
/// ServiceAccount OLM installs as (a scoped install) when given.
pub fn operator_group(namespace: &str, targets: Option<&[&str]>, account: Option<&str>) {
    let mut spec = json!({});
    if let Some(targets) = targets {
        spec["targetNamespaces"] = json!(targets);
    }
    if let Some(account) = account {
        spec["serviceAccountName"] = json!(account);
    }
    apply_object(&json!({
        "apiVersion": "operators.coreos.com/v1",
        "kind": "OperatorGroup",
        "metadata": {"name": PACKAGE, "namespace": namespace},
        "spec": spec,
    }));
}

/// The Subscription of docs/install.md in `namespace`, to `channel` of the catalog `source`.
pub fn subscribe(namespace: &str, channel: &str, source: &str, approval: &str) {
    apply_object(&json!({
        "apiVersion": "operators.coreos.com/v1alpha1",
        "kind": "Subscription",
        "metadata": {"name": PACKAGE, "namespace": namespace},
        "spec": {
            "name": PACKAGE,
            "channel": channel,
            "source": source,
            "sourceNamespace": MARKETPLACE,
            "installPlanApproval": approval,
        },
    }));
}

pub fn subscription(namespace: &str) -> Value {
    get(O, namespace, &format!("subscription/{PACKAGE}")).expect("the Subscription exists")
}

/// The (status, reason, message) of condition `type_` of an OLM object.
pub fn olm_condition(object: &Value, type_: &str) -> Option<(String, String, String)> {
    let c = object["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)?;
    Some((
        c["status"].as_str().unwrap_or_default().to_string(),
        c["reason"].as_str().unwrap_or_default().to_string(),
        c["message"].as_str().unwrap_or_default().to_string(),
    ))
}

/// What OLM says about an install, for failure messages.
pub fn describe(namespace: &str) -> String {
    let (_, out, _) = kubectl(
        O,
        &[
            "get",
            "-n",
            namespace,
            "subscriptions,installplans,csv,operatorgroups,deployments",
            "-o",
            "yaml",
        ],
        None,
    );
    out
}

/// Waits until the CSV `name` in `namespace` is Succeeded (not a copy) and returns it.
pub async fn csv_succeeded(namespace: &str, name: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
    loop {
        if let Some(csv) = get(O, namespace, &format!("csv/{name}")) {
            if csv["status"]["phase"] == "Succeeded" {
                return csv;
            }
        }
        if tokio::time::Instant::now() > deadline {
            panic!(
                "CSV {namespace}/{name} did not succeed within 240 s:\n{}",
                describe(namespace)
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Waits until the Subscription has installed `csv` (status.installedCSV) and returns the Subscription.
pub async fn installed(namespace: &str, csv: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
    loop {
        let sub = subscription(namespace);
        if sub["status"]["installedCSV"] == csv && sub["status"]["state"] == "AtLatestKnown" {
            return sub;
        }
        if tokio::time::Instant::now() > deadline {
            panic!(
                "the Subscription in {namespace} did not install {csv} within 240 s:\n{}",
                describe(namespace)
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The InstallPlans of a namespace, oldest first.
pub fn install_plans(namespace: &str) -> Vec<Value> {
    let mut plans = super::list(O, namespace, "installplans");
    plans.sort_by_key(|p| {
        p["metadata"]["creationTimestamp"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    });
    plans
}

/// The InstallPlan that installs `csv`, once there is one.
pub async fn install_plan_for(namespace: &str, csv: &str) -> Value {
    eventually(
        &format!("an InstallPlan for {csv} in {namespace}"),
        Duration::from_secs(180),
        || async {
            install_plans(namespace).into_iter().find(|p| {
                p["spec"]["clusterServiceVersionNames"]
                    .as_array()
                    .is_some_and(|names| names.iter().any(|n| n == csv))
            })
        },
    )
    .await
}

/// Deletes the Subscription and the CSV (OLM's uninstall, as the console does it) and waits until OLM removed the
/// operator's Deployment.
pub async fn uninstall(namespace: &str, csv: &str) {
    for what in [format!("subscription/{PACKAGE}"), format!("csv/{csv}")] {
        let (ok, _, err) = kubectl(
            O,
            &[
                "delete",
                "-n",
                namespace,
                &what,
                "--ignore-not-found",
                "--wait=true",
                "--timeout=120s",
            ],
            None,
        );
        assert!(ok, "deleting {what}: {err}");
    }
    eventually(
        &format!("OLM to remove the operator's Deployment from {namespace}"),
        Duration::from_secs(120),
        || async {
            get(O, namespace, "deployment/zot-operator")
                .is_none()
                .then_some(())
        },
    )
    .await;
}

/// The operator as OLM deployed it in `namespace`: the binary runs as the ServiceAccount of the Deployment OLM
/// made (a TokenRequest token), with WATCH_NAMESPACE from the `olm.targetNamespaces` annotation OLM puts on its
/// pod template (the CSV maps the annotation to the variable), POD_NAMESPACE the Deployment's namespace and the
/// Deployment container's other plain env values (RELATED_IMAGE_ZOT).
pub fn run_as_deployed(namespace: &str, name: &str) -> Operator {
    let deployment = get(O, namespace, "deployment/zot-operator")
        .unwrap_or_else(|| panic!("OLM made no Deployment zot-operator in {namespace}"));
    let pod = &deployment["spec"]["template"];
    let account = pod["spec"]["serviceAccountName"]
        .as_str()
        .expect("a ServiceAccount");
    let targets = pod["metadata"]["annotations"]["olm.targetNamespaces"]
        .as_str()
        .unwrap_or_else(|| {
            panic!("OLM gave the pod template no olm.targetNamespaces: {deployment}")
        })
        .to_string();
    let mut env: Vec<(String, String)> = pod["spec"]["containers"][0]["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            Some((
                e["name"].as_str()?.to_string(),
                e["value"].as_str()?.to_string(),
            ))
        })
        .collect();
    let from_annotation = pod["spec"]["containers"][0]["env"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|e| {
            e["name"] == "WATCH_NAMESPACE"
                && e["valueFrom"]["fieldRef"]["fieldPath"]
                    == "metadata.annotations['olm.targetNamespaces']"
        });
    assert!(
        from_annotation,
        "the Deployment maps olm.targetNamespaces to WATCH_NAMESPACE: {deployment}"
    );
    env.push(("WATCH_NAMESPACE".into(), targets));
    let config = token_kubeconfig(O, namespace, account, name);
    // A log of its own: Operator appends to target/e2e/<name>.<flavour>.log, which an earlier run may have left.
    let _ = std::fs::remove_file(repo_root().join(format!("target/e2e/{name}.{}.log", O.as_str())));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Operator::spawn(O, name, name, &config, namespace, &env)
}
