//! Push and pull Secrets (ZotPushSecret, ZotPullSecret): who may ask, what an account may do, the accounts the
//! operator keeps in zot, the Secret a consumer gets, and when its credential rotates. Pure functions here; the
//! controller is in [`controller`].
//!
//! How it works: each request is one zot account (`push.<namespace>.<name>`), an htpasswd entry (bcrypt of a
//! random password only the operator knows) with an access policy limited to the request's repositories. Adding
//! or removing an account rolls the store's pods (zot does not see a Secret volume's update). The consumer's
//! Secret holds the account's name and a zot API key (`zak_…`) as its password: keys are made and revoked through
//! zot's API with the account's own password, without a roll, so rotation is: a new key (valid for period +
//! grace), the Secret updated, the previous key revoked after the grace period. Keys live in zot's metadata
//! database: the embedded BoltDB of the one replica, or redis/dynamodb shared by several (the store's CEL rules
//! already refuse several replicas without a shared database).
pub mod accounts;
pub mod ca;
pub mod controller;
pub mod docker;
pub mod rotation;
pub mod scope;
pub mod zot_api;

use crate::api::v1alpha1::{AccessRequestSpec, Action};

/// What a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    Push,
    Pull,
}

impl Access {
    /// The kind of the request.
    pub const fn kind(self) -> &'static str {
        match self {
            Access::Push => "ZotPushSecret",
            Access::Pull => "ZotPullSecret",
        }
    }

    /// The first part of the account name.
    pub const fn prefix(self) -> &'static str {
        match self {
            Access::Push => "push",
            Access::Pull => "pull",
        }
    }

    /// What the account may do in its repositories: pull reads; push reads, pushes and overwrites tags (deleting
    /// stays with the store's admins).
    pub fn actions(self) -> Vec<Action> {
        match self {
            Access::Push => vec![Action::Read, Action::Create, Action::Update],
            Access::Pull => vec![Action::Read],
        }
    }
}

/// The zot account of a request: `<push|pull>.<namespace>.<name>`. Namespaces hold no dots, so two requests
/// never share a name; the operator reserves names starting with `push.` and `pull.` in the store's htpasswd.
pub fn account_name(access: Access, namespace: &str, name: &str) -> String {
    format!("{}.{namespace}.{name}", access.prefix())
}

/// Whether an htpasswd user name is one the operator reserves for its accounts.
pub fn is_reserved_account(user: &str) -> bool {
    user.starts_with("push.") || user.starts_with("pull.")
}

/// The repositories of a request: those it names, or the namespace's own (`<namespace>/**`).
pub fn repositories(request: &AccessRequestSpec, namespace: &str) -> Vec<String> {
    if request.repositories.is_empty() {
        vec![format!("{namespace}/**")]
    } else {
        request.repositories.clone()
    }
}

/// The store a request names, as (namespace, name).
pub fn store_of(request: &AccessRequestSpec, namespace: &str) -> (String, String) {
    (
        request
            .store
            .namespace
            .clone()
            .unwrap_or_else(|| namespace.to_string()),
        request.store.name.clone(),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
