//! VideoSDK access tokens: HS256 JWTs signed with the account's secret key. [`TokenKeys`] signs
//! them and refuses everything else: other algorithms, other keys, missing, past or too distant
//! `exp`, other accounts' API keys. `payload` says what a token's claims must parse as.

use serde::Serialize;

use crate::domain::permissions::{Permission, PermissionSet, ROLE_MANAGEMENT, TokenRoles};

mod keys;
mod payload;

pub use keys::TokenKeys;

/// The token format version VideoSDK's v2 APIs expect.
pub(crate) const TOKEN_VERSION: u32 = 2;
/// Longer tokens are refused before any parsing; ours are a few hundred bytes.
pub const MAX_TOKEN_LENGTH: usize = 4096;
/// Tokens whose `exp` is further ahead than this are refused: 24 hours, VideoSDK's own default
/// lifetime (so tokens minted elsewhere with the same secret keep working) and this API's
/// longest `TOKEN_TTL_SECONDS`. A token signed with a leaked key cannot outlive it by years.
pub const MAX_TOKEN_LIFETIME_SECONDS: u64 = 86_400;

/// The claims of a VideoSDK token, as signed; verification reads them through
/// `payload::ReadClaims`, which also says what a token must not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Claims {
    pub apikey: String,
    pub permissions: Vec<Permission>,
    pub version: u32,
    pub roles: Vec<String>,
    pub iat: u64,
    pub exp: u64,
    #[serde(rename = "roomId", skip_serializing_if = "Option::is_none")]
    pub room_id: Option<String>,
    #[serde(rename = "participantId", skip_serializing_if = "Option::is_none")]
    pub participant_id: Option<String>,
    /// Not before. Tokens issued here never carry it; one that does is refused until then, as
    /// RFC 7519 says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
}

/// What a participant token is limited to: one room, one participant id, both, or neither.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenScope {
    pub room_id: Option<String>,
    pub participant_id: Option<String>,
}

impl Claims {
    /// The claims of a token issued at `now` for `ttl_seconds`, with the roles the operator
    /// configured (`rtc` unless TOKEN_ROLES says otherwise) and the scope asked for.
    pub fn new(
        api_key: &str,
        permissions: &PermissionSet,
        roles: &TokenRoles,
        scope: TokenScope,
        now: u64,
        ttl_seconds: u64,
    ) -> Self {
        Self {
            apikey: api_key.to_owned(),
            permissions: permissions.to_vec(),
            version: TOKEN_VERSION,
            roles: roles.to_vec(),
            iat: now,
            exp: now.saturating_add(ttl_seconds),
            room_id: scope.room_id,
            participant_id: scope.participant_id,
            nbf: None,
        }
    }

    /// The claims of this service's own token for VideoSDK's REST API: the management role
    /// and the permissions VideoSDK's server SDK gives such a token (its `forApi()` builder).
    pub(crate) fn for_api(api_key: &str, now: u64, ttl_seconds: u64) -> Self {
        Self {
            apikey: api_key.to_owned(),
            permissions: vec![Permission::AllowJoin, Permission::AllowMod],
            version: TOKEN_VERSION,
            roles: vec![ROLE_MANAGEMENT.to_owned()],
            iat: now,
            exp: now.saturating_add(ttl_seconds),
            room_id: None,
            participant_id: None,
            nbf: None,
        }
    }
}

/// Why a token was refused. Each maps to a 401 with its own code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error(
        "no token was sent; send it as `Authorization: Bearer <token>` or in the JSON body as \"token\""
    )]
    Missing,
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token is not signed with HS256, the only algorithm accepted")]
    UnsupportedAlgorithm,
    #[error("the token's signature does not match this account's secret key")]
    BadSignature,
    #[error("the token has expired; get a new one from /get-token")]
    Expired,
    #[error(
        "the token's claims are missing or malformed (it needs a string apikey and a numeric exp \
         at most 24 hours ahead)"
    )]
    InvalidClaims,
    #[error("the token was issued for another API key")]
    ApiKeyMismatch,
    #[error("the token could not be signed")]
    SigningFailed,
}
