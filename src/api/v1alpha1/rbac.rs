//! Authentication (Keycloak, htpasswd) and repository access control.
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::messages;

use super::common::SecretKeyRef;
use super::rules;

/// Who may use the registry. Disabled, zot serves every repository to anyone who reaches it, read and write.
/// Enabled, users sign in with Keycloak (OpenID Connect; command-line clients then use API keys created in
/// zot) and/or an htpasswd file, and the policies below decide what each may do.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!self.enabled || has(self.keycloak) || has(self.htpasswd)")
    .message(messages::RBAC_NEEDS_SIGN_IN))]
pub struct RbacSpec {
    /// Turn authentication and access control on. Defaults to false.
    #[serde(default)]
    pub enabled: bool,
    /// Keycloak realm used as zot's OpenID Connect provider (issuer `<url>/realms/<realm>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keycloak: Option<KeycloakSpec>,
    /// An htpasswd file (bcrypt entries) in a Secret, for robot accounts and clients without OpenID Connect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub htpasswd: Option<SecretKeyRef>,
    /// Access policies: which users and groups may do what on which repositories.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256))]
    pub policies: Vec<AccessPolicy>,
    /// What every signed-in user may do on every repository, in addition to the policies. Defaults to nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub default_policy: Vec<Action>,
    /// What anonymous (not signed-in) clients may do on every repository, e.g. [read] for a public mirror.
    /// Defaults to nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub anonymous_policy: Vec<Action>,
    /// Groups (from Keycloak's `groups` claim, see keycloak.scopes) whose members may do everything on every
    /// repository.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admin_groups: Vec<String>,
    /// Users who may do everything on every repository (htpasswd names, or Keycloak users by the claim
    /// keycloak.usernameClaim names: their Keycloak user name by default).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admin_users: Vec<String>,
    /// Users allowed to read zot's /metrics endpoint once authentication is on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics_users: Vec<String>,
    /// Let clients without credentials (a Prometheus scraping the `<store>-metrics` Service) read /metrics
    /// while authentication is on. /metrics is then readable wherever the registry is reachable, including
    /// through its Ingress or Route. Defaults to false.
    #[serde(default)]
    pub anonymous_metrics: bool,
}

/// A Keycloak realm and client. The client secret is never written into zot's configuration: the operator
/// keeps it, with the client id, in a Secret it owns (`<store>-oidc`) that is mounted into zot. Before zot is
/// (re)started with it, the operator asks Keycloak: the realm's OpenID discovery must answer with the issuer
/// `<url>/realms/<realm>` and list the requested scopes, and the client secret must be accepted (token
/// introspection); otherwise KeycloakReady is False with Keycloak's answer and running pods keep their
/// configuration. The client's redirect URI is `<external URL>/zot/auth/callback/oidc`: the Route's host on
/// OpenShift, the Ingress host on Kubernetes (set networking.ingress.host, or networking.route for OpenShift;
/// without either, browsers cannot return to zot and the store is Degraded). Sessions are shared by every
/// replica through keys in the Secret `<store>-session`, which the operator creates once.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KeycloakSpec {
    /// Base URL of Keycloak, e.g. `https://keycloak.example.com`.
    #[schemars(length(max = 2048))]
    #[x_kube(validation = rules::http_url())]
    pub url: String,
    /// Realm that holds the users and the client.
    #[schemars(length(min = 1))]
    pub realm: String,
    /// Client id of the confidential client registered for zot.
    #[schemars(length(min = 1))]
    pub client_id: String,
    /// Secret key holding the client secret.
    pub client_secret_ref: SecretKeyRef,
    /// OpenID scopes requested at sign-in. Defaults to openid, profile and email, and `groups` too when a policy
    /// or adminGroups names a group: the realm then needs a client scope called `groups`, assigned to the client,
    /// with a Group Membership mapper that puts group names (full path off) into the `groups` claim (zot reads
    /// groups from that claim only). Set to replace the defaults entirely.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// The claim that names a signed-in user in policies (users, adminUsers, metricsUsers) and API keys:
    /// `preferred_username` (the default: the Keycloak user name, unique in the realm and not editable by users
    /// unless the realm allows it), `email` (zot does not check email_verified), `sub` or another string claim.
    /// When a user's token lacks it, zot falls back to `email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub username_claim: Option<String>,
}

impl KeycloakSpec {
    /// The claim zot names users by (see `usernameClaim`).
    pub fn username_claim(&self) -> &str {
        self.username_claim
            .as_deref()
            .unwrap_or(DEFAULT_USERNAME_CLAIM)
    }

    /// The issuer: `<url>/realms/<realm>`.
    pub fn issuer(&self) -> String {
        format!("{}/realms/{}", self.url.trim_end_matches('/'), self.realm)
    }
}

/// The claim that names a Keycloak user by default: the user name.
pub const DEFAULT_USERNAME_CLAIM: &str = "preferred_username";
/// The claim zot reads groups from (zot's default; the operator configures it explicitly).
pub const GROUPS_CLAIM: &str = "groups";
/// The scope requested for the groups claim when policies name groups.
pub const GROUPS_SCOPE: &str = "groups";

impl RbacSpec {
    /// Whether a policy or adminGroups names a group.
    pub fn names_groups(&self) -> bool {
        !self.admin_groups.is_empty() || self.policies.iter().any(|p| !p.groups.is_empty())
    }

    /// The scopes zot requests at sign-in (see `keycloak.scopes`).
    pub fn keycloak_scopes(&self) -> Vec<String> {
        let Some(keycloak) = &self.keycloak else {
            return Vec::new();
        };
        if !keycloak.scopes.is_empty() {
            return keycloak.scopes.clone();
        }
        let mut scopes: Vec<String> = ["openid", "profile", "email"]
            .into_iter()
            .map(String::from)
            .collect();
        if self.names_groups() {
            scopes.push(GROUPS_SCOPE.to_string());
        }
        scopes
    }
}

/// One access policy.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("size(self.users) + size(self.groups) > 0")
    .message("a policy needs at least one user or group"))]
pub struct AccessPolicy {
    /// Repository globs the policy applies to, e.g. `team-a/**` or `**` for all.
    #[schemars(length(min = 1))]
    pub repositories: Vec<String>,
    /// User names: htpasswd users, or Keycloak users by the claim keycloak.usernameClaim names (by default
    /// `preferred_username`, their Keycloak user name).
    #[serde(default)]
    pub users: Vec<String>,
    /// Group names from Keycloak's `groups` claim (see keycloak.scopes).
    #[serde(default)]
    pub groups: Vec<String>,
    /// What the users and groups may do.
    #[schemars(length(min = 1))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub actions: Vec<Action>,
}

/// An action on a repository.
#[derive(
    JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash,
)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Pull images and list tags.
    Read,
    /// Push new images and tags.
    Create,
    /// Overwrite existing tags.
    Update,
    /// Delete images and tags.
    Delete,
}

impl Action {
    /// The action as zot's accessControl names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}
