//! Names, labels and fixed paths of everything the operator creates for a store, in one place.
use std::collections::BTreeMap;

/// apiVersion of the ZotArtifactStore.
pub const API_VERSION: &str = "artifact.zotregistry.io/v1alpha1";
/// Kind of the ZotArtifactStore.
pub const KIND: &str = "ZotArtifactStore";

/// Label keys of every child (the Kubernetes recommended labels).
pub mod label {
    /// `app.kubernetes.io/name`: [`super::APP_NAME`].
    pub const NAME: &str = "app.kubernetes.io/name";
    /// `app.kubernetes.io/instance`: the store's name.
    pub const INSTANCE: &str = "app.kubernetes.io/instance";
    /// `app.kubernetes.io/component`: [`super::COMPONENT`].
    pub const COMPONENT: &str = "app.kubernetes.io/component";
    /// `app.kubernetes.io/managed-by`: [`super::MANAGED_BY`]; the operator's watches select on it.
    pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
    /// `app.kubernetes.io/part-of`: [`super::PART_OF`].
    pub const PART_OF: &str = "app.kubernetes.io/part-of";
}

/// Value of `app.kubernetes.io/name` on every child.
pub const APP_NAME: &str = "zot";
/// Value of `app.kubernetes.io/component` on every child.
pub const COMPONENT: &str = "registry";
/// Value of `app.kubernetes.io/managed-by` on every child; also the server-side-apply field manager.
pub const MANAGED_BY: &str = "zot-operator";
/// Value of `app.kubernetes.io/part-of` on every child.
pub const PART_OF: &str = "zot-artifact-store";
/// Label the Zot Artifact Store product documentation selects pods by (`kubectl logs -l app=zot-artifact-store`,
/// pod anti-affinity examples); set on pods only, never in a selector.
pub const LEGACY_APP_LABEL: (&str, &str) = ("app", "zot-artifact-store");
/// Pod-template annotation holding the hash of zot's configuration and the referenced Secrets' versions: a
/// change rolls the pods (zot does not notice updated mounted Secrets).
pub const CONFIG_HASH_ANNOTATION: &str = "artifact.zotregistry.io/config-hash";
/// Default zot image when the operator's RELATED_IMAGE_ZOT is unset.
pub const DEFAULT_ZOT_IMAGE: &str = "ghcr.io/project-zot/zot:v2.1.20";

/// Port zot listens on (registry API, health endpoints and metrics).
pub const ZOT_PORT: i32 = 5000;
/// Name of zot's container port, targeted by every Service.
pub const ZOT_PORT_NAME: &str = "http";
/// Name of the zot container.
pub const CONTAINER: &str = "zot";
/// Directory where zot's config Secret is mounted.
pub const CONFIG_DIR: &str = "/etc/zot";
/// Key of zot's configuration file in the config Secret.
pub const CONFIG_FILE: &str = "config.json";
/// zot's data directory (its rootDirectory): the storage volume, or scratch space with remote storage.
pub const DATA_DIR: &str = "/var/lib/registry";
/// Writable scratch directory (the root filesystem is read-only).
pub const TMP_DIR: &str = "/tmp";
/// Directory of zot's own TLS certificate. Secrets are mounted beside, not inside, the config directory: a
/// mount point inside another Secret volume would have to be created in that read-only volume.
pub const TLS_DIR: &str = "/var/run/secrets/zot/tls";
/// Directory of the OpenID Connect client credentials file.
pub const OIDC_DIR: &str = "/var/run/secrets/zot/oidc";
/// Name of the OpenID Connect client credentials file (zot reads it by its extension).
pub const OIDC_FILE: &str = "credentials.json";
/// Directory of zot's session keys file.
pub const SESSION_DIR: &str = "/var/run/secrets/zot/session";
/// Name of zot's session keys file (`{"hashKey", "encryptKey"}`).
pub const SESSION_FILE: &str = "session-keys.json";
/// Directory of the htpasswd file.
pub const HTPASSWD_DIR: &str = "/var/run/secrets/zot/htpasswd";
/// Directory of the Google Cloud service-account key.
pub const GCS_DIR: &str = "/var/run/secrets/zot/gcs";
/// Directory of the sync credentials file.
pub const SYNC_DIR: &str = "/var/run/secrets/zot/sync";
/// zot's local cosign trust store, `<rootDirectory>/_cosign`: every file in it that parses as a PEM public key is
/// trusted (zot v2.1.20 `pkg/extensions/imagetrust/cosign.go`). The signing Secret's public key is mounted here.
pub const COSIGN_DIR: &str = "/var/lib/registry/_cosign";
/// Name of the public key in [`COSIGN_DIR`].
pub const COSIGN_PUBLIC_KEY_FILE: &str = "cosign.pub";
/// Name of the volumeClaimTemplate of filesystem storage.
pub const DATA_VOLUME: &str = "data";

/// Names of a store's children, derived from the store's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Names {
    store: String,
}

impl Names {
    /// Names for the store called `store`.
    pub fn new(store: &str) -> Self {
        Self {
            store: store.to_string(),
        }
    }

    /// The store's own name.
    pub fn store(&self) -> &str {
        &self.store
    }

    /// ServiceAccount, workload (StatefulSet or Deployment), main Service, PDB, HPA, NetworkPolicy, Ingress,
    /// Route and ServiceMonitor all carry the store's name.
    pub fn base(&self) -> String {
        self.store.clone()
    }

    /// Secret holding zot's configuration (no credentials but a redis password: zot reads that only there).
    pub fn config_secret(&self) -> String {
        format!("{}-config", self.store)
    }

    /// Secret the operator composes with the Keycloak client id and secret for zot's OpenID provider.
    pub fn oidc_secret(&self) -> String {
        format!("{}-oidc", self.store)
    }

    /// Secret the operator creates once with the keys of zot's session cookies, shared by every replica.
    pub fn session_secret(&self) -> String {
        format!("{}-session", self.store)
    }

    /// Headless Service giving StatefulSet pods stable DNS names.
    pub fn headless_service(&self) -> String {
        format!("{}-headless", self.store)
    }

    /// Service exposing zot's metrics for Prometheus.
    pub fn metrics_service(&self) -> String {
        format!("{}-metrics", self.store)
    }

    /// PersistentVolumeClaim of the embedded database when storage is remote.
    pub fn database_claim(&self) -> String {
        format!("{}-db", self.store)
    }

    /// Default Secret of the signing key pair.
    pub fn signing_key_secret(&self) -> String {
        format!("{}-signing-key", self.store)
    }

    /// `<store>-accounts`: the accounts of push/pull Secret requests (passwords, htpasswd lines, policies),
    /// written by the requests, read by the store.
    pub fn accounts_secret(&self) -> String {
        format!("{}-accounts", self.store)
    }

    /// `<store>-htpasswd`: the htpasswd file zot reads when the store has request accounts (the user's file
    /// plus theirs).
    pub fn htpasswd_secret(&self) -> String {
        format!("{}-htpasswd", self.store)
    }
}

/// Label of `<store>-accounts`, naming its store (it is not a child the store prunes).
pub const ACCOUNTS_OF_LABEL: &str = "artifact.zotregistry.io/accounts-of";
/// Label of a push/pull Secret, naming the request that maintains it (`<kind>.<name>`).
pub const ACCESS_REQUEST_LABEL: &str = "artifact.zotregistry.io/access-request";

/// Labels of every child of the store `instance`.
pub fn labels(instance: &str) -> BTreeMap<String, String> {
    let mut labels = selector_labels(instance);
    labels.insert(label::COMPONENT.into(), COMPONENT.into());
    labels.insert(label::MANAGED_BY.into(), MANAGED_BY.into());
    labels.insert(label::PART_OF.into(), PART_OF.into());
    labels
}

/// Labels that select the pods of the store `instance`; immutable once a workload exists.
pub fn selector_labels(instance: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (label::NAME.to_string(), APP_NAME.to_string()),
        (label::INSTANCE.to_string(), instance.to_string()),
    ])
}

/// Labels of the pods of the store `instance`: the child labels plus the product's `app` label.
pub fn pod_labels(instance: &str) -> BTreeMap<String, String> {
    let mut labels = labels(instance);
    labels.insert(LEGACY_APP_LABEL.0.into(), LEGACY_APP_LABEL.1.into());
    labels
}

/// The selector as a label-selector string, as status.selector carries it for the scale subresource.
pub fn selector_string(instance: &str) -> String {
    selector_labels(instance)
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The label selector of every object the operator manages (its watches select on it).
pub fn managed_selector() -> String {
    format!("{}={MANAGED_BY}", label::MANAGED_BY)
}
