//! Properties over arbitrary input, through the real handlers: whatever arrives as token, meeting
//! id, query, body or headers, the answer is never a panic, never a 5xx, and always either a
//! success or the JSON error shape. Events are generated structurally (a real event of each
//! function with its fields replaced), so most reach a handler; each property reports how many
//! did and fails below a floor, so a generator that stops reaching the handlers is seen.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use api_tests::Functions;
use base64::Engine as _;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_http::http::Request;
use lambda_http::{Body, RequestExt, Response};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseResult, TestRunner};
use serde_json::{Value, json};

/// Every function's state, built once; the webhook function's bus is a local stand-in.
fn functions() -> &'static Functions {
    static FUNCTIONS: OnceLock<Functions> = OnceLock::new();
    FUNCTIONS.get_or_init(|| {
        runtime().block_on(Functions::development(&[
            ("ALLOWED_ORIGINS", "https://app.example.com"),
            ("ALLOWED_PERMISSIONS", "allow_join,ask_join,allow_mod"),
            ("MODERATOR_GROUPS", "moderators"),
        ]))
    })
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

/// The invariant every answer keeps (`api_tests::check_answer`).
fn check(response: &Response<Body>) -> Result<(), TestCaseError> {
    api_tests::check_answer(response).map_err(TestCaseError::fail)
}

/// What became of the generated cases of one property.
#[derive(Default)]
struct Tally {
    /// Every input drawn, those `prop_assume!` set aside included.
    drawn: AtomicUsize,
    /// Inputs a handler answered.
    reached: AtomicUsize,
    /// Events the conversion refused (400 `invalid_request`) before any handler.
    refused: AtomicUsize,
    /// The handlers' answers: status and error code.
    answers: Mutex<BTreeMap<String, usize>>,
}

impl Tally {
    fn answered(&self, response: &Response<Body>) {
        self.reached.fetch_add(1, Ordering::Relaxed);
        let code = serde_json::from_slice::<Value>(response.body().as_ref())
            .ok()
            .and_then(|body| body["error"]["code"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let key = format!("{} {code}", response.status().as_u16());
        *self.answers.lock().expect("tally").entry(key).or_default() += 1;
    }

    fn successes(&self) -> usize {
        let answers = self.answers.lock().expect("tally");
        answers
            .iter()
            .filter(|(key, _)| key.starts_with('2'))
            .map(|(_, count)| count)
            .sum()
    }
}

/// Runs `test` on `cases` inputs drawn from `strategy`, then reports what became of them and
/// fails unless at least `floor` of them reached a handler.
fn run_counted<S: Strategy>(
    name: &str,
    strategy: S,
    cases: u32,
    floor: usize,
    test: impl Fn(S::Value, &Tally) -> TestCaseResult,
) -> Tally {
    let tally = Tally::default();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    if let Err(error) = runner.run(&strategy, |value| {
        tally.drawn.fetch_add(1, Ordering::Relaxed);
        test(value, &tally)
    }) {
        panic!("{name}: {error}");
    }
    let reached = tally.reached.load(Ordering::Relaxed);
    eprintln!(
        "{name}: {reached} of {cases} cases reached a handler ({} successes), {} refused at the \
         event conversion, {} drawn in all; answers: {:?}",
        tally.successes(),
        tally.refused.load(Ordering::Relaxed),
        tally.drawn.load(Ordering::Relaxed),
        tally.answers.lock().expect("tally"),
    );
    assert!(
        reached >= floor,
        "{name}: only {reached} of {cases} cases reached a handler (floor {floor})"
    );
    tally
}

/// Values the handlers take, from a fresh set of events: with them a drawn request can succeed.
struct Known {
    /// `Bearer <token>`, valid for a day, signed with the development key.
    bearer: String,
    /// A meeting id issued under that key.
    meeting_id: String,
    /// A webhook body and its genuine `videosdk-signature`.
    webhook_body: String,
    webhook_signature: String,
}

fn known() -> &'static Known {
    static KNOWN: OnceLock<Known> = OnceLock::new();
    KNOWN.get_or_init(|| {
        let event = |function: &str, case: &str| -> Value {
            let (_, (_, text)) = events()
                .iter()
                .find(|(name, (file, _))| name == function && file == case)
                .unwrap_or_else(|| panic!("no event {function}/{case}"));
            serde_json::from_str(text).expect("an event is JSON")
        };
        let issued = event("validate-meeting", "issued-id");
        let webhook = event("videosdk-webhook", "session-started");
        let text = |value: &Value| value.as_str().expect("a string").to_owned();
        Known {
            bearer: text(&issued["headers"]["authorization"]),
            meeting_id: text(&issued["pathParameters"]["meetingId"]),
            webhook_body: text(&webhook["body"]),
            webhook_signature: text(&webhook["headers"]["videosdk-signature"]),
        }
    })
}

fn any_method() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just("GET".to_owned()),
        3 => Just("POST".to_owned()),
        1 => Just("OPTIONS".to_owned()),
        1 => Just("PUT".to_owned()),
        1 => "[A-Z]{1,8}",
    ]
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,64}",
        "[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}",
        "[A-Za-z0-9_.-]{0,300}",
        any::<Vec<u8>>().prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
    ]
}

fn any_meeting_id() -> impl Strategy<Value = String> {
    prop_oneof![Just(known().meeting_id.clone()), any_text()]
}

fn any_authorization() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => Just(known().bearer.clone()),
        1 => Just(known().bearer.trim_start_matches("Bearer ").to_owned()),
        1 => any_text(),
        1 => any_text().prop_map(|text| format!("Bearer {text}")),
    ]
}

fn any_origin() -> impl Strategy<Value = String> {
    prop_oneof![Just("https://app.example.com".to_owned()), any_text()]
}

fn any_signature() -> impl Strategy<Value = String> {
    prop_oneof![Just(known().webhook_signature.clone()), any_text()]
}

fn any_query() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop_oneof![
        Just("permissions".to_owned()),
        Just("roomId".to_owned()),
        Just("peerId".to_owned()),
        Just("meetingId".to_owned()),
        Just("participantId".to_owned()),
        any_text(),
    ];
    let value = prop_oneof![
        Just("allow_join".to_owned()),
        Just("ask_join".to_owned()),
        Just("allow_join,allow_mod".to_owned()),
        Just("abcd-efgh-ijkl".to_owned()),
        any_text(),
    ];
    prop::collection::vec((name, value), 0..4)
}

fn any_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<Vec<u8>>(),
        any_text()
            .prop_map(|token| format!("{{\"token\":{}}}", serde_json::json!(token)).into_bytes()),
        Just(
            format!(
                "{{\"token\":{}}}",
                json!(known().bearer.trim_start_matches("Bearer "))
            )
            .into_bytes()
        ),
        Just(known().webhook_body.clone().into_bytes()),
        Just(b"{\"token\":".to_vec()),
        (0usize..20_000).prop_map(|n| vec![b'{'; n]),
    ]
}

/// A request as lambda_http gives it to a handler, from its parts.
#[derive(Debug, Clone)]
struct Drawn {
    function: &'static str,
    method: String,
    meeting_id: String,
    authorization: Option<String>,
    signature: Option<String>,
    origin: Option<String>,
    query: Vec<(String, String)>,
    body: Vec<u8>,
}

fn any_request() -> impl Strategy<Value = Drawn> {
    (
        prop::sample::select(shared::routes::ALL.map(|route| route.name).to_vec()),
        any_method(),
        any_meeting_id(),
        prop::option::of(any_authorization()),
        prop::option::of(any_signature()),
        prop::option::of(any_origin()),
        any_query(),
        any_body(),
    )
        .prop_map(
            |(function, method, meeting_id, authorization, signature, origin, query, body)| Drawn {
                function,
                method,
                meeting_id,
                authorization,
                signature,
                origin,
                query,
                body,
            },
        )
}

#[test]
fn any_request_gets_a_json_answer_and_never_a_5xx() {
    const CASES: u32 = 400;
    let tally = run_counted(
        "requests",
        any_request(),
        CASES,
        CASES as usize,
        |drawn, tally| {
            let mut builder = Request::builder()
                .method(drawn.method.as_str())
                .uri("https://api.example/validate-meeting/x");
            for (name, value) in [
                ("authorization", &drawn.authorization),
                ("origin", &drawn.origin),
                ("videosdk-signature", &drawn.signature),
            ] {
                if let Some(value) = value {
                    builder = builder.header(name, value.as_str());
                }
            }
            // Inputs http itself refuses (a header with a newline, say) never reach a function.
            let request = builder.body(Body::from(drawn.body));
            prop_assume!(request.is_ok());
            let mut parameters = std::collections::HashMap::<String, Vec<String>>::new();
            for (name, value) in drawn.query {
                parameters.entry(name).or_default().push(value);
            }
            let mut path = std::collections::HashMap::new();
            path.insert("meetingId".to_owned(), drawn.meeting_id);
            let request = request
                .expect("assumed")
                .with_query_string_parameters(parameters)
                .with_path_parameters(path);
            let response = runtime().block_on(functions().invoke(drawn.function, request));
            tally.answered(&response);
            check(&response)
        },
    );
    // Floors well under what 400 cases reach (docs/testing.md): a generator whose requests all
    // fail at the first check goes under them.
    assert!(
        tally.successes() >= 20,
        "only {} successes",
        tally.successes()
    );
}

/// A change to one field of a real event.
#[derive(Debug, Clone)]
enum Edit {
    Method(String),
    RawPath(String),
    /// Sets `rawQueryString` and `queryStringParameters` alike (values of a name comma-joined).
    Query(Vec<(String, String)>),
    Header(&'static str, String),
    RemoveHeader(&'static str),
    MeetingId(String),
    Body(Vec<u8>),
    /// The body as base64 (`isBase64Encoded: true`).
    Base64Body(Vec<u8>),
    /// `isBase64Encoded: true` over a body left as it is.
    MarkBase64,
    Stage(String),
    DomainName(String),
    Cookies(Vec<String>),
    /// `requestContext.authorizer.jwt`, as HTTP API fills it in: string claims and scopes.
    Claims(Vec<(String, String)>, Option<Vec<String>>),
}

const HEADERS: &[&str] = &[
    "authorization",
    "origin",
    "host",
    "x-forwarded-proto",
    "content-type",
    "videosdk-signature",
    "access-control-request-method",
];

fn any_edit() -> impl Strategy<Value = Edit> {
    let header_value = |name: &'static str| -> BoxedStrategy<String> {
        match name {
            "authorization" => any_authorization().boxed(),
            "origin" => any_origin().boxed(),
            "videosdk-signature" => any_signature().boxed(),
            "x-forwarded-proto" => prop_oneof![Just("https".to_owned()), any_text()].boxed(),
            _ => any_text().boxed(),
        }
    };
    prop_oneof![
        any_method().prop_map(Edit::Method),
        prop_oneof![
            Just("/get-token".to_owned()),
            Just("/create-meeting".to_owned()),
            "/[ -~]{0,40}",
            any_text(),
        ]
        .prop_map(Edit::RawPath),
        any_query().prop_map(Edit::Query),
        // Header values as HTTP carries them: no control characters but tab.
        prop::sample::select(HEADERS).prop_flat_map(move |name| {
            header_value(name).prop_map(move |value| {
                Edit::Header(
                    name,
                    value.replace(|c: char| c.is_control() && c != '\t', ""),
                )
            })
        }),
        prop::sample::select(HEADERS).prop_map(Edit::RemoveHeader),
        any_meeting_id().prop_map(Edit::MeetingId),
        any_body().prop_map(Edit::Body),
        any_body().prop_map(Edit::Base64Body),
        Just(Edit::MarkBase64),
        prop_oneof![
            Just("$default".to_owned()),
            Just("prod".to_owned()),
            any_text()
        ]
        .prop_map(Edit::Stage),
        any_text().prop_map(Edit::DomainName),
        prop::collection::vec(any_text(), 0..3).prop_map(Edit::Cookies),
        (
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("sub".to_owned()),
                        Just("cognito:groups".to_owned()),
                        any_text()
                    ],
                    prop_oneof![
                        Just("[admins moderators]".to_owned()),
                        Just("moderators".to_owned()),
                        "auth0\\|[0-9a-f]{1,24}",
                        any_text(),
                    ],
                ),
                0..4,
            ),
            prop::option::of(prop::collection::vec(any_text(), 0..3)),
        )
            .prop_map(|(claims, scopes)| Edit::Claims(claims, scopes)),
    ]
}

fn apply(event: &mut Value, edit: Edit) {
    match edit {
        Edit::Method(method) => {
            event["requestContext"]["http"]["method"] = json!(method);
        }
        Edit::RawPath(path) => {
            event["rawPath"] = json!(path);
            event["requestContext"]["http"]["path"] = json!(path);
        }
        Edit::Query(pairs) => {
            let raw: Vec<String> = pairs
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect();
            let mut joined = serde_json::Map::new();
            for (name, value) in pairs {
                let entry = joined.entry(name).or_insert_with(|| json!(""));
                let text = entry.as_str().expect("a string");
                *entry = json!(if text.is_empty() {
                    value
                } else {
                    format!("{text},{value}")
                });
            }
            event["rawQueryString"] = json!(raw.join("&"));
            event["queryStringParameters"] = Value::Object(joined);
        }
        Edit::Header(name, value) => event["headers"][name] = json!(value),
        Edit::RemoveHeader(name) => {
            if let Some(headers) = event["headers"].as_object_mut() {
                headers.remove(name);
            }
        }
        Edit::MeetingId(id) => event["pathParameters"] = json!({ "meetingId": id }),
        Edit::Body(body) => {
            event["body"] = json!(String::from_utf8_lossy(&body));
            event["isBase64Encoded"] = json!(false);
        }
        Edit::Base64Body(body) => {
            event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
            event["isBase64Encoded"] = json!(true);
        }
        Edit::MarkBase64 => event["isBase64Encoded"] = json!(true),
        Edit::Stage(stage) => event["requestContext"]["stage"] = json!(stage),
        Edit::DomainName(name) => event["requestContext"]["domainName"] = json!(name),
        Edit::Cookies(cookies) => event["cookies"] = json!(cookies),
        Edit::Claims(claims, scopes) => {
            let claims: serde_json::Map<String, Value> = claims
                .into_iter()
                .map(|(name, value)| (name, json!(value)))
                .collect();
            event["requestContext"]["authorizer"] =
                json!({"jwt": {"claims": claims, "scopes": scopes}});
        }
    }
}

/// A real event of one function (fresh tokens), with up to four of its fields replaced.
fn any_event() -> impl Strategy<Value = (String, Value)> {
    let count = events().len();
    (0..count, prop::collection::vec(any_edit(), 0..4)).prop_map(|(index, edits)| {
        let (function, (_, text)) = &events()[index];
        let mut event: Value = serde_json::from_str(text).expect("an event is JSON");
        for edit in edits {
            apply(&mut event, edit);
        }
        (function.clone(), event)
    })
}

/// The path every event takes in the deployed functions (shared::aws::lambda): a request for the
/// handler, or a 400 for an event lambda_http could not turn into one.
fn through_the_functions(
    function: &str,
    event: ApiGatewayV2httpRequest,
    tally: &Tally,
) -> TestCaseResult {
    let response = match shared::aws::lambda::into_request(event) {
        Ok(request) => {
            let response = runtime().block_on(functions().invoke(function, request));
            tally.answered(&response);
            response
        }
        Err(error) => {
            prop_assert_eq!(error.status.as_u16(), 400);
            tally.refused.fetch_add(1, Ordering::Relaxed);
            error.into_response()
        }
    };
    check(&response)
}

#[test]
fn any_event_is_answered_or_refused_without_a_panic() {
    const CASES: u32 = 400;
    let tally = run_counted(
        "events",
        any_event(),
        CASES,
        CASES as usize / 2,
        |(function, event), tally| {
            // Every field drawn is one API Gateway can send: the event must read as one.
            let event: ApiGatewayV2httpRequest = serde_json::from_value(event.clone())
                .map_err(|error| TestCaseError::fail(format!("not an event ({error}): {event}")))?;
            through_the_functions(&function, event, tally)
        },
    );
    // Floors well under what 400 cases reach (docs/testing.md).
    assert!(
        tally.successes() >= 20,
        "only {} successes",
        tally.successes()
    );
}

#[test]
fn mangled_real_events_never_break_a_handler() {
    const CASES: u32 = 256;
    let strategy = (
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        any::<char>(),
    );
    run_counted(
        "mangled events",
        strategy,
        CASES,
        CASES as usize / 2,
        |(file_index, position, replacement), tally| {
            let files = events();
            let (function, (_, text)) = &files[file_index.index(files.len())];
            let mut chars: Vec<char> = text.chars().collect();
            let at = position.index(chars.len());
            chars[at] = replacement;
            let text: String = chars.into_iter().collect();
            let event = serde_json::from_str::<ApiGatewayV2httpRequest>(&text);
            // A character that breaks the JSON makes no event: API Gateway sends none such.
            prop_assume!(event.is_ok());
            through_the_functions(function, event.expect("assumed"), tally)
        },
    );
}

/// Every event of `events/`, written now (tokens valid for a day): its function, case and text.
fn events() -> &'static Vec<(String, (String, String))> {
    static EVENTS: OnceLock<Vec<(String, (String, String))>> = OnceLock::new();
    EVENTS.get_or_init(|| {
        let fresh = api_tests::events::fresh();
        fresh
            .files()
            .into_iter()
            .map(|file| {
                let text = std::fs::read_to_string(&file.path).expect("readable event");
                (file.function, (file.case, text))
            })
            .collect()
    })
}
