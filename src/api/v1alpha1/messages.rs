//! Refusal messages shared by the CRD's CEL rules and the operator's own validation, so that `kubectl apply`,
//! the store's status and `zot-operator render` say the same thing.

/// Several replicas with filesystem storage.
pub const FILESYSTEM_REPLICAS: &str = "replicas > 1 is refused with filesystem storage: filesystem storage is per-pod (ReadWriteOnce), so replicas would be separate registries; use s3/gcs/azure storage with a redis or dynamodb database for several replicas";
/// Several replicas with the embedded database.
pub const EMBEDDED_REPLICAS: &str = "replicas > 1 is refused with the embedded database: zot's BoltDB serves one instance only; use database.type redis (with s3/gcs/azure storage) or dynamodb (with s3 storage) for several replicas";
/// Autoscaling without shared storage and database.
pub const AUTOSCALING_NEEDS_SHARED: &str = "autoscaling runs several replicas, which needs s3/gcs/azure storage and a redis or dynamodb database: filesystem storage is per-pod and the embedded BoltDB serves one instance only";
/// DynamoDB without S3.
pub const DYNAMODB_NEEDS_S3: &str = "database.type dynamodb needs storage.type s3 (zot keeps DynamoDB metadata only for S3 storage); use redis with filesystem, gcs or azure storage";
/// A database StorageClass other than the data volume's with filesystem storage.
pub const EMBEDDED_CLASS_WITH_FILESYSTEM: &str = "database.embedded.storageClass names the class of a separate database volume, used with s3/gcs/azure storage; with filesystem storage the database shares the data volume (its storageSize is added to storage.size): set storage.storageClass instead, or the same class in both";
/// SBOM generation with remote storage.
pub const SBOM_NEEDS_FILESYSTEM: &str = "supplyChain.sbom needs filesystem storage: zot generates SBOMs in its vulnerability scanner, which it refuses to run on s3/gcs/azure storage; SBOMs pushed by clients (cosign attach sbom, oras attach) are stored and served with any storage";
/// CVE scanning with remote storage.
pub const CVE_NEEDS_FILESYSTEM: &str = "extensions.search.cve needs filesystem storage: zot refuses to run its vulnerability scanner on s3/gcs/azure storage";
/// SBOM generation with search or the scanner switched off.
pub const SBOM_NEEDS_SCANNER: &str = "supplyChain.sbom needs zot's search extension and vulnerability scanner: do not set extensions.search.enabled or extensions.search.cve.enabled to false";
/// A passthrough Route without zot serving TLS.
pub const ROUTE_NEEDS_TLS: &str = "networking.route.termination passthrough sends TLS straight to zot, and tls.enabled: false makes zot serve plain HTTP: remove tls.enabled: false (zot then serves the operator's certificate, or that of tls.secretName or tls.issuerRef), or use termination edge or reencrypt";
/// tls.secretName and tls.issuerRef together.
pub const TLS_ONE_SOURCE: &str = "tls.secretName and tls.issuerRef are two sources of zot's certificate: set one of them (neither: the operator's own CA issues it)";
/// tls.issuerRef with TLS switched off.
pub const TLS_ISSUER_OFF: &str = "tls.issuerRef names the issuer of the certificate zot serves, but tls.enabled: false serves plain HTTP: remove tls.issuerRef, or remove tls.enabled";
/// database.type postgres.
pub const POSTGRES: &str = "database.type postgres is not supported: zot's metadata stores are embedded BoltDB, redis and dynamodb; use type: redis (shared, any storage) or dynamodb (with s3 storage), or embedded";
/// database.type mysql.
pub const MYSQL: &str = "database.type mysql is not supported: zot's metadata stores are embedded BoltDB, redis and dynamodb; use type: redis (shared, any storage) or dynamodb (with s3 storage), or embedded";
/// metrics.tracing.enabled: true.
pub const TRACING: &str = "metrics.tracing.enabled is not supported: zot emits no traces; the operator traces its own reconciles — set OTEL_EXPORTER_OTLP_ENDPOINT on the operator";
/// A store name that cannot name Services and pods.
pub const NAME: &str = "metadata.name must be a DNS label of at most 52 characters starting with a letter: Services and StatefulSet pods are named after it";
/// size/storageClass with remote storage.
pub const VOLUME_WITH_REMOTE: &str = "storage.size and storage.storageClass size a volume and apply only to type: filesystem; s3, gcs and azure storage keep images in the bucket";
/// Sections of another storage type.
pub const OTHER_STORAGE_SECTION: &str = "only the section of the chosen storage.type may be set: remove the others or change storage.type";
/// Sections of another database type.
pub const OTHER_DATABASE_SECTION: &str = "only the section of the chosen database.type may be set: remove the others or change database.type";
/// rbac without a sign-in method.
pub const RBAC_NEEDS_SIGN_IN: &str =
    "rbac.enabled needs a way to sign in: set rbac.keycloak, rbac.htpasswd or both";
/// An image tag that is neither an OCI tag nor a digest.
pub const IMAGE_TAG: &str = "must be an OCI tag (letters, digits, '_', '.' and '-', starting with a letter, digit or '_', at most 128 characters, e.g. v2.1.20) or a digest such as sha256:<64 hex digits>";
/// metrics.prometheus.serviceMonitor written as neither a boolean nor an object.
pub const SERVICE_MONITOR_FORM: &str = "must be true (a ServiceMonitor with the defaults), false, or an object such as {enabled: true, interval: 30s, labels: {release: prometheus}}";
/// A positive quantity.
pub const POSITIVE_QUANTITY: &str = "must be a positive quantity such as 5Gi or 500Mi";
/// minAvailable and maxUnavailable together.
pub const PDB_EXCLUSIVE: &str =
    "podDisruptionBudget.minAvailable and maxUnavailable are exclusive: set one of them";
/// minReplicas above maxReplicas.
pub const AUTOSCALING_RANGE: &str =
    "autoscaling.minReplicas must not exceed autoscaling.maxReplicas";
/// Sync on without registries.
pub const SYNC_NEEDS_REGISTRY: &str =
    "extensions.sync.enabled needs at least one registry in extensions.sync.registries";

/// spec.securityContext settings that restricted Pod Security refuses: the pods would never be created.
pub const SC_ROOT_USER: &str = "runAsUser 0 (root) is refused: zot runs as non-root under restricted Pod Security; choose a non-zero UID or leave it unset";
pub const SC_RUN_AS_ROOT: &str =
    "runAsNonRoot: false is refused: restricted Pod Security requires non-root pods";
pub const SC_SECCOMP: &str = "seccompProfile Unconfined is refused by restricted Pod Security: use RuntimeDefault or Localhost";
pub const SC_APPARMOR: &str = "appArmorProfile Unconfined is refused by restricted Pod Security: use RuntimeDefault or Localhost";
pub const SC_SELINUX: &str = "seLinuxOptions may set only type container_t, container_init_t, container_kvm_t or container_engine_t (and level) under restricted Pod Security";
pub const SC_SYSCTLS: &str = "only the sysctls restricted Pod Security calls safe are allowed (kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, net.ipv4.ip_unprivileged_port_start, net.ipv4.tcp_syncookies, net.ipv4.ping_group_range, net.ipv4.ip_local_reserved_ports, net.ipv4.tcp_keepalive_time, net.ipv4.tcp_fin_timeout, net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes)";
pub const SC_HOST_PROCESS: &str = "windowsOptions.hostProcess is refused: zot runs as a Linux container under restricted Pod Security";

/// Sysctls that restricted Pod Security allows (Kubernetes 1.33).
pub const SAFE_SYSCTLS: [&str; 10] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

/// spec.metrics.prometheus.path: zot refuses a metrics path that Go's `path.Clean` changes, `/` and `/v2`.
pub const METRICS_PATH: &str = "must be a clean absolute path outside /v2, such as /metrics: no trailing /, no // and no . or .. segments (zot refuses those)";

/// A password with a TLS redis URL.
pub const REDIS_TLS_PASSWORD: &str = "zot v2.1 takes a redis password only in its options form, which has no TLS (a password inside a rediss:// URL would be printed in zot's log): use a redis:// URL with passwordSecretRef, or rediss:// without a password";

/// storage.retention with gc off.
pub const RETENTION_WITHOUT_GC: &str = "storage.retention is applied by zot's garbage collection, which gc: false turns off: remove retention or turn gc on";
/// gcInterval or gcDelay with gc off.
pub const GC_SETTINGS_WITHOUT_GC: &str = "gcInterval and gcDelay tune garbage collection, which gc: false turns off (zot would ignore them): remove them or turn gc on";
/// A trivy database mirror that is not an OCI repository reference.
pub const OCI_REPOSITORY: &str = "must be an OCI repository such as mirror.example.com/aquasecurity/trivy-db (host, path, optional :tag; no scheme)";
