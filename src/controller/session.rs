//! The keys of zot's session cookies: made once per store, at random, and kept in the Secret `<store>-session`
//! that every replica mounts, so that a sign-in started on one pod completes on another and a session made on one
//! pod is valid on all (and survives restarts). Never logged, never in the status.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kube::runtime::reflector::ObjectRef;

use super::context::Context;
use super::dereference::read_secret;
use super::error::Error;
use crate::api::names::{Names, SESSION_FILE};
use crate::zot::SessionKeys;

/// Random bytes behind the hash key: 48 bytes, 64 characters (zot uses the characters as the HMAC key).
const HASH_KEY_BYTES: usize = 48;
/// Random bytes behind the encryption key: 24 bytes, 32 characters, i.e. an AES-256 key.
const ENCRYPT_KEY_BYTES: usize = 24;

/// The store's session keys: those of its Secret when it holds usable ones, else new ones.
pub async fn keys(ctx: &Context, namespace: &str, names: &Names) -> Result<SessionKeys, Error> {
    let name = names.session_secret();
    let cached = ctx
        .children
        .secrets
        .as_ref()
        .and_then(|cache| cache.get(&ObjectRef::new(&name).within(namespace)))
        .and_then(|secret| secret.object());
    // Not in the cache: ask the API server, so that keys made a moment ago are not replaced by a lagging cache.
    let secret = match cached {
        Some(secret) => Some(secret),
        None => read_secret(ctx, namespace, &name).await?,
    };
    if let Some(keys) = secret
        .and_then(|s| s.data)
        .and_then(|data| data.get(SESSION_FILE).cloned())
        .and_then(|file| parse(&file.0))
    {
        return Ok(keys);
    }
    generate()
}

/// Keys from a session keys file, when they are usable: a hash key of at least 32 characters and an encryption key
/// of 16, 24 or 32 (AES).
pub fn parse(file: &[u8]) -> Option<SessionKeys> {
    let keys: SessionKeys = serde_json::from_slice(file).ok()?;
    let encrypt_ok = keys
        .encrypt_key
        .as_ref()
        .is_some_and(|k| matches!(k.len(), 16 | 24 | 32));
    (keys.hash_key.len() >= 32 && encrypt_ok).then_some(keys)
}

/// New random keys.
pub fn generate() -> Result<SessionKeys, Error> {
    Ok(SessionKeys {
        hash_key: random_text(HASH_KEY_BYTES)?,
        encrypt_key: Some(random_text(ENCRYPT_KEY_BYTES)?),
    })
}

fn random_text(bytes: usize) -> Result<String, Error> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| Error::GenerateSessionKeys(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn new_keys_are_random_and_of_the_lengths_zot_and_aes_need() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.hash_key.len(), 64);
        assert_eq!(a.encrypt_key.as_deref().map(str::len), Some(32));
        assert_ne!(a, b);
        let file = serde_json::to_vec(&a).unwrap();
        assert_eq!(parse(&file), Some(a));
    }

    #[test]
    fn a_file_with_unusable_keys_is_not_kept() {
        assert_eq!(
            parse(b"{\"hashKey\": \"short\", \"encryptKey\": \"0123456789abcdef\"}"),
            None
        );
        let long = "x".repeat(64);
        assert_eq!(
            parse(format!("{{\"hashKey\": \"{long}\", \"encryptKey\": \"bad\"}}").as_bytes()),
            None
        );
        assert_eq!(
            parse(format!("{{\"hashKey\": \"{long}\"}}").as_bytes()),
            None
        );
        assert_eq!(parse(b"not json"), None);
    }
}
