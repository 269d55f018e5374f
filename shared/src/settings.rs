//! The environment variables the functions read once at start, checked before any request.

use crate::aws::environment::AwsEnvironment;
use crate::domain::auto_start::GatedOption;
use crate::domain::credentials::ApiCredentials;
use crate::domain::identity::{AnonymousIds, IdentityPolicy, JoinMayCreate};
use crate::domain::meetings::{is_webhook_url, webhook_events};
use crate::domain::permissions::{
    AllowedPermissions, Permission, PermissionSet, TokenPolicy, TokenRoles,
};
use crate::domain::webhooks::WebhookPublicKey;
use crate::http::cors::CorsPolicy;
pub use crate::tls::TEST_CA_VARIABLE;
use crate::videosdk::DEFAULT_VIDEOSDK_API_ENDPOINT;

const DEFAULT_TTL_SECONDS: u64 = 600;
const MAX_TTL_SECONDS: u64 = 86_400;
const DEFAULT_PERMISSIONS: &str = "allow_join";
const DEFAULT_ALLOWED_PERMISSIONS: &str = "allow_join,ask_join";
pub const DEFAULT_ALLOWED_ORIGINS: &str = "*";
const DEFAULT_SECRET_REFRESH_SECONDS: u64 = 300;
/// At most one fetch of VideoSDK's key per this many seconds after a failed signature
/// (`WEBHOOK_KEY_REFETCH_SECONDS`): a forgery costs VideoSDK one GET per interval, and a genuine
/// webhook signed with a key rotated within the interval is told to come back after it (429).
pub(crate) const DEFAULT_KEY_REFETCH_SECONDS: u64 = 30;
const DEFAULT_TOKEN_ROLES: &str = "rtc";

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
}

/// The EventBridge bus (name or ARN), the fallback queue (`WEBHOOK_FALLBACK_QUEUE_URL`, SQS)
/// and the AWS environment that reaches them.
#[derive(Debug, Clone)]
pub(crate) struct EventBusSettings {
    pub(crate) name: String,
    pub(crate) fallback_queue: Option<String>,
    pub(crate) aws: AwsEnvironment,
}

/// Which backend `MEETING_BACKEND` selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MeetingBackendKind {
    Local,
    VideoSdk {
        endpoint: String,
        /// `ALLOW_CLIENT_WEBHOOKS`: whether a caller may name a webhook URL for its room.
        allow_client_webhooks: bool,
        /// `ALLOWED_ROOM_OPTIONS`: the options that start paid work a caller may send.
        allowed_room_options: Vec<GatedOption>,
        /// `WEBHOOK_EVENTS` and `WEBHOOK_URL`: the webhook every room gets (unless its caller
        /// names one, where `ALLOW_CLIENT_WEBHOOKS` lets it).
        room_webhook: Option<OperatorWebhook>,
    },
}

/// The webhook the operator gives every new room: these events, sent to `url`, or, without one,
/// to this API's own webhook route on the domain the create request came in on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OperatorWebhook {
    pub(crate) events: Vec<String>,
    pub(crate) url: Option<String>,
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
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let get = |name: &str| {
            lookup(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };

        let secret_source = match get("VIDEOSDK_SECRET_ID") {
            Some(secret_id) => {
                let aws = AwsEnvironment::from_lookup(&lookup).map_err(|missing| {
                    SettingsError::new(
                        missing,
                        format!(
                            "not set, and needed to read secret {secret_id:?} (Lambda sets it \
                             for every function; elsewhere, export AWS credentials and a region)"
                        ),
                    )
                })?;
                SecretSource::SecretsManager { secret_id, aws }
            }
            None => {
                let secret_key = get("VIDEOSDK_SECRET_KEY").or_else(|| get("VIDEOSDK_SECRET"));
                match (get("VIDEOSDK_API_KEY"), secret_key) {
                    (Some(api_key), Some(secret_key)) => {
                        SecretSource::Environment(ApiCredentials::new(api_key, secret_key))
                    }
                    (None, None) => {
                        return Err(SettingsError::new(
                            "VIDEOSDK_SECRET_ID",
                            "not set; set it to the Secrets Manager secret that holds the API \
                             key, or set VIDEOSDK_API_KEY and VIDEOSDK_SECRET_KEY for local \
                             development",
                        ));
                    }
                    (Some(_), None) => {
                        return Err(SettingsError::new(
                            "VIDEOSDK_SECRET_KEY",
                            "not set, but VIDEOSDK_API_KEY is; set both, or VIDEOSDK_SECRET_ID",
                        ));
                    }
                    (None, Some(_)) => {
                        return Err(SettingsError::new(
                            "VIDEOSDK_API_KEY",
                            "not set, but VIDEOSDK_SECRET_KEY is; set both, or VIDEOSDK_SECRET_ID",
                        ));
                    }
                }
            }
        };

        let seconds = |name: &'static str, default: u64, range: std::ops::RangeInclusive<u64>| {
            let Some(text) = get(name) else {
                return Ok(default);
            };
            match text.parse::<u64>() {
                Ok(value) if range.contains(&value) => Ok(value),
                _ => Err(SettingsError::new(
                    name,
                    format!(
                        "{text:?} is not a whole number of seconds from {} to {}",
                        range.start(),
                        range.end()
                    ),
                )),
            }
        };
        let ttl_seconds = seconds(
            "TOKEN_TTL_SECONDS",
            DEFAULT_TTL_SECONDS,
            1..=MAX_TTL_SECONDS,
        )?;
        let secret_refresh_seconds = seconds(
            "SECRET_REFRESH_SECONDS",
            DEFAULT_SECRET_REFRESH_SECONDS,
            0..=MAX_TTL_SECONDS,
        )?;
        let webhook_key_refetch_seconds = seconds(
            "WEBHOOK_KEY_REFETCH_SECONDS",
            DEFAULT_KEY_REFETCH_SECONDS,
            0..=3600,
        )?;

        let allowed_text =
            get("ALLOWED_PERMISSIONS").unwrap_or_else(|| DEFAULT_ALLOWED_PERMISSIONS.to_owned());
        let allowed_permissions = AllowedPermissions::parse_list(&allowed_text)
            .map_err(|error| SettingsError::new("ALLOWED_PERMISSIONS", error.to_string()))?;

        let default_text =
            get("DEFAULT_PERMISSIONS").unwrap_or_else(|| DEFAULT_PERMISSIONS.to_owned());
        let default_permissions = PermissionSet::parse_list(&default_text)
            .map_err(|error| SettingsError::new("DEFAULT_PERMISSIONS", error.to_string()))?;
        if let Some(refused) = default_permissions
            .iter()
            .find(|permission| !allowed_permissions.contains(*permission))
        {
            return Err(SettingsError::new(
                "DEFAULT_PERMISSIONS",
                format!("{refused} is not in ALLOWED_PERMISSIONS ({allowed_text})"),
            ));
        }

        let origins_text =
            get("ALLOWED_ORIGINS").unwrap_or_else(|| DEFAULT_ALLOWED_ORIGINS.to_owned());
        let cors = CorsPolicy::parse(&origins_text)
            .map_err(|reason| SettingsError::new("ALLOWED_ORIGINS", reason))?;

        let roles_text = get("TOKEN_ROLES").unwrap_or_else(|| DEFAULT_TOKEN_ROLES.to_owned());
        let roles = TokenRoles::parse_list(&roles_text)
            .map_err(|error| SettingsError::new("TOKEN_ROLES", error.to_string()))?;

        let flag = |name: &'static str| match get(name) {
            None => Ok(false),
            Some(flag) if flag.eq_ignore_ascii_case("true") => Ok(true),
            Some(flag) if flag.eq_ignore_ascii_case("false") => Ok(false),
            Some(other) => Err(SettingsError::new(
                name,
                format!("{other:?} is neither true nor false"),
            )),
        };
        let allow_client_webhooks = flag("ALLOW_CLIENT_WEBHOOKS")?;
        let identity = identity_policy(&get, flag("REQUIRE_IDENTITY")?)?;
        if identity.restricts_moderation() {
            let variable = if identity.moderator_groups.is_empty() {
                "MODERATOR_SCOPES"
            } else {
                "MODERATOR_GROUPS"
            };
            if !allowed_permissions.contains(Permission::AllowMod) {
                return Err(SettingsError::new(
                    variable,
                    format!(
                        "set, but ALLOWED_PERMISSIONS ({allowed_text}) has no allow_mod for \
                         moderators to get; add it"
                    ),
                ));
            }
            if default_permissions.contains(Permission::AllowMod) {
                return Err(SettingsError::new(
                    "DEFAULT_PERMISSIONS",
                    format!(
                        "has allow_mod, but {variable} keeps it for moderators; leave it out \
                         (moderators ask for it)"
                    ),
                ));
            }
        }

        let allowed_room_options = allowed_room_options(get("ALLOWED_ROOM_OPTIONS"))?;

        let endpoint = get("VIDEOSDK_API_ENDPOINT")
            .unwrap_or_else(|| DEFAULT_VIDEOSDK_API_ENDPOINT.to_owned());
        let valid = (endpoint.starts_with("https://") || endpoint.starts_with("http://"))
            && url::Url::parse(&endpoint).is_ok();
        if !valid {
            return Err(SettingsError::new(
                "VIDEOSDK_API_ENDPOINT",
                format!("{endpoint:?} is not an http(s) URL"),
            ));
        }

        let room_webhook = operator_webhook(get("WEBHOOK_EVENTS"), get("WEBHOOK_URL"))?;
        let meeting_backend = match get("MEETING_BACKEND").as_deref() {
            Some("local") => {
                if room_webhook.is_some() {
                    return Err(SettingsError::new(
                        "WEBHOOK_EVENTS",
                        "set, but MEETING_BACKEND is local, which creates no VideoSDK room to \
                         carry a webhook; use MEETING_BACKEND=videosdk or clear WEBHOOK_EVENTS",
                    ));
                }
                MeetingBackendKind::Local
            }
            None | Some("videosdk") => MeetingBackendKind::VideoSdk {
                endpoint: endpoint.clone(),
                allow_client_webhooks,
                allowed_room_options,
                room_webhook,
            },
            Some(other) => {
                return Err(SettingsError::new(
                    "MEETING_BACKEND",
                    format!("{other:?} is neither local nor videosdk"),
                ));
            }
        };

        let webhook_public_key = get("VIDEOSDK_WEBHOOK_PUBLIC_KEY")
            .map(|pem| WebhookPublicKey::from_pem(&pem))
            .transpose()
            .map_err(|error| {
                SettingsError::new("VIDEOSDK_WEBHOOK_PUBLIC_KEY", format!("{error}"))
            })?;

        let event_bus = match get("EVENT_BUS_NAME") {
            None => None,
            Some(name) => {
                let valid = (1..=1600).contains(&name.len())
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._/:-".contains(&b));
                if !valid {
                    return Err(SettingsError::new(
                        "EVENT_BUS_NAME",
                        "not an EventBridge bus name or ARN (letters, digits, '.', '_', '/', \
                         ':' and '-')",
                    ));
                }
                let aws = AwsEnvironment::from_lookup(&lookup).map_err(|missing| {
                    SettingsError::new(
                        missing,
                        format!(
                            "not set, and needed to reach EventBridge bus {name:?} (Lambda sets \
                             it for every function; elsewhere, export AWS credentials and a \
                             region)"
                        ),
                    )
                })?;
                let fallback_queue = get("WEBHOOK_FALLBACK_QUEUE_URL");
                if let Some(url) = &fallback_queue
                    && !(url.starts_with("https://") || url.starts_with("http://"))
                {
                    return Err(SettingsError::new(
                        "WEBHOOK_FALLBACK_QUEUE_URL",
                        "not an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)",
                    ));
                }
                Some(EventBusSettings {
                    name,
                    fallback_queue,
                    aws,
                })
            }
        };

        Ok(Self {
            secret_source,
            policy: TokenPolicy {
                ttl_seconds,
                default_permissions,
                allowed_permissions,
                roles,
            },
            identity,
            cors,
            secret_refresh_seconds,
            meeting_backend,
            videosdk_endpoint: endpoint,
            webhook_public_key,
            event_bus,
            webhook_key_refetch_seconds,
        })
    }
}

/// `IDENTITY_CLAIM`, `GROUPS_CLAIM`, `MODERATOR_GROUPS`, `MODERATOR_SCOPES`,
/// `ANONYMOUS_PARTICIPANT_IDS`, and `REQUIRE_IDENTITY` as read.
fn identity_policy(
    get: &impl Fn(&str) -> Option<String>,
    require_identity: bool,
) -> Result<IdentityPolicy, SettingsError> {
    let defaults = IdentityPolicy::default();
    let claim = |name: &'static str, default: String| match get(name) {
        None => Ok(default),
        Some(claim) if claim.chars().any(char::is_whitespace) || claim.len() > 256 => Err(
            SettingsError::new(name, format!("{claim:?} is not a claim name")),
        ),
        Some(claim) => Ok(claim),
    };
    let list = |name: &'static str| -> Result<Vec<String>, SettingsError> {
        let items: Vec<String> = get(name)
            .iter()
            .flat_map(|list| list.split(','))
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect();
        match items
            .iter()
            .find(|item| item.chars().any(char::is_whitespace))
        {
            Some(bad) => Err(SettingsError::new(
                name,
                format!("{bad:?} holds whitespace, which no group or scope name does"),
            )),
            None => Ok(items),
        }
    };
    let anonymous_ids = match get("ANONYMOUS_PARTICIPANT_IDS").as_deref() {
        None | Some("caller") => AnonymousIds::CallerChosen,
        Some("generate") => AnonymousIds::Generated,
        Some(other) => {
            return Err(SettingsError::new(
                "ANONYMOUS_PARTICIPANT_IDS",
                format!("{other:?} is neither caller nor generate"),
            ));
        }
    };
    let join_may_create = match get("JOIN_MAY_CREATE").as_deref() {
        None | Some("everyone") => JoinMayCreate::Everyone,
        Some("moderators") => JoinMayCreate::Moderators,
        Some("nobody") => JoinMayCreate::Nobody,
        Some(other) => {
            return Err(SettingsError::new(
                "JOIN_MAY_CREATE",
                format!("{other:?} is not everyone, moderators or nobody"),
            ));
        }
    };
    let policy = IdentityPolicy {
        identity_claim: claim("IDENTITY_CLAIM", defaults.identity_claim)?,
        groups_claim: claim("GROUPS_CLAIM", defaults.groups_claim)?,
        moderator_groups: list("MODERATOR_GROUPS")?,
        moderator_scopes: list("MODERATOR_SCOPES")?,
        require_identity,
        anonymous_ids,
        join_may_create,
    };
    // Without moderator groups or scopes every caller may moderate: `moderators` would quietly
    // mean everyone.
    if join_may_create == JoinMayCreate::Moderators && !policy.restricts_moderation() {
        return Err(SettingsError::new(
            "JOIN_MAY_CREATE",
            "moderators, but neither MODERATOR_GROUPS nor MODERATOR_SCOPES says who they are",
        ));
    }
    Ok(policy)
}

/// `ALLOWED_ROOM_OPTIONS`: a comma list of the create-meeting options, by their body names, that
/// start paid work and that callers may send (none by default).
fn allowed_room_options(list: Option<String>) -> Result<Vec<GatedOption>, SettingsError> {
    let mut options = Vec::new();
    for name in list
        .iter()
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        let option = GatedOption::parse(name).ok_or_else(|| {
            use strum::IntoEnumIterator;
            let known: Vec<&str> = GatedOption::iter().map(GatedOption::name).collect();
            SettingsError::new(
                "ALLOWED_ROOM_OPTIONS",
                format!(
                    "{:?} is not an option it governs ({})",
                    name.chars().take(70).collect::<String>(),
                    known.join(", ")
                ),
            )
        })?;
        if !options.contains(&option) {
            options.push(option);
        }
    }
    Ok(options)
}

/// `WEBHOOK_EVENTS` (a comma list of VideoSDK event names; empty: no webhook) and `WEBHOOK_URL`
/// (an https URL; empty: the API's own domain, request by request).
fn operator_webhook(
    events: Option<String>,
    url: Option<String>,
) -> Result<Option<OperatorWebhook>, SettingsError> {
    let events: Vec<String> = events
        .iter()
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    webhook_events(&events).map_err(|why| SettingsError::new("WEBHOOK_EVENTS", why))?;
    if let Some(url) = &url
        && !is_webhook_url(url)
    {
        return Err(SettingsError::new(
            "WEBHOOK_URL",
            "not an https:// URL of at most 512 characters",
        ));
    }
    match (events.is_empty(), url) {
        (true, None) => Ok(None),
        (true, Some(_)) => Err(SettingsError::new(
            "WEBHOOK_URL",
            "set, but WEBHOOK_EVENTS is empty, so no room would carry a webhook; set \
             WEBHOOK_EVENTS too, or clear WEBHOOK_URL",
        )),
        (false, url) => Ok(Some(OperatorWebhook { events, url })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::permissions::Permission;
    use crate::test_support::settings_from_pairs as settings;

    fn error_variable(pairs: &[(&str, &str)]) -> &'static str {
        settings(pairs).unwrap_err().variable
    }

    const DEV: [(&str, &str); 2] = [
        ("VIDEOSDK_API_KEY", "key"),
        ("VIDEOSDK_SECRET_KEY", "secret"),
    ];

    #[test]
    fn defaults_follow_the_contract() {
        let settings = settings(&DEV).unwrap();
        assert_eq!(settings.policy.ttl_seconds, 600);
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

    #[test]
    fn bad_values_name_their_variable() {
        let with = |name, value| {
            let mut pairs = DEV.to_vec();
            pairs.push((name, value));
            error_variable(&pairs)
        };
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
        assert_eq!(with("MEETING_BACKEND", "cloud"), "MEETING_BACKEND");
        assert_eq!(
            with("ALLOWED_ROOM_OPTIONS", "autoStartConfig,webhook"),
            "ALLOWED_ROOM_OPTIONS"
        );
    }

    #[test]
    fn allowed_room_options_are_none_by_default_and_named_as_in_the_body() {
        let consent = |pairs: &[(&'static str, &'static str)]| {
            let mut all = DEV.to_vec();
            all.extend_from_slice(pairs);
            match settings(&all).unwrap().meeting_backend {
                MeetingBackendKind::VideoSdk {
                    allowed_room_options,
                    ..
                } => allowed_room_options,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(consent(&[]), []);
        assert_eq!(
            consent(&[(
                "ALLOWED_ROOM_OPTIONS",
                " multiComposition , autoStartConfig,multiComposition"
            )]),
            [GatedOption::MultiComposition, GatedOption::AutoStartConfig]
        );
    }

    #[test]
    fn the_videosdk_backend_takes_an_endpoint_and_the_webhook_switch() {
        let mut pairs = DEV.to_vec();
        pairs.push(("MEETING_BACKEND", "local"));
        assert_eq!(
            settings(&pairs).unwrap().meeting_backend,
            MeetingBackendKind::Local
        );
        let mut pairs = DEV.to_vec();
        pairs.extend([
            ("MEETING_BACKEND", "videosdk"),
            ("ALLOW_CLIENT_WEBHOOKS", "TRUE"),
            ("VIDEOSDK_API_ENDPOINT", "http://127.0.0.1:9"),
        ]);
        assert_eq!(
            settings(&pairs).unwrap().meeting_backend,
            MeetingBackendKind::VideoSdk {
                endpoint: "http://127.0.0.1:9".into(),
                allow_client_webhooks: true,
                allowed_room_options: Vec::new(),
                room_webhook: None,
            }
        );
        let mut pairs = DEV.to_vec();
        pairs.push(("ALLOW_CLIENT_WEBHOOKS", "yes"));
        assert_eq!(
            settings(&pairs).unwrap_err().variable,
            "ALLOW_CLIENT_WEBHOOKS"
        );
        let mut pairs = DEV.to_vec();
        pairs.push(("VIDEOSDK_API_ENDPOINT", "ftp://example.com"));
        assert_eq!(
            settings(&pairs).unwrap_err().variable,
            "VIDEOSDK_API_ENDPOINT"
        );
    }

    #[test]
    fn operator_webhooks_take_valid_events_and_an_https_url() {
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut pairs = DEV.to_vec();
            pairs.extend_from_slice(extra);
            settings(&pairs)
        };
        let room_webhook = |settings: Settings| match settings.meeting_backend {
            MeetingBackendKind::VideoSdk { room_webhook, .. } => room_webhook,
            MeetingBackendKind::Local => panic!("the videosdk backend"),
        };
        assert_eq!(
            room_webhook(with(&[("WEBHOOK_EVENTS", " ")]).unwrap()),
            None
        );
        assert_eq!(
            room_webhook(
                with(&[(
                    "WEBHOOK_EVENTS",
                    "session-started, session-ended,,recording-*"
                )])
                .unwrap()
            ),
            Some(OperatorWebhook {
                events: vec![
                    "session-started".into(),
                    "session-ended".into(),
                    "recording-*".into()
                ],
                url: None
            })
        );
        assert_eq!(
            room_webhook(
                with(&[
                    ("WEBHOOK_EVENTS", "session-ended"),
                    ("WEBHOOK_URL", "https://hooks.example.com/videosdk-webhook")
                ])
                .unwrap()
            )
            .and_then(|webhook| webhook.url)
            .as_deref(),
            Some("https://hooks.example.com/videosdk-webhook")
        );
        for (pairs, variable) in [
            (
                &[("WEBHOOK_EVENTS", "session started")][..],
                "WEBHOOK_EVENTS",
            ),
            (&[("WEBHOOK_EVENTS", "a,b/c")], "WEBHOOK_EVENTS"),
            (&[("WEBHOOK_EVENTS", "session-begun")], "WEBHOOK_EVENTS"),
            (
                &[("WEBHOOK_EVENTS", "session-ended,session-ended")],
                "WEBHOOK_EVENTS",
            ),
            (
                &[
                    ("WEBHOOK_EVENTS", "session-ended"),
                    ("WEBHOOK_URL", "http://x.example"),
                ],
                "WEBHOOK_URL",
            ),
            (&[("WEBHOOK_URL", "https://x.example")], "WEBHOOK_URL"),
            (
                &[
                    ("WEBHOOK_EVENTS", "session-ended"),
                    ("MEETING_BACKEND", "local"),
                ],
                "WEBHOOK_EVENTS",
            ),
        ] {
            assert_eq!(with(pairs).unwrap_err().variable, variable, "{pairs:?}");
        }
        // Every event VideoSDK documents, more than the 32 once taken as its limit, and patterns.
        let every = crate::domain::meetings::VIDEOSDK_WEBHOOK_EVENTS.join(",") + ",*,hls-*";
        let mut pairs = DEV.to_vec();
        pairs.push(("WEBHOOK_EVENTS", &every));
        let webhook = room_webhook(settings(&pairs).unwrap()).unwrap();
        assert_eq!(webhook.events.len(), 38);
        let error = with(&[("WEBHOOK_EVENTS", "session-begun")]).unwrap_err();
        assert!(
            error.reason.contains("session-begun") && error.reason.contains("create-room"),
            "names the entry and the page: {error}"
        );
    }

    #[test]
    fn the_event_bus_needs_a_valid_name_and_the_aws_environment() {
        let mut pairs = DEV.to_vec();
        pairs.push(("EVENT_BUS_NAME", "videosdk-events"));
        assert_eq!(settings(&pairs).unwrap_err().variable, "AWS_ACCESS_KEY_ID");
        pairs.extend([
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_REGION", "eu-west-1"),
        ]);
        let bus = settings(&pairs).unwrap().event_bus.expect("a bus");
        assert_eq!(bus.name, "videosdk-events");
        let arn = "arn:aws:events:eu-west-1:123456789012:event-bus/videosdk-events";
        pairs[2] = ("EVENT_BUS_NAME", arn);
        assert_eq!(settings(&pairs).unwrap().event_bus.unwrap().name, arn);
        pairs[2] = ("EVENT_BUS_NAME", "no spaces please");
        assert_eq!(settings(&pairs).unwrap_err().variable, "EVENT_BUS_NAME");
        pairs[2] = ("EVENT_BUS_NAME", "videosdk-events");
        assert_eq!(
            settings(&pairs).unwrap().event_bus.unwrap().fallback_queue,
            None
        );
        let url = "https://sqs.eu-west-1.amazonaws.com/123456789012/fallback";
        pairs.push(("WEBHOOK_FALLBACK_QUEUE_URL", url));
        assert_eq!(
            settings(&pairs)
                .unwrap()
                .event_bus
                .unwrap()
                .fallback_queue
                .as_deref(),
            Some(url)
        );
        let last = pairs.len() - 1;
        pairs[last] = ("WEBHOOK_FALLBACK_QUEUE_URL", "fallback");
        assert_eq!(
            settings(&pairs).unwrap_err().variable,
            "WEBHOOK_FALLBACK_QUEUE_URL"
        );
    }

    #[test]
    fn a_pinned_webhook_key_must_be_an_rsa_public_key() {
        let mut pairs = DEV.to_vec();
        pairs.push(("VIDEOSDK_WEBHOOK_PUBLIC_KEY", "not a key"));
        let error = settings(&pairs).unwrap_err();
        assert_eq!(error.variable, "VIDEOSDK_WEBHOOK_PUBLIC_KEY");
        assert!(error.reason.contains("PEM"), "{error}");
    }

    #[test]
    fn identity_settings_default_to_the_anonymous_seed_behaviour() {
        let identity = settings(&DEV).unwrap().identity;
        assert_eq!(identity, IdentityPolicy::default());
        assert_eq!(identity.identity_claim, "sub");
        assert_eq!(identity.groups_claim, "cognito:groups");
        assert!(!identity.require_identity && !identity.restricts_moderation());
        assert_eq!(identity.anonymous_ids, AnonymousIds::CallerChosen);
    }

    #[test]
    fn identity_settings_are_read_and_checked() {
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut pairs = DEV.to_vec();
            pairs.extend_from_slice(extra);
            settings(&pairs)
        };
        let identity = with(&[
            ("IDENTITY_CLAIM", "email"),
            ("GROUPS_CLAIM", "groups"),
            ("MODERATOR_GROUPS", "moderators, hosts"),
            ("MODERATOR_SCOPES", "videosdk/moderate"),
            ("REQUIRE_IDENTITY", "TRUE"),
            ("ANONYMOUS_PARTICIPANT_IDS", "generate"),
            ("ALLOWED_PERMISSIONS", "allow_join,allow_mod"),
            ("JOIN_MAY_CREATE", "moderators"),
        ])
        .unwrap()
        .identity;
        assert_eq!(
            identity,
            IdentityPolicy {
                identity_claim: "email".into(),
                groups_claim: "groups".into(),
                moderator_groups: vec!["moderators".into(), "hosts".into()],
                moderator_scopes: vec!["videosdk/moderate".into()],
                require_identity: true,
                anonymous_ids: AnonymousIds::Generated,
                join_may_create: JoinMayCreate::Moderators,
            }
        );
        for (pairs, variable) in [
            (&[("REQUIRE_IDENTITY", "yes")][..], "REQUIRE_IDENTITY"),
            (
                &[("ANONYMOUS_PARTICIPANT_IDS", "random")],
                "ANONYMOUS_PARTICIPANT_IDS",
            ),
            (&[("IDENTITY_CLAIM", "user id")], "IDENTITY_CLAIM"),
            (&[("JOIN_MAY_CREATE", "admins")], "JOIN_MAY_CREATE"),
            // Moderators may create, but no one says who moderators are.
            (&[("JOIN_MAY_CREATE", "moderators")], "JOIN_MAY_CREATE"),
            // Moderators with nothing to moderate with, or everyone a moderator by default.
            (&[("MODERATOR_GROUPS", "moderators")], "MODERATOR_GROUPS"),
            (
                &[("MODERATOR_SCOPES", "videosdk/moderate")],
                "MODERATOR_SCOPES",
            ),
            (
                &[
                    ("MODERATOR_GROUPS", "moderators"),
                    ("ALLOWED_PERMISSIONS", "allow_join,allow_mod"),
                    ("DEFAULT_PERMISSIONS", "allow_join,allow_mod"),
                ],
                "DEFAULT_PERMISSIONS",
            ),
        ] {
            assert_eq!(with(pairs).unwrap_err().variable, variable, "{pairs:?}");
        }
    }

    #[test]
    fn operators_can_opt_in_to_moderators_and_longer_tokens() {
        let mut pairs = DEV.to_vec();
        pairs.extend([
            ("ALLOWED_PERMISSIONS", "allow_join,allow_mod"),
            ("DEFAULT_PERMISSIONS", "allow_join,allow_mod"),
            ("TOKEN_TTL_SECONDS", "86400"),
            ("ALLOWED_ORIGINS", "https://app.example"),
        ]);
        let settings = settings(&pairs).unwrap();
        assert_eq!(settings.policy.ttl_seconds, 86_400);
        assert!(
            settings
                .policy
                .default_permissions
                .contains(Permission::AllowMod)
        );
        assert!(settings.cors.allows("https://app.example"));
        assert!(!settings.cors.allows("https://other.example"));
    }
}
