//! CEL rules and schemas shared by several fields. An `IntOrString` field is an int-or-string in the schema, so its
//! rules convert `self` with `string()` first and work on either form; sizes are strings (`quantity_string`).
use kube::core::Rule;

use super::messages;

/// A positive resource quantity such as `5Gi`, on a `quantity_string` field: without this rule the API server would
/// store `size: "five gigs"`. (`self` is used as it is: `string(self)` has no size the API server can estimate, and
/// the rule's estimated cost would exceed its budget.)
pub fn positive_quantity() -> Rule {
    Rule::new("isQuantity(self) && quantity(self).isGreaterThan(quantity('0'))")
        .message(messages::POSITIVE_QUANTITY)
}

/// The schema of a size, a quantity written as a string such as `5Gi` (bytes too: `"1073741824"`). A `Quantity`'s
/// own schema is an int-or-string, which the console's create form draws as a choice of type beside the value
/// instead of one text field.
pub fn quantity_string(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "maxLength": 64 })
}

/// A pod count or a percentage such as `50%`, as a PodDisruptionBudget takes it.
pub fn count_or_percent() -> Rule {
    Rule::new("string(self).matches('^[0-9]+%?$')")
        .message("must be a number of pods (e.g. 2) or a percentage (e.g. 50%)")
}

/// A URL with an http or https scheme.
pub fn http_url() -> Rule {
    Rule::new("self.startsWith('https://') || self.startsWith('http://')")
        .message("must be an http:// or https:// URL")
}

// spec.securityContext: what restricted Pod Security would refuse is refused at admission instead, so a store never
// waits for pods that cannot be created (one rule each, so that each message names its setting).

pub fn sc_root_user() -> Rule {
    Rule::new("!has(self.runAsUser) || self.runAsUser != 0").message(messages::SC_ROOT_USER)
}

pub fn sc_run_as_non_root() -> Rule {
    Rule::new("!has(self.runAsNonRoot) || self.runAsNonRoot").message(messages::SC_RUN_AS_ROOT)
}

pub fn sc_seccomp() -> Rule {
    Rule::new("!has(self.seccompProfile) || self.seccompProfile.type != 'Unconfined'")
        .message(messages::SC_SECCOMP)
}

pub fn sc_apparmor() -> Rule {
    Rule::new("!has(self.appArmorProfile) || self.appArmorProfile.type != 'Unconfined'")
        .message(messages::SC_APPARMOR)
}

pub fn sc_selinux() -> Rule {
    Rule::new(
        "!has(self.seLinuxOptions) || (!has(self.seLinuxOptions.user) && !has(self.seLinuxOptions.role) && \
         (!has(self.seLinuxOptions.type) || self.seLinuxOptions.type in \
         ['container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']))",
    )
    .message(messages::SC_SELINUX)
}

pub fn sc_sysctls() -> Rule {
    Rule::new(
        "!has(self.sysctls) || self.sysctls.all(s, s.name in ['kernel.shm_rmid_forced', \
         'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies', \
         'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', \
         'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes'])",
    )
    .message(messages::SC_SYSCTLS)
}

pub fn sc_host_process() -> Rule {
    Rule::new("!has(self.windowsOptions) || !has(self.windowsOptions.hostProcess) || !self.windowsOptions.hostProcess")
        .message(messages::SC_HOST_PROCESS)
}

/// A Go duration (as zot reads its intervals).
pub const DURATION_RULE: &str = "self.matches('^([0-9]+(ns|us|ms|s|m|h))+$')";
/// What a field with [`DURATION_RULE`] says.
pub const DURATION_MESSAGE: &str = "must be a duration such as 24h, 90m or 1h30m";
