//! Checks of the optional features: supply chain, networking, observability and extensions.
use crate::api::v1alpha1::{RouteTermination, StorageType, ZotArtifactStoreSpec, messages as msg};

use super::check::{Check, refuse_if};

pub(super) fn check_supply_chain(spec: &ZotArtifactStoreSpec) -> Check {
    let chain = &spec.supply_chain;
    if let Some(signing) = &chain.signing {
        refuse_if(
            ![2048, 3072, 4096].contains(&signing.key_size),
            "spec.supplyChain.signing.keySize",
            "keySize must be 2048, 3072 or 4096",
        )?;
    }
    let sbom = chain.enabled && chain.sbom.as_ref().is_some_and(|s| s.enabled);
    refuse_if(
        sbom && spec.storage.type_ != StorageType::Filesystem,
        "spec.supplyChain.sbom.enabled",
        msg::SBOM_NEEDS_FILESYSTEM,
    )?;
    let search = &spec.extensions.search;
    refuse_if(
        sbom && (!search.enabled || search.cve.as_ref().is_some_and(|c| !c.enabled)),
        "spec.supplyChain.sbom.enabled",
        msg::SBOM_NEEDS_SCANNER,
    )
}
pub(super) fn check_networking(spec: &ZotArtifactStoreSpec) -> Check {
    let route_needs_tls = spec
        .networking
        .route
        .as_ref()
        .is_some_and(|r| r.enabled && r.termination == RouteTermination::Passthrough);
    refuse_if(
        route_needs_tls && !spec.tls.on(),
        "spec.networking.route.termination",
        msg::ROUTE_NEEDS_TLS,
    )?;
    refuse_if(
        spec.tls.secret_name.is_some() && spec.tls.issuer_ref.is_some(),
        "spec.tls",
        msg::TLS_ONE_SOURCE,
    )?;
    refuse_if(
        spec.tls.issuer_ref.is_some() && !spec.tls.on(),
        "spec.tls",
        msg::TLS_ISSUER_OFF,
    )?;
    if let Some(tls) = spec
        .networking
        .ingress
        .as_ref()
        .and_then(|i| i.tls.as_ref())
    {
        refuse_if(
            tls.enabled && tls.secret_name.is_none(),
            "spec.networking.ingress.tls.secretName",
            "ingress.tls.enabled needs ingress.tls.secretName: the Secret (type kubernetes.io/tls) that holds or will hold the certificate",
        )?;
    }
    let port = spec.networking.service.port;
    refuse_if(
        !(1..=65535).contains(&port),
        "spec.networking.service.port",
        "must be a port between 1 and 65535",
    )
}
pub(super) fn check_observability(spec: &ZotArtifactStoreSpec) -> Check {
    refuse_if(
        spec.metrics.tracing.as_ref().is_some_and(|t| t.enabled),
        "spec.metrics.tracing.enabled",
        msg::TRACING,
    )?;
    let prometheus = &spec.metrics.prometheus;
    refuse_if(
        !(1..=65535).contains(&prometheus.port),
        "spec.metrics.prometheus.port",
        "must be a port between 1 and 65535",
    )?;
    refuse_if(
        !clean_metrics_path(&prometheus.path),
        "spec.metrics.prometheus.path",
        msg::METRICS_PATH,
    )
}

/// What the CRD's rule on spec.metrics.prometheus.path accepts: an absolute path outside /v2 that Go's
/// `path.Clean` leaves as it is (zot refuses any other, and `/`).
fn clean_metrics_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("/v2")
        && path != "/"
        && !path.ends_with('/')
        && !path.ends_with("/.")
        && !path.ends_with("/..")
        && !path.contains("//")
        && !path.contains("/./")
        && !path.contains("/../")
}
pub(super) fn check_extensions(spec: &ZotArtifactStoreSpec) -> Check {
    let ext = &spec.extensions;
    refuse_if(
        ext.search.cve.as_ref().is_some_and(|c| c.enabled)
            && spec.storage.type_ != StorageType::Filesystem,
        "spec.extensions.search.cve.enabled",
        msg::CVE_NEEDS_FILESYSTEM,
    )?;
    if let Some(interval) = ext
        .search
        .cve
        .as_ref()
        .and_then(|c| c.update_interval.as_deref())
    {
        refuse_if(
            super::formats::duration_seconds(interval).is_none_or(|s| s < 7200.0),
            "spec.extensions.search.cve.updateInterval",
            "must be a duration of at least 2h (zot refreshes its vulnerability database no more often), e.g. 24h",
        )?;
    }
    if let Some(sync) = &ext.sync {
        refuse_if(
            sync.enabled && sync.registries.is_empty(),
            "spec.extensions.sync.registries",
            msg::SYNC_NEEDS_REGISTRY,
        )?;
        for (i, registry) in sync.registries.iter().enumerate() {
            let field = format!("spec.extensions.sync.registries[{i}]");
            refuse_if(
                registry.urls.is_empty(),
                &format!("{field}.urls"),
                "needs at least one registry URL",
            )?;
            refuse_if(
                !registry.on_demand && registry.poll_interval.is_none(),
                &format!("{field}.pollInterval"),
                "a periodic sync needs pollInterval (e.g. 6h); set onDemand: true to fetch images only when they are pulled",
            )?;
        }
    }
    Ok(())
}
