//! Who may request access to a store and to which repositories: the store's `spec.access`.
use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::Access;
use crate::api::v1alpha1::AccessSpec;

/// Whether a request from `namespace` (with `labels`) may ask the store in `store_namespace`: its own namespace
/// always, others when `access.namespaceSelector` selects them.
pub fn namespace_allowed(
    access: &AccessSpec,
    store_namespace: &str,
    namespace: &str,
    labels: &BTreeMap<String, String>,
) -> bool {
    namespace == store_namespace
        || access
            .namespace_selector
            .as_ref()
            .is_some_and(|selector| selects(selector, labels))
}

/// Whether `selector` selects an object with `labels` (matchLabels and matchExpressions, as Kubernetes means
/// them; an unknown operator selects nothing).
pub fn selects(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let labels_match = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let expressions_match = selector.match_expressions.iter().flatten().all(|e| {
        let value = labels.get(&e.key);
        let values = e.values.as_deref().unwrap_or_default();
        match e.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        }
    });
    labels_match && expressions_match
}

/// Whether the repository glob `allowed` covers the requested glob `requested`: an entry ending in `/**` covers
/// everything below its prefix, `**` everything, any other entry exactly itself.
pub fn covers(allowed: &str, requested: &str) -> bool {
    if allowed == "**" || allowed == requested {
        return true;
    }
    allowed
        .strip_suffix("**")
        .filter(|prefix| prefix.ends_with('/'))
        .is_some_and(|prefix| requested.starts_with(prefix))
}

/// The first requested repository the request may not name, with the rule it breaks; None when all are allowed.
/// In the store's own namespace every repository may be named; elsewhere a namespace's own (`<namespace>/…`),
/// and for pull also the store's `access.sharedRepositories`.
pub fn refused_repository(
    access: Access,
    spec: &AccessSpec,
    store_namespace: &str,
    namespace: &str,
    repositories: &[String],
) -> Option<String> {
    if namespace == store_namespace {
        return None;
    }
    let own = format!("{namespace}/**");
    repositories
        .iter()
        .find(|r| {
            let shared = access == Access::Pull
                && spec.shared_repositories.iter().any(|s| covers(s, r));
            !(covers(&own, r) || shared)
        })
        .map(|r| match access {
            Access::Push => format!(
                "repository {r} is outside the namespace's own repositories ({own}): a push Secret from \
                 namespace {namespace} may only name repositories under {namespace}/"
            ),
            Access::Pull => format!(
                "repository {r} is outside the namespace's own repositories ({own}) and the store's \
                 spec.access.sharedRepositories ({})",
                if spec.shared_repositories.is_empty() {
                    "none".to_string()
                } else {
                    spec.shared_repositories.join(", ")
                }
            ),
        })
}
