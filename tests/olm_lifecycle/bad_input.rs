//! Bad input, as OLM shows it: a channel that does not exist, a channel head that does not replace the installed
//! version, a CSV asking for more than a scoped OperatorGroup grants, an OperatorGroup with several targets.
use std::time::Duration;

use serde_json::{Value, json};

use super::support::olm::{
    O, VERSION, apply_object, csv_name, csv_succeeded, describe, install_plan_for, install_plans,
    new_project, olm_condition, operator_group, run_as_deployed, subscribe, subscription,
};
use super::support::olm_catalog::{CatalogServer, Releases};
use super::support::{eventually, get, kubectl, ready};
use super::{
    STORE, apply_sample, assert_clean_log, install, installs, operator_namespace,
    served_by_real_zot, workload_state,
};

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
    // OLM resolves against every global catalog: while another test restarts its catalog server, the reason is
    // ErrorPreventedResolution for a moment. The answer about this package's channel comes once they all answer.
    let (status, reason, message) = eventually(
        "the Subscription's ResolutionFailed condition with reason ConstraintsNotSatisfiable",
        Duration::from_secs(120),
        || async {
            olm_condition(&subscription(&ns.name), "ResolutionFailed")
                .filter(|(_, reason, _)| reason == "ConstraintsNotSatisfiable")
        },
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
        super::support::list(O, &ns.name, "csv").is_empty(),
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
    let strategy = super::support::yaml_docs(
        &std::fs::read_to_string(
            super::support::repo_root()
                .join("bundle/manifests/zot-operator.clusterserviceversion.yaml"),
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
