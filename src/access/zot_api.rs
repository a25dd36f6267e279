//! The operator's calls to zot's API-key endpoints, as an account (basic auth with its password): make a key,
//! revoke a key. The password and the key are never logged; errors carry status codes only.
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

/// How long one call may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Where the operator reaches a zot pod.
#[derive(Clone, Debug)]
pub struct Target {
    /// The pod's address.
    pub ip: IpAddr,
    pub port: u16,
    /// The name zot's certificate carries (the in-cluster Service host), used for TLS verification.
    pub host: String,
    /// HTTPS (with the CA when known) or plain HTTP.
    pub https: bool,
    pub ca: Option<String>,
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "zot refused the account's password (HTTP 401): the pods have not loaded the account yet"
    )]
    Unauthorized,
    #[error("zot answered HTTP {0}")]
    Status(u16),
    #[error("could not reach zot: {0}")]
    Unreachable(String),
    #[error("zot's answer has no API key")]
    NoKey,
    #[error("could not set up the HTTP client: {0}")]
    Client(String),
}

/// A key zot made.
pub struct NewKey {
    pub id: String,
    pub key: String,
}

#[derive(Deserialize)]
struct Created {
    #[serde(rename = "apiKey")]
    api_key: Option<String>,
    uuid: Option<String>,
}

fn client(target: &Target) -> Result<reqwest::Client, Error> {
    let mut builder = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .no_proxy()
        .resolve(&target.host, SocketAddr::new(target.ip, target.port));
    if let Some(ca) = &target.ca {
        let cert = reqwest::Certificate::from_pem(ca.as_bytes())
            .map_err(|e| Error::Client(e.to_string()))?;
        builder = builder.add_root_certificate(cert);
    } else if target.https {
        // An unknown CA (a user certificate without ca.crt): the pod's address is the one the API server gave; the
        // account's password is useless beyond this store.
        builder = builder.danger_accept_invalid_certs(true);
    }
    builder.build().map_err(|e| Error::Client(e.to_string()))
}

fn url(target: &Target, path: &str) -> String {
    let scheme = if target.https { "https" } else { "http" };
    format!("{scheme}://{}:{}{path}", target.host, target.port)
}

/// Makes an API key for `user` expiring at `expires` (RFC 3339).
pub async fn create_key(
    target: &Target,
    user: &str,
    password: &str,
    label: &str,
    expires: &str,
) -> Result<NewKey, Error> {
    let response = client(target)?
        .post(url(target, "/zot/auth/apikey"))
        .basic_auth(user, Some(password))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(json!({"label": label, "scopes": [], "expirationDate": expires}).to_string())
        .send()
        .await
        .map_err(|e| Error::Unreachable(e.without_url().to_string()))?;
    match response.status().as_u16() {
        200 | 201 => {}
        401 | 404 => return Err(Error::Unauthorized),
        code => return Err(Error::Status(code)),
    }
    let body = response.bytes().await.map_err(|_| Error::NoKey)?;
    let created: Created = serde_json::from_slice(&body).map_err(|_| Error::NoKey)?;
    match (created.uuid, created.api_key) {
        (Some(id), Some(key)) if key.starts_with("zak_") => Ok(NewKey { id, key }),
        _ => Err(Error::NoKey),
    }
}

/// Revokes the key `id` of `user`; a key zot no longer has counts as revoked.
pub async fn revoke_key(
    target: &Target,
    user: &str,
    password: &str,
    id: &str,
) -> Result<(), Error> {
    let response = client(target)?
        .delete(url(target, "/zot/auth/apikey"))
        .query(&[("id", id)])
        .basic_auth(user, Some(password))
        .send()
        .await
        .map_err(|e| Error::Unreachable(e.without_url().to_string()))?;
    match response.status().as_u16() {
        200 | 204 | 404 => Ok(()),
        401 => Err(Error::Unauthorized),
        code => Err(Error::Status(code)),
    }
}
