//! The zot pod template: restricted Pod Security on every platform, health probes, credentials from Secrets.
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource,
    EnvFromSource, EnvVar, EnvVarSource, HTTPGetAction, KeyToPath, Lifecycle, LifecycleHandler,
    LocalObjectReference, PersistentVolumeClaimVolumeSource, PodSecurityContext, PodSpec,
    PodTemplateSpec, Probe, SeccompProfile, SecretEnvSource, SecretKeySelector, SecretVolumeSource,
    SecurityContext, SleepAction, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::api::names::{
    self, CONFIG_DIR, CONFIG_FILE, CONTAINER, COSIGN_DIR, COSIGN_PUBLIC_KEY_FILE, DATA_DIR,
    DATA_VOLUME, GCS_DIR, HTPASSWD_DIR, OIDC_DIR, OIDC_FILE, SESSION_DIR, SESSION_FILE, SYNC_DIR,
    TLS_DIR, TMP_DIR, ZOT_PORT, ZOT_PORT_NAME,
};
use crate::platform::Platform;
use crate::validate::{Backend, Database, ValidatedStore};

use super::image;
use super::trust::{
    SSL_CERT_FILE, TRUSTED_CA_DIR, TRUSTED_CA_FILE, TRUSTED_CA_KEY, serving_certificate,
    trusted_ca_name,
};
use super::zot_config::{DEFAULT_GCS_KEY, HTPASSWD_FILE, SYNC_FILE};

/// UID, GID and fsGroup of zot on platforms that do not assign one (OpenShift's SCC does).
pub const ZOT_UID: i64 = 1000;
/// Seconds the startup probe waits for zot to walk its storage into the metadata database before the kubelet
/// restarts it: 30 minutes, for large registries.
pub const STARTUP_BUDGET_SECONDS: i32 = 1800;
/// zot opens its listener within a second or two of starting on a small registry: probing every 2 s (rather than
/// the kubelet's default 10 s) makes a new pod Ready seconds after zot is, within the same 30-minute budget.
const STARTUP_PERIOD_SECONDS: i32 = 2;
/// Seconds zot keeps serving after its pod is marked terminating, while endpoints and load balancers catch up.
pub const PRE_STOP_SLEEP_SECONDS: i64 = 5;
/// Seconds zot gets to finish in-flight uploads after SIGTERM.
pub const TERMINATION_GRACE_SECONDS: i64 = 60;

/// The pod template of zot; `config_hash` rolls the pods when the configuration or a credential changes.
pub fn template(store: &ValidatedStore, platform: &Platform, config_hash: &str) -> PodTemplateSpec {
    let spec = &store.spec;
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(names::pod_labels(&store.name)),
            annotations: Some(BTreeMap::from([(
                names::CONFIG_HASH_ANNOTATION.to_string(),
                config_hash.to_string(),
            )])),
            ..ObjectMeta::default()
        }),
        spec: Some(PodSpec {
            service_account_name: Some(store.names().base()),
            automount_service_account_token: Some(false),
            enable_service_links: Some(false),
            security_context: Some(pod_security_context(store, platform)),
            containers: vec![container(store, platform)],
            volumes: Some(volumes(store, platform)),
            image_pull_secrets: (!spec.image.pull_secrets.is_empty()).then(|| {
                spec.image
                    .pull_secrets
                    .iter()
                    .map(|s| LocalObjectReference {
                        name: s.name.clone(),
                    })
                    .collect()
            }),
            termination_grace_period_seconds: Some(TERMINATION_GRACE_SECONDS),
            affinity: spec.affinity.clone(),
            tolerations: (!spec.tolerations.is_empty()).then(|| spec.tolerations.clone()),
            node_selector: (!spec.node_selector.is_empty()).then(|| spec.node_selector.clone()),
            topology_spread_constraints: topology_spread_constraints(store),
            priority_class_name: spec.priority_class_name.clone(),
            ..PodSpec::default()
        }),
    }
}

/// Restricted defaults, overridden field by field by spec.securityContext. On OpenShift no UID, GID or fsGroup
/// is fixed: the restricted-v2 SCC assigns them from the namespace's range.
fn pod_security_context(store: &ValidatedStore, platform: &Platform) -> PodSecurityContext {
    let fixed = |id: i64| (!platform.openshift).then_some(id);
    let defaults = PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: fixed(ZOT_UID),
        run_as_group: fixed(ZOT_UID),
        fs_group: fixed(ZOT_UID),
        fs_group_change_policy: (!platform.openshift).then(|| "OnRootMismatch".to_string()),
        seccomp_profile: Some(runtime_default()),
        ..PodSecurityContext::default()
    };
    let Some(user) = store.spec.security_context.clone() else {
        return defaults;
    };
    PodSecurityContext {
        run_as_non_root: user.run_as_non_root.or(defaults.run_as_non_root),
        run_as_user: user.run_as_user.or(defaults.run_as_user),
        run_as_group: user.run_as_group.or(defaults.run_as_group),
        fs_group: user.fs_group.or(defaults.fs_group),
        fs_group_change_policy: user
            .fs_group_change_policy
            .or(defaults.fs_group_change_policy),
        seccomp_profile: user.seccomp_profile.or(defaults.seccomp_profile),
        ..user
    }
}

fn runtime_default() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".to_string(),
        ..SeccompProfile::default()
    }
}

fn container(store: &ValidatedStore, platform: &Platform) -> Container {
    let spec = &store.spec;
    let (mut env, env_from) = credentials_env(store);
    env.extend(platform_env(platform));
    let https = serving_certificate(store, platform).is_some();
    Container {
        name: CONTAINER.to_string(),
        image: Some(image(store, platform)),
        image_pull_policy: spec.image.pull_policy.map(|p| p.as_str().to_string()),
        args: Some(vec![
            "serve".to_string(),
            format!("{CONFIG_DIR}/{CONFIG_FILE}"),
        ]),
        ports: Some(vec![ContainerPort {
            name: Some(ZOT_PORT_NAME.to_string()),
            container_port: ZOT_PORT,
            protocol: Some("TCP".to_string()),
            ..ContainerPort::default()
        }]),
        env: (!env.is_empty()).then_some(env),
        env_from: (!env_from.is_empty()).then_some(env_from),
        volume_mounts: Some(volume_mounts(store, platform)),
        resources: spec.resources.clone(),
        // zot writes no termination message file; its last log lines (e.g. why it refused its configuration) are
        // what explains a crash in the pod status.
        termination_message_policy: Some("FallbackToLogsOnError".to_string()),
        startup_probe: Some(Probe {
            period_seconds: Some(STARTUP_PERIOD_SECONDS),
            failure_threshold: Some(STARTUP_BUDGET_SECONDS / STARTUP_PERIOD_SECONDS),
            ..probe(https, "/startupz")
        }),
        liveness_probe: Some(Probe {
            period_seconds: Some(10),
            failure_threshold: Some(3),
            ..probe(https, "/livez")
        }),
        readiness_probe: Some(Probe {
            period_seconds: Some(5),
            failure_threshold: Some(3),
            ..probe(https, "/readyz")
        }),
        lifecycle: Some(Lifecycle {
            pre_stop: Some(LifecycleHandler {
                sleep: Some(SleepAction {
                    seconds: PRE_STOP_SLEEP_SECONDS,
                }),
                ..LifecycleHandler::default()
            }),
            ..Lifecycle::default()
        }),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            privileged: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".to_string()]),
                ..Capabilities::default()
            }),
            seccomp_profile: Some(runtime_default()),
            ..SecurityContext::default()
        }),
        ..Container::default()
    }
}

fn probe(https: bool, path: &str) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_string()),
            port: IntOrString::String(ZOT_PORT_NAME.to_string()),
            scheme: Some(if https { "HTTPS" } else { "HTTP" }.to_string()),
            ..HTTPGetAction::default()
        }),
        timeout_seconds: Some(5),
        ..Probe::default()
    }
}

/// Credentials as environment variables taken from the user's Secrets.
fn credentials_env(store: &ValidatedStore) -> (Vec<EnvVar>, Vec<EnvFromSource>) {
    let from_secret = |name: &str, secret: &str, key: &str| EnvVar {
        name: name.to_string(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.to_string(),
                key: key.to_string(),
                optional: Some(false),
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    };
    let mut env = Vec::new();
    let mut env_from = Vec::new();
    match &store.backend {
        Backend::S3(s3) => {
            if let Some(keys) = &s3.access_key_secret {
                env.push(from_secret(
                    "AWS_ACCESS_KEY_ID",
                    &keys.name,
                    &keys.access_key_field,
                ));
                env.push(from_secret(
                    "AWS_SECRET_ACCESS_KEY",
                    &keys.name,
                    &keys.secret_key_field,
                ));
            }
        }
        Backend::Gcs(gcs) => {
            if gcs.credentials_secret.is_some() {
                env.push(EnvVar {
                    name: "GOOGLE_APPLICATION_CREDENTIALS".to_string(),
                    value: Some(super::zot_config::gcs_key_path(gcs)),
                    ..EnvVar::default()
                });
            }
        }
        Backend::Azure(azure) => {
            if let Some(secret) = &azure.credentials_secret {
                env_from.push(EnvFromSource {
                    secret_ref: Some(SecretEnvSource {
                        name: secret.clone(),
                        optional: Some(false),
                    }),
                    ..EnvFromSource::default()
                });
            }
        }
        Backend::Filesystem { .. } => {}
    }
    (env, env_from)
}

/// Environment from the platform: on OpenShift SSL_CERT_FILE naming the cluster's trusted CA bundle (see
/// [`super::trust`]), and the cluster's egress proxy.
fn platform_env(platform: &Platform) -> Vec<EnvVar> {
    let value = |name: &str, value: String| EnvVar {
        name: name.to_string(),
        value: Some(value),
        ..EnvVar::default()
    };
    let trust = platform
        .openshift
        .then(|| value(SSL_CERT_FILE, format!("{TRUSTED_CA_DIR}/{TRUSTED_CA_FILE}")));
    trust
        .into_iter()
        .chain(
            platform
                .proxy
                .env()
                .into_iter()
                .map(|(name, v)| value(name, v)),
        )
        .collect()
}

/// A volume mounting `keys` of the Secret `secret` (all keys when empty), read-only for the owner.
fn secret_volume(name: &str, secret: &str, keys: &[(&str, &str)]) -> Volume {
    Volume {
        name: name.to_string(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(secret.to_string()),
            default_mode: Some(0o440),
            items: (!keys.is_empty()).then(|| {
                keys.iter()
                    .map(|(key, path)| KeyToPath {
                        key: key.to_string(),
                        path: path.to_string(),
                        ..KeyToPath::default()
                    })
                    .collect()
            }),
            ..SecretVolumeSource::default()
        }),
        ..Volume::default()
    }
}

/// Every (volume, mount directory) of the pod.
fn volumes_and_mounts(store: &ValidatedStore, platform: &Platform) -> Vec<(Volume, &'static str)> {
    let spec = &store.spec;
    let names = store.names();
    let mut out = vec![(
        secret_volume("config", &names.config_secret(), &[]),
        CONFIG_DIR,
    )];
    match (&store.backend, &store.database) {
        // The StatefulSet's volumeClaimTemplate provides the data volume.
        (Backend::Filesystem { .. }, _) => {}
        (_, Database::Embedded { volume: Some(_) }) => out.push((
            Volume {
                name: DATA_VOLUME.to_string(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: names.database_claim(),
                    ..PersistentVolumeClaimVolumeSource::default()
                }),
                ..Volume::default()
            },
            DATA_DIR,
        )),
        _ => out.push((empty_dir(DATA_VOLUME), DATA_DIR)),
    }
    out.push((empty_dir("tmp"), TMP_DIR));
    if let Some(certificate) = serving_certificate(store, platform) {
        out.push((secret_volume("tls", certificate.secret(), &[]), TLS_DIR));
    }
    if platform.openshift {
        out.push((trusted_ca_volume(store), TRUSTED_CA_DIR));
    }
    if spec.rbac.enabled {
        out.push((
            secret_volume(
                "session",
                &names.session_secret(),
                &[(SESSION_FILE, SESSION_FILE)],
            ),
            SESSION_DIR,
        ));
        if spec.rbac.keycloak.is_some() {
            out.push((
                secret_volume("oidc", &names.oidc_secret(), &[(OIDC_FILE, OIDC_FILE)]),
                OIDC_DIR,
            ));
        }
        if !store.accounts.is_empty() {
            // The user's file and the request accounts' lines, composed by the operator.
            let key = [(HTPASSWD_FILE, HTPASSWD_FILE)];
            out.push((
                secret_volume("htpasswd", &names.htpasswd_secret(), &key),
                HTPASSWD_DIR,
            ));
        } else if let Some(htpasswd) = &spec.rbac.htpasswd {
            let key = [(htpasswd.key.as_str(), HTPASSWD_FILE)];
            out.push((
                secret_volume("htpasswd", &htpasswd.name, &key),
                HTPASSWD_DIR,
            ));
        }
    }
    if let Backend::Gcs(gcs) = &store.backend {
        if let Some(secret) = &gcs.credentials_secret {
            let key = gcs.credentials_key.as_deref().unwrap_or(DEFAULT_GCS_KEY);
            out.push((secret_volume("gcs", secret, &[(key, key)]), GCS_DIR));
        }
    }
    if let Some(creds) = spec
        .extensions
        .sync
        .as_ref()
        .filter(|s| s.enabled)
        .and_then(|s| s.credentials_secret_ref.as_ref())
    {
        out.push((
            secret_volume("sync", &creds.name, &[(creds.key.as_str(), SYNC_FILE)]),
            SYNC_DIR,
        ));
    }
    // Last: it is mounted inside the data volume. Only the public key of the signing Secret: the private key and
    // its password never reach the pod.
    if let Some(key) = store.signing_key() {
        out.push((
            secret_volume(
                "cosign-public-key",
                &key.secret,
                &[(key.public_field.as_str(), COSIGN_PUBLIC_KEY_FILE)],
            ),
            COSIGN_DIR,
        ));
    }
    out
}

/// The cluster's trusted CA bundle, optional: until OpenShift injects it the file is absent and zot uses the
/// image's CAs.
fn trusted_ca_volume(store: &ValidatedStore) -> Volume {
    Volume {
        name: "trusted-ca".to_string(),
        config_map: Some(ConfigMapVolumeSource {
            name: trusted_ca_name(store),
            items: Some(vec![KeyToPath {
                key: TRUSTED_CA_KEY.to_string(),
                path: TRUSTED_CA_FILE.to_string(),
                ..KeyToPath::default()
            }]),
            optional: Some(true),
            ..ConfigMapVolumeSource::default()
        }),
        ..Volume::default()
    }
}

fn empty_dir(name: &str) -> Volume {
    Volume {
        name: name.to_string(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Volume::default()
    }
}

fn volumes(store: &ValidatedStore, platform: &Platform) -> Vec<Volume> {
    volumes_and_mounts(store, platform)
        .into_iter()
        .map(|(v, _)| v)
        .collect()
}

fn volume_mounts(store: &ValidatedStore, platform: &Platform) -> Vec<VolumeMount> {
    let mut mounts: Vec<VolumeMount> = volumes_and_mounts(store, platform)
        .into_iter()
        .map(|(volume, dir)| VolumeMount {
            read_only: (volume.secret.is_some() || volume.config_map.is_some()).then_some(true),
            name: volume.name,
            mount_path: dir.to_string(),
            ..VolumeMount::default()
        })
        .collect();
    if !store.backend.is_remote() {
        mounts.insert(
            1,
            VolumeMount {
                name: DATA_VOLUME.to_string(),
                mount_path: DATA_DIR.to_string(),
                ..VolumeMount::default()
            },
        );
    }
    mounts
}

/// The store's constraints, with the store's own pods as the default label selector.
fn topology_spread_constraints(
    store: &ValidatedStore,
) -> Option<Vec<k8s_openapi::api::core::v1::TopologySpreadConstraint>> {
    let constraints = &store.spec.topology_spread_constraints;
    (!constraints.is_empty()).then(|| {
        constraints
            .iter()
            .cloned()
            .map(|mut c| {
                c.label_selector.get_or_insert_with(|| LabelSelector {
                    match_labels: Some(names::selector_labels(&store.name)),
                    ..LabelSelector::default()
                });
                c
            })
            .collect()
    })
}
