//! When a credential changes (pure): the state the status and the Secret record, and what is due now.
use k8s_openapi::jiff::{SignedDuration, Timestamp};

use crate::api::v1alpha1::AccessSecretStatus;

/// Annotation of a push/pull Secret: the id of the API key it holds.
pub const KEY_ID_ANNOTATION: &str = "artifact.zotregistry.io/key-id";
/// Annotation of a push/pull Secret: when its key was made.
pub const ROTATED_AT_ANNOTATION: &str = "artifact.zotregistry.io/rotated-at";
/// Annotation of a push/pull Secret: the rotate annotation's value it answers.
pub const ROTATE_REQUEST_ANNOTATION: &str = "artifact.zotregistry.io/rotate-request";

/// The credential state, kept in the request's status (and, for the current key, on the Secret).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    pub key_id: Option<String>,
    pub rotated_at: Option<Timestamp>,
    pub previous_key_id: Option<String>,
    pub previous_revoke_at: Option<Timestamp>,
    pub rotate_request: Option<String>,
}

/// What the Secret says about the key it holds (its annotations).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InSecret {
    pub key_id: Option<String>,
    pub rotated_at: Option<Timestamp>,
    pub rotate_request: Option<String>,
}

fn time(text: &Option<String>) -> Option<Timestamp> {
    text.as_deref().and_then(|t| t.parse().ok())
}

impl State {
    pub fn from_status(status: Option<&AccessSecretStatus>) -> Self {
        let Some(s) = status else {
            return Self::default();
        };
        Self {
            key_id: s.key_id.clone(),
            rotated_at: time(&s.rotated_at),
            previous_key_id: s.previous_key_id.clone(),
            previous_revoke_at: time(&s.previous_key_revoke_at),
            rotate_request: s.rotate_request.clone(),
        }
    }

    /// The state once the Secret is taken into account: a Secret holding a key the status does not name was
    /// written by a reconcile that stopped before its status (an operator restart); it is the current key, and
    /// the status's key becomes the previous one, revoked a grace period after the Secret's rotation. So nothing
    /// rotates twice and no key is forgotten.
    pub fn adopt(self, secret: &InSecret, grace: SignedDuration) -> Self {
        match (&secret.key_id, &self.key_id) {
            (Some(in_secret), current) if Some(in_secret) != current.as_ref() => {
                let rotated_at = secret.rotated_at.or(self.rotated_at);
                Self {
                    key_id: Some(in_secret.clone()),
                    rotated_at,
                    previous_key_id: self.key_id.clone().or(self.previous_key_id.clone()),
                    previous_revoke_at: if self.key_id.is_some() {
                        rotated_at.and_then(|t| t.checked_add(grace).ok())
                    } else {
                        self.previous_revoke_at
                    },
                    rotate_request: secret.rotate_request.clone().or(self.rotate_request),
                }
            }
            _ => self,
        }
    }

    /// When the current key is due for rotation.
    pub fn next_rotation(&self, period: SignedDuration) -> Option<Timestamp> {
        self.rotated_at.and_then(|t| t.checked_add(period).ok())
    }
}

/// Why a rotation happens now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    /// There is no key yet (or the Secret lost it).
    First,
    /// The period is over.
    Period,
    /// The rotate annotation has a new value.
    OnDemand,
}

/// Whether the key rotates now: no key, the period is over, or the annotation asks.
pub fn due(
    state: &State,
    secret_has_key: bool,
    period: SignedDuration,
    annotation: Option<&str>,
    now: Timestamp,
) -> Option<Due> {
    if state.key_id.is_none() || !secret_has_key {
        return Some(Due::First);
    }
    if let Some(value) = annotation
        && state.rotate_request.as_deref() != Some(value)
    {
        return Some(Due::OnDemand);
    }
    state
        .next_rotation(period)
        .is_none_or(|next| now >= next)
        .then_some(Due::Period)
}

/// Whether the previous key's grace period is over.
pub fn previous_expired(state: &State, now: Timestamp) -> bool {
    state.previous_key_id.is_some() && state.previous_revoke_at.is_none_or(|t| now >= t)
}
