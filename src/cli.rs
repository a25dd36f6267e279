//! The offline `render` command: a ZotArtifactStore file in, every object the operator would create out, as one
//! multi-document YAML stream (like `helm template`).
use std::any::Any;
use std::fmt;
use std::io::Read;
use std::path::Path;

use k8s_openapi::api::core::v1::Secret;
use serde::Serialize;
use serde_json::Value;

use crate::api::names;
use crate::api::v1alpha1::{ZotArtifactStore, messages};
use crate::children::{ChildKind, Visitor};
use crate::platform::Platform;
use crate::render::{self, Desired, Inputs};
use crate::validate::{self, Refusal};

/// Namespace of a store file that names none.
pub const DEFAULT_NAMESPACE: &str = "default";

/// Why `render` printed nothing.
#[derive(Debug)]
pub enum RenderError {
    /// The file could not be read.
    Read(std::io::Error),
    /// The file is not a ZotArtifactStore.
    Parse(String),
    /// The spec is refused.
    Refused(Refusal),
    /// An object could not be serialized.
    Serialize(String),
}

impl RenderError {
    /// Process exit code: 2 for a refused spec, 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            RenderError::Refused(_) => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::Read(err) => write!(f, "reading the store: {err}"),
            RenderError::Parse(err) => write!(f, "not a ZotArtifactStore: {err}"),
            RenderError::Refused(refusal) => write!(f, "{refusal}"),
            RenderError::Serialize(err) => write!(f, "serializing: {err}"),
        }
    }
}

impl std::error::Error for RenderError {}

/// Renders the ZotArtifactStore in `path` (`-` for standard input) for `platform`; with `certificates`, also the
/// store's own CA and serving certificate, new ones (see [`render_text_with`]).
pub fn render_file(
    path: &Path,
    platform: &Platform,
    certificates: bool,
) -> Result<String, RenderError> {
    let text = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(RenderError::Read)?;
        text
    } else {
        std::fs::read_to_string(path).map_err(RenderError::Read)?
    };
    render_text_with(&text, platform, certificates)
}

/// Renders the ZotArtifactStore in `text` (YAML or JSON) for `platform`, without the Secrets of its own CA and
/// serving certificate (a comment names them).
pub fn render_text(text: &str, platform: &Platform) -> Result<String, RenderError> {
    render_text_with(text, platform, false)
}

/// Renders the ZotArtifactStore in `text` for `platform`. With `certificates`, a store served with the operator's
/// own certificate (TLS by default) also gets the Secrets `<store>-ca` and `<store>-tls`, made here as the operator
/// makes them for a new store (new keys on every run); without, a comment names them.
pub fn render_text_with(
    text: &str,
    platform: &Platform,
    certificates: bool,
) -> Result<String, RenderError> {
    let store = parse(text)?;
    let validated = validate::validate(&store, DEFAULT_NAMESPACE).map_err(RenderError::Refused)?;
    let mut inputs = Inputs::default();
    let mut out = String::new();
    if let Some(render::ServingCertificate::Operator { secret }) =
        render::serving_certificate(&validated, platform)
    {
        if certificates {
            inputs.operator_tls = Some(new_certificates(&validated, platform)?);
        } else {
            out.push_str(&format!(
                "# The Secrets {} and {secret} (the store's own CA and zot's serving certificate) are made by the\n\
                 # operator with new keys; `render --certificates` makes them here too.\n",
                render::ca_secret_name(&validated),
            ));
        }
    }
    let desired = render::desired(&validated, platform, &inputs);
    for gap in render::gaps(&validated, platform) {
        out.push_str(&format!("# Not rendered: {}: {}\n", gap.field, gap.reason));
    }
    if validated.spec.rbac.enabled && validated.spec.rbac.keycloak.is_some() {
        out.push_str(&format!(
            "# The Secret {} (zot's OpenID credentials file) is composed by the operator from the Keycloak client\n\
             # secret at apply time; it is not rendered offline.\n",
            validated.names().oidc_secret()
        ));
    }
    if validated.spec.rbac.enabled {
        out.push_str(&format!(
            "# The Secret {} (the keys of zot's session cookies, shared by the replicas) is made by the operator\n\
             # once, with random keys; it is not rendered offline.\n",
            validated.names().session_secret()
        ));
    }
    for object in objects(desired)? {
        out.push_str("---\n");
        out.push_str(
            &serde_yaml::to_string(&object).map_err(|e| RenderError::Serialize(e.to_string()))?,
        );
    }
    Ok(out)
}

/// A new CA and serving certificate for `store`, as the operator makes them for a new store.
fn new_certificates(
    store: &validate::ValidatedStore,
    platform: &Platform,
) -> Result<render::OperatorTls, RenderError> {
    let now = std::time::SystemTime::now();
    let failed =
        |e: crate::pki::Error| RenderError::Serialize(format!("making the certificates: {e}"));
    let ca = crate::pki::new_ca(
        &format!("zot-operator CA {}/{}", store.namespace, store.name),
        now,
        crate::pki::CA_LIFETIME,
    )
    .map_err(failed)?;
    let names = render::serving_names(store, platform);
    let serving =
        crate::pki::issue(&ca, &names, now, crate::pki::SERVING_LIFETIME).map_err(failed)?;
    Ok(render::OperatorTls { ca, serving })
}

fn parse(text: &str) -> Result<ZotArtifactStore, RenderError> {
    let value: Value = serde_yaml::from_str(text).map_err(|e| RenderError::Parse(e.to_string()))?;
    let kind = value.get("kind").and_then(Value::as_str);
    let api_version = value.get("apiVersion").and_then(Value::as_str);
    if kind != Some(names::KIND) || api_version != Some(names::API_VERSION) {
        return Err(RenderError::Parse(format!(
            "expected apiVersion {} and kind {}, found {} {}",
            names::API_VERSION,
            names::KIND,
            api_version.unwrap_or("<none>"),
            kind.unwrap_or("<none>")
        )));
    }
    // serviceMonitor's schema is untyped so that the API server takes `serviceMonitor: true`; the operator reads
    // a boolean or an object, and says so of anything else.
    if value
        .pointer("/spec/metrics/prometheus/serviceMonitor")
        .is_some_and(|v| !(v.is_boolean() || v.is_object() || v.is_null()))
    {
        return Err(RenderError::Refused(Refusal {
            field: "spec.metrics.prometheus.serviceMonitor".to_string(),
            reason: messages::SERVICE_MONITOR_FORM.to_string(),
        }));
    }
    // The API server prunes unknown fields (with a warning); offline, a misspelt field would silently do
    // nothing, so it is refused.
    let mut unknown = Vec::new();
    let store: ZotArtifactStore =
        serde_ignored::deserialize(value, |path| unknown.push(path.to_string()))
            .map_err(|e| RenderError::Parse(e.to_string()))?;
    let unknown: Vec<String> = unknown
        .iter()
        .filter(|p| p.starts_with("spec."))
        .map(|p| field_path(p))
        .collect();
    if let Some(first) = unknown.first() {
        return Err(RenderError::Refused(Refusal {
            field: first.clone(),
            reason: "unknown field: the ZotArtifactStore API has no such field (`kubectl explain zas.spec` lists them)"
                .to_string(),
        }));
    }
    Ok(store)
}

/// A serde_ignored path (`spec.affinity.?.tolerations.0.key`) as a field path (`spec.affinity.tolerations[0].key`).
fn field_path(path: &str) -> String {
    let mut out = String::new();
    for segment in path.split('.').filter(|s| *s != "?") {
        if segment.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(segment);
        }
    }
    out
}

fn value(object: &impl Serialize) -> Result<Value, RenderError> {
    serde_json::to_value(object).map_err(|e| RenderError::Serialize(e.to_string()))
}

/// A Secret as a person reads it: UTF-8 data shown as stringData.
fn readable_secret(secret: &Secret) -> Result<Value, RenderError> {
    let mut out = value(secret)?;
    if let (Some(data), Some(map)) = (&secret.data, out.as_object_mut()) {
        let text: Option<serde_json::Map<String, Value>> = data
            .iter()
            .map(|(k, v)| {
                String::from_utf8(v.0.clone())
                    .ok()
                    .map(|s| (k.clone(), Value::String(s)))
            })
            .collect();
        if let Some(text) = text {
            map.remove("data");
            map.insert("stringData".to_string(), Value::Object(text));
        }
    }
    Ok(out)
}

/// Every object in the order the operator applies them (the one table of child kinds), Secrets readable.
fn objects(desired: Desired) -> Result<Vec<Value>, RenderError> {
    let mut printed = Printed::default();
    desired.into_objects().visit(&mut printed)?;
    Ok(printed.0)
}

#[derive(Default)]
struct Printed(Vec<Value>);

impl Visitor for Printed {
    type Error = RenderError;

    fn visit<K: ChildKind>(&mut self, objects: Vec<K>) -> Result<(), RenderError> {
        for object in &objects {
            let shown = match (object as &dyn Any).downcast_ref::<Secret>() {
                Some(secret) => readable_secret(secret)?,
                None => value(object)?,
            };
            self.0.push(shown);
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const MINIMAL: &str = "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: zot\nspec: {}\n";

    fn secret(stream: &str, name: &str) -> Option<Secret> {
        stream
            .split("\n---\n")
            .map(|doc| doc.trim_start_matches("---\n"))
            .filter(|doc| doc.contains("kind: Secret\n"))
            .filter_map(|doc| serde_yaml::from_str::<Secret>(doc).ok())
            .find(|s| s.metadata.name.as_deref() == Some(name))
    }

    fn text(secret: &Secret, key: &str) -> String {
        secret.string_data.as_ref().unwrap()[key].clone()
    }

    #[test]
    fn certificates_are_made_only_when_asked_and_the_serving_one_is_signed_by_the_ca() {
        let platform = Platform::kubernetes();
        let plain = render_text(MINIMAL, &platform).unwrap();
        assert!(
            plain.starts_with("# The Secrets zot-ca and zot-tls"),
            "{plain}"
        );
        assert!(secret(&plain, "zot-tls").is_none());
        let with = render_text_with(MINIMAL, &platform, true).unwrap();
        let ca = secret(&with, "zot-ca").unwrap();
        let tls = secret(&with, "zot-tls").unwrap();
        assert!(crate::pki::signed_by(
            &text(&tls, "tls.crt"),
            &text(&ca, "ca.crt")
        ));
        assert!(!with.contains("# The Secrets zot-ca"));
    }
}
