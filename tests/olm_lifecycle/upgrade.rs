//! Upgrades through the channels: releases made by the generator, served as catalog updates.
use std::time::Duration;

use serde_json::Value;

use super::support::olm::{
    O, VERSION, csv_name, csv_succeeded, describe, install_plan_for, install_plans, installed,
    new_project, operator_group, run_as_deployed, subscribe, subscription,
};
use super::support::olm_catalog::{CatalogServer, Releases};
use super::support::{eventually, get, kubectl, ready};
use super::{
    STORE, apply_sample, assert_clean_log, install, installs, operator_namespace,
    served_by_real_zot, workload_state,
};

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
/// store of an upgraded install is untouched: the next release the test makes runs the same operator build with the
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

    // Three OwnNamespace installs of this release: stable (with a store), alpha, and stable with Manual approval.
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
