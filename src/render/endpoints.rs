//! The addresses at which a store is reachable, for zot's external URL and the store's status.
use k8s_openapi::api::networking::v1::Ingress;

use crate::api::v1alpha1::Endpoints;
use crate::platform::Platform;
use crate::validate::ValidatedStore;

/// In-cluster address (`<store>.<namespace>.svc:<port>`) and the address published by the Ingress or, on
/// OpenShift, the Route. A Route whose host OpenShift picks has no external address here: the controller reads
/// it from the admitted Route ([`crate::openshift::route::external_url`]); neither has an Ingress that names no
/// host: the controller reads the address its ingress controller reports ([`load_balancer_url`]).
pub fn endpoints(store: &ValidatedStore, platform: &Platform) -> Endpoints {
    let networking = &store.spec.networking;
    let internal = format!(
        "{}.{}.svc:{}",
        store.name, store.namespace, networking.service.port
    );
    let ingress = super::ingress::published_ingress(store, platform).and_then(|i| {
        let scheme = if i.tls.as_ref().is_some_and(|t| t.enabled) {
            "https"
        } else {
            "http"
        };
        i.host.as_ref().map(|host| format!("{scheme}://{host}"))
    });
    // Every Route the operator renders serves HTTPS (edge, reencrypt or passthrough).
    let route = super::route_plan(store, platform)
        .and_then(|plan| plan.host)
        .map(|host| format!("https://{host}"));
    Endpoints {
        internal: Some(internal),
        external: ingress.or(route),
    }
}

/// The address an ingress controller reports for `ingress` (`status.loadBalancer.ingress`: a host name, else an IP
/// address), as a URL: https when the Ingress has a TLS entry. None until a controller reports one.
pub fn load_balancer_url(ingress: &Ingress) -> Option<String> {
    let address = ingress
        .status
        .as_ref()?
        .load_balancer
        .as_ref()?
        .ingress
        .as_ref()?
        .iter()
        .find_map(|lb| {
            lb.hostname
                .as_deref()
                .filter(|h| !h.is_empty())
                .or(lb.ip.as_deref().filter(|ip| !ip.is_empty()))
        })?;
    let tls = ingress
        .spec
        .as_ref()
        .and_then(|spec| spec.tls.as_ref())
        .is_some_and(|tls| !tls.is_empty());
    let scheme = if tls { "https" } else { "http" };
    let address = if address.contains(':') {
        format!("[{address}]")
    } else {
        address.to_string()
    };
    Some(format!("{scheme}://{address}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ingress(status: serde_json::Value, tls: bool) -> Ingress {
        let spec = if tls {
            serde_json::json!({"tls": [{"secretName": "zot-tls"}]})
        } else {
            serde_json::json!({})
        };
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "zot"},
            "spec": spec,
            "status": status,
        }))
        .unwrap()
    }

    #[test]
    fn the_reported_host_name_wins_over_the_ip() {
        let lb = serde_json::json!({"loadBalancer": {"ingress": [{"ip": "192.0.2.10", "hostname": "lb.example.com"}]}});
        assert_eq!(
            load_balancer_url(&ingress(lb, false)).as_deref(),
            Some("http://lb.example.com")
        );
    }

    #[test]
    fn an_ip_is_published_and_tls_makes_it_https() {
        let lb = serde_json::json!({"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}});
        assert_eq!(
            load_balancer_url(&ingress(lb, true)).as_deref(),
            Some("https://192.0.2.10")
        );
        let v6 = serde_json::json!({"loadBalancer": {"ingress": [{"ip": "2001:db8::1"}]}});
        assert_eq!(
            load_balancer_url(&ingress(v6, false)).as_deref(),
            Some("http://[2001:db8::1]")
        );
    }

    #[test]
    fn nothing_before_a_controller_reports() {
        for status in [
            serde_json::json!({}),
            serde_json::json!({"loadBalancer": {}}),
            serde_json::json!({"loadBalancer": {"ingress": []}}),
            serde_json::json!({"loadBalancer": {"ingress": [{"ip": ""}]}}),
        ] {
            assert_eq!(
                load_balancer_url(&ingress(status.clone(), false)),
                None,
                "{status}"
            );
        }
    }
}
