//! The deployments a request meets, built once per process as a warm Lambda builds its state
//! once per cold start: the development account, the function states of each configuration
//! (offline, with the local meeting backend) and the one tokio runtime the handlers run on.

use std::collections::HashMap;
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use shared::backends::meetings::MeetingBackend;
use shared::backends::moderation::ModerationBackend;
use shared::domain::credentials::ApiCredentials;
use shared::domain::meeting_id::MeetingIdCodec;
use shared::domain::token::TokenKeys;
use shared::state::{Backend, State};
use shared::test_support::settings_from_pairs;

/// The account the `token_*` and `meeting_id_*` targets work for.
pub const API_KEY: &str = "k";
pub const SECRET: &str = "s";
/// The same account's secret before a rotation (the keyring's "previous" keys).
pub const PREVIOUS_SECRET: &str = "s-before-rotation";
/// A secret nobody here trusts.
pub const OTHER_SECRET: &str = "someone-elses-secret";
/// Origins the restricted deployment allows.
pub const ALLOWED_ORIGIN: &str = "https://app.example.com";
pub const LOCAL_ORIGIN: &str = "http://localhost:3000";

/// An API key and secret in plain text, to sign test tokens with.
#[derive(Debug, Clone)]
pub struct Account {
    pub api_key: String,
    pub secret: String,
}

impl Account {
    pub fn new(api_key: &str, secret: &str) -> Self {
        Self {
            api_key: api_key.to_owned(),
            secret: secret.to_owned(),
        }
    }

    pub fn credentials(&self) -> ApiCredentials {
        ApiCredentials::new(self.api_key.clone(), self.secret.clone())
    }

    /// The made-up development account of `dev/local.env`, which signed the tokens in `events/`
    /// (the seeds of `api_gateway_event`).
    pub fn development() -> Self {
        let text = include_str!("../../dev/local.env");
        let value = |name: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix('='))
                .map(|value| value.trim().to_owned())
                .unwrap_or_else(|| panic!("{name} missing from dev/local.env"))
        };
        Self {
            api_key: value("VIDEOSDK_API_KEY"),
            secret: value("VIDEOSDK_SECRET_KEY"),
        }
    }
}

/// Which configuration a request meets.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Deployment {
    /// The defaults: every origin, `allow_join,ask_join`, tokens for 600 s.
    Open,
    /// Two allowed origins, `allow_mod` allowed and in the defaults, tokens for a day, a fresh
    /// participant id for every token.
    Restricted,
    /// Behind the JWT authorizer: an identity required, `allow_mod` for moderators only.
    SignedIn,
}

impl Deployment {
    pub const ALL: [Deployment; 3] = [
        Deployment::Open,
        Deployment::Restricted,
        Deployment::SignedIn,
    ];

    fn settings(self) -> Vec<(&'static str, String)> {
        let allow_mod_allowed = (
            "ALLOWED_PERMISSIONS",
            "allow_join,ask_join,allow_mod".to_owned(),
        );
        match self {
            Self::Open => vec![],
            Self::Restricted => vec![
                (
                    "ALLOWED_ORIGINS",
                    format!("{ALLOWED_ORIGIN},{LOCAL_ORIGIN}"),
                ),
                allow_mod_allowed,
                ("DEFAULT_PERMISSIONS", "allow_join,allow_mod".to_owned()),
                ("TOKEN_TTL_SECONDS", "86400".to_owned()),
                ("ANONYMOUS_PARTICIPANT_IDS", "generate".to_owned()),
            ],
            Self::SignedIn => vec![
                allow_mod_allowed,
                ("MODERATOR_GROUPS", MODERATOR_GROUP.to_owned()),
                ("MODERATOR_SCOPES", MODERATOR_SCOPE.to_owned()),
                ("REQUIRE_IDENTITY", "true".to_owned()),
            ],
        }
    }

    /// Whether it names its moderators (`MODERATOR_GROUPS`, `MODERATOR_SCOPES`): without, every
    /// caller may moderate, and `ROOM_CREATORS=moderators` is refused as meaningless.
    pub fn names_moderators(self) -> bool {
        self == Self::SignedIn
    }
}

/// `ROOM_CREATORS`, or left unset.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoomCreators {
    Unset,
    Everyone,
    Moderators,
    Nobody,
}

impl RoomCreators {
    pub const ALL: [RoomCreators; 4] = [
        RoomCreators::Unset,
        RoomCreators::Everyone,
        RoomCreators::Moderators,
        RoomCreators::Nobody,
    ];

    fn setting(self) -> Option<&'static str> {
        match self {
            Self::Unset => None,
            Self::Everyone => Some("everyone"),
            Self::Moderators => Some("moderators"),
            Self::Nobody => Some("nobody"),
        }
    }
}

/// Built once per process, as a warm Lambda builds its state once per cold start.
pub struct Fixtures {
    pub account: Account,
    /// A state for every deployment and `ROOM_CREATORS` it takes.
    states: HashMap<(Deployment, RoomCreators), State<MeetingBackend>>,
    /// The moderation function's state in every deployment (`ROOM_CREATORS` unset: it creates
    /// no rooms), with no bans table: bans live in DynamoDB, which no fuzz target reaches.
    moderation_states: HashMap<Deployment, State<ModerationBackend>>,
    /// The development account's keys, to sign tokens the states accept and check their tokens.
    pub keys: TokenKeys,
    /// The same API key with another secret.
    pub other_keys: TokenKeys,
    pub meeting_ids: MeetingIdCodec,
    pub other_meeting_ids: MeetingIdCodec,
    runtime: tokio::runtime::Runtime,
}

impl Fixtures {
    /// The deployment as the routes other than join see it (`ROOM_CREATORS` unset).
    pub fn state(&self, deployment: Deployment) -> &State<MeetingBackend> {
        &self.states[&(deployment, RoomCreators::Unset)]
    }

    /// The deployment with `may_create`, or `None` where it refuses that setting.
    pub fn join_state(
        &self,
        deployment: Deployment,
        may_create: RoomCreators,
    ) -> Option<&State<MeetingBackend>> {
        self.states.get(&(deployment, may_create))
    }

    /// The moderation function in `deployment`.
    pub fn moderation_state(&self, deployment: Deployment) -> &State<ModerationBackend> {
        &self.moderation_states[&deployment]
    }

    /// Runs a handler to completion on the one current-thread runtime.
    pub fn run<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

pub fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let account = Account::development();
        let credentials = account.credentials();
        let other = Account::new(&account.api_key, OTHER_SECRET).credentials();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let mut states = HashMap::new();
        let mut moderation_states = HashMap::new();
        for deployment in Deployment::ALL {
            let settings = deployment.settings();
            let pairs: Vec<(&str, &str)> = settings
                .iter()
                .map(|(name, value)| (*name, value.as_str()))
                .collect();
            moderation_states.insert(deployment, runtime.block_on(build_state(&account, &pairs)));
            for may_create in RoomCreators::ALL {
                if may_create == RoomCreators::Moderators && !deployment.names_moderators() {
                    continue;
                }
                let mut settings = deployment.settings();
                settings.extend(
                    may_create
                        .setting()
                        .map(|value| ("ROOM_CREATORS", value.to_owned())),
                );
                let pairs: Vec<(&str, &str)> = settings
                    .iter()
                    .map(|(name, value)| (*name, value.as_str()))
                    .collect();
                let state = runtime.block_on(build_state(&account, &pairs));
                states.insert((deployment, may_create), state);
            }
        }
        Fixtures {
            states,
            moderation_states,
            keys: TokenKeys::new(&credentials).expect("development keys"),
            other_keys: TokenKeys::new(&other).expect("other keys"),
            meeting_ids: MeetingIdCodec::new(&credentials),
            other_meeting_ids: MeetingIdCodec::new(&other),
            runtime,
            account,
        }
    })
}

async fn build_state<B: Backend>(account: &Account, pairs: &[(&str, &str)]) -> State<B> {
    let account_pairs = [
        ("VIDEOSDK_API_KEY", account.api_key.as_str()),
        ("VIDEOSDK_SECRET_KEY", account.secret.as_str()),
        // Offline: ids made and checked here, no call to VideoSDK.
        ("MEETING_BACKEND", "local"),
    ];
    let settings = settings_from_pairs(&[&account_pairs[..], pairs].concat())
        .expect("fuzz settings are valid");
    State::from_settings(settings)
        .await
        .expect("fuzz state builds")
}

/// Seconds since the epoch, as the token code reads the clock.
pub fn now() -> u64 {
    shared::domain::unix_now()
}

pub const MODERATOR_GROUP: &str = "moderators";
pub const MODERATOR_SCOPE: &str = "videosdk/moderate";
