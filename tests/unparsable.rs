//! A store the operator cannot parse — here because the installed CRD is newer than the operator and allows a log
//! level this operator does not know — gets an Event and a condition, and never stalls the watch: other stores
//! keep being reconciled. (Own test binary: it changes the installed CRD and puts it back.)
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use std::time::Duration;

use serde_json::Value;
use support::operator::{CRD_FILE, Operator};
use support::{Flavour, TestNamespace, eventually, kubectl};

const V: Flavour = Flavour::Vanilla;
const WAIT: Duration = Duration::from_secs(120);

/// Puts the committed CRD back however the test ends.
struct RestoreCrd;
impl Drop for RestoreCrd {
    fn drop(&mut self) {
        let path = support::repo_root().join(CRD_FILE);
        let _ = kubectl(
            V,
            &[
                "apply",
                "--server-side",
                "--force-conflicts",
                "-f",
                path.to_str().unwrap(),
            ],
            None,
        );
    }
}

fn store(name: &str, log_level: &str) -> String {
    format!(
        "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: {name}\nspec:\n  logLevel: {log_level}\n"
    )
}

#[tokio::test]
async fn an_object_the_operator_cannot_parse_gets_an_event_and_a_condition_and_stalls_nothing() {
    let _operator = Operator::start(V, "unparsable", &[]);
    let _restore = RestoreCrd;
    let (ok, _, err) = kubectl(
        V,
        &[
            "patch",
            "crd",
            "zotartifactstores.artifact.zotregistry.io",
            "--type=json",
            "-p",
            r#"[{"op":"add","path":"/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/logLevel/enum/-","value":"trace"}]"#,
        ],
        None,
    );
    assert!(ok, "{err}");
    let ns = TestNamespace::new(V, "unparsable", &[]).await;
    eventually("the API server to accept logLevel trace", WAIT, || async {
        let (ok, _, _) = kubectl(
            V,
            &["apply", "-n", &ns.name, "-f", "-"],
            Some(&store("future", "trace")),
        );
        ok.then_some(())
    })
    .await;
    let condition = eventually("an InvalidObject condition", WAIT, || async {
        let (ok, out, _) = kubectl(
            V,
            &["get", "-n", &ns.name, "zas/future", "-o", "json"],
            None,
        );
        let s: Value = serde_json::from_str(&out).ok().filter(|_| ok)?;
        let c = s["status"]["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["type"] == "Ready")?
            .clone();
        (c["reason"] == "InvalidObject").then_some(c)
    })
    .await;
    assert_eq!(condition["status"], "False");
    assert!(
        condition["message"].as_str().unwrap().contains("trace"),
        "{condition}"
    );
    let (ok, events, _) = kubectl(
        V,
        &["get", "events.events.k8s.io", "-n", &ns.name, "-o", "json"],
        None,
    );
    assert!(ok);
    let events: Value = serde_json::from_str(&events).unwrap();
    assert!(
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["reason"] == "InvalidObject" && e["regarding"]["name"] == "future"),
        "no InvalidObject event: {events}"
    );
    // The watch goes on: a store the operator understands, created afterwards, becomes Ready.
    let (ok, _, err) = kubectl(
        V,
        &["apply", "-n", &ns.name, "-f", "-"],
        Some(&store("today", "info")),
    );
    assert!(ok, "{err}");
    eventually("zas/today to be Ready", WAIT, || async {
        let (ok, out, _) = kubectl(
            V,
            &[
                "get",
                "-n",
                &ns.name,
                "zas/today",
                "-o",
                "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
            ],
            None,
        );
        (ok && out == "True").then_some(())
    })
    .await;
}
