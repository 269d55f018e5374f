//! VideoSDK permissions and the policy that decides which ones a token may carry.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One entry of a token's `permissions` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Join the meeting directly.
    AllowJoin,
    /// Ask to join; a host admits the participant.
    AskJoin,
    /// Moderate: remove participants, control recordings and so on.
    AllowMod,
}

impl Permission {
    pub const ALL: [Permission; 3] = [Self::AllowJoin, Self::AskJoin, Self::AllowMod];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AllowJoin => "allow_join",
            Self::AskJoin => "ask_join",
            Self::AllowMod => "allow_mod",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Permission {
    type Err = PermissionError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|permission| permission.as_str() == name)
            .ok_or_else(|| PermissionError::Unknown(name.to_owned()))
    }
}

/// Why a list of permissions was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PermissionError {
    #[error("the permission list is empty")]
    Empty,
    #[error("unknown permission {0:?}; use allow_join, ask_join or allow_mod")]
    Unknown(String),
    #[error("ask_join cannot be combined with allow_join or allow_mod (VideoSDK refuses the mix)")]
    Conflicting,
    #[error("allow_mod alone admits no one to a room (VideoSDK); add allow_join")]
    ModerateWithoutJoin,
}

/// A non-empty, duplicate-free set of permissions that VideoSDK accepts together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionSet(BTreeSet<Permission>);

impl PermissionSet {
    /// Parses a comma-separated list such as `allow_join,allow_mod`. Blanks around names are
    /// ignored; an empty list, an unknown name or the `ask_join` mix is refused.
    pub fn parse_list(list: &str) -> Result<Self, PermissionError> {
        let names = list
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty());
        let set = names
            .map(Permission::from_str)
            .collect::<Result<BTreeSet<_>, _>>()?;
        Self::new(set)
    }

    pub fn new(set: BTreeSet<Permission>) -> Result<Self, PermissionError> {
        if set.is_empty() {
            return Err(PermissionError::Empty);
        }
        let ask = set.contains(&Permission::AskJoin);
        if ask && set.len() > 1 {
            return Err(PermissionError::Conflicting);
        }
        if set.contains(&Permission::AllowMod) && !set.contains(&Permission::AllowJoin) {
            return Err(PermissionError::ModerateWithoutJoin);
        }
        Ok(Self(set))
    }

    pub fn contains(&self, permission: Permission) -> bool {
        self.0.contains(&permission)
    }

    pub fn iter(&self) -> impl Iterator<Item = Permission> + '_ {
        self.0.iter().copied()
    }

    pub fn to_vec(&self) -> Vec<Permission> {
        self.iter().collect()
    }
}

impl fmt::Display for PermissionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Permission::as_str).collect();
        f.write_str(&names.join(","))
    }
}

/// The operator's list of permissions that tokens may carry. Unlike a [`PermissionSet`] it may
/// hold `ask_join` beside the others: it bounds what one request may ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AllowedPermissions(BTreeSet<Permission>);

impl AllowedPermissions {
    pub(crate) fn parse_list(list: &str) -> Result<Self, PermissionError> {
        let set = list
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(Permission::from_str)
            .collect::<Result<BTreeSet<_>, _>>()?;
        if set.is_empty() {
            return Err(PermissionError::Empty);
        }
        Ok(Self(set))
    }

    pub(crate) fn contains(&self, permission: Permission) -> bool {
        self.0.contains(&permission)
    }
}

/// Why a request for permissions was refused by the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PolicyRefusal {
    /// The request itself is not a valid permission set (answered 400).
    Invalid(PermissionError),
    /// A valid permission the operator has not allowed (answered 403).
    NotAllowed(Permission),
    /// `allow_mod` for a caller who is not a moderator (answered 403).
    NotModerator,
}

/// VideoSDK's participant role: a token with it joins rooms.
pub(crate) const ROLE_PARTICIPANT: &str = "rtc";
/// VideoSDK's management role: a token with it calls the account's REST API (rooms, recordings,
/// sessions). Only this service's own upstream calls need it.
pub(crate) const ROLE_MANAGEMENT: &str = "crawler";

/// Why a `TOKEN_ROLES` list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RoleError {
    #[error("the role list is empty; use rtc")]
    Empty,
    #[error("unknown role {0:?}; use rtc (participants) or crawler (REST API)")]
    Unknown(String),
    #[error("role {0:?} is listed twice")]
    Duplicate(String),
}

/// The `roles` claim of the tokens get-token issues: `rtc` and/or `crawler`, in any case, kept
/// exactly as written (so `CRAWLER` reproduces the token of VideoSDK's early examples).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRoles(Vec<String>);

impl TokenRoles {
    /// Participant tokens: `["rtc"]`.
    pub fn participant() -> Self {
        Self(vec![ROLE_PARTICIPANT.to_owned()])
    }

    /// Parses a comma-separated list such as `rtc` or `rtc,crawler`.
    pub(crate) fn parse_list(list: &str) -> Result<Self, RoleError> {
        let mut roles: Vec<String> = Vec::new();
        for name in list
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
        {
            let known = [ROLE_PARTICIPANT, ROLE_MANAGEMENT]
                .iter()
                .any(|role| role.eq_ignore_ascii_case(name));
            if !known {
                return Err(RoleError::Unknown(name.to_owned()));
            }
            if roles.iter().any(|role| role.eq_ignore_ascii_case(name)) {
                return Err(RoleError::Duplicate(name.to_owned()));
            }
            roles.push(name.to_owned());
        }
        if roles.is_empty() {
            return Err(RoleError::Empty);
        }
        Ok(Self(roles))
    }

    /// Whether the tokens can call VideoSDK's REST API for the whole account.
    pub(crate) fn includes_management(&self) -> bool {
        self.0
            .iter()
            .any(|role| role.eq_ignore_ascii_case(ROLE_MANAGEMENT))
    }

    /// Whether the tokens join rooms and do nothing else: `rtc` alone.
    pub(crate) fn is_participant_only(&self) -> bool {
        matches!(&self.0[..], [role] if role.eq_ignore_ascii_case(ROLE_PARTICIPANT))
    }

    pub fn to_vec(&self) -> Vec<String> {
        self.0.clone()
    }
}

/// What a token issued by this deployment may say: its lifetime, permissions and roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenPolicy {
    pub(crate) ttl_seconds: u64,
    /// The lifetime of a token scoped to a room (`ROOM_TOKEN_TTL_SECONDS`, at most
    /// `ttl_seconds`): how long a token issued before a ban still admits its holder.
    pub(crate) room_ttl_seconds: u64,
    pub(crate) default_permissions: PermissionSet,
    pub(crate) allowed_permissions: AllowedPermissions,
    pub(crate) roles: TokenRoles,
}

impl TokenPolicy {
    /// The lifetime of a token: [`Self::room_ttl_seconds`] when it is scoped to a room.
    pub(crate) fn lifetime(&self, scoped_to_a_room: bool) -> u64 {
        if scoped_to_a_room {
            self.room_ttl_seconds
        } else {
            self.ttl_seconds
        }
    }

    /// Whether a caller moderates rooms (the moderation routes): the identity rules let them
    /// have `allow_mod` (`may_moderate`) and `ALLOWED_PERMISSIONS` allows it at all.
    pub(crate) fn moderates(&self, may_moderate: bool) -> bool {
        may_moderate && self.allowed_permissions.contains(Permission::AllowMod)
    }

    /// The permissions a token gets for a request: the defaults when it names none, otherwise
    /// exactly the ones it names, each of which must be allowed, and `allow_mod` only for a
    /// caller who `may_moderate` (the identity policy decides).
    pub(crate) fn grant(
        &self,
        requested: Option<&str>,
        may_moderate: bool,
    ) -> Result<PermissionSet, PolicyRefusal> {
        let Some(list) = requested else {
            return Ok(self.default_permissions.clone());
        };
        let set = PermissionSet::parse_list(list).map_err(PolicyRefusal::Invalid)?;
        let refused = set
            .iter()
            .find(|permission| !self.allowed_permissions.contains(*permission));
        match refused {
            Some(refused) => Err(PolicyRefusal::NotAllowed(refused)),
            None if set.contains(Permission::AllowMod) && !may_moderate => {
                Err(PolicyRefusal::NotModerator)
            }
            None => Ok(set),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> TokenPolicy {
        TokenPolicy {
            ttl_seconds: 600,
            room_ttl_seconds: 600,
            default_permissions: PermissionSet::parse_list("allow_join").unwrap(),
            allowed_permissions: AllowedPermissions::parse_list("allow_join,ask_join").unwrap(),
            roles: TokenRoles::participant(),
        }
    }

    #[test]
    fn parses_lists_in_a_stable_order_without_duplicates() {
        let set = PermissionSet::parse_list(" allow_mod , allow_join,allow_mod").unwrap();
        assert_eq!(set.to_vec(), [Permission::AllowJoin, Permission::AllowMod]);
        assert_eq!(set.to_string(), "allow_join,allow_mod");
    }

    #[test]
    fn refuses_empty_unknown_and_conflicting_lists() {
        assert_eq!(
            PermissionSet::parse_list(" , "),
            Err(PermissionError::Empty)
        );
        assert_eq!(
            PermissionSet::parse_list("allow_join,superuser"),
            Err(PermissionError::Unknown("superuser".into()))
        );
        assert_eq!(
            PermissionSet::parse_list("ALLOW_JOIN"),
            Err(PermissionError::Unknown("ALLOW_JOIN".into()))
        );
        for mix in ["ask_join,allow_join", "allow_mod,ask_join"] {
            assert_eq!(
                PermissionSet::parse_list(mix),
                Err(PermissionError::Conflicting)
            );
        }
        assert!(PermissionSet::parse_list("ask_join").is_ok());
        assert_eq!(
            PermissionSet::parse_list("allow_mod"),
            Err(PermissionError::ModerateWithoutJoin)
        );
        assert!(PermissionSet::parse_list("allow_mod,allow_join").is_ok());
    }

    #[test]
    fn policy_grants_defaults_and_allowed_requests_only() {
        let policy = policy();
        assert_eq!(
            policy.grant(None, false).unwrap().to_vec(),
            [Permission::AllowJoin]
        );
        assert_eq!(
            policy.grant(Some("ask_join"), false).unwrap().to_vec(),
            [Permission::AskJoin]
        );
        assert_eq!(
            policy.grant(Some("allow_join,allow_mod"), true),
            Err(PolicyRefusal::NotAllowed(Permission::AllowMod))
        );
        assert_eq!(
            policy.grant(Some(""), false),
            Err(PolicyRefusal::Invalid(PermissionError::Empty))
        );
        assert_eq!(
            policy.grant(Some("ask_join,allow_join"), false),
            Err(PolicyRefusal::Invalid(PermissionError::Conflicting))
        );
    }

    #[test]
    fn allow_mod_is_for_moderators_within_the_allowed_permissions() {
        let policy = TokenPolicy {
            allowed_permissions: AllowedPermissions::parse_list("allow_join,allow_mod").unwrap(),
            ..policy()
        };
        assert_eq!(
            policy
                .grant(Some("allow_join,allow_mod"), true)
                .unwrap()
                .to_vec(),
            [Permission::AllowJoin, Permission::AllowMod]
        );
        assert_eq!(
            policy.grant(Some("allow_join,allow_mod"), false),
            Err(PolicyRefusal::NotModerator)
        );
        assert_eq!(
            policy.grant(Some("allow_join"), false).unwrap().to_vec(),
            [Permission::AllowJoin]
        );
    }

    #[test]
    fn roles_are_rtc_or_crawler_in_any_case_kept_as_written() {
        let roles = TokenRoles::parse_list(" CRAWLER ").unwrap();
        assert_eq!(roles.to_vec(), ["CRAWLER"]);
        assert!(roles.includes_management());
        let roles = TokenRoles::parse_list("rtc,Crawler").unwrap();
        assert_eq!(roles.to_vec(), ["rtc", "Crawler"]);
        assert!(!TokenRoles::participant().includes_management());
        assert_eq!(TokenRoles::participant().to_vec(), ["rtc"]);
        assert_eq!(TokenRoles::parse_list(" , "), Err(RoleError::Empty));
        assert_eq!(
            TokenRoles::parse_list("rtc,admin"),
            Err(RoleError::Unknown("admin".into()))
        );
        assert_eq!(
            TokenRoles::parse_list("rtc,RTC"),
            Err(RoleError::Duplicate("RTC".into()))
        );
    }
}
