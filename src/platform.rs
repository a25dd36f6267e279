//! Facts about the cluster that change what the operator renders. Discovered once by the controller
//! ([`crate::openshift::discover`]); plain data here so that rendering never needs a client.
use std::net::IpAddr;

use crate::api::names::DEFAULT_ZOT_IMAGE;

/// What the cluster offers, as rendering needs to know it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    /// OpenShift APIs are served (route.openshift.io, security.openshift.io, config.openshift.io): stores get a
    /// Route and the cluster's trusted CA bundle, and pods get no fixed UID, GID or fsGroup, so that the
    /// restricted-v2 SCC assigns them from the namespace's range.
    pub openshift: bool,
    /// The cluster's apps domain (ingresses.config.openshift.io/cluster), for default Route hosts.
    pub apps_domain: Option<String>,
    /// The monitoring.coreos.com ServiceMonitor CRD is installed.
    pub service_monitor_crd: bool,
    /// zot image used when a store names none: the operator's RELATED_IMAGE_ZOT, else [`DEFAULT_ZOT_IMAGE`].
    pub default_image: String,
    /// The cluster-wide egress proxy, passed on to zot (sync, OpenID discovery, object storage).
    pub proxy: Proxy,
}

/// An egress proxy as the usual environment variables say it. On OpenShift, OLM injects the cluster proxy's
/// settings into the operator's Deployment as HTTP_PROXY, HTTPS_PROXY and NO_PROXY.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Proxy {
    /// Proxy for http:// URLs.
    pub http_proxy: Option<String>,
    /// Proxy for https:// URLs.
    pub https_proxy: Option<String>,
    /// Hosts, domains and CIDRs reached directly, comma-separated.
    pub no_proxy: Option<String>,
}

impl Proxy {
    /// The proxy of the operator's own environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY; the lower-case names when
    /// the upper-case ones are unset).
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The proxy described by the variables `lookup` returns; empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let var = |upper: &str| {
            [upper.to_string(), upper.to_ascii_lowercase()]
                .iter()
                .filter_map(|name| lookup(name))
                .map(|value| value.trim().to_string())
                .find(|value| !value.is_empty())
        };
        Self {
            http_proxy: var("HTTP_PROXY"),
            https_proxy: var("HTTPS_PROXY"),
            no_proxy: var("NO_PROXY"),
        }
    }

    /// The environment variables that hand this proxy to a process, upper- and lower-case (programs read one or
    /// the other), in a fixed order.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = Vec::new();
        for (upper, lower, value) in [
            ("HTTP_PROXY", "http_proxy", &self.http_proxy),
            ("HTTPS_PROXY", "https_proxy", &self.https_proxy),
            ("NO_PROXY", "no_proxy", &self.no_proxy),
        ] {
            if let Some(value) = value {
                env.push((upper, value.clone()));
                env.push((lower, value.clone()));
            }
        }
        env
    }
}

impl Proxy {
    /// Whether `host` (a name or an IP address; `port` when known) is reached directly, as Go programs such as
    /// kubectl decide it: localhost and loopback addresses always, otherwise when a NO_PROXY entry names it (`*`;
    /// an IP address; a CIDR; a domain, with or without a leading `.` or `*.`, covering its subdomains too; each
    /// optionally with `:port`).
    pub fn exempts(&self, host: &str, port: Option<u16>) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let ip = host.parse::<IpAddr>().ok();
        if host == "localhost" || ip.is_some_and(|ip| ip.is_loopback()) {
            return true;
        }
        let Some(no_proxy) = &self.no_proxy else {
            return false;
        };
        no_proxy
            .split(',')
            .map(|entry| entry.trim().to_ascii_lowercase())
            .filter(|entry| !entry.is_empty())
            .any(|entry| no_proxy_entry_matches(&entry, &host, ip, port))
    }
}

fn no_proxy_entry_matches(entry: &str, host: &str, ip: Option<IpAddr>, port: Option<u16>) -> bool {
    if entry == "*" {
        return true;
    }
    if let Some((net, bits)) = entry.split_once('/') {
        return match (net.parse::<IpAddr>(), bits.parse::<u32>(), ip) {
            (Ok(net), Ok(bits), Some(ip)) => in_network(ip, net, bits),
            _ => false,
        };
    }
    if let Ok(entry_ip) = entry
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return ip == Some(entry_ip);
    }
    let (name, entry_port) = match entry.rsplit_once(':') {
        Some((name, p)) => match p.parse::<u16>() {
            Ok(p) => (name, Some(p)),
            Err(_) => return false,
        },
        None => (entry, None),
    };
    if entry_port.is_some() && entry_port != port {
        return false;
    }
    if let Ok(entry_ip) = name
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return ip == Some(entry_ip);
    }
    let domain = name.trim_start_matches('*').trim_start_matches('.');
    !domain.is_empty() && (host == domain || host.ends_with(&format!(".{domain}")))
}

/// Whether `ip` lies in `net`/`bits` (both of the same family).
fn in_network(ip: IpAddr, net: IpAddr, bits: u32) -> bool {
    let (ip, net, width) = match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            (u128::from(u32::from(ip)), u128::from(u32::from(net)), 32)
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => (u128::from(ip), u128::from(net), 128),
        _ => return false,
    };
    if bits > width {
        return false;
    }
    let shift = width - bits;
    shift >= 128 || (ip >> shift) == (net >> shift)
}

impl Platform {
    /// A vanilla Kubernetes cluster without the Prometheus Operator.
    pub fn kubernetes() -> Self {
        Self {
            openshift: false,
            apps_domain: None,
            service_monitor_crd: false,
            default_image: DEFAULT_ZOT_IMAGE.to_string(),
            proxy: Proxy::default(),
        }
    }

    /// An OpenShift cluster with the given apps domain; OpenShift ships the Prometheus Operator.
    pub fn openshift(apps_domain: Option<String>) -> Self {
        Self {
            openshift: true,
            apps_domain,
            service_monitor_crd: true,
            default_image: DEFAULT_ZOT_IMAGE.to_string(),
            proxy: Proxy::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn the_proxy_comes_from_the_upper_case_variables_olm_injects() {
        let proxy = Proxy::from_lookup(lookup(&[
            ("HTTP_PROXY", "http://proxy.corp:3128"),
            ("HTTPS_PROXY", "http://proxy.corp:3129"),
            ("NO_PROXY", ".cluster.local,.svc,10.0.0.0/16"),
            ("http_proxy", "http://ignored:1"),
        ]));
        assert_eq!(
            proxy,
            Proxy {
                http_proxy: Some("http://proxy.corp:3128".into()),
                https_proxy: Some("http://proxy.corp:3129".into()),
                no_proxy: Some(".cluster.local,.svc,10.0.0.0/16".into()),
            }
        );
    }

    #[test]
    fn no_proxy_exempts_hosts_as_go_programs_do() {
        let proxy = Proxy {
            https_proxy: Some("http://proxy.corp:3128".into()),
            no_proxy: Some(
                " .cluster.local, svc ,api.corp.test,*.apps.test,10.0.0.0/16,192.168.1.7,fd00::/8,internal:8443".into(),
            ),
            ..Proxy::default()
        };
        for (host, port, exempt) in [
            ("localhost", None, true),
            ("127.0.0.1", Some(6443), true),
            ("[::1]", None, true),
            ("kubernetes.default.svc", None, true),
            ("svc", None, true),
            ("api.cluster.local", None, true),
            ("cluster.local", None, true),
            ("API.corp.test", None, true),
            ("eu.api.corp.test", None, true),
            ("x.apps.test", None, true),
            ("10.0.200.1", Some(443), true),
            ("10.1.0.1", Some(443), false),
            ("192.168.1.7", None, true),
            ("192.168.1.8", None, false),
            ("fd12::1", None, true),
            ("[fe80::1]", None, false),
            ("internal", Some(8443), true),
            ("internal", Some(443), false),
            ("notapi.corp.test", None, false),
            ("api.corp.test.evil", None, false),
            ("registry.example.com", None, false),
        ] {
            assert_eq!(proxy.exempts(host, port), exempt, "{host} {port:?}");
        }
        let everything = Proxy {
            no_proxy: Some("*".into()),
            ..Proxy::default()
        };
        assert!(everything.exempts("registry.example.com", None));
        assert!(!Proxy::default().exempts("registry.example.com", None));
        assert!(Proxy::default().exempts("localhost", None));
    }

    #[test]
    fn lower_case_variables_stand_in_and_empty_ones_count_as_unset() {
        let proxy = Proxy::from_lookup(lookup(&[
            ("HTTP_PROXY", ""),
            ("http_proxy", "http://proxy:3128"),
            ("NO_PROXY", "  "),
        ]));
        assert_eq!(proxy.http_proxy.as_deref(), Some("http://proxy:3128"));
        assert_eq!(proxy.https_proxy, None);
        assert_eq!(proxy.no_proxy, None);
    }

    #[test]
    fn a_proxy_becomes_upper_and_lower_case_variables_and_no_proxy_none() {
        let proxy = Proxy {
            https_proxy: Some("http://p:1".into()),
            no_proxy: Some(".svc".into()),
            ..Proxy::default()
        };
        assert_eq!(
            proxy.env(),
            [
                ("HTTPS_PROXY", "http://p:1".to_string()),
                ("https_proxy", "http://p:1".to_string()),
                ("NO_PROXY", ".svc".to_string()),
                ("no_proxy", ".svc".to_string()),
            ]
        );
        assert!(Proxy::default().env().is_empty());
    }
}
