//! The environment variables the functions read once at start, checked before any request.
//! [`Settings::from_lookup`] reads them group by group, each group in the file named for it:
//!
//! - `variables`: how a variable is read (trimmed, blank as unset; parsed, as seconds or as a
//!   flag), and the AWS environment;
//! - `secret_source`: where the VideoSDK credentials come from, and how often they are re-read;
//! - `token_policy`: token lifetime, permissions and roles;
//! - `allowed_origins`: the CORS policy;
//! - `identity_policy`: who a token is for, who may moderate and who may create rooms;
//! - `meeting_backend`: which room service, VideoSDK's endpoint, the options callers may send
//!   and the operator's room webhook;
//! - `webhook_function`: the webhook function's key, its bus and fallback queue;
//! - `bans`: the moderation bans' table.

mod allowed_origins;
mod bans;
mod identity_policy;
mod meeting_backend;
mod secret_source;
mod token_policy;
mod variables;
mod webhook_function;

pub use allowed_origins::DEFAULT_ALLOWED_ORIGINS;
pub(crate) use bans::BanTableSettings;
pub(crate) use meeting_backend::{MeetingBackendKind, OperatorWebhook};
pub(crate) use secret_source::SecretSource;
/// The webhook backend's tests hold its refetch interval to it.
#[cfg(test)]
pub(crate) use webhook_function::DEFAULT_KEY_REFETCH_SECONDS;
pub(crate) use webhook_function::EventBusSettings;

use crate::domain::identity::IdentityPolicy;
use crate::domain::permissions::TokenPolicy;
use crate::domain::webhooks::WebhookPublicKey;
use crate::http::cors::CorsPolicy;
pub use crate::tls::TEST_CA_VARIABLE;
use variables::Variables;

/// Everything configurable, read from the environment.
#[derive(Debug, Clone)]
pub struct Settings {
    pub(crate) secret_source: SecretSource,
    pub(crate) policy: TokenPolicy,
    /// Who a token is for and who may moderate.
    pub(crate) identity: IdentityPolicy,
    pub(crate) cors: CorsPolicy,
    /// How often a warm function re-reads the Secrets Manager secret; 0 means on every request.
    pub(crate) secret_refresh_seconds: u64,
    pub(crate) meeting_backend: MeetingBackendKind,
    /// `VIDEOSDK_API_ENDPOINT`: VideoSDK's REST API, for rooms and for its webhook public key.
    pub(crate) videosdk_endpoint: String,
    /// `VIDEOSDK_WEBHOOK_PUBLIC_KEY`: the key VideoSDK's webhooks are verified with, pinned
    /// instead of fetched from VideoSDK.
    pub(crate) webhook_public_key: Option<WebhookPublicKey>,
    /// `EVENT_BUS_NAME`: where the webhook function puts VideoSDK's webhooks.
    pub(crate) event_bus: Option<EventBusSettings>,
    /// `WEBHOOK_KEY_REFETCH_SECONDS`: the shortest time between two fetches of VideoSDK's
    /// webhook key made because a signature failed.
    pub(crate) webhook_key_refetch_seconds: u64,
    /// `BANS_TABLE_NAME`: the moderation bans, checked where a token is made for a room.
    pub(crate) bans: Option<BanTableSettings>,
}

/// A configuration value that cannot be used; it names the variable and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {reason}")]
pub struct SettingsError {
    pub variable: &'static str,
    pub reason: String,
}

impl SettingsError {
    pub(crate) fn new(variable: &'static str, reason: impl Into<String>) -> Self {
        Self {
            variable,
            reason: reason.into(),
        }
    }
}

impl Settings {
    /// Also loads the test-only extra CA of `TEST_ONLY_EXTRA_CA_FILE` (see `crate::tls`), which
    /// only the process environment sets.
    pub fn from_env() -> Result<Self, SettingsError> {
        crate::tls::load_test_ca()
            .map_err(|reason| SettingsError::new(crate::tls::TEST_CA_VARIABLE, reason))?;
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment, or a map in tests). Blank values
    /// count as unset, so an empty template parameter means "the default".
    ///
    /// The groups are read in one fixed order, some of them in parts, so that with several
    /// variables wrong the one named is always the same.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let vars = Variables::new(lookup);
        let secret_source = secret_source::secret_source(&vars)?;
        let ttl_seconds = vars.seconds(&token_policy::TTL_SECONDS)?;
        let room_ttl_seconds = token_policy::room_ttl_seconds(&vars, ttl_seconds)?;
        let secret_refresh_seconds = vars.seconds(&secret_source::REFRESH_SECONDS)?;
        let webhook_key_refetch_seconds = vars.seconds(&webhook_function::KEY_REFETCH_SECONDS)?;
        let permissions = token_policy::permissions(&vars)?;
        let cors = allowed_origins::cors_policy(&vars)?;
        let roles = token_policy::roles(&vars)?;
        let allow_client_webhooks = vars.flag("ALLOW_CLIENT_WEBHOOKS")?;
        let identity = identity_policy::identity_policy(&vars)?;
        identity_policy::check_moderators_can_moderate(&identity, &permissions)?;
        identity_policy::check_roles_under_identity_rules(&identity, &roles)?;
        let allowed_room_options = meeting_backend::allowed_room_options(&vars)?;
        let videosdk_endpoint = meeting_backend::videosdk_endpoint(&vars)?;
        let meeting_backend = meeting_backend::meeting_backend(
            &vars,
            &videosdk_endpoint,
            allow_client_webhooks,
            allowed_room_options,
        )?;
        let webhook_public_key = webhook_function::webhook_public_key(&vars)?;
        let event_bus = webhook_function::event_bus(&vars)?;
        let bans = bans::ban_table(&vars)?;

        Ok(Self {
            secret_source,
            policy: permissions.into_policy(ttl_seconds, room_ttl_seconds, roles),
            identity,
            cors,
            secret_refresh_seconds,
            meeting_backend,
            videosdk_endpoint,
            webhook_public_key,
            event_bus,
            webhook_key_refetch_seconds,
            bans,
        })
    }
}

/// The reading as a whole, and what every group's tests start from.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::permissions::{Permission, TokenRoles};
    use crate::test_support::settings_from_pairs as settings;
    use crate::videosdk::DEFAULT_VIDEOSDK_API_ENDPOINT;

    pub(super) fn error_variable(pairs: &[(&str, &str)]) -> &'static str {
        settings(pairs).unwrap_err().variable
    }

    /// Development credentials: the least a valid configuration holds.
    pub(super) const DEV: [(&str, &str); 2] = [
        ("VIDEOSDK_API_KEY", "key"),
        ("VIDEOSDK_SECRET_KEY", "secret"),
    ];

    /// The settings of [`DEV`] and `extra`.
    pub(super) fn dev_and(extra: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let mut pairs: Vec<(&str, &str)> = DEV.to_vec();
        pairs.extend_from_slice(extra);
        settings(&pairs)
    }

    #[test]
    fn defaults_follow_the_contract() {
        let settings = settings(&DEV).unwrap();
        assert_eq!(settings.policy.ttl_seconds, 600);
        assert_eq!(settings.policy.room_ttl_seconds, 600);
        assert!(settings.bans.is_none());
        assert_eq!(
            settings.policy.default_permissions.to_vec(),
            [Permission::AllowJoin]
        );
        assert!(
            settings
                .policy
                .allowed_permissions
                .contains(Permission::AskJoin)
        );
        assert!(
            !settings
                .policy
                .allowed_permissions
                .contains(Permission::AllowMod)
        );
        assert_eq!(settings.cors, CorsPolicy::AnyOrigin);
        assert_eq!(settings.secret_refresh_seconds, 300);
        assert_eq!(settings.policy.roles, TokenRoles::participant());
        assert_eq!(
            settings.meeting_backend,
            MeetingBackendKind::VideoSdk {
                endpoint: DEFAULT_VIDEOSDK_API_ENDPOINT.into(),
                allow_client_webhooks: false,
                allowed_room_options: Vec::new(),
                room_webhook: None,
            }
        );
        assert!(settings.webhook_public_key.is_none() && settings.event_bus.is_none());
        assert!(matches!(
            settings.secret_source,
            SecretSource::Environment(_)
        ));
    }

    #[test]
    fn bad_values_name_their_variable() {
        let with = |name, value| dev_and(&[(name, value)]).unwrap_err().variable;
        for ttl in ["0", "86401", "-5", "10m", "1.5"] {
            assert_eq!(with("TOKEN_TTL_SECONDS", ttl), "TOKEN_TTL_SECONDS", "{ttl}");
        }
        assert_eq!(
            with("ALLOWED_PERMISSIONS", "allow_join,root"),
            "ALLOWED_PERMISSIONS"
        );
        assert_eq!(
            with("DEFAULT_PERMISSIONS", "allow_mod"),
            "DEFAULT_PERMISSIONS"
        );
        assert_eq!(
            with("DEFAULT_PERMISSIONS", "ask_join,allow_join"),
            "DEFAULT_PERMISSIONS"
        );
        assert_eq!(with("ALLOWED_ORIGINS", "example.com"), "ALLOWED_ORIGINS");
        assert_eq!(
            with("SECRET_REFRESH_SECONDS", "soon"),
            "SECRET_REFRESH_SECONDS"
        );
        assert_eq!(
            with("SECRET_REFRESH_SECONDS", "86401"),
            "SECRET_REFRESH_SECONDS"
        );
        for refetch in ["3601", "-1", "soon"] {
            assert_eq!(
                with("WEBHOOK_KEY_REFETCH_SECONDS", refetch),
                "WEBHOOK_KEY_REFETCH_SECONDS"
            );
        }
        assert_eq!(with("TOKEN_ROLES", "rtc,admin"), "TOKEN_ROLES");
        for ttl in ["0", "86401", "soon"] {
            assert_eq!(
                with("ROOM_TOKEN_TTL_SECONDS", ttl),
                "ROOM_TOKEN_TTL_SECONDS",
                "{ttl}"
            );
        }
        let room_ttl = |pairs: &[(&str, &str)]| dev_and(pairs).unwrap().policy.room_ttl_seconds;
        assert_eq!(room_ttl(&[("ROOM_TOKEN_TTL_SECONDS", "120")]), 120);
        // Never longer than TOKEN_TTL_SECONDS (600 by default): it narrows the window only.
        assert_eq!(room_ttl(&[("ROOM_TOKEN_TTL_SECONDS", "601")]), 600);
        assert_eq!(
            room_ttl(&[
                ("ROOM_TOKEN_TTL_SECONDS", "86400"),
                ("TOKEN_TTL_SECONDS", "900")
            ]),
            900
        );
        assert_eq!(with("MEETING_BACKEND", "cloud"), "MEETING_BACKEND");
        assert_eq!(
            with("ALLOWED_ROOM_OPTIONS", "autoStartConfig,webhook"),
            "ALLOWED_ROOM_OPTIONS"
        );
    }
}
