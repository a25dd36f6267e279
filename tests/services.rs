//! The servers outside the cluster (hack/services.sh) work, from the host and from a network namespace on the pod
//! bridge set up like a zot pod's (no default route: it reaches only the bridge network).
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use support::services::{
    self, AZURE_BLOB_ENDPOINT, BucketState, GCS_ENDPOINT, Origin, REDIS_PASSWORD, S3,
    S3_OTHER_BUCKET_PREFIX, Sandbox, redis_cli,
};

fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}{}-{nanos}", std::process::id())
}

/// curl from an origin: status and body.
fn curl(origin: &Origin, method: &str, url: &str, extra: &[&str]) -> (u16, String) {
    support::registry::http_with(origin.command("curl"), method, url, extra)
}

#[test]
fn a_pod_network_namespace_reaches_the_servers_and_nothing_off_the_bridge() {
    let sandbox = Sandbox::new();
    let routes = std::process::Command::new("ip")
        .args(["-n", &sandbox.netns, "route", "show"])
        .output()
        .unwrap();
    let routes = String::from_utf8_lossy(&routes.stdout);
    assert!(
        !routes.contains("default"),
        "a pod has no default route: {routes}"
    );
    let route = |to: &str| {
        std::process::Command::new("ip")
            .args(["-n", &sandbox.netns, "route", "get", to])
            .output()
            .unwrap()
    };
    for server in [
        "10.250.255.2",
        "10.250.255.3",
        "10.250.255.4",
        "10.250.255.5",
        "10.250.0.1",
    ] {
        let r = route(server);
        assert!(
            r.status.success(),
            "no route to {server}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
    }
    let off = route("1.1.1.1");
    assert!(
        !off.status.success(),
        "a pod reaches 1.1.1.1: {}",
        String::from_utf8_lossy(&off.stdout)
    );
}

#[test]
fn s3_root_and_the_restricted_account_from_host_and_pod_network() {
    services::ensure_up();
    let sandbox = Sandbox::new();
    for origin in [Origin::Host, sandbox.origin()] {
        let root = S3::root().via(origin.clone());
        let bucket = unique("svc-");
        assert_eq!(root.bucket_state(&bucket), BucketState::Missing);
        root.create_bucket(&bucket).unwrap();
        assert!(root.bucket_exists(&bucket));
        for key in ["docker/registry/v2/a", "docker/registry/v2/b", "other/c"] {
            root.put_object(&bucket, key, b"hello").unwrap();
        }
        assert_eq!(
            root.list_keys(&bucket, "docker/"),
            ["docker/registry/v2/a", "docker/registry/v2/b"]
        );
        assert_eq!(root.list_keys(&bucket, "").len(), 3);

        // The restricted account: root's bucket is another account's.
        let other = S3::other().via(origin.clone());
        assert_eq!(other.bucket_state(&bucket), BucketState::Forbidden);
        assert_eq!(
            other.try_list_keys(&bucket, "").unwrap_err(),
            "AccessDenied"
        );
        assert_eq!(
            other.put_object(&bucket, "x", b"x").unwrap_err(),
            "AccessDenied"
        );
        assert_eq!(
            other.create_bucket(&unique("svc-")).unwrap_err(),
            "AccessDenied"
        );
        // Its own bucket works for it, and is visible to root.
        let own = unique(S3_OTHER_BUCKET_PREFIX);
        if origin == Origin::Host {
            services::create_bucket_as_other(&own);
        } else {
            other.create_bucket(&own).unwrap();
        }
        other.put_object(&own, "k", b"v").unwrap();
        assert_eq!(other.list_keys(&own, ""), ["k"]);
        assert_eq!(root.bucket_state(&own), BucketState::Exists);
    }
}

#[test]
fn redis_with_its_password_from_host_and_pod_network_and_across_a_restart() {
    services::ensure_up();
    let sandbox = Sandbox::new();
    let key = unique("svc-");
    for origin in [Origin::Host, sandbox.origin()] {
        assert_eq!(redis_cli(&origin, Some(REDIS_PASSWORD), &["PING"]), "PONG");
        assert!(
            redis_cli(&origin, None, &["PING"]).contains("NOAUTH"),
            "redis answers without its password"
        );
        assert!(
            redis_cli(&origin, Some("wrong"), &["PING"]).contains("WRONGPASS"),
            "redis answers with a wrong password"
        );
    }
    assert_eq!(
        redis_cli(
            &sandbox.origin(),
            Some(REDIS_PASSWORD),
            &["SET", &key, "v1"]
        ),
        "OK"
    );
    assert_eq!(
        redis_cli(&Origin::Host, Some(REDIS_PASSWORD), &["GET", &key]),
        "v1"
    );
    services::restart_redis();
    assert_eq!(
        redis_cli(&sandbox.origin(), Some(REDIS_PASSWORD), &["GET", &key]),
        "v1",
        "redis keeps its data across restart_redis()"
    );
}

#[test]
fn fake_gcs_lists_and_creates_buckets_from_host_and_pod_network() {
    services::ensure_up();
    let sandbox = Sandbox::new();
    for origin in [Origin::Host, sandbox.origin()] {
        let bucket = unique("svc-");
        let (code, body) = curl(
            &origin,
            "POST",
            &format!("{GCS_ENDPOINT}/storage/v1/b?project=test"),
            &[
                "-H",
                "Content-Type: application/json",
                "--data",
                &format!(r#"{{"name":"{bucket}"}}"#),
            ],
        );
        assert_eq!(code, 200, "creating a GCS bucket: {body}");
        let (code, body) = curl(&origin, "GET", &format!("{GCS_ENDPOINT}/storage/v1/b"), &[]);
        assert_eq!(code, 200, "listing GCS buckets: {body}");
        let list: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|b| b["name"] == bucket.as_str()),
            "{bucket} is not in {body}"
        );
        let (code, body) = curl(
            &origin,
            "POST",
            &format!(
                "{GCS_ENDPOINT}/upload/storage/v1/b/{bucket}/o?uploadType=media&name=docker/a"
            ),
            &["--data-binary", "hello"],
        );
        assert_eq!(code, 200, "uploading a GCS object: {body}");
        let (code, body) = curl(
            &origin,
            "GET",
            &format!("{GCS_ENDPOINT}/storage/v1/b/{bucket}/o/docker%2Fa?alt=media"),
            &[],
        );
        assert_eq!((code, body.as_str()), (200, "hello"));
    }
}

#[test]
fn azurite_blob_answers_from_host_and_pod_network() {
    services::ensure_up();
    let sandbox = Sandbox::new();
    for origin in [Origin::Host, sandbox.origin()] {
        // Unsigned: Azurite's blob service answers as Azure does, 403 with an Azure error document.
        let (code, body) = curl(
            &origin,
            "GET",
            &format!("{AZURE_BLOB_ENDPOINT}?comp=list"),
            &["-H", "x-ms-version: 2021-12-02"],
        );
        assert_eq!(code, 403, "{body}");
        assert!(
            body.contains("<Code>AuthorizationFailure</Code>")
                || body.contains("<Code>AuthenticationFailed</Code>")
                || body.contains("<Code>NoAuthenticationInformation</Code>"),
            "not an Azure error document: {body}"
        );
    }
}
