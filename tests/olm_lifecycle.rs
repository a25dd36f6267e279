//! OperatorHub for real: the real OLM (v0.40.0's olm-operator and catalog-operator, hack/olm.sh) on the
//! OpenShift-flavour cluster installs zot-operator from its catalog (served by `opm serve`, reached by a
//! CatalogSource's address) through an OperatorGroup and a Subscription as docs/install.md writes them, in every install
//! mode the CSV declares; the operator binary then runs as the ServiceAccount OLM made, with the RBAC OLM made from the
//! CSV, and a store in a new project becomes Ready on a real zot pod. Releases made by the generator upgrade the
//! Subscription through the channels (automatic and manual approval), uninstalling leaves the stores, and bad input
//! shows as OLM shows it.
//!
//! OLM makes the operator's Deployment; its pod is one of kwok's (no image runs here), so the test runs the operator
//! binary in its place with the identity and environment OLM gave that pod (support::olm::run_as_deployed).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

#[path = "olm_lifecycle/bad_input.rs"]
mod bad_input;
#[path = "olm_lifecycle/upgrade.rs"]
mod upgrade;

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;
use support::olm::{
    O, VERSION, csv_name, csv_succeeded, install_plan_for, installed, new_project, operator_group,
    run_as_deployed, subscribe, uninstall,
};
use support::olm_catalog::{CatalogServer, Releases};
use support::registry::{image_files, oras_ok, push_image, wait_ready_pods};
use support::tls::Zot;
use support::{TestNamespace, eventually, get, kubectl, ready};
use tokio::sync::RwLock;

const STORE: &str = "minimal-artifact-store";

/// An AllNamespaces install provides the CRD's API in every namespace, so OLM would refuse (as an OperatorGroup
/// conflict) any other install of the package while it runs: it runs alone, the others side by side.
fn installs() -> &'static RwLock<()> {
    static LOCK: OnceLock<RwLock<()>> = OnceLock::new();
    LOCK.get_or_init(|| RwLock::new(()))
}

/// The operator's namespace, as docs/install.md creates it (restricted Pod Security).
async fn operator_namespace(prefix: &str) -> TestNamespace {
    TestNamespace::new(
        O,
        prefix,
        &[("pod-security.kubernetes.io/enforce", "restricted")],
    )
    .await
}

fn apply_sample(namespace: &str) {
    let sample =
        std::fs::read_to_string(support::repo_root().join("config/samples/minimal.yaml")).unwrap();
    support::apply(O, namespace, &sample);
}

/// The store's zot pod at `address` as a client reaches it: over HTTPS (the default), trusting the store's CA.
fn zot(namespace: &str, address: &str) -> Zot {
    let dir = tempfile::tempdir().unwrap().keep();
    Zot::trusting_store_ca(O, namespace, STORE, address, &dir)
}

/// Waits until the minimal store of `namespace` is Ready and served by a real zot process (zot answers /v2/ at the
/// pod's address); returns the pod's (name, uid, address).
async fn served_by_real_zot(namespace: &str) -> (String, String, String) {
    ready(O, namespace, STORE).await;
    let pods = wait_ready_pods(O, namespace, STORE, 1).await;
    let (pod, address) = pods[0].clone();
    assert_eq!(
        zot(namespace, &address).http("GET", "/v2/", &[]).0,
        200,
        "zot answers /v2/ on pod {namespace}/{pod}"
    );
    let uid = get(O, namespace, &format!("pod/{pod}")).unwrap()["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    (pod, uid, address)
}

/// The operator worked with the RBAC OLM made from the CSV: its log has no warning or error (a refused request
/// would be one).
fn assert_clean_log(operator: &support::operator::Operator) {
    let logs = operator.logs();
    let bad: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains(r#""level":"WARN""#) || l.contains(r#""level":"ERROR""#))
        // Another test's namespace going away under an AllNamespaces operator: a store deleted mid-reconcile.
        .filter(|l| {
            !l.contains("because it is being terminated") && !l.contains("not found in local store")
        })
        .collect();
    assert!(
        bad.is_empty(),
        "the operator warned or failed:\n{}",
        bad.join("\n")
    );
}

/// Subscribes as docs/install.md says (channel stable, Automatic) and waits for OLM: the InstallPlan Complete, the
/// CSV Succeeded, the operator's Deployment and ServiceAccount made by OLM.
async fn install(namespace: &str, source: &str) -> Value {
    subscribe(namespace, "stable", source, "Automatic");
    let csv = csv_name(VERSION);
    let plan = install_plan_for(namespace, &csv).await;
    let plan_name = plan["metadata"]["name"].as_str().unwrap().to_string();
    eventually(
        &format!("InstallPlan {namespace}/{plan_name} to be Complete"),
        Duration::from_secs(180),
        || async {
            let plan = get(O, namespace, &format!("installplan/{plan_name}"))?;
            (plan["status"]["phase"] == "Complete").then_some(())
        },
    )
    .await;
    assert_eq!(plan["spec"]["approval"], "Automatic");
    let succeeded = csv_succeeded(namespace, &csv).await;
    installed(namespace, &csv).await;
    let deployment = get(O, namespace, "deployment/zot-operator").expect("OLM made the Deployment");
    assert_eq!(
        deployment["metadata"]["labels"]["olm.owner"], csv,
        "the Deployment is the CSV's"
    );
    assert!(
        get(O, namespace, "serviceaccount/zot-operator").is_some(),
        "OLM made the ServiceAccount"
    );
    succeeded
}

/// Stops the operator (its pod goes with the Deployment), uninstalls, and checks that the store, its workload, its
/// volume and the data in it are all still there: the same zot pod serves the image pushed before.
async fn uninstall_keeps_the_store(
    namespace: &str,
    operator_ns: &str,
    pod_uid: &str,
    address: &str,
    image: &str,
) {
    uninstall(operator_ns, &csv_name(VERSION)).await;
    // docs/install.md: OLM removes the operator's ServiceAccount and RBAC too.
    let owned = format!("olm.owner.namespace={operator_ns},olm.owner.kind=ClusterServiceVersion");
    eventually(
        "OLM to remove the operator's ServiceAccount and RBAC",
        Duration::from_secs(120),
        || async {
            let (_, rbac, _) = kubectl(
                O,
                &[
                    "get",
                    "clusterroles,clusterrolebindings,roles,rolebindings",
                    "-A",
                    "-l",
                    &owned,
                    "-o",
                    "name",
                ],
                None,
            );
            (rbac.trim().is_empty() && get(O, operator_ns, "serviceaccount/zot-operator").is_none())
                .then_some(())
        },
    )
    .await;
    assert!(
        get(
            O,
            "default",
            "crd/zotartifactstores.artifact.zotregistry.io"
        )
        .is_some(),
        "OLM leaves the CRD"
    );
    let store = get(O, namespace, &format!("zas/{STORE}")).expect("the store is kept");
    assert!(store["metadata"]["deletionTimestamp"].is_null());
    for what in [format!("statefulset/{STORE}"), format!("service/{STORE}")] {
        assert!(get(O, namespace, &what).is_some(), "{what} is kept");
    }
    let pvcs = support::list(O, namespace, "pvc");
    assert!(
        pvcs.iter()
            .all(|p| p["metadata"]["deletionTimestamp"].is_null())
            && !pvcs.is_empty(),
        "the data volume is kept: {pvcs:?}"
    );
    let pods = wait_ready_pods(O, namespace, STORE, 1).await;
    let uid = get(O, namespace, &format!("pod/{}", pods[0].0)).unwrap()["metadata"]["uid"].clone();
    assert_eq!(uid, pod_uid, "the zot pod keeps running");
    let work = tempfile::tempdir().unwrap();
    let flags = zot(namespace, address).oras_flags();
    let mut args = vec!["pull", image, "-o", "out"];
    args.extend(flags.iter().map(String::as_str));
    oras_ok(&args, work.path());
    assert_eq!(pods[0].1, address);
}

#[tokio::test]
async fn an_all_namespaces_subscription_installs_the_operator_and_a_new_project_gets_a_registry() {
    let _alone = installs().write().await;
    let releases = Releases::new();
    let source = format!("zot-operator-all-{}", std::process::id());
    let _catalog = CatalogServer::start(&source, &releases.servable()).await;
    let operator_ns = operator_namespace("olm-all").await;
    operator_group(&operator_ns.name, None, None);
    let csv = install(&operator_ns.name, &source).await;
    assert_eq!(csv["spec"]["installModes"].as_array().unwrap().len(), 4);

    let operator = run_as_deployed(&operator_ns.name, "olm-all");
    let project = new_project("olm-artifacts", 1000710000).await;
    apply_sample(&project.name);
    let (_, pod_uid, address) = served_by_real_zot(&project.name).await;
    let work = tempfile::tempdir().unwrap();
    image_files(work.path());
    let zot = zot(&project.name, &address);
    let image = zot.reference("demo/app:v1");
    let flags = zot.oras_flags();
    push_image(
        work.path(),
        &image,
        &flags.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_clean_log(&operator);
    operator.stop();
    uninstall_keeps_the_store(&project.name, &operator_ns.name, &pod_uid, &address, &image).await;
}

/// OwnNamespace: the OperatorGroup targets the operator's own namespace, a project made for it.
#[tokio::test]
async fn an_own_namespace_install_runs_the_operator_for_its_own_namespace_only() {
    let _shared = installs().read().await;
    let releases = Releases::new();
    let source = format!("zot-operator-own-{}", std::process::id());
    let _catalog = CatalogServer::start(&source, &releases.servable()).await;
    let project = new_project("olm-own", 1000720000).await;
    operator_group(&project.name, Some(&[project.name.as_str()]), None);
    install(&project.name, &source).await;
    let operator = run_as_deployed(&project.name, "olm-own");
    let outside = new_project("olm-own-outside", 1000730000).await;
    apply_sample(&outside.name);
    apply_sample(&project.name);
    served_by_real_zot(&project.name).await;
    let other = get(O, &outside.name, &format!("zas/{STORE}")).unwrap();
    assert!(
        other["status"].is_null(),
        "a store outside the OperatorGroup's target is not the operator's: {other}"
    );
    assert_clean_log(&operator);
    operator.stop();
}

/// SingleNamespace: the operator in its namespace, the OperatorGroup targeting another one.
#[tokio::test]
async fn a_single_namespace_install_runs_the_operator_for_the_target_namespace() {
    let _shared = installs().read().await;
    let releases = Releases::new();
    let source = format!("zot-operator-single-{}", std::process::id());
    let _catalog = CatalogServer::start(&source, &releases.servable()).await;
    let operator_ns = operator_namespace("olm-single").await;
    let project = new_project("olm-single-target", 1000740000).await;
    operator_group(&operator_ns.name, Some(&[project.name.as_str()]), None);
    install(&operator_ns.name, &source).await;
    let operator = run_as_deployed(&operator_ns.name, "olm-single");
    apply_sample(&project.name);
    served_by_real_zot(&project.name).await;
    assert_clean_log(&operator);
    operator.stop();
}

/// The StatefulSet's generation and the pod's uid and restart count: what an operator upgrade must not change when
/// the new release renders the store the same.
fn workload_state(namespace: &str) -> (Value, Value, Value) {
    let sts = get(O, namespace, &format!("statefulset/{STORE}")).unwrap();
    let pods = support::registry::ready_pods(O, namespace, STORE);
    assert_eq!(pods.len(), 1, "one ready zot pod in {namespace}");
    let pod = get(O, namespace, &format!("pod/{}", pods[0].0)).unwrap();
    (
        sts["metadata"]["generation"].clone(),
        pod["metadata"]["uid"].clone(),
        pod["status"]["containerStatuses"][0]["restartCount"].clone(),
    )
}
