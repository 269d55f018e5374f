//! Everything the three Lambda functions have in common: configuration, the API secret, the token
//! policy, signing and verification, meeting ids, and the HTTP conventions (JSON bodies, errors,
//! CORS). The function crates only wire a route to these pieces.

pub mod api_error;
pub mod api_gateway;
pub mod cors;
pub mod credentials;
pub mod endpoint;
mod jwt_crypto;
pub mod keyring;
pub mod logging;
pub mod meeting_id;
pub mod meetings;
pub mod permissions;
pub mod request;
pub mod settings;
pub mod state;
pub mod token;

pub use api_error::ApiError;
pub use cors::CorsPolicy;
pub use credentials::{ApiCredentials, SecretError, SecretSource, SecretStore, SecretVersions};
pub use endpoint::Endpoint;
pub use keyring::{AccountKeys, Keyring};
pub use meeting_id::{MeetingId, MeetingIdCodec, MeetingIdError};
pub use meetings::{Meeting, MeetingBackend, MeetingBackendKind, MeetingRequest};
pub use permissions::{Permission, PermissionSet, TokenPolicy, TokenRoles};
pub use settings::{Settings, SettingsError};
pub use state::{InitError, State};
pub use token::{Claims, TokenError, TokenKeys, TokenScope};

/// Seconds since the Unix epoch. A clock before 1970 is treated as the epoch, never a panic.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}
