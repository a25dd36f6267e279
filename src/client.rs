//! The operator's connection to the Kubernetes API.
//!
//! In a pod, kube connects to the API server directly. With a kubeconfig it reads HTTPS_PROXY like kubectl, but
//! checks NO_PROXY against the proxy's own address rather than the API server's, so an API server that NO_PROXY
//! (or, as in Go, being localhost) exempts would still be reached through the proxy. On OpenShift OLM puts the
//! cluster proxy into the operator's environment for zot's sake, and the operator must keep working with it:
//! [`connect`] decides about the API server's address the way kubectl does.
use kube::config::InferConfigError;
use kube::{Client, Config};

use crate::platform::Proxy;

/// Why the operator could not set up its client.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "reading the cluster configuration (KUBECONFIG, ~/.kube/config or the service account): {0}"
    )]
    Config(#[source] InferConfigError),
    #[error("setting up the client: {0}")]
    Client(#[source] kube::Error),
}

/// A client for the cluster of the kubeconfig or, in a pod, of the service account; through the proxy only when
/// `proxy` does not exempt the API server.
pub async fn connect(proxy: &Proxy) -> Result<Client, ConnectError> {
    let config = Config::infer().await.map_err(ConnectError::Config)?;
    Client::try_from(without_exempt_proxy(config, proxy)).map_err(ConnectError::Client)
}

/// `config` without its proxy when `proxy` exempts the API server.
fn without_exempt_proxy(mut config: Config, proxy: &Proxy) -> Config {
    if let Some(host) = config.cluster_url.host()
        && proxy.exempts(host, config.cluster_url.port_u16())
    {
        config.proxy_url = None;
    }
    config
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn config(cluster: &str) -> Config {
        let mut config = Config::new(cluster.parse().unwrap());
        config.proxy_url = Some("http://proxy.corp.test:3128".parse().unwrap());
        config
    }

    fn proxy(no_proxy: &str) -> Proxy {
        Proxy {
            https_proxy: Some("http://proxy.corp.test:3128".into()),
            no_proxy: Some(no_proxy.into()),
            ..Proxy::default()
        }
    }

    #[test]
    fn an_api_server_no_proxy_names_is_reached_directly() {
        let exempt = without_exempt_proxy(
            config("https://api.ocp.corp.test:6443"),
            &proxy(".corp.test"),
        );
        assert_eq!(exempt.proxy_url, None);
        let local = without_exempt_proxy(config("https://127.0.0.1:38443"), &Proxy::default());
        assert_eq!(local.proxy_url, None);
    }

    #[test]
    fn any_other_api_server_goes_through_the_proxy() {
        let proxied =
            without_exempt_proxy(config("https://api.example.com:6443"), &proxy(".corp.test"));
        assert_eq!(
            proxied.proxy_url.map(|u| u.to_string()),
            Some("http://proxy.corp.test:3128/".to_string())
        );
    }

    #[tokio::test]
    async fn a_proxied_client_can_be_built() {
        // The http-proxy feature is on: a proxy that is needed is used, not refused.
        let proxied = without_exempt_proxy(
            config("https://api.example.com:6443"),
            &proxy("*.corp.test"),
        );
        assert!(Client::try_from(proxied).is_ok());
    }
}
