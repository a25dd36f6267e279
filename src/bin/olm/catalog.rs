//! The file-based catalog: the package, its `alpha` and `stable` channels and one olm.bundle per release.
//!
//! Earlier releases cannot be rebuilt from today's code, so their olm.bundle documents and channel entries are
//! kept as the committed catalog has them; the release being generated is added (or replaced, when regenerated).
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use semver::Version;
use serde_json::{Map, Value, json};

use crate::bundle::File;
use crate::csv::{Built, PACKAGE, bundle_image, csv_name, icon};
use crate::error::Error;
use crate::inputs::Inputs;
use crate::release::{CHANNELS, DEFAULT_CHANNEL, Plan, Published};
use crate::yaml;

/// The catalog's only file, relative to the root.
pub const CATALOG_FILE: &str = "catalog/zot-operator/catalog.yaml";

/// The committed catalog.
#[derive(Default)]
pub struct Existing {
    /// Entries per channel name.
    channels: BTreeMap<String, Vec<Value>>,
    /// olm.bundle documents by version.
    bundles: BTreeMap<Version, Value>,
}

fn version_of(bundle_name: &str) -> Result<Version, Error> {
    let text = bundle_name
        .strip_prefix(&format!("{PACKAGE}.v"))
        .ok_or_else(|| {
            Error::invalid(
                CATALOG_FILE,
                format!("bundle '{bundle_name}' is not {PACKAGE}.v<version>"),
            )
        })?;
    Version::parse(text).map_err(|source| Error::Version {
        version: text.into(),
        source,
    })
}

impl Existing {
    /// Reads the committed catalog; none yet is an empty catalog.
    pub fn read(root: &Path) -> Result<Self, Error> {
        let path = root.join(CATALOG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => return Err(Error::ReadInput { path, source }),
        };
        let docs = yaml::parse_stream(&text).map_err(|source| Error::ParseInput {
            path: path.clone(),
            source,
        })?;
        let mut existing = Self::default();
        for doc in docs {
            match doc["schema"].as_str() {
                Some("olm.package") => {}
                Some("olm.channel") => {
                    let name = doc["name"].as_str().unwrap_or_default().to_string();
                    let entries = doc["entries"].as_array().cloned().unwrap_or_default();
                    existing.channels.insert(name, entries);
                }
                Some("olm.bundle") => {
                    let version = version_of(doc["name"].as_str().unwrap_or_default())?;
                    existing.bundles.insert(version, doc);
                }
                other => {
                    return Err(Error::invalid(
                        CATALOG_FILE,
                        format!("unexpected schema {other:?}"),
                    ));
                }
            }
        }
        let published = existing.published()?;
        let in_channels: BTreeSet<&Version> = published.values().flatten().collect();
        for version in existing.bundles.keys() {
            if !in_channels.contains(version) {
                return Err(Error::invalid(
                    CATALOG_FILE,
                    format!("bundle {version} is in no channel"),
                ));
            }
        }
        Ok(existing)
    }

    /// The versions each channel publishes.
    pub fn published(&self) -> Result<Published, Error> {
        self.channels
            .iter()
            .map(|(channel, entries)| {
                let versions = entries
                    .iter()
                    .map(|entry| version_of(entry["name"].as_str().unwrap_or_default()))
                    .collect::<Result<BTreeSet<_>, _>>()?;
                Ok((channel.clone(), versions))
            })
            .collect()
    }
}

/// The olm.bundle document of the release, as `opm render` makes it from the bundle directory (with the bundle
/// image as its image and the CSV metadata migrated to olm.csv.metadata).
pub fn bundle_document(plan: &Plan, built: &Built) -> Value {
    let csv = &built.csv;
    let spec = &csv["spec"];
    let mut gvks: Vec<Value> = spec["customresourcedefinitions"]["owned"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|owned| {
            let group = owned["name"].as_str().unwrap_or_default().split_once('.').map(|(_, g)| g).unwrap_or_default();
            json!({"type": "olm.gvk", "value": {"group": group, "kind": owned["kind"], "version": owned["version"]}})
        })
        .collect();
    gvks.sort_by_key(|p| p.to_string());
    let mut metadata = Map::new();
    metadata.insert("annotations".into(), csv["metadata"]["annotations"].clone());
    metadata.insert(
        "apiServiceDefinitions".into(),
        spec.get("apiservicedefinitions")
            .cloned()
            .unwrap_or(json!({})),
    );
    for (key, from) in [
        ("crdDescriptions", "customresourcedefinitions"),
        ("description", "description"),
        ("displayName", "displayName"),
        ("installModes", "installModes"),
        ("keywords", "keywords"),
        ("links", "links"),
        ("maintainers", "maintainers"),
        ("maturity", "maturity"),
        ("minKubeVersion", "minKubeVersion"),
        ("nativeAPIs", "nativeAPIs"),
        ("provider", "provider"),
    ] {
        if let Some(value) = spec.get(from) {
            metadata.insert(key.into(), value.clone());
        }
    }
    if let Some(labels) = csv["metadata"].get("labels") {
        metadata.insert("labels".into(), labels.clone());
    }
    let mut properties = gvks;
    properties.push(json!({"type": "olm.package", "value": {"packageName": PACKAGE, "version": plan.version.to_string()}}));
    properties.push(json!({"type": "olm.csv.metadata", "value": Value::Object(metadata)}));

    let image = bundle_image(&plan.version);
    let mut related: Vec<Value> = spec["relatedImages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut known: BTreeSet<String> = related
        .iter()
        .filter_map(|r| r["image"].as_str().map(str::to_string))
        .collect();
    for extra in std::iter::once(&image).chain(built.install.images.iter().map(|(_, image)| image))
    {
        if known.insert(extra.clone()) {
            // opm names the images it adds with an empty name.
            related.push(json!({"image": extra, "name": ""}));
        }
    }
    related.sort_by(|a, b| a["image"].as_str().cmp(&b["image"].as_str()));
    json!({
        "schema": "olm.bundle",
        "name": csv_name(&plan.version),
        "package": PACKAGE,
        "image": image,
        "properties": properties,
        "relatedImages": related,
    })
}

/// The catalog file with the release added to the committed catalog.
pub fn file(
    existing: &Existing,
    inputs: &Inputs,
    plan: &Plan,
    built: &Built,
) -> Result<File, Error> {
    let name = csv_name(&plan.version);
    let package = json!({
        "schema": "olm.package",
        "name": PACKAGE,
        "defaultChannel": DEFAULT_CHANNEL,
        "description": built.csv["metadata"]["annotations"]["description"],
        "icon": icon(&inputs.icon_svg),
    });
    let mut docs = vec![package];
    for channel in CHANNELS {
        let mut entries: Vec<(Version, Value)> = existing
            .channels
            .get(channel)
            .into_iter()
            .flatten()
            .filter(|entry| entry["name"].as_str() != Some(&name))
            .map(|entry| {
                Ok((
                    version_of(entry["name"].as_str().unwrap_or_default())?,
                    entry.clone(),
                ))
            })
            .collect::<Result<_, Error>>()?;
        if let Some((_, replaces)) = plan.channels.iter().find(|(c, _)| *c == channel) {
            let mut entry = json!({"name": name, "skipRange": plan.skip_range});
            if let Some(previous) = replaces {
                entry["replaces"] = json!(csv_name(previous));
            }
            entries.push((plan.version.clone(), entry));
        }
        if entries.is_empty() {
            continue;
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        docs.push(json!({
            "schema": "olm.channel",
            "package": PACKAGE,
            "name": channel,
            "entries": entries.into_iter().map(|(_, e)| e).collect::<Vec<_>>(),
        }));
    }
    let mut bundles = existing.bundles.clone();
    bundles.insert(plan.version.clone(), bundle_document(plan, built));
    docs.extend(bundles.into_values());
    let text = yaml::stream(&docs).map_err(|source| Error::SerializeYaml {
        what: "the catalog".into(),
        source,
    })?;
    Ok((CATALOG_FILE.to_string(), text.into_bytes()))
}
