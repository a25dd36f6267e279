//! OpenShift Routes: the kopium model (route.openshift.io/v1) and what the operator reads from a Route's status.
pub use super::generated::route::*;

/// Whether a router admitted the Route: Some(true) when a router admitted it, Some(false) when routers saw it
/// and none admitted it (e.g. another namespace already claims the host), None while no router reported yet.
pub fn admitted(route: &Route) -> Option<bool> {
    let ingress = route.status.as_ref()?.ingress.as_ref()?;
    let conditions: Vec<&RouteStatusIngressConditions> = ingress
        .iter()
        .flat_map(|i| i.conditions.iter().flatten())
        .filter(|c| c.r#type == "Admitted")
        .collect();
    if conditions.is_empty() {
        return None;
    }
    Some(conditions.iter().any(|c| c.status == "True"))
}

/// Why no router admitted the Route (reason and message of its Admitted=False condition), for the store's
/// RouteReady condition; None when admitted or not decided yet.
pub fn rejection(route: &Route) -> Option<String> {
    if admitted(route) != Some(false) {
        return None;
    }
    route
        .status
        .as_ref()?
        .ingress
        .iter()
        .flatten()
        .flat_map(|i| i.conditions.iter().flatten())
        .find(|c| c.r#type == "Admitted" && c.status != "True")
        .map(|c| {
            let reason = c.reason.as_deref().unwrap_or("NotAdmitted");
            match c.message.as_deref() {
                Some(message) if !message.is_empty() => format!("{reason}: {message}"),
                _ => reason.to_string(),
            }
        })
}

/// The host clients reach the Route at: the host a router admitted it under, else its spec.host (which OpenShift
/// defaults from the apps domain when the operator left it empty).
pub fn host(route: &Route) -> Option<String> {
    let admitted_host = route
        .status
        .as_ref()
        .and_then(|s| s.ingress.as_ref())
        .into_iter()
        .flatten()
        .filter(|i| {
            i.conditions
                .iter()
                .flatten()
                .any(|c| c.r#type == "Admitted" && c.status == "True")
        })
        .find_map(|i| i.host.clone());
    admitted_host
        .or_else(|| route.spec.host.clone())
        .filter(|h| !h.is_empty())
}

/// The Route's external URL for status.endpoints.external: `https://<host>` for a TLS Route, `http://<host>`
/// otherwise.
pub fn external_url(route: &Route) -> Option<String> {
    let scheme = if route.spec.tls.is_some() {
        "https"
    } else {
        "http"
    };
    host(route).map(|host| format!("{scheme}://{host}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn route(host: Option<&str>, tls: bool) -> Route {
        Route::new(
            "zot",
            RouteSpec {
                host: host.map(str::to_string),
                tls: tls.then_some(RouteTls {
                    termination: RouteTlsTermination::Edge,
                    ca_certificate: None,
                    certificate: None,
                    destination_ca_certificate: None,
                    external_certificate: None,
                    insecure_edge_termination_policy: None,
                    key: None,
                }),
                to: RouteTo {
                    kind: RouteToKind::Service,
                    name: "zot".into(),
                    weight: None,
                },
                alternate_backends: None,
                http_headers: None,
                path: None,
                port: None,
                subdomain: None,
                wildcard_policy: None,
            },
        )
    }

    fn with_ingress(mut route: Route, host: &str, status: &str, reason: Option<&str>) -> Route {
        let status = RouteStatusIngress {
            host: Some(host.into()),
            router_name: Some("default".into()),
            conditions: Some(vec![RouteStatusIngressConditions {
                r#type: "Admitted".into(),
                status: status.into(),
                reason: reason.map(str::to_string),
                message: reason.map(|_| "route zot already exposes the host".to_string()),
                last_transition_time: None,
            }]),
            ..RouteStatusIngress::default()
        };
        route
            .status
            .get_or_insert_with(RouteStatus::default)
            .ingress
            .get_or_insert_with(Vec::new)
            .push(status);
        route
    }

    #[test]
    fn a_route_no_router_has_seen_is_undecided() {
        let r = route(Some("zot.apps.example.com"), true);
        assert_eq!(admitted(&r), None);
        assert_eq!(rejection(&r), None);
    }

    #[test]
    fn a_route_admitted_by_a_router_is_admitted_at_the_admitted_host() {
        let r = with_ingress(route(None, true), "zot-ns.apps.example.com", "True", None);
        assert_eq!(admitted(&r), Some(true));
        assert_eq!(rejection(&r), None);
        assert_eq!(
            external_url(&r).as_deref(),
            Some("https://zot-ns.apps.example.com")
        );
    }

    #[test]
    fn a_route_every_router_rejected_says_why() {
        let r = with_ingress(
            route(Some("taken.apps.example.com"), true),
            "taken.apps.example.com",
            "False",
            Some("HostAlreadyClaimed"),
        );
        assert_eq!(admitted(&r), Some(false));
        assert_eq!(
            rejection(&r).as_deref(),
            Some("HostAlreadyClaimed: route zot already exposes the host")
        );
    }

    #[test]
    fn one_admitting_router_is_enough() {
        let r = with_ingress(
            with_ingress(route(None, true), "a.example.com", "False", Some("X")),
            "b.example.com",
            "True",
            None,
        );
        assert_eq!(admitted(&r), Some(true));
        assert_eq!(host(&r).as_deref(), Some("b.example.com"));
    }

    #[test]
    fn before_admission_the_url_is_the_spec_host_and_plain_routes_use_http() {
        assert_eq!(
            external_url(&route(Some("zot.example.com"), false)).as_deref(),
            Some("http://zot.example.com")
        );
        assert_eq!(external_url(&route(None, true)), None);
    }
}
