//! The operator's telemetry end to end: `zot_operator::telemetry::init` in a child process (so that its environment
//! is set before init, as in the operator) exporting to a real OpenTelemetry Collector built from Go modules
//! (`hack/tools.sh path otelcol`), and what its JSON log lines say.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support_otel;

use std::time::Duration;

use serde_json::Value;
use support_otel::{Collector, PROBE_ENV, ProbeRun, free_port, run_probe};
use tracing::Instrument;

const PROBE: &str = "telemetry_probe_child";
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// The child process's work: what a reconcile does with telemetry. A `reconcile` span with the store's identity and
/// its result, two child spans for API calls, log lines inside, then a flushing shutdown.
#[test]
#[ignore = "the child process of the other telemetry tests; they run it with its environment"]
fn telemetry_probe_child() {
    if std::env::var_os(PROBE_ENV).is_none() {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let guard = zot_operator::telemetry::init().expect("telemetry init");
        tracing::info!(exporting = guard.exporting(), "telemetry initialised");
        let reconcile = tracing::info_span!(
            "reconcile",
            namespace = "team-a",
            name = "registry",
            generation = 3_i64,
            result = tracing::field::Empty,
        );
        async {
            tracing::info_span!("apply").in_scope(|| tracing::info!("applied the children"));
            async { tokio::time::sleep(Duration::from_millis(5)).await }
                .instrument(tracing::info_span!("patch_status"))
                .await;
            tracing::Span::current().record("result", "success");
            let helper = zot_operator::telemetry::current_trace_id().unwrap_or_default();
            tracing::info!(helper_trace_id = %helper, "reconciled the store");
        }
        .instrument(reconcile)
        .await;
        tracing::info!("outside any span");
        guard.shutdown().await;
    });
}

fn assert_probe_succeeded(run: &ProbeRun) {
    assert!(
        run.output.status.success(),
        "the telemetry probe failed ({})\nstdout:\n{}\nstderr:\n{}",
        run.output.status,
        run.stdout(),
        run.stderr()
    );
}

fn is_trace_id(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[test]
fn a_reconcile_reaches_the_collector_as_one_trace_with_the_log_lines_trace_id() {
    let collector = Collector::start();
    let endpoint = collector.grpc_endpoint();
    let run = run_probe(
        PROBE,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "k8s.namespace.name=operators,team=platform",
            ),
        ],
        PROBE_TIMEOUT,
    );
    assert_probe_succeeded(&run);
    assert_eq!(
        run.line("telemetry initialised")["fields"]["exporting"],
        true
    );

    // The log line inside the span carries its trace id, and the helper agrees.
    let line = run.line("reconciled the store");
    assert!(is_trace_id(&line["trace_id"]), "no trace_id on {line}");
    let trace_id = line["trace_id"].as_str().unwrap();
    assert_eq!(line["fields"]["helper_trace_id"], trace_id);
    assert_eq!(run.line("applied the children")["trace_id"], trace_id);
    assert!(run.line("outside any span").get("trace_id").is_none());

    // The collector has the three spans, in one trace, with the reconcile as parent.
    let spans = collector.wait_for_spans(
        &["reconcile", "apply", "patch_status"],
        Duration::from_secs(30),
    );
    let by_name = |name: &str| {
        let matching: Vec<_> = spans.iter().filter(|s| s.name() == name).collect();
        assert_eq!(
            matching.len(),
            1,
            "expected one {name} span, got {matching:?}"
        );
        matching[0].clone()
    };
    let reconcile = by_name("reconcile");
    let apply = by_name("apply");
    let patch_status = by_name("patch_status");
    for span in [&reconcile, &apply, &patch_status] {
        assert_eq!(
            span.trace_id(),
            trace_id,
            "{} is in the log line's trace",
            span.name()
        );
    }
    assert_eq!(reconcile.parent_span_id(), "", "reconcile is the root");
    assert_eq!(apply.parent_span_id(), reconcile.span_id());
    assert_eq!(patch_status.parent_span_id(), reconcile.span_id());
    assert_eq!(
        line["span_id"],
        reconcile.span_id(),
        "the line was logged in the reconcile span"
    );

    assert_eq!(reconcile.attribute("namespace").as_deref(), Some("team-a"));
    assert_eq!(reconcile.attribute("name").as_deref(), Some("registry"));
    assert_eq!(reconcile.attribute("generation").as_deref(), Some("3"));
    assert_eq!(reconcile.attribute("result").as_deref(), Some("success"));

    // The resource: default service name, attributes from OTEL_RESOURCE_ATTRIBUTES.
    assert_eq!(
        reconcile.resource_attribute("service.name").as_deref(),
        Some("zot-operator")
    );
    assert_eq!(
        reconcile
            .resource_attribute("k8s.namespace.name")
            .as_deref(),
        Some("operators")
    );
    assert_eq!(
        reconcile.resource_attribute("team").as_deref(),
        Some("platform")
    );
}

#[test]
fn otel_service_name_names_the_exported_service() {
    let collector = Collector::start();
    let endpoint = collector.grpc_endpoint();
    let run = run_probe(
        PROBE,
        &[
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &endpoint),
            ("OTEL_SERVICE_NAME", "zot-operator-staging"),
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=ignored"),
        ],
        PROBE_TIMEOUT,
    );
    assert_probe_succeeded(&run);
    let spans = collector.wait_for_spans(&["reconcile"], Duration::from_secs(30));
    let reconcile = spans.iter().find(|s| s.name() == "reconcile").unwrap();
    assert_eq!(
        reconcile.resource_attribute("service.name").as_deref(),
        Some("zot-operator-staging")
    );
}

#[test]
fn an_unreachable_collector_neither_blocks_nor_crashes_the_operator() {
    // Nothing listens on this port: every export is refused.
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let run = run_probe(
        PROBE,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)],
        PROBE_TIMEOUT,
    );
    assert_probe_succeeded(&run);
    assert!(
        run.elapsed < Duration::from_secs(10),
        "init, spans and shutdown took {:?} with the collector down",
        run.elapsed
    );
    assert!(is_trace_id(&run.line("reconciled the store")["trace_id"]));
    // The lost spans are reported, not hidden.
    let reported = run.logs.iter().any(|l| {
        l["target"]
            .as_str()
            .is_some_and(|t| t.starts_with("opentelemetry"))
            && (l["level"] == "WARN" || l["level"] == "ERROR")
    });
    assert!(
        reported,
        "no warning about the failed export:\n{}",
        run.stdout()
    );
}

#[test]
fn a_collector_that_never_answers_delays_shutdown_by_at_most_the_flush_timeout() {
    // Connections land in the listen backlog and are never answered: every export hangs.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    let run = run_probe(
        PROBE,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)],
        PROBE_TIMEOUT,
    );
    assert_probe_succeeded(&run);
    assert!(
        run.elapsed < Duration::from_secs(15),
        "shutdown waited {:?} for a silent collector; it gives up after 5 s",
        run.elapsed
    );
    assert!(is_trace_id(&run.line("reconciled the store")["trace_id"]));
    drop(silent);
}

#[test]
fn without_an_endpoint_nothing_is_exported_and_nothing_is_said_about_it() {
    let run = run_probe(PROBE, &[], PROBE_TIMEOUT);
    assert_probe_succeeded(&run);
    assert_eq!(
        run.line("telemetry initialised")["fields"]["exporting"],
        false
    );
    // Log lines still carry trace ids, to correlate the lines of one reconcile.
    assert!(is_trace_id(&run.line("reconciled the store")["trace_id"]));
    let complaints: Vec<_> = run.logs.iter().filter(|l| l["level"] != "INFO").collect();
    assert!(complaints.is_empty(), "unexpected warnings: {complaints:?}");
    assert!(
        run.elapsed < Duration::from_secs(10),
        "took {:?}",
        run.elapsed
    );
}
