//! Pure rendering: a [`ValidatedStore`] and the [`Platform`] become every object the operator creates. No
//! function here sees a client; each is named after what it makes and tested by value.
mod autoscaling;
mod disruption;
mod endpoints;
mod gaps;
mod image;
mod ingress;
mod meta;
mod monitoring;
mod network;
mod pod;
mod route;
mod secrets;
mod service;
mod storage;
mod trust;
mod workload;
pub(crate) mod zot_config;

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::DynamicObject;

use crate::children::Objects;
use crate::openshift::route::Route;
use crate::platform::Platform;
use crate::validate::ValidatedStore;
use crate::zot;

pub use autoscaling::horizontal_pod_autoscaler;
pub use disruption::pod_disruption_budget;
pub use endpoints::{endpoints, load_balancer_url};
pub use gaps::{Gap, gaps};
pub use image::{image, version as image_version};
pub use ingress::ingress;
pub use monitoring::{service_monitor, service_monitor_resource};
pub use network::network_policy;
pub use route::{
    ROUTER_TIMEOUT, ROUTER_TIMEOUT_ANNOTATION, RoutePlan, default_host, route, route_plan,
};
pub use secrets::{
    config_hash, config_hash_with_accounts, config_secret, htpasswd_secret, oidc_secret,
    operator_tls_secrets, session_secret,
};
pub use service::{headless_service, main_service, metrics_service};
pub use storage::database_claim;
pub use trust::{
    CA_CERT_KEY, CA_KEY_KEY, CaSource, SERVICE_CA_CONFIG_MAP, SERVICE_CA_KEY,
    SERVING_CERT_ANNOTATION, SSL_CERT_FILE, ServingCertificate, TRUSTED_CA_DIR, TRUSTED_CA_FILE,
    TRUSTED_CA_INJECT_LABEL, TRUSTED_CA_KEY, ca_secret_name, client_ca_source,
    destination_ca_source, issued_tls_name, operator_tls_name, serving_cert_name,
    serving_certificate, serving_names, trusted_ca_bundle, trusted_ca_name,
};
pub use trust::{CERTIFICATE_API_VERSION, certificate, certificate_resource};
pub use workload::{deployment, statefulset};
pub use zot_config::zot_config;

/// What the controller reads from the cluster before rendering; empty when rendering offline.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    /// resourceVersion of each Secret the pods read (see [`ValidatedStore::referenced_secrets`]), keyed by
    /// name. It is part of the config hash, so that rotating a credential rolls the pods.
    pub secret_versions: BTreeMap<String, String>,
    /// The Keycloak client secret, read from rbac.keycloak.clientSecretRef. zot needs the client id and secret
    /// together in one credentials file, so the operator composes the Secret `<store>-oidc`; without this value
    /// (offline rendering) that Secret is not rendered.
    pub keycloak_client_secret: Option<String>,
    /// The redis password, read from database.redis.passwordSecretRef. zot reads it only from its config file:
    /// it goes into the `password` option in `<store>-config`, never into the config hash (the Secret's version
    /// is).
    pub redis_password: Option<String>,
    /// The PEM CA a reencrypt Route's router verifies zot's certificate with, read from where
    /// [`destination_ca_source`] says (the namespace's service CA, or ca.crt of the user's tls Secret). Without it
    /// (offline rendering) the Route carries none and the router uses the service CA.
    pub destination_ca: Option<String>,
    /// resourceVersion of the `<store>-trusted-ca` ConfigMap (OpenShift). It is part of the config hash: zot
    /// reads its trusted CAs once at start, so a newly injected bundle rolls the pods.
    pub trusted_ca_version: Option<String>,
    /// Fingerprint of the public key of supplyChain.signing, as the controller checked it. It is part of the
    /// config hash: zot re-checks every signature against its trust store when it starts, so a new key rolls the
    /// pods.
    pub trusted_key: Option<String>,
    /// The keys of zot's session cookies, as the Secret `<store>-session` holds them, or new random ones when it
    /// does not exist yet (the controller makes them). Without them (offline rendering) that Secret is not
    /// rendered.
    pub session_keys: Option<zot::SessionKeys>,
    /// The store's CA and the serving certificate it signed, as the Secrets `<store>-ca` and `<store>-tls` hold
    /// them, or new ones when they are missing or due (the controller makes them, [`crate::pki`]). Only when zot
    /// serves the operator's certificate ([`ServingCertificate::Operator`]); without them (offline rendering)
    /// those Secrets are not rendered.
    pub operator_tls: Option<OperatorTls>,
    /// The user's htpasswd file (rbac.htpasswd), read by the controller when the store has push/pull Secret
    /// accounts: the operator then composes `<store>-htpasswd` from it and the accounts' lines.
    pub user_htpasswd: Option<String>,
}

/// The store's CA and serving certificate ([`Inputs::operator_tls`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorTls {
    /// The CA (`<store>-ca`).
    pub ca: crate::pki::CaPair,
    /// The serving certificate and key (`<store>-tls`).
    pub serving: crate::pki::ServingPair,
}

impl fmt::Debug for Inputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inputs")
            .field("secret_versions", &self.secret_versions)
            .field(
                "keycloak_client_secret",
                &self.keycloak_client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "redis_password",
                &self.redis_password.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "destination_ca",
                &self.destination_ca.as_ref().map(|_| "<pem>"),
            )
            .field("trusted_ca_version", &self.trusted_ca_version)
            .field("trusted_key", &self.trusted_key)
            .field(
                "session_keys",
                &self.session_keys.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "operator_tls",
                &self.operator_tls.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "user_htpasswd",
                &self.user_htpasswd.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Every object the operator wants for a store: one field per kind, None (or empty) when not wanted. Its
/// `Debug` names the objects only, by kind: the OIDC Secret holds a credential.
#[derive(Clone, PartialEq)]
pub struct Desired {
    /// The pods' identity (no API access: its token is not mounted).
    pub service_account: ServiceAccount,
    /// `<store>-config`: zot's config.json (no credentials).
    pub config_secret: Secret,
    /// `<store>-oidc`: Keycloak client id and secret for zot's OpenID provider; only with Keycloak and a known
    /// client secret.
    pub oidc_secret: Option<Secret>,
    /// `<store>-session`: the keys of zot's session cookies; only with authentication on and known keys.
    pub session_secret: Option<Secret>,
    /// `<store>-ca` and `<store>-tls`: the store's CA and the certificate zot serves; only with the operator's
    /// certificate and known pairs.
    pub tls_secrets: Vec<Secret>,
    /// `<store>-htpasswd`: the user's htpasswd file plus the push/pull Secret accounts; only with accounts.
    pub htpasswd_secret: Option<Secret>,
    /// `<store>-db`: the embedded database's volume with remote storage.
    pub database_claim: Option<PersistentVolumeClaim>,
    /// The main Service, the headless Service (StatefulSet) and the metrics Service, in that order.
    pub services: Vec<Service>,
    /// The NetworkPolicy admitting traffic to zot's port.
    pub network_policy: Option<NetworkPolicy>,
    /// The PodDisruptionBudget.
    pub pod_disruption_budget: Option<PodDisruptionBudget>,
    /// The Ingress.
    pub ingress: Option<Ingress>,
    /// The OpenShift Route (see [`route_plan`]).
    pub route: Option<Route>,
    /// `<store>-trusted-ca` (OpenShift): the cluster's trusted CA bundle, injected by OpenShift and mounted into
    /// zot.
    pub trusted_ca_bundle: Option<ConfigMap>,
    /// The ServiceMonitor (monitoring.coreos.com/v1), only where its CRD exists.
    pub service_monitor: Option<DynamicObject>,
    /// zot as a StatefulSet (filesystem storage).
    pub statefulset: Option<StatefulSet>,
    /// zot as a Deployment (s3, gcs or azure storage).
    pub deployment: Option<Deployment>,
    /// The HorizontalPodAutoscaler of the Deployment.
    pub horizontal_pod_autoscaler: Option<HorizontalPodAutoscaler>,
}

impl fmt::Debug for Desired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.clone().into_objects().names())
            .finish()
    }
}

impl Desired {
    /// The objects by kind, in the order of the one table of child kinds ([`crate::children`]). Destructured
    /// without `..`: a new field does not compile until it is given a kind.
    pub fn into_objects(self) -> Objects {
        let Desired {
            service_account,
            config_secret,
            oidc_secret,
            session_secret,
            tls_secrets,
            htpasswd_secret,
            database_claim,
            services,
            network_policy,
            pod_disruption_budget,
            ingress,
            route,
            trusted_ca_bundle,
            service_monitor,
            statefulset,
            deployment,
            horizontal_pod_autoscaler,
        } = self;
        Objects {
            service_accounts: vec![service_account],
            secrets: std::iter::once(config_secret)
                .chain(oidc_secret)
                .chain(session_secret)
                .chain(tls_secrets)
                .chain(htpasswd_secret)
                .collect(),
            config_maps: trusted_ca_bundle.into_iter().collect(),
            claims: database_claim.into_iter().collect(),
            services,
            network_policies: network_policy.into_iter().collect(),
            disruption_budgets: pod_disruption_budget.into_iter().collect(),
            ingresses: ingress.into_iter().collect(),
            routes: route.into_iter().collect(),
            service_monitors: service_monitor.into_iter().collect(),
            statefulsets: statefulset.into_iter().collect(),
            deployments: deployment.into_iter().collect(),
            autoscalers: horizontal_pod_autoscaler.into_iter().collect(),
        }
    }
}

/// `config` with the redis password of `inputs` (zot reads it only from its config file); unchanged without one
/// (offline rendering). Only the config Secret gets it: the config hash is computed without (the Secret's version
/// is in it).
fn with_redis_password(mut config: zot::ZotConfig, inputs: &Inputs) -> zot::ZotConfig {
    if let (Some(password), Some(zot::CacheDriver::Redis(redis))) =
        (&inputs.redis_password, config.storage.cache_driver.as_mut())
    {
        redis.password = Some(password.clone());
    }
    config
}

/// Every object the operator wants for `store` on `platform`.
pub fn desired(store: &ValidatedStore, platform: &Platform, inputs: &Inputs) -> Desired {
    let config = zot_config(store, platform);
    let hash = config_hash_with_accounts(&config, inputs, &store.accounts);
    let remote = store.backend.is_remote();
    let services = [
        Some(main_service(store, platform)),
        (!remote).then(|| headless_service(store)),
        metrics_service(store),
    ]
    .into_iter()
    .flatten()
    .collect();
    Desired {
        service_account: meta::service_account(store),
        config_secret: config_secret(store, &with_redis_password(config, inputs)),
        oidc_secret: oidc_secret(store, inputs),
        session_secret: session_secret(store, inputs),
        tls_secrets: operator_tls_secrets(store, platform, inputs),
        htpasswd_secret: htpasswd_secret(store, inputs),
        database_claim: database_claim(store),
        services,
        network_policy: network_policy(store),
        pod_disruption_budget: pod_disruption_budget(store),
        ingress: ingress(store, platform),
        route: route(store, platform, inputs),
        trusted_ca_bundle: trusted_ca_bundle(store, platform),
        service_monitor: service_monitor(store, platform),
        statefulset: (!remote).then(|| statefulset(store, platform, &hash)),
        deployment: remote.then(|| deployment(store, platform, &hash)),
        horizontal_pod_autoscaler: horizontal_pod_autoscaler(store),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
