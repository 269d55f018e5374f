//! JWTs built from fuzzed parts (header, claims, signature, base64 flavour), claims signed with
//! a real key, and what must hold of a token that verification accepted.

use arbitrary::Arbitrary;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use ring::hmac;
use serde_json::{Map, Value, json};
use shared::domain::permissions::Permission;
use shared::domain::token::{Claims, TokenError};

use crate::deployments::{Account, OTHER_SECRET, PREVIOUS_SECRET};
use crate::json::{Json, Scalar};

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
