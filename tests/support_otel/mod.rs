//! Test support for the telemetry tests: a real OpenTelemetry Collector (built by `hack/tools.sh`) receiving OTLP on
//! free loopback ports and writing what it receives to a file, the spans read back from that file, and a child
//! process of the test binary that runs the operator's telemetry with a given environment.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Environment variable that turns the probe test into the child process's work.
pub const PROBE_ENV: &str = "ZOT_OPERATOR_TELEMETRY_PROBE";

/// Path of the collector binary, built on first use; a tool that cannot be built fails the test that needs it.
pub fn otelcol_binary() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let out = Command::new(root.join("hack/tools.sh"))
            .args(["path", "otelcol"])
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("could not run hack/tools.sh to build the OpenTelemetry Collector: {e}"));
        assert!(
            out.status.success(),
            "`hack/tools.sh path otelcol` failed ({}): the OpenTelemetry Collector could not be built from \
             hack/otelcol; see its messages above",
            out.status
        );
        let path = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
        assert!(path.is_file(), "hack/tools.sh printed {path:?}, which is not a file");
        path
    })
    .clone()
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running collector: OTLP/gRPC and OTLP/HTTP on loopback, received spans appended to a JSON-lines file.
pub struct Collector {
    child: Child,
    dir: tempfile::TempDir,
    grpc_port: u16,
}

impl Collector {
    /// Starts the collector and waits until its gRPC port accepts connections.
    pub fn start() -> Self {
        let binary = otelcol_binary();
        let dir = tempfile::tempdir().unwrap();
        let grpc_port = free_port();
        let http_port = free_port();
        let config = format!(
            r#"receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc_port}
      http:
        endpoint: 127.0.0.1:{http_port}
exporters:
  file:
    path: {spans}
    flush_interval: 100ms
service:
  telemetry:
    logs:
      level: info
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [file]
"#,
            spans = dir.path().join("spans.jsonl").display(),
        );
        let config_path = dir.path().join("config.yaml");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(dir.path().join("collector.log")).unwrap();
        let child = Command::new(&binary)
            .arg("--config")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start the collector {binary:?}: {e}"));
        let mut collector = Self {
            child,
            dir,
            grpc_port,
        };
        collector.wait_listening(Duration::from_secs(60));
        collector
    }

    fn wait_listening(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if TcpStream::connect(("127.0.0.1", self.grpc_port)).is_ok() {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "the collector exited ({status}) before listening:\n{}",
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the collector did not listen within {timeout:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The collector's own log (stdout and stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("collector.log")).unwrap_or_default()
    }

    /// `OTEL_EXPORTER_OTLP_ENDPOINT` value for its OTLP/gRPC receiver.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc_port)
    }

    /// Every span received so far, with the resource it came with.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        let text = std::fs::read_to_string(self.dir.path().join("spans.jsonl")).unwrap_or_default();
        let mut spans = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let request: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("the file exporter wrote non-JSON ({e}): {line}"));
            for resource_spans in request["resourceSpans"].as_array().into_iter().flatten() {
                for scope_spans in resource_spans["scopeSpans"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    for span in scope_spans["spans"].as_array().into_iter().flatten() {
                        spans.push(ReceivedSpan {
                            resource: resource_spans["resource"].clone(),
                            span: span.clone(),
                        });
                    }
                }
            }
        }
        spans
    }

    /// Waits until spans with every one of `names` have arrived, and returns all spans received.
    pub fn wait_for_spans(&self, names: &[&str], timeout: Duration) -> Vec<ReceivedSpan> {
        let deadline = Instant::now() + timeout;
        loop {
            let spans = self.spans();
            if names.iter().all(|n| spans.iter().any(|s| s.name() == *n)) {
                return spans;
            }
            assert!(
                Instant::now() < deadline,
                "the collector did not receive spans {names:?} within {timeout:?}; it has {:?}\ncollector log:\n{}",
                spans.iter().map(ReceivedSpan::name).collect::<Vec<_>>(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One span as the collector's file exporter wrote it (OTLP JSON), with its resource.
#[derive(Clone, Debug)]
pub struct ReceivedSpan {
    pub resource: Value,
    pub span: Value,
}

impl ReceivedSpan {
    pub fn name(&self) -> &str {
        self.span["name"].as_str().unwrap_or_default()
    }

    pub fn trace_id(&self) -> &str {
        self.span["traceId"].as_str().unwrap_or_default()
    }

    pub fn span_id(&self) -> &str {
        self.span["spanId"].as_str().unwrap_or_default()
    }

    /// When the span started, in nanoseconds since the epoch (OTLP JSON writes it as a string).
    pub fn start_time_unix_nano(&self) -> u128 {
        let v = &self.span["startTimeUnixNano"];
        v.as_str()
            .and_then(|s| s.parse().ok())
            .or_else(|| v.as_u64().map(u128::from))
            .unwrap_or_default()
    }

    /// Empty for a root span.
    pub fn parent_span_id(&self) -> &str {
        self.span["parentSpanId"].as_str().unwrap_or_default()
    }

    /// A span attribute's value as text (`intValue`s are strings in OTLP JSON already).
    pub fn attribute(&self, key: &str) -> Option<String> {
        attribute(&self.span["attributes"], key)
    }

    /// A resource attribute's value as text.
    pub fn resource_attribute(&self, key: &str) -> Option<String> {
        attribute(&self.resource["attributes"], key)
    }
}

fn attribute(attributes: &Value, key: &str) -> Option<String> {
    let value = &attributes.as_array()?.iter().find(|a| a["key"] == key)?["value"];
    let (_, v) = value.as_object()?.iter().next()?;
    Some(match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// The child process's result: its output, the JSON log lines in it, and how long it ran.
pub struct ProbeRun {
    pub output: Output,
    pub logs: Vec<Value>,
    pub elapsed: Duration,
}

impl ProbeRun {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// The log line whose message is `message`.
    pub fn line(&self, message: &str) -> &Value {
        self.logs
            .iter()
            .find(|l| l["fields"]["message"] == message)
            .unwrap_or_else(|| {
                panic!(
                    "no log line {message:?} in the probe's output:\n{}",
                    self.stdout()
                )
            })
    }
}

/// Runs the test `probe_test` of this test binary as a child process with `PROBE_ENV` and `env` set (and every
/// other `OTEL_*` variable removed), killing it after `timeout`.
pub fn run_probe(probe_test: &str, env: &[(&str, &str)], timeout: Duration) -> ProbeRun {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            probe_test,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars() {
        if name.starts_with("OTEL_") || name == "RUST_LOG" {
            command.env_remove(name);
        }
    }
    command.env(PROBE_ENV, "1").env("RUST_LOG", "info");
    for (name, value) in env {
        command.env(name, value);
    }
    let start = Instant::now();
    let child = command.spawn().unwrap();
    let pid = child.id();
    let (done, finished) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let output = child.wait_with_output();
        let _ = done.send(());
        output
    });
    if finished.recv_timeout(timeout).is_err() {
        // The child hangs: end it (by its own pid) so that the waiter returns with what it printed.
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        let output = waiter.join().unwrap().unwrap();
        panic!(
            "the telemetry probe did not finish within {timeout:?}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let output = waiter.join().unwrap().unwrap();
    let elapsed = start.elapsed();
    let logs = json_lines(&String::from_utf8_lossy(&output.stdout));
    ProbeRun {
        output,
        logs,
        elapsed,
    }
}

/// The JSON objects among the child's stdout lines. libtest writes `test NAME ... ` before the test's own output
/// without a line break, so an object may start after it on the same line.
fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(&line[line.find('{')?..]).ok())
        .filter(Value::is_object)
        .collect()
}
