//! What a function builds once per cold start and every request reads: the policy, the CORS
//! policy, the token keys and the meeting-id key.

use std::time::Instant;

use lambda_http::Request;
use serde_json::{Map, Value};

use crate::api_error::ApiError;
use crate::cors::CorsPolicy;
use crate::credentials::{ApiCredentials, SecretError, SecretSource};
use crate::meeting_id::MeetingIdCodec;
use crate::permissions::TokenPolicy;
use crate::request;
use crate::settings::{Settings, SettingsError};
use crate::token::{Claims, TokenError, TokenKeys};

#[derive(Debug)]
pub struct State {
    pub policy: TokenPolicy,
    pub cors: CorsPolicy,
    pub tokens: TokenKeys,
    pub meeting_ids: MeetingIdCodec,
}

/// Why a cold start failed. The text names the variable or secret id, never a secret value.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("configuration error: {0}")]
    Settings(#[from] SettingsError),
    #[error("cannot read the VideoSDK credentials: {0}")]
    Secret(#[from] SecretError),
    #[error("cannot build the signing keys: {0}")]
    Keys(#[from] TokenError),
}

impl State {
    pub fn new(settings: &Settings, credentials: &ApiCredentials) -> Result<Self, InitError> {
        Ok(Self {
            policy: settings.policy.clone(),
            cors: settings.cors.clone(),
            tokens: TokenKeys::new(credentials)?,
            meeting_ids: MeetingIdCodec::new(credentials),
        })
    }

    /// The cold start: reads the environment, fetches the secret, builds the keys. Logs one line
    /// either way: the failure, or how long it took and where the secret came from.
    pub async fn from_env() -> Result<Self, InitError> {
        let started = Instant::now();
        let result = Self::load().await;
        match &result {
            Ok(_) => tracing::info!(
                init_ms = started.elapsed().as_secs_f64() * 1000.0,
                "initialised"
            ),
            Err(error) => tracing::error!(error = %error, "init failed"),
        }
        result
    }

    async fn load() -> Result<Self, InitError> {
        let settings = Settings::from_env()?;
        match &settings.secret_source {
            SecretSource::SecretsManager { secret_id } => {
                tracing::info!(secret_id = %secret_id, "reading the VideoSDK credentials from Secrets Manager");
            }
            SecretSource::Environment(_) => tracing::warn!(
                "VIDEOSDK_SECRET_ID is not set: using VIDEOSDK_API_KEY and VIDEOSDK_SECRET_KEY \
                 from the environment, which is for local development only"
            ),
        }
        let credentials = settings.secret_source.load().await?;
        Self::new(&settings, &credentials)
    }

    /// Finds and verifies the caller's token.
    pub fn authenticate(
        &self,
        request: &Request,
        body: &Map<String, Value>,
    ) -> Result<Claims, ApiError> {
        let token = request::token(request, body)?;
        Ok(self.tokens.verify(token)?)
    }
}
