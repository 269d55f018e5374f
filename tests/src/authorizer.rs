//! What API Gateway's JWT authorizer hands a function (HTTP API, payload 2.0), for a caller
//! signed in with an identity provider: the JWT in `Authorization` (the authorizer's identity
//! source, passed on as it came) and `requestContext.authorizer.jwt`, whose claims are the
//! token's as HTTP API delivers them (`shared::domain::identity::delivered_claims`, the one
//! model of that shape: docs/security.md says where it was captured) and whose `scopes` are null
//! on a route without authorization scopes, whatever the token's `scope` claim says.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::webhooks::WebhookSigner;

/// A caller's request as the authorizer passes it on.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The JWT the caller sent, which API Gateway verified.
    pub token: String,
    /// `requestContext.authorizer`.
    pub authorizer: Value,
}

impl SignedIn {
    /// `token` on a route without authorization scopes (the template's default): `scopes` null.
    pub fn new(token: &str) -> Self {
        Self::on_route(token, None)
    }

    /// `token` on a route whose authorization scopes are `route_scopes` (`JwtScopes`): `scopes`
    /// lists the token's scopes among them.
    pub fn on_route(token: &str, route_scopes: Option<&[&str]>) -> Self {
        let payload = jwt_payload(token);
        let scopes = route_scopes.map(|route| {
            token_scopes(&payload)
                .into_iter()
                .filter(|scope| route.contains(&scope.as_str()))
                .collect::<Vec<_>>()
        });
        let claims = shared::domain::identity::delivered_claims(&payload);
        Self {
            token: token.to_owned(),
            authorizer: json!({"jwt": {"claims": claims, "scopes": scopes}}),
        }
    }

    /// A token with `payload` from the tests' identity provider, on a route without scopes.
    pub fn with_claims(payload: &Value) -> Self {
        Self::new(&identity_provider_token(payload))
    }

    /// The `Authorization` header the caller sent.
    pub fn header(&self) -> (&'static str, String) {
        ("authorization", format!("Bearer {}", self.token))
    }
}

/// The scopes of an access token: its `scope` claim (space-separated) or `scp` (an array).
fn token_scopes(payload: &Map<String, Value>) -> Vec<String> {
    let mut scopes: Vec<String> = payload
        .get("scope")
        .and_then(Value::as_str)
        .map(|scope| scope.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    if let Some(Value::Array(items)) = payload.get("scp") {
        scopes.extend(items.iter().filter_map(Value::as_str).map(str::to_owned));
    }
    scopes
}

/// An RS256 JWT with `payload`, signed by the tests' identity provider
/// (`tests/data/identity-provider/`), as a Cognito user pool signs its ID and access tokens.
/// The same payload gives the same token.
pub fn identity_provider_token(payload: &Value) -> String {
    static SIGNER: OnceLock<WebhookSigner> = OnceLock::new();
    let signer = SIGNER.get_or_init(|| {
        let path = crate::workspace_root().join("tests/data/identity-provider/private-key.pem");
        WebhookSigner::from_pkcs8_pem(
            &std::fs::read_to_string(&path).expect("the identity provider's key is readable"),
        )
    });
    let header = json!({"kid": "test-identity-provider-1", "alg": "RS256"});
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    let signature = URL_SAFE_NO_PAD.encode(signer.sign_bytes(signed.as_bytes()));
    format!("{signed}.{signature}")
}

/// The payload of a JWT (not verified: API Gateway's authorizer did that).
pub fn jwt_payload(token: &str) -> Map<String, Value> {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .expect("the payload is base64url");
    serde_json::from_slice(&bytes).expect("the payload is a JSON object")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of the captures (docs/security.md): every value a string, arrays flattened,
    /// null claims left out, `scopes` null on a route without scopes even for an access token.
    #[test]
    fn the_authorizer_delivers_the_tokens_claims_as_http_api_does() {
        let payload = json!({"sub": "u-1", "cognito:groups": ["admins", "Former moderators"],
            "email_verified": true, "auth_time": 1795926500, "scope": "openid videosdk/moderate",
            "nickname": null});
        let caller = SignedIn::with_claims(&payload);
        assert_eq!(
            caller.authorizer,
            json!({"jwt": {"claims": {"sub": "u-1",
                "cognito:groups": "[admins Former moderators]", "email_verified": "true",
                "auth_time": "1795926500", "scope": "openid videosdk/moderate"},
                "scopes": null}})
        );
        assert_eq!(Value::Object(jwt_payload(&caller.token)), payload);
        assert_eq!(caller.header().1, format!("Bearer {}", caller.token));
        assert_eq!(
            identity_provider_token(&payload),
            caller.token,
            "one token per payload"
        );
    }

    #[test]
    fn a_route_with_scopes_lists_the_tokens_scopes_among_them() {
        let token = identity_provider_token(&json!({"sub": "u", "scope": "openid videosdk/join"}));
        let scoped = SignedIn::on_route(&token, Some(&["videosdk/join", "videosdk/moderate"]));
        assert_eq!(scoped.authorizer["jwt"]["scopes"], json!(["videosdk/join"]));
        let okta = identity_provider_token(&json!({"sub": "u", "scp": ["videosdk/moderate"]}));
        let scoped = SignedIn::on_route(&okta, Some(&["videosdk/moderate"]));
        assert_eq!(
            scoped.authorizer["jwt"]["scopes"],
            json!(["videosdk/moderate"])
        );
        assert_eq!(
            scoped.authorizer["jwt"]["claims"]["scp"],
            json!("[videosdk/moderate]")
        );
    }
}
