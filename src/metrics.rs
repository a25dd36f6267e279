//! The operator's own Prometheus metrics, served by [`crate::http`] on `/metrics` in the Prometheus text format.
//!
//! | metric | type | labels |
//! | --- | --- | --- |
//! | `zot_operator_reconciliations_total` | counter | `result` = `success` \| `error` |
//! | `zot_operator_reconcile_errors_total` | counter | `category` = the failed step's fixed category string |
//! | `zot_operator_reconcile_duration_seconds` | histogram | |
//! | `zot_operator_stores` | gauge | `phase` = `Creating` \| `Running` \| `Updating` \| `Failed` (\| `Unknown`) |
//! | `zot_operator_stores_ready` | gauge | |
//!
//! The two gauges are computed from one record per store (namespace, name), so a store reconciled many times is
//! counted once, and [`Metrics::forget_store`] takes a deleted store out.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use crate::api::v1alpha1::Phase;
use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// Content type of [`Metrics::encode`]'s output (Prometheus text exposition format 0.0.4).
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Prefix of every metric name.
const NAMESPACE: &str = "zot_operator";

/// The phases a `ZotArtifactStore` reports in `status.phase` (from [`Phase`]); each is always present in
/// `zot_operator_stores`.
pub const PHASES: [&str; 4] = [
    Phase::Creating.as_str(),
    Phase::Running.as_str(),
    Phase::Updating.as_str(),
    Phase::Failed.as_str(),
];

/// `phase` label of stores without a phase or whose phase is none of [`PHASES`].
const UNKNOWN_PHASE: &str = "Unknown";

/// Histogram buckets of a reconcile's duration, in seconds: from a no-op reconcile to one waiting on slow API calls.
const DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// Creating or registering a metric failed (a name clash: a programming error caught by the tests).
#[derive(Debug, thiserror::Error)]
#[error("registering the operator's metrics failed: {0}")]
pub struct Error(#[from] prometheus::Error);

/// The operator's metrics. Cheap to clone: every clone updates the same registry.
#[derive(Clone, Debug)]
pub struct Metrics {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    registry: Registry,
    reconciliations: IntCounterVec,
    reconcile_errors: IntCounterVec,
    reconcile_duration: Histogram,
    stores: IntGaugeVec,
    stores_ready: IntGauge,
    cache_objects: IntGaugeVec,
    cache_text_bytes: IntGaugeVec,
    store_states: Mutex<BTreeMap<(String, String), StoreState>>,
}

/// What the gauges know about one store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct StoreState {
    phase: &'static str,
    ready: bool,
}

impl Metrics {
    /// Creates the metrics in a registry of their own, every labelled series that is known in advance set to zero.
    pub fn new() -> Result<Self, Error> {
        let registry = Registry::new();
        let reconciliations = IntCounterVec::new(
            Opts::new(
                "reconciliations_total",
                "Reconciliations of ZotArtifactStores, by result.",
            )
            .namespace(NAMESPACE),
            &["result"],
        )?;
        let reconcile_errors = IntCounterVec::new(
            Opts::new(
                "reconcile_errors_total",
                "Failed reconciliations, by the category of the step that failed.",
            )
            .namespace(NAMESPACE),
            &["category"],
        )?;
        let reconcile_duration = Histogram::with_opts(
            HistogramOpts::new(
                "reconcile_duration_seconds",
                "Time a reconciliation of a ZotArtifactStore took.",
            )
            .namespace(NAMESPACE)
            .buckets(DURATION_BUCKETS.to_vec()),
        )?;
        let stores = IntGaugeVec::new(
            Opts::new(
                "stores",
                "ZotArtifactStores known to the operator, by status phase.",
            )
            .namespace(NAMESPACE),
            &["phase"],
        )?;
        let stores_ready = IntGauge::with_opts(
            Opts::new(
                "stores_ready",
                "ZotArtifactStores whose Ready condition is True.",
            )
            .namespace(NAMESPACE),
        )?;
        let cache_objects = IntGaugeVec::new(
            Opts::new(
                "cache_objects",
                "Objects the operator holds in its watch caches, by kind (where its memory goes).",
            )
            .namespace(NAMESPACE),
            &["kind"],
        )?;
        let cache_text_bytes = IntGaugeVec::new(
            Opts::new(
                "cache_text_bytes",
                "Bytes of object text (all but the metadata) the child caches hold, by kind.",
            )
            .namespace(NAMESPACE),
            &["kind"],
        )?;
        registry.register(Box::new(cache_objects.clone()))?;
        registry.register(Box::new(cache_text_bytes.clone()))?;
        registry.register(Box::new(reconciliations.clone()))?;
        registry.register(Box::new(reconcile_errors.clone()))?;
        registry.register(Box::new(reconcile_duration.clone()))?;
        registry.register(Box::new(stores.clone()))?;
        registry.register(Box::new(stores_ready.clone()))?;
        for result in ["success", "error"] {
            reconciliations.with_label_values(&[result]);
        }
        for phase in PHASES {
            stores.with_label_values(&[phase]);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                registry,
                reconciliations,
                reconcile_errors,
                reconcile_duration,
                stores,
                stores_ready,
                cache_objects,
                cache_text_bytes,
                store_states: Mutex::new(BTreeMap::new()),
            }),
        })
    }

    /// Starts timing a reconciliation; the duration is observed when the returned timer is dropped.
    pub fn reconcile_started(&self) -> ReconcileTimer {
        ReconcileTimer {
            histogram: self.inner.reconcile_duration.clone(),
            start: Instant::now(),
        }
    }

    /// Counts a reconciliation that succeeded.
    pub fn record_success(&self) {
        self.inner
            .reconciliations
            .with_label_values(&["success"])
            .inc();
    }

    /// Counts a reconciliation that failed in the step of `category` (a fixed string such as the error's
    /// `category()`, never text built from the error itself: each distinct value is a new time series).
    pub fn record_error(&self, category: &'static str) {
        self.inner
            .reconciliations
            .with_label_values(&["error"])
            .inc();
        self.inner
            .reconcile_errors
            .with_label_values(&[category])
            .inc();
    }

    /// Records the status of the store `namespace/name`: its `status.phase` (`None`, or a phase outside
    /// [`PHASES`], is counted as `Unknown`) and whether it is ready.
    pub fn set_store_phase(&self, namespace: &str, name: &str, phase: Option<&str>, ready: bool) {
        let phase = match phase {
            None => UNKNOWN_PHASE,
            Some(p) => PHASES
                .into_iter()
                .find(|known| *known == p)
                .unwrap_or(UNKNOWN_PHASE),
        };
        let mut states = self
            .inner
            .store_states
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        states.insert(
            (namespace.to_owned(), name.to_owned()),
            StoreState { phase, ready },
        );
        self.inner.update_store_gauges(&states);
    }

    /// How many objects of `kind` the operator's caches hold.
    pub fn set_cache_objects(&self, kind: &str, count: usize) {
        self.inner
            .cache_objects
            .with_label_values(&[kind])
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// Sets how many bytes of object text the cache of `kind` holds.
    pub fn set_cache_text_bytes(&self, kind: &str, bytes: usize) {
        self.inner
            .cache_text_bytes
            .with_label_values(&[kind])
            .set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }

    /// Takes a deleted store out of the gauges.
    pub fn forget_store(&self, namespace: &str, name: &str) {
        let mut states = self
            .inner
            .store_states
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        states.remove(&(namespace.to_owned(), name.to_owned()));
        self.inner.update_store_gauges(&states);
    }

    /// Every metric in the Prometheus text exposition format (see [`CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        let mut buffer = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.inner.registry.gather(), &mut buffer) {
            tracing::warn!(%error, "encoding the operator's metrics failed; serving what was encoded");
        }
        String::from_utf8_lossy(&buffer).into_owned()
    }
}

impl Inner {
    fn update_store_gauges(&self, states: &BTreeMap<(String, String), StoreState>) {
        let count = |phase: &str| states.values().filter(|s| s.phase == phase).count();
        for phase in PHASES {
            self.stores
                .with_label_values(&[phase])
                .set(as_gauge(count(phase)));
        }
        match count(UNKNOWN_PHASE) {
            // The series may not exist: nothing to remove then.
            0 => {
                let _ = self.stores.remove_label_values(&[UNKNOWN_PHASE]);
            }
            n => self
                .stores
                .with_label_values(&[UNKNOWN_PHASE])
                .set(as_gauge(n)),
        }
        self.stores_ready
            .set(as_gauge(states.values().filter(|s| s.ready).count()));
    }
}

fn as_gauge(count: usize) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// Times one reconciliation: observes the elapsed time in `zot_operator_reconcile_duration_seconds` when dropped.
#[derive(Debug)]
#[must_use = "the duration is observed when the timer is dropped"]
pub struct ReconcileTimer {
    histogram: Histogram,
    start: Instant,
}

impl Drop for ReconcileTimer {
    fn drop(&mut self) {
        self.histogram.observe(self.start.elapsed().as_secs_f64());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::io::Write;
    use std::process::{Command, Stdio};

    use super::*;

    /// The value of the sample `series` (name plus labels exactly as encoded), if it is present.
    fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn every_metric_is_exposed_with_zeroes_before_the_first_reconcile() {
        let text = Metrics::new().unwrap().encode();
        assert_eq!(
            sample(
                &text,
                "zot_operator_reconciliations_total{result=\"success\"}"
            ),
            Some(0.0)
        );
        assert_eq!(
            sample(
                &text,
                "zot_operator_reconciliations_total{result=\"error\"}"
            ),
            Some(0.0)
        );
        assert_eq!(
            sample(&text, "zot_operator_reconcile_duration_seconds_count"),
            Some(0.0)
        );
        for phase in PHASES {
            assert_eq!(
                sample(&text, &format!("zot_operator_stores{{phase=\"{phase}\"}}")),
                Some(0.0),
                "{phase}"
            );
        }
        assert_eq!(sample(&text, "zot_operator_stores_ready"), Some(0.0));
        assert!(
            text.contains("# TYPE zot_operator_reconcile_duration_seconds histogram"),
            "{text}"
        );
    }

    #[test]
    fn reconciliations_count_successes_errors_and_error_categories() {
        let metrics = Metrics::new().unwrap();
        metrics.record_success();
        metrics.record_success();
        metrics.record_error("ApplyStatefulSet");
        metrics.clone().record_error("ApplyStatefulSet");
        metrics.record_error("PatchStatus");
        let text = metrics.encode();
        assert_eq!(
            sample(
                &text,
                "zot_operator_reconciliations_total{result=\"success\"}"
            ),
            Some(2.0)
        );
        assert_eq!(
            sample(
                &text,
                "zot_operator_reconciliations_total{result=\"error\"}"
            ),
            Some(3.0)
        );
        assert_eq!(
            sample(
                &text,
                "zot_operator_reconcile_errors_total{category=\"ApplyStatefulSet\"}"
            ),
            Some(2.0)
        );
        assert_eq!(
            sample(
                &text,
                "zot_operator_reconcile_errors_total{category=\"PatchStatus\"}"
            ),
            Some(1.0)
        );
    }

    #[test]
    fn a_dropped_timer_observes_one_duration() {
        let metrics = Metrics::new().unwrap();
        drop(metrics.reconcile_started());
        {
            let _timer = metrics.reconcile_started();
        }
        let text = metrics.encode();
        assert_eq!(
            sample(&text, "zot_operator_reconcile_duration_seconds_count"),
            Some(2.0)
        );
        assert_eq!(
            sample(
                &text,
                "zot_operator_reconcile_duration_seconds_bucket{le=\"+Inf\"}"
            ),
            Some(2.0)
        );
    }

    #[test]
    fn a_store_is_counted_once_in_its_latest_phase_and_forgotten_on_deletion() {
        let metrics = Metrics::new().unwrap();
        let stores = |phase: &str| {
            sample(
                &metrics.encode(),
                &format!("zot_operator_stores{{phase=\"{phase}\"}}"),
            )
        };
        let ready = || sample(&metrics.encode(), "zot_operator_stores_ready");

        metrics.set_store_phase("a", "one", None, false);
        assert_eq!(stores("Unknown"), Some(1.0));
        metrics.set_store_phase("a", "one", Some("Creating"), false);
        metrics.set_store_phase("b", "one", Some("Running"), true);
        metrics.set_store_phase("a", "one", Some("Running"), true);
        metrics.set_store_phase("a", "one", Some("Running"), true);
        assert_eq!(stores("Unknown").unwrap_or(0.0), 0.0);
        assert_eq!(stores("Creating"), Some(0.0));
        assert_eq!(
            stores("Running"),
            Some(2.0),
            "same name in two namespaces is two stores, each counted once"
        );
        assert_eq!(ready(), Some(2.0));

        metrics.set_store_phase("a", "one", Some("Failed"), false);
        assert_eq!(stores("Running"), Some(1.0));
        assert_eq!(ready(), Some(1.0));
        metrics.forget_store("a", "one");
        assert_eq!(stores("Failed"), Some(0.0));
        metrics.forget_store("b", "one");
        assert_eq!(stores("Running"), Some(0.0));
        assert_eq!(ready(), Some(0.0));
        metrics.forget_store("never", "seen");
    }

    #[test]
    fn an_unexpected_phase_is_counted_as_unknown_until_it_goes_away() {
        let metrics = Metrics::new().unwrap();
        metrics.set_store_phase("a", "one", Some("Exploded"), false);
        let text = metrics.encode();
        assert_eq!(
            sample(&text, "zot_operator_stores{phase=\"Unknown\"}"),
            Some(1.0)
        );
        assert!(!text.contains("Exploded"), "label values stay a fixed set");
        metrics.set_store_phase("a", "one", Some("Running"), true);
        assert_eq!(
            sample(&metrics.encode(), "zot_operator_stores{phase=\"Unknown\"}"),
            None
        );
    }

    /// `promtool` (Debian package `prometheus`) parses and lints the exposition; the test fails when it is missing,
    /// because a skipped check is no check.
    #[test]
    fn promtool_accepts_the_exposition() {
        let metrics = Metrics::new().unwrap();
        metrics.record_success();
        metrics.record_error("ApplyStatefulSet");
        metrics.set_store_phase("a", "one", Some("Running"), true);
        metrics.set_store_phase("a", "two", Some("Exploded"), false);
        drop(metrics.reconcile_started());
        let text = metrics.encode();

        let mut child = Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("promtool could not be run ({e}): install it with `apt-get install -y prometheus` (Debian)")
            });
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "promtool check metrics rejected the exposition:\n{}{}\n--- exposition ---\n{text}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
    }
}
