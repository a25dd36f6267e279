//! The formats the CRD's field-level CEL rules check, checked again offline.
use crate::api::v1alpha1::ZotArtifactStoreSpec;

use super::check::{Check, refuse_if};

fn is_http_url(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}
fn is_dns_host(host: &str) -> bool {
    let host = host.strip_prefix("*.").unwrap_or(host);
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}
fn is_route_host(host: &str) -> bool {
    !host.starts_with("*.") && is_dns_host(host) && host.split('.').all(|label| label.len() <= 63)
}
/// An OCI tag (`[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`) or a digest (`algorithm:encoded`), as image.tag takes it.
pub(super) fn is_image_tag(tag: &str) -> bool {
    let tag_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-';
    let is_tag = tag.len() <= 128
        && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && tag.chars().all(tag_char);
    let is_digest = tag.split_once(':').is_some_and(|(algorithm, encoded)| {
        !algorithm.is_empty()
            && algorithm.split(['+', '.', '_', '-']).all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            })
            && !encoded.is_empty()
            && encoded
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '=' || c == '_' || c == '-')
    });
    is_tag || is_digest
}
/// An OCI repository without scheme, as extensions.search.cve's database mirrors take it: a registry host (lower
/// case, with an optional port), one or more path components, an optional tag.
fn is_oci_repository(text: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    // [a-z0-9]+([<seps>][a-z0-9]+)*, where each separator run is one char of `single` or a run of `runs`.
    let component = |part: &str, seps: &[char]| {
        !part.is_empty()
            && part.starts_with(alnum)
            && part.ends_with(alnum)
            && part.chars().all(|c| alnum(c) || seps.contains(&c))
    };
    let (rest, tag) = match text.rsplit_once(':') {
        Some((rest, tag)) if !tag.contains('/') => (rest, Some(tag)),
        _ => (text, None),
    };
    if tag.is_some_and(|t| t.is_empty() || !is_image_tag(t) || t.contains(':')) {
        return false;
    }
    let mut parts = rest.split('/');
    let host = parts.next().unwrap_or_default();
    let (name, port) = match host.split_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    let host_ok = component(name, &['.', '-'])
        && ["..", ".-", "-.", "--"]
            .iter()
            .all(|run| !name.contains(run))
        && port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    let path: Vec<&str> = parts.collect();
    host_ok && !path.is_empty() && path.iter().all(|p| component(p, &['.', '_', '-']))
}
fn is_duration(text: &str, units: &[&str]) -> bool {
    super::formats::duration_seconds(text).is_some()
        && text
            .split(|c: char| c.is_ascii_digit())
            .filter(|u| !u.is_empty())
            .all(|u| units.contains(&u))
}
/// The formats the CRD's field-level rules check: URLs, paths, host names, durations, name prefixes.
pub(super) fn check_formats(spec: &ZotArtifactStoreSpec) -> Check {
    const URL: &str = "must be an http:// or https:// URL";
    const ROOT: &str = "must start with /, e.g. /zot";
    const DURATION: &str = "must be a duration such as 24h, 90m or 1h30m";
    refuse_if(
        spec.image.tag.as_deref().is_some_and(|t| !is_image_tag(t)),
        "spec.image.tag",
        crate::api::v1alpha1::messages::IMAGE_TAG,
    )?;
    let storage = &spec.storage;
    if let Some(s3) = &storage.s3 {
        refuse_if(
            s3.endpoint.as_deref().is_some_and(|e| !is_http_url(e)),
            "spec.storage.s3.endpoint",
            URL,
        )?;
    }
    for (field, root) in [
        (
            "spec.storage.s3.rootDirectory",
            storage
                .s3
                .as_ref()
                .and_then(|s| s.root_directory.as_deref()),
        ),
        (
            "spec.storage.gcs.rootDirectory",
            storage
                .gcs
                .as_ref()
                .and_then(|s| s.root_directory.as_deref()),
        ),
        (
            "spec.storage.azure.rootDirectory",
            storage
                .azure
                .as_ref()
                .and_then(|s| s.root_directory.as_deref()),
        ),
    ] {
        refuse_if(root.is_some_and(|r| !r.starts_with('/')), field, ROOT)?;
    }
    if let Some(dynamo) = &spec.database.dynamodb {
        refuse_if(
            dynamo.endpoint.as_deref().is_some_and(|e| !is_http_url(e)),
            "spec.database.dynamodb.endpoint",
            URL,
        )?;
        refuse_if(
            dynamo.table_prefix.as_deref().is_some_and(|p| {
                p.is_empty()
                    || p.len() > 200
                    || !p
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
            }),
            "spec.database.dynamodb.tablePrefix",
            "may contain only letters, digits, '_', '-' and '.'",
        )?;
    }
    if let Some(keycloak) = &spec.rbac.keycloak {
        refuse_if(!is_http_url(&keycloak.url), "spec.rbac.keycloak.url", URL)?;
    }
    if let Some(host) = spec
        .networking
        .ingress
        .as_ref()
        .and_then(|i| i.host.as_deref())
    {
        refuse_if(
            !is_dns_host(host),
            "spec.networking.ingress.host",
            "must be a lower-case DNS host name such as artifacts.example.com",
        )?;
    }
    if let Some(host) = spec
        .networking
        .route
        .as_ref()
        .and_then(|r| r.host.as_deref())
    {
        refuse_if(
            !is_route_host(host),
            "spec.networking.route.host",
            "must be a lower-case DNS host name such as artifacts.apps.example.com (no wildcard, labels of at most 63 characters)",
        )?;
    }
    let monitor_interval = spec
        .metrics
        .prometheus
        .service_monitor
        .as_ref()
        .and_then(|m| m.interval.as_deref());
    refuse_if(
        monitor_interval.is_some_and(|i| !is_duration(i, &["ms", "s", "m", "h"])),
        "spec.metrics.prometheus.serviceMonitor.interval",
        "must be a duration such as 30s or 1m",
    )?;
    let go = ["ns", "us", "ms", "s", "m", "h"];
    let ext = &spec.extensions;
    let mut durations = vec![
        (
            "spec.extensions.search.cve.updateInterval".to_string(),
            ext.search
                .cve
                .as_ref()
                .and_then(|c| c.update_interval.clone()),
        ),
        (
            "spec.extensions.scrub.interval".to_string(),
            ext.scrub.as_ref().and_then(|s| s.interval.clone()),
        ),
        (
            "spec.storage.gcInterval".to_string(),
            spec.storage.gc_interval.clone(),
        ),
        (
            "spec.storage.gcDelay".to_string(),
            spec.storage.gc_delay.clone(),
        ),
    ];
    for (i, registry) in ext
        .sync
        .iter()
        .flat_map(|s| s.registries.iter())
        .enumerate()
    {
        durations.push((
            format!("spec.extensions.sync.registries[{i}].pollInterval"),
            registry.poll_interval.clone(),
        ));
        durations.push((
            format!("spec.extensions.sync.registries[{i}].retryDelay"),
            registry.retry_delay.clone(),
        ));
    }
    if let Some(retention) = &spec.storage.retention {
        durations.push((
            "spec.storage.retention.delay".to_string(),
            retention.delay.clone(),
        ));
        for (i, policy) in retention.policies.iter().enumerate() {
            for (j, keep) in policy.keep_tags.iter().enumerate() {
                let at = format!("spec.storage.retention.policies[{i}].keepTags[{j}]");
                durations.push((format!("{at}.pushedWithin"), keep.pushed_within.clone()));
                durations.push((format!("{at}.pulledWithin"), keep.pulled_within.clone()));
            }
        }
    }
    if let Some(cve) = &ext.search.cve {
        for (field, repository) in [
            (
                "spec.extensions.search.cve.dbRepository",
                &cve.db_repository,
            ),
            (
                "spec.extensions.search.cve.javaDbRepository",
                &cve.java_db_repository,
            ),
        ] {
            refuse_if(
                repository.as_deref().is_some_and(|r| !is_oci_repository(r)),
                field,
                crate::api::v1alpha1::messages::OCI_REPOSITORY,
            )?;
        }
    }
    for (field, duration) in durations {
        refuse_if(
            duration.is_some_and(|d| !is_duration(&d, &go)),
            &field,
            DURATION,
        )?;
    }
    Ok(())
}
