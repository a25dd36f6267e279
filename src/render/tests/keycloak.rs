//! Keycloak as zot's OpenID provider: the claims users and groups come from, the scopes, the session keys shared by
//! the replicas and the redirect URI's host.
use pretty_assertions::assert_eq;
use serde_json::json;

use super::*;
use crate::zot::SessionKeys;

fn provider(desired: &Desired) -> Value {
    config(desired)["http"]["auth"]["openid"]["providers"]["oidc"].clone()
}

fn keys() -> SessionKeys {
    SessionKeys {
        hash_key: "h".repeat(64),
        encrypt_key: Some("e".repeat(32)),
    }
}

#[test]
fn users_are_named_by_their_keycloak_user_name_unless_the_spec_names_another_claim() {
    assert_eq!(
        provider(&k8s(KEYCLOAK))["claimMapping"],
        json!({"username": "preferred_username", "groups": "groups"})
    );
    let email = KEYCLOAK.replace(
        "clientId: zot\n",
        "clientId: zot\n    usernameClaim: email\n",
    );
    assert_eq!(
        provider(&k8s(&email))["claimMapping"],
        json!({"username": "email", "groups": "groups"})
    );
}

#[test]
fn the_groups_scope_is_requested_when_a_policy_or_admin_groups_name_a_group() {
    assert_eq!(
        provider(&k8s(KEYCLOAK))["scopes"],
        json!(["openid", "profile", "email"])
    );
    let policy = format!(
        "{KEYCLOAK}  policies:\n    - repositories: ['**']\n      groups: [developers]\n      actions: [read]\n"
    );
    assert_eq!(
        provider(&k8s(&policy))["scopes"],
        json!(["openid", "profile", "email", "groups"])
    );
    let admins = format!("{KEYCLOAK}  adminGroups: [admins]\n");
    assert_eq!(
        provider(&k8s(&admins))["scopes"],
        json!(["openid", "profile", "email", "groups"])
    );
    let users_only = format!(
        "{KEYCLOAK}  policies:\n    - repositories: ['**']\n      users: [alice]\n      actions: [read]\n"
    );
    assert_eq!(
        provider(&k8s(&users_only))["scopes"],
        json!(["openid", "profile", "email"])
    );
    // Scopes in the spec replace the defaults entirely.
    let own = format!(
        "{}  policies:\n    - repositories: ['**']\n      groups: [developers]\n      actions: [read]\n",
        KEYCLOAK.replace(
            "clientId: zot\n",
            "clientId: zot\n    scopes: [openid, team-groups]\n"
        )
    );
    assert_eq!(
        provider(&k8s(&own))["scopes"],
        json!(["openid", "team-groups"])
    );
}

#[test]
fn every_replica_mounts_the_same_session_keys_and_no_session_driver_is_set() {
    let spec = format!("{S3_REDIS}replicas: 3\n{KEYCLOAK}");
    let offline = desired(&store(&spec), &Platform::kubernetes(), &Inputs::default());
    let auth = &config(&offline)["http"]["auth"];
    assert_eq!(
        auth["sessionKeysFile"],
        "/var/run/secrets/zot/session/session-keys.json"
    );
    // zot refuses session keys with its redis session driver, and its OpenID client would then sign the state
    // cookie with a key of each process's own.
    assert!(auth.get("sessionDriver").is_none(), "{auth}");
    assert_eq!(offline.session_secret, None, "no keys offline, no Secret");
    let volume = pod_spec(&offline)
        .volumes
        .unwrap()
        .into_iter()
        .find(|v| v.name == "session")
        .unwrap();
    assert_eq!(
        volume.secret.unwrap().secret_name.as_deref(),
        Some("zot-session")
    );

    let inputs = Inputs {
        session_keys: Some(keys()),
        ..Inputs::default()
    };
    let online = desired(&store(&spec), &Platform::kubernetes(), &inputs);
    let secret = online.session_secret.clone().unwrap();
    assert_eq!(secret.metadata.name.as_deref(), Some("zot-session"));
    let file: Value = serde_json::from_slice(&secret.data.unwrap()[names::SESSION_FILE].0).unwrap();
    assert_eq!(
        file,
        json!({"hashKey": "h".repeat(64), "encryptKey": "e".repeat(32)})
    );
    assert!(!config(&online).to_string().contains(&"h".repeat(64)));
    assert!(!format!("{inputs:?}").contains(&"h".repeat(64)));
}

#[test]
fn new_session_keys_roll_the_pods() {
    let hash = |keys: Option<SessionKeys>| {
        let inputs = Inputs {
            session_keys: keys,
            ..Inputs::default()
        };
        let d = desired(&store(KEYCLOAK), &Platform::kubernetes(), &inputs);
        let template = d.statefulset.unwrap().spec.unwrap().template;
        template.metadata.unwrap().annotations.unwrap()[names::CONFIG_HASH_ANNOTATION].clone()
    };
    let other = SessionKeys {
        hash_key: "x".repeat(64),
        ..keys()
    };
    assert_ne!(hash(Some(keys())), hash(Some(other)));
    assert_eq!(hash(Some(keys())), hash(Some(keys())));
}

#[test]
fn the_redirect_uri_follows_the_ingress_host_or_the_route_and_a_store_without_either_is_degraded() {
    let ingress = format!(
        "{KEYCLOAK}networking:\n  ingress: {{enabled: true, host: registry.example.com}}\n"
    );
    assert_eq!(
        config(&k8s(&ingress))["http"]["externalUrl"],
        "http://registry.example.com"
    );
    assert!(gaps(&store(&ingress), &Platform::kubernetes()).is_empty());
    let openshift = Platform::openshift(Some("apps.example.com".into()));
    let route = format!("{KEYCLOAK}networking:\n  route: {{enabled: true}}\n");
    let desired = desired(&store(&route), &openshift, &Inputs::default());
    assert_eq!(
        config(&desired)["http"]["externalUrl"],
        "https://zot-team.apps.example.com"
    );
    assert!(gaps(&store(&route), &openshift).is_empty());
    // zot serves HTTPS (the default) and marks its session cookies Secure itself.
    assert!(
        config(&desired)["http"]["auth"]
            .get("secureSession")
            .is_none()
    );
    // Browsers reach zot over HTTPS there while zot serves HTTP: its session cookies say Secure.
    let plain = format!("{route}tls: {{enabled: false}}\n");
    let plain = super::desired(&store(&plain), &openshift, &Inputs::default());
    assert_eq!(config(&plain)["http"]["auth"]["secureSession"], true);
    assert!(
        config(&k8s(&ingress))["http"]["auth"]
            .get("secureSession")
            .is_none()
    );
    let unpublished = gaps(&store(KEYCLOAK), &Platform::kubernetes());
    assert_eq!(unpublished.len(), 1, "{unpublished:?}");
    assert_eq!(unpublished[0].field, "spec.rbac.keycloak");
    assert!(
        unpublished[0].reason.contains("networking.ingress.host"),
        "{}",
        unpublished[0].reason
    );
}
