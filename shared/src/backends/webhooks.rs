//! The webhook function's backend: the public key VideoSDK's webhooks are verified with, and the
//! EventBridge bus they go on. Built once per cold start (`State<WebhookBackend>`). Also the
//! fallback queue's consumer ([`WebhookDrain`]), which puts queued webhooks on the same bus.
//!
//! The key, in this order: `VIDEOSDK_WEBHOOK_PUBLIC_KEY` (pinned in the environment); else the
//! field of that name in the Secrets Manager secret's JSON (pinned, read at cold start and again
//! at each refresh of the secret, which may replace it); else
//! fetched from VideoSDK (`GET {VIDEOSDK_API_ENDPOINT}/v2/public/rsa-public-key`) at cold start
//! and kept. A fetched key is fetched again when a signature fails with it, in case VideoSDK
//! rotated it, but at most once per `WEBHOOK_KEY_REFETCH_SECONDS` (30 s; the first time at
//! once): a stream of forged webhooks costs VideoSDK one call per interval. A signature that
//! fails while the interval forbids a fetch is answered 429 with `Retry-After`, not 401: it may
//! be a genuine webhook signed with a key VideoSDK rotated after a forgery spent the fetch, and
//! it verifies when sent again after the interval. A key pinned in the environment is never
//! replaced.

use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::aws::budget::{Budget, QUEUE_SEND_RESERVE};
use crate::aws::environment::AwsEnvironment;
use crate::aws::eventbridge::{EventBus, PublishError};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsMessage};

use crate::aws::fallback_queue::{FallbackQueue, decode};
use crate::aws::metrics;
use crate::domain::credentials::ApiCredentials;
use crate::domain::keyring::Keyring;
use crate::domain::webhooks::{SignatureError, WebhookEvent, WebhookPublicKey};
use crate::settings::{Settings, SettingsError};
use crate::state::{Backend, InitError};
use crate::videosdk::{KeyFetchError, VIDEOSDK_REQUEST_TIMEOUT, VideoSdkWebhookKey};

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
    #[error("cannot fetch VideoSDK's webhook public key from {url}: {error}")]
    KeyUnavailable { url: String, error: KeyFetchError },
    /// The signature failed with the key fetched from VideoSDK, and the key was fetched too
    /// recently to fetch it again: it may be a key VideoSDK rotated since.
    #[error(
        "the signature fails with the key in hand; VideoSDK's key may be fetched again in {retry_after:?}"
    )]
    RefreshPending { retry_after: Duration },
}

#[derive(Debug)]
pub struct WebhookBackend {
    bus: EventBus,
    /// Where a webhook goes when the bus does not take it (`WEBHOOK_FALLBACK_QUEUE_URL`).
    fallback: Option<FallbackQueue>,
    /// `VIDEOSDK_API_ENDPOINT`, and its client once a key is to be fetched (a pinned key needs
    /// none, and its cold start loads no HTTP client and no root certificates for it).
    videosdk_endpoint: String,
    videosdk: OnceLock<VideoSdkWebhookKey>,
    key: RwLock<Option<(Arc<WebhookPublicKey>, KeyOrigin)>>,
    /// When a signature failure may next fetch VideoSDK's key.
    refetch_after: Mutex<Instant>,
    refetch_interval: Duration,
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
            fallback: bus
                .fallback_queue
                .as_ref()
                .map(|url| FallbackQueue::new(&bus.aws, url.clone())),
            bus: EventBus::new(&bus.aws, bus.name.clone()),
            videosdk_endpoint: settings.videosdk_endpoint.clone(),
            videosdk: OnceLock::new(),
            key: RwLock::new(key),
            refetch_after: Mutex::new(Instant::now()),
            refetch_interval: Duration::from_secs(settings.webhook_key_refetch_seconds),
        })
    }

    /// The key not pinned in the environment: from the secret, or else from VideoSDK.
    async fn start(&self, secret: &ApiCredentials, keys: &Keyring) -> Result<(), InitError> {
        let origin = if self.current().is_some() {
            KeyOrigin::Environment
        } else if let Some(pem) = secret.webhook_public_key() {
            let key = WebhookPublicKey::from_pem(pem).map_err(InitError::SecretWebhookKey)?;
            self.replace(key, KeyOrigin::Secret);
            KeyOrigin::Secret
        } else {
            let videosdk = VideoSdkWebhookKey::new(&self.videosdk_endpoint)
                .map_err(InitError::WebhookKeyClient)?;
            let videosdk = self.videosdk.get_or_init(|| videosdk);
            let key = fetch_counted(videosdk, keys).await.map_err(|error| {
                InitError::WebhookKeyFetch {
                    url: videosdk.url().to_owned(),
                    error,
                }
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

    /// A key pinned in the secret follows the secret: a new one read on a refresh replaces it.
    /// One that is gone or unusable leaves the key in hand in use, with a warning.
    fn secret_read(&self, current: &ApiCredentials) {
        let Some((key, KeyOrigin::Secret)) = self.current() else {
            return;
        };
        match current.webhook_public_key().map(WebhookPublicKey::from_pem) {
            Some(Ok(read)) if read == *key => {}
            Some(Ok(read)) => {
                tracing::warn!(
                    "the webhook public key pinned in the secret changed; using the new one"
                );
                self.replace(read, KeyOrigin::Secret);
            }
            Some(Err(error)) => tracing::warn!(
                error = %error,
                "the secret's VIDEOSDK_WEBHOOK_PUBLIC_KEY cannot be used; keeping the key in hand"
            ),
            None => tracing::warn!(
                "the secret no longer pins VIDEOSDK_WEBHOOK_PUBLIC_KEY; keeping the key in hand \
                 until the next cold start"
            ),
        }
    }
}

/// Where a verified webhook went.
#[derive(Debug)]
pub(crate) enum Delivered {
    /// On the bus, with EventBridge's id.
    Published { event_id: String },
    /// The bus did not take it (`bus` says why); the fallback queue did.
    Queued {
        message_id: String,
        bus: PublishError,
    },
}

/// Neither the bus nor the fallback queue (if there is one) took a webhook.
#[derive(Debug, thiserror::Error)]
#[error("{bus}; fallback queue: {}", queue.as_deref().unwrap_or("none configured"))]
pub(crate) struct NotDelivered {
    bus: PublishError,
    queue: Option<String>,
}

/// The fallback queue's consumer (`videosdk-webhook-drain`): SQS delivers the queued webhooks
/// in batches (an event source mapping with `ReportBatchItemFailures`), and each is put on the
/// bus with its delivery id and the time it was first received. A message the bus did not take,
/// or that is no queued webhook, is reported failed: SQS delivers it again after its visibility
/// timeout, and after the queue's `maxReceiveCount` receives moves it to the dead-letter queue.
/// The others Lambda deletes.
#[derive(Debug)]
pub struct WebhookDrain {
    bus: EventBus,
}

impl WebhookDrain {
    /// Reads `EVENT_BUS_NAME` and the AWS environment through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let bus_name = lookup("EVENT_BUS_NAME")
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
            .ok_or("EVENT_BUS_NAME is not set")?;
        let aws = AwsEnvironment::from_lookup(&lookup)
            .map_err(|missing| format!("{missing} is not set"))?;
        Ok(Self {
            bus: EventBus::new(&aws, bus_name),
        })
    }

    /// Puts each message's webhook on the bus within `budget`; the answer names the messages
    /// to be delivered again.
    pub async fn drain(&self, messages: &[SqsMessage], budget: &Budget) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        for message in messages {
            let message_id = message.message_id.as_deref().unwrap_or_default();
            let receives = message
                .attributes
                .get("ApproximateReceiveCount")
                .map(String::as_str)
                .unwrap_or("?");
            let event = match decode(message.body.as_deref().unwrap_or_default()) {
                Ok(event) => event,
                Err(why) => {
                    tracing::error!(
                        message_id,
                        receives,
                        why,
                        "not a queued webhook; left to the dead-letter queue"
                    );
                    response.add_failure(message_id);
                    continue;
                }
            };
            match self.bus.publish(&event, budget, Duration::ZERO).await {
                Ok(event_id) => tracing::info!(
                    message_id,
                    receives,
                    webhook_type = event.kind(),
                    delivery_id = event.delivery_id(),
                    event_id,
                    published = true,
                    "queued webhook"
                ),
                Err(error) => {
                    tracing::error!(
                        message_id,
                        receives,
                        webhook_type = event.kind(),
                        delivery_id = event.delivery_id(),
                        published = false,
                        error = %error,
                        "queued webhook"
                    );
                    response.add_failure(message_id);
                }
            }
        }
        response
    }
}

/// The whole `main` of the fallback queue's consumer ([`crate::function::WEBHOOK_DRAIN`]): every
/// SQS batch Lambda delivers drained onto the bus within the invocation's deadline, the messages
/// to deliver again named in the answer. A cold start that fails exits with status 1 after the
/// line that says why.
pub async fn serve_drain() -> Result<(), lambda_http::Error> {
    use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
    use lambda_http::lambda_runtime::{self, LambdaEvent};

    crate::aws::logging::init();
    let drain = match WebhookDrain::from_lookup(|name| std::env::var(name).ok()) {
        Ok(drain) => drain,
        Err(error) => {
            tracing::error!(error = %error, "init failed");
            std::process::exit(1);
        }
    };
    let drain = &drain;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: LambdaEvent<SqsEvent>| async move {
            let budget = Budget::from_context(Some(&event.context));
            Ok::<SqsBatchResponse, std::convert::Infallible>(
                drain.drain(&event.payload.records, &budget).await,
            )
        },
    ))
    .await
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
        budget: &Budget,
    ) -> Result<(), VerifyError> {
        let Some((key, origin)) = self.current() else {
            // Only before `start`, which fails the cold start when it finds no key.
            return Err(SignatureError::Invalid.into());
        };
        match (key.verify(body, signature), self.videosdk.get()) {
            (Err(SignatureError::Invalid), Some(videosdk)) if origin == KeyOrigin::VideoSdk => {
                self.claim_refetch(Instant::now())
                    .map_err(|retry_after| VerifyError::RefreshPending { retry_after })?;
                // The fetch keeps the time a queue send needs: a verified webhook is kept.
                let fetched = budget
                    .run(
                        QUEUE_SEND_RESERVE,
                        VIDEOSDK_REQUEST_TIMEOUT,
                        fetch_counted(videosdk, keys),
                    )
                    .await
                    .unwrap_or(Err(KeyFetchError::TimedOut))
                    .map_err(|error| VerifyError::KeyUnavailable {
                        url: videosdk.url().to_owned(),
                        error,
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

    /// Puts a verified webhook on the bus or, when the bus does not take it, into the fallback
    /// queue; the bus within `budget` less the time the queue needs, the queue with the rest.
    pub(crate) async fn deliver(
        &self,
        event: &WebhookEvent,
        budget: &Budget,
    ) -> Result<Delivered, NotDelivered> {
        let keep = match self.fallback {
            Some(_) => QUEUE_SEND_RESERVE,
            None => Duration::ZERO,
        };
        let bus = match self.bus.publish(event, budget, keep).await {
            Ok(event_id) => return Ok(Delivered::Published { event_id }),
            Err(error) => error,
        };
        let Some(fallback) = &self.fallback else {
            return Err(NotDelivered { bus, queue: None });
        };
        let sent = budget
            .run_aws(Duration::ZERO, fallback.send(event))
            .await
            .unwrap_or_else(|out_of_time| {
                Err(format!(
                    "SQS did not take it into {}: {out_of_time}",
                    fallback.url()
                ))
            });
        match sent {
            Ok(message_id) => Ok(Delivered::Queued { message_id, bus }),
            Err(queue) => Err(NotDelivered {
                bus,
                queue: Some(queue),
            }),
        }
    }

    /// Whether the key in use is the one pinned in the secret (which a refresh of the secret
    /// may replace).
    pub(crate) fn key_pinned_in_secret(&self) -> bool {
        matches!(self.current(), Some((_, KeyOrigin::Secret)))
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

    /// `Ok` for the one caller that may fetch now, which puts the next fetch an interval away;
    /// otherwise how long until a fetch is allowed.
    fn claim_refetch(&self, now: Instant) -> Result<(), Duration> {
        let mut after = self
            .refetch_after
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if now < *after {
            return Err(*after - now);
        }
        *after = now + self.refetch_interval;
        Ok(())
    }
}

/// VideoSDK's key, a failure counted in the `UpstreamFailures` metric.
async fn fetch_counted(
    videosdk: &VideoSdkWebhookKey,
    keys: &Keyring,
) -> Result<WebhookPublicKey, KeyFetchError> {
    videosdk
        .fetch(keys)
        .await
        .inspect_err(|error| metrics::upstream_failed(metrics::VIDEOSDK, error.label()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::settings_from_pairs;

    fn backend() -> WebhookBackend {
        let settings = settings_from_pairs(&[
            ("VIDEOSDK_API_KEY", "k"),
            ("VIDEOSDK_SECRET_KEY", "s"),
            ("EVENT_BUS_NAME", "bus"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_REGION", "eu-west-1"),
        ])
        .expect("valid settings");
        WebhookBackend::from_settings(&settings).expect("a backend")
    }

    #[test]
    fn a_refetch_is_claimed_at_once_then_once_per_interval() {
        let backend = backend();
        let interval = Duration::from_secs(crate::settings::DEFAULT_KEY_REFETCH_SECONDS);
        let start = Instant::now();
        assert_eq!(
            backend.claim_refetch(start),
            Ok(()),
            "the first failure may fetch"
        );
        assert_eq!(backend.claim_refetch(start), Err(interval));
        assert_eq!(
            backend.claim_refetch(start + interval - Duration::from_secs(1)),
            Err(Duration::from_secs(1))
        );
        assert_eq!(backend.claim_refetch(start + interval), Ok(()));
        assert_eq!(backend.claim_refetch(start + interval), Err(interval));
    }

    #[test]
    fn the_function_needs_its_bus() {
        let settings =
            settings_from_pairs(&[("VIDEOSDK_API_KEY", "x"), ("VIDEOSDK_SECRET_KEY", "x")])
                .expect("valid settings");
        match WebhookBackend::from_settings(&settings) {
            Err(InitError::Settings(error)) => assert_eq!(error.variable, "EVENT_BUS_NAME"),
            other => panic!("expected EVENT_BUS_NAME to be missing, got {other:?}"),
        }
    }
}
