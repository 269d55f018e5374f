//! Who a token is for, who may moderate and who may create rooms: `IDENTITY_CLAIM`,
//! `GROUPS_CLAIM`, `MODERATOR_GROUPS`, `MODERATOR_SCOPES`, `REQUIRE_IDENTITY`,
//! `ANONYMOUS_PARTICIPANT_IDS` and `ROOM_CREATORS`.

use super::SettingsError;
use super::token_policy::Permissions;
use super::variables::Variables;
use crate::domain::identity::{AnonymousIds, IdentityPolicy, RoomCreators, self_asserted};
use crate::domain::permissions::{Permission, TokenRoles};

/// `IDENTITY_CLAIM`, `GROUPS_CLAIM`, `MODERATOR_GROUPS`, `MODERATOR_SCOPES`,
/// `ANONYMOUS_PARTICIPANT_IDS`, `REQUIRE_IDENTITY` and `ROOM_CREATORS` as read.
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
    // A deployment that kept rooms from callers under the old name must not open them up.
    if vars.get("JOIN_MAY_CREATE").is_some() {
        return Err(SettingsError::new(
            "JOIN_MAY_CREATE",
            "renamed ROOM_CREATORS, since it now governs every route that creates rooms \
             (create-meeting too): set ROOM_CREATORS to the same value and remove JOIN_MAY_CREATE",
        ));
    }
    let room_creators = match vars.get("ROOM_CREATORS").as_deref() {
        None | Some("everyone") => RoomCreators::Everyone,
        Some("moderators") => RoomCreators::Moderators,
        Some("nobody") => RoomCreators::Nobody,
        Some(other) => {
            return Err(SettingsError::new(
                "ROOM_CREATORS",
                format!("{other:?} is not everyone, moderators or nobody"),
            ));
        }
    };
    let identity_claim = claim("IDENTITY_CLAIM", defaults.identity_claim)?;
    if let Some(why) = self_asserted(&identity_claim) {
        return Err(SettingsError::new(
            "IDENTITY_CLAIM",
            format!(
                "{identity_claim:?} {why}: a caller could take another's participant id; use sub \
                 or cognito:username (or email, accepted while email_verified is true)"
            ),
        ));
    }
    let policy = IdentityPolicy {
        identity_claim,
        groups_claim: claim("GROUPS_CLAIM", defaults.groups_claim)?,
        moderator_groups: list("MODERATOR_GROUPS")?,
        moderator_scopes: list("MODERATOR_SCOPES")?,
        require_identity,
        anonymous_ids,
        room_creators,
    };
    // Without moderator groups or scopes every caller may moderate: `moderators` would quietly
    // mean everyone.
    if room_creators == RoomCreators::Moderators && !policy.restricts_moderation() {
        return Err(SettingsError::new(
            "ROOM_CREATORS",
            "moderators, but neither MODERATOR_GROUPS nor MODERATOR_SCOPES says who they are",
        ));
    }
    Ok(policy)
}

/// Under identity rules, tokens for joining rooms only: a `crawler` token calls VideoSDK's REST
/// API for the whole account, where it creates and deactivates any room whatever the rules say.
pub(super) fn check_roles_under_identity_rules(
    identity: &IdentityPolicy,
    roles: &TokenRoles,
) -> Result<(), SettingsError> {
    if identity.has_identity_rules() && !roles.is_participant_only() {
        return Err(SettingsError::new(
            "TOKEN_ROLES",
            "must be rtc while rules about callers are on (REQUIRE_IDENTITY, MODERATOR_GROUPS, \
             MODERATOR_SCOPES, ROOM_CREATORS or ANONYMOUS_PARTICIPANT_IDS=generate): a crawler \
             token reaches VideoSDK's REST API for the whole account, past every one of them",
        ));
    }
    Ok(())
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
            ("ROOM_CREATORS", "moderators"),
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
                room_creators: RoomCreators::Moderators,
            }
        );
        for (pairs, variable) in [
            (&[("REQUIRE_IDENTITY", "yes")][..], "REQUIRE_IDENTITY"),
            (
                &[("ANONYMOUS_PARTICIPANT_IDS", "random")],
                "ANONYMOUS_PARTICIPANT_IDS",
            ),
            (&[("IDENTITY_CLAIM", "user id")], "IDENTITY_CLAIM"),
            (&[("ROOM_CREATORS", "admins")], "ROOM_CREATORS"),
            // Moderators may create, but no one says who moderators are.
            (&[("ROOM_CREATORS", "moderators")], "ROOM_CREATORS"),
            // The old name, whatever its value: ignored, it would open room creation up.
            (&[("JOIN_MAY_CREATE", "nobody")], "JOIN_MAY_CREATE"),
            (&[("JOIN_MAY_CREATE", "everyone")], "JOIN_MAY_CREATE"),
            // Claims a caller can change at will.
            (
                &[("IDENTITY_CLAIM", "preferred_username")],
                "IDENTITY_CLAIM",
            ),
            (
                &[("IDENTITY_CLAIM", "custom:employee_id")],
                "IDENTITY_CLAIM",
            ),
            // A management token beside any rule about callers.
            (
                &[("REQUIRE_IDENTITY", "true"), ("TOKEN_ROLES", "rtc,crawler")],
                "TOKEN_ROLES",
            ),
            (
                &[("ROOM_CREATORS", "nobody"), ("TOKEN_ROLES", "crawler")],
                "TOKEN_ROLES",
            ),
            (
                &[
                    ("ANONYMOUS_PARTICIPANT_IDS", "generate"),
                    ("TOKEN_ROLES", "CRAWLER"),
                ],
                "TOKEN_ROLES",
            ),
            (
                &[
                    ("MODERATOR_SCOPES", "videosdk/moderate"),
                    ("ALLOWED_PERMISSIONS", "allow_join,allow_mod"),
                    ("TOKEN_ROLES", "rtc,crawler"),
                ],
                "TOKEN_ROLES",
            ),
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

    #[test]
    fn tokens_are_rtc_only_under_rules_about_callers_but_may_be_crawler_without() {
        let open = dev_and(&[("TOKEN_ROLES", "rtc,crawler")]).unwrap();
        assert!(open.policy.roles.includes_management());
        let signed_in = dev_and(&[("REQUIRE_IDENTITY", "true"), ("TOKEN_ROLES", "RTC")]).unwrap();
        assert!(signed_in.policy.roles.is_participant_only());
        let error =
            dev_and(&[("REQUIRE_IDENTITY", "true"), ("TOKEN_ROLES", "rtc,crawler")]).unwrap_err();
        assert!(error.to_string().contains("TOKEN_ROLES"), "{error}");
    }

    #[test]
    fn identity_claims_users_cannot_change_are_accepted() {
        for claim in [
            "sub",
            "cognito:username",
            "username",
            "email",
            "phone_number",
            "oid",
        ] {
            let identity = dev_and(&[("IDENTITY_CLAIM", claim)]).unwrap().identity;
            assert_eq!(identity.identity_claim, claim);
        }
        let error = dev_and(&[("IDENTITY_CLAIM", "nickname")]).unwrap_err();
        assert!(error.reason.contains("sub"), "{error}");
    }
}
