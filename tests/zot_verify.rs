//! Every rendered config, verified by zot itself: `zot verify` (zot v2.1.20 built by hack/tools.sh from its source
//! release) must accept the config of every golden file, every sample on both platforms, every store of the
//! admission matrix and a fixed-seed sample of the property generator's accepted specs. A spec the CRD and
//! `validate` accept and zot refuses is a bug.
//!
//! zot reads the files its config names (the OpenID credentials file at start, certificates and htpasswd when it
//! serves), so each config is verified as a pod would see it: the files of every volume the zot container mounts
//! (the rendered config Secret, the OIDC Secret the operator composes, the user's Secrets as the field docs
//! describe them, with throwaway certificates from `openssl` for their TLS keys, the service-CA stand-in on
//! OpenShift…) are written under a temporary root at their mount paths, and the config's paths under a mount are
//! rewritten to that root. Every file the config names must then exist, and `zot verify` must accept it.
//!
//! The typed model (`src/zot`) is also checked against `zot schema`, zot's own JSON Schema of its config: every key
//! of every rendered config and of every upstream example (parsed by the model and serialized back), and every key
//! the model's structs declare at those places, must exist in zot's schema with a compatible JSON type.
//!
//! A missing zot binary fails the tests with hack/tools.sh's message (`support::tool`); nothing is skipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod stores;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Instant;

use k8s_openapi::api::core::v1::{ConfigMap, KeyToPath, PodSpec, Secret, Volume};
use serde_json::{Value, json};
use stores::{MATRIX_ACCEPTED, Prepared, Store, matrix, prepare, prepare_rendered, route_stores};
use tempfile::TempDir;
use zot_operator::api::names::CONFIG_FILE;
use zot_operator::platform::Platform;
use zot_operator::zot::ZotConfig;

/// How many `zot verify` processes run at once, over every test of this binary.
const PARALLEL: usize = 2;
/// Specs of the property generator verified (the same ones on every run: a fixed seed).
const RANDOM_SPECS: usize = 300;
const RANDOM_SEED: u8 = 10;
/// What the user Secrets of `stores::user_secrets` and the service-CA stand-in hold.
const PLACEHOLDER: &[u8] = b"placeholder";

fn platforms() -> [(&'static str, Platform); 2] {
    [
        ("kubernetes", Platform::kubernetes()),
        (
            "openshift",
            Platform::openshift(Some("apps.example.com".to_string())),
        ),
    ]
}

/// A throwaway self-signed certificate and its key (PEM), made once per test run by `openssl`.
struct Pki {
    cert: Vec<u8>,
    key: Vec<u8>,
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = TempDir::new().unwrap();
        let out = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=zot.test",
                "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout",
            ])
            .arg(dir.path().join("tls.key"))
            .arg("-out")
            .arg(dir.path().join("tls.crt"))
            .output()
            .expect("run openssl (needed for throwaway TLS certificates)");
        assert!(
            out.status.success(),
            "openssl req failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Pki {
            cert: std::fs::read(dir.path().join("tls.crt")).unwrap(),
            key: std::fs::read(dir.path().join("tls.key")).unwrap(),
        }
    })
}

/// What a placeholder key of a user Secret holds in these tests: certificates and keys are real ones.
fn content(key: &str, value: Vec<u8>) -> Vec<u8> {
    if value != PLACEHOLDER {
        return value;
    }
    if key.ends_with(".crt") || key.ends_with(".pem") {
        pki().cert.clone()
    } else if key == "tls.key" {
        pki().key.clone()
    } else {
        value
    }
}

/// The keys of every Secret and ConfigMap of `prepared`, by kind and name.
type Sources = BTreeMap<(&'static str, String), BTreeMap<String, Vec<u8>>>;

fn sources(prepared: &Prepared) -> Sources {
    let mut sources = Sources::new();
    for object in &prepared.objects {
        let name = object["metadata"]["name"].as_str().unwrap().to_string();
        let mut keys = BTreeMap::new();
        let kind = match object["kind"].as_str().unwrap() {
            "Secret" => {
                let secret: Secret = serde_json::from_value(object.clone()).unwrap();
                for (k, v) in secret.data.into_iter().flatten() {
                    keys.insert(k, v.0);
                }
                for (k, v) in secret.string_data.into_iter().flatten() {
                    keys.insert(k, v.into_bytes());
                }
                "Secret"
            }
            "ConfigMap" => {
                let map: ConfigMap = serde_json::from_value(object.clone()).unwrap();
                for (k, v) in map.data.into_iter().flatten() {
                    keys.insert(k, v.into_bytes());
                }
                for (k, v) in map.binary_data.into_iter().flatten() {
                    keys.insert(k, v.0);
                }
                "ConfigMap"
            }
            _ => continue,
        };
        let keys = keys.into_iter().map(|(k, v)| (k.clone(), content(&k, v)));
        sources.entry((kind, name)).or_default().extend(keys);
    }
    sources
}

/// The files (path in the volume → content) of a Secret or ConfigMap projected with `items`, or None when the
/// source is missing and optional.
fn key_files(
    sources: &Sources,
    kind: &'static str,
    name: &str,
    items: Option<&Vec<KeyToPath>>,
    optional: Option<bool>,
) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let optional = optional.unwrap_or(false);
    let Some(keys) = sources.get(&(kind, name.to_string())) else {
        return if optional {
            Ok(BTreeMap::new())
        } else {
            Err(format!("{kind} {name} is mounted but nobody creates it"))
        };
    };
    let Some(items) = items else {
        return Ok(keys.clone());
    };
    let mut files = BTreeMap::new();
    for item in items {
        match keys.get(&item.key) {
            Some(value) => {
                files.insert(item.path.clone(), value.clone());
            }
            None if optional => {}
            None => return Err(format!("key {} of {kind} {name} is missing", item.key)),
        }
    }
    Ok(files)
}

/// The files of a volume, or None for a directory volume (emptyDir, claims).
fn volume_files(
    volume: &Volume,
    sources: &Sources,
) -> Result<Option<BTreeMap<String, Vec<u8>>>, String> {
    if let Some(s) = &volume.secret {
        let name = s.secret_name.as_deref().unwrap_or_default();
        return key_files(sources, "Secret", name, s.items.as_ref(), s.optional).map(Some);
    }
    if let Some(c) = &volume.config_map {
        return key_files(sources, "ConfigMap", &c.name, c.items.as_ref(), c.optional).map(Some);
    }
    if let Some(projected) = &volume.projected {
        let mut files = BTreeMap::new();
        for source in projected.sources.iter().flatten() {
            if let Some(s) = &source.secret {
                files.extend(key_files(
                    sources,
                    "Secret",
                    &s.name,
                    s.items.as_ref(),
                    s.optional,
                )?);
            }
            if let Some(c) = &source.config_map {
                files.extend(key_files(
                    sources,
                    "ConfigMap",
                    &c.name,
                    c.items.as_ref(),
                    c.optional,
                )?);
            }
        }
        return Ok(Some(files));
    }
    Ok(None)
}

/// `path` under `root`.
fn under(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

/// Whether the absolute `path` is `mount` or inside it.
fn is_under(path: &str, mount: &str) -> bool {
    let mount = mount.trim_end_matches('/');
    path == mount
        || path
            .strip_prefix(mount)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Keys whose value is a file zot reads (absolute paths): the file must exist where the pod would see it.
fn names_a_file(key: &str, parent: Option<&str>) -> bool {
    matches!(
        key,
        "cert" | "key" | "cacert" | "credentialsFile" | "keyfile" | "sessionKeysFile"
    ) || (key == "path" && parent == Some("htpasswd"))
}

/// Rewrites every string of `value` that is a path inside one of `mounts` to the same path under `root`, and
/// returns the files the config names that do not exist there (or nowhere, when outside every mount).
fn rewrite_paths(
    value: &mut Value,
    key: Option<&str>,
    parent: Option<&str>,
    mounts: &[String],
    root: &Path,
) -> Vec<String> {
    let mut missing = Vec::new();
    match value {
        Value::String(s) if s.starts_with('/') => {
            let inside = mounts.iter().any(|m| is_under(s, m));
            let file = key.is_some_and(|k| names_a_file(k, parent));
            if inside {
                let path = under(root, s);
                if file && !path.is_file() {
                    missing.push(format!("{} (no such file in the pod)", s));
                }
                *s = path.to_string_lossy().into_owned();
            } else if file {
                missing.push(format!("{s} (outside every volume the container mounts)"));
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                missing.extend(rewrite_paths(v, Some(k), key, mounts, root));
            }
        }
        Value::Array(items) => {
            for v in items {
                missing.extend(rewrite_paths(v, key, parent, mounts, root));
            }
        }
        _ => {}
    }
    missing
}

/// The files one pod of a store sees, written under a temporary root, and zot's config file there with its paths
/// rewritten to the root.
struct PodFiles {
    root: TempDir,
    config: PathBuf,
}

fn materialize(prepared: &Prepared) -> Result<PodFiles, String> {
    let sources = sources(prepared);
    let spec: PodSpec =
        serde_json::from_value(prepared.workload["spec"]["template"]["spec"].clone()).unwrap();
    let container = spec
        .containers
        .iter()
        .find(|c| c.name == "zot")
        .ok_or("no container named zot")?;
    let args = container.args.clone().unwrap_or_default();
    let config = match args.as_slice() {
        [serve, config] if serve == "serve" => config.clone(),
        other => return Err(format!("zot's args are not `serve <config>`: {other:?}")),
    };
    let root = TempDir::new().map_err(|e| e.to_string())?;
    let mut volumes: BTreeMap<String, Volume> = spec
        .volumes
        .iter()
        .flatten()
        .map(|v| (v.name.clone(), v.clone()))
        .collect();
    // A StatefulSet's claims: a directory each, like an emptyDir.
    for template in prepared.workload["spec"]["volumeClaimTemplates"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let name = template["metadata"]["name"].as_str().unwrap().to_string();
        volumes.insert(
            name.clone(),
            Volume {
                name,
                empty_dir: Some(Default::default()),
                ..Volume::default()
            },
        );
    }
    let mut mounts = Vec::new();
    for mount in container.volume_mounts.iter().flatten() {
        let volume = volumes
            .get(&mount.name)
            .ok_or_else(|| format!("volumeMount {} names no volume", mount.name))?;
        let target = under(root.path(), &mount.mount_path);
        let write = |path: &Path, bytes: &[u8]| -> Result<(), String> {
            std::fs::create_dir_all(path.parent().unwrap()).map_err(|e| e.to_string())?;
            std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
        };
        match (volume_files(volume, &sources)?, mount.sub_path.as_deref()) {
            (None, _) => std::fs::create_dir_all(&target).map_err(|e| e.to_string())?,
            (Some(files), Some(sub_path)) if !sub_path.is_empty() => {
                let bytes = files.get(sub_path).ok_or_else(|| {
                    format!("subPath {sub_path} of volume {} does not exist", mount.name)
                })?;
                write(&target, bytes)?;
            }
            (Some(files), _) => {
                std::fs::create_dir_all(&target).map_err(|e| e.to_string())?;
                for (path, bytes) in files {
                    write(&target.join(path), &bytes)?;
                }
            }
        }
        mounts.push(mount.mount_path.clone());
    }
    if !mounts.iter().any(|m| is_under(&config, m)) {
        return Err(format!("the config file {config} is in no mounted volume"));
    }
    let path = under(root.path(), &config);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("the config file {config} is not in its volume: {e}"))?;
    let mut value: Value =
        serde_json::from_str(&text).map_err(|e| format!("{config} is not JSON: {e}"))?;
    let missing = rewrite_paths(&mut value, None, None, &mounts, root.path());
    if !missing.is_empty() {
        return Err(format!(
            "the config names files the pod does not have: {}",
            missing.join(", ")
        ));
    }
    std::fs::write(&path, serde_json::to_string_pretty(&value).unwrap())
        .map_err(|e| e.to_string())?;
    Ok(PodFiles { root, config: path })
}

/// Limits the `zot verify` processes of every test of this binary to [`PARALLEL`].
struct Slots {
    used: Mutex<usize>,
    freed: Condvar,
}

static SLOTS: Slots = Slots {
    used: Mutex::new(0),
    freed: Condvar::new(),
};

impl Slots {
    fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        let mut used = self.used.lock().unwrap();
        while *used >= PARALLEL {
            used = self.freed.wait(used).unwrap();
        }
        *used += 1;
        drop(used);
        let result = f();
        *self.used.lock().unwrap() -= 1;
        self.freed.notify_one();
        result
    }
}

/// Runs `zot verify` on the config of `prepared`, as one of its pods sees it.
fn zot_verify(prepared: &Prepared) -> Result<(), String> {
    let files = materialize(prepared)?;
    let out = SLOTS.run(|| {
        Command::new(support::tool("zot"))
            .arg("verify")
            .arg(&files.config)
            .current_dir(files.root.path())
            .output()
            .expect("run zot verify")
    });
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "zot verify refused it ({}):\n{}{}\n--- config (paths rewritten under {}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        files.root.path().display(),
        std::fs::read_to_string(&files.config).unwrap_or_default()
    ))
}

/// One config to verify: a name that says where it comes from, and the store's objects.
struct Case {
    name: String,
    /// The store's spec, printed when zot refuses its config.
    spec: Value,
    prepared: Prepared,
}

/// Verifies every case, [`PARALLEL`] at a time; the failures, one message each.
fn verify_all(cases: &[Case]) -> Vec<String> {
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL {
            scope.spawn(|| {
                while let Some(case) = cases.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if let Err(e) = zot_verify(&case.prepared) {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{}: {e}\n--- spec: {}", case.name, case.spec));
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    failures
}

/// Verifies `cases`, failing the test with every refusal; prints how many and how long.
fn assert_verified(what: &str, cases: &[Case]) {
    let start = Instant::now();
    let failures = verify_all(cases);
    eprintln!(
        "{what}: {} configs verified by zot in {:.1}s",
        cases.len(),
        start.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of {} {what} configs are refused:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

fn namespace_of(store: &Store) -> String {
    store.object["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default")
        .to_string()
}

/// Every golden file (tests/golden/<sample>.<platform>.yaml) with its sample's user and OIDC Secrets.
fn golden_cases() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut cases = Vec::new();
    for (stem, store) in stores::sample_files() {
        for (platform_name, platform) in platforms() {
            let file = dir.join(format!("{stem}.{platform_name}.yaml"));
            let rendered = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            cases.push(Case {
                name: format!("golden {}", file.file_name().unwrap().to_string_lossy()),
                spec: store.spec().clone(),
                prepared: prepare_rendered(&store, &namespace_of(&store), &platform, &rendered),
            });
        }
    }
    cases
}

/// `stores` rendered for both platforms; the names of those `validate` refuses.
fn rendered_cases(what: &str, stores: &[Store]) -> (Vec<Case>, Vec<String>) {
    let mut cases = Vec::new();
    let mut refused = Vec::new();
    for (platform_name, platform) in platforms() {
        for store in stores {
            let name = format!("{what} {} on {platform_name}", store.name);
            match prepare(store, &namespace_of(store), &platform) {
                Some(prepared) => cases.push(Case {
                    name,
                    spec: store.spec().clone(),
                    prepared,
                }),
                None => refused.push(name),
            }
        }
    }
    (cases, refused)
}

/// The fixed-seed random specs, each under a name that says which it is.
fn random_stores() -> Vec<Store> {
    stores::random::accepted(RANDOM_SPECS, RANDOM_SEED)
        .into_iter()
        .enumerate()
        .map(|(i, object)| Store {
            name: format!("random-{i}"),
            object,
        })
        .collect()
}

#[test]
fn zot_accepts_every_golden_config() {
    let cases = golden_cases();
    assert_eq!(cases.len(), 2 * stores::sample_files().len());
    assert_verified("golden", &cases);
}

#[test]
fn zot_accepts_every_sample_and_route_store_on_both_platforms() {
    let mut all = stores::samples();
    all.extend(route_stores());
    let (cases, refused) = rendered_cases("sample", &all);
    assert!(refused.is_empty(), "validate refuses {refused:?}");
    assert_verified("sample and Route store", &cases);
}

#[test]
fn zot_accepts_every_store_of_the_admission_matrix_on_both_platforms() {
    let (cases, _) = rendered_cases("matrix", &matrix());
    assert_eq!(cases.len(), 2 * MATRIX_ACCEPTED);
    assert_verified("admission matrix", &cases);
}

/// Hand-picked edges of what the CRD allows, where zot's own checks are stricter than a type: each one `validate`
/// accepts must be accepted by zot too.
fn edge_stores() -> Vec<Store> {
    let mut stores = Vec::new();
    for (i, path) in [
        "/",
        "/metrics/",
        "/a//metrics",
        "/a/./metrics",
        "/a/../metrics",
        "/a/..",
        "/internal/metrics.v1",
    ]
    .into_iter()
    .enumerate()
    {
        stores.push(Store::new(
            &format!("metrics-path-{i}"),
            json!({"metrics": {"enabled": true, "prometheus": {"path": path}}}),
        ));
    }
    let sync = |registry: Value| json!({"extensions": {"sync": {"enabled": true, "registries": [registry]}}});
    stores.extend([
        Store::new(
            "sync-on-demand",
            sync(json!({"urls": ["https://registry-1.docker.io"], "onDemand": true})),
        ),
        Store::new(
            "sync-periodic",
            sync(json!({"urls": ["https://quay.io"], "onDemand": false, "pollInterval": "1h30m"})),
        ),
        Store::new(
            "cve-shortest-interval",
            json!({"extensions": {"search": {"enabled": true, "cve": {"enabled": true, "updateInterval": "2h"}}}}),
        ),
        Store::new(
            "rbac-without-authentication",
            json!({"rbac": {"enabled": true, "policies": [{"repositories": ["team/**"], "users": ["ann"],
                "actions": ["read"]}]}}),
        ),
        Store::new(
            "rbac-anonymous-only",
            json!({"rbac": {"enabled": true, "defaultPolicy": ["read"]}}),
        ),
        Store::new(
            "retention-every-setting",
            json!({"storage": {"gc": true, "gcInterval": "10s", "gcDelay": "1s", "retention": {
                "dryRun": true, "delay": "1s", "policies": [
                    {"repositories": ["team/**", "tools/*"], "deleteReferrers": true, "deleteUntagged": false,
                     "keepTags": [{"patterns": ["^v[0-9]+\\.[0-9]+$", "latest"], "mostRecentlyPushedCount": 2,
                                   "mostRecentlyPulledCount": 1, "pushedWithin": "720h", "pulledWithin": "1h30m"},
                                  {}]},
                    {"repositories": ["**"]}]}}}),
        ),
        Store::new(
            "cve-mirrors-and-sbom",
            json!({"extensions": {"search": {"enabled": true, "cve": {"enabled": true,
                "dbRepository": "mirror.example.com:8443/aquasecurity/trivy-db:2",
                "javaDbRepository": "mirror.example.com/aquasecurity/trivy-java-db"}}},
                "supplyChain": {"enabled": true, "sbom": {"enabled": true, "defaultFormat": "cyclonedx"}}}),
        ),
        Store::new(
            "signing-default-secret",
            json!({"supplyChain": {"enabled": true, "signing": {"enabled": true}}}),
        ),
    ]);
    stores
}

#[test]
fn zot_accepts_every_edge_case_validate_accepts() {
    let stores = edge_stores();
    let (cases, refused) = rendered_cases("edge", &stores);
    eprintln!("edge cases refused by validate: {refused:?}");
    assert!(
        cases
            .iter()
            .any(|c| c.name.starts_with("edge metrics-path-6 ")),
        "validate refuses a clean metrics path: {refused:?}"
    );
    assert_verified("edge case", &cases);
}

#[test]
fn zot_accepts_every_random_spec_validate_accepts() {
    let stores = random_stores();
    assert_eq!(stores.len(), RANDOM_SPECS);
    let (cases, refused) = rendered_cases("property", &stores);
    assert!(refused.is_empty(), "validate refuses {refused:?}");
    assert_verified("property generator", &cases);
}

/// The check can fail: a key zot does not know, a file the config names that the pod lacks, and a config zot
/// refuses for its content are each reported.
#[test]
fn the_check_fails_when_zot_refuses_a_config_or_a_named_file_is_missing() {
    let keycloak = Store::new(
        "control",
        json!({"rbac": {"enabled": true, "keycloak": {"url": "https://sso.example.com", "realm": "r",
            "clientId": "zot", "clientSecretRef": {"name": "kc", "key": "secret"}}}}),
    );
    let platform = Platform::kubernetes();
    let good = prepare(&keycloak, "team", &platform).unwrap();
    zot_verify(&good).unwrap();

    let with_config = |edit: &dyn Fn(&mut Value)| {
        let mut prepared = prepare(&keycloak, "team", &platform).unwrap();
        let secret = prepared
            .objects
            .iter_mut()
            .find(|o| o["stringData"][CONFIG_FILE].is_string())
            .unwrap();
        let mut config: Value =
            serde_json::from_str(secret["stringData"][CONFIG_FILE].as_str().unwrap()).unwrap();
        edit(&mut config);
        secret["stringData"][CONFIG_FILE] = json!(config.to_string());
        prepared
    };
    let unknown = with_config(&|c| c["http"]["unknownKey"] = json!(true));
    let err = zot_verify(&unknown).unwrap_err();
    assert!(err.contains("zot verify refused it"), "{err}");

    let bad_value = with_config(&|c| c["http"]["port"] = json!("not-a-port"));
    let bad_policy = with_config(&|c| {
        c["http"]["accessControl"] = json!({"repositories": {"**": {"policies": [{"users": ["ann"],
            "actions": ["read"]}]}}});
        c["http"]["auth"] = json!({});
    });
    let refused: Vec<bool> = [bad_value, bad_policy]
        .iter()
        .map(|p| zot_verify(p).is_err())
        .collect();
    assert!(
        refused.iter().any(|r| *r),
        "zot accepted a bad port and access control without authentication"
    );

    let mut no_oidc = prepare(&keycloak, "team", &platform).unwrap();
    no_oidc
        .objects
        .retain(|o| !o["metadata"]["name"].as_str().unwrap().ends_with("-oidc"));
    let err = zot_verify(&no_oidc).unwrap_err();
    assert!(err.contains("nobody creates it"), "{err}");
}

// ---------------------------------------------------------------------------------------------------------------
// The typed model against `zot schema`.

/// zot's JSON Schema of its config, printed by `zot schema`.
fn zot_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let out = Command::new(support::tool("zot"))
            .arg("schema")
            .output()
            .expect("run zot schema");
        assert!(
            out.status.success(),
            "zot schema failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("zot schema prints JSON")
    })
}

/// `schema` with its `$ref` followed (to `#/$defs/…` or `#/definitions/…` of the root).
fn resolve<'a>(root: &'a Value, mut schema: &'a Value) -> &'a Value {
    while let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let pointer = reference.trim_start_matches('#');
        schema = root
            .pointer(pointer)
            .unwrap_or_else(|| panic!("zot's schema has no {reference}"));
    }
    schema
}

/// The alternatives of `schema`, resolved: itself, or each member of its anyOf/oneOf/allOf (how zot's schema
/// says a pointer may also be null).
fn alternatives<'a>(root: &'a Value, schema: &'a Value) -> Vec<&'a Value> {
    let schema = resolve(root, schema);
    let mut out = Vec::new();
    let mut combined = false;
    for combinator in ["anyOf", "oneOf", "allOf"] {
        for member in schema
            .get(combinator)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            combined = true;
            out.extend(alternatives(root, member));
        }
    }
    if !combined {
        out.push(schema);
    }
    out
}

/// The JSON types `schema` allows; None when it allows any (Go `any`).
fn types(schema: &Value) -> Option<BTreeSet<String>> {
    match schema.get("type") {
        Some(Value::String(t)) => Some(BTreeSet::from([t.clone()])),
        Some(Value::Array(ts)) => Some(
            ts.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect(),
        ),
        _ => None,
    }
}

/// The JSON types any of `alternatives` allows; None when one of them allows any.
fn allowed_types(alternatives: &[&Value]) -> Option<BTreeSet<String>> {
    let mut all = BTreeSet::new();
    for schema in alternatives {
        all.extend(types(schema)?);
    }
    Some(all)
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_fits(value: &Value, allowed: &Option<BTreeSet<String>>) -> bool {
    let t = json_type(value);
    allowed
        .as_ref()
        .is_none_or(|a| a.contains(t) || (t == "integer" && a.contains("number")))
}

/// The schema of `key` inside an object (`object`: its schema's alternatives); keys are case-insensitive to zot
/// (viper lower-cases them). None when zot's schema does not allow the key there.
fn property<'a>(object: &[&'a Value], key: &str) -> Option<&'a Value> {
    const ANY: &Value = &Value::Bool(true);
    for schema in object {
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            if let Some((_, s)) = props.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
                return Some(s);
            }
        }
        match schema.get("additionalProperties") {
            Some(Value::Bool(true)) => return Some(ANY),
            Some(s @ Value::Object(_)) => return Some(s),
            Some(_) => {}
            // A free-form object (Go `any`, or a schema that says nothing about its keys).
            None if schema.get("properties").is_none() => return Some(ANY),
            None => {}
        }
    }
    None
}

/// Compares `value` at `path` with zot's `schema`: every key must exist there with a compatible type.
fn check(root: &Value, schema: &Value, value: &Value, path: &str, problems: &mut BTreeSet<String>) {
    if schema == &Value::Bool(true) {
        return;
    }
    let alts = alternatives(root, schema);
    let allowed = allowed_types(&alts);
    if !type_fits(value, &allowed) {
        problems.insert(format!(
            "{path}: the model writes a {}, zot's schema says {allowed:?}",
            json_type(value)
        ));
        return;
    }
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match property(&alts, k) {
                    Some(s) => check(root, s, v, &format!("{path}.{k}"), problems),
                    None => {
                        problems.insert(format!("{path}.{k}: not in zot's schema"));
                    }
                }
            }
        }
        Value::Array(items) => {
            for schema in &alts {
                if let Some(items_schema) = schema.get("items") {
                    for item in items {
                        check(root, items_schema, item, &format!("{path}[]"), problems);
                    }
                    break;
                }
            }
        }
        _ => {}
    }
}

/// The model's keys at every object of `config` that a struct of the model decodes: a probe key is put into each
/// object in turn and the model's `deny_unknown_fields` error lists the keys it knows there. Returns (path of the
/// object as a JSON pointer, the keys).
fn model_keys(config: &Value) -> Vec<(String, Vec<String>)> {
    const PROBE: &str = "zotOperatorProbe";
    let mut pointers = Vec::new();
    fn objects(value: &Value, pointer: String, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                out.push(pointer.clone());
                for (k, v) in map {
                    objects(
                        v,
                        format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1")),
                        out,
                    );
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    objects(v, format!("{pointer}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    objects(config, String::new(), &mut pointers);
    let mut found = Vec::new();
    for pointer in pointers {
        let mut probed = config.clone();
        probed
            .pointer_mut(&pointer)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .insert(PROBE.to_string(), json!(0));
        let Err(error) = serde_json::from_value::<ZotConfig>(probed) else {
            continue;
        };
        let message = error.to_string();
        let Some(rest) = message.strip_prefix(&format!("unknown field `{PROBE}`, expected "))
        else {
            continue;
        };
        let keys: Vec<String> = rest
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect();
        found.push((pointer, keys));
    }
    found
}

/// The schema at a JSON pointer into a config (object keys and array indexes), None where zot has none.
fn schema_at<'a>(root: &'a Value, config: &Value, pointer: &str) -> Option<&'a Value> {
    let mut schema = root;
    let mut value = config;
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        let alts = alternatives(root, schema);
        match value {
            Value::Object(map) => {
                schema = property(&alts, &token)?;
                value = &map[&token];
            }
            Value::Array(items) => {
                schema = alts.iter().find_map(|s| s.get("items"))?;
                value = &items[token.parse::<usize>().ok()?];
            }
            _ => return None,
        }
        if schema == &Value::Bool(true) {
            return Some(schema);
        }
    }
    Some(schema)
}

/// Every config zot may get from this project or its examples, as the model writes it.
fn model_configs() -> Vec<(String, Value)> {
    let mut configs = Vec::new();
    let mut all: Vec<Store> = stores::samples();
    all.extend(route_stores());
    all.extend(matrix());
    all.extend(random_stores());
    let (cases, _) = rendered_cases("rendered", &all);
    for case in cases.into_iter().chain(golden_cases()) {
        let secret = case
            .prepared
            .objects
            .iter()
            .find(|o| o["stringData"][CONFIG_FILE].is_string())
            .unwrap_or_else(|| panic!("{}: no config Secret", case.name));
        let text = secret["stringData"][CONFIG_FILE].as_str().unwrap();
        configs.push((case.name, serde_json::from_str(text).unwrap()));
    }
    let examples = support::shared_dir().join("reference/zot-examples");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&examples)
        .unwrap_or_else(|e| panic!("{}: {e}", examples.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let mut parsed = 0;
    for path in paths {
        // Side files (credentials, session keys) are not configs; tests/zot_examples.rs checks them.
        let Ok(config) =
            serde_json::from_str::<ZotConfig>(&std::fs::read_to_string(&path).unwrap())
        else {
            continue;
        };
        parsed += 1;
        configs.push((
            format!("example {}", path.file_name().unwrap().to_string_lossy()),
            serde_json::to_value(&config).unwrap(),
        ));
    }
    assert!(
        parsed >= 20,
        "only {parsed} upstream example configs parsed"
    );
    configs
}

/// Keys zot reads that `zot schema` leaves out, with a value `zot verify` accepts for each: zot's schema
/// generator squashes an embedded *pointer* struct (Go `*Credentials`, `*TLSConfig` in events.SinkConfig) into
/// nothing, while viper decodes it under its type name.
const SCHEMA_GAPS: [(&str, &str); 2] = [
    ("credentials", r#"{"username": "u", "file": "/dev/null"}"#),
    ("tlsConfig", r#"{"caCertFile": "/dev/null"}"#),
];

/// Whether a disagreement is one of [`SCHEMA_GAPS`] (an event sink's key).
fn schema_gap(pointer: &str, key: &str) -> bool {
    let sink = pointer
        .strip_prefix("/extensions/events/sinks/")
        .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit()));
    sink && SCHEMA_GAPS.iter().any(|(k, _)| *k == key)
}

#[test]
fn zot_reads_the_keys_its_schema_leaves_out() {
    for (key, value) in SCHEMA_GAPS {
        let dir = TempDir::new().unwrap();
        let config = dir.path().join("config.json");
        let text = format!(
            r#"{{"distSpecVersion": "1.1.1", "storage": {{"rootDirectory": "{}"}},
                "http": {{"address": "127.0.0.1", "port": "5000"}},
                "extensions": {{"events": {{"enable": true, "sinks": [{{"type": "http",
                "address": "http://127.0.0.1:1", "{key}": {value}}}]}}}}}}"#,
            dir.path().join("data").display()
        );
        std::fs::write(&config, text).unwrap();
        let out = Command::new(support::tool("zot"))
            .arg("verify")
            .arg(&config)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "zot verify refuses an event sink's {key}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(schema_gap("/extensions/events/sinks/0", key));
    }
}

#[test]
fn every_key_the_model_writes_or_declares_is_in_zots_schema() {
    let root = zot_schema();
    let mut problems = BTreeSet::new();
    let mut declared = BTreeSet::new();
    let configs = model_configs();
    for (name, config) in &configs {
        let mut found = BTreeSet::new();
        check(root, root, config, "", &mut found);
        problems.extend(found.into_iter().map(|p| format!("{p} (in {name})")));
        for (pointer, keys) in model_keys(config) {
            let Some(schema) = schema_at(root, config, &pointer) else {
                continue;
            };
            let alts = alternatives(root, schema);
            for key in keys {
                if declared.insert(format!("{pointer}/{key}"))
                    && property(&alts, &key).is_none()
                    && !schema_gap(&pointer, &key)
                {
                    problems.insert(format!(
                        "{pointer}/{key}: the model declares it, zot's schema does not have it (in {name})"
                    ));
                }
            }
        }
    }
    eprintln!(
        "{} configs and {} declared keys compared with zot's schema",
        configs.len(),
        declared.len()
    );
    assert!(declared.len() > 100, "the probe found only {declared:?}");
    // One message per key, not per config it appears in.
    let mut seen = BTreeSet::new();
    let problems: Vec<&String> = problems
        .iter()
        .filter(|p| seen.insert(p.split(" (in ").next().unwrap().to_string()))
        .collect();
    assert!(
        problems.is_empty(),
        "the model and zot's schema disagree:\n{}",
        problems
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_schema_check_finds_an_unknown_key_and_a_wrong_type() {
    let root = zot_schema();
    let mut problems = BTreeSet::new();
    let config = json!({"http": {"port": "5000", "nonsense": 1}, "storage": {"dedupe": "yes"}});
    check(root, root, &config, "", &mut problems);
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with(".http.nonsense: not in")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with(".storage.dedupe: the model writes a string")),
        "{problems:?}"
    );
}
