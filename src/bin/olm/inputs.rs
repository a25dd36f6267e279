//! The repository files a bundle is made from, read and checked once.
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::Error;
use crate::yaml;

/// The CSV base: descriptions, descriptors, install modes and OperatorHub metadata, written by hand.
pub const CSV_BASE: &str = "config/manifests/bases/zot-operator.clusterserviceversion.yaml";
/// The CSV's long description (markdown).
pub const DESCRIPTION: &str = "config/manifests/description.md";
/// The package icon.
pub const ICON: &str = "config/manifests/icon.svg";
/// The committed CRDs, copied into the bundle byte for byte.
pub const CRD_DIR: &str = "config/crd/bases";
/// The operator's least-privilege RBAC (kustomization `resources` order).
pub const RBAC_DIR: &str = "config/rbac";
/// The operator's Namespace, Deployment and Service.
pub const MANAGER_DIR: &str = "config/manager";
/// The sample ZotArtifactStores that become `alm-examples`.
pub const SAMPLES_DIR: &str = "config/samples";
/// The sample ZotPushSecret and ZotPullSecret, also in `alm-examples`.
pub const ACCESS_SAMPLES_DIR: &str = "config/samples/access";
/// Pinned tool versions (the scorecard image follows operator-sdk's).
pub const VERSIONS_ENV: &str = "hack/versions.env";

/// A committed CRD file.
pub struct CrdFile {
    pub file_name: String,
    pub text: String,
    pub crd: Value,
}

/// Everything the bundle is made from.
pub struct Inputs {
    pub csv_base: Value,
    pub description: String,
    pub icon_svg: Vec<u8>,
    pub crds: Vec<CrdFile>,
    /// RBAC objects, in kustomization order.
    pub rbac: Vec<Value>,
    /// Namespace, Deployment and Service objects, in kustomization order.
    pub manager: Vec<Value>,
    /// (file name, sample) in file-name order: the first is the console's default for the create form.
    pub samples: Vec<(String, Value)>,
    pub operator_sdk_version: String,
}

impl Inputs {
    pub fn read(root: &Path) -> Result<Self, Error> {
        let csv_base = one_document(root, CSV_BASE)?;
        let description = read_text(root, DESCRIPTION)?;
        let icon_svg = read_bytes(root, ICON)?;
        let crds = yaml_files(root, CRD_DIR)?
            .into_iter()
            .map(|path| {
                let text = read_text(root, &path)?;
                let crd = single(&path, parse(root, &path, &text)?)?;
                let file_name = file_name(&path);
                Ok(CrdFile {
                    file_name,
                    text,
                    crd,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        if crds.is_empty() {
            return Err(Error::invalid(root.join(CRD_DIR), "holds no CRD"));
        }
        let rbac = kustomized(root, RBAC_DIR)?;
        let manager = kustomized(root, MANAGER_DIR)?;
        let samples = yaml_files(root, SAMPLES_DIR)?
            .into_iter()
            .chain(yaml_files(root, ACCESS_SAMPLES_DIR)?)
            .map(|path| {
                let text = read_text(root, &path)?;
                Ok((file_name(&path), single(&path, parse(root, &path, &text)?)?))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let versions = read_text(root, VERSIONS_ENV)?;
        let operator_sdk_version = versions
            .lines()
            .find_map(|line| line.trim().strip_prefix("OPERATOR_SDK_VERSION="))
            .map(str::to_string)
            .ok_or_else(|| {
                Error::invalid(root.join(VERSIONS_ENV), "has no OPERATOR_SDK_VERSION")
            })?;
        Ok(Inputs {
            csv_base,
            description,
            icon_svg,
            crds,
            rbac,
            manager,
            samples,
            operator_sdk_version,
        })
    }
}

fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn read_bytes(root: &Path, path: &str) -> Result<Vec<u8>, Error> {
    let full = root.join(path);
    std::fs::read(&full).map_err(|source| Error::ReadInput { path: full, source })
}

fn read_text(root: &Path, path: &str) -> Result<String, Error> {
    let full = root.join(path);
    std::fs::read_to_string(&full).map_err(|source| Error::ReadInput { path: full, source })
}

fn parse(root: &Path, path: &str, text: &str) -> Result<Vec<Value>, Error> {
    yaml::parse_stream(text).map_err(|source| Error::ParseInput {
        path: root.join(path),
        source,
    })
}

fn single(path: &str, mut docs: Vec<Value>) -> Result<Value, Error> {
    match docs.len() {
        1 => Ok(docs.remove(0)),
        n => Err(Error::invalid(
            path,
            format!("holds {n} documents, expected one"),
        )),
    }
}

fn one_document(root: &Path, path: &str) -> Result<Value, Error> {
    let text = read_text(root, path)?;
    single(path, parse(root, path, &text)?)
}

/// The `.yaml` files of a directory, relative to the root, sorted by name.
fn yaml_files(root: &Path, dir: &str) -> Result<Vec<String>, Error> {
    let full = root.join(dir);
    let entries = std::fs::read_dir(&full).map_err(|source| Error::ReadInput {
        path: full.clone(),
        source,
    })?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::ReadInput {
            path: full.clone(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".yaml") && name != "kustomization.yaml" {
            names.push(format!("{dir}/{name}"));
        }
    }
    names.sort();
    Ok(names)
}

/// Every object of the files a kustomization.yaml lists under `resources`, in its order.
fn kustomized(root: &Path, dir: &str) -> Result<Vec<Value>, Error> {
    let kustomization = format!("{dir}/kustomization.yaml");
    let resources = one_document(root, &kustomization)?
        .get("resources")
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| Error::invalid(PathBuf::from(&kustomization), "has no resources list"))?;
    let mut objects = Vec::new();
    for resource in resources {
        let Some(name) = resource.as_str() else {
            return Err(Error::invalid(
                PathBuf::from(&kustomization),
                "a resource is not a file name",
            ));
        };
        let path = format!("{dir}/{name}");
        let text = read_text(root, &path)?;
        objects.extend(parse(root, &path, &text)?);
    }
    Ok(objects)
}
