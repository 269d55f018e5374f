//! `ALLOWED_ORIGINS`: the browser origins that may call the API (CORS).

use super::SettingsError;
use super::variables::Variables;
use crate::http::cors::CorsPolicy;

pub const DEFAULT_ALLOWED_ORIGINS: &str = "*";

pub(super) fn cors_policy(
    vars: &Variables<impl Fn(&str) -> Option<String>>,
) -> Result<CorsPolicy, SettingsError> {
    let origins_text = vars
        .get("ALLOWED_ORIGINS")
        .unwrap_or_else(|| DEFAULT_ALLOWED_ORIGINS.to_owned());
    CorsPolicy::parse(&origins_text).map_err(|reason| SettingsError::new("ALLOWED_ORIGINS", reason))
}
