//! The webhook function's backend: the public key VideoSDK's webhooks are verified with, and the
//! EventBridge bus they go on. Built once per cold start (`State<WebhookBackend>`).
//!
//! The key, in this order: `VIDEOSDK_WEBHOOK_PUBLIC_KEY` (pinned in the environment); else the
//! field of that name in the Secrets Manager secret's JSON (pinned, read at cold start); else
//! fetched from VideoSDK (`GET {VIDEOSDK_API_ENDPOINT}/v2/public/rsa-public-key`) at cold start
//! and kept. A fetched key is fetched again when a signature fails with it, in case VideoSDK
//! rotated it, but at most once per [`KEY_REFETCH_INTERVAL`] (the first time at once): a stream
//! of forged webhooks costs VideoSDK one call every few minutes. A pinned key is never replaced.

use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::aws::eventbridge::{EventBus, PublishError};
use crate::domain::credentials::ApiCredentials;
use crate::domain::keyring::Keyring;
use crate::domain::webhooks::{SignatureError, WebhookEvent, WebhookPublicKey};
use crate::settings::{Settings, SettingsError};
use crate::state::{Backend, InitError};
use crate::videosdk::VideoSdkWebhookKey;

/// At most one fetch of VideoSDK's key per interval after a failed signature.
pub(crate) const KEY_REFETCH_INTERVAL: Duration = Duration::from_secs(300);

/// Where the key in use came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyOrigin {
    /// `VIDEOSDK_WEBHOOK_PUBLIC_KEY` in the environment.
    Environment,
    /// `VIDEOSDK_WEBHOOK_PUBLIC_KEY` in the secret's JSON.
    Secret,
    /// VideoSDK's API.
    VideoSdk,
}

impl KeyOrigin {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Environment => "environment",
            Self::Secret => "secret",
            Self::VideoSdk => "videosdk",
        }
    }
}

/// Why a webhook was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum VerifyError {
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// The signature failed with the key in hand, and fetching VideoSDK's current key (in case
    /// it rotated) failed too.
    #[error("cannot fetch VideoSDK's webhook public key from {url}: {detail}")]
    KeyUnavailable { url: String, detail: String },
}

#[derive(Debug)]
pub struct WebhookBackend {
    bus: EventBus,
    /// `VIDEOSDK_API_ENDPOINT`, and its client once a key is to be fetched (a pinned key needs
    /// none, and its cold start loads no HTTP client and no root certificates for it).
    videosdk_endpoint: String,
    videosdk: OnceLock<VideoSdkWebhookKey>,
    key: RwLock<Option<(Arc<WebhookPublicKey>, KeyOrigin)>>,
    /// When a signature failure may next fetch VideoSDK's key.
    refetch_after: Mutex<Instant>,
}

impl Backend for WebhookBackend {
    fn from_settings(settings: &Settings) -> Result<Self, InitError> {
        let bus = settings.event_bus.as_ref().ok_or_else(|| {
            SettingsError::new(
                "EVENT_BUS_NAME",
                "not set; the videosdk-webhook function puts every verified webhook on this \
                 EventBridge bus (the template sets it)",
            )
        })?;
        let key = settings
            .webhook_public_key
            .clone()
            .map(|key| (Arc::new(key), KeyOrigin::Environment));
        Ok(Self {
            bus: EventBus::new(&bus.aws, bus.name.clone()),
            videosdk_endpoint: settings.videosdk_endpoint.clone(),
            videosdk: OnceLock::new(),
            key: RwLock::new(key),
            refetch_after: Mutex::new(Instant::now()),
        })
    }

    /// The key not pinned in the environment: from the secret, or else from VideoSDK.
    async fn start(&self, secret: &ApiCredentials, keys: &Keyring) -> Result<(), InitError> {
        let origin = if self.current().is_some() {
            KeyOrigin::Environment
        } else if let Some(pem) = secret.webhook_public_key() {
            let key = WebhookPublicKey::from_pem(pem).map_err(|error| {
                InitError::WebhookKey(format!(
                    "the secret's VIDEOSDK_WEBHOOK_PUBLIC_KEY cannot be used: {error}"
                ))
            })?;
            self.replace(key, KeyOrigin::Secret);
            KeyOrigin::Secret
        } else {
            let videosdk =
                VideoSdkWebhookKey::new(&self.videosdk_endpoint).map_err(InitError::WebhookKey)?;
            let videosdk = self.videosdk.get_or_init(|| videosdk);
            let key = videosdk.fetch(keys).await.map_err(|detail| {
                InitError::WebhookKey(format!("GET {}: {detail}", videosdk.url()))
            })?;
            self.replace(key, KeyOrigin::VideoSdk);
            KeyOrigin::VideoSdk
        };
        tracing::info!(
            key = origin.as_str(),
            bus = self.bus.name(),
            "verifying VideoSDK's webhooks"
        );
        Ok(())
    }
}

impl WebhookBackend {
    /// Checks `signature` over `body` with the key in hand; when that fails with a fetched key,
    /// fetches VideoSDK's key again (if [`KEY_REFETCH_INTERVAL`] allows) and, if VideoSDK now
    /// serves another, keeps it and checks with it. `keys` sign the call to VideoSDK.
    pub(crate) async fn verify(
        &self,
        body: &[u8],
        signature: &[u8],
        keys: &Keyring,
    ) -> Result<(), VerifyError> {
        let Some((key, origin)) = self.current() else {
            // Only before `start`, which fails the cold start when it finds no key.
            return Err(SignatureError::Invalid.into());
        };
        match (key.verify(body, signature), self.videosdk.get()) {
            (Err(SignatureError::Invalid), Some(videosdk))
                if origin == KeyOrigin::VideoSdk && self.claim_refetch(Instant::now()) =>
            {
                let fetched =
                    videosdk
                        .fetch(keys)
                        .await
                        .map_err(|detail| VerifyError::KeyUnavailable {
                            url: videosdk.url().to_owned(),
                            detail,
                        })?;
                if fetched == *key {
                    tracing::info!("VideoSDK's webhook public key is unchanged");
                    return Err(SignatureError::Invalid.into());
                }
                tracing::warn!("VideoSDK's webhook public key changed; using the new one");
                let verdict = fetched.verify(body, signature);
                self.replace(fetched, KeyOrigin::VideoSdk);
                Ok(verdict?)
            }
            (verdict, _) => Ok(verdict?),
        }
    }

    /// Puts a verified webhook on the bus; returns EventBridge's id for it.
    pub(crate) async fn publish(&self, event: &WebhookEvent) -> Result<String, PublishError> {
        self.bus.publish(event).await
    }

    fn current(&self) -> Option<(Arc<WebhookPublicKey>, KeyOrigin)> {
        self.key
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn replace(&self, key: WebhookPublicKey, origin: KeyOrigin) {
        *self.key.write().unwrap_or_else(PoisonError::into_inner) = Some((Arc::new(key), origin));
    }

    /// True for the one caller that may fetch now; it also puts the next fetch an interval away.
    fn claim_refetch(&self, now: Instant) -> bool {
        let mut after = self
            .refetch_after
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if now < *after {
            return false;
        }
        *after = now + KEY_REFETCH_INTERVAL;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend() -> WebhookBackend {
        let settings = Settings::from_lookup(|name| {
            Some(
                match name {
                    "VIDEOSDK_API_KEY" => "k",
                    "VIDEOSDK_SECRET_KEY" => "s",
                    "EVENT_BUS_NAME" => "bus",
                    "AWS_ACCESS_KEY_ID" => "AKID",
                    "AWS_SECRET_ACCESS_KEY" => "secret",
                    "AWS_REGION" => "eu-west-1",
                    _ => return None,
                }
                .to_owned(),
            )
        })
        .expect("valid settings");
        WebhookBackend::from_settings(&settings).expect("a backend")
    }

    #[test]
    fn a_refetch_is_claimed_at_once_then_once_per_interval() {
        let backend = backend();
        let start = Instant::now();
        assert!(backend.claim_refetch(start), "the first failure may fetch");
        assert!(!backend.claim_refetch(start));
        assert!(!backend.claim_refetch(start + KEY_REFETCH_INTERVAL - Duration::from_secs(1)));
        assert!(backend.claim_refetch(start + KEY_REFETCH_INTERVAL));
        assert!(!backend.claim_refetch(start + KEY_REFETCH_INTERVAL));
    }

    #[test]
    fn the_function_needs_its_bus() {
        let settings = Settings::from_lookup(|name| match name {
            "VIDEOSDK_API_KEY" | "VIDEOSDK_SECRET_KEY" => Some("x".to_owned()),
            _ => None,
        })
        .expect("valid settings");
        match WebhookBackend::from_settings(&settings) {
            Err(InitError::Settings(error)) => assert_eq!(error.variable, "EVENT_BUS_NAME"),
            other => panic!("expected EVENT_BUS_NAME to be missing, got {other:?}"),
        }
    }
}
