//! Who a token is for: the participant ids VideoSDK accepts, the signed-in caller's claims, and
//! the policy that turns them into a token's participant id and the right to moderate. The
//! server chooses identity and permissions, not the query: with claims, the participant id is
//! the identity claim's value; without, the operator decides whether callers choose their own.

use std::collections::HashMap;
use std::fmt;

/// The longest participant id accepted (from a query, a claim or `allowedParticipantIds`).
pub(crate) const MAX_PARTICIPANT_ID_LENGTH: usize = 128;

/// 1 to [`MAX_PARTICIPANT_ID_LENGTH`] characters, none of them whitespace or a control
/// character. VideoSDK forbids only whitespace in participant ids; identity providers issue ids
/// such as `auth0|5f7c8ec7`, `google-oauth2|1034` or Cognito's UUIDs.
pub(crate) fn is_participant_id(text: &str) -> bool {
    (1..=MAX_PARTICIPANT_ID_LENGTH).contains(&text.chars().count())
        && text.chars().all(|c| !c.is_whitespace() && !c.is_control())
}

/// What API Gateway's JWT authorizer passed on about the caller (HTTP API, payload 2.0): the
/// verified token's claims and its scopes. Every claim value is a string; an array claim such as
/// `cognito:groups` arrives flattened to `"[admin moderators]"` (read by `claim_values`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CallerClaims {
    pub claims: HashMap<String, String>,
    pub scopes: Vec<String>,
}

/// Claim values identify people: they are not printed, only counted.
impl fmt::Debug for CallerClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallerClaims")
            .field("claims", &self.claims.len())
            .field("scopes", &self.scopes.len())
            .finish()
    }
}

/// The values of a claim as HTTP API delivers it: an array flattened to `[a b]` (its elements
/// separated by spaces, so an element cannot hold one), or a single value. Measured by others,
/// not documented by AWS for HTTP APIs: see docs/security.md, "Signed-in callers".
pub(crate) fn claim_values(text: &str) -> Vec<&str> {
    let text = text.trim();
    match text
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
    {
        Some(elements) => elements.split_whitespace().collect(),
        None if text.is_empty() => Vec::new(),
        None => vec![text],
    }
}

/// Where an anonymous caller's participant id comes from (`ANONYMOUS_PARTICIPANT_IDS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AnonymousIds {
    /// `caller`: the query's `participantId`, if any (the seed's behaviour).
    CallerChosen,
    /// `generate`: a fresh random id per token; a caller-chosen one is refused.
    Generated,
}

/// Who may have `POST /join` create a room (`JOIN_MAY_CREATE`); anyone may join one that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JoinMayCreate {
    /// `everyone` (the default, as create-meeting is open to any holder of a token).
    Everyone,
    /// `moderators`: callers the identity rules let have `allow_mod`.
    Moderators,
    /// `nobody`: rooms are made elsewhere (create-meeting, VideoSDK's dashboard or API).
    Nobody,
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
    /// `JOIN_MAY_CREATE`.
    pub(crate) join_may_create: JoinMayCreate,
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
            join_may_create: JoinMayCreate::Everyone,
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
        let unusable = |why| IdentityRefusal::UnusableClaim {
            claim: self.identity_claim.clone(),
            why,
        };
        let id = match caller.claims.get(&self.identity_claim).map(|v| v.trim()) {
            None | Some("") => return Err(unusable("is missing from your token")),
            Some(id) if !is_participant_id(id) => {
                return Err(unusable(
                    "is over 128 characters, or holds whitespace (an array?)",
                ));
            }
            Some(id) => id,
        };
        if requested_id.is_some_and(|requested| requested != id) {
            return Err(IdentityRefusal::Mismatch {
                claim: self.identity_claim.clone(),
            });
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

    /// Whether `participant` may have `POST /join` create a room (`JOIN_MAY_CREATE`).
    pub(crate) fn may_create_room(&self, participant: &Participant) -> bool {
        match self.join_may_create {
            JoinMayCreate::Everyone => true,
            JoinMayCreate::Moderators => participant.may_moderate,
            JoinMayCreate::Nobody => false,
        }
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

    fn is_moderator(&self, caller: &CallerClaims) -> bool {
        let in_group = caller.claims.get(&self.groups_claim).is_some_and(|groups| {
            claim_values(groups)
                .iter()
                .any(|group| self.moderator_groups.iter().any(|m| m == group))
        });
        let has_scope = caller
            .scopes
            .iter()
            .any(|scope| self.moderator_scopes.iter().any(|m| m == scope));
        in_group || has_scope
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
    use super::*;

    fn caller(claims: &[(&str, &str)], scopes: &[&str]) -> CallerClaims {
        CallerClaims {
            claims: claims
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            scopes: scopes.iter().map(|scope| scope.to_string()).collect(),
        }
    }

    fn moderated() -> IdentityPolicy {
        IdentityPolicy {
            moderator_groups: vec!["moderators".into()],
            moderator_scopes: vec!["videosdk/moderate".into()],
            ..IdentityPolicy::default()
        }
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

    #[test]
    fn claims_arrive_flattened_or_single() {
        assert_eq!(claim_values("[admin moderators]"), ["admin", "moderators"]);
        assert_eq!(claim_values("[moderators]"), ["moderators"]);
        assert_eq!(claim_values("moderators"), ["moderators"]);
        assert_eq!(claim_values("[]"), Vec::<&str>::new());
        assert_eq!(claim_values(""), Vec::<&str>::new());
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
        let email = IdentityPolicy {
            identity_claim: "email".into(),
            ..moderated()
        };
        let with_email = caller(&[("sub", "1"), ("email", "a@example.com")], &[]);
        assert_eq!(
            email
                .participant(Some(&with_email), None)
                .unwrap()
                .id
                .as_deref(),
            Some("a@example.com")
        );
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
        for (claims, scopes) in [
            (
                &[("sub", "m"), ("cognito:groups", "[admins moderators]")][..],
                &[][..],
            ),
            (&[("sub", "m"), ("cognito:groups", "moderators")], &[]),
            (&[("sub", "m")], &["openid", "videosdk/moderate"]),
        ] {
            let participant = policy
                .participant(Some(&caller(claims, scopes)), None)
                .unwrap();
            assert!(participant.may_moderate, "{claims:?} {scopes:?}");
        }
        for (claims, scopes) in [
            (&[("sub", "u"), ("cognito:groups", "[admins]")][..], &[][..]),
            // One group whose name is the whole flattened text is not a member.
            (&[("sub", "u"), ("cognito:groups", "moderators-x")], &[]),
            (&[("sub", "u"), ("groups", "moderators")], &["openid"]),
        ] {
            let participant = policy
                .participant(Some(&caller(claims, scopes)), None)
                .unwrap();
            assert!(!participant.may_moderate, "{claims:?} {scopes:?}");
        }
        // Without moderator groups or scopes, ALLOWED_PERMISSIONS alone decides.
        let open = IdentityPolicy::default();
        assert!(
            open.participant(Some(&caller(&[("sub", "u")], &[])), None)
                .unwrap()
                .may_moderate
        );
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
    fn who_may_create_a_room_on_join() {
        let moderator = caller(&[("sub", "m"), ("cognito:groups", "[moderators]")], &[]);
        let member = caller(&[("sub", "u")], &[]);
        for (rule, moderator_may, member_may) in [
            (JoinMayCreate::Everyone, true, true),
            (JoinMayCreate::Moderators, true, false),
            (JoinMayCreate::Nobody, false, false),
        ] {
            let policy = IdentityPolicy {
                join_may_create: rule,
                ..moderated()
            };
            let may = |who: &CallerClaims| {
                policy.may_create_room(&policy.participant(Some(who), None).unwrap())
            };
            assert_eq!(may(&moderator), moderator_may, "{rule:?}");
            assert_eq!(may(&member), member_may, "{rule:?}");
        }
    }
}
