//! Who a token is for and who may moderate: `IDENTITY_CLAIM`, `GROUPS_CLAIM`,
//! `MODERATOR_GROUPS`, `MODERATOR_SCOPES`, `REQUIRE_IDENTITY`, `ANONYMOUS_PARTICIPANT_IDS` and
//! `JOIN_MAY_CREATE`.

use super::SettingsError;
use super::token_policy::Permissions;
use super::variables::Variables;
use crate::domain::identity::{AnonymousIds, IdentityPolicy, JoinMayCreate};
use crate::domain::permissions::Permission;

/// `IDENTITY_CLAIM`, `GROUPS_CLAIM`, `MODERATOR_GROUPS`, `MODERATOR_SCOPES`,
/// `ANONYMOUS_PARTICIPANT_IDS`, and `REQUIRE_IDENTITY` as read.
pub(super) fn identity_policy(
    vars: &Variables<impl Fn(&str) -> Option<String>>,
) -> Result<IdentityPolicy, SettingsError> {
    let require_identity = vars.flag("REQUIRE_IDENTITY")?;
    let defaults = IdentityPolicy::default();
    let claim = |name: &'static str, default: String| match vars.get(name) {
        None => Ok(default),
        Some(claim) if claim.chars().any(char::is_whitespace) || claim.len() > 256 => Err(
            SettingsError::new(name, format!("{claim:?} is not a claim name")),
        ),
        Some(claim) => Ok(claim),
    };
    let list = |name: &'static str| -> Result<Vec<String>, SettingsError> {
        let items: Vec<String> = vars
            .get(name)
            .iter()
            .flat_map(|list| list.split(','))
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect();
        match items
            .iter()
            .find(|item| item.chars().any(char::is_whitespace))
        {
            Some(bad) => Err(SettingsError::new(
                name,
                format!("{bad:?} holds whitespace, which no group or scope name does"),
            )),
            None => Ok(items),
        }
    };
    let anonymous_ids = match vars.get("ANONYMOUS_PARTICIPANT_IDS").as_deref() {
        None | Some("caller") => AnonymousIds::CallerChosen,
        Some("generate") => AnonymousIds::Generated,
        Some(other) => {
            return Err(SettingsError::new(
                "ANONYMOUS_PARTICIPANT_IDS",
                format!("{other:?} is neither caller nor generate"),
            ));
        }
    };
    let join_may_create = match vars.get("JOIN_MAY_CREATE").as_deref() {
        None | Some("everyone") => JoinMayCreate::Everyone,
        Some("moderators") => JoinMayCreate::Moderators,
        Some("nobody") => JoinMayCreate::Nobody,
        Some(other) => {
            return Err(SettingsError::new(
                "JOIN_MAY_CREATE",
                format!("{other:?} is not everyone, moderators or nobody"),
            ));
        }
    };
    let policy = IdentityPolicy {
        identity_claim: claim("IDENTITY_CLAIM", defaults.identity_claim)?,
        groups_claim: claim("GROUPS_CLAIM", defaults.groups_claim)?,
        moderator_groups: list("MODERATOR_GROUPS")?,
        moderator_scopes: list("MODERATOR_SCOPES")?,
        require_identity,
        anonymous_ids,
        join_may_create,
    };
    // Without moderator groups or scopes every caller may moderate: `moderators` would quietly
    // mean everyone.
    if join_may_create == JoinMayCreate::Moderators && !policy.restricts_moderation() {
        return Err(SettingsError::new(
            "JOIN_MAY_CREATE",
            "moderators, but neither MODERATOR_GROUPS nor MODERATOR_SCOPES says who they are",
        ));
    }
    Ok(policy)
}

/// Where moderation is kept for moderators, that they can get `allow_mod` and that no one gets
/// it by default.
pub(super) fn check_moderators_can_moderate(
    identity: &IdentityPolicy,
    permissions: &Permissions,
) -> Result<(), SettingsError> {
    if !identity.restricts_moderation() {
        return Ok(());
    }
    let variable = if identity.moderator_groups.is_empty() {
        "MODERATOR_SCOPES"
    } else {
        "MODERATOR_GROUPS"
    };
    if !permissions.allowed.contains(Permission::AllowMod) {
        return Err(SettingsError::new(
            variable,
            format!(
                "set, but ALLOWED_PERMISSIONS ({}) has no allow_mod for moderators to get; add it",
                permissions.allowed_text
            ),
        ));
    }
    if permissions.default.contains(Permission::AllowMod) {
        return Err(SettingsError::new(
            "DEFAULT_PERMISSIONS",
            format!(
                "has allow_mod, but {variable} keeps it for moderators; leave it out \
                 (moderators ask for it)"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::tests::{DEV, dev_and};
    use crate::test_support::settings_from_pairs as settings;

    #[test]
    fn identity_settings_default_to_the_anonymous_seed_behaviour() {
        let identity = settings(&DEV).unwrap().identity;
        assert_eq!(identity, IdentityPolicy::default());
        assert_eq!(identity.identity_claim, "sub");
        assert_eq!(identity.groups_claim, "cognito:groups");
        assert!(!identity.require_identity && !identity.restricts_moderation());
        assert_eq!(identity.anonymous_ids, AnonymousIds::CallerChosen);
    }

    #[test]
    fn identity_settings_are_read_and_checked() {
        let identity = dev_and(&[
            ("IDENTITY_CLAIM", "email"),
            ("GROUPS_CLAIM", "groups"),
            ("MODERATOR_GROUPS", "moderators, hosts"),
            ("MODERATOR_SCOPES", "videosdk/moderate"),
            ("REQUIRE_IDENTITY", "TRUE"),
            ("ANONYMOUS_PARTICIPANT_IDS", "generate"),
            ("ALLOWED_PERMISSIONS", "allow_join,allow_mod"),
            ("JOIN_MAY_CREATE", "moderators"),
        ])
        .unwrap()
        .identity;
        assert_eq!(
            identity,
            IdentityPolicy {
                identity_claim: "email".into(),
                groups_claim: "groups".into(),
                moderator_groups: vec!["moderators".into(), "hosts".into()],
                moderator_scopes: vec!["videosdk/moderate".into()],
                require_identity: true,
                anonymous_ids: AnonymousIds::Generated,
                join_may_create: JoinMayCreate::Moderators,
            }
        );
        for (pairs, variable) in [
            (&[("REQUIRE_IDENTITY", "yes")][..], "REQUIRE_IDENTITY"),
            (
                &[("ANONYMOUS_PARTICIPANT_IDS", "random")],
                "ANONYMOUS_PARTICIPANT_IDS",
            ),
            (&[("IDENTITY_CLAIM", "user id")], "IDENTITY_CLAIM"),
            (&[("JOIN_MAY_CREATE", "admins")], "JOIN_MAY_CREATE"),
            // Moderators may create, but no one says who moderators are.
            (&[("JOIN_MAY_CREATE", "moderators")], "JOIN_MAY_CREATE"),
            // Moderators with nothing to moderate with, or everyone a moderator by default.
            (&[("MODERATOR_GROUPS", "moderators")], "MODERATOR_GROUPS"),
            (
                &[("MODERATOR_SCOPES", "videosdk/moderate")],
                "MODERATOR_SCOPES",
            ),
            (
                &[
                    ("MODERATOR_GROUPS", "moderators"),
                    ("ALLOWED_PERMISSIONS", "allow_join,allow_mod"),
                    ("DEFAULT_PERMISSIONS", "allow_join,allow_mod"),
                ],
                "DEFAULT_PERMISSIONS",
            ),
        ] {
            assert_eq!(dev_and(pairs).unwrap_err().variable, variable, "{pairs:?}");
        }
    }
}
