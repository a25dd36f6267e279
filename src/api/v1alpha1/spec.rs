//! The ZotArtifactStore kind and its spec.
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, PodSecurityContext, ResourceRequirements, Toleration, TopologySpreadConstraint,
};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{messages, rules};

use super::{
    AccessSpec, AutoscalingSpec, DatabaseSpec, ExtensionsSpec, ImageSpec, MetricsSpec,
    NetworkingSpec, PodDisruptionBudgetSpec, RbacSpec, StorageSpec, SupplyChainSpec, TlsSpec,
    ZotArtifactStoreStatus,
};

/// Desired state of a zot registry: its storage, database, authentication, supply-chain checks,
/// networking, scaling and scheduling.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "artifact.zotregistry.io",
    version = "v1alpha1",
    kind = "ZotArtifactStore",
    plural = "zotartifactstores",
    namespaced,
    shortname = "zas",
    category = "zot",
    status = "ZotArtifactStoreStatus",
    derive = "PartialEq",
    doc = "A zot OCI registry run by the zot operator.",
    scale(
        spec_replicas_path = ".spec.replicas",
        status_replicas_path = ".status.replicas",
        label_selector_path = ".status.selector"
    ),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase", description = "Life-cycle phase"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status",
        description = "Whether the registry serves requests"
    ),
    printcolumn(name = "Replicas", type_ = "integer", json_path = ".status.readyReplicas", description = "Ready zot pods"),
    printcolumn(
        name = "Endpoint",
        type_ = "string",
        json_path = ".status.endpoints.internal",
        description = "In-cluster address of the registry (<store>.<namespace>.svc:<port>)"
    ),
    printcolumn(
        name = "External",
        type_ = "string",
        json_path = ".status.endpoints.external",
        description = "Address published by the Ingress or Route"
    ),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new("size(self.metadata.name) <= 52 && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')")
        .message(messages::NAME)
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("self.storage.type != 'filesystem' || self.replicas <= 1")
        .message(messages::FILESYSTEM_REPLICAS),
    validation = Rule::new("self.database.type != 'embedded' || self.replicas <= 1")
        .message(messages::EMBEDDED_REPLICAS),
    validation = Rule::new("!self.autoscaling.enabled || (self.storage.type != 'filesystem' && (self.database.type == 'redis' || self.database.type == 'dynamodb'))")
        .message(messages::AUTOSCALING_NEEDS_SHARED),
    validation = Rule::new("self.database.type != 'dynamodb' || self.storage.type == 's3'")
        .message(messages::DYNAMODB_NEEDS_S3),
    validation = Rule::new("self.storage.type != 'filesystem' || !has(self.database.embedded) || !has(self.database.embedded.storageClass) || (has(self.storage.storageClass) && self.storage.storageClass == self.database.embedded.storageClass)")
        .message(messages::EMBEDDED_CLASS_WITH_FILESYSTEM),
    validation = Rule::new("!(self.supplyChain.enabled && has(self.supplyChain.sbom) && self.supplyChain.sbom.enabled) || self.storage.type == 'filesystem'")
        .message(messages::SBOM_NEEDS_FILESYSTEM),
    validation = Rule::new("!has(self.extensions.search.cve) || !self.extensions.search.cve.enabled || self.storage.type == 'filesystem'")
        .message(messages::CVE_NEEDS_FILESYSTEM),
    validation = Rule::new("!(self.supplyChain.enabled && has(self.supplyChain.sbom) && self.supplyChain.sbom.enabled) || (self.extensions.search.enabled && (!has(self.extensions.search.cve) || self.extensions.search.cve.enabled))")
        .message(messages::SBOM_NEEDS_SCANNER),
    validation = Rule::new("!has(self.networking.route) || (has(self.networking.route.enabled) && !self.networking.route.enabled) || !has(self.networking.route.termination) || self.networking.route.termination != 'passthrough' || !has(self.tls.enabled) || self.tls.enabled")
        .message(messages::ROUTE_NEEDS_TLS),
)]
pub struct ZotArtifactStoreSpec {
    /// The zot container image. Defaults to the image the operator was released with.
    #[serde(default)]
    pub image: ImageSpec,
    /// Number of zot pods. Defaults to 1. More than one needs s3/gcs/azure storage and a redis or dynamodb
    /// database. While autoscaling is enabled the HorizontalPodAutoscaler sets the number of pods instead.
    #[serde(default = "one")]
    #[schemars(range(min = 0, max = 100))]
    pub replicas: i32,
    /// Where zot stores images. Defaults to filesystem storage on a 5Gi volume.
    #[serde(default)]
    pub storage: StorageSpec,
    /// zot's metadata database. Defaults to the embedded BoltDB.
    #[serde(default)]
    pub database: DatabaseSpec,
    /// Authentication (Keycloak, htpasswd) and repository access policies. Defaults to off: anyone who reaches
    /// the registry may pull and push.
    #[serde(default)]
    pub rbac: RbacSpec,
    /// Signature verification and SBOM generation. Defaults to off.
    #[serde(default)]
    pub supply_chain: SupplyChainSpec,
    /// Prometheus metrics. Defaults to on, exposed by the Service `<name>-metrics` on port 8081.
    #[serde(default)]
    pub metrics: MetricsSpec,
    /// Service, Ingress, Route and NetworkPolicy.
    #[serde(default)]
    pub networking: NetworkingSpec,
    /// Which namespaces may request push and pull Secrets (ZotPushSecret, ZotPullSecret) of this store, and
    /// which repositories they may ask for. Defaults to the store's own namespace only. Credentials work only
    /// with rbac.enabled.
    #[serde(default)]
    pub access: AccessSpec,
    /// TLS served by zot itself. Defaults to on, with a certificate of the operator's own CA (the Secret
    /// `<store>-ca`, key ca.crt); `tls.enabled: false` serves plain HTTP.
    #[serde(default)]
    pub tls: TlsSpec,
    /// zot's extensions: search (on by default), sync, scrub and lint.
    #[serde(default)]
    pub extensions: ExtensionsSpec,
    /// HorizontalPodAutoscaler. Defaults to off.
    #[serde(default)]
    pub autoscaling: AutoscalingSpec,
    /// PodDisruptionBudget. Defaults to off.
    #[serde(default)]
    pub pod_disruption_budget: PodDisruptionBudgetSpec,
    /// CPU and memory requests and limits of the zot container. Defaults to no requests or limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// Pod-level security settings, merged over the operator's restricted defaults (non-root, RuntimeDefault
    /// seccomp; UID, GID and fsGroup 1000 on Kubernetes, assigned by the restricted-v2 SCC on OpenShift).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(
        validation = rules::sc_root_user(),
        validation = rules::sc_run_as_non_root(),
        validation = rules::sc_seccomp(),
        validation = rules::sc_apparmor(),
        validation = rules::sc_selinux(),
        validation = rules::sc_sysctls(),
        validation = rules::sc_host_process()
    )]
    pub security_context: Option<PodSecurityContext>,
    /// Scheduling constraints of the zot pods, e.g. pod anti-affinity to spread replicas over nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    /// Tolerations of the zot pods.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    /// Node labels the zot pods must run on.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// How the zot pods spread over zones and nodes. A constraint without labelSelector selects the store's own
    /// pods.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topology_spread_constraints: Vec<TopologySpreadConstraint>,
    /// PriorityClass of the zot pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    /// zot's log level: debug, info (default), warn or error.
    #[serde(default)]
    pub log_level: LogLevel,
}

fn one() -> i32 {
    1
}

impl Default for ZotArtifactStoreSpec {
    /// The spec of a store that sets nothing: the defaults the CRD applies.
    fn default() -> Self {
        Self {
            image: ImageSpec::default(),
            replicas: one(),
            storage: StorageSpec::default(),
            database: DatabaseSpec::default(),
            rbac: RbacSpec::default(),
            supply_chain: SupplyChainSpec::default(),
            metrics: MetricsSpec::default(),
            networking: NetworkingSpec::default(),
            access: AccessSpec::default(),
            tls: TlsSpec::default(),
            extensions: ExtensionsSpec::default(),
            autoscaling: AutoscalingSpec::default(),
            pod_disruption_budget: PodDisruptionBudgetSpec::default(),
            resources: None,
            security_context: None,
            affinity: None,
            tolerations: Vec::new(),
            node_selector: BTreeMap::new(),
            topology_spread_constraints: Vec::new(),
            priority_class_name: None,
            log_level: LogLevel::default(),
        }
    }
}

/// zot's log level.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Debug,
    #[default]
    Info,
    Warn,
    Error,
}

impl LogLevel {
    /// The level as zot's log.level names it.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}
