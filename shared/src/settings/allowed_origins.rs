//! `ALLOWED_ORIGINS`: the browser origins that may call the API (CORS).

use super::SettingsError;
use super::variables::Variables;
use crate::http::cors::CorsPolicy;

pub const DEFAULT_ALLOWED_ORIGINS: &str = "*";

pub(super) fn cors_policy(
    vars: &Variables<impl Fn(&str) -> Option<String>>,
) -> Result<CorsPolicy, SettingsError> {
    vars.parse_or(
        "ALLOWED_ORIGINS",
        DEFAULT_ALLOWED_ORIGINS,
        CorsPolicy::parse,
    )
}
