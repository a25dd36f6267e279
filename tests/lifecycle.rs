//! The operator process itself: restarts converge without writing, two replicas share one Lease, SIGTERM is
//! graceful. Each test runs its own operators (own Lease, watching only the test's namespace), not the shared one of
//! tests/controller.rs.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use support::operator::{OPERATOR_NAMESPACE, Operator};
use support::{Flavour, TestNamespace, eventually, kubectl};

const V: Flavour = Flavour::Vanilla;
const WAIT: Duration = Duration::from_secs(120);

fn get(ns: &str, what: &str) -> Option<Value> {
    support::get(V, ns, what)
}

async fn wait_ready(ns: &str, name: &str) {
    eventually(&format!("zas/{name} to be Ready"), WAIT, || async {
        let store = get(ns, &format!("zas/{name}"))?;
        let ready = store["status"]["conditions"]
            .as_array()?
            .iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True");
        ready.then_some(())
    })
    .await;
}

/// resourceVersion of the store and of everything in its namespace that carries the operator's label.
fn versions(ns: &str) -> BTreeMap<String, String> {
    support::list(
        V,
        ns,
        "zas,statefulset,service,secret,serviceaccount,networkpolicy,pvc",
    )
    .iter()
    .map(|o| {
        (
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap(),
                o["metadata"]["name"].as_str().unwrap()
            ),
            o["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .to_string(),
        )
    })
    .collect()
}

const STORE: &str = "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: steady\nspec: {}\n";

#[tokio::test]
async fn an_operator_killed_mid_reconcile_converges_on_restart_and_a_resync_without_changes_writes_nothing()
 {
    let ns = TestNamespace::new(V, "restart", &[]).await;
    let first = Operator::start(V, "restart-a", &[("WATCH_NAMESPACE", &ns.name)]);
    eventually("the first operator to lead", WAIT, || async {
        first
            .http_get("/readyz")
            .filter(|(c, b)| *c == 200 && b.contains("leader"))
            .map(|_| ())
    })
    .await;
    let (ok, _, err) = kubectl(V, &["apply", "-n", &ns.name, "-f", "-"], Some(STORE));
    assert!(ok, "{err}");
    // Kill it while it applies the children (SIGKILL: no cleanup, the lease is not released).
    eventually("the first children to appear", WAIT, || async {
        get(&ns.name, "serviceaccount/steady").map(|_| ())
    })
    .await;
    first.kill();

    let second = Operator::start(V, "restart-b", &[("WATCH_NAMESPACE", &ns.name)]);
    wait_ready(&ns.name, "steady").await;
    // Let the last status write and pod updates settle, then stop it gracefully and look.
    tokio::time::sleep(Duration::from_secs(3)).await;
    second.stop();
    let before = versions(&ns.name);
    assert!(before.len() >= 6, "too few objects: {before:?}");

    let third = Operator::start(V, "restart-c", &[("WATCH_NAMESPACE", &ns.name)]);
    eventually("the new operator to reconcile the store", WAIT, || async {
        (third.metric("zot_operator_reconciliations_total", "success") >= 1.0).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = versions(&ns.name);
    assert_eq!(
        before, after,
        "a reconcile without changes wrote to the API server"
    );
    // Nor did it report a change here: Events and log lines are for real transitions, not resyncs. (The
    // operator serves every namespace; other tests' stores may be changing meanwhile.)
    let logs = third.logs();
    let changes: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["fields"]["namespace"] == ns.name.as_str())
        .filter(|l| {
            ["created", "updated", "deleted the no longer wanted"]
                .iter()
                .any(|verb| l["fields"]["message"] == *verb)
        })
        .collect();
    assert!(
        changes.is_empty(),
        "a resync without changes reported changes: {changes:#?}"
    );
    assert!(
        third.logs().contains("caches synced"),
        "log:\n{}",
        third.logs()
    );
}

#[tokio::test]
async fn two_replicas_share_one_lease_and_the_standby_takes_over() {
    let ns = TestNamespace::new(V, "leader", &[]).await;
    let lease = "leader-election-test";
    let leader =
        Operator::start_with_lease(V, "leader-one", lease, &[("WATCH_NAMESPACE", &ns.name)]);
    eventually("leader-one to hold the lease", WAIT, || async {
        let (ok, holder, _) = kubectl(
            V,
            &[
                "get",
                "lease",
                lease,
                "-n",
                OPERATOR_NAMESPACE,
                "-o",
                "jsonpath={.spec.holderIdentity}",
            ],
            None,
        );
        (ok && holder == "leader-one").then_some(())
    })
    .await;
    let standby =
        Operator::start_with_lease(V, "leader-two", lease, &[("WATCH_NAMESPACE", &ns.name)]);
    eventually("leader-two to wait as a ready standby", WAIT, || async {
        let (code, body) = standby.http_get("/readyz")?;
        (code == 200 && body.contains("standby")).then_some(())
    })
    .await;
    // Only the leader reconciles.
    let (ok, _, err) = kubectl(V, &["apply", "-n", &ns.name, "-f", "-"], Some(STORE));
    assert!(ok, "{err}");
    wait_ready(&ns.name, "steady").await;
    assert_eq!(
        standby.metric("zot_operator_reconciliations_total", "result"),
        0.0
    );
    assert!(leader.metric("zot_operator_reconciliations_total", "result") >= 1.0);

    // A graceful stop releases the lease, so the standby leads at once.
    leader.stop();
    eventually(
        "leader-two to take over",
        Duration::from_secs(30),
        || async {
            let (code, body) = standby.http_get("/readyz")?;
            (code == 200 && body.contains("leader")).then_some(())
        },
    )
    .await;
    let (_, holder, _) = kubectl(
        V,
        &[
            "get",
            "lease",
            lease,
            "-n",
            OPERATOR_NAMESPACE,
            "-o",
            "jsonpath={.spec.holderIdentity}",
        ],
        None,
    );
    assert_eq!(holder, "leader-two");
    assert!(standby.logs().contains("waiting to become the leader"));
}

#[tokio::test]
async fn a_lease_namespace_the_operator_cannot_use_fails_readyz_with_what_to_do() {
    let ns = TestNamespace::new(V, "nolease", &[]).await;
    let operator = Operator::start(
        V,
        "no-lease-namespace",
        &[
            ("WATCH_NAMESPACE", &ns.name),
            ("POD_NAMESPACE", "no-such-operator-namespace"),
        ],
    );
    // Not a warning repeated forever: /readyz fails and says what to do (create the namespace, point the Lease
    // elsewhere, or run without election), and the log has it as an error.
    let body = eventually("/readyz to fail with what to do", WAIT, || async {
        operator
            .http_get("/readyz")
            .filter(|(code, body)| *code == 503 && body.contains("--leader-elect=false"))
            .map(|(_, body)| body)
    })
    .await;
    assert!(body.contains("no-such-operator-namespace"), "{body}");
    assert!(
        operator.logs().contains("--leader-elect=false"),
        "{}",
        operator.logs()
    );
}
