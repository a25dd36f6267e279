//! `make bench` (second part): the operator against many stores on the local cluster (BENCH_STORES, default 1000,
//! in one namespace the operator watches). Prints how fast they are first reconciled, the operator's memory, and
//! what one resync of an unchanged store costs — its duration and the API requests it makes (from the API
//! server's audit log) — with 10 stores and again with all of them: with reflector caches and no LIST per reconcile
//! the cost should not grow with the number of stores. Asserts nothing about speed.
#![allow(clippy::expect_used, clippy::unwrap_used)]
#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use support::operator::Operator;
use support::{Flavour, TestNamespace, audit_events, kubectl};

const V: Flavour = Flavour::Vanilla;
const OPERATOR_USER: &str = "system:serviceaccount:zot-operator-system:zot-operator";
/// Stores resynced for the per-resync figures.
const PROBES: usize = 10;

fn store(i: usize) -> String {
    // No pods: the figures are the operator's, not the scheduler's or kwok's.
    format!(
        "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: s-{i:05}\nspec:\n  replicas: 0\n"
    )
}

fn create(ns: &str, range: std::ops::Range<usize>) {
    let ids: Vec<usize> = range.collect();
    for chunk in ids.chunks(200) {
        let docs: Vec<String> = chunk.iter().map(|&i| store(i)).collect();
        let (ok, _, err) = kubectl(
            V,
            &["create", "-n", ns, "-f", "-"],
            Some(&docs.join("---\n")),
        );
        assert!(ok, "creating stores: {err}");
    }
}

/// How many stores of the namespace have a status for their current generation.
fn reconciled(ns: &str) -> usize {
    support::list(V, ns, "zas")
        .iter()
        .filter(|s| {
            s["status"]["observedGeneration"] == s["metadata"]["generation"]
                && !s["metadata"]["generation"].is_null()
        })
        .count()
}

fn wait_reconciled(ns: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(1800);
    let mut last = 0;
    loop {
        let done = reconciled(ns);
        if done >= n {
            return;
        }
        if done / 100 != last / 100 {
            eprintln!("  {done}/{n} reconciled");
        }
        last = done;
        assert!(
            Instant::now() < deadline,
            "only {done} of {n} stores reconciled in 30 min"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The operator's requests in the audit log after its first `since` events, by verb.
fn operator_requests(since: usize, ns: &str) -> BTreeMap<String, usize> {
    let mut verbs = BTreeMap::new();
    for e in audit_events(V).iter().skip(since) {
        if e["user"]["username"] == OPERATOR_USER
            && e["stage"] == "ResponseComplete"
            && (e["objectRef"]["namespace"] == ns || e["verb"] == "list")
        {
            *verbs
                .entry(e["verb"].as_str().unwrap_or("?").to_string())
                .or_insert(0) += 1;
        }
    }
    verbs
}

/// Touches the first PROBES stores (an annotation: no new generation, so nothing to change) and reports the mean
/// reconcile duration and the operator's API requests per resync.
fn resync_cost(operator: &Operator, ns: &str, round: &str) -> (f64, f64, BTreeMap<String, usize>) {
    std::thread::sleep(Duration::from_secs(3));
    let audit_before = audit_events(V).len();
    let count_before = operator.metric("zot_operator_reconcile_duration_seconds_count", "");
    let sum_before = operator.metric("zot_operator_reconcile_duration_seconds_sum", "");
    for i in 0..PROBES {
        let (ok, _, err) = kubectl(
            V,
            &[
                "annotate",
                "--overwrite",
                "-n",
                ns,
                &format!("zas/s-{i:05}"),
                &format!("bench/round={round}"),
            ],
            None,
        );
        assert!(ok, "{err}");
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while operator.metric("zot_operator_reconcile_duration_seconds_count", "")
        < count_before + PROBES as f64
    {
        assert!(
            Instant::now() < deadline,
            "the touched stores were not reconciled"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The audit log is written asynchronously.
    std::thread::sleep(Duration::from_secs(3));
    let count = operator.metric("zot_operator_reconcile_duration_seconds_count", "") - count_before;
    let sum = operator.metric("zot_operator_reconcile_duration_seconds_sum", "") - sum_before;
    let verbs = operator_requests(audit_before, ns);
    let requests: usize = verbs.values().sum();
    (sum / count * 1000.0, requests as f64 / count, verbs)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: usize = std::env::var("BENCH_STORES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
        .max(PROBES);
    println!(
        "zot-operator at scale: {n} stores (BENCH_STORES) in one watched namespace of the local cluster"
    );
    // A thousand real zot processes would not fit the machine: the operator's cost is measured, not zot's.
    let ns = TestNamespace::new(V, "scale", &[support::SIMULATED_PODS]).await;
    let operator = Operator::start(V, "bench-scale", &[("WATCH_NAMESPACE", &ns.name)]);

    create(&ns.name, 0..PROBES);
    wait_reconciled(&ns.name, PROBES);
    let small = resync_cost(&operator, &ns.name, "small");

    let start = Instant::now();
    create(&ns.name, PROBES..n);
    let created = start.elapsed();
    wait_reconciled(&ns.name, n);
    let all = start.elapsed();
    let memory = operator.memory_kib();
    let large = resync_cost(&operator, &ns.name, "large");

    let rate = (n - PROBES) as f64 / all.as_secs_f64();
    println!(
        "{:<58} {:>10.1} s",
        format!("create {} more stores (kubectl create)", n - PROBES),
        created.as_secs_f64()
    );
    println!(
        "{:<58} {:>10.1} s  ({rate:.0} stores/s)",
        "... until every store is reconciled",
        all.as_secs_f64()
    );
    if let Some((rss, peak)) = memory {
        println!(
            "{:<58} {:>10.1} MiB (peak {:.1} MiB)",
            format!("operator memory with {n} stores"),
            rss as f64 / 1024.0,
            peak as f64 / 1024.0
        );
    }
    for (label, (millis, requests, verbs)) in [(PROBES, small), (n, large)] {
        println!(
            "{:<58} {:>10.1} ms, {requests:.1} API requests {verbs:?}",
            format!("one resync of an unchanged store, {label} stores"),
            millis
        );
    }
    drop(operator);
}
