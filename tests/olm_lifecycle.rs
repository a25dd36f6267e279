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

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Value, json};
use support::olm::{
    CatalogServer, O, Releases, VERSION, apply_object, csv_name, csv_succeeded, describe,
    install_plan_for, install_plans, installed, new_project, olm_condition, operator_group,
    run_as_deployed, subscribe, subscription, uninstall,
};
use support::registry::{http, image_files, oras_ok, push_image, wait_ready_pods};
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

/// Waits until the minimal store of `namespace` is Ready and served by a real zot process (zot answers /v2/ at the
/// pod's address); returns the pod's (name, uid, address).
async fn served_by_real_zot(namespace: &str) -> (String, String, String) {
    ready(O, namespace, STORE).await;
    let pods = wait_ready_pods(O, namespace, STORE, 1).await;
    let (pod, address) = pods[0].clone();
    assert_eq!(
        http("GET", &format!("http://{address}:5000/v2/"), &[]).0,
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
    oras_ok(&["pull", image, "--plain-http", "-o", "out"], work.path());
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
    let image = format!("{address}:5000/demo/app:v1");
    push_image(work.path(), &image, &["--plain-http"]);
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

/// Waits until the Subscription installed `csv`, the CSV Succeeded and the CSV it replaced is gone.
async fn upgraded(namespace: &str, csv: &str, from: &str) -> Value {
    installed(namespace, csv).await;
    let new = csv_succeeded(namespace, csv).await;
    eventually(
        &format!("OLM to delete the replaced CSV {from} in {namespace}"),
        Duration::from_secs(120),
        || async {
            get(O, namespace, &format!("csv/{from}"))
                .is_none()
                .then_some(())
        },
    )
    .await;
    new
}

fn approve(namespace: &str, plan: &str) {
    let (ok, _, err) = kubectl(
        O,
        &[
            "patch",
            "installplan",
            plan,
            "-n",
            namespace,
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"approved":true}}"#,
        ],
        None,
    );
    assert!(ok, "approving {namespace}/{plan}: {err}");
}

/// Releases made by the generator go through the channels as docs/install.md says: a pre-release reaches `alpha`
/// subscribers only, the next release every subscriber (replacing the installed one: `replaces` in stable, the
/// pre-release's replacement in alpha), a Manual subscription waits for its InstallPlan to be approved, and the
/// store of an upgraded install is untouched: the 0.2.0 bundle the test makes runs the same operator build with the
/// same RELATED_IMAGE_ZOT, so it renders the store identically and its zot pod must not restart.
#[tokio::test]
async fn releases_upgrade_subscriptions_through_their_channels() {
    let _shared = installs().read().await;
    let releases = Releases::new();
    let source = format!("zot-operator-upgrade-{}", std::process::id());
    let mut catalog = CatalogServer::start(&source, &releases.servable()).await;
    let first = csv_name(VERSION);
    let current = semver::Version::parse(VERSION).unwrap();
    let next = semver::Version::new(current.major, current.minor + 1, 0).to_string();
    let rc = format!("{next}-rc.1");

    // Three OwnNamespace installs of 0.1.0: stable (with a store), alpha, and stable with Manual approval.
    let stable = new_project("olm-up-stable", 1000750000).await;
    let alpha = operator_namespace("olm-up-alpha").await;
    let manual = operator_namespace("olm-up-manual").await;
    for ns in [&stable, &alpha, &manual] {
        operator_group(&ns.name, Some(&[ns.name.as_str()]), None);
    }
    subscribe(&alpha.name, "alpha", &source, "Automatic");
    subscribe(&manual.name, "stable", &source, "Manual");
    install(&stable.name, &source).await;
    let plan = install_plan_for(&manual.name, &first).await;
    assert_eq!(
        plan["spec"]["approved"], false,
        "Manual: the first install waits too"
    );
    approve(&manual.name, plan["metadata"]["name"].as_str().unwrap());
    for ns in [&alpha, &manual] {
        csv_succeeded(&ns.name, &first).await;
        installed(&ns.name, &first).await;
    }
    let operator = run_as_deployed(&stable.name, "olm-upgrade");
    apply_sample(&stable.name);
    served_by_real_zot(&stable.name).await;
    let before = workload_state(&stable.name);
    operator.stop();

    // A pre-release: alpha only.
    releases.release(&rc);
    catalog.serve(&releases.servable()).await;
    let alpha_csv = upgraded(&alpha.name, &csv_name(&rc), &first).await;
    assert_eq!(alpha_csv["spec"]["replaces"], first);
    tokio::time::sleep(Duration::from_secs(10)).await;
    for ns in [&stable, &manual] {
        let sub = subscription(&ns.name);
        assert_eq!(
            sub["status"]["installedCSV"],
            first,
            "{}",
            describe(&ns.name)
        );
        assert_eq!(
            sub["status"]["state"],
            "AtLatestKnown",
            "{}",
            describe(&ns.name)
        );
        assert!(
            install_plans(&ns.name).len() == 1,
            "no InstallPlan for a pre-release on stable: {}",
            describe(&ns.name)
        );
    }

    // The release: everyone, the Manual one once approved.
    releases.release(&next);
    catalog.serve(&releases.servable()).await;
    let stable_csv = upgraded(&stable.name, &csv_name(&next), &first).await;
    assert_eq!(stable_csv["spec"]["replaces"], first);
    assert_eq!(
        stable_csv["metadata"]["annotations"]["olm.skipRange"],
        format!(">={VERSION} <{next}")
    );
    upgraded(&alpha.name, &csv_name(&next), &csv_name(&rc)).await;
    let held = install_plan_for(&manual.name, &csv_name(&next)).await;
    let held_name = held["metadata"]["name"].as_str().unwrap().to_string();
    eventually(
        "the Manual subscription's upgrade to wait for approval",
        Duration::from_secs(60),
        || async {
            let plan = get(O, &manual.name, &format!("installplan/{held_name}"))?;
            let sub = subscription(&manual.name);
            (plan["status"]["phase"] == "RequiresApproval"
                && sub["status"]["state"] == "UpgradePending")
                .then_some(())
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(subscription(&manual.name)["status"]["installedCSV"], first);
    assert!(get(O, &manual.name, &format!("csv/{}", csv_name(&next))).is_none());
    assert_eq!(
        get(O, &manual.name, &format!("csv/{first}")).unwrap()["status"]["phase"],
        "Succeeded"
    );
    approve(&manual.name, &held_name);
    upgraded(&manual.name, &csv_name(&next), &first).await;

    // The store: untouched by the upgrade, and the upgraded operator (OLM's new Deployment and RBAC) keeps it Ready.
    assert_eq!(
        workload_state(&stable.name),
        before,
        "the upgrade restarted nothing"
    );
    let operator = run_as_deployed(&stable.name, "olm-upgrade");
    ready(O, &stable.name, STORE).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        workload_state(&stable.name),
        before,
        "the upgraded operator renders the store as before"
    );
    assert_clean_log(&operator);
    operator.stop();
}

/// A Subscription to a channel the package does not have: OLM says so on the Subscription (ResolutionFailed) and
/// installs nothing.
#[tokio::test]
async fn a_subscription_to_a_channel_that_does_not_exist_fails_resolution() {
    let _shared = installs().read().await;
    let releases = Releases::new();
    let source = format!("zot-operator-nochannel-{}", std::process::id());
    let _catalog = CatalogServer::start(&source, &releases.servable()).await;
    let ns = operator_namespace("olm-nochannel").await;
    operator_group(&ns.name, Some(&[ns.name.as_str()]), None);
    subscribe(&ns.name, "nightly", &source, "Automatic");
    let (status, reason, message) = eventually(
        "the Subscription's ResolutionFailed condition",
        Duration::from_secs(120),
        || async { olm_condition(&subscription(&ns.name), "ResolutionFailed") },
    )
    .await;
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("True", "ConstraintsNotSatisfiable"),
        "{message}"
    );
    assert!(message.contains("nightly"), "{message}");
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(install_plans(&ns.name).is_empty(), "{}", describe(&ns.name));
    assert!(
        support::list(O, &ns.name, "csv").is_empty(),
        "{}",
        describe(&ns.name)
    );
    assert!(get(O, &ns.name, "deployment/zot-operator").is_none());
}

/// A catalog update whose channel head does not replace (nor skip) the installed version: OLM has no upgrade path,
/// keeps the installed CSV and creates no InstallPlan; the installed operator keeps serving its store.
#[tokio::test]
async fn a_channel_head_that_does_not_replace_the_installed_version_is_not_installed() {
    let _shared = installs().read().await;
    let releases = Releases::new();
    let source = format!("zot-operator-noreplace-{}", std::process::id());
    let mut catalog = CatalogServer::start(&source, &releases.servable()).await;
    let project = new_project("olm-noreplace", 1000760000).await;
    operator_group(&project.name, Some(&[project.name.as_str()]), None);
    install(&project.name, &source).await;
    let operator = run_as_deployed(&project.name, "olm-noreplace");
    apply_sample(&project.name);
    served_by_real_zot(&project.name).await;
    let before = workload_state(&project.name);

    let current = semver::Version::parse(VERSION).unwrap();
    let next = semver::Version::new(current.major, current.minor + 1, 0).to_string();
    releases.release(&next);
    // The new head as a broken release process would publish it: the installed release dropped from the channels,
    // and no `replaces` or `skipRange` that reaches it.
    let mut docs = releases.servable();
    for doc in &mut docs {
        if doc["schema"] == "olm.channel" {
            let entries = doc["entries"].as_array_mut().unwrap();
            entries.retain(|e| e["name"] != csv_name(VERSION));
            for entry in entries {
                entry.as_object_mut().unwrap().remove("replaces");
                entry["skipRange"] = json!(format!(">={next}-0 <{next}"));
            }
        }
    }
    docs.retain(|d| d["name"] != csv_name(VERSION));
    catalog.serve(&docs).await;
    tokio::time::sleep(Duration::from_secs(20)).await;
    // OLM shows no error for it: the Subscription stays AtLatestKnown on the installed CSV (its currentCSV too),
    // with no ResolutionFailed condition, and the catalog healthy.
    let sub = subscription(&project.name);
    assert_eq!(
        sub["status"]["state"],
        "AtLatestKnown",
        "{}",
        describe(&project.name)
    );
    assert_eq!(
        sub["status"]["currentCSV"],
        csv_name(VERSION),
        "{}",
        describe(&project.name)
    );
    assert_eq!(
        olm_condition(&sub, "ResolutionFailed")
            .map(|c| c.0)
            .as_deref()
            .unwrap_or("False"),
        "False"
    );
    assert_eq!(
        olm_condition(&sub, "CatalogSourcesUnhealthy")
            .map(|c| c.0)
            .as_deref(),
        Some("False")
    );
    assert_eq!(
        sub["status"]["installedCSV"],
        csv_name(VERSION),
        "{}",
        describe(&project.name)
    );
    assert_eq!(
        install_plans(&project.name).len(),
        1,
        "{}",
        describe(&project.name)
    );
    assert!(get(O, &project.name, &format!("csv/{}", csv_name(&next))).is_none());
    assert_eq!(
        get(O, &project.name, &format!("csv/{}", csv_name(VERSION))).unwrap()["status"]["phase"],
        "Succeeded"
    );
    ready(O, &project.name, STORE).await;
    assert_eq!(workload_state(&project.name), before);
    assert_clean_log(&operator);
    operator.stop();
}

/// A scoped install (the OperatorGroup's serviceAccountName) whose ServiceAccount may do everything the CSV asks
/// but manage Routes: OLM cannot grant the CSV's Route permissions with it, so the InstallPlan stays Installing and
/// says why (OLM never fails a plan on a forbidden step), the CSV stays Pending, no operator Deployment is made; once
/// the ServiceAccount gets the permission, OLM completes the same plan.
#[tokio::test]
async fn a_csv_asking_for_more_than_the_operator_group_grants_holds_the_install_plan_until_granted()
{
    let _shared = installs().read().await;
    let releases = Releases::new();
    let source = format!("zot-operator-scoped-{}", std::process::id());
    let _catalog = CatalogServer::start(&source, &releases.servable()).await;
    let ns = operator_namespace("olm-scoped").await;
    let strategy = support::yaml_docs(
        &std::fs::read_to_string(
            support::repo_root().join("bundle/manifests/zot-operator.clusterserviceversion.yaml"),
        )
        .unwrap(),
    )[0]["spec"]["install"]["spec"]
        .clone();
    let mut rules: Vec<Value> = strategy["clusterPermissions"][0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["apiGroups"][0] != "route.openshift.io")
        .cloned()
        .collect();
    rules.extend(
        strategy["permissions"][0]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .cloned(),
    );
    // What OLM's scoped-install documentation gives the ServiceAccount to install with.
    rules.extend([
        json!({"apiGroups": ["operators.coreos.com"], "resources": ["*"], "verbs": ["*"]}),
        json!({"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": ["*"]}),
        // Not "*", which includes escalate and bind: those would let it grant what it does not hold.
        json!({"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles", "clusterrolebindings", "roles", "rolebindings"],
            "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]}),
        json!({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]}),
        json!({"apiGroups": [""], "resources": ["serviceaccounts", "services", "configmaps", "secrets"], "verbs": ["*"]}),
    ]);
    let role = format!("{}-installer", ns.name);
    let _cleanup = ClusterObjects(vec![
        format!("clusterrole/{role}"),
        format!("clusterrolebinding/{role}"),
    ]);
    apply_object(&json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "installer", "namespace": ns.name}}));
    apply_object(
        &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": role}, "rules": rules}),
    );
    apply_object(
        &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": role},
        "subjects": [{"kind": "ServiceAccount", "name": "installer", "namespace": ns.name}],
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}}),
    );
    operator_group(&ns.name, Some(&[ns.name.as_str()]), Some("installer"));
    subscribe(&ns.name, "stable", &source, "Automatic");
    let plan = install_plan_for(&ns.name, &csv_name(VERSION)).await;
    let plan_name = plan["metadata"]["name"].as_str().unwrap().to_string();
    // A forbidden step is never terminal for OLM (the ServiceAccount may get the permission later): the plan stays
    // Installing and its message says what was refused.
    let plan = eventually(
        &format!(
            "InstallPlan {}/{plan_name} to say why it cannot install",
            ns.name
        ),
        Duration::from_secs(120),
        || async {
            let plan = get(O, &ns.name, &format!("installplan/{plan_name}"))?;
            let message = plan["status"]["message"].as_str()?;
            message.contains("forbidden").then_some(plan)
        },
    )
    .await;
    assert_eq!(plan["status"]["phase"], "Installing");
    let message = plan["status"]["message"].as_str().unwrap();
    for expected in [
        "retrying execution due to error: error creating clusterrole",
        &format!("user \"system:serviceaccount:{}:installer\"", ns.name),
        "is attempting to grant RBAC permissions not currently held",
        r#"{APIGroups:["route.openshift.io"], Resources:["routes"]"#,
        r#"Resources:["routes/custom-host"]"#,
    ] {
        assert!(
            message.contains(expected),
            "the InstallPlan's message names {expected}: {message}"
        );
    }
    let pending = olm_condition(&subscription(&ns.name), "InstallPlanPending");
    assert_eq!(
        pending.as_ref().map(|(s, r, _)| (s.as_str(), r.as_str())),
        Some(("True", "Installing")),
        "{pending:?}"
    );
    // The operator got neither its cluster permissions nor a Deployment: nothing runs for this install.
    let owned = format!(
        "olm.owner.namespace={},olm.owner.kind=ClusterServiceVersion",
        ns.name
    );
    let (_, roles, _) = kubectl(
        O,
        &["get", "clusterroles", "-l", &owned, "-o", "name"],
        None,
    );
    assert_eq!(roles.trim(), "", "no ClusterRole for the CSV");
    assert!(
        get(O, &ns.name, "deployment/zot-operator").is_none(),
        "{}",
        describe(&ns.name)
    );
    let csv = get(O, &ns.name, &format!("csv/{}", csv_name(VERSION))).unwrap();
    assert_eq!(csv["status"]["phase"], "Pending", "{}", describe(&ns.name));
    assert_eq!(
        csv["status"]["reason"],
        "RequirementsNotMet",
        "{}",
        describe(&ns.name)
    );

    // Granting the missing permission lets OLM finish the same plan.
    let mut all = rules.clone();
    all.extend(
        strategy["clusterPermissions"][0]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .cloned(),
    );
    apply_object(
        &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": role}, "rules": all}),
    );
    csv_succeeded(&ns.name, &csv_name(VERSION)).await;
    eventually(
        &format!("InstallPlan {}/{plan_name} to complete", ns.name),
        Duration::from_secs(60),
        || async {
            let plan = get(O, &ns.name, &format!("installplan/{plan_name}"))?;
            (plan["status"]["phase"] == "Complete").then_some(())
        },
    )
    .await;
}

/// Cluster-scoped objects of one test, deleted when it ends.
struct ClusterObjects(Vec<String>);

impl Drop for ClusterObjects {
    fn drop(&mut self) {
        for object in &self.0 {
            let _ = kubectl(
                O,
                &["delete", object, "--ignore-not-found", "--wait=false"],
                None,
            );
        }
    }
}

/// docs/install.md: several target namespaces (MultiNamespace, which the CSV does not support) are refused by OLM
/// with UnsupportedOperatorGroup on the CSV, and no operator Deployment is made.
#[tokio::test]
async fn an_operator_group_with_several_targets_is_refused_as_unsupported() {
    let _shared = installs().read().await;
    let releases = Releases::new();
    let source = format!("zot-operator-multi-{}", std::process::id());
    let _catalog = CatalogServer::start(&source, &releases.servable()).await;
    let ns = operator_namespace("olm-multi").await;
    let other = new_project("olm-multi-other", 1000770000).await;
    operator_group(
        &ns.name,
        Some(&[ns.name.as_str(), other.name.as_str()]),
        None,
    );
    subscribe(&ns.name, "stable", &source, "Automatic");
    let csv = eventually(
        "OLM to refuse the CSV for its OperatorGroup",
        Duration::from_secs(180),
        || async {
            let csv = get(O, &ns.name, &format!("csv/{}", csv_name(VERSION)))?;
            (csv["status"]["phase"] == "Failed").then_some(csv)
        },
    )
    .await;
    assert_eq!(
        csv["status"]["reason"], "UnsupportedOperatorGroup",
        "{}",
        csv["status"]
    );
    assert!(
        get(O, &ns.name, "deployment/zot-operator").is_none(),
        "{}",
        describe(&ns.name)
    );
}
