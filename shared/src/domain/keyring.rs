//! The keys made from the secret: for its current version and, after a rotation, its previous
//! one, so that tokens and meeting ids made just before a rotation keep working until they
//! expire, while anything older is refused.

use crate::domain::credentials::{ApiCredentials, SecretVersions};
use crate::domain::meeting_id::{MeetingId, MeetingIdCodec, MeetingIdError};
use crate::domain::token::{Claims, TokenError, TokenKeys};

/// Everything derived from one version of the secret.
#[derive(Debug)]
pub(crate) struct AccountKeys {
    tokens: TokenKeys,
    meeting_ids: MeetingIdCodec,
}

impl AccountKeys {
    fn new(credentials: &ApiCredentials) -> Result<Self, TokenError> {
        Ok(Self {
            tokens: TokenKeys::new(credentials)?,
            meeting_ids: MeetingIdCodec::new(credentials),
        })
    }
}

/// New tokens and ids use the current keys; checks accept the current or the previous ones.
#[derive(Debug)]
pub struct Keyring {
    current: AccountKeys,
    previous: Option<AccountKeys>,
    /// What the keys were made from, to tell a refresh that changed nothing from a rotation.
    versions: SecretVersions,
}

impl Keyring {
    pub fn new(versions: &SecretVersions) -> Result<Self, TokenError> {
        Ok(Self {
            current: AccountKeys::new(&versions.current)?,
            previous: versions
                .previous
                .as_ref()
                .map(AccountKeys::new)
                .transpose()?,
            versions: versions.clone(),
        })
    }

    /// The secret's versions these keys were made from.
    pub fn versions(&self) -> &SecretVersions {
        &self.versions
    }

    /// The API key new tokens carry.
    pub fn api_key(&self) -> &str {
        self.current.tokens.api_key()
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, TokenError> {
        self.current.tokens.sign(claims)
    }

    /// Verifies at `now` with the current keys, then, for a token they did not sign, the
    /// previous ones. A token the previous keys did sign gets their verdict (it may have expired).
    pub fn verify_at(&self, token: &str, now: u64) -> Result<Claims, TokenError> {
        let not_ours = |error: &TokenError| {
            matches!(error, TokenError::BadSignature | TokenError::ApiKeyMismatch)
        };
        match (self.current.tokens.verify_at(token, now), &self.previous) {
            (Err(error), Some(previous)) if not_ours(&error) => {
                match previous.tokens.verify_at(token, now) {
                    Err(previous_error) if not_ours(&previous_error) => Err(error),
                    outcome => outcome,
                }
            }
            (outcome, _) => outcome,
        }
    }

    pub fn issue_meeting_id(&self) -> Result<MeetingId, MeetingIdError> {
        self.current.meeting_ids.issue()
    }

    /// Checks an id against the current keys, then the previous ones.
    pub fn check_meeting_id(&self, text: &str) -> Result<MeetingId, MeetingIdError> {
        match (self.current.meeting_ids.check(text), &self.previous) {
            (Err(MeetingIdError::NotIssued), Some(previous)) => previous.meeting_ids.check(text),
            (outcome, _) => outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::permissions::{PermissionSet, TokenRoles};
    use crate::domain::token::TokenScope;
    use crate::domain::unix_now;

    fn credentials(secret: &str) -> ApiCredentials {
        ApiCredentials::new("api-key", secret)
    }

    fn keyring(current: &str, previous: Option<&str>) -> Keyring {
        Keyring::new(&SecretVersions {
            current: credentials(current),
            previous: previous.map(credentials),
        })
        .unwrap()
    }

    fn token(keys: &Keyring) -> String {
        let permissions = PermissionSet::parse_list("allow_join").unwrap();
        keys.sign(&Claims::new(
            keys.api_key(),
            &permissions,
            &TokenRoles::participant(),
            TokenScope::default(),
            unix_now(),
            60,
        ))
        .unwrap()
    }

    #[test]
    fn a_rotation_keeps_the_previous_version_working_and_refuses_older_ones() {
        let first = keyring("one", None);
        let (old_token, old_id) = (token(&first), first.issue_meeting_id().unwrap());

        let second = keyring("two", Some("one"));
        assert!(second.verify_at(&old_token, unix_now()).is_ok());
        assert_eq!(second.check_meeting_id(&old_id.to_string()), Ok(old_id));
        let new_token = token(&second);
        assert_eq!(
            first.verify_at(&new_token, unix_now()),
            Err(TokenError::BadSignature)
        );

        let third = keyring("three", Some("two"));
        assert_eq!(
            third.verify_at(&old_token, unix_now()),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            third.check_meeting_id(&old_id.to_string()),
            Err(MeetingIdError::NotIssued)
        );
        assert!(third.verify_at(&new_token, unix_now()).is_ok());
    }

    #[test]
    fn expired_tokens_of_the_previous_version_stay_expired() {
        let first = keyring("one", None);
        let permissions = PermissionSet::parse_list("allow_join").unwrap();
        let mut claims = Claims::new(
            "api-key",
            &permissions,
            &TokenRoles::participant(),
            TokenScope::default(),
            0,
            0,
        );
        claims.exp = unix_now() - 1;
        let expired = first.sign(&claims).unwrap();
        let second = keyring("two", Some("one"));
        assert_eq!(
            second.verify_at(&expired, unix_now()),
            Err(TokenError::Expired)
        );
        let third = keyring("three", Some("two"));
        assert_eq!(
            third.verify_at(&expired, unix_now()),
            Err(TokenError::BadSignature)
        );
    }
}
