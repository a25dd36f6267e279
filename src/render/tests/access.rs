//! The accounts of push/pull Secret requests in zot's configuration, htpasswd file and pod.
use pretty_assertions::assert_eq;
use serde_json::json;

use super::*;
use crate::access::accounts::{Account, Policy};
use crate::access::ca::{CaLocation, ca_location};
use crate::api::v1alpha1::Action;

fn account(name: &str, repos: &[&str], actions: &[Action]) -> Account {
    Account {
        name: name.to_string(),
        htpasswd: format!("{name}:$2y$10$hash-of-{name}"),
        policy: Policy {
            repositories: repos.iter().map(|r| r.to_string()).collect(),
            actions: actions.to_vec(),
        },
    }
}

const USERS: &str = "rbac:\n  enabled: true\n  htpasswd: {name: users, key: htpasswd}\n  policies:\n  - {repositories: ['**'], users: [auditor], actions: [read]}\n";

#[test]
fn without_accounts_nothing_changes() {
    let desired = k8s(USERS);
    assert!(desired.htpasswd_secret.is_none());
    let volumes = pod_spec(&desired).volumes.unwrap();
    let htpasswd = volumes.iter().find(|v| v.name == "htpasswd").unwrap();
    assert_eq!(
        htpasswd.secret.as_ref().unwrap().secret_name.as_deref(),
        Some("users")
    );
    assert!(config(&desired)["http"]["auth"].get("apikey").is_none());
}

#[test]
fn accounts_get_api_keys_their_policies_and_a_merged_htpasswd_file_without_changing_other_rights() {
    let mut store = store(USERS);
    store.accounts = vec![
        account(
            "push.ci.builder",
            &["ci/**"],
            &[Action::Read, Action::Create, Action::Update],
        ),
        account("pull.apps.runtime", &["ci/app"], &[Action::Read]),
    ];
    let inputs = Inputs {
        user_htpasswd: Some("auditor:$2y$10$a\npush.ci.builder:$2y$forged\n".into()),
        ..Inputs::default()
    };
    let desired = desired(&store, &Platform::kubernetes(), &inputs);
    let config = config(&desired);
    assert_eq!(config["http"]["auth"]["apikey"], true);
    assert_eq!(
        config["http"]["auth"]["htpasswd"]["path"],
        "/var/run/secrets/zot/htpasswd/htpasswd"
    );
    let repos = &config["http"]["accessControl"]["repositories"];
    // The auditor's `**` policy is copied into the accounts' more specific globs (zot applies the longest match).
    assert_eq!(
        repos["ci/**"]["policies"],
        json!([
            {"users": ["auditor"], "actions": ["read"]},
            {"users": ["push.ci.builder"], "actions": ["read", "create", "update"]},
        ])
    );
    assert_eq!(
        repos["ci/app"]["policies"],
        json!([
            {"users": ["auditor"], "actions": ["read"]},
            {"users": ["push.ci.builder"], "actions": ["read", "create", "update"]},
            {"users": ["pull.apps.runtime"], "actions": ["read"]},
        ])
    );
    assert_eq!(
        repos["**"]["policies"],
        json!([{"users": ["auditor"], "actions": ["read"]}])
    );
    let file = desired
        .htpasswd_secret
        .as_ref()
        .unwrap()
        .data
        .as_ref()
        .unwrap()["htpasswd"]
        .clone();
    assert_eq!(
        String::from_utf8(file.0).unwrap(),
        "auditor:$2y$10$a\npush.ci.builder:$2y$10$hash-of-push.ci.builder\npull.apps.runtime:$2y$10$hash-of-pull.apps.runtime\n"
    );
    let volumes = pod_spec(&desired).volumes.unwrap();
    let htpasswd = volumes.iter().find(|v| v.name == "htpasswd").unwrap();
    assert_eq!(
        htpasswd.secret.as_ref().unwrap().secret_name.as_deref(),
        Some("zot-htpasswd")
    );
    // A new account rolls the pods.
    let before = k8s(USERS);
    let hash = |d: &Desired| {
        d.statefulset
            .as_ref()
            .unwrap()
            .spec
            .as_ref()
            .unwrap()
            .template
            .metadata
            .as_ref()
            .unwrap()
            .annotations
            .as_ref()
            .unwrap()[names::CONFIG_HASH_ANNOTATION]
            .clone()
    };
    assert_ne!(hash(&before), hash(&desired));
}

#[test]
fn the_ca_comes_from_where_the_stores_tls_says_and_plain_http_has_none() {
    // TLS by default: the store's own CA.
    assert_eq!(
        ca_location(&store("{}"), &Platform::kubernetes()),
        CaLocation::SecretKey {
            secret: "zot-ca".into(),
            key: "ca.crt".into()
        }
    );
    assert_eq!(
        ca_location(&store("tls: {enabled: false}"), &Platform::kubernetes()),
        CaLocation::PlainHttp
    );
    assert_eq!(
        ca_location(
            &store("tls: {issuerRef: {name: team-ca}}"),
            &Platform::kubernetes()
        ),
        CaLocation::SecretKey {
            secret: "zot-issued-tls".into(),
            key: "ca.crt".into()
        }
    );
    assert_eq!(
        ca_location(
            &store("tls: {enabled: true, secretName: zot-tls}"),
            &Platform::kubernetes()
        ),
        CaLocation::SecretKey {
            secret: "zot-tls".into(),
            key: "ca.crt".into()
        }
    );
}
