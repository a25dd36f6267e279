//! The operator's own S3 calls, with the store's credentials: whether its bucket exists, creating it, and removing
//! zot's data (and a bucket the operator created) when the store's deletion policy says so. Requests are presigned
//! with SigV4 and sent over rustls; a refusal carries the S3 server's own code and message.
use std::fmt;
use std::time::Duration;

use rusty_s3::actions::{ListObjectsV2, ObjectIdentifier};
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

/// How long a presigned request stays valid.
const SIGNED_FOR: Duration = Duration::from_secs(60);
/// Keys listed or deleted per request (S3's own maximum for DeleteObjects).
const PAGE: usize = 1000;

/// An S3 access key pair (Debug never shows it).
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKeys {
    pub id: String,
    pub secret: String,
}

impl fmt::Debug for AccessKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessKeys(<redacted>)")
    }
}

/// Where a store's objects live and the key pair that may touch them.
#[derive(Clone)]
pub struct Target {
    bucket: Bucket,
    credentials: Credentials,
    /// The endpoint as the spec gives it (or AWS's for the region), for messages.
    endpoint: String,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket.name())
            .field("region", &self.bucket.region())
            .field("credentials", &"<redacted>")
            .finish()
    }
}

/// What went wrong, worded for a store's status.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The spec's endpoint is not a URL the client can use.
    #[error("the S3 endpoint {endpoint} cannot be used: {reason}")]
    Endpoint { endpoint: String, reason: String },
    /// No answer (DNS, connection, TLS, timeout).
    #[error("the S3 endpoint {endpoint} did not answer: {detail}")]
    Unreachable { endpoint: String, detail: String },
    /// The server answered with an error.
    #[error("S3 refused {action} on bucket {bucket}: {code}: {message} (HTTP {status})")]
    Refused {
        action: &'static str,
        bucket: String,
        status: u16,
        code: String,
        message: String,
    },
}

impl Error {
    /// A CamelCase condition reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::Endpoint { .. } => "InvalidEndpoint",
            Error::Unreachable { .. } => "EndpointUnreachable",
            Error::Refused { code, .. } => match code.as_str() {
                "AccessDenied" | "AllAccessDisabled" => "AccessDenied",
                "InvalidAccessKeyId"
                | "SignatureDoesNotMatch"
                | "InvalidToken"
                | "ExpiredToken" => "InvalidCredentials",
                "BucketAlreadyExists" => "BucketOwnedByAnotherAccount",
                "AuthorizationHeaderMalformed"
                | "AuthorizationQueryParametersError"
                | "IllegalLocationConstraintException"
                | "InvalidLocationConstraint"
                | "InvalidRegion" => "WrongRegion",
                "InvalidBucketName" => "InvalidBucketName",
                _ => "BucketError",
            },
        }
    }
}

/// Whether [`Client::ensure_bucket`] found the bucket or made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ensured {
    Existed,
    Created,
}

impl Target {
    /// The bucket at `endpoint` (None: AWS S3 of `region`), addressed by path when `path_style`.
    pub fn new(
        endpoint: Option<&str>,
        region: &str,
        bucket: &str,
        path_style: bool,
        keys: AccessKeys,
    ) -> Result<Self, Error> {
        let endpoint = endpoint
            .map(str::to_string)
            .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));
        let invalid = |reason: String| Error::Endpoint {
            endpoint: endpoint.clone(),
            reason,
        };
        let url = endpoint.parse().map_err(|e| invalid(format!("{e}")))?;
        let style = if path_style {
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHost
        };
        let bucket = Bucket::new(url, style, bucket.to_string(), region.to_string())
            .map_err(|e| invalid(format!("{e}")))?;
        Ok(Self {
            bucket,
            credentials: Credentials::new(keys.id, keys.secret),
            endpoint,
        })
    }

    pub fn bucket(&self) -> &str {
        self.bucket.name()
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

/// An HTTP client for S3 requests (one per operator: it pools connections).
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
}

impl Client {
    pub fn new() -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self { http })
    }

    /// The operator's pooled HTTP client, also used to ask registries (see `crate::vulndb`).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Makes sure the bucket exists: creates it (in the target's region) when it does not.
    pub async fn ensure_bucket(&self, target: &Target) -> Result<Ensured, Error> {
        if self.bucket_exists(target).await? {
            return Ok(Ensured::Existed);
        }
        let url = target
            .bucket
            .create_bucket(&target.credentials)
            .sign(SIGNED_FOR);
        let region = target.bucket.region();
        // us-east-1 is S3's default location and must not be named (AWS refuses it as a constraint).
        let body = if region == "us-east-1" {
            String::new()
        } else {
            format!(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                 <LocationConstraint>{region}</LocationConstraint></CreateBucketConfiguration>"
            )
        };
        let response = self.send(target, self.http.put(url).body(body)).await?;
        match refusal(target, "CreateBucket", response).await? {
            None => Ok(Ensured::Created),
            // Another reconcile (or the user) was quicker, with the same account.
            Some(Error::Refused { code, .. }) if code == "BucketAlreadyOwnedByYou" => {
                Ok(Ensured::Existed)
            }
            Some(e) => Err(e),
        }
    }

    /// Whether the bucket exists; an error when the credentials may not tell. Lists at most one key (unlike
    /// HeadBucket, a refused listing carries the server's message).
    pub async fn bucket_exists(&self, target: &Target) -> Result<bool, Error> {
        let mut list = target.bucket.list_objects_v2(Some(&target.credentials));
        list.with_max_keys(1);
        let response = self
            .send(target, self.http.get(list.sign(SIGNED_FOR)))
            .await?;
        match refusal(target, "ListObjectsV2", response).await? {
            None => Ok(true),
            Some(Error::Refused { code, .. }) if code == "NoSuchBucket" => Ok(false),
            Some(e) => Err(e),
        }
    }

    /// Deletes every object whose key starts with `prefix`; returns how many were deleted. A missing bucket has
    /// nothing to delete.
    pub async fn delete_prefix(&self, target: &Target, prefix: &str) -> Result<usize, Error> {
        let mut deleted = 0;
        loop {
            let keys = match self.list(target, prefix).await {
                Ok(keys) => keys,
                Err(Error::Refused { code, .. }) if code == "NoSuchBucket" => return Ok(deleted),
                Err(e) => return Err(e),
            };
            if keys.is_empty() {
                return Ok(deleted);
            }
            let count = keys.len();
            let objects: Vec<ObjectIdentifier> =
                keys.into_iter().map(ObjectIdentifier::new).collect();
            let mut action = target
                .bucket
                .delete_objects(Some(&target.credentials), objects.iter());
            action.set_quiet(true);
            let url = action.sign(SIGNED_FOR);
            let (body, md5) = action.body_with_md5();
            let request = self.http.post(url).header("Content-MD5", md5).body(body);
            let response = self.send(target, request).await?;
            if let Some(e) = refusal(target, "DeleteObjects", response).await? {
                return Err(e);
            }
            deleted += count;
        }
    }

    /// Whether the bucket holds no object at all (a missing bucket is empty).
    pub async fn is_empty(&self, target: &Target) -> Result<bool, Error> {
        match self.list(target, "").await {
            Ok(keys) => Ok(keys.is_empty()),
            Err(Error::Refused { code, .. }) if code == "NoSuchBucket" => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// Deletes the (empty) bucket; a bucket already gone is fine.
    pub async fn delete_bucket(&self, target: &Target) -> Result<(), Error> {
        let url = target
            .bucket
            .delete_bucket(&target.credentials)
            .sign(SIGNED_FOR);
        let response = self.send(target, self.http.delete(url)).await?;
        match refusal(target, "DeleteBucket", response).await? {
            None => Ok(()),
            Some(Error::Refused { code, .. }) if code == "NoSuchBucket" => Ok(()),
            Some(e) => Err(e),
        }
    }

    /// Up to one page of keys under `prefix`.
    async fn list(&self, target: &Target, prefix: &str) -> Result<Vec<String>, Error> {
        let mut list = target.bucket.list_objects_v2(Some(&target.credentials));
        list.with_max_keys(PAGE);
        if !prefix.is_empty() {
            list.with_prefix(prefix);
        }
        let response = self
            .send(target, self.http.get(list.sign(SIGNED_FOR)))
            .await?;
        let status = response.status();
        let text = response.text().await.map_err(|e| unreachable(target, &e))?;
        if !status.is_success() {
            return Err(refused(target, "ListObjectsV2", status.as_u16(), &text));
        }
        let page = ListObjectsV2::parse_response(&text).map_err(|e| Error::Refused {
            action: "ListObjectsV2",
            bucket: target.bucket().to_string(),
            status: status.as_u16(),
            code: "UnreadableResponse".into(),
            message: e.to_string(),
        })?;
        Ok(page.contents.into_iter().map(|c| c.key).collect())
    }

    async fn send(
        &self,
        target: &Target,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Error> {
        request.send().await.map_err(|e| unreachable(target, &e))
    }
}

fn unreachable(target: &Target, error: &reqwest::Error) -> Error {
    // reqwest's Display stops at its own layer ("error sending request"): the cause says what failed.
    let mut detail = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail = format!("{detail}: {cause}");
        source = cause.source();
    }
    Error::Unreachable {
        endpoint: target.endpoint.clone(),
        detail,
    }
}

/// None for a successful response; otherwise the server's refusal.
async fn refusal(
    target: &Target,
    action: &'static str,
    response: reqwest::Response,
) -> Result<Option<Error>, Error> {
    let status = response.status();
    if status.is_success() {
        return Ok(None);
    }
    let body = response.text().await.map_err(|e| unreachable(target, &e))?;
    Ok(Some(refused(target, action, status.as_u16(), &body)))
}

/// The S3 error document (`<Error><Code>…</Code><Message>…</Message></Error>`) as an [`Error`].
fn refused(target: &Target, action: &'static str, status: u16, body: &str) -> Error {
    let field = |name: &str| {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        body.find(&open).and_then(|start| {
            let rest = &body[start + open.len()..];
            rest.find(&close).map(|end| unescape(&rest[..end]))
        })
    };
    let code = field("Code").unwrap_or_else(|| match status {
        404 => "NoSuchBucket".to_string(),
        403 => "AccessDenied".to_string(),
        _ => format!("HTTP{status}"),
    });
    let message = field("Message").unwrap_or_else(|| {
        let text = body.trim();
        if text.is_empty() {
            "the server gave no message".to_string()
        } else {
            text.chars().take(200).collect()
        }
    });
    Error::Refused {
        action,
        bucket: target.bucket().to_string(),
        status,
        code,
        message,
    }
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&amp;", "&")
}

/// The key prefix under which zot keeps a store's data, from its rootDirectory (`/zot` → `zot/`, `/` → every key).
pub fn data_prefix(root_directory: &str) -> String {
    let trimmed = root_directory.trim_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("{trimmed}/")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn keys(id: &str, secret: &str) -> AccessKeys {
        AccessKeys {
            id: id.into(),
            secret: secret.into(),
        }
    }

    fn target() -> Target {
        Target::new(
            Some("http://10.0.0.1:9000"),
            "eu-west-1",
            "images",
            true,
            keys("key", "secret"),
        )
        .unwrap()
    }

    #[test]
    fn an_s3_error_document_becomes_its_code_message_and_reason() {
        let body = "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request \
                    signature we calculated does not match the signature you provided. Check your key &amp; \
                    signing method.</Message><BucketName>images</BucketName></Error>";
        let e = refused(&target(), "ListObjectsV2", 403, body);
        assert_eq!(e.reason(), "InvalidCredentials");
        assert_eq!(
            e.to_string(),
            "S3 refused ListObjectsV2 on bucket images: SignatureDoesNotMatch: The request signature we \
             calculated does not match the signature you provided. Check your key & signing method. (HTTP 403)"
        );
    }

    #[test]
    fn each_refusal_a_user_can_fix_has_its_own_reason() {
        let reason = |code: &str| {
            let body = format!("<Error><Code>{code}</Code><Message>m</Message></Error>");
            refused(&target(), "CreateBucket", 400, &body).reason()
        };
        assert_eq!(reason("AccessDenied"), "AccessDenied");
        assert_eq!(reason("InvalidAccessKeyId"), "InvalidCredentials");
        assert_eq!(reason("BucketAlreadyExists"), "BucketOwnedByAnotherAccount");
        assert_eq!(reason("AuthorizationHeaderMalformed"), "WrongRegion");
        assert_eq!(reason("IllegalLocationConstraintException"), "WrongRegion");
        assert_eq!(reason("InvalidBucketName"), "InvalidBucketName");
        assert_eq!(reason("SlowDown"), "BucketError");
    }

    #[test]
    fn a_refusal_without_a_document_is_named_by_its_status() {
        assert!(matches!(
            refused(&target(), "ListObjectsV2", 404, ""),
            Error::Refused { code, .. } if code == "NoSuchBucket"
        ));
        let e = refused(&target(), "CreateBucket", 503, "busy");
        assert_eq!(e.reason(), "BucketError");
        assert!(e.to_string().ends_with("HTTP503: busy (HTTP 503)"), "{e}");
    }

    #[test]
    fn the_data_prefix_is_the_root_directory_without_its_slashes() {
        assert_eq!(data_prefix("/zot"), "zot/");
        assert_eq!(data_prefix("/teams/a/"), "teams/a/");
        assert_eq!(data_prefix("/"), "");
    }

    #[test]
    fn without_an_endpoint_the_target_is_aws_s3_of_the_region_and_its_debug_hides_the_keys() {
        let t = Target::new(None, "eu-central-1", "images", false, keys("AKIA", "hush")).unwrap();
        assert_eq!(t.endpoint(), "https://s3.eu-central-1.amazonaws.com");
        let debug = format!("{t:?}");
        assert!(
            !debug.contains("AKIA") && !debug.contains("hush"),
            "{debug}"
        );
    }

    #[test]
    fn an_endpoint_that_is_not_a_url_is_refused_with_the_reason() {
        let e = Target::new(
            Some("minio:9000"),
            "us-east-1",
            "bucket",
            true,
            keys("k", "s"),
        )
        .unwrap_err();
        assert_eq!(e.reason(), "InvalidEndpoint");
    }
}
