//! Where zot's vulnerability scanner gets Trivy's databases, and whether they answer. zot downloads them as OCI
//! artifacts over HTTPS (zot v2.1.20 `pkg/extensions/search/cve/trivy/scanner.go`, `updateDBInternal`:
//! `RegistryOptions{Insecure: false}`) at start and every updateInterval; without them it scans nothing and
//! generates no SBOM, which it says only in its log ("failed to download trivy-db to destination dir") and, for
//! each image scanned, as "cve-db is not present". The operator asks the same registries from its own network, so
//! the store's status can say so.
use std::time::Duration;

use crate::validate::ValidatedStore;

/// zot's default vulnerability database (tag 2 is added: Trivy's DB schema).
pub const DEFAULT_DB: &str = "ghcr.io/aquasecurity/trivy-db";
/// zot's default Java database (tag 1).
pub const DEFAULT_JAVA_DB: &str = "ghcr.io/aquasecurity/trivy-java-db";

/// One database zot downloads: the spec field that sets it and the reference (with the tag zot adds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub field: &'static str,
    pub reference: String,
}

impl Source {
    /// The registry host (with port) of the reference.
    pub fn host(&self) -> &str {
        self.reference
            .split('/')
            .next()
            .unwrap_or(self.reference.as_str())
    }
}

/// The databases zot downloads for `store`: none unless its vulnerability scanner runs (extensions.search.cve, or
/// supplyChain.sbom, which runs in the scanner).
pub fn sources(store: &ValidatedStore) -> Vec<Source> {
    let spec = &store.spec;
    let chain = &spec.supply_chain;
    let sbom = chain.enabled && chain.sbom.as_ref().is_some_and(|s| s.enabled);
    let cve = spec.extensions.search.cve.as_ref();
    let scanning = spec.extensions.search.enabled && (cve.is_some_and(|c| c.enabled) || sbom);
    if !scanning {
        return Vec::new();
    }
    let with_tag = |reference: &str, tag: &str| {
        let last = reference.rsplit('/').next().unwrap_or_default();
        if last.contains(':') {
            reference.to_string()
        } else {
            format!("{reference}:{tag}")
        }
    };
    vec![
        Source {
            field: "spec.extensions.search.cve.dbRepository",
            reference: with_tag(
                cve.and_then(|c| c.db_repository.as_deref())
                    .unwrap_or(DEFAULT_DB),
                "2",
            ),
        },
        Source {
            field: "spec.extensions.search.cve.javaDbRepository",
            reference: with_tag(
                cve.and_then(|c| c.java_db_repository.as_deref())
                    .unwrap_or(DEFAULT_JAVA_DB),
                "1",
            ),
        },
    ]
}

/// Whether the registry of `source` answers the OCI distribution API over HTTPS with a certificate the operator
/// trusts (any HTTP status of `GET /v2/`, 401 included, is an answer); the error chain when it does not.
pub async fn probe(http: &reqwest::Client, source: &Source) -> Result<(), String> {
    let url = format!("https://{}/v2/", source.host());
    match http.get(&url).timeout(Duration::from_secs(10)).send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let mut message = e.to_string();
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                message.push_str(": ");
                message.push_str(&c.to_string());
                cause = c.source();
            }
            Err(message)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::api::v1alpha1::ZotArtifactStore;

    fn store(spec: &str) -> ValidatedStore {
        let yaml = format!(
            "apiVersion: artifact.zotregistry.io/v1alpha1\nkind: ZotArtifactStore\nmetadata:\n  name: zot\n  namespace: team\nspec:\n{}",
            spec.lines().map(|l| format!("  {l}\n")).collect::<String>()
        );
        let raw: ZotArtifactStore = serde_yaml::from_str(&yaml).unwrap();
        crate::validate::validate(&raw, "team").unwrap()
    }

    #[test]
    fn without_the_scanner_zot_downloads_nothing() {
        assert!(sources(&store("replicas: 1")).is_empty());
    }

    #[test]
    fn the_scanner_downloads_ghcr_io_unless_mirrors_are_set_with_the_tags_zot_adds() {
        let defaults = sources(&store("extensions:\n  search:\n    cve: {enabled: true}"));
        assert_eq!(
            defaults
                .iter()
                .map(|s| s.reference.as_str())
                .collect::<Vec<_>>(),
            [
                "ghcr.io/aquasecurity/trivy-db:2",
                "ghcr.io/aquasecurity/trivy-java-db:1"
            ]
        );
        assert_eq!(defaults[0].host(), "ghcr.io");
        let mirrors = sources(&store(
            "extensions:\n  search:\n    cve: {enabled: true, dbRepository: 'mirror.example.com:8443/trivy-db:3', javaDbRepository: mirror.example.com/java}",
        ));
        assert_eq!(mirrors[0].reference, "mirror.example.com:8443/trivy-db:3");
        assert_eq!(mirrors[0].host(), "mirror.example.com:8443");
        assert_eq!(mirrors[1].reference, "mirror.example.com/java:1");
        // SBOM generation runs the scanner too.
        let sbom = sources(&store(
            "supplyChain:\n  enabled: true\n  sbom: {enabled: true}",
        ));
        assert_eq!(sbom.len(), 2);
    }
}
