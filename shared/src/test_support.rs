//! Hooks for the workspace's tests, fuzz targets and benchmarks, behind the feature
//! `test-support`: the functions' build has none of them.

use crate::domain::token::{Claims, TokenError, TokenKeys};

pub use crate::aws::metrics::Capture;
pub use crate::routes::answer;

/// Verifies `token` with jsonwebtoken's own `decode` only, never the short path: the oracle the
/// fuzz target `token_verify_jwt` holds `TokenKeys::verify_at` to.
pub fn verify_by_jsonwebtoken(
    keys: &TokenKeys,
    token: &str,
    now: u64,
) -> Result<Claims, TokenError> {
    keys.verify_by_jsonwebtoken(token, now)
}
