//! Push and pull access for workloads and pipelines: the kinds ZotPushSecret and ZotPullSecret (a request in the
//! consumer's namespace for a Secret with credentials of a store) and the store's own say on who may ask
//! (`spec.access`).
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, LabelSelector};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Default rotation period of managed credentials.
pub const DEFAULT_ROTATION_PERIOD: &str = "24h";
/// Default grace period during which the previous credential keeps working after a rotation.
pub const DEFAULT_GRACE_PERIOD: &str = "1h";
/// Shortest rotation period accepted.
pub const MIN_ROTATION_PERIOD: &str = "1m";
/// Shortest grace period accepted.
pub const MIN_GRACE_PERIOD: &str = "5s";
/// Annotation on a push/pull Secret request that rotates its credential now: any new value rotates once.
pub const ROTATE_ANNOTATION: &str = "artifact.zotregistry.io/rotate";

/// Which namespaces may request push or pull Secrets of a store, and which repositories they may ask for.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AccessSpec {
    /// Namespaces, besides the store's own, whose ZotPushSecret and ZotPullSecret requests the operator serves,
    /// by their labels (e.g. `matchLabels: {zot.example.com/registry-access: "true"}`). Unset: only requests in
    /// the store's own namespace. An empty selector (`{}`) selects every namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    /// Repositories that every allowed namespace may request pull access to, besides its own `<namespace>/**`
    /// (e.g. `ci/**` for images a pipeline namespace pushes). A glob ending in `/**` covers everything below its
    /// prefix; any other entry covers exactly that repository. Push access is limited to a namespace's own
    /// repositories; requests in the store's own namespace may name any repository.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub shared_repositories: Vec<String>,
}

/// The store a request is for.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StoreRef {
    /// Name of the ZotArtifactStore.
    #[schemars(length(min = 1, max = 63))]
    pub name: String,
    /// Namespace of the ZotArtifactStore. Defaults to the request's own namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub namespace: Option<String>,
}

/// How often the credential changes and how long the previous one keeps working.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!self.period.matches('^([0-9]+(h|m|s|ms))+$') || !self.gracePeriod.matches('^([0-9]+(h|m|s|ms))+$') || duration(self.gracePeriod) <= duration(self.period)")
    .message("rotation.gracePeriod must not be longer than rotation.period"))]
pub struct RotationSpec {
    /// Time between two rotations, a Go duration (`24h`, `90m`; at least `1m`). Defaults to 24h.
    #[serde(default = "default_period")]
    #[schemars(length(max = 32))]
    #[x_kube(validation = Rule::new("self.matches('^([0-9]+(h|m|s|ms))+$') && duration(self) >= duration('1m')")
        .message("rotation.period must be a Go duration of at least 1m, e.g. 24h or 90m"))]
    pub period: String,
    /// How long the previous credential keeps working after a rotation, a Go duration (at least `5s`, at most
    /// the period). Defaults to 1h.
    #[serde(default = "default_grace")]
    #[schemars(length(max = 32))]
    #[x_kube(validation = Rule::new("self.matches('^([0-9]+(h|m|s|ms))+$') && duration(self) >= duration('5s')")
        .message("rotation.gracePeriod must be a Go duration of at least 5s, e.g. 1h or 30s"))]
    pub grace_period: String,
}

fn default_period() -> String {
    DEFAULT_ROTATION_PERIOD.to_string()
}

fn default_grace() -> String {
    DEFAULT_GRACE_PERIOD.to_string()
}

impl Default for RotationSpec {
    fn default() -> Self {
        Self {
            period: default_period(),
            grace_period: default_grace(),
        }
    }
}

/// What a push/pull Secret request asks for, the same for both kinds.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessRequestSpec {
    pub store: StoreRef,
    pub repositories: Vec<String>,
    pub rotation: RotationSpec,
}

macro_rules! access_kind {
    ($spec:ident, $kind:literal, $plural:literal, $short:literal, $doc:literal, $what:literal) => {
        /// What the request is for: the store, the repositories and the rotation of the credential.
        #[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
        #[kube(
            group = "artifact.zotregistry.io",
            version = "v1alpha1",
            kind = $kind,
            plural = $plural,
            namespaced,
            shortname = $short,
            category = "zot",
            status = "AccessSecretStatus",
            derive = "PartialEq",
            doc = $doc,
            printcolumn(name = "Store", type_ = "string", json_path = ".spec.store.name", description = "The ZotArtifactStore"),
            printcolumn(
                name = "Ready",
                type_ = "string",
                json_path = ".status.conditions[?(@.type==\"Ready\")].status",
                description = "Whether the Secret holds a working credential"
            ),
            printcolumn(name = "Secret", type_ = "string", json_path = ".status.secretName", description = "The Secret the operator maintains"),
            printcolumn(name = "Hostname", type_ = "string", json_path = ".status.hostname", description = "The registry host in the Secret"),
            printcolumn(name = "Rotated", type_ = "date", json_path = ".status.rotatedAt", description = "When the credential last changed"),
            printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
            validation = Rule::new("size(self.metadata.name) <= 200")
                .message("metadata.name must be at most 200 characters: it names the zot account")
        )]
        #[serde(rename_all = "camelCase")]
        pub struct $spec {
            /// The ZotArtifactStore to get credentials for. Its `spec.access` says which namespaces may ask.
            pub store: StoreRef,
            #[doc = $what]
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            #[schemars(length(max = 32), inner(length(min = 1, max = 255)))]
            #[x_kube(validation = Rule::new("self.all(r, !r.contains(' '))")
                .message("repositories must be non-empty globs without spaces, e.g. team/** or team/app"))]
            pub repositories: Vec<String>,
            /// When the credential changes. Defaults to every 24h, the previous one working 1h more.
            #[serde(default)]
            pub rotation: RotationSpec,
        }

        impl $spec {
            /// The request as both kinds share it.
            pub fn request(&self) -> AccessRequestSpec {
                AccessRequestSpec {
                    store: self.store.clone(),
                    repositories: self.repositories.clone(),
                    rotation: self.rotation.clone(),
                }
            }
        }
    };
}

access_kind!(
    ZotPushSecretSpec,
    "ZotPushSecret",
    "zotpushsecrets",
    "zpush",
    "A request for a push Secret of a ZotArtifactStore: the operator keeps a zot account that may read, push and \
     overwrite tags (not delete) in the requested repositories, and an Opaque Secret of the same name with a \
     docker config at key `config.json` (use it as DOCKER_CONFIG), the registry's `hostname` and its CA \
     (`ca.crt`, when zot serves TLS with a known CA). The credential is rotated every rotation.period; set the \
     annotation artifact.zotregistry.io/rotate to a new value to rotate it now.",
    "Repositories the Secret may push to and pull from (zot globs). Defaults to `<namespace>/**`, the \
     namespace's own repositories. Outside the store's namespace only the namespace's own repositories may be \
     named."
);

access_kind!(
    ZotPullSecretSpec,
    "ZotPullSecret",
    "zotpullsecrets",
    "zpull",
    "A request for a pull Secret of a ZotArtifactStore: the operator keeps a zot account that may only read the \
     requested repositories, and a Secret of type kubernetes.io/dockerconfigjson of the same name (use it in \
     imagePullSecrets), with the registry's `hostname` and its CA (`ca.crt`, when zot serves TLS with a known \
     CA). The credential is rotated every rotation.period; set the annotation artifact.zotregistry.io/rotate \
     to a new value to rotate it now.",
    "Repositories the Secret may pull from (zot globs). Defaults to `<namespace>/**`, the namespace's own \
     repositories. Outside the store's namespace only the namespace's own repositories and the store's \
     access.sharedRepositories may be named."
);

/// Observed state of a push or pull Secret request. Holds no credential: key ids and times only.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AccessSecretStatus {
    /// Ready (the Secret holds a working credential) with the reason when it does not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The Secret the operator maintains (named after the request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// The zot account of the request (`push.<namespace>.<name>` or `pull.<namespace>.<name>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The registry host written into the Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// When the credential in the Secret was made (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_at: Option<String>,
    /// When it is rotated next (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_rotation_at: Option<String>,
    /// The id of the zot API key in the Secret (not the key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The id of the previous API key, still valid until previousKeyRevokeAt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_key_id: Option<String>,
    /// When the previous API key is revoked (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_key_revoke_at: Option<String>,
    /// The last value of the artifact.zotregistry.io/rotate annotation acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotate_request: Option<String>,
    /// The metadata.generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}
