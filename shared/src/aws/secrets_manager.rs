//! The VideoSDK key in AWS Secrets Manager: read at cold start and on refresh, never printed.

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;

use crate::aws::environment::AwsEnvironment;
use crate::aws::metrics;
use crate::domain::credentials::{ApiCredentials, CredentialsFormatError, SecretVersions};
use crate::error_chain::error_chain;

/// The endpoint variable of this service (besides `AWS_ENDPOINT_URL`).
const ENDPOINT_VARIABLE: &str = "AWS_ENDPOINT_URL_SECRETS_MANAGER";

/// A Secrets Manager secret and the client that reads it, built once per cold start.
#[derive(Debug, Clone)]
pub struct SecretStore {
    client: Client,
    secret_id: String,
}

/// A Secrets Manager client for `environment`, configured as every AWS client here is (see
/// [`crate::aws::environment`]).
pub fn client(environment: &AwsEnvironment) -> Client {
    Client::new(&environment.sdk_config(ENDPOINT_VARIABLE))
}

impl SecretStore {
    pub fn new(environment: &AwsEnvironment, secret_id: impl Into<String>) -> Self {
        Self {
            client: client(environment),
            secret_id: secret_id.into(),
        }
    }

    pub fn secret_id(&self) -> &str {
        &self.secret_id
    }

    /// Reads `AWSCURRENT` and `AWSPREVIOUS` together; the versions to make keys from, given
    /// the versions `held` before (none at a cold start). The current version must be readable.
    /// A previous version that is absent (no rotation yet) or unusable is dropped; one that could
    /// not be read (throttled, timed out, Secrets Manager failing) keeps the previous version
    /// held, so that a transient fault never refuses what the previous key made.
    pub async fn fetch(
        &self,
        held: Option<&SecretVersions>,
    ) -> Result<SecretVersions, SecretError> {
        let (current, previous) = tokio::join!(
            self.fetch_version("AWSCURRENT"),
            self.fetch_version("AWSPREVIOUS"),
        );
        let current = current.inspect_err(|error| {
            metrics::upstream_failed(metrics::SECRETS_MANAGER, error.label())
        })?;
        match (previous, held) {
            (Ok(previous), _) => Ok(SecretVersions {
                current,
                previous: Some(previous),
            }),
            (Err(SecretError::NotFound { .. }), _) => Ok(SecretVersions {
                current,
                previous: None,
            }),
            (Err(error @ (SecretError::Unusable { .. } | SecretError::NotAString { .. })), _) => {
                tracing::warn!(error = %error, "the previous version of the secret is not used");
                Ok(SecretVersions {
                    current,
                    previous: None,
                })
            }
            (Err(error), Some(held)) => {
                tracing::warn!(error = %error, "the previous version of the secret could not be read; keeping the one held");
                Ok(SecretVersions::keeping_previous(current, held))
            }
            (Err(error), None) => {
                tracing::warn!(error = %error, "the previous version of the secret could not be read; it is not used until the next refresh");
                Ok(SecretVersions {
                    current,
                    previous: None,
                })
            }
        }
    }

    /// Fetches and parses the version of the secret at `stage` (`AWSCURRENT`, `AWSPREVIOUS`).
    pub async fn fetch_version(&self, stage: &str) -> Result<ApiCredentials, SecretError> {
        let secret_id = &self.secret_id;
        let output = self
            .client
            .get_secret_value()
            .secret_id(secret_id)
            .version_stage(stage)
            .send()
            .await
            .map_err(|error| classify_sdk_error(secret_id, error))?;
        let text = output
            .secret_string()
            .ok_or_else(|| SecretError::NotAString {
                secret_id: secret_id.clone(),
            })?;
        ApiCredentials::from_stored_json(text).map_err(|problem| SecretError::Unusable {
            secret_id: secret_id.clone(),
            problem,
        })
    }
}

/// Why the credentials could not be read. Every variant names the secret id and never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
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
    #[error("secret {secret_id:?} cannot be used: {problem}")]
    Unusable {
        secret_id: String,
        problem: CredentialsFormatError,
    },
}

impl SecretError {
    /// How the read failed, as the `Failure` of the `UpstreamFailures` metric: never the secret's
    /// id or anything it holds.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "not_found",
            Self::AccessDenied { .. } => "access_denied",
            Self::Unreachable { .. } => "unreachable",
            Self::Service { .. } => "service_error",
            Self::NotAString { .. } => "not_a_string",
            Self::Unusable { .. } => "unusable",
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Errors made from stored texts that hold a secret value in every place and shape the
    /// parser can meet it: neither their message nor their Debug print may show it.
    #[test]
    fn errors_name_the_secret_and_never_its_value() {
        const VALUE: &str = "s3cr3t-V4LUE-0f-the-account";
        let stored = [
            format!(r#"{{"VIDEOSDK_API_KEY":"k","VIDEOSDK_SECRET_KEY":"{VALUE}""#),
            format!(r#"{{"VIDEOSDK_API_KEY":"k","VIDEOSDK_SECRET_KEY":"{VALUE}"}} trailing"#),
            format!(r#"{{"VIDEOSDK_SECRET_KEY":"{VALUE}"}}"#),
            format!(r#"{{"VIDEOSDK_API_KEY":"{VALUE}","VIDEOSDK_SECRET_KEY":5}}"#),
            format!(r#"{{"VIDEOSDK_API_KEY":"k","VIDEOSDK_SECRET_KEY":["{VALUE}"]}}"#),
            format!(r#"{{"VIDEOSDK_API_KEY":"k","VIDEOSDK_SECRET_KEY":{{"{VALUE}":1}}}}"#),
            format!(r#"{{"VIDEOSDK_API_KEY":{{"value":"{VALUE}"}},"VIDEOSDK_SECRET_KEY":"x"}}"#),
            format!(r#"["{VALUE}"]"#),
            format!(r#""{VALUE}""#),
            format!(r#"{{"VIDEOSDK_API_KEY":"k","VIDEOSDK_SECRET_KEY":"{VALUE}\q"}}"#),
            VALUE.to_owned(),
        ];
        for text in &stored {
            let problem = ApiCredentials::from_stored_json(text).expect_err(text);
            let error = SecretError::Unusable {
                secret_id: "videosdk/prod".into(),
                problem,
            };
            let shown = format!("{error} {error:?}");
            assert!(shown.contains("videosdk/prod"), "{shown}");
            // Not the value, nor a piece of it long enough to matter.
            for piece in VALUE.as_bytes().windows(8) {
                let piece = std::str::from_utf8(piece).expect("ASCII");
                assert!(!shown.contains(piece), "{text} shows {piece:?}: {shown}");
            }
        }
    }
}
