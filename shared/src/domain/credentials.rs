//! The VideoSDK API key and secret, and the JSON they are stored as; never printed.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The JSON key of the API key inside the stored secret.
pub(crate) const API_KEY_FIELD: &str = "VIDEOSDK_API_KEY";
/// The JSON key of the secret key inside the stored secret (`VIDEOSDK_SECRET`, the name VideoSDK's
/// own server SDK uses, is read too).
pub(crate) const SECRET_KEY_FIELD: &str = "VIDEOSDK_SECRET_KEY";

/// The account's API key (public: it travels in every token) and secret key (never shown: its
/// `Debug` prints `[REDACTED]`).
#[derive(Debug, Clone)]
pub struct ApiCredentials {
    api_key: String,
    secret_key: SecretString,
    /// `VIDEOSDK_WEBHOOK_PUBLIC_KEY`, optional beside the key in the stored JSON: VideoSDK's
    /// webhook public key (PEM), for a deployment that pins it there instead of fetching it.
    webhook_public_key: Option<String>,
}

impl ApiCredentials {
    pub fn new(api_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self {
            api_key: api_key.into(),
            secret_key: SecretString::from(secret_key.into()),
            webhook_public_key: None,
        }
    }

    /// The stored `VIDEOSDK_WEBHOOK_PUBLIC_KEY`, as text: checked by the webhook function only,
    /// so that no other function depends on it.
    pub fn webhook_public_key(&self) -> Option<&str> {
        self.webhook_public_key.as_deref()
    }

    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The secret bytes, for building signing keys only.
    pub fn secret_key(&self) -> &[u8] {
        self.secret_key.expose_secret().as_bytes()
    }
}

impl PartialEq for ApiCredentials {
    /// The same account and secret (compared in constant time: the secret is one).
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq as _;
        self.api_key == other.api_key && bool::from(self.secret_key().ct_eq(other.secret_key()))
    }
}

impl Eq for ApiCredentials {}

/// The credentials of the secret's current version and, after a rotation, of its previous one
/// (Secrets Manager's `AWSCURRENT` and `AWSPREVIOUS` stages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretVersions {
    pub current: ApiCredentials,
    pub previous: Option<ApiCredentials>,
}

impl SecretVersions {
    /// The versions after a refresh that read `current` but could not read the previous version
    /// (throttled, timed out): the previous version stays the one `held`, or becomes the current
    /// one held when `current` is new (it has just been rotated out). Only a definite "no
    /// previous version" drops it.
    pub fn keeping_previous(current: ApiCredentials, held: &SecretVersions) -> Self {
        let previous = if current == held.current {
            held.previous.clone()
        } else {
            Some(held.current.clone())
        };
        Self { current, previous }
    }
}

/// Why a stored secret is not usable. Never quotes what it held.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsFormatError {
    #[error(
        "it is not a JSON object with {API_KEY_FIELD} and {SECRET_KEY_FIELD} (invalid JSON at \
         line {line}, column {column})"
    )]
    MalformedJson { line: usize, column: usize },
    #[error("it has no non-empty string field {0}")]
    MissingField(&'static str),
}

impl ApiCredentials {
    /// Parses the stored `{"VIDEOSDK_API_KEY": "...", "VIDEOSDK_SECRET_KEY": "..."}`.
    pub(crate) fn from_stored_json(text: &str) -> Result<Self, CredentialsFormatError> {
        #[derive(Deserialize)]
        struct Stored {
            #[serde(rename = "VIDEOSDK_API_KEY")]
            api_key: Option<serde_json::Value>,
            #[serde(rename = "VIDEOSDK_SECRET_KEY")]
            secret_key: Option<serde_json::Value>,
            #[serde(rename = "VIDEOSDK_SECRET")]
            secret_alias: Option<serde_json::Value>,
            #[serde(rename = "VIDEOSDK_WEBHOOK_PUBLIC_KEY")]
            webhook_public_key: Option<serde_json::Value>,
        }

        // A generic value first: serde's messages for typed data can quote the input.
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|error| CredentialsFormatError::MalformedJson {
                line: error.line(),
                column: error.column(),
            })?;
        let not_an_object = CredentialsFormatError::MalformedJson { line: 1, column: 1 };
        if !value.is_object() {
            return Err(not_an_object);
        }
        let stored: Stored = serde_json::from_value(value).map_err(|_| not_an_object)?;
        let field = |value: Option<serde_json::Value>, field: &'static str| match value {
            Some(serde_json::Value::String(text)) if !text.trim().is_empty() => Ok(text),
            _ => Err(CredentialsFormatError::MissingField(field)),
        };
        let api_key = field(stored.api_key, API_KEY_FIELD)?;
        let secret_key = match stored.secret_key {
            Some(value) => field(Some(value), SECRET_KEY_FIELD)?,
            None => field(stored.secret_alias, SECRET_KEY_FIELD)?,
        };
        // Any other type or an empty text is no key; the webhook function says so if it needs one.
        let webhook_public_key = match stored.webhook_public_key {
            Some(serde_json::Value::String(pem)) if !pem.trim().is_empty() => Some(pem),
            _ => None,
        };
        Ok(Self {
            webhook_public_key,
            ..Self::new(api_key, secret_key)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_field_names_for_the_secret_key() {
        let credentials = ApiCredentials::from_stored_json(
            r#"{"VIDEOSDK_API_KEY":"k","VIDEOSDK_SECRET_KEY":"s1"}"#,
        )
        .unwrap();
        assert_eq!(
            (credentials.api_key(), credentials.secret_key()),
            ("k", &b"s1"[..])
        );
        let credentials =
            ApiCredentials::from_stored_json(r#"{"VIDEOSDK_API_KEY":"k","VIDEOSDK_SECRET":"s2"}"#)
                .unwrap();
        assert_eq!(credentials.secret_key(), b"s2");
    }

    #[test]
    fn the_webhook_public_key_is_optional() {
        let stored = |extra: &str| {
            ApiCredentials::from_stored_json(&format!(
                r#"{{"VIDEOSDK_API_KEY":"k","VIDEOSDK_SECRET_KEY":"s"{extra}}}"#
            ))
            .unwrap()
        };
        assert_eq!(stored("").webhook_public_key(), None);
        assert_eq!(
            stored(r#","VIDEOSDK_WEBHOOK_PUBLIC_KEY":"-----BEGIN PUBLIC KEY-----""#)
                .webhook_public_key(),
            Some("-----BEGIN PUBLIC KEY-----")
        );
        assert_eq!(
            stored(r#","VIDEOSDK_WEBHOOK_PUBLIC_KEY":" ""#).webhook_public_key(),
            None
        );
    }

    #[test]
    fn refuses_malformed_json_without_quoting_it() {
        for text in [
            r#"{"VIDEOSDK_API_KEY":"k","VIDEOSDK_SECRET_KEY":"hunter2"#,
            r#"["hunter2"]"#,
            r#"{"VIDEOSDK_API_KEY":["hunter2"]}"#,
        ] {
            let error = ApiCredentials::from_stored_json(text).unwrap_err();
            let printed = format!("{error} {error:?}");
            assert!(!printed.contains("hunter2"), "{printed}");
        }
        assert!(matches!(
            ApiCredentials::from_stored_json(r#"["hunter2"]"#),
            Err(CredentialsFormatError::MalformedJson { .. })
        ));
    }

    #[test]
    fn names_the_missing_field() {
        for (text, field) in [
            (r#"{"VIDEOSDK_SECRET_KEY":"hunter2"}"#, API_KEY_FIELD),
            (
                r#"{"VIDEOSDK_API_KEY":"k","VIDEOSDK_SECRET_KEY":""}"#,
                SECRET_KEY_FIELD,
            ),
            (
                r#"{"VIDEOSDK_API_KEY":"k","VIDEOSDK_SECRET_KEY":42}"#,
                SECRET_KEY_FIELD,
            ),
        ] {
            assert_eq!(
                ApiCredentials::from_stored_json(text).unwrap_err(),
                CredentialsFormatError::MissingField(field),
                "{text}"
            );
        }
    }

    #[test]
    fn a_failed_read_of_the_previous_version_keeps_the_one_held() {
        let one = ApiCredentials::new("k", "one");
        let two = ApiCredentials::new("k", "two");
        let three = ApiCredentials::new("k", "three");
        let held = SecretVersions {
            current: two.clone(),
            previous: Some(one.clone()),
        };
        assert_eq!(
            SecretVersions::keeping_previous(two.clone(), &held),
            held,
            "no rotation: the previous version stays"
        );
        assert_eq!(
            SecretVersions::keeping_previous(three.clone(), &held),
            SecretVersions {
                current: three,
                previous: Some(two)
            },
            "a rotation: the current version held becomes the previous one"
        );
        assert_ne!(one, ApiCredentials::new("other-key", "one"));
    }

    #[test]
    fn debug_never_prints_the_secret_key() {
        let credentials = ApiCredentials::new("public-key", "hunter2-secret");
        let printed = format!("{credentials:?}");
        assert!(printed.contains("public-key"));
        assert!(!printed.contains("hunter2"), "{printed}");
    }
}
