//! What the fuzz targets share: the function state and a tokio runtime built once (as a warm
//! Lambda has them), generators that turn fuzz bytes into JWTs and requests that get past
//! base64, JSON and signatures, and the invariants every answer must keep.

// The input enums are built once per run by `arbitrary`, never stored in bulk: their size does
// not matter, and boxing their variants would only make the generators harder to read.
#![allow(clippy::large_enum_variant)]

use std::collections::HashMap;
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_http::http::header::{AUTHORIZATION, CONTENT_TYPE, ORIGIN};
use lambda_http::http::{self, Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use ring::hmac;
use serde_json::{Map, Value, json};
use shared::aws::lambda::into_request;
use shared::backends::meetings::MeetingBackend;
use shared::domain::credentials::ApiCredentials;
use shared::domain::meeting_id::MeetingIdCodec;
use shared::domain::permissions::Permission;
use shared::domain::token::{Claims, TokenError, TokenKeys};
use shared::http::error::ErrorCode;
use shared::http::request::MAX_BODY_BYTES;
use shared::routes;
use shared::settings::Settings;
use shared::state::State;

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
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deployment {
    /// The defaults: every origin, `allow_join,ask_join`, tokens for 600 s.
    Open,
    /// Two allowed origins, `allow_mod` allowed and in the defaults, tokens for a day, a fresh
    /// participant id for every token.
    Restricted,
    /// Behind the JWT authorizer: an identity required, `allow_mod` for moderators only.
    SignedIn,
}

/// Built once per process, as a warm Lambda builds its state once per cold start.
pub struct Fixtures {
    pub account: Account,
    open: State<MeetingBackend>,
    restricted: State<MeetingBackend>,
    signed_in: State<MeetingBackend>,
    /// The development account's keys, to sign tokens the states accept and check their tokens.
    pub keys: TokenKeys,
    /// The same API key with another secret.
    pub other_keys: TokenKeys,
    pub meeting_ids: MeetingIdCodec,
    pub other_meeting_ids: MeetingIdCodec,
    runtime: tokio::runtime::Runtime,
}

impl Fixtures {
    pub fn state(&self, deployment: Deployment) -> &State<MeetingBackend> {
        match deployment {
            Deployment::Open => &self.open,
            Deployment::Restricted => &self.restricted,
            Deployment::SignedIn => &self.signed_in,
        }
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
        Fixtures {
            open: runtime.block_on(build_state(&account, &[])),
            restricted: runtime.block_on(build_state(
                &account,
                &[
                    (
                        "ALLOWED_ORIGINS",
                        &format!("{ALLOWED_ORIGIN},{LOCAL_ORIGIN}"),
                    ),
                    ("ALLOWED_PERMISSIONS", "allow_join,ask_join,allow_mod"),
                    ("DEFAULT_PERMISSIONS", "allow_join,allow_mod"),
                    ("TOKEN_TTL_SECONDS", "86400"),
                    ("ANONYMOUS_PARTICIPANT_IDS", "generate"),
                ],
            )),
            signed_in: runtime.block_on(build_state(
                &account,
                &[
                    ("ALLOWED_PERMISSIONS", "allow_join,ask_join,allow_mod"),
                    ("MODERATOR_GROUPS", MODERATOR_GROUP),
                    ("MODERATOR_SCOPES", MODERATOR_SCOPE),
                    ("REQUIRE_IDENTITY", "true"),
                ],
            )),
            keys: TokenKeys::new(&credentials).expect("development keys"),
            other_keys: TokenKeys::new(&other).expect("other keys"),
            meeting_ids: MeetingIdCodec::new(&credentials),
            other_meeting_ids: MeetingIdCodec::new(&other),
            runtime,
            account,
        }
    })
}

async fn build_state(account: &Account, pairs: &[(&str, &str)]) -> State<MeetingBackend> {
    let settings = Settings::from_lookup(|name| match name {
        "VIDEOSDK_API_KEY" => Some(account.api_key.clone()),
        "VIDEOSDK_SECRET_KEY" => Some(account.secret.clone()),
        _ => pairs
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
            // Offline: ids made and checked here, no call to VideoSDK.
            .or_else(|| (name == "MEETING_BACKEND").then(|| "local".to_owned())),
    })
    .expect("fuzz settings are valid");
    State::from_settings(settings)
        .await
        .expect("fuzz state builds")
}

/// Seconds since the epoch, as the token code reads the clock.
pub fn now() -> u64 {
    shared::domain::unix_now()
}

// ---------------------------------------------------------------------------------------------
// JSON values and JWTs

/// A JSON value of any type, for fields that should hold something else.
#[derive(Arbitrary, Debug, Clone)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Unsigned(u64),
    Float(f64),
    Text(String),
    List(Vec<String>),
    Object(Vec<(String, String)>),
}

impl Scalar {
    pub fn value(&self) -> Value {
        match self {
            Self::Null => Value::Null,
            Self::Bool(value) => json!(value),
            Self::Int(value) => json!(value),
            Self::Unsigned(value) => json!(value),
            // NaN and infinities become null, as serde_json writes them.
            Self::Float(value) => json!(value),
            Self::Text(value) => json!(value),
            Self::List(values) => json!(values),
            Self::Object(pairs) => Value::Object(
                pairs
                    .iter()
                    .map(|(key, value)| (key.clone(), json!(value)))
                    .collect(),
            ),
        }
    }
}

/// JSON of any shape for the registered claims jsonwebtoken reads (`sub`, `iss`, `aud`, ...):
/// scalars, arrays, objects, and arrays nested up to 255 deep, around serde_json's recursion
/// limit of 128.
#[derive(Arbitrary, Debug, Clone)]
pub enum Json {
    Scalar(Scalar),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
    Nested(u8, Box<Json>),
}

impl Json {
    pub fn text(&self) -> String {
        match self {
            Self::Scalar(scalar) => scalar.value().to_string(),
            Self::Array(items) => {
                let items: Vec<String> = items.iter().map(Json::text).collect();
                format!("[{}]", items.join(","))
            }
            Self::Object(members) => {
                let members: Vec<String> = members
                    .iter()
                    .map(|(key, value)| format!("{}:{}", json!(key), value.text()))
                    .collect();
                format!("{{{}}}", members.join(","))
            }
            Self::Nested(depth, inner) => format!(
                "{}{}{}",
                "[".repeat(usize::from(*depth)),
                inner.text(),
                "]".repeat(usize::from(*depth))
            ),
        }
    }
}

/// A claim name a payload may hold twice.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum ClaimName {
    Apikey,
    Exp,
    Nbf,
    Iat,
    Sub,
    Iss,
    Aud,
    Jti,
    Permissions,
    Roles,
    Version,
    RoomId,
    ParticipantId,
}

impl ClaimName {
    fn text(self) -> &'static str {
        match self {
            Self::Apikey => "apikey",
            Self::Exp => "exp",
            Self::Nbf => "nbf",
            Self::Iat => "iat",
            Self::Sub => "sub",
            Self::Iss => "iss",
            Self::Aud => "aud",
            Self::Jti => "jti",
            Self::Permissions => "permissions",
            Self::Roles => "roles",
            Self::Version => "version",
            Self::RoomId => "roomId",
            Self::ParticipantId => "participantId",
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Alg {
    Hs256,
    Hs384,
    Hs512,
    Rs256,
    Es256,
    EdDsa,
    None,
    NoneUpper,
    Lowercase,
    Other(String),
    NotAString(Scalar),
    Missing,
}

#[derive(Arbitrary, Debug, Clone)]
pub enum JwtHeader {
    /// Byte for byte the header every token issued here carries (`TokenKeys::verify` has a
    /// path of its own for it).
    Ours,
    Fields {
        alg: Alg,
        typ: Option<Scalar>,
        kid: Option<String>,
        extra: Vec<(String, Scalar)>,
    },
    Raw(Vec<u8>),
}

/// A time claim relative to the clock, or anything else.
#[derive(Arbitrary, Debug, Clone)]
pub enum Time {
    /// At least two seconds ahead, so that no run of a few ms sees it pass.
    In(u32),
    /// At least two seconds ago.
    Ago(u32),
    Epoch(i64),
    Largest,
    Fraction(f64),
    Other(Scalar),
}

impl Time {
    pub fn value(&self, now: u64) -> Value {
        match self {
            Self::In(seconds) => json!(now + 2 + u64::from(*seconds)),
            Self::Ago(seconds) => json!(now.saturating_sub(2 + u64::from(*seconds))),
            Self::Epoch(seconds) => json!(seconds),
            Self::Largest => json!(u64::MAX),
            Self::Fraction(seconds) => json!(seconds),
            Self::Other(value) => value.value(),
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum ApiKeyField {
    Ours,
    Other(String),
    NotAString(Scalar),
    Missing,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum KnownPermission {
    AllowJoin,
    AskJoin,
    AllowMod,
}

impl KnownPermission {
    pub fn permission(self) -> Permission {
        match self {
            Self::AllowJoin => Permission::AllowJoin,
            Self::AskJoin => Permission::AskJoin,
            Self::AllowMod => Permission::AllowMod,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::AllowJoin => "allow_join",
            Self::AskJoin => "ask_join",
            Self::AllowMod => "allow_mod",
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum PermissionName {
    Known(KnownPermission),
    Upper(KnownPermission),
    Other(String),
}

impl PermissionName {
    pub fn text(&self) -> String {
        match self {
            Self::Known(known) => known.name().to_owned(),
            Self::Upper(known) => known.name().to_ascii_uppercase(),
            Self::Other(text) => text.clone(),
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum JwtPayload {
    Fields {
        apikey: ApiKeyField,
        exp: Option<Time>,
        nbf: Option<Time>,
        iat: Option<Time>,
        permissions: Option<Vec<PermissionName>>,
        version: Option<Scalar>,
        roles: Option<Vec<String>>,
        room_id: Option<Scalar>,
        participant_id: Option<Scalar>,
        /// The registered claims jsonwebtoken types: `sub`, `iss`, `aud`.
        registered: Vec<(ClaimName, Json)>,
        /// Members written after the others, names already used included: duplicates.
        duplicates: Vec<(ClaimName, Json)>,
        extra: Vec<(String, Scalar)>,
    },
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Signature {
    /// HMAC-SHA256 under the account's secret: the only one that may verify.
    Ours,
    /// Under the account's secret before a rotation.
    Previous,
    /// Under a secret nobody here trusts.
    Other,
    Raw(Vec<u8>),
    NotBase64(String),
    Missing,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Base64Flavour {
    UrlNoPad,
    UrlPadded,
    Standard,
}

impl Base64Flavour {
    fn encode(self, bytes: &[u8]) -> String {
        match self {
            Self::UrlNoPad => URL_SAFE_NO_PAD.encode(bytes),
            Self::UrlPadded => URL_SAFE.encode(bytes),
            Self::Standard => STANDARD.encode(bytes),
        }
    }
}

/// A JWT built from parts, so that the fuzzer reaches the JSON and signature checks behind the
/// base64 instead of spending its time on the base64.
#[derive(Arbitrary, Debug, Clone)]
pub struct Jwt {
    pub header: JwtHeader,
    pub payload: JwtPayload,
    pub signature: Signature,
    pub flavour: Base64Flavour,
    /// Appended after one more '.'.
    pub tail: Option<String>,
}

impl Jwt {
    pub fn encode(&self, account: &Account, now: u64) -> String {
        let header = match &self.header {
            JwtHeader::Fields {
                alg,
                typ,
                kid,
                extra,
            } => {
                let mut fields = Map::new();
                for (key, value) in extra {
                    fields.insert(key.clone(), value.value());
                }
                let alg = match alg {
                    Alg::Hs256 => Some(json!("HS256")),
                    Alg::Hs384 => Some(json!("HS384")),
                    Alg::Hs512 => Some(json!("HS512")),
                    Alg::Rs256 => Some(json!("RS256")),
                    Alg::Es256 => Some(json!("ES256")),
                    Alg::EdDsa => Some(json!("EdDSA")),
                    Alg::None => Some(json!("none")),
                    Alg::NoneUpper => Some(json!("NONE")),
                    Alg::Lowercase => Some(json!("hs256")),
                    Alg::Other(text) => Some(json!(text)),
                    Alg::NotAString(value) => Some(value.value()),
                    Alg::Missing => None,
                };
                if let Some(alg) = alg {
                    fields.insert("alg".to_owned(), alg);
                }
                if let Some(typ) = typ {
                    fields.insert("typ".to_owned(), typ.value());
                }
                if let Some(kid) = kid {
                    fields.insert("kid".to_owned(), json!(kid));
                }
                serde_json::to_vec(&fields).expect("a JSON map serialises")
            }
            JwtHeader::Ours => br#"{"typ":"JWT","alg":"HS256"}"#.to_vec(),
            JwtHeader::Raw(bytes) => bytes.clone(),
        };
        let payload = match &self.payload {
            JwtPayload::Fields {
                apikey,
                exp,
                nbf,
                iat,
                permissions,
                version,
                roles,
                room_id,
                participant_id,
                registered,
                duplicates,
                extra,
            } => {
                let mut fields = Map::new();
                for (key, value) in extra {
                    fields.insert(key.clone(), value.value());
                }
                for (name, value) in registered {
                    // Text that is not JSON makes the whole payload so; skip it here.
                    if let Ok(value) = serde_json::from_str::<Value>(&value.text()) {
                        fields.insert(name.text().to_owned(), value);
                    }
                }
                let mut put = |key: &str, value: Option<Value>| {
                    if let Some(value) = value {
                        fields.insert(key.to_owned(), value);
                    }
                };
                put(
                    "apikey",
                    match apikey {
                        ApiKeyField::Ours => Some(json!(account.api_key)),
                        ApiKeyField::Other(text) => Some(json!(text)),
                        ApiKeyField::NotAString(value) => Some(value.value()),
                        ApiKeyField::Missing => None,
                    },
                );
                put("exp", exp.as_ref().map(|time| time.value(now)));
                put("nbf", nbf.as_ref().map(|time| time.value(now)));
                put("iat", iat.as_ref().map(|time| time.value(now)));
                put(
                    "permissions",
                    permissions.as_ref().map(|names| {
                        Value::Array(names.iter().map(|name| json!(name.text())).collect())
                    }),
                );
                put("version", version.as_ref().map(Scalar::value));
                put("roles", roles.as_ref().map(|roles| json!(roles)));
                put("roomId", room_id.as_ref().map(Scalar::value));
                put("participantId", participant_id.as_ref().map(Scalar::value));
                // Written by hand rather than serialised, so that a name may appear twice and a
                // value may nest deeper than serde_json would parse back.
                let mut members: Vec<String> = fields
                    .iter()
                    .map(|(key, value)| format!("{}:{value}", json!(key)))
                    .collect();
                members.extend(
                    duplicates
                        .iter()
                        .map(|(name, value)| format!("{}:{}", json!(name.text()), value.text())),
                );
                format!("{{{}}}", members.join(",")).into_bytes()
            }
            JwtPayload::Raw(bytes) => bytes.clone(),
        };
        let mut token = format!(
            "{}.{}",
            self.flavour.encode(&header),
            self.flavour.encode(&payload)
        );
        let signature = match &self.signature {
            Signature::Ours => Some(self.flavour.encode(&hs256(&account.secret, &token))),
            Signature::Previous => Some(self.flavour.encode(&hs256(PREVIOUS_SECRET, &token))),
            Signature::Other => Some(self.flavour.encode(&hs256(OTHER_SECRET, &token))),
            Signature::Raw(bytes) => Some(self.flavour.encode(bytes)),
            Signature::NotBase64(text) => Some(text.clone()),
            Signature::Missing => None,
        };
        if let Some(signature) = signature {
            token.push('.');
            token.push_str(&signature);
        }
        if let Some(tail) = &self.tail {
            token.push('.');
            token.push_str(tail);
        }
        token
    }
}

pub fn hs256(secret: &str, message: &str) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    hmac::sign(&key, message.as_bytes()).as_ref().to_vec()
}

/// What must hold of a token that verification accepted: it is an HS256 JWT whose signature is
/// an HMAC under one of `secrets`, for `api_key`, that has not expired at `verified_after`.
pub fn assert_accepted_token_is_genuine(
    token: &str,
    claims: &Claims,
    api_key: &str,
    secrets: &[&str],
    verified_after: u64,
) {
    let (message, signature) = token
        .rsplit_once('.')
        .unwrap_or_else(|| panic!("accepted a token with no signature: {token:?}"));
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .unwrap_or_else(|error| panic!("accepted a signature that is not base64url ({error})"));
    assert!(
        secrets
            .iter()
            .any(|secret| hs256(secret, message) == signature),
        "accepted a token whose signature is not an HMAC-SHA256 under a trusted secret: {token:?}"
    );
    let header = message.split('.').next().unwrap_or_default();
    let header: Value = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_else(|| panic!("accepted a token whose header is not base64url JSON"));
    assert_eq!(
        header.get("alg"),
        Some(&json!("HS256")),
        "accepted a token whose header does not say HS256: {header}"
    );
    assert_eq!(
        claims.apikey, api_key,
        "accepted a token for another API key"
    );
    assert!(
        claims.exp >= verified_after,
        "accepted a token that expired at {} (now {verified_after})",
        claims.exp
    );
}

/// [`assert_accepted_token_is_genuine`], and not valid for more than the functions' longest
/// lifetime after `verified_at`.
pub fn assert_accepted_token_is_current(claims: &Claims, verified_at: u64) {
    assert!(
        claims.exp <= verified_at + shared::domain::token::MAX_TOKEN_LIFETIME_SECONDS,
        "accepted a token valid until {}, more than a day after {verified_at}",
        claims.exp
    );
}

/// Claims as the fuzzer chooses them, for tokens signed with a real key.
#[derive(Arbitrary, Debug, Clone)]
pub struct TokenClaims {
    pub permissions: Vec<KnownPermission>,
    pub room_id: Option<String>,
    pub participant_id: Option<String>,
    pub roles: Vec<String>,
    pub version: u32,
    pub iat: u64,
    /// Seconds from now, at least 2 either way: `Ok` is valid for that long, `Err` expired.
    pub lifetime: Result<u16, u16>,
    /// Another API key than the account's (when it differs).
    pub other_api_key: Option<String>,
}

impl TokenClaims {
    pub fn claims(&self, api_key: &str, now: u64) -> Claims {
        Claims {
            apikey: self
                .other_api_key
                .clone()
                .unwrap_or_else(|| api_key.to_owned()),
            permissions: self
                .permissions
                .iter()
                .map(|known| known.permission())
                .collect(),
            version: self.version,
            roles: self.roles.clone(),
            iat: self.iat,
            exp: match self.lifetime {
                Ok(seconds) => now + 2 + u64::from(seconds),
                Err(seconds) => now.saturating_sub(2 + u64::from(seconds)),
            },
            room_id: self.room_id.clone(),
            participant_id: self.participant_id.clone(),
            // Tokens issued here never carry one (JwtPayload covers nbf in tokens from outside).
            nbf: None,
        }
    }

    /// What verifying a token with these claims, correctly signed, must answer.
    pub fn expected(&self, api_key: &str) -> Result<(), TokenError> {
        if self.lifetime.is_err() {
            Err(TokenError::Expired)
        } else if self
            .other_api_key
            .as_deref()
            .is_some_and(|other| other != api_key)
        {
            Err(TokenError::ApiKeyMismatch)
        } else {
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Requests

/// The three routes and their handlers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    GetToken,
    CreateMeeting,
    ValidateMeeting,
}

impl Route {
    pub const ALL: [Route; 3] = [
        Route::GetToken,
        Route::CreateMeeting,
        Route::ValidateMeeting,
    ];

    /// The route as the registry writes it.
    pub fn registered(self) -> &'static shared::http::route::Route {
        match self {
            Self::GetToken => &routes::GET_TOKEN,
            Self::CreateMeeting => &routes::CREATE_MEETING,
            Self::ValidateMeeting => &routes::VALIDATE_MEETING,
        }
    }

    /// The route's path up to its parameter (`/validate-meeting` for
    /// `/validate-meeting/{meetingId}`).
    pub fn path(self) -> &'static str {
        let path = self.registered().path;
        path.split_once("/{").map_or(path, |(fixed, _)| fixed)
    }

    pub fn method(self) -> Method {
        self.registered().method.clone()
    }

    /// Runs the route's handler, as its Lambda binary does.
    pub fn call(self, deployment: Deployment, request: Request) -> Response<Body> {
        let fixtures = fixtures();
        let state = fixtures.state(deployment);
        fixtures.run(shared::test_support::answer(self.registered(), state, request))
    }

    /// Calls the route and checks every invariant of its answer.
    pub fn call_and_check(self, deployment: Deployment, request: Request) {
        let response = self.call(deployment, request);
        assert_response_invariants(&response);
        self.assert_success_invariants(&response);
    }

    /// A 200 is worth what it says: a token that verifies, a meeting id that checks.
    pub fn assert_success_invariants(self, response: &Response<Body>) {
        if response.status() != StatusCode::OK {
            return;
        }
        let fixtures = fixtures();
        let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap_or_default();
        match self {
            Self::GetToken => {
                let token = body["token"]
                    .as_str()
                    .expect("a 200 from get-token has a token");
                let claims = fixtures
                    .keys
                    .verify_at(token, now())
                    .unwrap_or_else(|error| {
                        panic!("get-token answered a token that does not verify: {error:?}")
                    });
                assert_eq!(
                    Some(claims.exp),
                    body["expiresAt"].as_u64(),
                    "expiresAt is the token's exp"
                );
            }
            Self::CreateMeeting | Self::ValidateMeeting => {
                let id = body["meetingId"]
                    .as_str()
                    .expect("a 200 from a meeting route has a meetingId");
                assert!(
                    fixtures.meeting_ids.check(id).is_ok(),
                    "{self:?} answered 200 with a meeting id this deployment did not issue: {id:?}"
                );
                if self == Self::ValidateMeeting {
                    assert_eq!(body["valid"], json!(true));
                    assert_eq!(body["roomId"], body["meetingId"]);
                }
            }
        }
    }
}

/// What every answer of every route must be: never a 5xx (nor a 1xx or 3xx); JSON with the
/// JSON content type unless it is a 204 with no body; an error body for every 4xx.
pub fn assert_response_invariants(response: &Response<Body>) {
    let status = response.status();
    let body: &[u8] = response.body().as_ref();
    let text = String::from_utf8_lossy(body);
    assert!(
        !status.is_server_error(),
        "answered {status} to client input: {text}"
    );
    assert!(
        status.is_success() || status.is_client_error(),
        "answered {status}: {text}"
    );
    if status == StatusCode::NO_CONTENT {
        assert!(body.is_empty(), "a 204 with a body: {text}");
        return;
    }
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .map(|value| value.to_str().unwrap_or("(not text)"));
    assert_eq!(
        content_type,
        Some("application/json"),
        "{status} answered without the JSON content type: {text}"
    );
    let json: Value = serde_json::from_slice(body).unwrap_or_else(|error| {
        panic!("{status} answered a body that is not JSON ({error}): {text}")
    });
    if status.is_client_error() {
        assert!(
            json["error"]["code"].is_string() && json["error"]["message"].is_string(),
            "{status} answered without error.code and error.message strings: {text}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// API Gateway events

/// An API Gateway HTTP API (payload 2.0) event as the Lambda runtime reads it from the invocation
/// body (serde_json), or `None` for bytes that are not one (the runtime reports those as a failed
/// invocation before the functions' code runs; API Gateway never sends them).
pub fn api_gateway_event(data: &[u8]) -> Option<ApiGatewayV2httpRequest> {
    serde_json::from_slice(data).ok()
}

/// The event as the functions' loop (`shared::aws::lambda::run`) turns it into a request:
/// `shared::aws::lambda::into_request`, which must never panic. `None` when it refuses the event,
/// which it may only do with a 400 `invalid_request` in the error shape of every other answer
/// (that response is what API Gateway then returns).
pub fn event_into_request(event: ApiGatewayV2httpRequest) -> Option<Request> {
    match into_request(event) {
        Ok(request) => Some(request),
        Err(error) => {
            assert_eq!(
                (error.status, error.code),
                (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest),
                "into_request refused an event with something else than 400 invalid_request: {error:?}"
            );
            let response = error.into_response();
            assert_response_invariants(&response);
            let _ = shared::aws::lambda::into_response(response);
            None
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum MethodChoice {
    Route,
    Get,
    Post,
    Options,
    Put,
    Delete,
    Head,
    Patch,
    Other(String),
}

/// A meeting id as a client may send one.
#[derive(Arbitrary, Debug, Clone)]
pub enum MeetingIdChoice {
    /// Issued by this deployment just now.
    Issued,
    /// Issued by a deployment with another secret.
    IssuedElsewhere,
    /// Issued here, then one byte changed.
    Changed {
        index: u8,
        byte: u8,
    },
    /// Issued here, in capitals.
    Upper,
    Raw(String),
}

impl MeetingIdChoice {
    pub fn text(&self) -> String {
        let fixtures = fixtures();
        let issued = || {
            fixtures
                .meeting_ids
                .issue()
                .expect("the OS random generator works")
                .to_string()
        };
        match self {
            Self::Issued => issued(),
            Self::IssuedElsewhere => fixtures
                .other_meeting_ids
                .issue()
                .expect("the OS random generator works")
                .to_string(),
            Self::Changed { index, byte } => {
                let mut bytes = issued().into_bytes();
                let index = usize::from(*index) % bytes.len();
                bytes[index] = *byte;
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Self::Upper => issued().to_ascii_uppercase(),
            Self::Raw(text) => text.clone(),
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum PathChoice {
    Route,
    TrailingSlash,
    WithSegment(MeetingIdChoice),
    Raw(String),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum QueryName {
    Permissions,
    RoomId,
    MeetingId,
    ParticipantId,
    PeerId,
    Other(String),
}

impl QueryName {
    fn text(&self) -> &str {
        match self {
            Self::Permissions => "permissions",
            Self::RoomId => "roomId",
            Self::MeetingId => "meetingId",
            Self::ParticipantId => "participantId",
            Self::PeerId => "peerId",
            Self::Other(text) => text,
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum QueryValue {
    Permissions {
        names: Vec<PermissionName>,
        spaced: bool,
    },
    Id(MeetingIdChoice),
    Text(String),
}

impl QueryValue {
    fn text(&self) -> String {
        match self {
            Self::Permissions { names, spaced } => names
                .iter()
                .map(PermissionName::text)
                .collect::<Vec<_>>()
                .join(if *spaced { ", " } else { "," }),
            Self::Id(id) => id.text(),
            Self::Text(text) => text.clone(),
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum OriginChoice {
    Allowed,
    Local,
    Null,
    Other(String),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum HeaderNameChoice {
    Authorization,
    Origin,
    ContentType,
    ContentLength,
    AccessControlRequestMethod,
    AccessControlRequestHeaders,
    Host,
    Other(String),
}

impl HeaderNameChoice {
    fn text(&self) -> &str {
        match self {
            Self::Authorization => "authorization",
            Self::Origin => "origin",
            Self::ContentType => "content-type",
            Self::ContentLength => "content-length",
            Self::AccessControlRequestMethod => "access-control-request-method",
            Self::AccessControlRequestHeaders => "access-control-request-headers",
            Self::Host => "host",
            Self::Other(text) => text,
        }
    }
}

/// A token as a client may send one.
#[derive(Arbitrary, Debug, Clone)]
pub enum Credential {
    /// Signed with the deployment's key.
    Signed(TokenClaims),
    /// Signed with another secret for the same API key.
    SignedElsewhere(TokenClaims),
    Jwt(Jwt),
    Raw(String),
}

impl Credential {
    pub fn text(&self) -> String {
        let fixtures = fixtures();
        let now = now();
        match self {
            Self::Signed(claims) => fixtures
                .keys
                .sign(&claims.claims(&fixtures.account.api_key, now))
                .expect("signing works"),
            Self::SignedElsewhere(claims) => fixtures
                .other_keys
                .sign(&claims.claims(&fixtures.account.api_key, now))
                .expect("signing works"),
            Self::Jwt(jwt) => jwt.encode(&fixtures.account, now),
            Self::Raw(text) => text.clone(),
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Authorization {
    Bearer(Credential),
    Bare(Credential),
    Scheme {
        scheme: String,
        credential: Credential,
    },
    Raw(Vec<u8>),
}

impl Authorization {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Self::Bearer(credential) => format!("Bearer {}", credential.text()).into_bytes(),
            Self::Bare(credential) => credential.text().into_bytes(),
            Self::Scheme { scheme, credential } => {
                format!("{scheme} {}", credential.text()).into_bytes()
            }
            Self::Raw(bytes) => bytes.clone(),
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum TokenField {
    Credential(Credential),
    NotAString(Scalar),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum BodyChoice {
    Empty,
    Json {
        token: Option<TokenField>,
        region: Option<String>,
        extra: Vec<(String, Scalar)>,
        binary: bool,
    },
    NotAnObject(Scalar),
    Text(String),
    Binary(Vec<u8>),
    /// Around the size limit: `MAX_BODY_BYTES - 32 ..= MAX_BODY_BYTES + 31` bytes.
    NearLimit {
        offset: u8,
        byte: u8,
        binary: bool,
    },
}

impl BodyChoice {
    fn body(&self) -> Body {
        match self {
            Self::Empty => Body::Empty,
            Self::Json {
                token,
                region,
                extra,
                binary,
            } => {
                let mut fields = Map::new();
                for (key, value) in extra {
                    fields.insert(key.clone(), value.value());
                }
                match token {
                    Some(TokenField::Credential(credential)) => {
                        fields.insert("token".to_owned(), json!(credential.text()));
                    }
                    Some(TokenField::NotAString(value)) => {
                        fields.insert("token".to_owned(), value.value());
                    }
                    None => {}
                }
                if let Some(region) = region {
                    fields.insert("region".to_owned(), json!(region));
                }
                let text = Value::Object(fields).to_string();
                if *binary {
                    Body::Binary(text.into_bytes())
                } else {
                    Body::Text(text)
                }
            }
            Self::NotAnObject(value) => Body::Text(value.value().to_string()),
            Self::Text(text) => Body::Text(text.clone()),
            Self::Binary(bytes) => Body::Binary(bytes.clone()),
            Self::NearLimit {
                offset,
                byte,
                binary,
            } => {
                let length = MAX_BODY_BYTES - 32 + usize::from(*offset % 64);
                if *binary {
                    Body::Binary(vec![*byte; length])
                } else {
                    Body::Text(char::from(*byte % 128).to_string().repeat(length))
                }
            }
        }
    }
}

/// An HTTP request as a client (or API Gateway) may send one to a route.
#[derive(Arbitrary, Debug, Clone)]
pub struct HttpInput {
    pub deployment: Deployment,
    pub method: MethodChoice,
    pub path: PathChoice,
    pub query: Vec<(QueryName, QueryValue)>,
    /// Also written into the URI (unencoded, so the URI may be refused and the input skipped).
    pub query_in_uri: bool,
    pub origin: Option<OriginChoice>,
    pub authorization: Option<Authorization>,
    pub headers: Vec<(HeaderNameChoice, Vec<u8>)>,
    pub body: BodyChoice,
    /// API Gateway's `{meetingId}` path parameter.
    pub path_parameter: Option<MeetingIdChoice>,
    /// What API Gateway's JWT authorizer passed on, if it ran.
    pub authorizer: Option<AuthorizerInput>,
}

pub const MODERATOR_GROUP: &str = "moderators";
pub const MODERATOR_SCOPE: &str = "videosdk/moderate";

/// `requestContext.authorizer.jwt` as HTTP API fills it in: string claims (arrays flattened to
/// `[a b]`) and scopes.
#[derive(Arbitrary, Debug, Clone)]
pub struct AuthorizerInput {
    pub claims: Vec<(AuthorizerClaim, ClaimValue)>,
    pub scopes: Option<Vec<ScopeChoice>>,
}

#[derive(Arbitrary, Debug, Clone)]
pub enum AuthorizerClaim {
    Sub,
    Groups,
    Other(String),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum ClaimValue {
    /// As identity providers issue ids (`auth0|...`, UUIDs), or anything.
    Id(String),
    /// Group names, flattened as HTTP API does, or one plain name.
    Groups {
        names: Vec<GroupChoice>,
        flattened: bool,
    },
}

#[derive(Arbitrary, Debug, Clone)]
pub enum GroupChoice {
    Moderators,
    Other(String),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum ScopeChoice {
    Moderate,
    Other(String),
}

impl AuthorizerInput {
    fn claims(&self) -> Map<String, Value> {
        let mut claims = Map::new();
        for (name, value) in &self.claims {
            let name = match name {
                AuthorizerClaim::Sub => "sub",
                AuthorizerClaim::Groups => "cognito:groups",
                AuthorizerClaim::Other(text) => text,
            };
            let value = match value {
                ClaimValue::Id(text) => text.clone(),
                ClaimValue::Groups { names, flattened } => {
                    let names: Vec<&str> = names
                        .iter()
                        .map(|group| match group {
                            GroupChoice::Moderators => MODERATOR_GROUP,
                            GroupChoice::Other(text) => text,
                        })
                        .collect();
                    if *flattened {
                        format!("[{}]", names.join(" "))
                    } else {
                        names.join(",")
                    }
                }
            };
            claims.insert(name.to_owned(), json!(value));
        }
        claims
    }

    fn scopes(&self) -> Option<Vec<&str>> {
        self.scopes.as_ref().map(|scopes| {
            scopes
                .iter()
                .map(|scope| match scope {
                    ScopeChoice::Moderate => MODERATOR_SCOPE,
                    ScopeChoice::Other(text) => text,
                })
                .collect()
        })
    }

    /// The API Gateway request context carrying these claims.
    fn context(&self) -> lambda_http::request::RequestContext {
        let context = json!({
            "http": {"method": "GET", "path": "/get-token", "protocol": "HTTP/1.1",
                     "sourceIp": "192.0.2.10", "userAgent": "fuzz"},
            "authorizer": {"jwt": {"claims": self.claims(), "scopes": self.scopes()}}
        });
        lambda_http::request::RequestContext::ApiGatewayV2(
            serde_json::from_value(context).expect("a payload 2.0 request context"),
        )
    }

    /// What a token issued to this caller must say: the `sub` claim as its participant id, and
    /// `allow_mod` only for a moderator.
    pub fn assert_token_is_the_callers(&self, deployment: Deployment, response: &Response<Body>) {
        if response.status() != StatusCode::OK {
            return;
        }
        let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap_or_default();
        let token = body["token"]
            .as_str()
            .expect("a 200 from get-token has a token");
        let claims = fixtures()
            .keys
            .verify_at(token, now())
            .expect("it verifies");
        let sub = self.claims()["sub"]
            .as_str()
            .map(str::trim)
            .map(str::to_owned);
        assert!(sub.is_some(), "a token for a caller with no sub claim");
        assert_eq!(
            claims.participant_id, sub,
            "the token is not for the caller"
        );
        assert_eq!(
            body["participantId"].as_str(),
            claims.participant_id.as_deref()
        );
        if deployment == Deployment::SignedIn && claims.permissions.contains(&Permission::AllowMod)
        {
            let groups = self.claims()["cognito:groups"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            let in_group = groups
                .trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split_whitespace()
                .any(|group| group == MODERATOR_GROUP);
            let has_scope = self.scopes().unwrap_or_default().contains(&MODERATOR_SCOPE);
            assert!(
                in_group || has_scope,
                "allow_mod for a caller who is no moderator"
            );
        }
    }
}

impl HttpInput {
    /// The request, or `None` for one `http::Request::builder` refuses (a method, URI or header
    /// that HTTP cannot carry, which API Gateway would not deliver either).
    pub fn request(&self, route: Route) -> Option<Request> {
        let method = match &self.method {
            MethodChoice::Route => route.method(),
            MethodChoice::Get => Method::GET,
            MethodChoice::Post => Method::POST,
            MethodChoice::Options => Method::OPTIONS,
            MethodChoice::Put => Method::PUT,
            MethodChoice::Delete => Method::DELETE,
            MethodChoice::Head => Method::HEAD,
            MethodChoice::Patch => Method::PATCH,
            MethodChoice::Other(text) => Method::from_bytes(text.as_bytes()).ok()?,
        };
        let mut uri = match &self.path {
            PathChoice::Route => route.path().to_owned(),
            PathChoice::TrailingSlash => format!("{}/", route.path()),
            PathChoice::WithSegment(id) => format!("{}/{}", route.path(), id.text()),
            PathChoice::Raw(text) => text.clone(),
        };
        let mut query: HashMap<String, Vec<String>> = HashMap::new();
        let mut pairs = Vec::new();
        for (name, value) in &self.query {
            let (name, value) = (name.text().to_owned(), value.text());
            pairs.push(format!("{name}={value}"));
            query.entry(name).or_default().push(value);
        }
        if self.query_in_uri && !pairs.is_empty() {
            uri.push('?');
            uri.push_str(&pairs.join("&"));
        }

        let mut builder = http::Request::builder().method(method).uri(uri);
        if let Some(origin) = &self.origin {
            builder = builder.header(
                ORIGIN,
                match origin {
                    OriginChoice::Allowed => ALLOWED_ORIGIN,
                    OriginChoice::Local => LOCAL_ORIGIN,
                    OriginChoice::Null => "null",
                    OriginChoice::Other(text) => text,
                },
            );
        }
        if let Some(authorization) = &self.authorization {
            builder = builder.header(AUTHORIZATION, authorization.bytes());
        }
        for (name, value) in &self.headers {
            builder = builder.header(name.text(), value.as_slice());
        }
        let mut request = builder.body(self.body.body()).ok()?;
        if !query.is_empty() {
            request = request.with_query_string_parameters(query);
        }
        if let Some(id) = &self.path_parameter {
            request =
                request.with_path_parameters(HashMap::from([("meetingId".to_owned(), id.text())]));
        }
        if let Some(authorizer) = &self.authorizer {
            request = request.with_request_context(authorizer.context());
        }
        Some(request)
    }
}
