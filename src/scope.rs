//! Which namespaces the operator reconciles: all of them (OLM's AllNamespaces install mode, and any install without
//! OLM), or one (OwnNamespace and SingleNamespace). OLM says which through WATCH_NAMESPACE, the
//! `olm.targetNamespaces` annotation it puts on the operator's pods: empty for all namespaces, else the
//! OperatorGroup's target namespaces, comma-separated.
use std::fmt;

use k8s_openapi::NamespaceResourceScope;
use kube::api::Api;
use kube::core::ApiResource;
use kube::{Client, Resource};

/// The namespaces whose stores (and children) the operator watches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Scope {
    /// Every namespace.
    #[default]
    Cluster,
    /// One namespace.
    Namespace(String),
}

/// Why WATCH_NAMESPACE cannot be used.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error(
        "WATCH_NAMESPACE names several namespaces ({0}): the operator watches all namespaces or one, not a list \
         (OLM's MultiNamespace install mode is not supported); target all namespaces or a single one"
    )]
    Several(String),
    #[error(
        "WATCH_NAMESPACE {0:?} is not a namespace name (lower-case letters, digits and '-', at most 63)"
    )]
    Invalid(String),
}

impl Scope {
    /// Reads WATCH_NAMESPACE as OLM sets it: empty (or only commas and blanks) for every namespace.
    pub fn parse(raw: &str) -> Result<Scope, ScopeError> {
        let mut names: Vec<&str> = raw
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect();
        names.sort_unstable();
        names.dedup();
        match names.as_slice() {
            [] => Ok(Scope::Cluster),
            [name] if is_dns_label(name) => Ok(Scope::Namespace((*name).to_string())),
            [name] => Err(ScopeError::Invalid((*name).to_string())),
            several => Err(ScopeError::Several(several.join(","))),
        }
    }

    /// The namespace watched, None for all.
    pub fn namespace(&self) -> Option<&str> {
        match self {
            Scope::Cluster => None,
            Scope::Namespace(ns) => Some(ns),
        }
    }

    /// An API for the `K` objects of the scope.
    pub fn api<K>(&self, client: &Client) -> Api<K>
    where
        K: Resource<Scope = NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        match self {
            Scope::Cluster => Api::all(client.clone()),
            Scope::Namespace(ns) => Api::namespaced(client.clone(), ns),
        }
    }

    /// [`Scope::api`] for a kind known at run time (`K` is `DynamicObject`, or its cached form).
    pub fn dynamic_api<K>(&self, client: &Client, resource: &ApiResource) -> Api<K>
    where
        K: Resource<DynamicType = ApiResource, Scope = kube::core::DynamicResourceScope>,
    {
        match self {
            Scope::Cluster => Api::all_with(client.clone(), resource),
            Scope::Namespace(ns) => Api::namespaced_with(client.clone(), ns, resource),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Cluster => f.write_str("all namespaces"),
            Scope::Namespace(ns) => write!(f, "namespace {ns}"),
        }
    }
}

/// RFC 1123 label: what a namespace name must be.
fn is_dns_label(name: &str) -> bool {
    name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn empty_means_every_namespace() {
        for raw in ["", " ", ",", " , "] {
            assert_eq!(Scope::parse(raw), Ok(Scope::Cluster), "{raw:?}");
        }
    }

    #[test]
    fn one_namespace_as_olm_writes_it() {
        for raw in ["team-a", " team-a ", "team-a,", "team-a,team-a"] {
            assert_eq!(
                Scope::parse(raw),
                Ok(Scope::Namespace("team-a".into())),
                "{raw:?}"
            );
        }
        assert_eq!(Scope::parse("team-a").unwrap().namespace(), Some("team-a"));
        assert_eq!(Scope::Cluster.namespace(), None);
    }

    #[test]
    fn several_namespaces_are_refused_with_the_list() {
        let err = Scope::parse("b,a").unwrap_err();
        assert_eq!(err, ScopeError::Several("a,b".into()));
        assert!(err.to_string().contains("MultiNamespace"), "{err}");
    }

    #[test]
    fn a_name_that_cannot_be_a_namespace_is_refused() {
        for raw in ["Team", "team_a", "-team", "team-", &"a".repeat(64)] {
            assert!(
                matches!(Scope::parse(raw), Err(ScopeError::Invalid(_))),
                "{raw:?}"
            );
        }
    }
}
