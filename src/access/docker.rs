//! The Secret a consumer gets: a docker config for the store's host, `hostname` and `ca.crt`.
use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use k8s_openapi::ByteString;
use serde_json::json;

use super::Access;

/// Key of the docker config in a push Secret (an Opaque Secret; use its folder as DOCKER_CONFIG).
pub const PUSH_CONFIG_KEY: &str = "config.json";
/// Key of the docker config in a pull Secret (type kubernetes.io/dockerconfigjson).
pub const PULL_CONFIG_KEY: &str = ".dockerconfigjson";
/// Key of the registry's host.
pub const HOSTNAME_KEY: &str = "hostname";
/// Key of the registry's CA.
pub const CA_KEY: &str = "ca.crt";
/// Key of the account's user name.
pub const USERNAME_KEY: &str = "username";
/// Key of the account's password (the API key), for clients that take them apart (`oras login -u -p`).
pub const PASSWORD_KEY: &str = "password";

/// Type of a push Secret.
pub const PUSH_TYPE: &str = "Opaque";
/// Type of a pull Secret.
pub const PULL_TYPE: &str = "kubernetes.io/dockerconfigjson";

/// Where the registry is reached: the preferred host (external when published, else the in-cluster Service) and
/// every host the docker config names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hosts {
    /// `hostname` of the Secret.
    pub preferred: String,
    /// Every host with an `auths` entry (the preferred one first).
    pub all: Vec<String>,
}

/// The Secret's data: the docker config under the kind's key, `hostname`, `username`, `password`, and `ca.crt`
/// when the CA is known. A docker config for a plain-HTTP registry is the same (clients decide on HTTP per host:
/// `oras --plain-http`, docker's insecure-registries, containerd's hosts.toml).
pub fn secret_data(
    access: Access,
    hosts: &Hosts,
    user: &str,
    password: &str,
    ca: Option<&str>,
) -> BTreeMap<String, ByteString> {
    let auth = STANDARD.encode(format!("{user}:{password}"));
    let auths: serde_json::Map<String, serde_json::Value> = hosts
        .all
        .iter()
        .map(|h| {
            (
                h.clone(),
                json!({"auth": auth, "username": user, "password": password}),
            )
        })
        .collect();
    let config = json!({ "auths": auths }).to_string();
    let key = match access {
        Access::Push => PUSH_CONFIG_KEY,
        Access::Pull => PULL_CONFIG_KEY,
    };
    let mut data = BTreeMap::from([
        (key.to_string(), ByteString(config.into_bytes())),
        (
            HOSTNAME_KEY.to_string(),
            ByteString(hosts.preferred.clone().into_bytes()),
        ),
        (
            USERNAME_KEY.to_string(),
            ByteString(user.as_bytes().to_vec()),
        ),
        (
            PASSWORD_KEY.to_string(),
            ByteString(password.as_bytes().to_vec()),
        ),
    ]);
    if let Some(ca) = ca {
        data.insert(CA_KEY.to_string(), ByteString(ca.as_bytes().to_vec()));
    }
    data
}

/// The hosts of a store: the external host (Route/Ingress) when published, then the in-cluster Service
/// `<store>.<namespace>.svc:<port>`.
pub fn hosts(internal: &str, external: Option<&str>) -> Hosts {
    let strip = |url: &str| {
        url.split_once("://")
            .map_or(url, |(_, rest)| rest)
            .trim_end_matches('/')
            .to_string()
    };
    let internal = strip(internal);
    let mut all = Vec::new();
    if let Some(external) = external {
        all.push(strip(external));
    }
    if !all.contains(&internal) {
        all.push(internal);
    }
    Hosts {
        preferred: all[0].clone(),
        all,
    }
}
