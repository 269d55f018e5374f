//! What a function builds once per cold start and every request reads: the policies and the
//! keys, which a warm function refreshes from Secrets Manager so that a rotation takes effect
//! without a cold start.

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::api_error::ApiError;
use crate::cors::CorsPolicy;
use crate::credentials::{ApiCredentials, SecretError, SecretSource, SecretStore, SecretVersions};
use crate::keyring::Keyring;
use crate::meetings::MeetingBackend;
use crate::permissions::TokenPolicy;
use crate::settings::{Settings, SettingsError};
use crate::token::TokenError;

#[derive(Debug)]
pub struct State {
    pub policy: TokenPolicy,
    pub cors: CorsPolicy,
    /// `None` in get-token, which never creates or checks a meeting ([`State::from_env_for_tokens`]).
    meetings: Option<MeetingBackend>,
    keys: RwLock<Arc<Keyring>>,
    refresh: Option<SecretRefresh>,
}

/// Re-reads the secret at most once per interval, on the request path: a frozen Lambda runs no
/// background task, and one Secrets Manager call every few minutes costs a request little.
#[derive(Debug)]
struct SecretRefresh {
    store: SecretStore,
    interval: Duration,
    next_due: Mutex<Instant>,
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
    #[error("cannot set up the meeting backend: {0}")]
    MeetingBackend(String),
}

impl State {
    /// A state with fixed credentials and no refresh (the environment source, tests).
    pub fn new(settings: &Settings, credentials: &ApiCredentials) -> Result<Self, InitError> {
        Self::with_fixed_credentials(settings, credentials, meeting_backend(settings)?)
    }

    fn with_fixed_credentials(
        settings: &Settings,
        credentials: &ApiCredentials,
        meetings: Option<MeetingBackend>,
    ) -> Result<Self, InitError> {
        let versions = SecretVersions {
            current: credentials.clone(),
            previous: None,
        };
        Self::build(settings, &versions, None, meetings)
    }

    /// A state whose keys come from `store` now and are refreshed every
    /// `settings.secret_refresh_seconds` while the function is warm.
    pub async fn with_store(settings: &Settings, store: SecretStore) -> Result<Self, InitError> {
        Self::with_store_and(settings, store, meeting_backend).await
    }

    async fn with_store_and(
        settings: &Settings,
        store: SecretStore,
        meetings: impl FnOnce(&Settings) -> Result<Option<MeetingBackend>, InitError>,
    ) -> Result<Self, InitError> {
        let meetings = meetings(settings)?;
        let versions = store.fetch().await?;
        let refresh = SecretRefresh {
            store,
            interval: Duration::from_secs(settings.secret_refresh_seconds),
            next_due: Mutex::new(
                Instant::now() + Duration::from_secs(settings.secret_refresh_seconds),
            ),
        };
        Self::build(settings, &versions, Some(refresh), meetings)
    }

    fn build(
        settings: &Settings,
        versions: &SecretVersions,
        refresh: Option<SecretRefresh>,
        meetings: Option<MeetingBackend>,
    ) -> Result<Self, InitError> {
        Ok(Self {
            policy: settings.policy.clone(),
            cors: settings.cors.clone(),
            meetings,
            keys: RwLock::new(Arc::new(Keyring::new(versions)?)),
            refresh,
        })
    }

    /// The cold start: reads the environment, fetches the secret, builds the keys and the meeting
    /// backend. Logs one line either way: the failure, or how long it took.
    pub async fn from_env() -> Result<Self, InitError> {
        Self::from_env_with(meeting_backend).await
    }

    /// [`State::from_env`] without the meeting backend, for get-token. A binary that calls only
    /// this never links the VideoSDK client (reqwest and its TLS set-up): 0.1 MB of its zip.
    pub async fn from_env_for_tokens() -> Result<Self, InitError> {
        Self::from_env_with(|_| Ok(None)).await
    }

    async fn from_env_with(
        meetings: impl FnOnce(&Settings) -> Result<Option<MeetingBackend>, InitError>,
    ) -> Result<Self, InitError> {
        let started = Instant::now();
        let result = Self::load(meetings).await;
        match &result {
            Ok(_) => tracing::info!(
                init_ms = started.elapsed().as_secs_f64() * 1000.0,
                "initialised"
            ),
            Err(error) => tracing::error!(error = %error, "init failed"),
        }
        result
    }

    async fn load(
        meetings: impl FnOnce(&Settings) -> Result<Option<MeetingBackend>, InitError>,
    ) -> Result<Self, InitError> {
        let settings = Settings::from_env()?;
        if settings.policy.roles.includes_management() {
            tracing::warn!(
                "TOKEN_ROLES includes crawler: every caller of /get-token gets a token for \
                 VideoSDK's REST API of this whole account (rooms, recordings, sessions), not \
                 only for joining meetings; use rtc unless every caller is trusted"
            );
        }
        match &settings.secret_source {
            SecretSource::SecretsManager { secret_id } => {
                tracing::info!(secret_id = %secret_id, "reading the VideoSDK credentials from Secrets Manager");
                let store = SecretStore::from_env(secret_id.clone())?;
                Self::with_store_and(&settings, store, meetings).await
            }
            SecretSource::Environment(credentials) => {
                tracing::warn!(
                    "VIDEOSDK_SECRET_ID is not set: using VIDEOSDK_API_KEY and VIDEOSDK_SECRET_KEY \
                     from the environment, which is for local development only"
                );
                Self::with_fixed_credentials(&settings, credentials, meetings(&settings)?)
            }
        }
    }

    /// The meeting backend, in the functions that have one.
    pub fn meetings(&self) -> Result<&MeetingBackend, ApiError> {
        self.meetings.as_ref().ok_or_else(|| {
            ApiError::internal(
                "meeting_backend_unavailable",
                "this function was started without a meeting backend",
            )
        })
    }

    /// The keys to use for this request, refreshed first when the refresh interval has passed.
    /// A failed refresh is logged and the keys in hand stay in use.
    pub async fn keys(&self) -> Arc<Keyring> {
        if let Some(refresh) = &self.refresh
            && refresh.claim_due()
            && let Err(error) = self.refresh_keys(refresh).await
        {
            tracing::warn!(
                secret_id = refresh.store.secret_id(),
                error = %error,
                "secret refresh failed; still using the keys read before"
            );
        }
        self.current_keys()
    }

    /// Reads the secret now, whatever the interval; for tests and operators' tooling.
    pub async fn refresh_now(&self) -> Result<(), InitError> {
        match &self.refresh {
            Some(refresh) => self.refresh_keys(refresh).await,
            None => Ok(()),
        }
    }

    async fn refresh_keys(&self, refresh: &SecretRefresh) -> Result<(), InitError> {
        let keyring = Keyring::new(&refresh.store.fetch().await?)?;
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keyring);
        Ok(())
    }

    fn current_keys(&self) -> Arc<Keyring> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The configured meeting backend, as create-meeting and validate-meeting build it.
fn meeting_backend(settings: &Settings) -> Result<Option<MeetingBackend>, InitError> {
    MeetingBackend::new(&settings.meeting_backend)
        .map(Some)
        .map_err(InitError::MeetingBackend)
}

impl SecretRefresh {
    /// True for the one caller that finds the refresh due; it also schedules the next one, so a
    /// failing Secrets Manager is asked again only after another interval.
    fn claim_due(&self) -> bool {
        let mut next_due = self.next_due.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if now < *next_due {
            return false;
        }
        *next_due = now + self.interval;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_without_meeting_backend_says_so_with_a_500() {
        let settings = Settings::from_lookup(|name| match name {
            "VIDEOSDK_API_KEY" | "VIDEOSDK_SECRET_KEY" => Some("k".to_owned()),
            "MEETING_BACKEND" => Some("local".to_owned()),
            _ => None,
        })
        .unwrap();
        let versions = SecretVersions {
            current: ApiCredentials::new("k", "s"),
            previous: None,
        };
        let tokens_only = State::build(&settings, &versions, None, None).unwrap();
        let error = tokens_only.meetings().unwrap_err();
        assert_eq!(
            (error.status.as_u16(), error.code),
            (500, "meeting_backend_unavailable")
        );
        let full = State::new(&settings, &versions.current).unwrap();
        assert!(matches!(full.meetings(), Ok(MeetingBackend::Local)));
    }
}
