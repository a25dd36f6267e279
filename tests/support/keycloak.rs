//! Keycloak of the test platform (`hack/services.sh up keycloak`, realm hack/keycloak/realm.json) and a browser's
//! part of zot's OpenID sign-in, played over HTTP: zot's login endpoint → Keycloak's login form → the credentials
//! → zot's callback, with the cookies a browser would keep (one jar for the registry's site, whichever pod answers,
//! as behind its Ingress or Route; one for Keycloak).
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;

use super::repo_root;

/// Keycloak's base URL, the same for zot pods and the tests (its hostname is fixed to it).
pub const URL: &str = "http://10.250.255.6:8080";
pub const REALM: &str = "zot-test";
pub const ISSUER: &str = "http://10.250.255.6:8080/realms/zot-test";
/// The confidential client for zot, and its secret.
pub const CLIENT: &str = "zot";
pub const CLIENT_SECRET: &str = "zot-client-secret";
/// A second client, whose secret the rotation test changes (other tests keep using [`CLIENT`]).
pub const ROTATE_CLIENT: &str = "zot-rotate";
pub const ROTATE_CLIENT_SECRET: &str = "zot-rotate-secret-1";
/// The master realm's administrator (hack/services.sh).
const ADMIN: &str = "admin";
const ADMIN_PASSWORD: &str = "zot-keycloak-admin";

/// A user of the realm: name, password, email.
#[derive(Clone, Copy, Debug)]
pub struct User {
    pub name: &'static str,
    pub password: &'static str,
    pub email: &'static str,
}

/// In group `developers`.
pub const ALICE: User = User {
    name: "alice",
    password: "alice-password",
    email: "alice@example.test",
};
/// In group `contractors`.
pub const BOB: User = User {
    name: "bob",
    password: "bob-password",
    email: "bob@example.test",
};

/// Starts (or reuses) Keycloak, once per test binary. Fails the test when it cannot be fetched or started.
pub fn ensure_up() {
    static UP: OnceLock<()> = OnceLock::new();
    UP.get_or_init(|| {
        let started = std::time::Instant::now();
        let out = Command::new(repo_root().join("hack/services.sh"))
            .args(["up", "keycloak"])
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("run hack/services.sh");
        assert!(
            out.status.success(),
            "hack/services.sh up keycloak failed (see its output above; Keycloak is fetched with Maven and run on \
             a JDK 21+: it is never skipped)"
        );
        eprintln!(
            "keycloak: up (or reused) in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    });
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Cookies by name, as one site set them (paths and lifetimes are not needed here).
#[derive(Clone, Debug, Default)]
pub struct Jar(pub BTreeMap<String, String>);

impl Jar {
    fn keep(&mut self, response: &reqwest::Response) {
        for header in response.headers().get_all(SET_COOKIE) {
            let Ok(text) = header.to_str() else { continue };
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                let expired = text.to_ascii_lowercase().contains("max-age=0")
                    || text.contains("1970")
                    || value.is_empty();
                if expired {
                    self.0.remove(name.trim());
                } else {
                    self.0
                        .insert(name.trim().to_string(), value.trim().to_string());
                }
            }
        }
    }

    /// The Cookie header.
    pub fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// How a sign-in ended.
#[derive(Debug)]
pub enum SignIn {
    /// zot's cookies after the callback (`session` among them).
    Session(Jar),
    /// Keycloak or zot said no: the step, the status and what it said.
    Refused(String),
}

impl SignIn {
    pub fn session(self) -> Jar {
        match self {
            SignIn::Session(jar) => jar,
            SignIn::Refused(why) => panic!("sign-in failed: {why}"),
        }
    }
}

fn location(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(LOCATION)
        .and_then(|l| l.to_str().ok())
        .map(str::to_string)
}

/// The path and query of `url` on `base` (`http://<pod>:5000`): where the registry's site sends a browser, the
/// Ingress or Route would send it to one of the pods.
fn on(base: &str, url: &str) -> String {
    let rest = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
    let path = rest.find('/').map(|i| &rest[i..]).unwrap_or("/");
    format!("{base}{path}")
}

/// Signs `user` in as a browser would: zot's login endpoint on `login_base`, Keycloak's form, then zot's callback
/// on `callback_base` (another pod, to prove the state cookie is good on every replica). Returns zot's cookies, or
/// what refused.
pub async fn sign_in(login_base: &str, callback_base: &str, user: User) -> SignIn {
    sign_in_via(login_base, callback_base, user).await.1
}

/// [`sign_in`], with the callback URL Keycloak sent the browser to (empty when it sent it nowhere).
pub async fn sign_in_via(login_base: &str, callback_base: &str, user: User) -> (String, SignIn) {
    let mut callback = String::new();
    let outcome = sign_in_steps(login_base, callback_base, user, &mut callback).await;
    (callback, outcome)
}

async fn sign_in_steps(
    login_base: &str,
    callback_base: &str,
    user: User,
    sent_to: &mut String,
) -> SignIn {
    let http = http();
    let mut zot = Jar::default();
    let mut keycloak = Jar::default();
    // 1. zot: the state cookie(s) and a redirect to Keycloak's authorization endpoint.
    let response = http
        .get(format!("{login_base}/zot/auth/login?provider=oidc"))
        .send()
        .await
        .unwrap();
    zot.keep(&response);
    let status = response.status();
    let Some(authorize) = location(&response).filter(|_| status.is_redirection()) else {
        let body = response.text().await.unwrap_or_default();
        return SignIn::Refused(format!("zot's login answered {status}: {body}"));
    };
    assert!(
        authorize.starts_with(&format!("{ISSUER}/protocol/openid-connect/auth")),
        "zot sends the browser to {authorize}"
    );
    // 2. Keycloak's login form.
    let response = http.get(&authorize).send().await.unwrap();
    keycloak.keep(&response);
    let status = response.status();
    if status.is_redirection() {
        // Keycloak answers an authorization request it refuses (invalid_scope …) by redirecting with an error.
        return SignIn::Refused(format!(
            "Keycloak refused the authorization request: {}",
            location(&response).unwrap_or_default()
        ));
    }
    let page = response.text().await.unwrap();
    let Some(action) = form_action(&page) else {
        return SignIn::Refused(format!("Keycloak answered {status} without a login form"));
    };
    // 3. The credentials.
    let response = http
        .post(&action)
        .header(COOKIE, keycloak.header())
        .form(&[
            ("username", user.name),
            ("password", user.password),
            ("credentialId", ""),
        ])
        .send()
        .await
        .unwrap();
    keycloak.keep(&response);
    let status = response.status();
    let Some(callback) = location(&response).filter(|_| status.is_redirection()) else {
        return SignIn::Refused(format!(
            "Keycloak did not accept {}'s credentials ({status})",
            user.name
        ));
    };
    assert!(
        callback.contains("/zot/auth/callback/oidc?"),
        "Keycloak sends the browser back to {callback}"
    );
    sent_to.clone_from(&callback);
    // 4. zot's callback, through the registry's site (any pod).
    let response = http
        .get(on(callback_base, &callback))
        .header(COOKIE, zot.header())
        .send()
        .await
        .unwrap();
    zot.keep(&response);
    let status = response.status();
    if zot.get("session").is_none() {
        let body = response.text().await.unwrap_or_default();
        return SignIn::Refused(format!("zot's callback answered {status}: {body}"));
    }
    SignIn::Session(zot)
}

/// The URL Keycloak's login form posts to.
fn form_action(page: &str) -> Option<String> {
    let form = &page[page.find("kc-form-login")?..];
    let start = form.find("action=\"")? + "action=\"".len();
    let end = form[start..].find('"')?;
    Some(form[start..start + end].replace("&amp;", "&"))
}

/// A request with zot's session, as zot's UI makes it (the session cookie and zot's UI header).
pub async fn with_session(
    method: reqwest::Method,
    url: &str,
    jar: &Jar,
    body: Option<Value>,
) -> (u16, String) {
    let mut request = http()
        .request(method, url)
        .header(COOKIE, jar.header())
        .header("X-ZOT-API-CLIENT", "zot-ui");
    if let Some(body) = body {
        request = request
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// Creates a zot API key with the session; returns it (`zak_…`).
pub async fn create_api_key(base: &str, jar: &Jar, label: &str) -> String {
    let (status, body) = with_session(
        reqwest::Method::POST,
        &format!("{base}/zot/auth/apikey"),
        jar,
        Some(serde_json::json!({"label": label, "scopes": []})),
    )
    .await;
    assert_eq!(status, 201, "creating an API key: {body}");
    let key: Value = serde_json::from_str(&body).unwrap();
    key["apiKey"].as_str().unwrap().to_string()
}

/// Sets the secret of `client_id` in the realm through Keycloak's admin API.
pub async fn set_client_secret(client_id: &str, secret: &str) {
    let http = http();
    let json = |text: String| -> Value { serde_json::from_str(&text).unwrap() };
    let token = json(
        http.post(format!("{URL}/realms/master/protocol/openid-connect/token"))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "admin-cli"),
                ("username", ADMIN),
                ("password", ADMIN_PASSWORD),
            ])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let token = token["access_token"].as_str().unwrap().to_string();
    let clients = json(
        http.get(format!(
            "{URL}/admin/realms/{REALM}/clients?clientId={client_id}"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap(),
    );
    let mut client = clients[0].clone();
    let id = client["id"].as_str().unwrap().to_string();
    client["secret"] = Value::String(secret.to_string());
    let response = http
        .put(format!("{URL}/admin/realms/{REALM}/clients/{id}"))
        .bearer_auth(&token)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(client.to_string())
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "setting the secret of {client_id}: {}",
        response.status()
    );
}
