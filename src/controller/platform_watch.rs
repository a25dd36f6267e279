//! Re-discovery of the platform when the APIs it depends on change, so that the controller restarts with the
//! new facts (Routes appear, ServiceMonitors disappear …).
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, PartialObjectMeta};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};
use tracing::warn;

use crate::platform::Platform;

/// When to look again after a change: the API server serves a new CRD's group a moment after the CRD object
/// changes, and how long that takes varies, so discovery is retried until it answers differently or this
/// schedule (about half a minute in all) runs out.
pub const REDISCOVERY_DELAYS: [Duration; 6] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(3),
    Duration::from_secs(5),
    Duration::from_secs(8),
    Duration::from_secs(13),
];

/// Resolves with the new platform when a CRD that platform discovery depends on (the ServiceMonitor CRD, an
/// `*.openshift.io` CRD) is added or removed, or, on OpenShift, when ingresses.config.openshift.io/cluster changes
/// (a new apps domain moves default Route hosts), and discovery then answers differently. Event-driven: watches,
/// and a short retry schedule after each change.
pub async fn platform_change(
    client: Client,
    current: Platform,
    default_image: String,
) -> Option<Platform> {
    let crds: Api<PartialObjectMeta<CustomResourceDefinition>> = Api::all(client.clone());
    let crd_changes = watcher(crds, watcher::Config::default())
        .default_backoff()
        .filter_map(|event| async move {
            match event {
                Ok(watcher::Event::Apply(crd)) | Ok(watcher::Event::Delete(crd)) => {
                    let name = crd.name_any();
                    (name.starts_with("servicemonitors.") || name.ends_with(".openshift.io"))
                        .then_some(())
                }
                _ => None,
            }
        });
    let domain_changes = if current.openshift {
        let ingresses: Api<crate::openshift::generated::config_ingress::Ingress> =
            Api::all(client.clone());
        let config = watcher::Config::default().fields(&format!(
            "metadata.name={}",
            crate::openshift::CLUSTER_INGRESS
        ));
        watcher(ingresses, config)
            .default_backoff()
            .filter_map(|event| async move {
                matches!(
                    event,
                    Ok(watcher::Event::Apply(_)) | Ok(watcher::Event::Delete(_))
                )
                .then_some(())
            })
            .boxed()
    } else {
        futures::stream::empty().boxed()
    };
    let mut signals = futures::stream::select(crd_changes.boxed(), domain_changes);
    while signals.next().await.is_some() {
        for delay in REDISCOVERY_DELAYS {
            tokio::time::sleep(delay).await;
            match crate::openshift::discover(&client, default_image.clone(), current.proxy.clone())
                .await
            {
                Ok(next) if next != current => return Some(next),
                Ok(_) => {}
                Err(e) => warn!(error = %e, "re-discovering the platform failed"),
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rediscovery_starts_soon_and_keeps_looking_for_about_half_a_minute() {
        assert_eq!(REDISCOVERY_DELAYS[0], Duration::from_secs(1));
        let total: Duration = REDISCOVERY_DELAYS.iter().sum();
        assert!(total >= Duration::from_secs(30), "{total:?}");
        assert!(REDISCOVERY_DELAYS.windows(2).all(|w| w[0] <= w[1]));
    }
}
