//! Probes as the kubelet runs them: HTTP(S) GET (any status 200–399 succeeds; HTTPS is not verified), TCP connect,
//! and the startup → readiness/liveness sequence with thresholds, delays and periods.
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// What the probes of one container instance tell its worker.
#[derive(Debug)]
pub enum Report {
    /// The startup probe succeeded (or there is none).
    Started,
    Ready(bool),
    /// A failed probe, for an `Unhealthy` event.
    Unhealthy {
        probe: &'static str,
        message: String,
    },
    /// The liveness or startup probe failed `failureThreshold` times: restart the container.
    Restart {
        message: String,
    },
}

/// Runs the container's probes against `ip` until the task is aborted.
pub async fn run(container: Container, ip: Ipv4Addr, reports: mpsc::UnboundedSender<Report>) {
    let send = |r: Report| {
        let _ = reports.send(r);
    };
    if let Some(startup) = &container.startup_probe {
        if !until_threshold(startup, &container, ip, true, "Startup", &reports).await {
            send(Report::Restart {
                message: "Container failed startup probe, will be restarted".into(),
            });
            return;
        }
    }
    send(Report::Started);
    let readiness = async {
        let Some(probe) = &container.readiness_probe else {
            send(Report::Ready(true));
            return;
        };
        let mut ready = false;
        let (mut ok, mut failed) = (0, 0);
        delay(probe.initial_delay_seconds).await;
        loop {
            match check(probe, &container, ip).await {
                Ok(()) => {
                    (ok, failed) = (ok + 1, 0);
                    if !ready && ok >= probe.success_threshold.unwrap_or(1) {
                        ready = true;
                        send(Report::Ready(true));
                    }
                }
                Err(message) => {
                    (ok, failed) = (0, failed + 1);
                    send(Report::Unhealthy {
                        probe: "Readiness",
                        message,
                    });
                    if ready && failed >= probe.failure_threshold.unwrap_or(3) {
                        ready = false;
                        send(Report::Ready(false));
                    }
                }
            }
            delay(Some(probe.period_seconds.unwrap_or(10))).await;
        }
    };
    let liveness = async {
        let Some(probe) = &container.liveness_probe else {
            return std::future::pending::<()>().await;
        };
        if !until_threshold(probe, &container, ip, false, "Liveness", &reports).await {
            send(Report::Restart {
                message: "Container failed liveness probe, will be restarted".into(),
            });
        }
    };
    tokio::join!(readiness, liveness);
}

/// With `until_success`: probes until success (true) or `failureThreshold` failures in a row (false). Without:
/// probes until `failureThreshold` failures in a row (false).
async fn until_threshold(
    probe: &Probe,
    container: &Container,
    ip: Ipv4Addr,
    until_success: bool,
    name: &'static str,
    reports: &mpsc::UnboundedSender<Report>,
) -> bool {
    delay(probe.initial_delay_seconds).await;
    let threshold = probe.failure_threshold.unwrap_or(3);
    let mut failed = 0;
    loop {
        match check(probe, container, ip).await {
            Ok(()) if until_success => return true,
            Ok(()) => failed = 0,
            Err(message) => {
                failed += 1;
                let _ = reports.send(Report::Unhealthy {
                    probe: name,
                    message,
                });
                if failed >= threshold {
                    return false;
                }
            }
        }
        delay(Some(probe.period_seconds.unwrap_or(10))).await;
    }
}

async fn delay(seconds: Option<i32>) {
    let seconds = u64::try_from(seconds.unwrap_or(0)).unwrap_or(0);
    if seconds > 0 {
        tokio::time::sleep(Duration::from_secs(seconds)).await;
    }
}

/// One probe attempt; the message is the kubelet's wording for a failure.
pub async fn check(probe: &Probe, container: &Container, ip: Ipv4Addr) -> Result<(), String> {
    let timeout =
        Duration::from_secs(u64::try_from(probe.timeout_seconds.unwrap_or(1)).unwrap_or(1));
    if let Some(http) = &probe.http_get {
        let port = port(&http.port, container)?;
        let scheme = http.scheme.as_deref().unwrap_or("HTTP");
        let path = http.path.as_deref().unwrap_or("/");
        let url = format!("{}://{ip}:{port}{path}", scheme.to_lowercase());
        let result =
            tokio::time::timeout(timeout, http_get(ip, port, path, scheme == "HTTPS")).await;
        return match result {
            Err(_) => Err(format!(
                "Get \"{url}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
            )),
            Ok(Err(e)) => Err(format!("Get \"{url}\": {e}")),
            Ok(Ok(code)) if (200..400).contains(&code) => Ok(()),
            Ok(Ok(code)) => Err(format!("HTTP probe failed with statuscode: {code}")),
        };
    }
    if let Some(tcp) = &probe.tcp_socket {
        let port = port(&tcp.port, container)?;
        return match tokio::time::timeout(timeout, TcpStream::connect((ip, port))).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("dial tcp {ip}:{port}: {e}")),
            Err(_) => Err(format!("dial tcp {ip}:{port}: i/o timeout")),
        };
    }
    Err("the test platform's pod runner runs httpGet and tcpSocket probes only".into())
}

/// A named or numbered container port.
fn port(port: &IntOrString, container: &Container) -> Result<u16, String> {
    match port {
        IntOrString::Int(n) => u16::try_from(*n).map_err(|_| format!("invalid port {n}")),
        IntOrString::String(name) => container
            .ports
            .iter()
            .flatten()
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .and_then(|p| u16::try_from(p.container_port).ok())
            .ok_or_else(|| format!("port {name} not found in the container's ports")),
    }
}

/// The status code of `GET path`.
async fn http_get(ip: Ipv4Addr, port: u16, path: &str, tls: bool) -> Result<u16, String> {
    let stream = TcpStream::connect(SocketAddr::from((ip, port)))
        .await
        .map_err(|e| format!("dial tcp {ip}:{port}: {e}"))?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {ip}:{port}\r\nUser-Agent: kube-probe/1.36\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    let head = if tls {
        let connector = tokio_rustls::TlsConnector::from(Arc::new(insecure_tls()));
        let name = rustls::pki_types::ServerName::IpAddress(std::net::IpAddr::V4(ip).into());
        let mut stream = connector
            .connect(name, stream)
            .await
            .map_err(|e| format!("tls: {e}"))?;
        exchange(&mut stream, &request).await?
    } else {
        let mut stream = stream;
        exchange(&mut stream, &request).await?
    };
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok());
    status.ok_or_else(|| format!("malformed HTTP response: {head:?}"))
}

async fn exchange<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    stream: &mut S,
    request: &str,
) -> Result<String, String> {
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 256];
    let mut got = 0;
    while got < buf.len() {
        let n = stream
            .read(&mut buf[got..])
            .await
            .map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        got += n;
        if buf[..got].contains(&b'\n') {
            break;
        }
    }
    let text = String::from_utf8_lossy(&buf[..got]);
    Ok(text.lines().next().unwrap_or_default().to_string())
}

/// TLS without verification, as the kubelet's HTTPS probes.
fn insecure_tls() -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(AnyServer(provider.clone()));
    match rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
    {
        Ok(builder) => builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth(),
        // The ring provider supports the default versions; this arm is not reached.
        Err(_) => rustls::ClientConfig::builder()
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth(),
    }
}

#[derive(Debug)]
struct AnyServer(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyServer {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ContainerPort, HTTPGetAction};

    fn container() -> Container {
        Container {
            name: "zot".into(),
            ports: Some(vec![ContainerPort {
                name: Some("http".into()),
                container_port: 5000,
                ..Default::default()
            }]),
            ..Default::default()
        }
    }

    #[test]
    fn a_named_port_resolves_to_the_container_port() {
        assert_eq!(
            port(&IntOrString::String("http".into()), &container()),
            Ok(5000)
        );
        assert!(port(&IntOrString::String("metrics".into()), &container()).is_err());
    }

    #[tokio::test]
    async fn an_http_probe_reads_the_status_code_of_a_real_server() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            for code in [200, 503] {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 512];
                let _ = s.read(&mut buf).await.unwrap();
                s.write_all(format!("HTTP/1.1 {code} X\r\nContent-Length: 0\r\n\r\n").as_bytes())
                    .await
                    .unwrap();
            }
        });
        let probe = Probe {
            http_get: Some(HTTPGetAction {
                path: Some("/readyz".into()),
                port: IntOrString::Int(port.into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let ip = Ipv4Addr::LOCALHOST;
        assert_eq!(check(&probe, &container(), ip).await, Ok(()));
        assert_eq!(
            check(&probe, &container(), ip).await,
            Err("HTTP probe failed with statuscode: 503".into())
        );
    }
}
