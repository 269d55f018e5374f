//! Who a token is for: the participant ids VideoSDK accepts, the signed-in caller's claims, and
//! the policy that turns them into a token's participant id, the right to moderate and the
//! right to create rooms. The server chooses identity and permissions, not the query: with
//! claims, the participant id is the identity claim's value; without, the operator decides
//! whether callers choose their own.

use std::collections::HashMap;
use std::fmt;

use serde_json::{Map, Value};

/// The longest participant id accepted (from a query, a claim or `allowedParticipantIds`).
pub(crate) const MAX_PARTICIPANT_ID_LENGTH: usize = 128;

/// 1 to [`MAX_PARTICIPANT_ID_LENGTH`] characters, none of them whitespace or a control
/// character. VideoSDK forbids only whitespace in participant ids; identity providers issue ids
/// such as `auth0|5f7c8ec7`, `google-oauth2|1034` or Cognito's UUIDs.
pub(crate) fn is_participant_id(text: &str) -> bool {
    (1..=MAX_PARTICIPANT_ID_LENGTH).contains(&text.chars().count())
        && text.chars().all(|c| !c.is_whitespace() && !c.is_control())
}

/// Identity claims a user can change themselves, and the claim that says the value was
/// verified (OpenID Connect Core 1.0, section 5.1): accepted as an identity only while that
/// claim is `"true"`. A Cognito user may change their own email; until it is verified the ID
/// token carries the new one with `email_verified: false`.
pub(crate) const VERIFIED_BY: [(&str, &str); 2] = [
    ("email", "email_verified"),
    ("phone_number", "phone_number_verified"),
];

/// Claims a user edits in their own profile, with no verification claim: never an identity
/// (`IDENTITY_CLAIM` refuses them). OpenID Connect Core 1.0's standard claims, section 5.1.
pub(crate) const SELF_ASSERTED_CLAIMS: [&str; 15] = [
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "updated_at",
    "address",
];

/// Cognito's custom attributes, which an app client lets users write by default.
pub(crate) const SELF_ASSERTED_PREFIX: &str = "custom:";

/// Why `claim` cannot be an identity claim (`IDENTITY_CLAIM`), if it cannot.
pub(crate) fn self_asserted(claim: &str) -> Option<&'static str> {
    if SELF_ASSERTED_CLAIMS.contains(&claim) {
        Some("is a profile claim the user can change, with nothing that verifies it")
    } else if claim.starts_with(SELF_ASSERTED_PREFIX) {
        Some(
            "is a Cognito custom attribute, which users can write unless the app client forbids it",
        )
    } else {
        None
    }
}

/// What API Gateway's JWT authorizer passed on about the caller (HTTP API, payload 2.0,
/// `requestContext.authorizer.jwt`), read as captures of live HTTP APIs show it (see
/// docs/security.md, "Signed-in callers"): every claim value a string (numbers and booleans as
/// their text, an array flattened to `"[a b]"`), null claims left out, and `scopes` null on a
/// route without authorization scopes even when the token has a `scope` claim.
///
/// A flattened `"[Former moderators]"` cannot tell one group from two. So where the request
/// also carries the token the authorizer verified (its identity source, the `Authorization`
/// header) and that token's claims are exactly the ones delivered, list claims are read from
/// the token, whole.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CallerClaims {
    delivered: HashMap<String, String>,
    route_scopes: Vec<String>,
    /// The verified token's payload, kept only when it matches `delivered`.
    token: Option<Map<String, Value>>,
}

/// Claim values identify people: they are not printed, only counted.
impl fmt::Debug for CallerClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallerClaims")
            .field("claims", &self.delivered.len())
            .field("scopes", &self.route_scopes.len())
            .field("token", &self.token.is_some())
            .finish()
    }
}

/// The values of a list claim such as a groups claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ClaimValues<'a> {
    /// Each value whole: read from the verified token, or from delivered text that holds at
    /// most one value.
    Exact(Vec<&'a str>),
    /// Flattened text of several values and no token to read them from: `"[a b c]"` may be
    /// three values or fewer with spaces in them, so none is trusted.
    Ambiguous,
}

impl CallerClaims {
    /// The claims as delivered (`jwt.claims`), the route's scopes (`jwt.scopes`, `None` when
    /// null) and the payload of the token in the request's `Authorization` header, if any.
    pub(crate) fn new(
        delivered: HashMap<String, String>,
        route_scopes: Option<Vec<String>>,
        header_token: Option<Map<String, Value>>,
    ) -> Self {
        let token = header_token.filter(|payload| is_delivered_from(payload, &delivered));
        Self {
            delivered,
            route_scopes: route_scopes.unwrap_or_default(),
            token,
        }
    }

    /// Whether the claims' list values are read from the verified token (the request carried
    /// it, and its claims are the ones delivered).
    pub(crate) fn has_verified_token(&self) -> bool {
        self.token.is_some()
    }

    /// Claim `name` as delivered: a string, whatever its type in the token.
    pub(crate) fn claim(&self, name: &str) -> Option<&str> {
        self.delivered.get(name).map(String::as_str)
    }

    /// The values of list claim `name`: an array's elements, or a single value; none when
    /// absent.
    pub(crate) fn values(&self, name: &str) -> ClaimValues<'_> {
        if let Some(token) = &self.token {
            return ClaimValues::Exact(match token.get(name) {
                Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
                Some(Value::String(text)) => vec![text.as_str()],
                _ => Vec::new(),
            });
        }
        let Some(text) = self.claim(name) else {
            return ClaimValues::Exact(Vec::new());
        };
        match flattened_elements(text) {
            None => ClaimValues::Exact(vec![text]),
            Some(elements) => {
                let elements: Vec<&str> = elements.split_whitespace().collect();
                if elements.len() > 1 {
                    ClaimValues::Ambiguous
                } else {
                    ClaimValues::Exact(elements)
                }
            }
        }
    }

    /// The caller's scopes: the route's matched scopes (`jwt.scopes`) and those of the verified
    /// token's `scope` claim (a space-separated string, RFC 8693) and `scp` claim (an array, as
    /// Okta and Entra ID write it). A scope never holds a space (RFC 6749, section 3.3), so
    /// splitting the delivered text at spaces is exact.
    pub(crate) fn scopes(&self) -> impl Iterator<Item = &str> {
        let from_claim = |name| {
            self.claim(name)
                .map(|text| flattened_elements(text).unwrap_or(text))
                .unwrap_or_default()
                .split_whitespace()
        };
        self.route_scopes
            .iter()
            .map(String::as_str)
            .chain(from_claim("scope"))
            .chain(from_claim("scp"))
    }
}

/// The elements of an array as HTTP API flattens it (`[a b]` holds `a b`), or `None` for a
/// single value.
fn flattened_elements(text: &str) -> Option<&str> {
    text.strip_prefix('[')?.strip_suffix(']')
}

/// Whether `delivered` is exactly what HTTP API makes of `payload`: every non-null claim of the
/// token delivered as its text, and nothing else. An object claim is delivered as JSON text whose
/// spelling the captures do not pin, so only its presence is compared.
fn is_delivered_from(payload: &Map<String, Value>, delivered: &HashMap<String, String>) -> bool {
    let present = payload.iter().filter(|(_, value)| !value.is_null());
    present.clone().count() == delivered.len()
        && present.into_iter().all(|(name, value)| {
            delivered
                .get(name)
                .is_some_and(|text| value.is_object() || delivered_text(value) == *text)
        })
}

/// A claim's value as HTTP API delivers it: a string as it is, an array as its elements'
/// texts in brackets separated by spaces, anything else as its JSON text.
fn delivered_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(delivered_text).collect();
            format!("[{}]", items.join(" "))
        }
        other => other.to_string(),
    }
}

/// The claims HTTP API delivers for a token with `payload`: each non-null claim as
/// [`delivered_text`] writes it.
pub fn delivered_claims(payload: &Map<String, Value>) -> HashMap<String, String> {
    payload
        .iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(name, value)| (name.clone(), delivered_text(value)))
        .collect()
}

/// Where an anonymous caller's participant id comes from (`ANONYMOUS_PARTICIPANT_IDS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AnonymousIds {
    /// `caller`: the query's `participantId`, if any (the seed's behaviour).
    CallerChosen,
    /// `generate`: a fresh random id per token; a caller-chosen one is refused.
    Generated,
}

/// Who may create a room (`ROOM_CREATORS`), through any route: `POST /join` (a new room, or a
/// custom id's on first use) and `POST /create-meeting`. Anyone may join a room that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RoomCreators {
    /// `everyone` (the default): any caller of join, any holder of a token without a room at
    /// create-meeting, as VideoSDK's example apps expect.
    Everyone,
    /// `moderators`: callers the identity rules let have `allow_mod`; at create-meeting, the
    /// holder of a token that carries it.
    Moderators,
    /// `nobody`: rooms are made elsewhere (VideoSDK's dashboard or API).
    Nobody,
}

impl RoomCreators {
    /// Whether a caller creates rooms: `moderator` when the identity rules let them have
    /// `allow_mod` (join), or their token carries it (create-meeting).
    pub(crate) fn allow(self, moderator: bool) -> bool {
        match self {
            Self::Everyone => true,
            Self::Moderators => moderator,
            Self::Nobody => false,
        }
    }
}

/// The operator's rules for who a token is for, who may moderate and who may create a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdentityPolicy {
    /// `IDENTITY_CLAIM`: the claim whose value is the participant id.
    pub(crate) identity_claim: String,
    /// `GROUPS_CLAIM`: the claim listing the caller's groups.
    pub(crate) groups_claim: String,
    /// `MODERATOR_GROUPS`: members of any of these may get `allow_mod`.
    pub(crate) moderator_groups: Vec<String>,
    /// `MODERATOR_SCOPES`: callers with any of these scopes may get `allow_mod`.
    pub(crate) moderator_scopes: Vec<String>,
    /// `REQUIRE_IDENTITY`: a request without claims is refused.
    pub(crate) require_identity: bool,
    pub(crate) anonymous_ids: AnonymousIds,
    /// `ROOM_CREATORS`.
    pub(crate) room_creators: RoomCreators,
}

impl Default for IdentityPolicy {
    fn default() -> Self {
        Self {
            identity_claim: "sub".to_owned(),
            groups_claim: "cognito:groups".to_owned(),
            moderator_groups: Vec::new(),
            moderator_scopes: Vec::new(),
            require_identity: false,
            anonymous_ids: AnonymousIds::CallerChosen,
            room_creators: RoomCreators::Everyone,
        }
    }
}

/// Who a token is for, as the policy decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Participant {
    /// The token's `participantId`, if it gets one.
    pub(crate) id: Option<String>,
    /// Whether the caller may get `allow_mod` (`ALLOWED_PERMISSIONS` still bounds it).
    pub(crate) may_moderate: bool,
}

/// Why the policy refused to issue a token for this caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum IdentityRefusal {
    #[error(
        "this API issues tokens to signed-in callers only: send your ID or access token as \
         `Authorization: Bearer <token>` through the API's JWT authorizer"
    )]
    Required,
    #[error("the claim {claim:?} {why}, so it cannot be your participant id")]
    UnusableClaim { claim: String, why: &'static str },
    #[error(
        "the claim {claim:?} is not verified ({verified_by:?} is not \"true\"), so it cannot be \
         your participant id: verify it with your identity provider, then sign in again"
    )]
    UnverifiedClaim {
        claim: String,
        verified_by: &'static str,
    },
    #[error(
        "participantId must be your own ({claim:?} of your token), or left out: a token is \
         issued for the signed-in caller only"
    )]
    Mismatch { claim: String },
    #[error(
        "this API gives every anonymous caller a participant id of its own; leave participantId \
         out"
    )]
    ChosenIdNotAllowed,
    #[error(
        "participantId must be 1 to {MAX_PARTICIPANT_ID_LENGTH} characters, with no whitespace"
    )]
    InvalidParticipantId,
    #[error("the operating system's random number generator failed")]
    RandomnessUnavailable,
}

impl IdentityPolicy {
    /// Whether `allow_mod` is kept for moderators; otherwise `ALLOWED_PERMISSIONS` alone decides.
    pub(crate) fn restricts_moderation(&self) -> bool {
        !self.moderator_groups.is_empty() || !self.moderator_scopes.is_empty()
    }

    /// Whether any rule about who callers are is on: an identity required, moderators named,
    /// room creation kept from some callers, or anonymous ids chosen by the server. Tokens are
    /// then for joining rooms only (`rtc`): one for VideoSDK's REST API would bypass them all.
    pub(crate) fn has_identity_rules(&self) -> bool {
        self.require_identity
            || self.restricts_moderation()
            || self.room_creators != RoomCreators::Everyone
            || self.anonymous_ids == AnonymousIds::Generated
    }

    /// Who a token is for: `caller`'s claims when API Gateway's authorizer verified a token,
    /// else the anonymous rules. `requested_id` is the query's `participantId` (or `peerId`).
    pub(crate) fn participant(
        &self,
        caller: Option<&CallerClaims>,
        requested_id: Option<&str>,
    ) -> Result<Participant, IdentityRefusal> {
        if let Some(requested) = requested_id
            && !is_participant_id(requested)
        {
            return Err(IdentityRefusal::InvalidParticipantId);
        }
        let Some(caller) = caller else {
            return self.anonymous(requested_id);
        };
        let claim = || self.identity_claim.clone();
        let unusable = |why| IdentityRefusal::UnusableClaim {
            claim: claim(),
            why,
        };
        let id = match caller.claim(&self.identity_claim).map(str::trim) {
            None | Some("") => return Err(unusable("is missing from your token")),
            Some(id) if !is_participant_id(id) => {
                return Err(unusable(
                    "is over 128 characters, or holds whitespace (an array?)",
                ));
            }
            Some(id) => id,
        };
        if let Some((_, verified_by)) = VERIFIED_BY
            .iter()
            .find(|(name, _)| *name == self.identity_claim)
            && caller.claim(verified_by) != Some("true")
        {
            return Err(IdentityRefusal::UnverifiedClaim {
                claim: claim(),
                verified_by,
            });
        }
        if requested_id.is_some_and(|requested| requested != id) {
            return Err(IdentityRefusal::Mismatch { claim: claim() });
        }
        Ok(Participant {
            id: Some(id.to_owned()),
            may_moderate: !self.restricts_moderation() || self.is_moderator(caller),
        })
    }

    /// Who joins a room through `POST /join`: as [`Self::participant`], but always with an id,
    /// since a join's answer names its participant: an anonymous caller under `caller` who
    /// names none gets a generated one, as under `generate`.
    pub(crate) fn joiner(
        &self,
        caller: Option<&CallerClaims>,
        requested_id: Option<&str>,
    ) -> Result<(String, Participant), IdentityRefusal> {
        let participant = self.participant(caller, requested_id)?;
        let id = match &participant.id {
            Some(id) => id.clone(),
            None => guest_id()?,
        };
        Ok((id, participant))
    }

    fn anonymous(&self, requested_id: Option<&str>) -> Result<Participant, IdentityRefusal> {
        if self.require_identity {
            return Err(IdentityRefusal::Required);
        }
        let id = match (self.anonymous_ids, requested_id) {
            (AnonymousIds::CallerChosen, requested) => requested.map(str::to_owned),
            (AnonymousIds::Generated, Some(_)) => return Err(IdentityRefusal::ChosenIdNotAllowed),
            (AnonymousIds::Generated, None) => Some(guest_id()?),
        };
        Ok(Participant {
            id,
            may_moderate: !self.restricts_moderation(),
        })
    }

    /// A member of a moderator group, or a holder of a moderator scope. Groups that cannot be
    /// read whole ([`ClaimValues::Ambiguous`]) make no one a moderator.
    fn is_moderator(&self, caller: &CallerClaims) -> bool {
        let in_group = match caller.values(&self.groups_claim) {
            ClaimValues::Exact(groups) => groups
                .iter()
                .any(|group| self.moderator_groups.iter().any(|m| m == group)),
            ClaimValues::Ambiguous => false,
        };
        in_group
            || caller
                .scopes()
                .any(|scope| self.moderator_scopes.iter().any(|m| m == scope))
    }
}

/// `guest-` and 128 random bits in hex: no two anonymous callers share an id.
fn guest_id() -> Result<String, IdentityRefusal> {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).map_err(|_| IdentityRefusal::RandomnessUnavailable)?;
    let hex: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
    Ok(format!("guest-{hex}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn delivered(claims: &[(&str, &str)]) -> HashMap<String, String> {
        claims
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    /// A caller as HTTP API delivers them, without the verified token.
    fn caller(claims: &[(&str, &str)], scopes: &[&str]) -> CallerClaims {
        let scopes =
            (!scopes.is_empty()).then(|| scopes.iter().map(|scope| scope.to_string()).collect());
        CallerClaims::new(delivered(claims), scopes, None)
    }

    /// A caller whose request carries the verified token with `payload`, delivered as HTTP API
    /// delivers it, on a route without authorization scopes.
    fn verified(payload: Value) -> CallerClaims {
        let payload = payload.as_object().expect("claims").clone();
        CallerClaims::new(delivered_claims(&payload), None, Some(payload))
    }

    fn moderated() -> IdentityPolicy {
        IdentityPolicy {
            moderator_groups: vec!["moderators".into()],
            moderator_scopes: vec!["videosdk/moderate".into()],
            ..IdentityPolicy::default()
        }
    }

    fn may_moderate(policy: &IdentityPolicy, caller: &CallerClaims) -> bool {
        policy.participant(Some(caller), None).unwrap().may_moderate
    }

    #[test]
    fn participant_ids_are_what_identity_providers_issue() {
        for id in [
            "alice",
            "auth0|5f7c8ec7",
            "google-oauth2|1034",
            "0b5e4a3c-9f1d-4d8e-a7c2-3e6f1b2d4c5a",
            "user@example.com",
            "élodie",
            &"a".repeat(MAX_PARTICIPANT_ID_LENGTH),
        ] {
            assert!(is_participant_id(id), "{id:?}");
        }
        for id in [
            "",
            " ",
            "a b",
            "a\tb",
            "a\u{a0}b",
            "a\u{7}b",
            "line\n",
            &"a".repeat(MAX_PARTICIPANT_ID_LENGTH + 1),
        ] {
            assert!(!is_participant_id(id), "{id:?}");
        }
    }

    /// The shape of the captures of live HTTP APIs (docs/security.md): strings as they are,
    /// numbers and booleans as text, arrays flattened with spaces, null claims left out.
    #[test]
    fn claims_are_delivered_as_http_api_writes_them() {
        let payload = json!({"sub": "u-1", "cognito:groups": ["admins", "moderators"],
            "email_verified": true, "auth_time": 1795926500, "one": ["solo"], "none": [],
            "nickname": null});
        let claims = delivered_claims(payload.as_object().unwrap());
        assert_eq!(
            claims,
            delivered(&[
                ("sub", "u-1"),
                ("cognito:groups", "[admins moderators]"),
                ("email_verified", "true"),
                ("auth_time", "1795926500"),
                ("one", "[solo]"),
                ("none", "[]"),
            ])
        );
    }

    #[test]
    fn delivered_lists_are_exact_only_with_one_value() {
        let groups = |text: &str| {
            let caller = caller(&[("sub", "u"), ("groups", text)], &[]);
            format!("{:?}", caller.values("groups"))
        };
        assert_eq!(groups("[admins moderators]"), "Ambiguous");
        assert_eq!(groups("[Former moderators]"), "Ambiguous");
        assert_eq!(groups("[moderators]"), r#"Exact(["moderators"])"#);
        assert_eq!(groups("moderators"), r#"Exact(["moderators"])"#);
        assert_eq!(
            groups("Former moderators"),
            r#"Exact(["Former moderators"])"#
        );
        assert_eq!(groups("[]"), "Exact([])");
        let absent = caller(&[("sub", "u")], &[]);
        assert_eq!(absent.values("groups"), ClaimValues::Exact(vec![]));
    }

    #[test]
    fn lists_are_read_whole_from_the_verified_token() {
        let caller = verified(
            json!({"sub": "u", "groups": ["Former moderators", "admins"],
            "role": "Room hosts", "exp": 1795930100}),
        );
        assert!(caller.has_verified_token());
        assert_eq!(
            caller.values("groups"),
            ClaimValues::Exact(vec!["Former moderators", "admins"])
        );
        assert_eq!(
            caller.values("role"),
            ClaimValues::Exact(vec!["Room hosts"])
        );
        assert_eq!(caller.values("exp"), ClaimValues::Exact(vec![]));
        let policy = IdentityPolicy {
            groups_claim: "groups".into(),
            ..moderated()
        };
        assert!(
            !may_moderate(&policy, &caller),
            "\"Former moderators\" is not moderators"
        );
        let admins = IdentityPolicy {
            moderator_groups: vec!["admins".into()],
            ..policy.clone()
        };
        assert!(may_moderate(&admins, &caller));
        // Without the token, the same delivered text makes no one a moderator.
        let flattened = CallerClaims::new(caller.delivered.clone(), None, None);
        assert!(!flattened.has_verified_token());
        assert!(!may_moderate(&admins, &flattened));
    }

    #[test]
    fn a_token_whose_claims_are_not_the_delivered_ones_is_not_read() {
        let payload = json!({"sub": "u", "groups": ["a", "b"], "iat": 1, "gone": null,
            "address": {"country": "FR"}});
        let payload = payload.as_object().unwrap().clone();
        let genuine = delivered_claims(&payload);
        assert!(
            CallerClaims::new(genuine.clone(), None, Some(payload.clone())).has_verified_token()
        );
        let mut changed = genuine.clone();
        changed.insert("sub".into(), "v".into());
        let mut extra = genuine.clone();
        extra.insert("cognito:groups".into(), "[moderators]".into());
        let mut missing = genuine.clone();
        missing.remove("iat");
        let mut regrouped = genuine.clone();
        regrouped.insert("groups".into(), "[a c]".into());
        let mut stated_null = genuine.clone();
        stated_null.insert("gone".into(), "null".into());
        for delivered in [changed, extra, missing, regrouped, stated_null] {
            let caller = CallerClaims::new(delivered.clone(), None, Some(payload.clone()));
            assert!(!caller.has_verified_token(), "{delivered:?}");
        }
    }

    #[test]
    fn scopes_come_from_the_route_or_the_verified_scope_claims() {
        let policy = moderated();
        // HTTP API's `scopes` is null on a route without authorization scopes, even for an
        // access token with a `scope` claim.
        for caller in [
            caller(&[("sub", "m"), ("scope", "openid videosdk/moderate")], &[]),
            caller(&[("sub", "m"), ("scp", "[openid videosdk/moderate]")], &[]),
            caller(&[("sub", "m"), ("scp", "videosdk/moderate")], &[]),
            caller(&[("sub", "m")], &["videosdk/moderate"]),
            verified(json!({"sub": "m", "scp": ["videosdk/moderate"]})),
        ] {
            assert!(
                may_moderate(&policy, &caller),
                "{:?}",
                caller.scopes().collect::<Vec<_>>()
            );
        }
        for caller in [
            caller(
                &[("sub", "u"), ("scope", "openid videosdk/moderate-not")],
                &[],
            ),
            caller(&[("sub", "u"), ("scopes", "videosdk/moderate")], &[]),
            caller(&[("sub", "u")], &["openid"]),
        ] {
            assert!(!may_moderate(&policy, &caller));
        }
    }

    #[test]
    fn the_identity_claim_is_the_participant_id() {
        let policy = moderated();
        let alice = caller(&[("sub", "auth0|alice")], &[]);
        let participant = policy.participant(Some(&alice), None).unwrap();
        assert_eq!(participant.id.as_deref(), Some("auth0|alice"));
        assert!(!participant.may_moderate);
        assert_eq!(
            policy.participant(Some(&alice), Some("auth0|alice")),
            Ok(participant)
        );
        assert_eq!(
            policy.participant(Some(&alice), Some("bob")),
            Err(IdentityRefusal::Mismatch {
                claim: "sub".into()
            })
        );
        let username = IdentityPolicy {
            identity_claim: "cognito:username".into(),
            ..moderated()
        };
        let maria = caller(&[("sub", "1"), ("cognito:username", "maria")], &[]);
        let id = username.participant(Some(&maria), None).unwrap().id;
        assert_eq!(id.as_deref(), Some("maria"));
    }

    #[test]
    fn an_email_or_phone_number_is_an_identity_only_once_verified() {
        for (claim, value, verified_by) in [
            ("email", "a@example.com", "email_verified"),
            ("phone_number", "+33612345678", "phone_number_verified"),
        ] {
            let policy = IdentityPolicy {
                identity_claim: claim.into(),
                ..moderated()
            };
            let with = |flag: Option<&str>| {
                let mut claims = vec![("sub", "1"), (claim, value)];
                claims.extend(flag.map(|flag| (verified_by, flag)));
                policy.participant(Some(&caller(&claims, &[])), None)
            };
            assert_eq!(with(Some("true")).unwrap().id.as_deref(), Some(value));
            for flag in [None, Some("false"), Some("True"), Some("1")] {
                let refusal = with(flag).unwrap_err();
                assert_eq!(
                    refusal,
                    IdentityRefusal::UnverifiedClaim {
                        claim: claim.into(),
                        verified_by
                    },
                    "{flag:?}"
                );
                let message = refusal.to_string();
                assert!(
                    message.contains(claim) && message.contains(verified_by),
                    "{message}"
                );
            }
        }
    }

    #[test]
    fn self_asserted_claims_are_named_as_such() {
        for claim in ["name", "nickname", "preferred_username", "custom:tenant"] {
            assert!(self_asserted(claim).is_some(), "{claim}");
        }
        for claim in ["sub", "cognito:username", "username", "email", "oid"] {
            assert_eq!(self_asserted(claim), None, "{claim}");
        }
    }

    #[test]
    fn a_missing_or_unusable_claim_names_the_claim() {
        let policy = moderated();
        for claims in [
            &[][..],
            &[("sub", " ")],
            &[("sub", "[a b]")],
            &[("sub", &*"x".repeat(129))],
        ] {
            let refusal = policy
                .participant(Some(&caller(claims, &[])), None)
                .unwrap_err();
            assert!(
                matches!(&refusal, IdentityRefusal::UnusableClaim { claim, .. } if claim == "sub"),
                "{claims:?}: {refusal:?}"
            );
            assert!(refusal.to_string().contains("\"sub\""), "{refusal}");
        }
    }

    #[test]
    fn moderators_by_group_in_both_forms_or_by_scope() {
        let policy = moderated();
        for caller in [
            verified(json!({"sub": "m", "cognito:groups": ["admins", "moderators"]})),
            caller(&[("sub", "m"), ("cognito:groups", "[moderators]")], &[]),
            caller(&[("sub", "m"), ("cognito:groups", "moderators")], &[]),
            caller(&[("sub", "m")], &["openid", "videosdk/moderate"]),
        ] {
            assert!(may_moderate(&policy, &caller), "{caller:?}");
        }
        for caller in [
            caller(&[("sub", "u"), ("cognito:groups", "[admins]")], &[]),
            // One group whose name is the whole flattened text is not a member.
            caller(&[("sub", "u"), ("cognito:groups", "moderators-x")], &[]),
            caller(&[("sub", "u"), ("groups", "moderators")], &["openid"]),
            // Two groups, flattened, with no token to read them from.
            caller(
                &[("sub", "u"), ("cognito:groups", "[admins moderators]")],
                &[],
            ),
        ] {
            assert!(!may_moderate(&policy, &caller), "{caller:?}");
        }
        // Without moderator groups or scopes, ALLOWED_PERMISSIONS alone decides.
        let open = IdentityPolicy::default();
        assert!(may_moderate(&open, &caller(&[("sub", "u")], &[])));
        assert!(open.participant(None, None).unwrap().may_moderate);
        assert!(!policy.participant(None, None).unwrap().may_moderate);
    }

    #[test]
    fn anonymous_callers_follow_the_operators_rules() {
        let open = IdentityPolicy::default();
        assert_eq!(open.participant(None, None).unwrap().id, None);
        assert_eq!(
            open.participant(None, Some("auth0|x"))
                .unwrap()
                .id
                .as_deref(),
            Some("auth0|x")
        );
        assert_eq!(
            open.participant(None, Some("a b")),
            Err(IdentityRefusal::InvalidParticipantId)
        );
        let required = IdentityPolicy {
            require_identity: true,
            ..IdentityPolicy::default()
        };
        assert_eq!(
            required.participant(None, None),
            Err(IdentityRefusal::Required)
        );
        let generated = IdentityPolicy {
            anonymous_ids: AnonymousIds::Generated,
            ..IdentityPolicy::default()
        };
        assert_eq!(
            generated.participant(None, Some("alice")),
            Err(IdentityRefusal::ChosenIdNotAllowed)
        );
        let first = generated.participant(None, None).unwrap().id.unwrap();
        let second = generated.participant(None, None).unwrap().id.unwrap();
        assert_ne!(first, second);
        assert!(first.starts_with("guest-") && first.len() == 38, "{first}");
        assert!(is_participant_id(&first));
        // A signed-in caller keeps their own id under `generate`.
        let alice = caller(&[("sub", "alice")], &[]);
        assert_eq!(
            generated
                .participant(Some(&alice), None)
                .unwrap()
                .id
                .as_deref(),
            Some("alice")
        );
    }

    #[test]
    fn a_joiner_always_has_an_id() {
        let open = IdentityPolicy::default();
        let (named, _) = open.joiner(None, Some("alice")).unwrap();
        assert_eq!(named, "alice");
        let (first, _) = open.joiner(None, None).unwrap();
        let (second, _) = open.joiner(None, None).unwrap();
        assert!(
            first.starts_with("guest-") && is_participant_id(&first),
            "{first}"
        );
        assert_ne!(first, second);
        let bob = caller(&[("sub", "bob")], &[]);
        assert_eq!(open.joiner(Some(&bob), None).unwrap().0, "bob");
        assert_eq!(
            open.joiner(Some(&bob), Some("alice")),
            Err(IdentityRefusal::Mismatch {
                claim: "sub".into()
            })
        );
    }

    #[test]
    fn who_may_create_a_room() {
        for (rule, moderator_may, member_may) in [
            (RoomCreators::Everyone, true, true),
            (RoomCreators::Moderators, true, false),
            (RoomCreators::Nobody, false, false),
        ] {
            assert_eq!(rule.allow(true), moderator_may, "{rule:?}");
            assert_eq!(rule.allow(false), member_may, "{rule:?}");
        }
    }

    #[test]
    fn identity_rules_are_any_rule_about_callers() {
        assert!(!IdentityPolicy::default().has_identity_rules());
        for policy in [
            moderated(),
            IdentityPolicy {
                require_identity: true,
                ..IdentityPolicy::default()
            },
            IdentityPolicy {
                room_creators: RoomCreators::Nobody,
                ..IdentityPolicy::default()
            },
            IdentityPolicy {
                anonymous_ids: AnonymousIds::Generated,
                ..IdentityPolicy::default()
            },
        ] {
            assert!(policy.has_identity_rules(), "{policy:?}");
        }
    }
}
