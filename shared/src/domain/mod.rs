//! What the API is about, with no HTTP and no AWS in it: VideoSDK tokens and the policy that
//! shapes them, permissions and roles, meeting ids and room options, the keys made from the
//! account's secret, and VideoSDK's signed webhooks. `shared/tests/layers.rs` keeps outer layers out of these files.

pub mod auto_start;
pub mod credentials;
pub mod identity;
mod jwt_crypto;
pub mod keyring;
pub mod meeting_id;
pub mod meetings;
pub mod moderation;
pub mod permissions;
pub mod token;
pub mod webhooks;

/// Seconds since the Unix epoch. A clock before 1970 is treated as the epoch, never a panic.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}
