//! Which browser origins may read this API's answers, and the CORS headers that say so.

use lambda_http::http::header::{self, HeaderMap, HeaderValue};

/// Headers a browser may send on a cross-origin call (the token and a JSON body).
pub const ALLOWED_HEADERS: &str = "authorization,content-type";
/// How long a browser may cache a preflight answer, in seconds.
pub const PREFLIGHT_MAX_AGE_SECONDS: u32 = 600;

/// The origins allowed by `ALLOWED_ORIGINS`: every origin (`*`), or an exact list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsPolicy {
    AnyOrigin,
    Origins(Vec<String>),
}

impl CorsPolicy {
    /// Parses `*` or a comma-separated list of origins such as `https://app.example.com`.
    pub fn parse(list: &str) -> Result<Self, String> {
        let entries: Vec<&str> = list
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .collect();
        match entries.as_slice() {
            [] => Err("it names no origin; use * or a comma-separated list of origins".into()),
            ["*"] => Ok(Self::AnyOrigin),
            _ => entries
                .iter()
                .map(|entry| check_origin(entry).map(str::to_owned))
                .collect::<Result<Vec<_>, _>>()
                .map(Self::Origins),
        }
    }

    /// Whether a browser on `origin` may read the answers.
    pub fn allows(&self, origin: &str) -> bool {
        match self {
            Self::AnyOrigin => true,
            Self::Origins(origins) => origins.iter().any(|allowed| allowed == origin),
        }
    }

    /// Adds the headers that let a browser on `origin` (if any, and if allowed) read a response.
    pub(crate) fn apply(&self, origin: Option<&str>, headers: &mut HeaderMap) {
        match self {
            Self::AnyOrigin => {
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    HeaderValue::from_static("*"),
                );
            }
            Self::Origins(_) => {
                // The answer depends on the Origin header, so caches must key on it.
                headers.insert(header::VARY, HeaderValue::from_static("Origin"));
                if let Some(value) = origin
                    .filter(|origin| self.allows(origin))
                    .and_then(|origin| HeaderValue::from_str(origin).ok())
                {
                    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
                }
            }
        }
    }

    /// Adds the preflight headers for a route that takes `method`.
    pub(crate) fn apply_preflight(
        &self,
        origin: Option<&str>,
        method: &str,
        headers: &mut HeaderMap,
    ) {
        self.apply(origin, headers);
        if let Ok(methods) = HeaderValue::from_str(&format!("{method},OPTIONS")) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, methods);
        }
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOWED_HEADERS),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from(PREFLIGHT_MAX_AGE_SECONDS),
        );
    }
}

/// An origin is `scheme://host[:port]` with nothing after it, as browsers send it.
fn check_origin(entry: &str) -> Result<&str, String> {
    let rest = entry
        .strip_prefix("https://")
        .or_else(|| entry.strip_prefix("http://"))
        .ok_or_else(|| {
            format!("{entry:?} is not an origin: it must start with https:// or http://")
        })?;
    let host_ok = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !host_ok {
        return Err(format!(
            "{entry:?} is not an origin: give scheme, host and port only, with no path or trailing slash"
        ));
    }
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_star_and_lists() {
        assert_eq!(CorsPolicy::parse(" * "), Ok(CorsPolicy::AnyOrigin));
        assert_eq!(
            CorsPolicy::parse("https://a.example, http://127.0.0.1:8080"),
            Ok(CorsPolicy::Origins(vec![
                "https://a.example".into(),
                "http://127.0.0.1:8080".into()
            ]))
        );
        for bad in [
            "",
            " , ",
            "a.example",
            "https://a.example/",
            "https://a.example/app",
            "*,https://a.example",
        ] {
            assert!(CorsPolicy::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn mirrors_only_listed_origins() {
        let policy = CorsPolicy::parse("https://a.example").unwrap();
        let mut headers = HeaderMap::new();
        policy.apply(Some("https://a.example"), &mut headers);
        assert_eq!(
            headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://a.example"
        );
        assert_eq!(headers[header::VARY], "Origin");

        let mut headers = HeaderMap::new();
        policy.apply(Some("https://evil.example"), &mut headers);
        assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    }

    #[test]
    fn preflight_names_the_route_method_and_headers() {
        let mut headers = HeaderMap::new();
        CorsPolicy::AnyOrigin.apply_preflight(Some("https://x.example"), "POST", &mut headers);
        assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert_eq!(
            headers[header::ACCESS_CONTROL_ALLOW_METHODS],
            "POST,OPTIONS"
        );
        assert_eq!(
            headers[header::ACCESS_CONTROL_ALLOW_HEADERS],
            ALLOWED_HEADERS
        );
        assert_eq!(headers[header::ACCESS_CONTROL_MAX_AGE], "600");
    }
}
