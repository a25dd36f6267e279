//! The operator's HTTP endpoints, on one port (default [`DEFAULT_ADDR`], `0.0.0.0:8080`):
//! - `GET /metrics`: the operator's metrics in the Prometheus text format ([`crate::metrics`]);
//! - `GET /healthz`: `200 ok` while the process serves requests (liveness probe);
//! - `GET /readyz`: `200` once the watches have synced, `503` before (readiness probe); the body says whether this
//!   replica is the `leader` or a `standby`; while something stops the operator from working (e.g. its Lease
//!   namespace is missing) `503` with what to do.
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::metrics::{self, Metrics};

/// Where the endpoints listen unless configured otherwise: every interface, port 8080.
pub const DEFAULT_ADDR: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 8080));

/// Binding or serving the HTTP endpoints failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The address could not be bound (in use, not permitted, not local).
    #[error("binding the HTTP endpoints to {addr} failed: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// Accepting or serving connections failed.
    #[error("serving the HTTP endpoints failed: {0}")]
    Serve(#[source] std::io::Error),
}

/// Whether the operator is ready, shared between the controller (which sets it) and `/readyz` (which reports it).
/// Cheap to clone: every clone sees the same state. Starts not ready and standby.
///
/// Ready means "synced", whatever the role: a standby replica that does not watch until it holds the lease should
/// call [`Readiness::set_synced`] once it is waiting for the lease, or it never becomes ready (and a rollout of a
/// Deployment with more than one replica stalls).
#[derive(Clone, Debug, Default)]
pub struct Readiness {
    inner: Arc<ReadinessState>,
}

#[derive(Debug, Default)]
struct ReadinessState {
    synced: AtomicBool,
    leader: AtomicBool,
    /// What keeps the operator from working, and what to do about it.
    problem: Mutex<Option<String>>,
}

impl Readiness {
    /// A new flag: not synced, standby.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records whether the controller's watches have synced (their first full list arrived).
    pub fn set_synced(&self, synced: bool) {
        self.inner.synced.store(synced, Ordering::Release);
    }

    /// Records what keeps the operator from working (None once it is gone): `/readyz` fails with it meanwhile.
    pub fn set_problem(&self, problem: Option<String>) {
        if let Ok(mut current) = self.inner.problem.lock() {
            *current = problem;
        }
    }

    /// What keeps the operator from working, if anything.
    pub fn problem(&self) -> Option<String> {
        self.inner.problem.lock().ok().and_then(|p| p.clone())
    }

    /// Records whether this replica holds the leader lease.
    pub fn set_leader(&self, leader: bool) {
        self.inner.leader.store(leader, Ordering::Release);
    }

    /// Whether `/readyz` answers 200.
    pub fn is_ready(&self) -> bool {
        self.inner.synced.load(Ordering::Acquire) && self.problem().is_none()
    }

    /// Whether this replica holds the leader lease.
    pub fn is_leader(&self) -> bool {
        self.inner.leader.load(Ordering::Acquire)
    }

    fn role(&self) -> &'static str {
        if self.is_leader() {
            "leader"
        } else {
            "standby"
        }
    }
}

#[derive(Clone)]
struct AppState {
    metrics: Metrics,
    readiness: Readiness,
}

/// A bound listener, not serving yet: lets the caller learn the port (for `127.0.0.1:0`) before serving.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
}

impl Server {
    /// Binds `addr`.
    pub async fn bind(addr: SocketAddr) -> Result<Self, Error> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| Error::Bind { addr, source })?;
        Ok(Self { listener })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        self.listener.local_addr().map_err(Error::Serve)
    }

    /// Serves the endpoints until `shutdown` completes, then stops accepting connections and returns once the
    /// requests in flight are answered.
    pub async fn run(
        self,
        metrics: Metrics,
        readiness: Readiness,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        axum::serve(self.listener, router(metrics, readiness))
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(Error::Serve)
    }
}

/// Binds `addr` and serves `/metrics`, `/healthz` and `/readyz` until `shutdown` completes (graceful shutdown).
pub async fn serve(
    addr: SocketAddr,
    metrics: Metrics,
    readiness: Readiness,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let server = Server::bind(addr).await?;
    tracing::info!(addr = %server.local_addr()?, "serving /metrics, /healthz and /readyz");
    server.run(metrics, readiness, shutdown).await
}

fn router(metrics: Metrics, readiness: Readiness) -> Router {
    Router::new()
        .route("/metrics", get(metrics_handler))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(AppState { metrics, readiness })
}

async fn metrics_handler(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        state.metrics.encode(),
    )
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let role = state.readiness.role();
    if let Some(problem) = state.readiness.problem() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {problem} ({role})\n"),
        )
    } else if state.readiness.is_ready() {
        (StatusCode::OK, format!("ready: {role}\n"))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: watches not synced yet ({role})\n"),
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    /// Status line, headers (lower-cased names) and body of a response.
    struct Response {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    }

    impl Response {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        }
    }

    /// A minimal HTTP/1.1 GET: the server closes the connection after answering.
    async fn get(addr: SocketAddr, path: &str) -> Response {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut raw = String::new();
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut raw))
            .await
            .expect("response within 10 s")
            .unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        let mut lines = head.lines();
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Response {
            status,
            headers,
            body: body.to_owned(),
        }
    }

    async fn start(
        metrics: Metrics,
        readiness: Readiness,
    ) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let server = Server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = server.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server.run(metrics, readiness, async {
            let _ = stopped.await;
        }));
        (addr, stop)
    }

    #[test]
    fn the_default_address_is_every_interface_on_port_8080() {
        assert_eq!(DEFAULT_ADDR.to_string(), "0.0.0.0:8080");
    }

    #[tokio::test]
    async fn healthz_answers_ok_while_the_process_runs() {
        let (addr, _stop) = start(Metrics::new().unwrap(), Readiness::new()).await;
        let response = get(addr, "/healthz").await;
        assert_eq!(response.status, 200);
        assert_eq!(response.body, "ok\n");
    }

    #[tokio::test]
    async fn readyz_is_unavailable_until_the_watches_sync_and_names_the_role() {
        let readiness = Readiness::new();
        let (addr, _stop) = start(Metrics::new().unwrap(), readiness.clone()).await;

        let response = get(addr, "/readyz").await;
        assert_eq!(response.status, 503);
        assert!(response.body.contains("standby"), "{}", response.body);

        readiness.set_synced(true);
        let response = get(addr, "/readyz").await;
        assert_eq!(response.status, 200);
        assert_eq!(response.body, "ready: standby\n");

        readiness.set_leader(true);
        assert_eq!(get(addr, "/readyz").await.body, "ready: leader\n");

        readiness.set_synced(false);
        assert_eq!(get(addr, "/readyz").await.status, 503);
    }

    #[tokio::test]
    async fn readyz_fails_with_what_to_do_while_a_problem_stops_the_operator() {
        let readiness = Readiness::new();
        readiness.set_synced(true);
        let (addr, _stop) = start(Metrics::new().unwrap(), readiness.clone()).await;
        readiness.set_problem(Some(
            "the Lease namespace x does not exist: create it".into(),
        ));
        let response = get(addr, "/readyz").await;
        assert_eq!(response.status, 503);
        assert!(response.body.contains("create it"), "{}", response.body);
        readiness.set_problem(None);
        assert_eq!(get(addr, "/readyz").await.status, 200);
    }

    #[tokio::test]
    async fn metrics_are_served_in_the_prometheus_text_format() {
        let metrics = Metrics::new().unwrap();
        metrics.record_success();
        let (addr, _stop) = start(metrics, Readiness::new()).await;
        let response = get(addr, "/metrics").await;
        assert_eq!(response.status, 200);
        assert_eq!(response.header("content-type"), Some(metrics::CONTENT_TYPE));
        assert!(
            response
                .body
                .contains("zot_operator_reconciliations_total{result=\"success\"} 1"),
            "{}",
            response.body
        );
    }

    #[tokio::test]
    async fn an_unknown_path_is_not_found() {
        let (addr, _stop) = start(Metrics::new().unwrap(), Readiness::new()).await;
        assert_eq!(get(addr, "/nope").await.status, 404);
    }

    #[tokio::test]
    async fn serving_stops_when_shutdown_completes() {
        let server = Server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = server.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(
            server.run(Metrics::new().unwrap(), Readiness::new(), async {
                let _ = stopped.await;
            }),
        );
        assert_eq!(get(addr, "/healthz").await.status, 200);
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("the server stops within 10 s")
            .unwrap()
            .unwrap();
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "the port is closed after shutdown"
        );
    }

    #[tokio::test]
    async fn binding_an_address_in_use_names_the_address() {
        let first = Server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = first.local_addr().unwrap();
        let err = Server::bind(addr).await.unwrap_err();
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    }
}
