//! Catalogs for the real OLM (support::olm): the generator's releases rehearsed in a scratch copy of its inputs,
//! made servable without images, and served by `opm serve` behind a CatalogSource.
//!
//! There are no images here, so OLM must install a bundle without unpacking its image in a pod. OLM v0.40.0 does so
//! only for a bundle whose catalog entry has no image: its resolver (pkg/controller/registry/resolver/
//! source_registry.go) keeps the bundle's manifests only when `BundlePath` (the olm.bundle's `image`) is empty, and
//! opm (pkg/cache) drops `CsvJson` and `Object` from every bundle that has an image; with an image, OLM creates a
//! bundle unpack Job that runs the image. The manifests reach OLM as `olm.bundle.object` properties, which is what
//! `opm render <bundle directory>` writes (with an empty image). The shipped catalog/ stays what OperatorHub expects
//! (bundle images and `olm.csv.metadata`); [`servable`] makes the test's catalog from it by replacing each olm.bundle
//! with `opm render` of that release's bundle directory.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use super::olm::{MARKETPLACE, O, PACKAGE, VERSION, apply_object, up};
use super::operator::free_port;
use super::{eventually, get, kubeconfig, kubectl, repo_root, tool, yaml_docs};

pub struct Releases {
    root: tempfile::TempDir,
}

impl Releases {
    /// The committed catalog and bundle/ (this crate's version).
    pub fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        for dir in ["config", "catalog"] {
            copy_dir(&repo_root().join(dir), &root.path().join(dir));
        }
        std::fs::create_dir_all(root.path().join("hack")).unwrap();
        std::fs::copy(
            repo_root().join("hack/versions.env"),
            root.path().join("hack/versions.env"),
        )
        .unwrap();
        copy_dir(
            &repo_root().join("bundle"),
            &root.path().join("bundles").join(VERSION),
        );
        Releases { root }
    }

    /// Generates the release `version` as `make generate` would with that version in Cargo.toml: its bundle, and the
    /// catalog with it added (`replaces` and `skipRange` as the generator writes them).
    pub fn release(&self, version: &str) {
        let root = self.root.path();
        let out = Command::new(env!("CARGO_BIN_EXE_olm"))
            .args(["--root", root.to_str().unwrap()])
            .args(["--release-version", version, "generate"])
            .output()
            .expect("run the olm generator");
        assert!(
            out.status.success(),
            "the generator refused release {version}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        copy_dir(&root.join("bundle"), &root.join("bundles").join(version));
    }

    /// The generated catalog's documents.
    pub fn catalog(&self) -> Vec<Value> {
        yaml_docs(
            &std::fs::read_to_string(self.root.path().join("catalog/zot-operator/catalog.yaml"))
                .unwrap(),
        )
    }

    /// The bundle directory of every release so far, by version.
    pub fn bundles(&self) -> BTreeMap<String, PathBuf> {
        std::fs::read_dir(self.root.path().join("bundles"))
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.file_name().to_string_lossy().into_owned(), e.path())
            })
            .collect()
    }

    /// What OLM installs from without images: [`servable`] of the generated catalog.
    pub fn servable(&self) -> Vec<Value> {
        servable(&self.catalog(), &self.bundles())
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// `opm render` of a bundle directory: its olm.bundle document, with the manifests as olm.bundle.object properties
/// and no image.
pub fn render_bundle(dir: &Path) -> Value {
    let out = Command::new(tool("opm"))
        .args(["render", dir.to_str().unwrap(), "-o", "json"])
        .output()
        .expect("run opm render");
    assert!(
        out.status.success(),
        "opm render {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let bundle: Value = serde_json::from_slice(&out.stdout).expect("opm render prints JSON");
    assert_eq!(bundle["schema"], "olm.bundle");
    bundle
}

/// The catalog `docs` with each olm.bundle replaced by `opm render` of its release's bundle directory (from
/// `bundles`, by version): the package and channels unchanged, the bundles carrying their manifests.
pub fn servable(docs: &[Value], bundles: &BTreeMap<String, PathBuf>) -> Vec<Value> {
    docs.iter()
        .map(|doc| {
            if doc["schema"] != "olm.bundle" {
                return doc.clone();
            }
            let name = doc["name"].as_str().unwrap();
            let version = name.strip_prefix(&format!("{PACKAGE}.v")).unwrap();
            let dir = bundles
                .get(version)
                .unwrap_or_else(|| panic!("no bundle directory for {name}"));
            let rendered = render_bundle(dir);
            assert_eq!(rendered["name"], name, "the bundle directory of {version}");
            assert_eq!(
                rendered["image"], "",
                "opm render of a directory names no image"
            );
            rendered
        })
        .collect()
}

/// A file-based catalog served by `opm serve` on a port of its own (log in .cluster/opm/<name>.log), reached by OLM
/// through a CatalogSource in the global catalog namespace whose `spec.address` is 127.0.0.1:<port>. `serve` replaces the content as a new
/// catalog image would: opm serve loads its directory once, so it is restarted on the same address, and OLM's
/// catalog-operator, seeing the connection become READY again, drops its cache of the source and resolves again
/// (syncSourceState in pkg/controller/operators/catalog/operator.go). OLM does not poll address sources
/// (spec.updateStrategy applies to image sources).
pub struct CatalogServer {
    pub name: String,
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
    log: PathBuf,
}

impl CatalogServer {
    /// Serves `docs` and creates the CatalogSource `name` for it; waits until OLM reports it READY.
    pub async fn start(name: &str, docs: &[Value]) -> Self {
        up();
        let dir = kubeconfig(O).parent().unwrap().join("opm");
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join(format!("{name}.log"));
        let mut server = CatalogServer {
            name: name.to_string(),
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
            child: None,
            log,
        };
        server.spawn(docs);
        let source = json!({
            "apiVersion": "operators.coreos.com/v1alpha1",
            "kind": "CatalogSource",
            "metadata": {"name": name, "namespace": MARKETPLACE},
            "spec": {
                "displayName": "zot-operator (test)",
                "publisher": "zot-operator project",
                "sourceType": "grpc",
                "address": format!("127.0.0.1:{}", server.port),
            },
        });
        apply_object(&source);
        server.wait_ready().await;
        server
    }

    /// Restarts opm serve on the same address with `docs` and waits until OLM's connection is READY again.
    pub async fn serve(&mut self, docs: &[Value]) {
        self.stop();
        self.spawn(docs);
        self.wait_ready().await;
    }

    fn spawn(&mut self, docs: &[Value]) {
        let dir = self.dir.path().join("catalog");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join(PACKAGE)).unwrap();
        let text: String = docs
            .iter()
            .map(|d| format!("---\n{}", serde_yaml::to_string(d).unwrap()))
            .collect();
        std::fs::write(dir.join(PACKAGE).join("catalog.yaml"), text).unwrap();
        let validate = Command::new(tool("opm"))
            .args(["validate", dir.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            validate.status.success(),
            "opm validate refuses the test catalog: {}",
            String::from_utf8_lossy(&validate.stderr)
        );
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        // opm serve listens on ":<port>"; the wrapper stops it when its stdin closes (the test process ended).
        let script = format!(
            "'{}' serve '{}' -p {} --pprof-addr '' -t /dev/null & pid=$!; trap 'kill -TERM $pid 2>/dev/null; wait $pid' EXIT; read -r _; exit 0",
            tool("opm").display(),
            dir.display(),
            self.port
        );
        let child = Command::new("bash")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start opm serve");
        self.child = Some(child);
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "opm serve did not listen on {} within 60 s: {}",
                self.port,
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(mut stdin) = child.stdin.take() {
                let _ = stdin.write_all(b"\n");
            }
            let _ = child.wait();
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    async fn wait_ready(&self) {
        let name = self.name.clone();
        eventually(
            &format!("CatalogSource {MARKETPLACE}/{name} to be READY"),
            Duration::from_secs(120),
            || async {
                let source = get(O, MARKETPLACE, &format!("catalogsource/{name}"))?;
                (source["status"]["connectionState"]["lastObservedState"] == "READY").then_some(())
            },
        )
        .await;
    }
}

impl Drop for CatalogServer {
    fn drop(&mut self) {
        let _ = kubectl(
            O,
            &[
                "delete",
                "catalogsource",
                "-n",
                MARKETPLACE,
                &self.name,
                "--ignore-not-found",
                "--wait=false",
            ],
            None,
        );
        self.stop();
    }
}
