//! What a token carries: its lifetime (`TOKEN_TTL_SECONDS`), the permissions a caller may ask
//! for and those it gets by default (`ALLOWED_PERMISSIONS`, `DEFAULT_PERMISSIONS`), and its
//! roles (`TOKEN_ROLES`).

use super::SettingsError;
use super::variables::{Seconds, Variables};
use crate::domain::permissions::{AllowedPermissions, PermissionSet, TokenPolicy, TokenRoles};

pub(super) const TTL_SECONDS: Seconds = Seconds {
    name: "TOKEN_TTL_SECONDS",
    default: 600,
    range: 1..=86_400,
};
/// `ROOM_TOKEN_TTL_SECONDS`: the lifetime of tokens scoped to a room; unset, `TOKEN_TTL_SECONDS`.
pub(super) const ROOM_TTL_VARIABLE: &str = "ROOM_TOKEN_TTL_SECONDS";
const DEFAULT_PERMISSIONS: &str = "allow_join";
const DEFAULT_ALLOWED_PERMISSIONS: &str = "allow_join,ask_join";
const DEFAULT_TOKEN_ROLES: &str = "rtc";

/// `ALLOWED_PERMISSIONS` and `DEFAULT_PERMISSIONS` as read, checked against each other.
pub(super) struct Permissions {
    pub(super) allowed: AllowedPermissions,
    pub(super) default: PermissionSet,
    /// `ALLOWED_PERMISSIONS` as written, for the errors that quote it.
    pub(super) allowed_text: String,
}

impl Permissions {
    pub(super) fn into_policy(
        self,
        ttl_seconds: u64,
        room_ttl_seconds: u64,
        roles: TokenRoles,
    ) -> TokenPolicy {
        TokenPolicy {
            ttl_seconds,
            room_ttl_seconds,
            default_permissions: self.default,
            allowed_permissions: self.allowed,
            roles,
        }
    }
}

/// `ROOM_TOKEN_TTL_SECONDS`: 1 to 86400, and room tokens live the shorter of it and
/// `ttl_seconds` (it narrows, never widens, the window in which a token issued before a ban
/// still admits); unset, `ttl_seconds`.
pub(super) fn room_ttl_seconds(
    vars: &Variables<impl Fn(&str) -> Option<String>>,
    ttl_seconds: u64,
) -> Result<u64, SettingsError> {
    let room = vars.seconds(&Seconds {
        name: ROOM_TTL_VARIABLE,
        default: ttl_seconds,
        range: TTL_SECONDS.range.clone(),
    })?;
    Ok(room.min(ttl_seconds))
}

/// The permissions, every default one among the allowed.
pub(super) fn permissions(
    vars: &Variables<impl Fn(&str) -> Option<String>>,
) -> Result<Permissions, SettingsError> {
    let (allowed, allowed_text) =
        vars.parse_or("ALLOWED_PERMISSIONS", DEFAULT_ALLOWED_PERMISSIONS, |text| {
            AllowedPermissions::parse_list(text).map(|allowed| (allowed, text.to_owned()))
        })?;
    let default = vars.parse_or(
        "DEFAULT_PERMISSIONS",
        DEFAULT_PERMISSIONS,
        PermissionSet::parse_list,
    )?;
    if let Some(refused) = default
        .iter()
        .find(|permission| !allowed.contains(*permission))
    {
        return Err(SettingsError::new(
            "DEFAULT_PERMISSIONS",
            format!("{refused} is not in ALLOWED_PERMISSIONS ({allowed_text})"),
        ));
    }
    Ok(Permissions {
        allowed,
        default,
        allowed_text,
    })
}

pub(super) fn roles(
    vars: &Variables<impl Fn(&str) -> Option<String>>,
) -> Result<TokenRoles, SettingsError> {
    vars.parse_or("TOKEN_ROLES", DEFAULT_TOKEN_ROLES, TokenRoles::parse_list)
}

#[cfg(test)]
mod tests {
    use crate::domain::permissions::Permission;
    use crate::settings::tests::DEV;
    use crate::test_support::settings_from_pairs as settings;

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
