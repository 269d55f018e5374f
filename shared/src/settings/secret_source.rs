//! Where the VideoSDK credentials come from (`VIDEOSDK_SECRET_ID`, or `VIDEOSDK_API_KEY` and
//! `VIDEOSDK_SECRET_KEY` for local development) and how often a warm function re-reads them
//! (`SECRET_REFRESH_SECONDS`).

use super::SettingsError;
use super::variables::{Seconds, Variables};
use crate::aws::environment::AwsEnvironment;
use crate::domain::credentials::ApiCredentials;

/// `SECRET_REFRESH_SECONDS`: 0 re-reads the secret on every request.
pub(super) const REFRESH_SECONDS: Seconds = Seconds {
    name: "SECRET_REFRESH_SECONDS",
    default: 300,
    range: 0..=86_400,
};

/// Where the VideoSDK key comes from.
#[derive(Debug, Clone)]
pub(crate) enum SecretSource {
    /// A Secrets Manager secret (name or ARN), read at cold start and refreshed while warm, with
    /// the AWS environment that reaches it.
    SecretsManager {
        secret_id: String,
        aws: AwsEnvironment,
    },
    /// `VIDEOSDK_API_KEY` / `VIDEOSDK_SECRET_KEY` from the environment: local development only.
    Environment(ApiCredentials),
}

pub(super) fn secret_source(
    vars: &Variables<impl Fn(&str) -> Option<String>>,
) -> Result<SecretSource, SettingsError> {
    if let Some(secret_id) = vars.get("VIDEOSDK_SECRET_ID") {
        let aws = vars.aws(&format!("read secret {secret_id:?}"))?;
        return Ok(SecretSource::SecretsManager { secret_id, aws });
    }
    let secret_key = vars
        .get("VIDEOSDK_SECRET_KEY")
        .or_else(|| vars.get("VIDEOSDK_SECRET"));
    match (vars.get("VIDEOSDK_API_KEY"), secret_key) {
        (Some(api_key), Some(secret_key)) => Ok(SecretSource::Environment(ApiCredentials::new(
            api_key, secret_key,
        ))),
        (None, None) => Err(SettingsError::new(
            "VIDEOSDK_SECRET_ID",
            "not set; set it to the Secrets Manager secret that holds the API key, or set \
             VIDEOSDK_API_KEY and VIDEOSDK_SECRET_KEY for local development",
        )),
        (Some(_), None) => Err(SettingsError::new(
            "VIDEOSDK_SECRET_KEY",
            "not set, but VIDEOSDK_API_KEY is; set both, or VIDEOSDK_SECRET_ID",
        )),
        (None, Some(_)) => Err(SettingsError::new(
            "VIDEOSDK_API_KEY",
            "not set, but VIDEOSDK_SECRET_KEY is; set both, or VIDEOSDK_SECRET_ID",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::tests::{DEV, error_variable};
    use crate::test_support::settings_from_pairs as settings;

    #[test]
    fn the_secret_id_wins_over_environment_keys() {
        let mut pairs = DEV.to_vec();
        pairs.push((
            "VIDEOSDK_SECRET_ID",
            "arn:aws:secretsmanager:eu-west-1:1:secret:x",
        ));
        assert_eq!(
            settings(&pairs).unwrap_err().variable,
            "AWS_ACCESS_KEY_ID",
            "the AWS environment is needed to read it"
        );
        pairs.extend([
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_REGION", "eu-west-1"),
        ]);
        match settings(&pairs).unwrap().secret_source {
            SecretSource::SecretsManager { secret_id, .. } => assert!(secret_id.ends_with(":x")),
            other => panic!("expected Secrets Manager, got {other:?}"),
        }
    }

    #[test]
    fn accepts_the_sdk_name_of_the_secret_key() {
        let settings = settings(&[("VIDEOSDK_API_KEY", "k"), ("VIDEOSDK_SECRET", "s")]).unwrap();
        assert!(matches!(
            settings.secret_source,
            SecretSource::Environment(_)
        ));
    }

    #[test]
    fn missing_credentials_name_the_variable_to_set() {
        assert_eq!(error_variable(&[]), "VIDEOSDK_SECRET_ID");
        assert_eq!(
            error_variable(&[("VIDEOSDK_API_KEY", "k")]),
            "VIDEOSDK_SECRET_KEY"
        );
        assert_eq!(
            error_variable(&[("VIDEOSDK_SECRET_KEY", "s")]),
            "VIDEOSDK_API_KEY"
        );
        assert_eq!(
            error_variable(&[("VIDEOSDK_API_KEY", " "), ("VIDEOSDK_SECRET_KEY", "s")]),
            "VIDEOSDK_API_KEY"
        );
    }
}
