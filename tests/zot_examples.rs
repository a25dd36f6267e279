//! Every upstream zot v2.1.20 example (`../shared/reference/zot-examples`) must parse into the typed model
//! (which refuses unknown keys everywhere, as zot does) and serialize back to the same JSON value.
//!
//! Key case: zot reads its config through viper, which matches keys case-insensitively. The examples spell
//! every key consistently and the model uses those exact spellings, so the comparison is exact; no key
//! case normalisation is needed.
//!
//! Excluded examples: none. Files in the folder that are not zot configs but side files zot reads (LDAP,
//! OpenID and sync credentials, session keys, the oauth2 signing file) are checked against their own types
//! instead, listed in `side_file_kind`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use pretty_assertions::assert_eq;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use zot_operator::zot::{
    LdapCredentials, OpenIdCredentials, SessionKeys, SyncCredentialsFile, SyncOAuth2SigningFile,
    ZotConfig,
};

fn examples_dir() -> PathBuf {
    let shared = std::env::var_os("ZOT_OPERATOR_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let dir = shared.join("reference/zot-examples");
    assert!(
        dir.is_dir(),
        "zot example configs not found at {} (expected the upstream v2.1.20 examples there)",
        dir.display()
    );
    dir
}

/// Side files (not `zot serve` configs) and the type zot decodes each into.
fn side_file_kind(name: &str) -> Option<&'static str> {
    match name {
        "config-ldap-credentials.json" => Some("ldap-credentials"),
        "sessionKeys.json" => Some("session-keys"),
        "sync-auth-filepath.json" => Some("sync-credentials"),
        "sync-oauth2-signing.json" => Some("sync-oauth2-signing"),
        n if n.starts_with("config-openid-") && n.ends_with("-credentials.json") => {
            Some("openid-credentials")
        }
        _ => None,
    }
}

fn round_trip<T: DeserializeOwned + Serialize>(name: &str, input: &Value) -> Result<(), String> {
    let typed: T = serde_json::from_value(input.clone())
        .map_err(|e| format!("{name}: does not parse: {e}"))?;
    let output =
        serde_json::to_value(&typed).map_err(|e| format!("{name}: does not serialize: {e}"))?;
    if &output != input {
        return Err(format!(
            "{name}: re-serialized JSON differs\n--- input\n{}\n--- output\n{}",
            serde_json::to_string_pretty(input).unwrap(),
            serde_json::to_string_pretty(&output).unwrap()
        ));
    }
    Ok(())
}

#[test]
fn every_upstream_example_round_trips_through_the_typed_model() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(examples_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no example configs found");

    let mut failures = Vec::new();
    let mut configs = 0;
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let input: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
        let result = match side_file_kind(&name) {
            Some("ldap-credentials") => round_trip::<LdapCredentials>(&name, &input),
            Some("session-keys") => round_trip::<SessionKeys>(&name, &input),
            Some("sync-credentials") => round_trip::<SyncCredentialsFile>(&name, &input),
            Some("sync-oauth2-signing") => round_trip::<SyncOAuth2SigningFile>(&name, &input),
            Some("openid-credentials") => round_trip::<OpenIdCredentials>(&name, &input),
            Some(other) => panic!("unhandled side file kind {other}"),
            None => {
                configs += 1;
                round_trip::<ZotConfig>(&name, &input)
            }
        };
        if let Err(message) = result {
            failures.push(message);
        }
    }
    assert!(
        configs > 40,
        "expected the full v2.1.20 example set, found {configs} configs"
    );
    assert!(
        failures.is_empty(),
        "{} example(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn to_json_output_parses_back_to_the_same_config() {
    for path in std::fs::read_dir(examples_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
    {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if side_file_kind(&name).is_some() || path.extension().is_none_or(|ext| ext != "json") {
            continue;
        }
        let config: ZotConfig =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let again: ZotConfig = serde_json::from_str(&config.to_json()).unwrap();
        assert_eq!(config, again, "{name}");
    }
}
