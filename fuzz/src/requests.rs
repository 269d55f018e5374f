//! HTTP requests as clients (or API Gateway) may send them: fuzzed method, path, query, headers,
//! body, path parameter and JWT authorizer claims, with tokens and meeting ids that get past the
//! checks in front of the handlers.

use std::collections::HashMap;

use arbitrary::Arbitrary;
use lambda_http::http::header::{AUTHORIZATION, ORIGIN};
use lambda_http::http::{self, Method};
use lambda_http::{Body, Request, RequestExt};
use serde_json::{Map, Value, json};
use shared::http::request::MAX_BODY_BYTES;

use crate::deployments::{
    ALLOWED_ORIGIN, Deployment, LOCAL_ORIGIN, MODERATOR_GROUP, MODERATOR_SCOPE, fixtures, now,
};
use crate::json::Scalar;
use crate::routes::Route;
use crate::tokens::{Jwt, PermissionName, TokenClaims};

#[derive(Arbitrary, Debug, Clone)]
pub enum MethodChoice {
    Route,
    Get,
    Post,
    Options,
    Put,
    Delete,
    Head,
    Patch,
    Other(String),
}

impl MethodChoice {
    /// The method (`route_method` for [`MethodChoice::Route`]), or `None` for text that is
    /// none.
    pub fn method(&self, route_method: Method) -> Option<Method> {
        Some(match self {
            Self::Route => route_method,
            Self::Get => Method::GET,
            Self::Post => Method::POST,
            Self::Options => Method::OPTIONS,
            Self::Put => Method::PUT,
            Self::Delete => Method::DELETE,
            Self::Head => Method::HEAD,
            Self::Patch => Method::PATCH,
            Self::Other(text) => Method::from_bytes(text.as_bytes()).ok()?,
        })
    }
}

/// A meeting id as a client may send one.
#[derive(Arbitrary, Debug, Clone)]
pub enum MeetingIdChoice {
    /// Issued by this deployment just now.
    Issued,
    /// Issued by a deployment with another secret.
    IssuedElsewhere,
    /// Issued here, then one byte changed.
    Changed {
        index: u8,
        byte: u8,
    },
    /// Issued here, in capitals.
    Upper,
    Raw(String),
}

impl MeetingIdChoice {
    pub fn text(&self) -> String {
        let fixtures = fixtures();
        let issued = || {
            fixtures
                .meeting_ids
                .issue()
                .expect("the OS random generator works")
                .to_string()
        };
        match self {
            Self::Issued => issued(),
            Self::IssuedElsewhere => fixtures
                .other_meeting_ids
                .issue()
                .expect("the OS random generator works")
                .to_string(),
            Self::Changed { index, byte } => {
                let mut bytes = issued().into_bytes();
                let index = usize::from(*index) % bytes.len();
                bytes[index] = *byte;
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Self::Upper => issued().to_ascii_uppercase(),
            Self::Raw(text) => text.clone(),
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum PathChoice {
    Route,
    TrailingSlash,
    WithSegment(MeetingIdChoice),
    Raw(String),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum QueryName {
    Permissions,
    RoomId,
    MeetingId,
    ParticipantId,
    PeerId,
    Other(String),
}

impl QueryName {
    fn text(&self) -> &str {
        match self {
            Self::Permissions => "permissions",
            Self::RoomId => "roomId",
            Self::MeetingId => "meetingId",
            Self::ParticipantId => "participantId",
            Self::PeerId => "peerId",
            Self::Other(text) => text,
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum QueryValue {
    Permissions {
        names: Vec<PermissionName>,
        spaced: bool,
    },
    Id(MeetingIdChoice),
    Text(String),
}

impl QueryValue {
    fn text(&self) -> String {
        match self {
            Self::Permissions { names, spaced } => names
                .iter()
                .map(PermissionName::text)
                .collect::<Vec<_>>()
                .join(if *spaced { ", " } else { "," }),
            Self::Id(id) => id.text(),
            Self::Text(text) => text.clone(),
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum OriginChoice {
    Allowed,
    Local,
    Null,
    Other(String),
}

impl OriginChoice {
    pub fn text(&self) -> &str {
        match self {
            Self::Allowed => ALLOWED_ORIGIN,
            Self::Local => LOCAL_ORIGIN,
            Self::Null => "null",
            Self::Other(text) => text,
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum HeaderNameChoice {
    Authorization,
    Origin,
    ContentType,
    ContentLength,
    AccessControlRequestMethod,
    AccessControlRequestHeaders,
    Host,
    Other(String),
}

impl HeaderNameChoice {
    fn text(&self) -> &str {
        match self {
            Self::Authorization => "authorization",
            Self::Origin => "origin",
            Self::ContentType => "content-type",
            Self::ContentLength => "content-length",
            Self::AccessControlRequestMethod => "access-control-request-method",
            Self::AccessControlRequestHeaders => "access-control-request-headers",
            Self::Host => "host",
            Self::Other(text) => text,
        }
    }
}

/// A token as a client may send one.
#[derive(Arbitrary, Debug, Clone)]
pub enum Credential {
    /// Signed with the deployment's key.
    Signed(TokenClaims),
    /// Signed with another secret for the same API key.
    SignedElsewhere(TokenClaims),
    Jwt(Jwt),
    Raw(String),
}

impl Credential {
    pub fn text(&self) -> String {
        let fixtures = fixtures();
        let now = now();
        match self {
            Self::Signed(claims) => fixtures
                .keys
                .sign(&claims.claims(&fixtures.account.api_key, now))
                .expect("signing works"),
            Self::SignedElsewhere(claims) => fixtures
                .other_keys
                .sign(&claims.claims(&fixtures.account.api_key, now))
                .expect("signing works"),
            Self::Jwt(jwt) => jwt.encode(&fixtures.account, now),
            Self::Raw(text) => text.clone(),
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Authorization {
    Bearer(Credential),
    Bare(Credential),
    Scheme {
        scheme: String,
        credential: Credential,
    },
    Raw(Vec<u8>),
}

impl Authorization {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Self::Bearer(credential) => format!("Bearer {}", credential.text()).into_bytes(),
            Self::Bare(credential) => credential.text().into_bytes(),
            Self::Scheme { scheme, credential } => {
                format!("{scheme} {}", credential.text()).into_bytes()
            }
            Self::Raw(bytes) => bytes.clone(),
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum TokenField {
    Credential(Credential),
    NotAString(Scalar),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum BodyChoice {
    Empty,
    Json {
        token: Option<TokenField>,
        region: Option<String>,
        extra: Vec<(String, Scalar)>,
        binary: bool,
    },
    NotAnObject(Scalar),
    Text(String),
    Binary(Vec<u8>),
    /// Around the size limit: `MAX_BODY_BYTES - 32 ..= MAX_BODY_BYTES + 31` bytes.
    NearLimit {
        offset: u8,
        byte: u8,
        binary: bool,
    },
}

impl BodyChoice {
    fn body(&self) -> Body {
        match self {
            Self::Empty => Body::Empty,
            Self::Json {
                token,
                region,
                extra,
                binary,
            } => {
                let mut fields = Map::new();
                for (key, value) in extra {
                    fields.insert(key.clone(), value.value());
                }
                match token {
                    Some(TokenField::Credential(credential)) => {
                        fields.insert("token".to_owned(), json!(credential.text()));
                    }
                    Some(TokenField::NotAString(value)) => {
                        fields.insert("token".to_owned(), value.value());
                    }
                    None => {}
                }
                if let Some(region) = region {
                    fields.insert("region".to_owned(), json!(region));
                }
                let text = Value::Object(fields).to_string();
                if *binary {
                    Body::Binary(text.into_bytes())
                } else {
                    Body::Text(text)
                }
            }
            Self::NotAnObject(value) => Body::Text(value.value().to_string()),
            Self::Text(text) => Body::Text(text.clone()),
            Self::Binary(bytes) => Body::Binary(bytes.clone()),
            Self::NearLimit {
                offset,
                byte,
                binary,
            } => {
                let length = MAX_BODY_BYTES - 32 + usize::from(*offset % 64);
                if *binary {
                    Body::Binary(vec![*byte; length])
                } else {
                    Body::Text(char::from(*byte % 128).to_string().repeat(length))
                }
            }
        }
    }
}

/// An HTTP request as a client (or API Gateway) may send one to a route.
#[derive(Arbitrary, Debug, Clone)]
pub struct HttpInput {
    pub deployment: Deployment,
    pub method: MethodChoice,
    pub path: PathChoice,
    pub query: Vec<(QueryName, QueryValue)>,
    /// Also written into the URI (unencoded, so the URI may be refused and the input skipped).
    pub query_in_uri: bool,
    pub origin: Option<OriginChoice>,
    pub authorization: Option<Authorization>,
    pub headers: Vec<(HeaderNameChoice, Vec<u8>)>,
    pub body: BodyChoice,
    /// API Gateway's `{meetingId}` path parameter.
    pub path_parameter: Option<MeetingIdChoice>,
    /// What API Gateway's JWT authorizer passed on, if it ran.
    pub authorizer: Option<AuthorizerInput>,
}

/// `requestContext.authorizer.jwt` as HTTP API fills it in: string claims (arrays flattened to
/// `[a b]`) and scopes.
#[derive(Arbitrary, Debug, Clone)]
pub struct AuthorizerInput {
    pub claims: Vec<(AuthorizerClaim, ClaimValue)>,
    pub scopes: Option<Vec<ScopeChoice>>,
}

#[derive(Arbitrary, Debug, Clone)]
pub enum AuthorizerClaim {
    Sub,
    Groups,
    /// An access token's `scope` claim, which HTTP API delivers as it is (with `scopes` null
    /// on a route without authorization scopes).
    Scope,
    Other(String),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum ClaimValue {
    /// As identity providers issue ids (`auth0|...`, UUIDs), or anything.
    Id(String),
    /// Scopes separated by spaces, as a `scope` claim holds them.
    Scopes(Vec<ScopeChoice>),
    /// Group names, flattened as HTTP API does, or one plain name.
    Groups {
        names: Vec<GroupChoice>,
        flattened: bool,
    },
}

#[derive(Arbitrary, Debug, Clone)]
pub enum GroupChoice {
    Moderators,
    Other(String),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum ScopeChoice {
    Moderate,
    Other(String),
}

impl ScopeChoice {
    fn name(&self) -> &str {
        match self {
            ScopeChoice::Moderate => MODERATOR_SCOPE,
            ScopeChoice::Other(text) => text,
        }
    }
}

impl AuthorizerInput {
    fn claims(&self) -> Map<String, Value> {
        let mut claims = Map::new();
        for (name, value) in &self.claims {
            let name = match name {
                AuthorizerClaim::Sub => "sub",
                AuthorizerClaim::Groups => "cognito:groups",
                AuthorizerClaim::Scope => "scope",
                AuthorizerClaim::Other(text) => text,
            };
            let value = match value {
                ClaimValue::Id(text) => text.clone(),
                ClaimValue::Scopes(scopes) => {
                    let scopes: Vec<&str> = scopes.iter().map(ScopeChoice::name).collect();
                    scopes.join(" ")
                }
                ClaimValue::Groups { names, flattened } => {
                    let names: Vec<&str> = names
                        .iter()
                        .map(|group| match group {
                            GroupChoice::Moderators => MODERATOR_GROUP,
                            GroupChoice::Other(text) => text,
                        })
                        .collect();
                    if *flattened {
                        format!("[{}]", names.join(" "))
                    } else {
                        names.join(",")
                    }
                }
            };
            claims.insert(name.to_owned(), json!(value));
        }
        claims
    }

    fn scopes(&self) -> Option<Vec<&str>> {
        self.scopes
            .as_ref()
            .map(|scopes| scopes.iter().map(ScopeChoice::name).collect())
    }

    /// The `sub` claim, trimmed as a participant id is read, if the caller has one.
    pub fn sub(&self) -> Option<String> {
        let sub = self.claims().get("sub")?.as_str()?.trim().to_owned();
        Some(sub)
    }

    /// Whether the signed-in deployment's rules make the caller a moderator: a member of
    /// `MODERATOR_GROUP` (the groups claim's one value, or its one element as HTTP API flattens
    /// an array: several flattened elements cannot be told from names with spaces, and these
    /// claims come without the token they were read from), or holding `MODERATOR_SCOPE` (in the
    /// route's scopes, or the `scope` or `scp` claim, whose scopes are separated by spaces).
    pub fn is_moderator(&self) -> bool {
        let claims = self.claims();
        let text = |name: &str| claims.get(name).and_then(Value::as_str).unwrap_or("");
        let groups = text("cognito:groups");
        let in_group = match groups
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
        {
            Some(elements) => elements.split_whitespace().collect::<Vec<_>>() == [MODERATOR_GROUP],
            None => groups == MODERATOR_GROUP,
        };
        let claimed_scopes = ["scope", "scp"].map(|name| {
            let text = text(name);
            text.strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .unwrap_or(text)
                .split_whitespace()
                .any(|scope| scope == MODERATOR_SCOPE)
        });
        let has_scope = self.scopes().unwrap_or_default().contains(&MODERATOR_SCOPE)
            || claimed_scopes.contains(&true);
        in_group || has_scope
    }

    /// The API Gateway request context carrying these claims.
    pub(crate) fn context(&self) -> lambda_http::request::RequestContext {
        let context = json!({
            "http": {"method": "GET", "path": "/get-token", "protocol": "HTTP/1.1",
                     "sourceIp": "192.0.2.10", "userAgent": "fuzz"},
            "authorizer": {"jwt": {"claims": self.claims(), "scopes": self.scopes()}}
        });
        lambda_http::request::RequestContext::ApiGatewayV2(
            serde_json::from_value(context).expect("a payload 2.0 request context"),
        )
    }
}

impl HttpInput {
    /// The request, or `None` for one `http::Request::builder` refuses (a method, URI or header
    /// that HTTP cannot carry, which API Gateway would not deliver either).
    pub fn request(&self, route: Route) -> Option<Request> {
        let method = self.method.method(route.method())?;
        let mut uri = match &self.path {
            PathChoice::Route => route.path().to_owned(),
            PathChoice::TrailingSlash => format!("{}/", route.path()),
            PathChoice::WithSegment(id) => format!("{}/{}", route.path(), id.text()),
            PathChoice::Raw(text) => text.clone(),
        };
        let mut query: HashMap<String, Vec<String>> = HashMap::new();
        let mut pairs = Vec::new();
        for (name, value) in &self.query {
            let (name, value) = (name.text().to_owned(), value.text());
            pairs.push(format!("{name}={value}"));
            query.entry(name).or_default().push(value);
        }
        if self.query_in_uri && !pairs.is_empty() {
            uri.push('?');
            uri.push_str(&pairs.join("&"));
        }

        let mut builder = http::Request::builder().method(method).uri(uri);
        if let Some(origin) = &self.origin {
            builder = builder.header(ORIGIN, origin.text());
        }
        if let Some(authorization) = &self.authorization {
            builder = builder.header(AUTHORIZATION, authorization.bytes());
        }
        for (name, value) in &self.headers {
            builder = builder.header(name.text(), value.as_slice());
        }
        let mut request = builder.body(self.body.body()).ok()?;
        if !query.is_empty() {
            request = request.with_query_string_parameters(query);
        }
        if let Some(id) = &self.path_parameter {
            request =
                request.with_path_parameters(HashMap::from([("meetingId".to_owned(), id.text())]));
        }
        if let Some(authorizer) = &self.authorizer {
            request = request.with_request_context(authorizer.context());
        }
        Some(request)
    }
}
