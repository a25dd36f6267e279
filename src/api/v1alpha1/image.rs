//! Which zot image runs.
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::LocalRef;

/// The zot container image. Every field is optional: by default the operator runs the zot image it was released
/// with (its `RELATED_IMAGE_ZOT` setting, which disconnected installs point at a mirror).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ImageSpec {
    /// Image repository of zot, e.g. `ghcr.io/project-zot/zot` or a mirror of it. Defaults to the repository of
    /// the operator's default zot image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub repository: Option<String>,
    /// Image tag such as `v2.1.20` (the OCI tag grammar: letters, digits, `_`, `.` and `-`, not starting with
    /// `.` or `-`, at most 128 characters), or a digest such as `sha256:…`. Defaults to the operator's default zot
    /// image version. Changing it rolls the pods one at a time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    #[x_kube(validation = Rule::new("self.matches('^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$') || self.matches('^[a-z0-9]+([+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$')")
        .message(super::messages::IMAGE_TAG))]
    pub tag: Option<String>,
    /// When the kubelet pulls the image: Always, IfNotPresent or Never. Defaults to IfNotPresent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_policy: Option<PullPolicy>,
    /// Secrets (of type kubernetes.io/dockerconfigjson) used to pull the zot image from a private registry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pull_secrets: Vec<LocalRef>,
}

/// When the kubelet pulls the image.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

impl PullPolicy {
    /// The value Kubernetes expects in a container's imagePullPolicy.
    pub fn as_str(self) -> &'static str {
        match self {
            PullPolicy::Always => "Always",
            PullPolicy::IfNotPresent => "IfNotPresent",
            PullPolicy::Never => "Never",
        }
    }
}
