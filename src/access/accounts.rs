//! The accounts the operator keeps in a store's zot: the Secret `<store>-accounts` in the store's namespace, owned
//! by the store (deleted with it). Each request writes its own keys with its own server-side-apply field manager,
//! so requests never overwrite each other and a request's removal takes exactly its keys away:
//! - `<account>.password`: the account's random password (only the operator uses it, to make and revoke API keys);
//! - `<account>.htpasswd`: its htpasswd line (`<account>:<bcrypt>`), made once so that the store's configuration
//!   hash stays stable;
//! - `<account>.policy`: JSON `{"repositories": [...], "actions": [...]}`.
//!
//! The store's reconcile reads the Secret (see [`Account::parse_all`]) and renders the htpasswd file zot mounts
//! (the user's own file plus these lines) and one access policy per account.
use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use k8s_openapi::ByteString;
use serde::{Deserialize, Serialize};

use crate::api::v1alpha1::Action;

/// Random bytes of an account's password (43 URL-safe characters).
pub const PASSWORD_BYTES: usize = 32;
/// bcrypt cost of the htpasswd lines (zot compares with golang.org/x/crypto/bcrypt, which reads any cost).
pub const BCRYPT_COST: u32 = 10;

/// What one account may do.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub repositories: Vec<String>,
    pub actions: Vec<Action>,
}

/// An account as the store renders it: no password, its htpasswd line and its policy.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    /// `<name>:<bcrypt hash>`.
    pub htpasswd: String,
    pub policy: Policy,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("name", &self.name)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Key of an account's password.
pub fn password_key(account: &str) -> String {
    format!("{account}.password")
}

/// Key of an account's htpasswd line.
pub fn htpasswd_key(account: &str) -> String {
    format!("{account}.htpasswd")
}

/// Key of an account's policy.
pub fn policy_key(account: &str) -> String {
    format!("{account}.policy")
}

impl Account {
    /// Every complete account of the Secret's data (an account missing a key or with an unreadable policy is
    /// left out), sorted by name.
    pub fn parse_all(data: &BTreeMap<String, ByteString>) -> Vec<Account> {
        data.keys()
            .filter_map(|k| k.strip_suffix(".htpasswd"))
            .filter_map(|name| {
                let line = String::from_utf8(data.get(&htpasswd_key(name))?.0.clone()).ok()?;
                let policy: Policy =
                    serde_json::from_slice(&data.get(&policy_key(name))?.0).ok()?;
                let valid = line.split_once(':').is_some_and(|(user, _)| user == name)
                    && !line.contains('\n')
                    && super::is_reserved_account(name);
                valid.then(|| Account {
                    name: name.to_string(),
                    htpasswd: line,
                    policy,
                })
            })
            .collect()
    }
}

/// A new random password and its htpasswd line.
pub fn new_credentials(account: &str) -> Result<(String, String), String> {
    let mut buf = [0u8; PASSWORD_BYTES];
    getrandom::fill(&mut buf).map_err(|e| format!("no randomness: {e}"))?;
    let password = URL_SAFE_NO_PAD.encode(buf);
    let hash = bcrypt::hash(&password, BCRYPT_COST).map_err(|e| format!("bcrypt: {e}"))?;
    Ok((password, format!("{account}:{hash}")))
}

/// The htpasswd file zot reads: the user's file without lines of reserved (operator) names, then the accounts'
/// lines.
pub fn merged_htpasswd(user_file: Option<&str>, accounts: &[Account]) -> String {
    let mut out = String::new();
    for line in user_file.unwrap_or_default().lines() {
        let user = line.split_once(':').map_or(line, |(u, _)| u);
        if line.trim().is_empty() || super::is_reserved_account(user.trim()) {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    for account in accounts {
        out.push_str(&account.htpasswd);
        out.push('\n');
    }
    out
}
