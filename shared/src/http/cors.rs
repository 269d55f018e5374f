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
    /// Parses `*` or a comma-separated list of origins such as `https://app.example.com`, each
    /// written as browsers send it (see `normalise_origin`).
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
                .map(|entry| normalise_origin(entry))
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

/// An origin is `scheme://host[:port]` with nothing after it. Browsers send it with the scheme
/// and host in lowercase and without the scheme's default port, and the `Origin` header is
/// compared as it comes, so an entry is written that way here: `https://App.example.com:443` is
/// `https://app.example.com`.
fn normalise_origin(entry: &str) -> Result<String, String> {
    let (scheme, rest) = entry.split_once("://").unwrap_or(("", entry));
    if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
        return Err(format!(
            "{entry:?} is not an origin: it must start with https:// or http://"
        ));
    }
    let host_ok = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !host_ok {
        return Err(format!(
            "{entry:?} is not an origin: give scheme, host and port only, with no path or trailing slash"
        ));
    }
    url::Url::parse(entry)
        .ok()
        .filter(|url| url.host().is_some())
        .map(|url| url.origin().ascii_serialization())
        .ok_or_else(|| format!("{entry:?} is not an origin: its host or port is not valid"))
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
            "ftp://a.example",
            "https://a.example:99999",
            "https://user@a.example",
        ] {
            assert!(CorsPolicy::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn entries_are_written_as_browsers_send_origins() {
        for (entry, origin) in [
            ("https://App.Example.com", "https://app.example.com"),
            ("HTTPS://a.example:443", "https://a.example"),
            ("http://a.example:80", "http://a.example"),
            ("http://a.example:8080", "http://a.example:8080"),
            ("https://a.example:80", "https://a.example:80"),
            ("http://[::1]:3000", "http://[::1]:3000"),
            ("http://LOCALHOST:3000", "http://localhost:3000"),
        ] {
            let policy = CorsPolicy::parse(entry).unwrap();
            assert_eq!(policy, CorsPolicy::Origins(vec![origin.into()]), "{entry}");
            assert!(policy.allows(origin), "{entry}");
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
