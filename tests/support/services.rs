//! The servers outside the cluster that zot stores use (hack/services.sh): S3 (MinIO), Redis, a Google Cloud Storage
//! emulator (fake-gcs-server) and an Azure Blob Storage emulator (Azurite), at fixed addresses on the pod bridge that
//! zot pods and the tests on the host reach alike.
//!
//! S3 requests are SigV4-signed by curl (`--aws-sigv4`), Redis commands go through redis-cli: both from Debian
//! (hack/system-deps.sh), as the other tests use curl.
use std::process::Command;
use std::sync::OnceLock;

use super::repo_root;

pub const S3_ENDPOINT: &str = "http://10.250.255.2:9000";
/// host:port, as zot's S3 driver config names a region endpoint without scheme in some places.
pub const S3_HOST: &str = "10.250.255.2:9000";
pub const S3_REGION: &str = "us-east-1";

/// An S3 account of the platform's MinIO.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct S3Account {
    pub access_key: &'static str,
    pub secret_key: &'static str,
}

/// MinIO's root: every bucket.
pub const S3_ROOT: S3Account = S3Account {
    access_key: "zot-s3-root",
    secret_key: "zot-s3-root-secret",
};
/// The restricted second account: every S3 action, but only on buckets whose name starts with
/// [`S3_OTHER_BUCKET_PREFIX`]. Any other bucket is one "owned by another account" for it: HeadBucket, ListObjects
/// and PutObject answer 403 AccessDenied, CreateBucket too (MinIO has one bucket namespace without owners, so there
/// is no BucketAlreadyExists 409 as on AWS).
pub const S3_OTHER: S3Account = S3Account {
    access_key: "zot-s3-other",
    secret_key: "zot-s3-other-secret",
};
pub const S3_OTHER_BUCKET_PREFIX: &str = "other-";

pub const REDIS_HOST: &str = "10.250.255.3";
pub const REDIS_PORT: u16 = 6379;
pub const REDIS_ADDR: &str = "10.250.255.3:6379";
pub const REDIS_PASSWORD: &str = "zot-redis-secret";
pub const REDIS_URL: &str = "redis://:zot-redis-secret@10.250.255.3:6379";

/// fake-gcs-server, plain http, no authentication (the JSON API under /storage/v1).
pub const GCS_ENDPOINT: &str = "http://10.250.255.4:4443";

/// Azurite's blob service, path-style: the account is the first path segment.
pub const AZURE_BLOB_ENDPOINT: &str = "http://10.250.255.5:10000/devstoreaccount1";
pub const AZURE_BLOB_HOST: &str = "10.250.255.5:10000";
pub const AZURE_ACCOUNT: &str = "devstoreaccount1";
/// Azurite's well-known development account key.
pub const AZURE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

fn services_sh(args: &[&str]) {
    let out = Command::new(repo_root().join("hack/services.sh"))
        .args(args)
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("run hack/services.sh");
    assert!(
        out.status.success(),
        "hack/services.sh {} failed (see its output above; a server that cannot be built or a missing Debian \
         package fails the test, it is never skipped: hack/tools.sh, hack/system-deps.sh)",
        args.join(" ")
    );
}

/// Starts (or reuses) every server, once per test binary. Fails the test when one cannot be built or started.
pub fn ensure_up() {
    static UP: OnceLock<()> = OnceLock::new();
    UP.get_or_init(|| services_sh(&["up"]));
}

/// Stops and starts Redis (its data survives: append-only file) and waits until it answers again.
pub fn restart_redis() {
    ensure_up();
    services_sh(&["restart", "redis"]);
}

/// Where a request is sent from: the host, or inside a network namespace (a pod's, or a [`Sandbox`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Origin {
    #[default]
    Host,
    Netns(String),
}

impl Origin {
    pub fn command(&self, program: &str) -> Command {
        match self {
            Origin::Host => Command::new(program),
            Origin::Netns(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, program]);
                c
            }
        }
    }
}

/// What a HeadBucket says about a bucket to an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BucketState {
    /// 200: it exists and the account may use it.
    Exists,
    /// 404.
    Missing,
    /// 403: it exists (or the account may not even ask): another account's.
    Forbidden,
}

/// A tiny S3 client of one account (path-style requests, SigV4 by curl).
#[derive(Clone, Debug)]
pub struct S3 {
    pub account: S3Account,
    pub origin: Origin,
}

impl S3 {
    pub fn root() -> S3 {
        S3 {
            account: S3_ROOT,
            origin: Origin::Host,
        }
    }

    pub fn other() -> S3 {
        S3 {
            account: S3_OTHER,
            origin: Origin::Host,
        }
    }

    /// The same account, sending its requests from `origin`.
    pub fn via(mut self, origin: Origin) -> S3 {
        self.origin = origin;
        self
    }

    /// Status and body of a signed request; `path_and_query` starts with `/bucket`.
    pub fn request(
        &self,
        method: &str,
        path_and_query: &str,
        body: Option<&[u8]>,
    ) -> (u16, String) {
        let mut c = self.origin.command("curl");
        c.args(["-sS", "--max-time", "20", "-X", method, "-o", "-"])
            .args(["-w", "\n%{http_code}"])
            .args(["--aws-sigv4", &format!("aws:amz:{S3_REGION}:s3")])
            // curl 7.88 signs the payload's hash but does not send it, which S3 then takes for the empty body's:
            // sign it as unsigned instead.
            .args(["-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"])
            .args([
                "--user",
                &format!("{}:{}", self.account.access_key, self.account.secret_key),
            ]);
        if method == "HEAD" {
            c.arg("-I");
        }
        let tmp;
        if let Some(body) = body {
            tmp = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(tmp.path(), body).unwrap();
            c.arg("--data-binary")
                .arg(format!("@{}", tmp.path().display()))
                .args(["-H", "Content-Type: application/octet-stream"]);
        }
        let out = c
            .arg(format!("{S3_ENDPOINT}{path_and_query}"))
            .output()
            .expect("run curl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", text.as_str()));
        let code = code.trim().parse().unwrap_or(0);
        assert!(
            code != 0,
            "S3 {method} {path_and_query} got no answer: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (code, body.to_string())
    }

    pub fn bucket_state(&self, bucket: &str) -> BucketState {
        match self.request("HEAD", &format!("/{bucket}"), None) {
            (200, _) => BucketState::Exists,
            (404, _) => BucketState::Missing,
            (403, _) => BucketState::Forbidden,
            (code, body) => panic!("HeadBucket {bucket}: unexpected {code}: {body}"),
        }
    }

    /// Whether the bucket exists (as this account sees it: a forbidden bucket exists).
    pub fn bucket_exists(&self, bucket: &str) -> bool {
        self.bucket_state(bucket) != BucketState::Missing
    }

    /// Creates the bucket; the S3 error code (e.g. `AccessDenied`, `BucketAlreadyOwnedByYou`) if that fails.
    pub fn create_bucket(&self, bucket: &str) -> Result<(), String> {
        match self.request("PUT", &format!("/{bucket}"), None) {
            (200, _) => Ok(()),
            (code, body) => Err(error_code(code, &body)),
        }
    }

    pub fn put_object(&self, bucket: &str, key: &str, body: &[u8]) -> Result<(), String> {
        match self.request("PUT", &format!("/{bucket}/{key}"), Some(body)) {
            (200, _) => Ok(()),
            (code, body) => Err(error_code(code, &body)),
        }
    }

    /// Every key under `prefix` (ListObjectsV2, all pages); the S3 error code if listing fails.
    pub fn try_list_keys(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, String> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut q = format!("/{bucket}?list-type=2&prefix={}", encode(prefix));
            if let Some(t) = &token {
                q.push_str(&format!("&continuation-token={}", encode(t)));
            }
            let (code, body) = self.request("GET", &q, None);
            if code != 200 {
                return Err(error_code(code, &body));
            }
            keys.extend(xml_values(&body, "Key"));
            token = xml_values(&body, "NextContinuationToken")
                .into_iter()
                .next();
            if token.is_none() {
                return Ok(keys);
            }
        }
    }

    pub fn list_keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        self.try_list_keys(bucket, prefix)
            .unwrap_or_else(|e| panic!("listing s3://{bucket}/{prefix} failed: {e}"))
    }
}

/// A bucket created by the restricted other account (its name must start with [`S3_OTHER_BUCKET_PREFIX`]).
pub fn create_bucket_as_other(bucket: &str) {
    assert!(
        bucket.starts_with(S3_OTHER_BUCKET_PREFIX),
        "the other account may only create buckets named {S3_OTHER_BUCKET_PREFIX}*"
    );
    S3::other()
        .create_bucket(bucket)
        .unwrap_or_else(|e| panic!("creating bucket {bucket} as the other account: {e}"));
}

fn error_code(status: u16, body: &str) -> String {
    xml_values(body, "Code")
        .into_iter()
        .next()
        .unwrap_or_else(|| format!("HTTP {status}: {body}"))
}

/// The text of every `<tag>…</tag>` (S3's XML has no attributes on these, and no nesting of the same tag).
fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        rest = &rest[i + open.len()..];
        let Some(j) = rest.find(&close) else { break };
        out.push(unescape(&rest[..j]));
        rest = &rest[j + close.len()..];
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Percent-encoding of a query value (RFC 3986 unreserved characters kept, as SigV4 wants).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Output of redis-cli with the password (`--no-auth-warning`); `password: None` sends none.
pub fn redis_cli(origin: &Origin, password: Option<&str>, args: &[&str]) -> String {
    let mut c = origin.command("redis-cli");
    c.args([
        "-h",
        REDIS_HOST,
        "-p",
        &REDIS_PORT.to_string(),
        "--no-auth-warning",
    ]);
    if let Some(p) = password {
        c.args(["-a", p]);
    }
    let out = c.args(args).output().expect("run redis-cli");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
    .trim()
    .to_string()
}

/// A throwaway network namespace on the pod bridge, set up as zot-podrunner sets up a pod's: a veth pair into
/// zotpods0, one address in 10.250.0.0/16 and no default route. Its address comes from 10.250.254.0/24, which no
/// pod range and no server uses. Deleted on drop.
pub struct Sandbox {
    pub netns: String,
    pub ip: String,
    veth: String,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        ensure_up(); // the bridge exists from here on
        let n = (std::process::id() + NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)) % 250;
        let ip = format!("10.250.254.{}", n + 2);
        let sandbox = Sandbox {
            netns: format!("zot-svctest-{}", n + 2),
            veth: format!("zt-svctest-{}", n + 2),
            ip,
        };
        sandbox.destroy();
        let ns = sandbox.netns.as_str();
        let addr = format!("{}/16", sandbox.ip);
        for args in [
            vec!["netns", "add", ns],
            vec![
                "link",
                "add",
                &sandbox.veth,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                ns,
            ],
            vec!["link", "set", &sandbox.veth, "master", "zotpods0", "up"],
            vec!["-n", ns, "addr", "add", &addr, "dev", "eth0"],
            vec!["-n", ns, "link", "set", "eth0", "up"],
            vec!["-n", ns, "link", "set", "lo", "up"],
        ] {
            let out = Command::new("ip").args(&args).output().expect("run ip");
            assert!(
                out.status.success(),
                "ip {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        sandbox
    }

    pub fn origin(&self) -> Origin {
        Origin::Netns(self.netns.clone())
    }

    fn destroy(&self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.netns])
            .output();
        let _ = Command::new("ip")
            .args(["link", "delete", &self.veth])
            .output();
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.destroy();
    }
}
