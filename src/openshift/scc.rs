//! SecurityContextConstraints: the object (kopium emits only its nested types, the SCC CRD having no `spec`),
//! the check of a pod against an SCC, and the namespace UID range that OpenShift's restricted-v2 SCC enforces.
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{PodSecurityContext, PodSpec, SeccompProfile};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

pub use super::generated::scc::*;

/// Namespace annotation holding the UIDs OpenShift allocated to the namespace, e.g. `1000680000/10000`.
pub const UID_RANGE_ANNOTATION: &str = "openshift.io/sa.scc.uid-range";
/// Namespace annotation holding the supplemental groups (and so fsGroups) allocated to the namespace.
pub const SUPPLEMENTAL_GROUPS_ANNOTATION: &str = "openshift.io/sa.scc.supplemental-groups";

/// A security.openshift.io/v1 SecurityContextConstraints (cluster-scoped; its fields sit at the top level).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecurityContextConstraints {
    /// Standard object metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// hostPath volumes are allowed.
    #[serde(default)]
    pub allow_host_dir_volume_plugin: bool,
    /// Pods may share the host's IPC namespace.
    #[serde(default, rename = "allowHostIPC")]
    pub allow_host_ipc: bool,
    /// Pods may use the host's network namespace.
    #[serde(default)]
    pub allow_host_network: bool,
    /// Pods may share the host's PID namespace.
    #[serde(default, rename = "allowHostPID")]
    pub allow_host_pid: bool,
    /// Containers may bind host ports.
    #[serde(default)]
    pub allow_host_ports: bool,
    /// Containers may ask for privilege escalation (None: allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_privilege_escalation: Option<bool>,
    /// Containers may run privileged.
    #[serde(default)]
    pub allow_privileged_container: bool,
    /// Capabilities containers may add.
    #[serde(default)]
    pub allowed_capabilities: Option<Vec<String>>,
    /// Capabilities added to every container.
    #[serde(default)]
    pub default_add_capabilities: Option<Vec<String>>,
    /// The fsGroup strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fs_group: Option<SecurityContextConstraintsFsGroup>,
    /// Groups given this SCC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    /// Priority among matching SCCs.
    #[serde(default)]
    pub priority: Option<i32>,
    /// Containers must run with a read-only root filesystem.
    #[serde(default)]
    pub read_only_root_filesystem: bool,
    /// Capabilities every container must drop.
    #[serde(default)]
    pub required_drop_capabilities: Option<Vec<String>>,
    /// The runAsUser strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_user: Option<SecurityContextConstraintsRunAsUser>,
    /// The SELinux strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub se_linux_context: Option<SecurityContextConstraintsSeLinuxContext>,
    /// Allowed seccomp profiles (`runtime/default`, `localhost/<path>`, `*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seccomp_profiles: Option<Vec<String>>,
    /// The supplemental-groups strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplemental_groups: Option<SecurityContextConstraintsSupplementalGroups>,
    /// Users given this SCC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<String>>,
    /// Allowed volume types (`configMap`, `secret`, …, `*`).
    #[serde(default)]
    pub volumes: Option<Vec<String>>,
}

impl k8s_openapi::Resource for SecurityContextConstraints {
    const API_VERSION: &'static str = "security.openshift.io/v1";
    const GROUP: &'static str = "security.openshift.io";
    const KIND: &'static str = "SecurityContextConstraints";
    const VERSION: &'static str = "v1";
    const URL_PATH_SEGMENT: &'static str = "securitycontextconstraints";
    type Scope = k8s_openapi::ClusterResourceScope;
}

impl k8s_openapi::Metadata for SecurityContextConstraints {
    type Ty = ObjectMeta;

    fn metadata(&self) -> &Self::Ty {
        &self.metadata
    }

    fn metadata_mut(&mut self) -> &mut Self::Ty {
        &mut self.metadata
    }
}

/// The SCC's name of a seccomp profile: `runtime/default`, `localhost/<file>` or `unconfined`.
pub fn seccomp_name(profile: &SeccompProfile) -> String {
    match profile.type_.as_str() {
        "RuntimeDefault" => "runtime/default".to_string(),
        "Localhost" => format!(
            "localhost/{}",
            profile.localhost_profile.as_deref().unwrap_or_default()
        ),
        _ => "unconfined".to_string(),
    }
}

/// The SCC's names of the volume types a pod uses (`secret`, `emptyDir`, `persistentVolumeClaim`, …): the
/// Volume's fields besides `name`.
pub fn volume_types(pod: &PodSpec) -> Vec<String> {
    let mut types: Vec<String> = pod
        .volumes
        .iter()
        .flatten()
        .filter_map(|v| serde_json::to_value(v).ok())
        .filter_map(|v| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()))
        .flatten()
        .filter(|k| k != "name")
        .collect();
    types.sort();
    types.dedup();
    types
}

fn allows(list: &Option<Vec<String>>, item: &str) -> bool {
    list.iter().flatten().any(|a| a == "*" || a == item)
}

/// Every way `pod` breaks `scc`'s rules on privileges, capabilities, host namespaces and ports, volume types,
/// seccomp profiles, SELinux options and the root filesystem; empty when the SCC admits it. User and group IDs
/// are left out: under MustRunAsRange they depend on the namespace (see [`uid_range_conflict`]).
pub fn violations(scc: &SecurityContextConstraints, pod: &PodSpec) -> Vec<String> {
    let mut out = Vec::new();
    let mut refuse = |broken: bool, what: String| {
        if broken {
            out.push(what);
        }
    };
    refuse(
        pod.host_network == Some(true) && !scc.allow_host_network,
        "the pod uses the host's network".into(),
    );
    refuse(
        pod.host_pid == Some(true) && !scc.allow_host_pid,
        "the pod uses the host's PID namespace".into(),
    );
    refuse(
        pod.host_ipc == Some(true) && !scc.allow_host_ipc,
        "the pod uses the host's IPC namespace".into(),
    );
    for kind in volume_types(pod) {
        let host_path = kind == "hostPath" && !scc.allow_host_dir_volume_plugin;
        refuse(
            host_path || !allows(&scc.volumes, &kind),
            format!("volume type {kind} is not allowed"),
        );
    }
    let pod_context = pod.security_context.clone().unwrap_or_default();
    let seccomp_allowed = |profile: &SeccompProfile| {
        scc.seccomp_profiles.is_none() || allows(&scc.seccomp_profiles, &seccomp_name(profile))
    };
    if let Some(profile) = &pod_context.seccomp_profile {
        refuse(
            !seccomp_allowed(profile),
            format!(
                "pod seccomp profile {} is not allowed",
                seccomp_name(profile)
            ),
        );
    }
    let must_run_as_selinux = scc
        .se_linux_context
        .as_ref()
        .is_some_and(|s| s.r#type.as_deref() == Some("MustRunAs"));
    refuse(
        must_run_as_selinux && pod_context.se_linux_options.is_some(),
        "the pod fixes SELinux options, which the SCC assigns".into(),
    );
    let containers = pod
        .init_containers
        .iter()
        .flatten()
        .chain(pod.containers.iter());
    for container in containers {
        let name = &container.name;
        let context = container.security_context.clone().unwrap_or_default();
        refuse(
            context.privileged == Some(true) && !scc.allow_privileged_container,
            format!("container {name} is privileged"),
        );
        refuse(
            scc.allow_privilege_escalation == Some(false)
                && context.allow_privilege_escalation != Some(false),
            format!("container {name} does not set allowPrivilegeEscalation: false"),
        );
        refuse(
            scc.read_only_root_filesystem && context.read_only_root_filesystem != Some(true),
            format!("container {name} has a writable root filesystem"),
        );
        let capabilities = context.capabilities.clone().unwrap_or_default();
        for added in capabilities.add.iter().flatten() {
            refuse(
                !allows(&scc.allowed_capabilities, added),
                format!("container {name} adds capability {added}"),
            );
        }
        let dropped = capabilities.drop.unwrap_or_default();
        for required in scc.required_drop_capabilities.iter().flatten() {
            refuse(
                !dropped.iter().any(|d| d == required || d == "ALL"),
                format!("container {name} does not drop capability {required}"),
            );
        }
        for port in container.ports.iter().flatten() {
            refuse(
                port.host_port.is_some() && !scc.allow_host_ports,
                format!(
                    "container {name} binds host port {}",
                    port.host_port.unwrap_or_default()
                ),
            );
        }
        let profile = context
            .seccomp_profile
            .as_ref()
            .or(pod_context.seccomp_profile.as_ref());
        match profile {
            Some(profile) => refuse(
                !seccomp_allowed(profile),
                format!(
                    "container {name} seccomp profile {} is not allowed",
                    seccomp_name(profile)
                ),
            ),
            None => refuse(
                scc.seccomp_profiles.is_some(),
                format!("container {name} has no seccomp profile"),
            ),
        }
        refuse(
            must_run_as_selinux && context.se_linux_options.is_some(),
            format!("container {name} fixes SELinux options, which the SCC assigns"),
        );
    }
    out
}

/// A block of IDs as OpenShift writes it on namespaces: `start/size` or `start-end` (inclusive).
fn parse_block(text: &str) -> Option<(i64, i64)> {
    let text = text.trim();
    if let Some((start, size)) = text.split_once('/') {
        let (start, size): (i64, i64) = (start.trim().parse().ok()?, size.trim().parse().ok()?);
        return (size > 0).then(|| (start, start + size - 1));
    }
    let (start, end) = text.split_once('-')?;
    let (start, end): (i64, i64) = (start.trim().parse().ok()?, end.trim().parse().ok()?);
    (start <= end).then_some((start, end))
}

/// When the store's spec.securityContext fixes a runAsUser outside the namespace's UID range
/// (`openshift.io/sa.scc.uid-range`) or an fsGroup outside its group range (the first block of
/// `openshift.io/sa.scc.supplemental-groups`, else the UID range), the message of a condition saying that the
/// restricted-v2 SCC will refuse the pods. None when the IDs fit, are not fixed, or the namespace has no range.
pub fn uid_range_conflict(
    security_context: Option<&PodSecurityContext>,
    namespace_annotations: &BTreeMap<String, String>,
) -> Option<String> {
    let context = security_context?;
    let uid_range = namespace_annotations
        .get(UID_RANGE_ANNOTATION)
        .and_then(|r| parse_block(r));
    let group_range = namespace_annotations
        .get(SUPPLEMENTAL_GROUPS_ANNOTATION)
        .and_then(|r| r.split(',').next().and_then(parse_block))
        .map(|range| (range, SUPPLEMENTAL_GROUPS_ANNOTATION))
        .or(uid_range.map(|range| (range, UID_RANGE_ANNOTATION)));
    let mut problems = Vec::new();
    if let (Some(uid), Some((min, max))) = (context.run_as_user, uid_range) {
        if !(min..=max).contains(&uid) {
            problems.push(format!(
                "spec.securityContext.runAsUser {uid} is outside the namespace's UID range {min}-{max} ({UID_RANGE_ANNOTATION})"
            ));
        }
    }
    if let (Some(gid), Some(((min, max), annotation))) = (context.fs_group, group_range) {
        if !(min..=max).contains(&gid) {
            problems.push(format!(
                "spec.securityContext.fsGroup {gid} is outside the namespace's group range {min}-{max} ({annotation})"
            ));
        }
    }
    (!problems.is_empty()).then(|| {
        format!(
            "{}: OpenShift's restricted-v2 SecurityContextConstraints will refuse the pods; remove the fixed IDs so that OpenShift assigns them, or pick IDs inside the range",
            problems.join("; ")
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Capabilities, Container, SecurityContext, Volume};

    fn annotations(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn context(uid: Option<i64>, fs_group: Option<i64>) -> PodSecurityContext {
        PodSecurityContext {
            run_as_user: uid,
            fs_group,
            ..PodSecurityContext::default()
        }
    }

    const RANGE: (&str, &str) = (UID_RANGE_ANNOTATION, "1000680000/10000");

    #[test]
    fn ids_inside_the_namespace_range_fit() {
        let ns = annotations(&[RANGE]);
        for id in [1000680000, 1000689999] {
            assert_eq!(
                uid_range_conflict(Some(&context(Some(id), Some(id))), &ns),
                None
            );
        }
    }

    #[test]
    fn a_run_as_user_outside_the_range_is_a_conflict_naming_the_range() {
        let ns = annotations(&[RANGE]);
        let message = uid_range_conflict(Some(&context(Some(1000), None)), &ns).unwrap();
        assert!(
            message.starts_with("spec.securityContext.runAsUser 1000 is outside the namespace's UID range 1000680000-1000689999 (openshift.io/sa.scc.uid-range)"),
            "{message}"
        );
        assert!(message.contains("restricted-v2"), "{message}");
        assert!(
            uid_range_conflict(Some(&context(Some(1000690000), None)), &ns).is_some(),
            "one past the end of the block"
        );
    }

    #[test]
    fn an_fs_group_is_checked_against_the_first_supplemental_group_block() {
        let ns = annotations(&[
            RANGE,
            (SUPPLEMENTAL_GROUPS_ANNOTATION, "5000/10,1000680000/10000"),
        ]);
        assert_eq!(
            uid_range_conflict(Some(&context(None, Some(5009))), &ns),
            None
        );
        let message = uid_range_conflict(Some(&context(None, Some(1000680000))), &ns).unwrap();
        assert!(
            message.contains("fsGroup 1000680000 is outside the namespace's group range 5000-5009 (openshift.io/sa.scc.supplemental-groups)"),
            "{message}"
        );
    }

    #[test]
    fn without_supplemental_groups_the_fs_group_must_fit_the_uid_range() {
        let ns = annotations(&[(UID_RANGE_ANNOTATION, "2000-2999")]);
        let message = uid_range_conflict(Some(&context(Some(1), Some(3000))), &ns).unwrap();
        assert!(message.contains("runAsUser 1 "), "{message}");
        assert!(
            message.contains("fsGroup 3000 is outside the namespace's group range 2000-2999 (openshift.io/sa.scc.uid-range)"),
            "{message}"
        );
    }

    #[test]
    fn nothing_is_judged_without_fixed_ids_or_without_a_range() {
        let ns = annotations(&[RANGE]);
        assert_eq!(uid_range_conflict(None, &ns), None);
        assert_eq!(uid_range_conflict(Some(&context(None, None)), &ns), None);
        assert_eq!(
            uid_range_conflict(Some(&context(Some(1000), Some(1000))), &annotations(&[])),
            None
        );
        assert_eq!(
            uid_range_conflict(
                Some(&context(Some(1000), None)),
                &annotations(&[(UID_RANGE_ANNOTATION, "garbage")])
            ),
            None
        );
    }

    fn restricted_v2() -> SecurityContextConstraints {
        serde_yaml::from_str(
            "allowHostDirVolumePlugin: false\nallowHostIPC: false\nallowHostNetwork: false\nallowHostPID: false\n\
             allowHostPorts: false\nallowPrivilegeEscalation: false\nallowPrivilegedContainer: false\n\
             allowedCapabilities: [NET_BIND_SERVICE]\nrequiredDropCapabilities: [ALL]\n\
             seccompProfiles: [runtime/default]\nseLinuxContext: {type: MustRunAs}\nreadOnlyRootFilesystem: false\n\
             volumes: [configMap, emptyDir, secret]\n",
        )
        .unwrap()
    }

    fn restricted_pod() -> PodSpec {
        PodSpec {
            containers: vec![Container {
                name: "zot".into(),
                security_context: Some(SecurityContext {
                    allow_privilege_escalation: Some(false),
                    capabilities: Some(Capabilities {
                        drop: Some(vec!["ALL".into()]),
                        add: Some(vec!["NET_BIND_SERVICE".into()]),
                    }),
                    seccomp_profile: Some(SeccompProfile {
                        type_: "RuntimeDefault".into(),
                        localhost_profile: None,
                    }),
                    ..SecurityContext::default()
                }),
                ..Container::default()
            }],
            volumes: Some(vec![Volume {
                name: "tmp".into(),
                empty_dir: Some(Default::default()),
                ..Volume::default()
            }]),
            ..PodSpec::default()
        }
    }

    #[test]
    fn a_restricted_pod_passes_the_restricted_scc() {
        assert_eq!(
            violations(&restricted_v2(), &restricted_pod()),
            Vec::<String>::new()
        );
    }

    #[test]
    fn each_broken_rule_is_reported() {
        let mut pod = restricted_pod();
        pod.host_network = Some(true);
        pod.volumes.as_mut().unwrap().push(Volume {
            name: "host".into(),
            host_path: Some(Default::default()),
            ..Volume::default()
        });
        let context = pod.containers[0].security_context.as_mut().unwrap();
        context.privileged = Some(true);
        context.allow_privilege_escalation = None;
        context.capabilities = Some(Capabilities {
            add: Some(vec!["SYS_ADMIN".into()]),
            drop: None,
        });
        context.seccomp_profile = Some(SeccompProfile {
            type_: "Unconfined".into(),
            localhost_profile: None,
        });
        pod.containers[0].ports = Some(vec![k8s_openapi::api::core::v1::ContainerPort {
            container_port: 5000,
            host_port: Some(5000),
            ..Default::default()
        }]);
        assert_eq!(
            violations(&restricted_v2(), &pod),
            [
                "the pod uses the host's network",
                "volume type hostPath is not allowed",
                "container zot is privileged",
                "container zot does not set allowPrivilegeEscalation: false",
                "container zot adds capability SYS_ADMIN",
                "container zot does not drop capability ALL",
                "container zot binds host port 5000",
                "container zot seccomp profile unconfined is not allowed",
            ]
        );
    }

    #[test]
    fn a_missing_seccomp_profile_and_fixed_selinux_options_are_reported() {
        let mut pod = restricted_pod();
        let context = pod.containers[0].security_context.as_mut().unwrap();
        context.seccomp_profile = None;
        context.se_linux_options = Some(Default::default());
        assert_eq!(
            violations(&restricted_v2(), &pod),
            [
                "container zot has no seccomp profile",
                "container zot fixes SELinux options, which the SCC assigns",
            ]
        );
    }

    #[test]
    fn seccomp_profiles_have_their_scc_names() {
        let profile = |t: &str, p: Option<&str>| SeccompProfile {
            type_: t.into(),
            localhost_profile: p.map(str::to_string),
        };
        assert_eq!(
            seccomp_name(&profile("RuntimeDefault", None)),
            "runtime/default"
        );
        assert_eq!(
            seccomp_name(&profile("Localhost", Some("zot.json"))),
            "localhost/zot.json"
        );
        assert_eq!(seccomp_name(&profile("Unconfined", None)), "unconfined");
    }
}
