use std::collections::BTreeMap;

use k8s_openapi::jiff::{SignedDuration, Timestamp};

use super::rotation::{Due, InSecret, State, due, previous_expired};
use super::scope::{covers, namespace_allowed, refused_repository};
use super::*;
use crate::api::v1alpha1::AccessSpec;

#[test]
fn account_names_cannot_collide_and_are_reserved() {
    assert_eq!(
        account_name(Access::Push, "ci", "builder"),
        "push.ci.builder"
    );
    assert_ne!(
        account_name(Access::Pull, "a-b", "c"),
        account_name(Access::Pull, "a", "b-c")
    );
    assert!(is_reserved_account("pull.apps.x"));
    assert!(!is_reserved_account("admin"));
}

#[test]
fn pull_reads_and_push_reads_pushes_and_overwrites_but_never_deletes() {
    assert_eq!(Access::Pull.actions(), vec![Action::Read]);
    assert_eq!(
        Access::Push.actions(),
        vec![Action::Read, Action::Create, Action::Update]
    );
}

#[test]
fn globs_cover_what_lies_below_their_prefix_only() {
    assert!(covers("**", "anything/at/all"));
    assert!(covers("ci/**", "ci/app"));
    assert!(covers("ci/**", "ci/**"));
    assert!(covers("ci/**", "ci/team/**"));
    assert!(!covers("ci/**", "cid/app"));
    assert!(!covers("ci/**", "ci*"));
    assert!(!covers("ci/*", "ci/a/b"));
    assert!(covers("ci/app", "ci/app"));
}

#[test]
fn only_the_stores_namespace_and_selected_namespaces_may_ask() {
    let labels = BTreeMap::from([("team".to_string(), "ci".to_string())]);
    let none = AccessSpec::default();
    assert!(namespace_allowed(&none, "store", "store", &BTreeMap::new()));
    assert!(!namespace_allowed(&none, "store", "ci", &labels));
    let selected: AccessSpec =
        serde_json::from_str(r#"{"namespaceSelector": {"matchLabels": {"team": "ci"}}}"#).unwrap();
    assert!(namespace_allowed(&selected, "store", "ci", &labels));
    assert!(!namespace_allowed(
        &selected,
        "store",
        "apps",
        &BTreeMap::new()
    ));
    let expression: AccessSpec = serde_json::from_str(
        r#"{"namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "NotIn", "values": ["ci"]}]}}"#,
    )
    .unwrap();
    assert!(!namespace_allowed(&expression, "store", "ci", &labels));
    assert!(namespace_allowed(
        &expression,
        "store",
        "apps",
        &BTreeMap::new()
    ));
}

#[test]
fn a_namespace_may_push_only_its_own_repositories_and_pull_shared_ones() {
    let spec: AccessSpec = serde_json::from_str(r#"{"sharedRepositories": ["ci/**"]}"#).unwrap();
    let repos = |r: &[&str]| r.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        refused_repository(Access::Push, &spec, "store", "apps", &repos(&["apps/**"])),
        None
    );
    assert!(
        refused_repository(Access::Push, &spec, "store", "apps", &repos(&["ci/**"]))
            .unwrap()
            .contains("ci/**")
    );
    assert_eq!(
        refused_repository(Access::Pull, &spec, "store", "apps", &repos(&["ci/app"])),
        None
    );
    assert!(refused_repository(Access::Pull, &spec, "store", "apps", &repos(&["**"])).is_some());
    assert_eq!(
        refused_repository(Access::Push, &spec, "store", "store", &repos(&["**"])),
        None,
        "the store's own namespace may name any repository"
    );
}

#[test]
fn the_user_file_keeps_its_users_but_not_reserved_names() {
    let account = accounts::Account {
        name: "push.ci.b".to_string(),
        htpasswd: "push.ci.b:$2y$10$hash".to_string(),
        policy: accounts::Policy {
            repositories: vec!["ci/**".to_string()],
            actions: vec![Action::Read],
        },
    };
    let merged = accounts::merged_htpasswd(
        Some("admin:$2y$x\npush.ci.b:$2y$forged\n\n"),
        std::slice::from_ref(&account),
    );
    assert_eq!(merged, "admin:$2y$x\npush.ci.b:$2y$10$hash\n");
}

#[test]
fn new_credentials_are_random_bcrypt_and_parse_back() {
    let (p1, line) = accounts::new_credentials("pull.a.b").unwrap();
    let (p2, _) = accounts::new_credentials("pull.a.b").unwrap();
    assert_ne!(p1, p2);
    assert!(p1.len() >= 43, "32 random bytes");
    let (user, hash) = line.split_once(':').unwrap();
    assert_eq!(user, "pull.a.b");
    assert!(bcrypt::verify(&p1, hash).unwrap());
    let data = BTreeMap::from([
        (
            accounts::password_key("pull.a.b"),
            k8s_openapi::ByteString(p1.into_bytes()),
        ),
        (
            accounts::htpasswd_key("pull.a.b"),
            k8s_openapi::ByteString(line.clone().into_bytes()),
        ),
        (
            accounts::policy_key("pull.a.b"),
            k8s_openapi::ByteString(br#"{"repositories":["a/**"],"actions":["read"]}"#.to_vec()),
        ),
        // Incomplete, or not a reserved name: left out.
        (
            accounts::htpasswd_key("pull.x.y"),
            k8s_openapi::ByteString(b"pull.x.y:h".to_vec()),
        ),
        (
            accounts::htpasswd_key("admin"),
            k8s_openapi::ByteString(b"admin:h".to_vec()),
        ),
        (
            accounts::policy_key("admin"),
            k8s_openapi::ByteString(br#"{"repositories":["**"],"actions":["delete"]}"#.to_vec()),
        ),
    ]);
    let parsed = accounts::Account::parse_all(&data);
    assert_eq!(parsed.len(), 1);
    assert_eq!(parsed[0].htpasswd, line);
    assert!(
        !format!("{:?}", parsed[0]).contains('$'),
        "Debug shows no hash"
    );
}

#[test]
fn docker_config_names_every_host_with_the_account() {
    let hosts = docker::hosts("hub.ns.svc:5000", Some("https://registry.example.com"));
    assert_eq!(hosts.preferred, "registry.example.com");
    let data = docker::secret_data(Access::Pull, &hosts, "pull.a.b", "zak_x", None);
    let config: serde_json::Value =
        serde_json::from_slice(&data[docker::PULL_CONFIG_KEY].0).unwrap();
    assert_eq!(config["auths"]["hub.ns.svc:5000"]["username"], "pull.a.b");
    assert_eq!(config["auths"]["registry.example.com"]["password"], "zak_x");
    assert!(!data.contains_key(docker::CA_KEY));
    let with_ca = docker::secret_data(Access::Push, &hosts, "u", "zak_x", Some("PEM"));
    assert!(with_ca.contains_key(docker::PUSH_CONFIG_KEY));
    assert_eq!(with_ca[docker::CA_KEY].0, b"PEM");
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn rotation_is_due_without_a_key_at_the_end_of_the_period_and_on_a_new_annotation_only() {
    let period = SignedDuration::from_hours(24);
    let state = State {
        key_id: Some("k1".into()),
        rotated_at: Some(t("2026-01-01T00:00:00Z")),
        rotate_request: Some("a".into()),
        ..State::default()
    };
    let soon = t("2026-01-01T12:00:00Z");
    assert_eq!(
        due(&State::default(), false, period, None, soon),
        Some(Due::First)
    );
    assert_eq!(due(&state, false, period, None, soon), Some(Due::First));
    assert_eq!(due(&state, true, period, None, soon), None);
    assert_eq!(due(&state, true, period, Some("a"), soon), None);
    assert_eq!(
        due(&state, true, period, Some("b"), soon),
        Some(Due::OnDemand)
    );
    assert_eq!(
        due(&state, true, period, None, t("2026-01-02T00:00:00Z")),
        Some(Due::Period)
    );
}

#[test]
fn a_secret_written_before_a_restart_is_adopted_not_rotated_again() {
    let grace = SignedDuration::from_hours(1);
    let status = State {
        key_id: Some("k1".into()),
        rotated_at: Some(t("2026-01-01T00:00:00Z")),
        ..State::default()
    };
    let secret = InSecret {
        key_id: Some("k2".into()),
        rotated_at: Some(t("2026-01-02T00:00:00Z")),
        rotate_request: Some("r".into()),
    };
    let adopted = status.clone().adopt(&secret, grace);
    assert_eq!(adopted.key_id.as_deref(), Some("k2"));
    assert_eq!(adopted.previous_key_id.as_deref(), Some("k1"));
    assert_eq!(adopted.previous_revoke_at, Some(t("2026-01-02T01:00:00Z")));
    assert_eq!(adopted.rotate_request.as_deref(), Some("r"));
    assert_eq!(
        due(
            &adopted,
            true,
            SignedDuration::from_hours(24),
            Some("r"),
            t("2026-01-02T00:30:00Z")
        ),
        None
    );
    assert!(!previous_expired(&adopted, t("2026-01-02T00:30:00Z")));
    assert!(previous_expired(&adopted, t("2026-01-02T01:00:00Z")));
    let same = InSecret {
        key_id: Some("k1".into()),
        ..InSecret::default()
    };
    assert_eq!(status.clone().adopt(&same, grace), status);
}
