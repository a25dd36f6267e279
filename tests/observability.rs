//! The running operator, seen from outside: its reconciles arrive at a real OpenTelemetry Collector as traces whose
//! ids match its log lines, and its /metrics parse with Prometheus' own promtool while the counters move.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;
mod support_otel;

use std::time::Duration;

use serde_json::Value;
use support::operator::Operator;
use support::{Flavour, TestNamespace, eventually, kubectl};
use support_otel::Collector;

const V: Flavour = Flavour::Vanilla;
const WAIT: Duration = Duration::from_secs(120);

fn store(name: &str) -> String {
    format!(
        "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: {name}\nspec: {{}}\n"
    )
}

async fn wait_ready(ns: &str, name: &str) {
    eventually(&format!("zas/{name} to be Ready"), WAIT, || async {
        let (ok, out, _) = kubectl(
            V,
            &[
                "get",
                "-n",
                ns,
                &format!("zas/{name}"),
                "-o",
                "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
            ],
            None,
        );
        (ok && out == "True").then_some(())
    })
    .await;
}

#[tokio::test]
async fn every_reconcile_is_one_trace_with_child_spans_per_api_call_and_its_id_in_the_logs() {
    let collector = Collector::start();
    let ns = TestNamespace::new(V, "traces", &[]).await;
    let operator = Operator::start(
        V,
        "traces",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.grpc_endpoint()),
            ("OTEL_SERVICE_NAME", "zot-operator-e2e"),
            ("WATCH_NAMESPACE", &ns.name),
        ],
    );
    let (ok, _, err) = kubectl(
        V,
        &["apply", "-n", &ns.name, "-f", "-"],
        Some(&store("traced")),
    );
    assert!(ok, "{err}");
    wait_ready(&ns.name, "traced").await;
    let logs = operator.logs();
    operator.stop(); // flushes the exporter
    let spans = collector.wait_for_spans(
        &["reconcile", "apply", "patch_status"],
        Duration::from_secs(30),
    );

    // The first reconcile of the store: it created the children. The collector writes spans in
    // batches, not in the order they started, so order them by start time.
    let mut reconciles: Vec<_> = spans
        .iter()
        .filter(|s| {
            s.name() == "reconcile" && s.attribute("namespace").as_deref() == Some(ns.name.as_str())
        })
        .collect();
    assert!(
        !reconciles.is_empty(),
        "no reconcile span for namespace {}",
        ns.name
    );
    reconciles.sort_by_key(|s| s.start_time_unix_nano());
    let first = reconciles
        .iter()
        .find(|r| {
            spans.iter().any(|s| {
                s.name() == "apply"
                    && s.parent_span_id() == r.span_id()
                    && s.trace_id() == r.trace_id()
            })
        })
        .expect("a reconcile span with apply children");
    assert_eq!(
        first.parent_span_id(),
        "",
        "the reconcile span is a root span"
    );
    assert_eq!(first.attribute("store").as_deref(), Some("traced"));
    assert_eq!(first.attribute("generation").as_deref(), Some("1"));
    assert_eq!(first.attribute("result").as_deref(), Some("success"));
    assert_eq!(
        first.resource_attribute("service.name").as_deref(),
        Some("zot-operator-e2e")
    );
    let children: Vec<_> = spans
        .iter()
        .filter(|s| s.parent_span_id() == first.span_id())
        .collect();
    let kinds: Vec<String> = children
        .iter()
        .filter(|s| s.name() == "apply")
        .filter_map(|s| s.attribute("kind"))
        .collect();
    for kind in ["ServiceAccount", "Secret", "Service", "StatefulSet"] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "no apply span for {kind}: {kinds:?}"
        );
    }
    // The status is a child span of the reconcile that writes it: a new store's first status waits until it is
    // Ready or 5 s have passed, so that may be a later reconcile of the store.
    assert!(
        reconciles.iter().any(|r| spans.iter().any(|s| {
            s.name() == "patch_status"
                && s.parent_span_id() == r.span_id()
                && s.trace_id() == r.trace_id()
        })),
        "no reconcile of the store with a patch_status child span"
    );

    // The log lines written during that reconcile carry its trace id.
    let lines: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let traced: Vec<&Value> = lines
        .iter()
        .filter(|l| l["trace_id"] == first.trace_id())
        .collect();
    assert!(
        !traced.is_empty(),
        "no log line carries trace id {}:\n{logs}",
        first.trace_id()
    );
    assert!(
        traced.iter().any(|l| l["fields"]["message"] == "created"),
        "lines: {traced:?}"
    );
}

#[tokio::test]
async fn the_operators_metrics_parse_with_promtool_and_move_with_reconciles() {
    let ns = TestNamespace::new(V, "metrics", &[]).await;
    let operator = Operator::start(V, "metrics", &[("WATCH_NAMESPACE", &ns.name)]);
    let body = eventually("/metrics to answer", WAIT, || async {
        operator
            .http_get("/metrics")
            .filter(|(code, _)| *code == 200)
            .map(|(_, b)| b)
    })
    .await;
    let before = operator.metric("zot_operator_reconciliations_total", "success");
    let (ok, _, err) = kubectl(
        V,
        &["apply", "-n", &ns.name, "-f", "-"],
        Some(&store("counted")),
    );
    assert!(ok, "{err}");
    wait_ready(&ns.name, "counted").await;
    eventually("the success counter to move", WAIT, || async {
        (operator.metric("zot_operator_reconciliations_total", "success") > before).then_some(())
    })
    .await;
    eventually("the store to count as ready", WAIT, || async {
        (operator.metric("zot_operator_stores_ready", "") >= 1.0).then_some(())
    })
    .await;
    let (_, after) = operator.http_get("/metrics").unwrap();
    assert!(
        after.contains("zot_operator_reconcile_duration_seconds_bucket"),
        "{after}"
    );
    for text in [body, after] {
        let mut child = std::process::Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("promtool (Debian package prometheus, installed by hack/system-deps.sh) must be installed");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "promtool check metrics failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (code, body) = operator.http_get("/healthz").unwrap();
    assert_eq!((code, body.trim()), (200, "ok"));
    let (code, body) = operator.http_get("/readyz").unwrap();
    assert_eq!(code, 200);
    assert!(body.contains("leader"), "{body}");
    // A deleted store leaves the per-store gauges (it used to stay counted until the operator restarted).
    let (ok, _, err) = kubectl(V, &["delete", "-n", &ns.name, "zas/counted"], None);
    assert!(ok, "{err}");
    eventually("the deleted store to leave the gauges", WAIT, || async {
        (operator.metric("zot_operator_stores_ready", "") == 0.0
            && operator.metric("zot_operator_stores", "Running") == 0.0)
            .then_some(())
    })
    .await;
}
