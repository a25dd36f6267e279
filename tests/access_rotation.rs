//! Rotation of a push Secret without outage, on a real zot pod: on demand (the rotate annotation) and at the end of
//! its period; the previous credential keeps working for the grace period and is refused after it, the new one
//! works at once; and an operator restart neither rotates twice nor forgets to revoke. One test, with an operator
//! of its own that it stops and starts again.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use support::registry::htpasswd_line;

use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;
use support::operator::Operator;
use support::registry::{http, wait_ready_pods};
use support::{Flavour, TestNamespace, condition, eventually, get, kubectl};

const V: Flavour = Flavour::Vanilla;
const WAIT: Duration = Duration::from_secs(180);
const GRACE_SECONDS: u64 = 20;

fn data(secret: &Value, key: &str) -> String {
    let b64 = secret["data"][key].as_str().unwrap();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}

/// (key id, API key) the Secret holds.
fn held(ns: &str) -> (String, String) {
    let secret = get(V, ns, "secret/pipeline").expect("the push Secret exists");
    (
        secret["metadata"]["annotations"]["artifact.zotregistry.io/key-id"]
            .as_str()
            .unwrap()
            .to_string(),
        data(&secret, "password"),
    )
}

async fn ready_request(ns: &str) -> Value {
    eventually("zotpushsecret/pipeline Ready=True", WAIT, || async {
        let r = get(V, ns, "zotpushsecret/pipeline")?;
        (condition(&r, "Ready")?.0 == "True").then_some(r)
    })
    .await
}

#[tokio::test]
async fn a_rotated_credential_works_at_once_the_previous_one_until_its_grace_ends_and_a_restart_changes_nothing()
 {
    let operator = Operator::start(V, "tests-access-rotation", &[]);
    let ns = TestNamespace::new(
        V,
        "access-rotation",
        &[("pod-security.kubernetes.io/enforce", "restricted")],
    )
    .await;
    let users = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "users"},
        "stringData": {"htpasswd": format!("{}\n", htpasswd_line("admin", "admin-secret"))},
    });
    support::apply(V, &ns.name, &users.to_string());
    support::apply(
        V,
        &ns.name,
        "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: hub\nspec:\n  tls: {enabled: false}\n  rbac:\n    enabled: true\n    htpasswd: {name: users, key: htpasswd}\n",
    );
    support::ready(V, &ns.name, "hub").await;
    support::apply(
        V,
        &ns.name,
        &format!(
            "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotPushSecret\nmetadata:\n  name: pipeline\nspec:\n  store: {{name: hub}}\n  rotation: {{period: 1m, gracePeriod: {GRACE_SECONDS}s}}\n"
        ),
    );
    ready_request(&ns.name).await;
    let account = format!("push.{}.pipeline", ns.name);
    let pods = wait_ready_pods(V, &ns.name, "hub", 1).await;
    let registry = format!("{}:5000", pods[0].1);
    let tags = format!("http://{registry}/v2/{}/app/tags/list", ns.name);
    // 404: signed in and allowed, the repository does not exist; 401: the credential is refused.
    let answer = |key: &str| http("GET", &tags, &["-u", &format!("{account}:{key}")]).0;

    let (id1, key1) = held(&ns.name);
    assert_eq!(answer(&key1), 404, "the first credential works");

    // On demand.
    let (ok, _, err) = kubectl(
        V,
        &[
            "annotate",
            "-n",
            &ns.name,
            "zotpushsecret/pipeline",
            "artifact.zotregistry.io/rotate=1",
        ],
        None,
    );
    assert!(ok, "{err}");
    let (id2, key2) = eventually("the Secret to get a new key", WAIT, || async {
        let (id, key) = held(&ns.name);
        (id != id1).then_some((id, key))
    })
    .await;
    let rotated = Instant::now();
    assert_ne!(key1, key2);
    assert_eq!(answer(&key2), 404, "the new credential works at once");
    assert_eq!(
        answer(&key1),
        404,
        "the previous one keeps working during the grace period"
    );
    let request = ready_request(&ns.name).await;
    assert_eq!(request["status"]["previousKeyId"], id1.as_str());
    assert_eq!(request["status"]["keyId"], id2.as_str());
    let rotated_at = request["status"]["rotatedAt"].clone();

    // The operator stops before the grace period ends and comes back after it.
    operator.stop();
    tokio::time::sleep(Duration::from_secs(GRACE_SECONDS + 2).saturating_sub(rotated.elapsed()))
        .await;
    assert_eq!(
        answer(&key1),
        404,
        "nothing revokes while the operator is away (the key itself expires only after period + grace)"
    );
    let operator = Operator::start(V, "tests-access-rotation", &[]);
    eventually(
        "the previous key to be revoked after the restart",
        WAIT,
        || async { (answer(&key1) == 401).then_some(()) },
    )
    .await;
    assert_eq!(answer(&key2), 404, "the current credential still works");
    let request = ready_request(&ns.name).await;
    assert_eq!(
        request["status"]["keyId"],
        id2.as_str(),
        "not rotated again"
    );
    assert_eq!(request["status"]["rotatedAt"], rotated_at);
    assert!(request["status"]["previousKeyId"].is_null(), "{request}");
    assert_eq!(held(&ns.name).0, id2, "the Secret holds the same key");

    // At the end of the period (1m after the on-demand rotation) it rotates by itself.
    let (id3, key3) = eventually("the periodic rotation", WAIT, || async {
        let (id, key) = held(&ns.name);
        (id != id2).then_some((id, key))
    })
    .await;
    assert!(
        rotated.elapsed() >= Duration::from_secs(55),
        "the period (1m) was kept: {:?}",
        rotated.elapsed()
    );
    assert_eq!(answer(&key3), 404);
    assert_eq!(
        answer(&key2),
        404,
        "the previous one works during its grace"
    );
    let request = ready_request(&ns.name).await;
    assert_eq!(request["status"]["previousKeyId"], id2.as_str());
    assert_eq!(request["status"]["keyId"], id3.as_str());
    eventually(
        "the previous key to be refused after its grace",
        WAIT,
        || async { (answer(&key2) == 401).then_some(()) },
    )
    .await;
    assert_eq!(answer(&key3), 404);

    // Deleting the request revokes its key at once.
    let (ok, _, err) = kubectl(
        V,
        &[
            "delete",
            "-n",
            &ns.name,
            "zotpushsecret/pipeline",
            "--wait=true",
            "--timeout=120s",
        ],
        None,
    );
    assert!(ok, "{err}");
    let code = eventually("an answer from zot", WAIT, || async {
        let pods = wait_ready_pods(V, &ns.name, "hub", 1).await;
        let tags = format!("http://{}:5000/v2/{}/app/tags/list", pods[0].1, ns.name);
        let code = http("GET", &tags, &["-u", &format!("{account}:{key3}")]).0;
        (code != 0).then_some(code)
    })
    .await;
    assert_eq!(code, 401, "zot refuses the deleted request's key");
    operator.stop();
}
