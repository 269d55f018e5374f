//! What a function builds once per cold start and every request reads: the policies, the keys
//! (which a warm function refreshes from Secrets Manager, so that a rotation takes effect
//! without a cold start) and, in the functions that have one, the meeting backend.

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::aws::bans::BanTable;
use crate::aws::budget::Budget;
use crate::aws::metrics;
use crate::aws::secrets_manager::{SecretError, SecretStore};
use crate::domain::credentials::{ApiCredentials, SecretVersions};
use crate::domain::identity::IdentityPolicy;
use crate::domain::keyring::Keyring;
use crate::domain::permissions::TokenPolicy;
use crate::domain::token::TokenError;
use crate::http::cors::CorsPolicy;
use crate::settings::{SecretSource, Settings, SettingsError};

/// The part of a function's state that only some functions have, built from the settings at
/// cold start; each is in `crate::backends`, with its implementation of this trait.
pub trait Backend: Sized {
    fn from_settings(settings: &Settings) -> Result<Self, InitError>;

    /// Cold-start work that needs the secret, once it is read: none, but for the webhook
    /// backend, which takes its public key from the secret or fetches it from VideoSDK.
    fn start(
        &self,
        _secret: &ApiCredentials,
        _keys: &Keyring,
    ) -> impl std::future::Future<Output = Result<(), InitError>> {
        std::future::ready(Ok(()))
    }

    /// Cold-start work that needs no secret, started before the secret is read and awaited by
    /// no one: none, but for the meeting backend, which opens its connection to VideoSDK in a
    /// task of its own (the cold start ends no later for it, and a first call that finds it
    /// unfinished does not wait for it).
    fn start_warm_up(&self) {}
    /// A warm function read the secret again, and `current` is its current version: nothing,
    /// but for the webhook backend, whose key pinned in the secret follows it.
    fn secret_read(&self, _current: &ApiCredentials) {}
}

#[derive(Debug)]
pub struct State<B> {
    pub(crate) policy: TokenPolicy,
    pub(crate) identity: IdentityPolicy,
    pub(crate) cors: CorsPolicy,
    pub(crate) backend: B,
    /// The moderation bans (`BANS_TABLE_NAME`), when configured.
    pub(crate) bans: Option<BanTable>,
    /// What time it is, in Unix seconds, for bans: `unix_now`, but for tests that move time.
    pub(crate) clock: fn() -> u64,
    keys: RwLock<Arc<Keyring>>,
    refresh: Option<SecretRefresh>,
}

/// The shortest time between two refreshes made because a token or meeting id matched no key
/// held: forged tokens cannot make every request call Secrets Manager.
pub(crate) const MISS_REFRESH_INTERVAL: Duration = Duration::from_secs(5);

/// Re-reads the secret on the request path (a frozen Lambda runs no background task): at most
/// once per interval, and, when something matched no key held (another instance may have read
/// a rotated secret first), at most once per [`MISS_REFRESH_INTERVAL`].
#[derive(Debug)]
struct SecretRefresh {
    store: SecretStore,
    interval: Duration,
    next_due: Mutex<Instant>,
    last_miss_refresh: Mutex<Option<Instant>>,
}

/// Why the keys were read again.
#[derive(Debug, Clone, Copy)]
enum RefreshCause {
    Interval,
    UnknownKey,
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
    #[error(
        "cannot get VideoSDK's webhook public key: the secret's VIDEOSDK_WEBHOOK_PUBLIC_KEY cannot be used: {0}"
    )]
    SecretWebhookKey(crate::domain::webhooks::PublicKeyError),
    #[error("cannot get VideoSDK's webhook public key: {0}")]
    WebhookKeyClient(String),
    #[error("cannot get VideoSDK's webhook public key: GET {url}: {error}")]
    WebhookKeyFetch {
        url: String,
        error: crate::KeyFetchError,
    },
}

impl<B: Backend> State<B> {
    /// The cold start: reads the environment, then [`State::from_settings`]. Logs one line
    /// either way: the failure, or how long it took.
    pub async fn from_env() -> Result<Self, InitError> {
        let started = Instant::now();
        let result = match Settings::from_env() {
            Ok(settings) => Self::from_settings(settings).await,
            Err(error) => Err(error.into()),
        };
        match &result {
            Ok(_) => tracing::info!(
                init_ms = metrics::init_duration(started.elapsed()),
                "initialised"
            ),
            Err(error) => tracing::error!(error = %error, "init failed"),
        }
        result
    }

    /// The one way a state is built: the backend, then the keys from where the settings say
    /// (Secrets Manager, refreshed every `SECRET_REFRESH_SECONDS`, or the environment).
    pub async fn from_settings(settings: Settings) -> Result<Self, InitError> {
        if settings.policy.roles.includes_management() {
            tracing::warn!(
                "TOKEN_ROLES includes crawler: every caller of /get-token gets a token for \
                 VideoSDK's REST API of this whole account (rooms, recordings, sessions), not \
                 only for joining meetings; use rtc unless every caller is trusted"
            );
        }
        let backend = B::from_settings(&settings)?;
        // Round trips to another host than the secret's: side by side with the secret fetch,
        // and not waited for.
        backend.start_warm_up();
        let bans = settings
            .bans
            .as_ref()
            .map(|table| BanTable::new(&table.aws, table.name.clone()));
        let (versions, refresh) = match settings.secret_source {
            SecretSource::SecretsManager { secret_id, aws } => {
                tracing::info!(secret_id = %secret_id, "reading the VideoSDK credentials from Secrets Manager");
                let store = SecretStore::new(&aws, secret_id);
                let versions = store.fetch(None).await?;
                let interval = Duration::from_secs(settings.secret_refresh_seconds);
                let refresh = SecretRefresh {
                    store,
                    interval,
                    next_due: Mutex::new(Instant::now() + interval),
                    last_miss_refresh: Mutex::new(None),
                };
                (versions, Some(refresh))
            }
            SecretSource::Environment(current) => {
                tracing::warn!(
                    "VIDEOSDK_SECRET_ID is not set: using VIDEOSDK_API_KEY and VIDEOSDK_SECRET_KEY \
                     from the environment, which is for local development only"
                );
                let versions = SecretVersions {
                    current,
                    previous: None,
                };
                (versions, None)
            }
        };
        let state = Self {
            policy: settings.policy,
            identity: settings.identity,
            cors: settings.cors,
            backend,
            bans,
            clock: crate::domain::unix_now,
            keys: RwLock::new(Arc::new(Keyring::new(&versions)?)),
            refresh,
        };
        state
            .backend
            .start(&versions.current, &state.current_keys())
            .await?;
        Ok(state)
    }
}

impl<B: Backend> State<B> {
    /// This state with `clock` as the time of its bans: tests end a ban on time without
    /// sleeping.
    #[cfg(any(test, feature = "test-support"))]
    pub fn with_clock(mut self, clock: fn() -> u64) -> Self {
        self.clock = clock;
        self
    }

    /// The keys to use for this request, refreshed first when the refresh interval has passed.
    /// A failed refresh is logged and the keys in hand stay in use.
    pub async fn keys(&self) -> Arc<Keyring> {
        if let Some(refresh) = &self.refresh
            && refresh.claim_due()
        {
            self.refresh_keys(refresh, RefreshCause::Interval, &Budget::unbounded())
                .await;
        }
        self.current_keys()
    }

    /// The refresh of [`State::keys`], when due, within `budget`, for a path that does not need
    /// the keys first (the webhook's, whose pinned key is checked without them).
    pub(crate) async fn refresh_if_due(&self, budget: &Budget) {
        if let Some(refresh) = &self.refresh
            && refresh.claim_due()
        {
            self.refresh_keys(refresh, RefreshCause::Interval, budget)
                .await;
        }
    }

    /// After a token, meeting id or VideoSDK call that no key held matched: the keys read again
    /// from Secrets Manager, when that may be done now and they changed (a rotation another
    /// instance saw first); `None` otherwise, and the caller's answer stands.
    pub(crate) async fn keys_after_miss(&self) -> Option<Arc<Keyring>> {
        self.keys_after_miss_within(&Budget::unbounded()).await
    }

    /// [`State::keys_after_miss`], the read within `budget`.
    pub(crate) async fn keys_after_miss_within(&self, budget: &Budget) -> Option<Arc<Keyring>> {
        let refresh = self.refresh.as_ref()?;
        if !refresh.claim_miss() {
            return None;
        }
        let before = self.current_keys();
        let after = self
            .refresh_keys(refresh, RefreshCause::UnknownKey, budget)
            .await?;
        (after.versions() != before.versions()).then_some(after)
    }

    /// Reads the secret (within `budget`) and installs the keys made from it; a failure is
    /// logged and the keys in hand stay in use.
    async fn refresh_keys(
        &self,
        refresh: &SecretRefresh,
        cause: RefreshCause,
        budget: &Budget,
    ) -> Option<Arc<Keyring>> {
        let held = self.current_keys();
        let fetched = budget
            .run_aws(
                std::time::Duration::ZERO,
                // Boxed: a deep future type otherwise, past the compiler's layout limit in the
                // crates that nest the handlers further.
                Box::pin(refresh.store.fetch(Some(held.versions()))),
            )
            .await;
        let read = metrics::secret_refresh(match fetched {
            Ok(Ok(versions)) => Keyring::new(&versions).map_err(InitError::from),
            Ok(Err(error)) => Err(error.into()),
            Err(out_of_time) => Err(InitError::Secret(SecretError::Unreachable {
                secret_id: refresh.store.secret_id().to_owned(),
                detail: out_of_time.to_string(),
            })),
        });
        match read {
            Ok(keyring) => {
                let changed = keyring.versions() != held.versions();
                tracing::info!(
                    secret_id = refresh.store.secret_id(),
                    cause = ?cause,
                    changed,
                    "secret refreshed"
                );
                self.backend.secret_read(&keyring.versions().current);
                let keyring = Arc::new(keyring);
                *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::clone(&keyring);
                Some(keyring)
            }
            Err(error) => {
                tracing::warn!(
                    secret_id = refresh.store.secret_id(),
                    cause = ?cause,
                    error = %error,
                    "secret refresh failed; still using the keys read before"
                );
                None
            }
        }
    }

    /// The keys in hand, never refreshed first.
    pub(crate) fn current_keys(&self) -> Arc<Keyring> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }
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

    /// True for the caller that may refresh after a miss: the first one, then one per
    /// [`MISS_REFRESH_INTERVAL`].
    fn claim_miss(&self) -> bool {
        let mut last = self
            .last_miss_refresh
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if last.is_some_and(|last| now.duration_since(last) < MISS_REFRESH_INTERVAL) {
            return false;
        }
        *last = Some(now);
        true
    }
}
