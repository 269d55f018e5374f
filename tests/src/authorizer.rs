//! What API Gateway's JWT authorizer hands a function (HTTP API, payload 2.0):
//! `requestContext.authorizer.jwt`, with the verified token's claims and scopes. HTTP API turns
//! every claim value into a string and flattens arrays to `"[a b]"` (docs/security.md says where
//! that is from); [`http_api_claims`] does the same to a token's payload.

use serde_json::{Map, Value, json};

/// A JWT payload's claims as HTTP API passes them on: strings as they are, arrays as
/// `[a b]`, numbers, booleans and objects as their JSON text.
pub fn http_api_claims(payload: &Map<String, Value>) -> Map<String, Value> {
    payload
        .iter()
        .map(|(name, value)| (name.clone(), Value::String(flatten(value))))
        .collect()
}

fn flatten(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(flatten).collect();
            format!("[{}]", items.join(" "))
        }
        other => other.to_string(),
    }
}

/// `requestContext.authorizer` for a token with `payload`: its scopes are those of its `scope`
/// claim (an access token's), `null` for a token without one (an ID token's), as HTTP API sends.
pub fn jwt_authorizer(payload: &Map<String, Value>) -> Value {
    let scopes = payload
        .get("scope")
        .and_then(Value::as_str)
        .map(|scope| scope.split_whitespace().collect::<Vec<_>>());
    json!({
        "jwt": {
            "claims": http_api_claims(payload),
            "scopes": scopes,
        }
    })
}

/// The payload of a JWT (not verified: API Gateway's authorizer did that).
pub fn jwt_payload(token: &str) -> Map<String, Value> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .expect("the payload is base64url");
    serde_json::from_slice(&bytes).expect("the payload is a JSON object")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_become_strings_and_arrays_are_flattened() {
        let payload = json!({"sub": "u-1", "cognito:groups": ["admins", "moderators"],
            "email_verified": true, "auth_time": 1795926500, "one": ["solo"]});
        let claims = http_api_claims(payload.as_object().unwrap());
        assert_eq!(
            Value::Object(claims),
            json!({"sub": "u-1", "cognito:groups": "[admins moderators]",
                "email_verified": "true", "auth_time": "1795926500", "one": "[solo]"})
        );
    }

    #[test]
    fn access_tokens_bring_their_scopes() {
        let access = json!({"sub": "u", "scope": "openid videosdk/moderate"});
        assert_eq!(
            jwt_authorizer(access.as_object().unwrap())["jwt"]["scopes"],
            json!(["openid", "videosdk/moderate"])
        );
        let id = json!({"sub": "u"});
        assert_eq!(
            jwt_authorizer(id.as_object().unwrap())["jwt"]["scopes"],
            Value::Null
        );
    }
}
