//! Platform discovery is not a one-off: installing the Prometheus Operator's ServiceMonitor CRD while the operator
//! runs turns a store's "no ServiceMonitor CRD" condition into a ServiceMonitor, and removing it again is noticed.
//! (Own test binary: it changes the cluster's CRDs, which no other test may see while it runs.)
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use std::time::Duration;

use serde_json::Value;
use support::operator::Operator;
use support::{Flavour, TestNamespace, eventually, kubectl};

const V: Flavour = Flavour::Vanilla;
const WAIT: Duration = Duration::from_secs(120);
const CRD: &str = "servicemonitors.monitoring.coreos.com";

/// Removes the CRD again however the test ends: the vanilla flavour has no monitoring CRDs.
struct RemoveCrd;
impl Drop for RemoveCrd {
    fn drop(&mut self) {
        let _ = kubectl(
            V,
            &["delete", "crd", CRD, "--ignore-not-found", "--wait=true"],
            None,
        );
    }
}

fn degraded(ns: &str) -> Option<(String, String)> {
    let (ok, out, _) = kubectl(V, &["get", "-n", ns, "zas/watched", "-o", "json"], None);
    let store: Value = serde_json::from_str(&out).ok().filter(|_| ok)?;
    let c = store["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Degraded")?;
    Some((
        c["status"].as_str()?.to_string(),
        c["message"].as_str()?.to_string(),
    ))
}

#[tokio::test]
async fn installing_the_servicemonitor_crd_while_running_gives_stores_their_servicemonitor() {
    let _ = kubectl(
        V,
        &["delete", "crd", CRD, "--ignore-not-found", "--wait=true"],
        None,
    );
    let _cleanup = RemoveCrd;
    let operator = Operator::start(V, "platform-change", &[]);
    let ns = TestNamespace::new(V, "platform", &[]).await;
    let store = "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: watched\nspec:\n  metrics:\n    prometheus:\n      serviceMonitor:\n        enabled: true\n";
    let (ok, _, err) = kubectl(V, &["apply", "-n", &ns.name, "-f", "-"], Some(store));
    assert!(ok, "{err}");
    eventually("Degraded: no ServiceMonitor CRD", WAIT, || async {
        let (status, message) = degraded(&ns.name)?;
        (status == "True" && message.contains("serviceMonitor")).then_some(())
    })
    .await;

    let dir = support::tool("monitoring.coreos.com_servicemonitors.yaml");
    let (ok, _, err) = kubectl(
        V,
        &["apply", "--server-side", "-f", dir.to_str().unwrap()],
        None,
    );
    assert!(ok, "{err}");
    eventually("the ServiceMonitor to be created", WAIT, || async {
        let (ok, _, _) = kubectl(V, &["get", "-n", &ns.name, "servicemonitor/watched"], None);
        ok.then_some(())
    })
    .await;
    eventually("Degraded to clear", WAIT, || async {
        let (status, _) = degraded(&ns.name)?;
        (status == "False").then_some(())
    })
    .await;
    assert!(
        operator.logs().contains("the platform changed"),
        "{}",
        operator.logs()
    );

    let (ok, _, err) = kubectl(V, &["delete", "crd", CRD, "--wait=true"], None);
    assert!(ok, "{err}");
    eventually("Degraded again once the CRD is gone", WAIT, || async {
        let (status, _) = degraded(&ns.name)?;
        (status == "True").then_some(())
    })
    .await;
}
