//! Logs and traces: JSON log lines on stdout, and OpenTelemetry spans exported over OTLP/gRPC when an endpoint is
//! configured with the standard `OTEL_*` environment variables.
//!
//! [`init`] installs one global `tracing` subscriber made of three layers:
//! - a JSON formatter writing one line per event to stdout, filtered by `RUST_LOG` (default `info`); every line
//!   written inside a span carries that span's OpenTelemetry `trace_id` (32 hex digits) and `span_id` (16 hex digits);
//! - a `tracing-opentelemetry` layer (spans at `info` and above) that gives every span an OpenTelemetry identity;
//! - when an endpoint is set, an OTLP/gRPC span exporter behind the SDK's batch span processor, with a bounded queue
//!   (spans are dropped, never waited for, when it is full) and export timeouts, so a collector that is down or slow
//!   never blocks or crashes the operator. Without an endpoint nothing is exported and nothing is said about it.
//!
//! Environment variables honoured:
//! - `RUST_LOG`: log filter directives (default `info`).
//! - `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT`: the collector's OTLP/gRPC endpoint
//!   (e.g. `http://otel-collector.observability:4317`); unset or empty turns export off.
//! - `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`: must be `grpc` when set.
//! - `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`: export off even with an endpoint.
//! - `OTEL_SERVICE_NAME` (default `zot-operator`) and `OTEL_RESOURCE_ATTRIBUTES` (`key=value,...`) for the resource.
//! - Read by the OpenTelemetry SDK itself: `OTEL_EXPORTER_OTLP[_TRACES]_TIMEOUT` (default 10 s),
//!   `OTEL_EXPORTER_OTLP[_TRACES]_HEADERS`, `OTEL_TRACES_SAMPLER[_ARG]`, `OTEL_BSP_MAX_QUEUE_SIZE` (default 2048),
//!   `OTEL_BSP_SCHEDULE_DELAY` (default 5 s), `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` (default 512).
//!
//! The exporter is built on the caller's Tokio runtime: call [`init`] from inside it (e.g. in an `async fn main`
//! under `#[tokio::main]`, which is multi-threaded). Keep the returned [`TelemetryGuard`] alive for the life of the
//! process and call [`TelemetryGuard::shutdown`] before exiting, so the last spans are flushed.
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanId, TraceContextExt, TraceId, TracerProvider as _};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::resource::{
    EnvResourceDetector, ResourceDetector, TelemetryResourceDetector,
};
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing::dispatcher::WeakDispatch;
use tracing::level_filters::LevelFilter;
use tracing::{Dispatch, Event, Subscriber, span};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::fmt::format::{Format, Json, JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::{LookupSpan, Registry};
use tracing_subscriber::util::SubscriberInitExt;

/// `service.name` of the exported spans unless `OTEL_SERVICE_NAME` or `OTEL_RESOURCE_ATTRIBUTES` says otherwise.
pub const DEFAULT_SERVICE_NAME: &str = "zot-operator";

/// Name of the OpenTelemetry tracer (instrumentation scope) the operator's spans are recorded with.
const TRACER_NAME: &str = "zot-operator";

/// Upper bound for flushing and shutting the span pipeline down; past it unsent spans are dropped.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// What can go wrong while setting telemetry up. None of it is about the collector being reachable: export failures
/// are logged by the SDK and otherwise ignored.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `RUST_LOG` holds a directive the filter cannot parse.
    #[error("RUST_LOG={directives:?} is not a valid log filter: {source}")]
    ParseLogFilter {
        directives: String,
        source: tracing_subscriber::filter::ParseError,
    },
    /// The OTLP protocol asked for is not the one the operator speaks.
    #[error(
        "{variable}={value:?} is not supported: zot-operator exports traces over OTLP/gRPC only (set it to \"grpc\" or unset it)"
    )]
    UnsupportedProtocol {
        variable: &'static str,
        value: String,
    },
    /// `OTEL_TRACES_EXPORTER` names an exporter the operator does not have.
    #[error("OTEL_TRACES_EXPORTER={0:?} is not supported: use \"otlp\" or \"none\"")]
    UnsupportedExporter(String),
    /// An endpoint is set but [`init`] was called outside a Tokio runtime, where the gRPC exporter cannot live.
    #[error("OTLP export needs a Tokio runtime: call telemetry::init from inside the runtime")]
    NoTokioRuntime,
    /// The OTLP exporter rejected its configuration (for instance an endpoint that is not a URL).
    #[error("building the OTLP span exporter for {endpoint:?} failed: {source}")]
    BuildExporter {
        endpoint: String,
        source: opentelemetry_otlp::ExporterBuildError,
    },
    /// Another global `tracing` subscriber was installed first.
    #[error("installing the global tracing subscriber failed: {0}")]
    InstallSubscriber(#[source] tracing_subscriber::util::TryInitError),
}

/// Telemetry settings, normally read from the environment by [`Settings::from_env`].
#[derive(Clone, Debug)]
pub struct Settings {
    /// Log filter directives in `RUST_LOG` syntax.
    pub log_filter: String,
    /// OTLP/gRPC endpoint of the collector; `None` turns span export off.
    pub otlp_endpoint: Option<String>,
    /// Resource describing this process on every exported span (`service.name` and friends).
    pub resource: Resource,
}

impl Settings {
    /// Reads the settings from the process environment (see the module documentation for the variables).
    pub fn from_env() -> Result<Self, Error> {
        let resource = resource(
            EnvResourceDetector::new().detect(),
            nonempty_env("OTEL_SERVICE_NAME"),
        );
        Self::from_lookup(nonempty_env, resource)
    }

    /// Builds settings from `lookup` (an environment: name → non-empty value) and an already detected resource.
    fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        resource: Resource,
    ) -> Result<Self, Error> {
        for variable in [
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ] {
            if let Some(value) = lookup(variable) {
                if value.trim() != "grpc" {
                    return Err(Error::UnsupportedProtocol { variable, value });
                }
                break;
            }
        }
        let disabled =
            lookup("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        let exporter_on =
            match lookup("OTEL_TRACES_EXPORTER").map(|v| v.trim().to_ascii_lowercase()) {
                None => true,
                Some(v) if v == "otlp" => true,
                Some(v) if v == "none" => false,
                Some(v) => return Err(Error::UnsupportedExporter(v)),
            };
        let endpoint = lookup("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .or_else(|| lookup("OTEL_EXPORTER_OTLP_ENDPOINT"));
        Ok(Self {
            log_filter: lookup("RUST_LOG").unwrap_or_else(|| "info".to_owned()),
            otlp_endpoint: endpoint.filter(|_| exporter_on && !disabled),
            resource,
        })
    }
}

fn nonempty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The resource of the exported spans: `service.name` = [`DEFAULT_SERVICE_NAME`] and `service.version` = the crate
/// version, overridden by the attributes from `OTEL_RESOURCE_ATTRIBUTES` (`from_env`), overridden in turn by
/// `OTEL_SERVICE_NAME` (`service_name`), as the OpenTelemetry specification orders them. The SDK's `telemetry.sdk.*`
/// attributes are added too.
fn resource(from_env: Resource, service_name: Option<String>) -> Resource {
    let mut builder = Resource::builder_empty()
        .with_attributes([
            KeyValue::new("service.name", DEFAULT_SERVICE_NAME),
            KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
        ])
        .with_detector(Box::new(TelemetryResourceDetector))
        .with_attributes(
            from_env
                .iter()
                .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
        );
    if let Some(name) = service_name {
        builder = builder.with_service_name(name);
    }
    builder.build()
}

/// Keeps the span pipeline alive; flushes and shuts it down when dropped or on [`TelemetryGuard::shutdown`].
///
/// Prefer `shutdown().await`: dropping the guard waits (at most 5 s) on the dropping thread, which on a
/// current-thread runtime is the thread the exporter's connection needs, so the flush then times out.
#[must_use = "dropping the guard stops span export"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
    exporting: bool,
}

impl fmt::Debug for TelemetryGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelemetryGuard")
            .field("exporting", &self.exporting)
            .finish_non_exhaustive()
    }
}

impl TelemetryGuard {
    /// Whether spans are being exported to a collector.
    pub fn exporting(&self) -> bool {
        self.exporting
    }

    /// Flushes the spans still queued and shuts the exporter down, waiting at most a few seconds. The wait happens
    /// on a blocking thread, so the runtime keeps serving the exporter's connection meanwhile.
    pub async fn shutdown(mut self) {
        if let Some(provider) = self.provider.take() {
            let exporting = self.exporting;
            if tokio::task::spawn_blocking(move || shutdown_provider(&provider, exporting))
                .await
                .is_err()
            {
                tracing::warn!("shutting the span exporter down panicked");
            }
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            shutdown_provider(&provider, self.exporting);
        }
    }
}

fn shutdown_provider(provider: &SdkTracerProvider, exporting: bool) {
    let result = provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT);
    if let (Err(error), true) = (result, exporting) {
        tracing::warn!(%error, "flushing spans to the OpenTelemetry collector failed; they are lost");
    }
}

/// Installs the global subscriber described in the module documentation, with settings from the environment and
/// logs on stdout. Call it once, early, from inside the Tokio runtime.
pub fn init() -> Result<TelemetryGuard, Error> {
    let settings = Settings::from_env()?;
    init_with(&settings)
}

/// Like [`init`], with explicit settings.
pub fn init_with(settings: &Settings) -> Result<TelemetryGuard, Error> {
    let (subscriber, guard) = subscriber(settings, std::io::stdout)?;
    if let Some(provider) = &guard.provider {
        opentelemetry::global::set_tracer_provider(provider.clone());
    }
    subscriber.try_init().map_err(Error::InstallSubscriber)?;
    Ok(guard)
}

/// Builds the subscriber (not installed) and the guard of its span pipeline; logs go to `writer`.
fn subscriber<W>(
    settings: &Settings,
    writer: W,
) -> Result<(impl Subscriber + Send + Sync + 'static, TelemetryGuard), Error>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let log_filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::INFO.into())
        .parse(&settings.log_filter)
        .map_err(|source| Error::ParseLogFilter {
            directives: settings.log_filter.clone(),
            source,
        })?;

    let mut provider = SdkTracerProvider::builder().with_resource(settings.resource.clone());
    match &settings.otlp_endpoint {
        Some(endpoint) => {
            if tokio::runtime::Handle::try_current().is_err() {
                return Err(Error::NoTokioRuntime);
            }
            // The channel connects lazily: an unreachable collector fails exports, not this call.
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint.clone())
                .build()
                .map_err(|source| Error::BuildExporter {
                    endpoint: endpoint.clone(),
                    source,
                })?;
            // The batch processor runs on its own thread with a bounded queue: recording a span never waits.
            provider = provider.with_batch_exporter(exporter);
        }
        // Spans still get trace and span ids (for the logs), but none is recorded or exported.
        None => provider = provider.with_sampler(Sampler::AlwaysOff),
    }
    let provider = provider.build();
    let tracer = provider.tracer(TRACER_NAME);

    // Only the operator's own spans and events, not the exporter's internals (which would feed back into it).
    let otel_filter = Targets::new()
        .with_default(LevelFilter::INFO)
        .with_target("opentelemetry", LevelFilter::OFF)
        .with_target("tonic", LevelFilter::OFF)
        .with_target("h2", LevelFilter::OFF)
        .with_target("hyper", LevelFilter::OFF)
        .with_target("tower", LevelFilter::OFF);

    let dispatch = Arc::new(OnceLock::new());
    let subscriber = Registry::default()
        .with(DispatchCapture(Arc::clone(&dispatch)))
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(otel_filter),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .fmt_fields(JsonFields::new())
                .event_format(JsonWithTraceIds {
                    inner: tracing_subscriber::fmt::format().json(),
                    dispatch,
                })
                .with_writer(writer)
                .with_filter(log_filter),
        );
    let guard = TelemetryGuard {
        provider: Some(provider),
        exporting: settings.otlp_endpoint.is_some(),
    };
    Ok((subscriber, guard))
}

/// The trace id (32 lowercase hex digits) of the current span, or `None` outside any span or when telemetry is not
/// initialised. It is the id the JSON log lines carry as `trace_id` and the one exported spans have.
pub fn current_trace_id() -> Option<String> {
    tracing::Span::current()
        .with_subscriber(|(id, dispatch)| span_ids(dispatch, id))
        .flatten()
        .map(|(trace_id, _)| trace_id.to_string())
}

/// The OpenTelemetry ids of the span `id` or, when that span has none (it is below the OpenTelemetry layer's
/// level), of its nearest ancestor that has.
fn span_ids(dispatch: &Dispatch, id: &span::Id) -> Option<(TraceId, SpanId)> {
    let registry = dispatch.downcast_ref::<Registry>()?;
    let scope: Vec<span::Id> = registry.span(id)?.scope().map(|span| span.id()).collect();
    scope.iter().find_map(|id| {
        let cx = tracing_opentelemetry::get_otel_context(id, dispatch)?;
        let span = cx.span();
        let span_context = span.span_context();
        if span_context.is_valid() {
            Some((span_context.trace_id(), span_context.span_id()))
        } else {
            None
        }
    })
}

/// Hands the subscriber's [`Dispatch`] to [`JsonWithTraceIds`] when the subscriber is installed: looking the
/// dispatcher up while an event is being dispatched would find none.
struct DispatchCapture(Arc<OnceLock<WeakDispatch>>);

impl<S: Subscriber> Layer<S> for DispatchCapture {
    fn on_register_dispatch(&self, dispatch: &Dispatch) {
        // A subscriber is registered once; should it be registered again, the first dispatch stays valid.
        let _ = self.0.set(dispatch.downgrade());
    }
}

/// `tracing-subscriber`'s JSON event format plus the OpenTelemetry `trace_id` and `span_id` of the span the event
/// happened in.
struct JsonWithTraceIds {
    inner: Format<Json>,
    dispatch: Arc<OnceLock<WeakDispatch>>,
}

impl JsonWithTraceIds {
    fn ids_of(&self, event: &Event<'_>, current: Option<&span::Id>) -> Option<(TraceId, SpanId)> {
        let id = if event.is_contextual() {
            current
        } else {
            event.parent()
        }?;
        let dispatch = self.dispatch.get()?.upgrade()?;
        span_ids(&dispatch, id)
    }
}

impl<S, N> FormatEvent<S, N> for JsonWithTraceIds
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = String::new();
        self.inner
            .format_event(ctx, Writer::new(&mut line), event)?;
        // The registry's current span, not the formatter's filtered view: a line logged at `warn` inside an `info`
        // span that RUST_LOG hides still belongs to that span's trace.
        let current = ctx.current_span();
        match self.ids_of(event, current.id()) {
            Some((trace_id, span_id)) => writer.write_str(&with_ids(&line, trace_id, span_id)),
            None => writer.write_str(&line),
        }
    }
}

/// Adds `"trace_id"` and `"span_id"` members to the JSON object on `line` (the formatter writes one object and a
/// newline).
fn with_ids(line: &str, trace_id: TraceId, span_id: SpanId) -> String {
    let Some(end) = line.rfind('}') else {
        return line.to_owned();
    };
    let (object, rest) = line.split_at(end);
    let separator = if object.trim_end().ends_with('{') {
        ""
    } else {
        ","
    };
    format!("{object}{separator}\"trace_id\":\"{trace_id}\",\"span_id\":\"{span_id}\"{rest}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::io;
    use std::sync::Mutex;

    use tracing::{info, info_span, warn};

    use super::*;

    /// Log output captured in memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Captured {
        type Writer = Captured;
        fn make_writer(&'w self) -> Self::Writer {
            self.clone()
        }
    }

    impl Captured {
        fn lines(&self) -> Vec<serde_json::Value> {
            let bytes = self.0.lock().unwrap().clone();
            String::from_utf8(bytes)
                .unwrap()
                .lines()
                .map(|line| {
                    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
                })
                .collect()
        }
    }

    fn settings(log_filter: &str) -> Settings {
        Settings::from_lookup(
            move |name| (name == "RUST_LOG").then(|| log_filter.to_owned()),
            resource(Resource::builder_empty().build(), None),
        )
        .unwrap()
    }

    fn message(line: &serde_json::Value) -> &str {
        line["fields"]["message"].as_str().unwrap_or_default()
    }

    fn is_trace_id(value: &serde_json::Value) -> bool {
        value
            .as_str()
            .is_some_and(|s| s.len() == 32 && s.chars().all(|c| c.is_ascii_hexdigit()))
    }

    #[test]
    fn log_lines_inside_a_span_carry_its_trace_id_and_lines_outside_do_not() {
        let out = Captured::default();
        let (subscriber, _guard) = subscriber(&settings("info"), out.clone()).unwrap();
        let mut helper = None;
        tracing::subscriber::with_default(subscriber, || {
            info!("before");
            info_span!("reconcile", namespace = "ns", name = "store").in_scope(|| {
                info!("inside");
                helper = current_trace_id();
                info_span!("apply").in_scope(|| info!("child"));
            });
            info!("after");
        });
        let lines = out.lines();
        let by_message = |m: &str| lines.iter().find(|l| message(l) == m).unwrap();
        assert!(by_message("before").get("trace_id").is_none());
        assert!(by_message("after").get("trace_id").is_none());
        let inside = by_message("inside");
        let child = by_message("child");
        assert!(is_trace_id(&inside["trace_id"]), "{inside}");
        assert_eq!(
            inside["trace_id"], child["trace_id"],
            "a child span shares the trace"
        );
        assert_ne!(inside["span_id"], child["span_id"]);
        assert_eq!(inside["span"]["name"], "reconcile");
        assert_eq!(inside["level"], "INFO");
        assert_eq!(helper.as_deref(), inside["trace_id"].as_str());
    }

    #[test]
    fn separate_reconciles_get_separate_trace_ids() {
        let out = Captured::default();
        let (subscriber, _guard) = subscriber(&settings("info"), out.clone()).unwrap();
        tracing::subscriber::with_default(subscriber, || {
            info_span!("reconcile").in_scope(|| info!("first"));
            info_span!("reconcile").in_scope(|| info!("second"));
        });
        let lines = out.lines();
        assert_eq!(lines.len(), 2);
        assert_ne!(lines[0]["trace_id"], lines[1]["trace_id"]);
    }

    #[test]
    fn a_line_in_a_span_hidden_by_rust_log_still_carries_the_trace_id() {
        let out = Captured::default();
        let (subscriber, _guard) = subscriber(&settings("warn"), out.clone()).unwrap();
        tracing::subscriber::with_default(subscriber, || {
            info_span!("reconcile").in_scope(|| {
                info!("hidden");
                warn!("shown");
            });
        });
        let lines = out.lines();
        assert_eq!(lines.len(), 1, "RUST_LOG=warn hides info lines");
        assert!(is_trace_id(&lines[0]["trace_id"]), "{}", lines[0]);
    }

    #[test]
    fn current_trace_id_is_none_outside_a_span() {
        let (subscriber, _guard) = subscriber(&settings("info"), Captured::default()).unwrap();
        tracing::subscriber::with_default(subscriber, || assert_eq!(current_trace_id(), None));
    }

    #[test]
    fn an_invalid_rust_log_is_refused_with_its_value() {
        let err = subscriber(&settings("info,=[bad"), Captured::default())
            .err()
            .unwrap();
        assert!(err.to_string().contains("RUST_LOG=\"info,=[bad\""), "{err}");
    }

    #[test]
    fn export_is_off_without_an_endpoint_and_follows_the_traces_endpoint_first() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let from = |vars| {
            Settings::from_lookup(env(vars), Resource::builder_empty().build())
                .unwrap()
                .otlp_endpoint
        };
        assert_eq!(from(&[]), None);
        assert_eq!(
            from(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4317")]).as_deref(),
            Some("http://a:4317")
        );
        assert_eq!(
            from(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4317"),
                ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b:4317"),
            ])
            .as_deref(),
            Some("http://b:4317")
        );
        assert_eq!(
            from(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4317"),
                ("OTEL_SDK_DISABLED", "true")
            ]),
            None
        );
        assert_eq!(
            from(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4317"),
                ("OTEL_TRACES_EXPORTER", "none")
            ]),
            None
        );
        assert_eq!(
            from(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4317"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
            ])
            .as_deref(),
            Some("http://a:4317")
        );
        let err = Settings::from_lookup(
            env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")]),
            Resource::builder_empty().build(),
        )
        .err()
        .unwrap();
        assert!(matches!(err, Error::UnsupportedProtocol { .. }), "{err}");
        let err = Settings::from_lookup(
            env(&[("OTEL_TRACES_EXPORTER", "zipkin")]),
            Resource::builder_empty().build(),
        )
        .err()
        .unwrap();
        assert!(matches!(err, Error::UnsupportedExporter(_)), "{err}");
    }

    #[test]
    fn an_endpoint_outside_a_tokio_runtime_is_an_error_not_a_panic() {
        let mut settings = settings("info");
        settings.otlp_endpoint = Some("http://127.0.0.1:4317".to_owned());
        let err = subscriber(&settings, Captured::default()).err().unwrap();
        assert!(matches!(err, Error::NoTokioRuntime), "{err}");
    }

    fn attribute(resource: &Resource, key: &'static str) -> Option<String> {
        resource
            .get(&opentelemetry::Key::from_static_str(key))
            .map(|v| v.to_string())
    }

    #[test]
    fn service_name_defaults_to_zot_operator_and_the_environment_overrides_it() {
        let plain = resource(Resource::builder_empty().build(), None);
        assert_eq!(
            attribute(&plain, "service.name").as_deref(),
            Some(DEFAULT_SERVICE_NAME)
        );
        assert_eq!(
            attribute(&plain, "service.version").as_deref(),
            Some(env!("CARGO_PKG_VERSION"))
        );
        assert!(attribute(&plain, "telemetry.sdk.name").is_some());

        let from_attributes = Resource::builder_empty()
            .with_attributes([
                KeyValue::new("service.name", "from-attrs"),
                KeyValue::new("team", "platform"),
            ])
            .build();
        let r = resource(from_attributes.clone(), None);
        assert_eq!(attribute(&r, "service.name").as_deref(), Some("from-attrs"));
        assert_eq!(attribute(&r, "team").as_deref(), Some("platform"));

        let r = resource(from_attributes, Some("from-service-name".to_owned()));
        assert_eq!(
            attribute(&r, "service.name").as_deref(),
            Some("from-service-name")
        );
    }

    #[test]
    fn ids_are_added_to_the_json_object() {
        let line = "{\"a\":1}\n";
        let out = with_ids(line, TraceId::from(1u128), SpanId::from(2u64));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["trace_id"], "00000000000000000000000000000001");
        assert_eq!(v["span_id"], "0000000000000002");
        assert!(out.ends_with("}\n"));
    }
}
