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
pub struct AllowedPermissions(BTreeSet<Permission>);

impl AllowedPermissions {
    pub fn parse_list(list: &str) -> Result<Self, PermissionError> {
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

    pub fn contains(&self, permission: Permission) -> bool {
        self.0.contains(&permission)
    }
}

/// Why a request for permissions was refused by the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyRefusal {
    /// The request itself is not a valid permission set (answered 400).
    Invalid(PermissionError),
    /// A valid permission the operator has not allowed (answered 403).
    NotAllowed(Permission),
}

impl From<PolicyRefusal> for crate::ApiError {
    fn from(refusal: PolicyRefusal) -> Self {
        match refusal {
            PolicyRefusal::Invalid(error) => {
                let code = match error {
                    PermissionError::Empty => "invalid_permissions",
                    PermissionError::Unknown(_) => "unknown_permission",
                    PermissionError::Conflicting => "conflicting_permissions",
                };
                let message = match error {
                    PermissionError::Empty => "The permissions parameter names no permission.".to_owned(),
                    PermissionError::Unknown(name) => format!(
                        "Unknown permission {:?}; use allow_join, ask_join or allow_mod.",
                        crate::api_error::excerpt(&name)
                    ),
                    PermissionError::Conflicting => "ask_join cannot be combined with allow_join or allow_mod; VideoSDK refuses the mix.".to_owned(),
                };
                Self::bad_request(code, message)
            }
            PolicyRefusal::NotAllowed(permission) => Self::forbidden(
                "permission_not_allowed",
                format!(
                    "This API does not issue tokens with {permission}; see ALLOWED_PERMISSIONS."
                ),
            ),
        }
    }
}

/// What a token issued by this deployment may say: its lifetime and its permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPolicy {
    pub ttl_seconds: u64,
    pub default_permissions: PermissionSet,
    pub allowed_permissions: AllowedPermissions,
}

impl TokenPolicy {
    /// The permissions a token gets for a request: the defaults when it names none, otherwise
    /// exactly the ones it names, each of which must be allowed.
    pub fn grant(&self, requested: Option<&str>) -> Result<PermissionSet, PolicyRefusal> {
        let Some(list) = requested else {
            return Ok(self.default_permissions.clone());
        };
        let set = PermissionSet::parse_list(list).map_err(PolicyRefusal::Invalid)?;
        let refused = set
            .iter()
            .find(|permission| !self.allowed_permissions.contains(*permission));
        match refused {
            Some(refused) => Err(PolicyRefusal::NotAllowed(refused)),
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
            default_permissions: PermissionSet::parse_list("allow_join").unwrap(),
            allowed_permissions: AllowedPermissions::parse_list("allow_join,ask_join").unwrap(),
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
    }

    #[test]
    fn policy_grants_defaults_and_allowed_requests_only() {
        let policy = policy();
        assert_eq!(
            policy.grant(None).unwrap().to_vec(),
            [Permission::AllowJoin]
        );
        assert_eq!(
            policy.grant(Some("ask_join")).unwrap().to_vec(),
            [Permission::AskJoin]
        );
        assert_eq!(
            policy.grant(Some("allow_join,allow_mod")),
            Err(PolicyRefusal::NotAllowed(Permission::AllowMod))
        );
        assert_eq!(
            policy.grant(Some("")),
            Err(PolicyRefusal::Invalid(PermissionError::Empty))
        );
        assert_eq!(
            policy.grant(Some("ask_join,allow_join")),
            Err(PolicyRefusal::Invalid(PermissionError::Conflicting))
        );
    }
}
