//! What a token carries: its lifetime (`TOKEN_TTL_SECONDS`), the permissions a caller may ask
//! for and those it gets by default (`ALLOWED_PERMISSIONS`, `DEFAULT_PERMISSIONS`), and its
//! roles (`TOKEN_ROLES`).

use super::SettingsError;
use super::variables::Variables;
use crate::domain::permissions::{AllowedPermissions, PermissionSet, TokenPolicy, TokenRoles};

const DEFAULT_TTL_SECONDS: u64 = 600;
const MAX_TTL_SECONDS: u64 = 86_400;
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
    pub(super) fn into_policy(self, ttl_seconds: u64, roles: TokenRoles) -> TokenPolicy {
        TokenPolicy {
            ttl_seconds,
            default_permissions: self.default,
            allowed_permissions: self.allowed,
            roles,
        }
    }
}

pub(super) fn ttl_seconds(
    vars: &Variables<impl Fn(&str) -> Option<String>>,
) -> Result<u64, SettingsError> {
    vars.seconds(
        "TOKEN_TTL_SECONDS",
        DEFAULT_TTL_SECONDS,
        1..=MAX_TTL_SECONDS,
    )
}

/// The permissions, every default one among the allowed.
pub(super) fn permissions(
    vars: &Variables<impl Fn(&str) -> Option<String>>,
) -> Result<Permissions, SettingsError> {
    let allowed_text = vars
        .get("ALLOWED_PERMISSIONS")
        .unwrap_or_else(|| DEFAULT_ALLOWED_PERMISSIONS.to_owned());
    let allowed = AllowedPermissions::parse_list(&allowed_text)
        .map_err(|error| SettingsError::new("ALLOWED_PERMISSIONS", error.to_string()))?;

    let default_text = vars
        .get("DEFAULT_PERMISSIONS")
        .unwrap_or_else(|| DEFAULT_PERMISSIONS.to_owned());
    let default = PermissionSet::parse_list(&default_text)
        .map_err(|error| SettingsError::new("DEFAULT_PERMISSIONS", error.to_string()))?;
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
    let roles_text = vars
        .get("TOKEN_ROLES")
        .unwrap_or_else(|| DEFAULT_TOKEN_ROLES.to_owned());
    TokenRoles::parse_list(&roles_text)
        .map_err(|error| SettingsError::new("TOKEN_ROLES", error.to_string()))
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
