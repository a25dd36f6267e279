//! Keycloak, asked before zot is (re)started with the store's realm and client (see [`crate::keycloak`]).
use super::context::Context;
use crate::keycloak::{Error, Probe, Verified};
use crate::render::Inputs;
use crate::validate::ValidatedStore;

/// What Keycloak confirmed of the store's realm and client; None when the store signs nobody in with Keycloak (or
/// the client secret is not known, which dereference already reports).
pub async fn verify(
    ctx: &Context,
    store: &ValidatedStore,
    inputs: &Inputs,
) -> Result<Option<Verified>, Error> {
    let rbac = &store.spec.rbac;
    let (Some(keycloak), Some(secret), true) = (
        rbac.keycloak.as_ref(),
        inputs.keycloak_client_secret.as_ref(),
        rbac.enabled,
    ) else {
        return Ok(None);
    };
    let probe = Probe {
        issuer: keycloak.issuer(),
        client_id: keycloak.client_id.clone(),
        client_secret: secret.clone(),
        scopes: rbac.keycloak_scopes(),
    };
    ctx.keycloak.check(&probe).await.map(Some)
}
