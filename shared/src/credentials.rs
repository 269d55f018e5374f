//! The VideoSDK API key and secret: where they come from (Secrets Manager in production, the
//! environment for local development) and how they are read without ever being printed.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::Region;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use aws_smithy_http_client::tls;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The JSON key of the API key inside the secret.
pub const API_KEY_FIELD: &str = "VIDEOSDK_API_KEY";
/// The JSON key of the secret key inside the secret...
pub const SECRET_KEY_FIELD: &str = "VIDEOSDK_SECRET_KEY";
/// ...or its other name, the one VideoSDK's own server SDK uses.
pub const SECRET_KEY_ALIAS: &str = "VIDEOSDK_SECRET";

/// Bounds on the Secrets Manager call, so a cold start with an unreachable endpoint fails in a
/// few seconds instead of using the whole function timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);
pub const MAX_ATTEMPTS: u32 = 2;

/// The account's API key (public: it travels in every token) and secret key (never shown: its
/// `Debug` prints `[REDACTED]`).
#[derive(Debug, Clone)]
pub struct ApiCredentials {
    api_key: String,
    secret_key: SecretString,
}

impl ApiCredentials {
    pub fn new(api_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self {
            api_key: api_key.into(),
            secret_key: SecretString::from(secret_key.into()),
        }
    }

    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The secret bytes, for building signing keys only.
    pub fn secret_key(&self) -> &[u8] {
        self.secret_key.expose_secret().as_bytes()
    }
}

/// Where the credentials come from.
#[derive(Debug, Clone)]
pub enum SecretSource {
    /// A Secrets Manager secret (name or ARN), read at cold start and refreshed while warm.
    SecretsManager { secret_id: String },
    /// `VIDEOSDK_API_KEY` / `VIDEOSDK_SECRET_KEY` from the environment: local development only.
    Environment(ApiCredentials),
}

/// The credentials of the secret's current version and, after a rotation, of its previous one
/// (Secrets Manager's `AWSCURRENT` and `AWSPREVIOUS` stages).
#[derive(Debug, Clone)]
pub struct SecretVersions {
    pub current: ApiCredentials,
    pub previous: Option<ApiCredentials>,
}

/// A Secrets Manager secret and the client that reads it, built once per cold start.
#[derive(Debug, Clone)]
pub struct SecretStore {
    client: Client,
    secret_id: String,
}

impl SecretStore {
    /// A store whose client is configured from the environment as Lambda sets it
    /// ([`secrets_manager_config`]). Fails, naming the variable, when the credentials or the
    /// region are missing, rather than at the first call with the SDK's less direct error.
    pub fn from_env(secret_id: impl Into<String>) -> Result<Self, SecretError> {
        let secret_id = secret_id.into();
        let config =
            secrets_manager_config(|name| std::env::var(name).ok()).map_err(|missing| {
                SecretError::AwsEnvironment {
                    secret_id: secret_id.clone(),
                    missing,
                }
            })?;
        Ok(Self::new(Client::from_conf(config), secret_id))
    }

    pub fn new(client: Client, secret_id: impl Into<String>) -> Self {
        Self {
            client,
            secret_id: secret_id.into(),
        }
    }

    pub fn secret_id(&self) -> &str {
        &self.secret_id
    }

    /// Reads `AWSCURRENT` and `AWSPREVIOUS` together. The current version must be readable; a
    /// previous one that is absent (no rotation yet) or unusable is left out, with a warning
    /// for the latter.
    pub async fn fetch(&self) -> Result<SecretVersions, SecretError> {
        let (current, previous) = tokio::join!(
            fetch_version(&self.client, &self.secret_id, "AWSCURRENT"),
            fetch_version(&self.client, &self.secret_id, "AWSPREVIOUS"),
        );
        let current = current?;
        let previous = match previous {
            Ok(credentials) => Some(credentials),
            Err(SecretError::NotFound { .. }) => None,
            Err(error) => {
                tracing::warn!(error = %error, "the previous version of the secret is not used");
                None
            }
        };
        Ok(SecretVersions { current, previous })
    }
}

/// The Secrets Manager client's configuration from the environment `lambda_env` reads, the way
/// Lambda provides it to every function: credentials in `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, the region in `AWS_REGION` (or
/// `AWS_DEFAULT_REGION`), and the standard `AWS_ENDPOINT_URL_SECRETS_MANAGER` / `AWS_ENDPOINT_URL`
/// (unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`), `AWS_USE_FIPS_ENDPOINT` and
/// `AWS_USE_DUALSTACK_ENDPOINT`. The error is the name of a missing variable.
///
/// Built on the service's own config builder, not `aws_config::defaults(...).load()`: the loader
/// links its whole default chain (profile files, IMDS, ECS, web identity with an STS client)
/// whatever provider it is given, 0.35 MB of each zip that a Lambda function never runs
/// (`scripts/bench-coldstart` measures the sizes).
pub fn secrets_manager_config(
    lambda_env: impl Fn(&str) -> Option<String>,
) -> Result<aws_sdk_secretsmanager::Config, &'static str> {
    let var = |name: &str| {
        lambda_env(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    let flag = |name: &str| var(name).is_some_and(|value| value.eq_ignore_ascii_case("true"));
    for required in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        if var(required).is_none() {
            return Err(required);
        }
    }
    let region = var("AWS_REGION")
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .ok_or("AWS_REGION")?;
    let mut builder = secrets_manager_config_builder()
        .credentials_provider(
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        )
        .region(Region::new(region))
        .use_fips(flag("AWS_USE_FIPS_ENDPOINT"))
        .use_dual_stack(flag("AWS_USE_DUALSTACK_ENDPOINT"));
    if !flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") {
        builder.set_endpoint_url(
            var("AWS_ENDPOINT_URL_SECRETS_MANAGER").or_else(|| var("AWS_ENDPOINT_URL")),
        );
    }
    Ok(builder.build())
}

/// What every Secrets Manager client here shares: HTTPS on rustls with ring, bounded timeouts
/// and retries. Credentials, region and endpoint are the caller's.
pub fn secrets_manager_config_builder() -> aws_sdk_secretsmanager::config::Builder {
    // rustls on ring, the one crypto library the VideoSDK client (reqwest) already brings, instead
    // of the SDK's default aws-lc: one crypto library in each binary, not two.
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(http_client)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
}

/// Why the credentials could not be read. Every variant names the secret id and never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error(
        "cannot read secret {secret_id:?}: {missing} is not set (Lambda sets it for every \
         function; elsewhere, export AWS credentials and a region)"
    )]
    AwsEnvironment {
        secret_id: String,
        missing: &'static str,
    },
    #[error("secret {secret_id:?} was not found in Secrets Manager")]
    NotFound { secret_id: String },
    #[error("access to secret {secret_id:?} was denied ({code})")]
    AccessDenied { secret_id: String, code: String },
    #[error("Secrets Manager could not be reached for secret {secret_id:?}: {detail}")]
    Unreachable { secret_id: String, detail: String },
    #[error("Secrets Manager refused to return secret {secret_id:?}: {detail}")]
    Service { secret_id: String, detail: String },
    #[error("secret {secret_id:?} has no SecretString (binary secrets are not supported)")]
    NotAString { secret_id: String },
    #[error(
        "secret {secret_id:?} is not a JSON object with {API_KEY_FIELD} and {SECRET_KEY_FIELD} \
         (invalid JSON at line {line}, column {column})"
    )]
    MalformedJson {
        secret_id: String,
        line: usize,
        column: usize,
    },
    #[error("secret {secret_id:?} has no non-empty string field {field}")]
    MissingField {
        secret_id: String,
        field: &'static str,
    },
}

/// Fetches and parses the secret's current version.
pub async fn fetch_from_secrets_manager(
    client: &Client,
    secret_id: &str,
) -> Result<ApiCredentials, SecretError> {
    fetch_version(client, secret_id, "AWSCURRENT").await
}

/// Fetches and parses the version of the secret at `stage` (`AWSCURRENT`, `AWSPREVIOUS`).
async fn fetch_version(
    client: &Client,
    secret_id: &str,
    stage: &str,
) -> Result<ApiCredentials, SecretError> {
    let output = client
        .get_secret_value()
        .secret_id(secret_id)
        .version_stage(stage)
        .send()
        .await
        .map_err(|error| classify_sdk_error(secret_id, error))?;
    let text = output
        .secret_string()
        .ok_or_else(|| SecretError::NotAString {
            secret_id: secret_id.to_owned(),
        })?;
    parse_secret_string(secret_id, text)
}

fn classify_sdk_error(secret_id: &str, error: SdkError<GetSecretValueError>) -> SecretError {
    let secret_id = secret_id.to_owned();
    match &error {
        SdkError::ServiceError(context) => {
            let service_error = context.err();
            let code = service_error.code().unwrap_or("Unknown").to_owned();
            if service_error.is_resource_not_found_exception() {
                SecretError::NotFound { secret_id }
            } else if matches!(
                code.as_str(),
                "AccessDeniedException" | "AccessDenied" | "UnrecognizedClientException"
            ) || code.contains("AccessDenied")
            {
                SecretError::AccessDenied { secret_id, code }
            } else {
                let message = service_error.message().unwrap_or("no message");
                SecretError::Service {
                    secret_id,
                    detail: format!("{code}: {message}"),
                }
            }
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            SecretError::Unreachable {
                secret_id,
                detail: error_chain(&error),
            }
        }
        _ => SecretError::Service {
            secret_id,
            detail: error_chain(&error),
        },
    }
}

/// The messages of an error and its sources, joined: one readable line, without the nested
/// `Debug` dumps the SDK's own formatter appends.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(error) = current {
        let message = error.to_string();
        if !parts.iter().any(|part| part.contains(&message)) {
            parts.push(message);
        }
        current = error.source();
    }
    parts.join(": ")
}

/// Parses the SecretString `{"VIDEOSDK_API_KEY": "...", "VIDEOSDK_SECRET_KEY": "..."}`.
/// Errors say where the JSON broke, never what it held.
pub fn parse_secret_string(secret_id: &str, text: &str) -> Result<ApiCredentials, SecretError> {
    #[derive(Deserialize)]
    struct Stored {
        #[serde(rename = "VIDEOSDK_API_KEY")]
        api_key: Option<serde_json::Value>,
        #[serde(rename = "VIDEOSDK_SECRET_KEY")]
        secret_key: Option<serde_json::Value>,
        #[serde(rename = "VIDEOSDK_SECRET")]
        secret_alias: Option<serde_json::Value>,
    }

    // Parse to a generic value first: serde's messages for typed data can quote the input.
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|error| SecretError::MalformedJson {
            secret_id: secret_id.to_owned(),
            line: error.line(),
            column: error.column(),
        })?;
    if !value.is_object() {
        return Err(SecretError::MalformedJson {
            secret_id: secret_id.to_owned(),
            line: 1,
            column: 1,
        });
    }
    let stored: Stored = serde_json::from_value(value).map_err(|_| SecretError::MalformedJson {
        secret_id: secret_id.to_owned(),
        line: 1,
        column: 1,
    })?;
    let field = |value: Option<serde_json::Value>, field: &'static str| match value {
        Some(serde_json::Value::String(text)) if !text.trim().is_empty() => Ok(text),
        _ => Err(SecretError::MissingField {
            secret_id: secret_id.to_owned(),
            field,
        }),
    };
    let api_key = field(stored.api_key, API_KEY_FIELD)?;
    let secret_key = match stored.secret_key {
        Some(value) => field(Some(value), SECRET_KEY_FIELD)?,
        None => field(stored.secret_alias, SECRET_KEY_FIELD)?,
    };
    Ok(ApiCredentials::new(api_key, secret_key))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "videosdk/prod";

    fn lambda_env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn the_client_config_names_what_the_environment_lacks() {
        let credentials = [
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
        ];
        let region = |config: aws_sdk_secretsmanager::Config| {
            config.region().map(|region| region.as_ref().to_owned())
        };
        let with = |extra: &[(&'static str, &'static str)]| {
            let vars: Vec<(&str, &str)> = credentials.iter().chain(extra).copied().collect();
            secrets_manager_config(lambda_env(&vars)).map(region)
        };
        assert_eq!(
            with(&[
                ("AWS_REGION", "eu-west-1"),
                ("AWS_DEFAULT_REGION", "us-east-1")
            ]),
            Ok(Some("eu-west-1".to_owned()))
        );
        assert_eq!(
            with(&[("AWS_REGION", " "), ("AWS_DEFAULT_REGION", " us-east-1\n")]),
            Ok(Some("us-east-1".to_owned()))
        );
        assert_eq!(with(&[]).unwrap_err(), "AWS_REGION");
        for missing in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            let vars: Vec<(&str, &str)> = credentials
                .iter()
                .filter(|(key, _)| *key != missing)
                .chain(&[("AWS_REGION", "eu-west-1")])
                .copied()
                .collect();
            assert_eq!(
                secrets_manager_config(lambda_env(&vars)).unwrap_err(),
                missing
            );
        }
        let error = SecretError::AwsEnvironment {
            secret_id: ID.into(),
            missing: "AWS_REGION",
        };
        assert!(
            error.to_string().contains("AWS_REGION is not set"),
            "{error}"
        );
    }

    #[test]
    fn reads_both_field_names_for_the_secret_key() {
        let credentials =
            parse_secret_string(ID, r#"{"VIDEOSDK_API_KEY":"k","VIDEOSDK_SECRET_KEY":"s1"}"#)
                .unwrap();
        assert_eq!(
            (credentials.api_key(), credentials.secret_key()),
            ("k", &b"s1"[..])
        );
        let credentials =
            parse_secret_string(ID, r#"{"VIDEOSDK_API_KEY":"k","VIDEOSDK_SECRET":"s2"}"#).unwrap();
        assert_eq!(credentials.secret_key(), b"s2");
    }

    #[test]
    fn refuses_malformed_json_without_quoting_it() {
        let error = parse_secret_string(
            ID,
            r#"{"VIDEOSDK_API_KEY":"k","VIDEOSDK_SECRET_KEY":"hunter2"#,
        )
        .unwrap_err();
        assert!(
            matches!(error, SecretError::MalformedJson { .. }),
            "{error:?}"
        );
        let text = error.to_string();
        assert!(text.contains(ID) && !text.contains("hunter2"), "{text}");

        let error = parse_secret_string(ID, r#"["hunter2"]"#).unwrap_err();
        assert!(matches!(error, SecretError::MalformedJson { .. }));
        assert!(!error.to_string().contains("hunter2"));
    }

    #[test]
    fn names_the_missing_field() {
        let error = parse_secret_string(ID, r#"{"VIDEOSDK_SECRET_KEY":"hunter2"}"#).unwrap_err();
        assert_eq!(
            error,
            SecretError::MissingField {
                secret_id: ID.into(),
                field: API_KEY_FIELD
            }
        );
        let error = parse_secret_string(ID, r#"{"VIDEOSDK_API_KEY":"k","VIDEOSDK_SECRET_KEY":""}"#)
            .unwrap_err();
        assert_eq!(
            error,
            SecretError::MissingField {
                secret_id: ID.into(),
                field: SECRET_KEY_FIELD
            }
        );
        let error = parse_secret_string(ID, r#"{"VIDEOSDK_API_KEY":"k","VIDEOSDK_SECRET_KEY":42}"#)
            .unwrap_err();
        assert!(matches!(
            error,
            SecretError::MissingField {
                field: SECRET_KEY_FIELD,
                ..
            }
        ));
    }

    #[test]
    fn debug_never_prints_the_secret_key() {
        let credentials = ApiCredentials::new("public-key", "hunter2-secret");
        let printed = format!(
            "{credentials:?} {:?}",
            SecretSource::Environment(credentials.clone())
        );
        assert!(printed.contains("public-key"));
        assert!(!printed.contains("hunter2"), "{printed}");
    }
}
