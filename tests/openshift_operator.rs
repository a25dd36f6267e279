//! The operator on the OpenShift flavour of the local cluster (Route, SCC, config.openshift.io and monitoring CRDs)
//! and the same requests on plain Kubernetes. Each test's operator watches only its test's namespace (as OLM's
//! OwnNamespace and SingleNamespace install modes run it), so that operators of tests running side by side, with
//! different environments, never reconcile each other's stores.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod support;

use std::time::Duration;

use serde_json::Value;
use support::operator::{Operator, in_restricted_namespace};
use support::{Flavour, TestNamespace, apply, condition, eventually, get, kubectl, ready};

const WAIT: Duration = Duration::from_secs(120);

/// zot's configuration as the operator wrote it into the store's config Secret.
fn zot_config(flavour: Flavour, ns: &str, store: &str) -> Option<Value> {
    let secret = get(flavour, ns, &format!("secret/{store}-config"))?;
    let encoded = secret["data"]["config.json"].as_str()?;
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The Secrets named `*-serving-cert` that the store's pods mount.
fn serving_cert_volumes(flavour: Flavour, ns: &str, store: &str) -> Vec<String> {
    let Some(sts) = get(flavour, ns, &format!("statefulset/{store}")) else {
        return Vec::new();
    };
    sts["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["secret"]["secretName"].as_str())
        .filter(|name| name.ends_with("-serving-cert"))
        .map(str::to_string)
        .collect()
}

fn store(name: &str, networking: &str) -> String {
    format!(
        "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: {name}\nspec:\n{networking}"
    )
}

#[tokio::test]
async fn on_openshift_a_store_gets_a_route_on_the_apps_domain_that_follows_its_termination() {
    const O: Flavour = Flavour::OpenShift;
    let (ns, _operator) = in_restricted_namespace(O, "routes", "openshift-routes", &[]).await;
    apply(
        O,
        &ns.name,
        &store(
            "web",
            "  metrics:\n    prometheus:\n      serviceMonitor:\n        enabled: true\n",
        ),
    );
    let status = ready(O, &ns.name, "web").await;
    let route = get(O, &ns.name, "route/web").expect("a Route by default on OpenShift");
    let host = format!("web-{}.apps.zot.test", ns.name);
    assert_eq!(route["spec"]["host"], host.as_str());
    // TLS by default: zot serves the certificate of the store's own CA, and the Route re-encrypts trusting it.
    assert_eq!(route["spec"]["tls"]["termination"], "reencrypt");
    assert_eq!(
        route["spec"]["tls"]["insecureEdgeTerminationPolicy"],
        "Redirect"
    );
    let store_ca =
        support::tls::secret_key(O, &ns.name, "web-ca", "ca.crt").expect("the store's CA");
    assert_eq!(
        route["spec"]["tls"]["destinationCACertificate"],
        store_ca.as_str()
    );
    let sts = get(O, &ns.name, "statefulset/web").unwrap();
    let tls_volume = sts["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "tls")
        .cloned()
        .unwrap();
    assert_eq!(tls_volume["secret"]["secretName"], "web-tls");
    assert!(route["metadata"]["annotations"]["haproxy.router.openshift.io/timeout"].is_string());
    // No router runs in the test cluster: the Route is not admitted, and the store says so.
    let (s, reason, _) = condition(&status, "RouteReady").expect("a RouteReady condition");
    assert_eq!((s.as_str(), reason.as_str()), ("False", "NotAdmitted"));
    // OpenShift pods get no fixed UID, GID or fsGroup: restricted-v2 assigns them.
    let sts = get(O, &ns.name, "statefulset/web").unwrap();
    let pod_sc = &sts["spec"]["template"]["spec"]["securityContext"];
    for field in ["runAsUser", "runAsGroup", "fsGroup"] {
        assert!(
            pod_sc[field].is_null(),
            "{field} is set on OpenShift: {pod_sc}"
        );
    }
    // Trust and monitoring come with it.
    let bundle =
        get(O, &ns.name, "configmap/web-trusted-ca").expect("the trusted CA bundle ConfigMap");
    assert_eq!(
        bundle["metadata"]["labels"]["config.openshift.io/inject-trusted-cabundle"],
        "true"
    );
    assert!(
        get(O, &ns.name, "servicemonitor/web").is_some(),
        "no ServiceMonitor although its CRD exists"
    );

    // reencrypt: the Service asks the service CA for zot's certificate, and the Route follows.
    apply(
        O,
        &ns.name,
        &store(
            "web",
            "  networking:\n    route:\n      termination: reencrypt\n  metrics:\n    prometheus:\n      serviceMonitor:\n        enabled: true\n",
        ),
    );
    eventually("the Route to re-encrypt", WAIT, || async {
        let r = get(O, &ns.name, "route/web")?;
        (r["spec"]["tls"]["termination"] == "reencrypt").then_some(())
    })
    .await;
    let service = get(O, &ns.name, "service/web").unwrap();
    assert_eq!(
        service["metadata"]["annotations"]["service.beta.openshift.io/serving-cert-secret-name"],
        "web-serving-cert"
    );
    // ... and zot serves TLS with that certificate: its config names the files, its pods mount the Secret.
    let tls = eventually("zot's config to serve TLS", WAIT, || async {
        let tls = zot_config(O, &ns.name, "web")?["http"]["tls"].clone();
        tls.is_object().then_some(tls)
    })
    .await;
    assert!(tls["cert"].is_string() && tls["key"].is_string(), "{tls}");
    assert_eq!(
        serving_cert_volumes(O, &ns.name, "web"),
        vec!["web-serving-cert".to_string()]
    );

    // A router admits the Route (played here by writing its status, as the OpenShift router does): RouteReady
    // turns True and the store publishes the Route's address.
    let admitted = format!(
        r#"{{"status":{{"ingress":[{{"host":"{host}","routerName":"default","conditions":[{{"type":"Admitted","status":"True"}}]}}]}}}}"#
    );
    let (ok, _, err) = kubectl(
        O,
        &[
            "patch",
            "-n",
            &ns.name,
            "route/web",
            "--subresource=status",
            "--type=merge",
            "-p",
            &admitted,
        ],
        None,
    );
    assert!(ok, "{err}");
    let admitted_store = eventually(
        "RouteReady=True and the external endpoint",
        WAIT,
        || async {
            let s = get(O, &ns.name, "zas/web")?;
            (condition(&s, "RouteReady")?.0 == "True").then_some(s)
        },
    )
    .await;
    assert_eq!(
        admitted_store["status"]["endpoints"]["external"],
        format!("https://{host}").as_str()
    );

    // Back to edge with TLS off: the router terminates TLS and zot serves plain HTTP without a certificate.
    apply(
        O,
        &ns.name,
        &store(
            "web",
            "  tls:\n    enabled: false\n  networking:\n    route:\n      termination: edge\n  metrics:\n    prometheus:\n      serviceMonitor:\n        enabled: true\n",
        ),
    );
    eventually("zot to stop serving TLS", WAIT, || async {
        let config = zot_config(O, &ns.name, "web")?;
        let route = get(O, &ns.name, "route/web")?;
        (config["http"]["tls"].is_null()
            && route["spec"]["tls"]["termination"] == "edge"
            && serving_cert_volumes(O, &ns.name, "web").is_empty())
        .then_some(())
    })
    .await;

    // A Route deleted by hand comes back.
    let uid = get(O, &ns.name, "route/web").unwrap()["metadata"]["uid"].clone();
    let (ok, _, err) = kubectl(O, &["delete", "-n", &ns.name, "route/web"], None);
    assert!(ok, "{err}");
    eventually("the Route to be recreated", WAIT, || async {
        let r = get(O, &ns.name, "route/web")?;
        (r["metadata"]["uid"] != uid).then_some(())
    })
    .await;
}

/// config/samples/openshift.yaml, for the namespace the test gives it.
fn openshift_sample() -> String {
    let text = std::fs::read_to_string(support::repo_root().join("config/samples/openshift.yaml"))
        .unwrap();
    let mut sample: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    sample["metadata"]
        .as_mapping_mut()
        .unwrap()
        .remove("namespace");
    serde_yaml::to_string(&sample).unwrap()
}

#[tokio::test]
async fn on_kubernetes_the_openshift_sample_falls_back_to_an_ingress_and_no_route_is_ever_called() {
    const K: Flavour = Flavour::Vanilla;
    let (ns, _operator) = in_restricted_namespace(K, "fallback", "kubernetes-fallback", &[]).await;
    // The sample signs users in with Keycloak, which the operator asks before zot starts: here the platform's
    // (its realm and client in place of the sample's). This test is about publishing (Ingress, no Route call), so
    // its pod is simulated.
    support::keycloak::ensure_up();
    let label = format!(
        "{}={}",
        support::SIMULATED_PODS.0,
        support::SIMULATED_PODS.1
    );
    let (ok, _, err) = kubectl(K, &["label", "namespace", &ns.name, &label], None);
    assert!(ok, "{err}");
    let (ok, _, err) = kubectl(
        K,
        &[
            "create",
            "secret",
            "generic",
            "keycloak-client-secret",
            "-n",
            &ns.name,
            &format!("--from-literal=secret={}", support::keycloak::CLIENT_SECRET),
        ],
        None,
    );
    assert!(ok, "{err}");
    let sample = openshift_sample()
        .replace("https://keycloak.apps.example.com", support::keycloak::URL)
        .replace(
            "realm: artifacts",
            &format!("realm: {}", support::keycloak::REALM),
        )
        .replace(
            "clientId: zot-artifact-store",
            &format!("clientId: {}", support::keycloak::CLIENT),
        );
    assert!(sample.contains(support::keycloak::URL), "{sample}");
    apply(K, &ns.name, &sample);
    let name = "openshift-artifact-store";
    let status = ready(K, &ns.name, name).await;
    let ingress = get(K, &ns.name, &format!("ingress/{name}"))
        .expect("an Ingress in place of the Route this cluster cannot serve");
    let rule = &ingress["spec"]["rules"][0];
    assert!(rule["host"].is_null(), "the sample names no host: {rule}");
    assert_eq!(rule["http"]["paths"][0]["backend"]["service"]["name"], name);
    let (s, _, message) = condition(&status, "Degraded").expect("a Degraded condition");
    assert_eq!(s, "True");
    assert!(
        message.contains("spec.networking.route.enabled") && message.contains("an Ingress"),
        "{message}"
    );
    // Hostless, the Ingress is reached at the address its ingress controller reports (played here by writing the
    // status as a controller does), and the store publishes it.
    assert!(
        status["status"]["endpoints"]["external"].is_null(),
        "an external endpoint before any ingress controller reported an address: {}",
        status["status"]["endpoints"]
    );
    let (ok, _, err) = kubectl(
        K,
        &[
            "patch",
            "-n",
            &ns.name,
            &format!("ingress/{name}"),
            "--subresource=status",
            "--type=merge",
            "-p",
            r#"{"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.10"}]}}}"#,
        ],
        None,
    );
    assert!(ok, "{err}");
    eventually(
        "the load balancer's address as the external endpoint",
        WAIT,
        || async {
            let s = get(K, &ns.name, &format!("zas/{name}"))?;
            (s["status"]["endpoints"]["external"] == "http://192.0.2.10").then_some(())
        },
    )
    .await;

    // The API server's audit log: the operator asked for this store's Ingress and never for a Route.
    let events = support::audit_events(K);
    let ingress_writes = events.iter().filter(|e| {
        e["objectRef"]["resource"] == "ingresses" && e["objectRef"]["namespace"] == ns.name.as_str()
    });
    assert!(
        ingress_writes.count() > 0,
        "the audit log shows no request for the Ingress in {}: is the log being written?",
        ns.name
    );
    let route_calls: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e["objectRef"]["apiGroup"] == "route.openshift.io"
                || e["requestURI"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("/apis/route.openshift.io"))
        })
        .collect();
    assert!(
        route_calls.is_empty(),
        "the operator called the Route API on plain Kubernetes: {route_calls:?}"
    );
}

#[tokio::test]
async fn on_kubernetes_a_route_request_is_a_condition_and_the_ingress_is_used() {
    const K: Flavour = Flavour::Vanilla;
    let ns = TestNamespace::new(K, "noroutes", &[]).await;
    let _operator = Operator::start(K, "kubernetes-routes", &[("WATCH_NAMESPACE", &ns.name)]);
    apply(
        K,
        &ns.name,
        &store(
            "web",
            "  networking:\n    route:\n      enabled: true\n    ingress:\n      enabled: true\n      host: zot.example.test\n",
        ),
    );
    let status = ready(K, &ns.name, "web").await;
    let (s, _, message) = condition(&status, "Degraded").expect("a Degraded condition");
    assert_eq!(s, "True");
    assert!(message.contains("spec.networking.route"), "{message}");
    let ingress = get(K, &ns.name, "ingress/web").expect("the Ingress");
    assert_eq!(ingress["spec"]["rules"][0]["host"], "zot.example.test");
    assert_eq!(
        status["status"]["endpoints"]["external"],
        "http://zot.example.test"
    );
}

#[tokio::test]
async fn on_openshift_a_uid_outside_the_namespace_range_is_reported_before_pods_fail() {
    const O: Flavour = Flavour::OpenShift;
    let ns = TestNamespace::new(O, "uids", &[]).await;
    let _operator = Operator::start(O, "openshift-uids", &[("WATCH_NAMESPACE", &ns.name)]);
    let (ok, _, err) = kubectl(
        O,
        &[
            "annotate",
            "namespace",
            &ns.name,
            "openshift.io/sa.scc.uid-range=1000680000/10000",
        ],
        None,
    );
    assert!(ok, "{err}");
    apply(
        O,
        &ns.name,
        &store("fixed", "  securityContext:\n    runAsUser: 1000\n"),
    );
    let status = eventually("a SecurityContextReady=False condition", WAIT, || async {
        let s = get(O, &ns.name, "zas/fixed")?;
        (condition(&s, "SecurityContextReady")?.0 == "False").then_some(s)
    })
    .await;
    let (_, reason, message) = condition(&status, "SecurityContextReady").unwrap();
    assert_eq!(reason, "OutsideNamespaceRange");
    assert!(message.contains("1000680000"), "{message}");
    assert_eq!(condition(&status, "Ready").unwrap().0, "False");
    // Inside the range it is fine.
    apply(
        O,
        &ns.name,
        &store("fixed", "  securityContext:\n    runAsUser: 1000680005\n"),
    );
    ready(O, &ns.name, "fixed").await;
}

/// The environment variable named `name` of the zot container of the store's StatefulSet.
fn zot_env(flavour: Flavour, ns: &str, store: &str, name: &str) -> Option<String> {
    let sts = get(flavour, ns, &format!("statefulset/{store}"))?;
    sts["spec"]["template"]["spec"]["containers"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == "zot")?["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)?["value"]
        .as_str()
        .map(str::to_string)
}

#[tokio::test]
async fn installed_for_one_namespace_the_operator_runs_its_stores_only_and_hands_zot_the_cluster_proxy()
 {
    const O: Flavour = Flavour::OpenShift;
    let other = TestNamespace::new(O, "unwatched", &[]).await;
    // What OLM puts into the operator's Deployment: the OperatorGroup's target namespace and the cluster proxy.
    let (ns, operator) = in_restricted_namespace(
        O,
        "scoped",
        "openshift-scoped",
        &[
            ("HTTP_PROXY", "http://proxy.corp.test:3128"),
            ("HTTPS_PROXY", "http://proxy.corp.test:3129"),
            ("NO_PROXY", "127.0.0.1,localhost,.svc,.cluster.local"),
        ],
    )
    .await;
    apply(O, &other.name, &store("web", "  replicas: 1\n"));
    apply(O, &ns.name, &store("web", "  replicas: 1\n"));
    ready(O, &ns.name, "web").await;

    // zot reaches the outside (sync, OpenID discovery, object storage) through the cluster proxy and trusts the
    // cluster's CA bundle, which the proxy's own CA is part of.
    for (name, value) in [
        ("HTTP_PROXY", "http://proxy.corp.test:3128"),
        ("HTTPS_PROXY", "http://proxy.corp.test:3129"),
        ("NO_PROXY", "127.0.0.1,localhost,.svc,.cluster.local"),
    ] {
        assert_eq!(
            zot_env(O, &ns.name, "web", name).as_deref(),
            Some(value),
            "{name} of the zot container"
        );
    }
    let ca_file = zot_env(O, &ns.name, "web", "SSL_CERT_FILE").expect("SSL_CERT_FILE");
    assert!(
        ca_file.ends_with(".crt") || ca_file.ends_with(".pem"),
        "{ca_file}"
    );

    // The store of the namespace the operator does not watch is left alone: by the time the watched one is Ready,
    // the operator has listed its stores, and this one got neither a status nor a child.
    let untouched = get(O, &other.name, "zas/web").expect("the store outside the scope");
    assert!(
        untouched["status"].is_null(),
        "a store outside WATCH_NAMESPACE got a status: {}",
        untouched["status"]
    );
    for child in [
        "statefulset/web",
        "secret/web-config",
        "service/web",
        "route/web",
    ] {
        assert!(
            get(O, &other.name, child).is_none(),
            "{child} was created outside WATCH_NAMESPACE"
        );
    }
    let logs = operator.logs();
    assert!(
        !logs.contains(&other.name),
        "the operator logged about a namespace it does not watch"
    );
}

#[tokio::test]
async fn on_openshift_an_ingress_replaces_the_default_route_and_the_route_comes_back_without_it() {
    const O: Flavour = Flavour::OpenShift;
    let (ns, _operator) = in_restricted_namespace(O, "ingress", "openshift-ingress", &[]).await;
    apply(O, &ns.name, &store("web", "  replicas: 1\n"));
    ready(O, &ns.name, "web").await;
    assert!(
        get(O, &ns.name, "route/web").is_some(),
        "a Route by default on OpenShift"
    );

    // Seed 000's OpenShift way: an Ingress of class openshift-default, which OpenShift's ingress controller turns
    // into a Route itself. The operator's own Route for the same store would be a second one: it is pruned.
    let host = format!("registry-{}.apps.zot.test", ns.name);
    apply(
        O,
        &ns.name,
        &store(
            "web",
            &format!(
                "  networking:\n    ingress:\n      enabled: true\n      className: openshift-default\n      host: {host}\n      annotations:\n        route.openshift.io/termination: edge\n"
            ),
        ),
    );
    let ingress = eventually("the Ingress, and the Route pruned", WAIT, || async {
        let ingress = get(O, &ns.name, "ingress/web")?;
        get(O, &ns.name, "route/web").is_none().then_some(ingress)
    })
    .await;
    assert_eq!(ingress["spec"]["ingressClassName"], "openshift-default");
    assert_eq!(ingress["spec"]["rules"][0]["host"], host.as_str());
    assert_eq!(
        ingress["metadata"]["annotations"]["route.openshift.io/termination"],
        "edge"
    );
    let status = ready(O, &ns.name, "web").await;
    assert!(
        condition(&status, "RouteReady").is_none(),
        "no Route of the operator's, no RouteReady: {}",
        status["status"]
    );
    assert!(
        status["status"]["endpoints"]["external"]
            .as_str()
            .is_some_and(|e| e.ends_with(&host)),
        "{}",
        status["status"]["endpoints"]
    );

    // Without the Ingress, the default Route is back and the Ingress is pruned.
    apply(O, &ns.name, &store("web", "  replicas: 1\n"));
    eventually("the Route back, the Ingress pruned", WAIT, || async {
        let route = get(O, &ns.name, "route/web")?;
        get(O, &ns.name, "ingress/web").is_none().then_some(route)
    })
    .await;
}

/// `serviceMonitor: true`, as the product's users write it, is taken by the real API server and means a
/// ServiceMonitor with the defaults; the object form keeps its validation at admission; a value that is neither
/// is stored by the API server (the field's schema is untyped) and refused by the operator with what to write.
#[tokio::test]
async fn on_openshift_service_monitor_true_is_a_service_monitor_with_the_defaults() {
    const O: Flavour = Flavour::OpenShift;
    let (ns, _operator) = in_restricted_namespace(O, "monitor", "openshift-monitor", &[]).await;
    let monitor = |value: &str| {
        store(
            "scraped",
            &format!("  metrics:\n    prometheus:\n      serviceMonitor: {value}\n"),
        )
    };
    apply(O, &ns.name, &monitor("true"));
    ready(O, &ns.name, "scraped").await;
    let stored = get(O, &ns.name, "zas/scraped").unwrap();
    assert_eq!(
        stored["spec"]["metrics"]["prometheus"]["serviceMonitor"],
        true
    );
    let sm = get(O, &ns.name, "servicemonitor/scraped")
        .expect("serviceMonitor: true made no ServiceMonitor");
    let endpoint = &sm["spec"]["endpoints"][0];
    assert_eq!(endpoint["path"], "/metrics", "{sm}");
    assert!(
        endpoint["interval"].is_null(),
        "a default ServiceMonitor sets no interval: {sm}"
    );

    // The object form is still validated by the API server, at the field.
    let (ok, _, err) = kubectl(
        O,
        &["apply", "-n", &ns.name, "-f", "-"],
        Some(&monitor("{enabled: true, interval: 30 seconds}")),
    );
    assert!(!ok, "an interval that is no duration was admitted");
    assert!(
        err.contains("spec.metrics.prometheus.serviceMonitor.interval"),
        "{err}"
    );

    // false removes it.
    apply(O, &ns.name, &monitor("false"));
    eventually("the ServiceMonitor to be pruned", WAIT, || async {
        get(O, &ns.name, "servicemonitor/scraped")
            .is_none()
            .then_some(())
    })
    .await;

    // Neither boolean nor object: the API server stores it, the operator says what to write.
    apply(O, &ns.name, &monitor("weekly"));
    let message = eventually("an InvalidObject condition", WAIT, || async {
        let store = get(O, &ns.name, "zas/scraped")?;
        let (status, reason, message) = condition(&store, "Ready")?;
        (status == "False" && reason == "InvalidObject").then_some(message)
    })
    .await;
    assert!(
        message.contains("serviceMonitor must be true") && message.contains("{enabled: true"),
        "{message}"
    );
}
