//! Load on the local API: 20,000 requests, 32 at a time, over loopback to `cargo lambda watch`
//! running the real binaries. A fixed mix of every route, good and bad requests; every answer
//! must have the status (and error code) the contract gives it: no 5xx, no connection error.
//! Prints throughput and latency percentiles per route and overall; asserts nothing on speed.
//!
//! `cargo lambda watch` runs each function with concurrency 1 (one request at a time per
//! function, like a Lambda function with reserved concurrency 1): with 32 clients, requests
//! queue in the emulator, so the latencies include that queueing. The figures are those of debug
//! builds behind a local emulator, on whatever else the machine is doing: a smoke test of
//! robustness under concurrency, not a benchmark (`scripts/bench` measures the handlers).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use api_tests::LocalApi;
use hdrhistogram::Histogram;
use reqwest::header::{ALLOW, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Client, Method};
use serde_json::{Value, json};

/// Requests in the measured run, and how many are in flight at once.
const REQUESTS: usize = 20_000;
const CONCURRENCY: usize = 32;
/// Unmeasured requests first, so that every route has started (and built) its function.
const WARM_UP_REQUESTS: usize = 4 * CONCURRENCY;
/// The run stops issuing requests after this long, whatever the count (well within the 600 s
/// lifetime of the token it uses).
const TIME_LIMIT: Duration = Duration::from_secs(300);
/// A request that takes longer than this counts as a connection error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The kinds of request, in the order the mix repeats them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    TokenOk,
    TokenScoped,
    TokenForbiddenPermission,
    TokenBadRoomId,
    CreateBearer,
    CreateBodyToken,
    CreateWithoutToken,
    CreateBadJson,
    ValidateCreated,
    ValidateUnknown,
    ValidateMalformed,
    WrongMethod,
}

const MIX: [Kind; 12] = [
    Kind::TokenOk,
    Kind::CreateBearer,
    Kind::ValidateCreated,
    Kind::TokenForbiddenPermission,
    Kind::CreateWithoutToken,
    Kind::ValidateUnknown,
    Kind::TokenScoped,
    Kind::CreateBodyToken,
    Kind::ValidateMalformed,
    Kind::TokenBadRoomId,
    Kind::CreateBadJson,
    Kind::WrongMethod,
];

const ROUTES: [&str; 3] = [
    "/get-token",
    "/create-meeting",
    "/validate-meeting/{meetingId}",
];

/// What a request must be answered with.
struct Expected {
    status: u16,
    code: Option<&'static str>,
    allow: Option<&'static str>,
}

impl Expected {
    fn ok() -> Self {
        Self {
            status: 200,
            code: None,
            allow: None,
        }
    }

    fn error(status: u16, code: &'static str) -> Self {
        Self {
            status,
            code: Some(code),
            allow: None,
        }
    }
}

/// One request ready to send, with its route (for the statistics) and expected answer.
struct Planned {
    route: usize,
    request: reqwest::RequestBuilder,
    expected: Expected,
    /// The meeting id in the path, for a validation of a meeting created in this run.
    meeting_id: Option<String>,
}

/// What the workers share: the token, and the meetings created so far.
struct Shared {
    client: Client,
    base_url: String,
    token: String,
    created: Mutex<Vec<String>>,
}

impl Shared {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A meeting created by an earlier request of this run (the most recent ones first).
    fn created_meeting(&self, n: usize) -> String {
        let created = self.created.lock().unwrap();
        let recent = created.len().min(64);
        created[created.len() - 1 - n % recent].clone()
    }

    fn plan(&self, kind: Kind, n: usize) -> Planned {
        let bearer = format!("Bearer {}", self.token);
        let get = |path: &str| self.client.get(self.url(path));
        let post = |path: &str| self.client.post(self.url(path));
        let (route, request, expected, meeting_id) = match kind {
            Kind::TokenOk => (0, get("/get-token"), Expected::ok(), None),
            Kind::TokenScoped => (
                0,
                get(&format!(
                    "/get-token?roomId=load-room-{}&peerId=user-{n}",
                    n % 100
                )),
                Expected::ok(),
                None,
            ),
            Kind::TokenForbiddenPermission => (
                0,
                get("/get-token?permissions=allow_join,allow_mod"),
                Expected::error(403, "permission_not_allowed"),
                None,
            ),
            Kind::TokenBadRoomId => (
                0,
                get("/get-token?roomId=no%20spaces%20here"),
                Expected::error(400, "invalid_room_id"),
                None,
            ),
            Kind::CreateBearer => (
                1,
                post("/create-meeting").header(AUTHORIZATION, &bearer),
                Expected::ok(),
                None,
            ),
            Kind::CreateBodyToken => (
                1,
                post("/create-meeting")
                    .header(CONTENT_TYPE, "application/json")
                    .body(json!({"token": self.token, "region": "sg001"}).to_string()),
                Expected::ok(),
                None,
            ),
            Kind::CreateWithoutToken => (
                1,
                post("/create-meeting"),
                Expected::error(401, "missing_token"),
                None,
            ),
            Kind::CreateBadJson => (
                1,
                post("/create-meeting")
                    .header(AUTHORIZATION, &bearer)
                    .header(CONTENT_TYPE, "application/json")
                    .body(r#"{"token": "#),
                Expected::error(400, "invalid_json"),
                None,
            ),
            Kind::ValidateCreated => {
                let id = self.created_meeting(n);
                (
                    2,
                    post(&format!("/validate-meeting/{id}")).header(AUTHORIZATION, &bearer),
                    Expected::ok(),
                    Some(id),
                )
            }
            Kind::ValidateUnknown => {
                // One character changed: well-formed, and never valid (the HMAC tag covers
                // every character; shared/src/domain/meeting_id.rs tests every single change).
                let mut id = self.created_meeting(n).into_bytes();
                let last = id.len() - 1;
                id[last] = if id[last] == b'z' { b'y' } else { b'z' };
                let id = String::from_utf8(id).expect("ASCII");
                (
                    2,
                    post(&format!("/validate-meeting/{id}")).header(AUTHORIZATION, &bearer),
                    Expected::error(404, "meeting_not_found"),
                    None,
                )
            }
            Kind::ValidateMalformed => (
                2,
                post("/validate-meeting/Not-A-Meeting-Id").header(AUTHORIZATION, &bearer),
                Expected::error(400, "malformed_meeting_id"),
                None,
            ),
            Kind::WrongMethod => {
                let route = n / MIX.len() % ROUTES.len();
                let (method, path, allow) = match route {
                    0 => (Method::DELETE, "/get-token", "GET, OPTIONS"),
                    1 => (Method::GET, "/create-meeting", "POST, OPTIONS"),
                    _ => (
                        Method::PUT,
                        "/validate-meeting/abcd-efgh-ijkl",
                        "POST, OPTIONS",
                    ),
                };
                let expected = Expected {
                    allow: Some(allow),
                    ..Expected::error(405, "method_not_allowed")
                };
                (
                    route,
                    self.client.request(method, self.url(path)),
                    expected,
                    None,
                )
            }
        };
        Planned {
            route,
            request,
            expected,
            meeting_id,
        }
    }
}

/// Whether an answer is the expected one. Returns the meeting id a successful create made.
fn check(
    kind: Kind,
    planned_meeting: Option<&str>,
    expected: &Expected,
    status: u16,
    allow: Option<&str>,
    body: &[u8],
) -> Result<Option<String>, String> {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let describe = || format!("{status} {}", String::from_utf8_lossy(body));
    if status != expected.status {
        return Err(format!("expected {}, got {}", expected.status, describe()));
    }
    let json = json.ok_or_else(|| format!("body is not JSON: {}", describe()))?;
    if let Some(code) = expected.code
        && json["error"]["code"] != code
    {
        return Err(format!("expected error code {code}, got {}", describe()));
    }
    if let Some(expected_allow) = expected.allow
        && allow != Some(expected_allow)
    {
        return Err(format!(
            "expected Allow: {expected_allow}, got {allow:?} on {}",
            describe()
        ));
    }
    match kind {
        Kind::TokenOk | Kind::TokenScoped if !json["token"].is_string() => {
            Err(format!("no token in {}", describe()))
        }
        Kind::CreateBearer | Kind::CreateBodyToken => match json["meetingId"].as_str() {
            Some(id) if json["roomId"] == id => Ok(Some(id.to_owned())),
            _ => Err(format!("no meeting in {}", describe())),
        },
        Kind::ValidateCreated
            if json
                != json!({"meetingId": planned_meeting, "roomId": planned_meeting, "valid": true}) =>
        {
            Err(format!(
                "expected {planned_meeting:?} to be valid: {}",
                describe()
            ))
        }
        _ => Ok(None),
    }
}

/// What one run saw.
struct Stats {
    requests: usize,
    elapsed: Duration,
    routes: Vec<Histogram<u64>>,
    all: Histogram<u64>,
    /// (kind, status) -> count.
    answers: BTreeMap<(Kind, u16), usize>,
    server_errors: usize,
    connection_errors: usize,
    unexpected: usize,
    /// The first few problems, for the failure message.
    problems: Vec<String>,
    validated_created: usize,
}

fn histogram() -> Histogram<u64> {
    // Microseconds, from 1 µs to 5 minutes, 3 significant figures.
    Histogram::new_with_bounds(1, 300_000_000, 3).expect("valid histogram bounds")
}

impl Stats {
    fn new() -> Self {
        Self {
            requests: 0,
            elapsed: Duration::ZERO,
            routes: ROUTES.iter().map(|_| histogram()).collect(),
            all: histogram(),
            answers: BTreeMap::new(),
            server_errors: 0,
            connection_errors: 0,
            unexpected: 0,
            problems: Vec::new(),
            validated_created: 0,
        }
    }

    fn problem(&mut self, text: String) {
        if self.problems.len() < 10 {
            self.problems.push(text);
        }
    }

    fn merge(&mut self, other: Stats) {
        self.requests += other.requests;
        for (mine, theirs) in self.routes.iter_mut().zip(&other.routes) {
            mine.add(theirs).expect("same bounds");
        }
        self.all.add(&other.all).expect("same bounds");
        for (key, count) in other.answers {
            *self.answers.entry(key).or_default() += count;
        }
        self.server_errors += other.server_errors;
        self.connection_errors += other.connection_errors;
        self.unexpected += other.unexpected;
        self.validated_created += other.validated_created;
        for problem in other.problems {
            self.problem(problem);
        }
    }
}

/// Sends `count` requests of the mix, `CONCURRENCY` at a time, and checks every answer.
async fn run(shared: &Arc<Shared>, count: usize, first_index: usize) -> Stats {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let shared = Arc::clone(shared);
        let next = Arc::clone(&next);
        workers.spawn(async move {
            let mut stats = Stats::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= count || started.elapsed() > TIME_LIMIT {
                    break;
                }
                let n = first_index + index;
                let kind = MIX[n % MIX.len()];
                let planned = shared.plan(kind, n);
                let sent = Instant::now();
                let answer = match planned.request.send().await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let allow = response
                            .headers()
                            .get(ALLOW)
                            .and_then(|value| value.to_str().ok())
                            .map(str::to_owned);
                        response.bytes().await.map(|body| (status, allow, body))
                    }
                    Err(error) => Err(error),
                };
                let micros = sent.elapsed().as_micros().max(1) as u64;
                stats.requests += 1;
                stats.routes[planned.route].saturating_record(micros);
                stats.all.saturating_record(micros);
                let (status, allow, body) = match answer {
                    Ok(answer) => answer,
                    Err(error) => {
                        stats.connection_errors += 1;
                        stats.problem(format!("{kind:?}: {error}"));
                        continue;
                    }
                };
                *stats.answers.entry((kind, status)).or_default() += 1;
                if status >= 500 {
                    stats.server_errors += 1;
                }
                match check(
                    kind,
                    planned.meeting_id.as_deref(),
                    &planned.expected,
                    status,
                    allow.as_deref(),
                    &body,
                ) {
                    Ok(Some(id)) => shared.created.lock().unwrap().push(id),
                    Ok(None) => {
                        if kind == Kind::ValidateCreated {
                            stats.validated_created += 1;
                        }
                    }
                    Err(problem) => {
                        stats.unexpected += 1;
                        stats.problem(format!("{kind:?}: {problem}"));
                    }
                }
            }
            stats
        });
    }
    let mut total = Stats::new();
    while let Some(stats) = workers.join_next().await {
        total.merge(stats.expect("a load worker panicked"));
    }
    total.elapsed = started.elapsed();
    total
}

fn millis(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

fn print_report(stats: &Stats) {
    let seconds = stats.elapsed.as_secs_f64();
    println!(
        "load: {} requests, concurrency {CONCURRENCY}, in {seconds:.2} s: {:.0} requests/s \
         (loopback, cargo lambda watch, debug builds, 1 instance per function)",
        stats.requests,
        stats.requests as f64 / seconds
    );
    println!(
        "{:<31} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "route", "requests", "p50 ms", "p90 ms", "p99 ms", "max ms", "req/s"
    );
    let rows = ROUTES
        .iter()
        .copied()
        .zip(&stats.routes)
        .chain([("all", &stats.all)]);
    for (name, histogram) in rows {
        println!(
            "{:<31} {:>8} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>9.0}",
            name,
            histogram.len(),
            millis(histogram.value_at_quantile(0.50)),
            millis(histogram.value_at_quantile(0.90)),
            millis(histogram.value_at_quantile(0.99)),
            millis(histogram.max()),
            histogram.len() as f64 / seconds
        );
    }
    println!("answers by kind of request:");
    for ((kind, status), count) in &stats.answers {
        println!("  {:<26} {status} x {count}", format!("{kind:?}"));
    }
    println!(
        "validations of meetings created in the run: {}; 5xx: {}; connection errors: {}; \
         unexpected answers: {}",
        stats.validated_created, stats.server_errors, stats.connection_errors, stats.unexpected
    );
}

fn assert_clean(stats: &Stats, what: &str, api: &LocalApi) {
    assert!(
        stats.server_errors == 0 && stats.connection_errors == 0 && stats.unexpected == 0,
        "{what}: {} 5xx, {} connection errors, {} unexpected answers; first problems:\n{}\n\
         local API log (tail):\n{}",
        stats.server_errors,
        stats.connection_errors,
        stats.unexpected,
        stats.problems.join("\n"),
        tail(&api.log(), 40)
    );
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn up_to_twenty_thousand_mixed_requests_in_five_minutes_get_their_expected_answers() {
    let api = LocalApi::start(&[], true);
    // The first request to each function builds and starts it: minutes on a cold target dir.
    let patient = Client::builder()
        .timeout(Duration::from_secs(1200))
        .build()
        .expect("an HTTP client");
    let token_of = |body: Value| body["token"].as_str().expect("a token").to_owned();
    let response = patient
        .get(api.url("/get-token"))
        .send()
        .await
        .expect("get-token answers");
    assert_eq!(response.status(), 200, "{}", api.log());
    let token = token_of(response.json().await.expect("JSON"));
    let response = patient
        .post(api.url("/create-meeting"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("create-meeting answers");
    assert_eq!(response.status(), 200, "{}", api.log());
    let body: Value = response.json().await.expect("JSON");
    let first_meeting = body["meetingId"].as_str().expect("a meeting").to_owned();
    let response = patient
        .post(api.url(&format!("/validate-meeting/{first_meeting}")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("validate-meeting answers");
    assert_eq!(response.status(), 200, "{}", api.log());

    let client = Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .expect("an HTTP client");
    let warm_up = Arc::new(Shared {
        client: client.clone(),
        base_url: api.base_url.clone(),
        token,
        created: Mutex::new(vec![first_meeting]),
    });
    let stats = run(&warm_up, WARM_UP_REQUESTS, 0).await;
    assert_clean(&stats, "warm-up", &api);

    // A fresh token for the measured run, so that it cannot expire during it.
    let response = client
        .get(api.url("/get-token"))
        .send()
        .await
        .expect("get-token answers");
    let token = token_of(response.json().await.expect("JSON"));
    let created = std::mem::take(&mut *warm_up.created.lock().unwrap());
    let shared = Arc::new(Shared {
        client,
        base_url: api.base_url.clone(),
        token,
        created: Mutex::new(created),
    });
    let stats = run(&shared, REQUESTS, 0).await;
    print_report(&stats);
    assert_clean(&stats, "load", &api);
    if stats.requests < REQUESTS {
        println!(
            "load: stopped by the {} s time limit after {} of {REQUESTS} requests",
            TIME_LIMIT.as_secs(),
            stats.requests
        );
    }
    assert!(stats.requests > 0, "no request was sent");
}
