//! The operator's own questions to Keycloak before zot is (re)started with a realm and client, so that what zot would
//! only report later (or not at all) is the store's status now, with Keycloak's own words:
//!
//! - zot fetches the realm's OpenID discovery when it starts and panics when it cannot (a realm that does not exist,
//!   an unreachable Keycloak, an issuer other than `<url>/realms/<realm>`): a pod would crash-loop;
//! - Keycloak refuses a sign-in that asks for a scope the realm does not have (`invalid_scope`);
//! - a wrong client secret lets zot start, and every sign-in then fails at the code exchange.
//!
//! The client secret is checked at the realm's token introspection endpoint (RFC 7662), which authenticates the
//! client first: Keycloak answers 401 `invalid_client` for a wrong secret and 200 for a right one, and nothing is
//! issued. The secret is sent in the form (client_secret_post), never logged.
use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// The longest piece of an answer quoted in a message.
const QUOTE: usize = 300;

/// What the operator asks of Keycloak for one store (Debug never shows the secret).
#[derive(Clone, PartialEq, Eq)]
pub struct Probe {
    /// `<url>/realms/<realm>`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// The scopes zot requests at sign-in.
    pub scopes: Vec<String>,
}

impl fmt::Debug for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Probe")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// What Keycloak confirmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub issuer: String,
    pub client_id: String,
    /// Whether the client secret was checked (the realm advertises token introspection).
    pub secret_checked: bool,
}

/// What went wrong, worded for a store's status.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// No answer (DNS, connection, TLS, timeout).
    #[error(
        "Keycloak did not answer at {url}: {detail}; zot fetches this when it starts and would not start"
    )]
    Unreachable { url: String, detail: String },
    /// Keycloak answered 404 for the realm's discovery.
    #[error("Keycloak has no realm at {issuer} (HTTP {status}: {answer}); zot would not start")]
    RealmNotFound {
        issuer: String,
        status: u16,
        answer: String,
    },
    /// Another failed or unusable discovery answer.
    #[error("the OpenID discovery at {url} failed (HTTP {status}: {answer}); zot would not start")]
    Discovery {
        url: String,
        status: u16,
        answer: String,
    },
    /// The discovery names another issuer than the one zot is configured with (zot checks they are equal).
    #[error(
        "the OpenID discovery of {expected} names the issuer {actual}; zot requires them to be equal and would not start (check rbac.keycloak.url, and Keycloak's hostname setting)"
    )]
    IssuerMismatch { expected: String, actual: String },
    /// A requested scope the realm does not offer: Keycloak refuses every sign-in asking for it.
    #[error(
        "the realm {issuer} offers no client scope {missing}, which zot requests (rbac.keycloak.scopes{hint}): Keycloak would refuse every sign-in with invalid_scope"
    )]
    ScopeNotSupported {
        issuer: String,
        missing: String,
        hint: &'static str,
    },
    /// Keycloak refused the client id and secret.
    #[error(
        "Keycloak refused the client {client_id} with the secret of rbac.keycloak.clientSecretRef (HTTP {status}: {answer}); every sign-in would fail"
    )]
    ClientRefused {
        client_id: String,
        status: u16,
        answer: String,
    },
}

impl Error {
    /// A CamelCase condition reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::Unreachable { .. } => "KeycloakUnreachable",
            Error::RealmNotFound { .. } => "RealmNotFound",
            Error::Discovery { .. } => "DiscoveryFailed",
            Error::IssuerMismatch { .. } => "IssuerMismatch",
            Error::ScopeNotSupported { .. } => "ScopeNotSupported",
            Error::ClientRefused { .. } => "ClientSecretRefused",
        }
    }
}

/// The part of the discovery document the operator reads.
#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    #[serde(default)]
    introspection_endpoint: Option<String>,
    #[serde(default)]
    scopes_supported: Option<Vec<String>>,
}

/// The operator's HTTP client for Keycloak.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
}

impl Client {
    pub fn new() -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()?;
        Ok(Self { http })
    }

    /// Asks Keycloak whether zot could start with `probe` and sign users in.
    pub async fn check(&self, probe: &Probe) -> Result<Verified, Error> {
        let url = format!("{}/.well-known/openid-configuration", probe.issuer);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| unreachable(&url, &e))?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(|e| unreachable(&url, &e))?;
        if status == 404 {
            return Err(Error::RealmNotFound {
                issuer: probe.issuer.clone(),
                status,
                answer: answer(&body),
            });
        }
        let discovery = match serde_json::from_str::<Discovery>(&body) {
            Ok(d) if (200..300).contains(&status) => d,
            Ok(_) => {
                return Err(Error::Discovery {
                    url,
                    status,
                    answer: answer(&body),
                });
            }
            Err(e) => {
                return Err(Error::Discovery {
                    url,
                    status,
                    answer: format!("not an OpenID discovery document: {e}"),
                });
            }
        };
        verify_discovery(probe, &discovery)?;
        let Some(endpoint) = discovery.introspection_endpoint else {
            return Ok(Verified {
                issuer: probe.issuer.clone(),
                client_id: probe.client_id.clone(),
                secret_checked: false,
            });
        };
        // Any token will do: the client is authenticated before the token is looked at.
        let form = [
            ("token", "zot-operator-client-check"),
            ("client_id", probe.client_id.as_str()),
            ("client_secret", probe.client_secret.as_str()),
        ];
        let response = self
            .http
            .post(&endpoint)
            .form(&form)
            .send()
            .await
            .map_err(|e| unreachable(&endpoint, &e))?;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        if !(200..300).contains(&status) {
            return Err(Error::ClientRefused {
                client_id: probe.client_id.clone(),
                status,
                answer: answer(&body),
            });
        }
        Ok(Verified {
            issuer: probe.issuer.clone(),
            client_id: probe.client_id.clone(),
            secret_checked: true,
        })
    }
}

/// The issuer and the scopes of a discovery document, as zot would use them.
fn verify_discovery(probe: &Probe, discovery: &Discovery) -> Result<(), Error> {
    if discovery.issuer != probe.issuer {
        return Err(Error::IssuerMismatch {
            expected: probe.issuer.clone(),
            actual: discovery.issuer.clone(),
        });
    }
    if let Some(supported) = &discovery.scopes_supported {
        let missing: Vec<&str> = probe
            .scopes
            .iter()
            .filter(|s| !supported.contains(s))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            let groups = missing.contains(&crate::api::v1alpha1::GROUPS_SCOPE);
            return Err(Error::ScopeNotSupported {
                issuer: probe.issuer.clone(),
                missing: missing.join(", "),
                hint: if groups {
                    "; groups is requested because policies name groups: add a client scope called groups with a Group Membership mapper to the realm and the client"
                } else {
                    ""
                },
            });
        }
    }
    Ok(())
}

fn unreachable(url: &str, error: &reqwest::Error) -> Error {
    // reqwest's Display stops at the outermost layer ("error sending request"): add the causes.
    let mut detail = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::Unreachable {
        url: url.to_string(),
        detail,
    }
}

/// Keycloak's answer for a message: `error: error_description` of an OAuth error, else the body, shortened.
fn answer(body: &str) -> String {
    #[derive(Deserialize)]
    struct OAuthError {
        error: String,
        #[serde(default)]
        error_description: Option<String>,
    }
    let text = match serde_json::from_str::<OAuthError>(body) {
        Ok(OAuthError {
            error,
            error_description: Some(description),
        }) => format!("{error}: {description}"),
        Ok(OAuthError { error, .. }) => error,
        Err(_) => body.trim().to_string(),
    };
    if text.is_empty() {
        return "no body".to_string();
    }
    match text.char_indices().nth(QUOTE) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn probe(scopes: &[&str]) -> Probe {
        Probe {
            issuer: "https://sso.example.com/realms/dev".into(),
            client_id: "zot".into(),
            client_secret: "s3cret".into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn discovery(issuer: &str, scopes: Option<&[&str]>) -> Discovery {
        Discovery {
            issuer: issuer.into(),
            introspection_endpoint: None,
            scopes_supported: scopes.map(|s| s.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn keycloaks_oauth_errors_are_quoted_as_error_and_description() {
        assert_eq!(
            answer(
                r#"{"error":"invalid_client","error_description":"Client authentication failed."}"#
            ),
            "invalid_client: Client authentication failed."
        );
        assert_eq!(
            answer(r#"{"error":"Realm does not exist"}"#),
            "Realm does not exist"
        );
        assert_eq!(answer(""), "no body");
        assert_eq!(answer(&"x".repeat(1000)).chars().count(), QUOTE + 1);
    }

    #[test]
    fn another_issuer_in_the_discovery_is_refused_as_zot_would() {
        let err = verify_discovery(
            &probe(&["openid"]),
            &discovery("http://sso.example.com/realms/dev", None),
        )
        .unwrap_err();
        assert_eq!(err.reason(), "IssuerMismatch");
        assert!(
            err.to_string()
                .contains("http://sso.example.com/realms/dev")
        );
    }

    #[test]
    fn a_requested_scope_the_realm_lacks_is_named_with_what_to_add() {
        let supported: &[&str] = &["openid", "profile", "email"];
        let err = verify_discovery(
            &probe(&["openid", "profile", "email", "groups"]),
            &discovery("https://sso.example.com/realms/dev", Some(supported)),
        )
        .unwrap_err();
        assert_eq!(err.reason(), "ScopeNotSupported");
        let message = err.to_string();
        assert!(message.contains("no client scope groups"), "{message}");
        assert!(message.contains("Group Membership mapper"), "{message}");
        assert!(
            verify_discovery(
                &probe(&["openid", "email"]),
                &discovery("https://sso.example.com/realms/dev", Some(supported)),
            )
            .is_ok()
        );
    }

    #[test]
    fn the_probe_never_shows_its_secret() {
        assert!(!format!("{:?}", probe(&[])).contains("s3cret"));
    }
}
