//! The functions as deployed by default against `openapi.yaml`, by schemathesis (property-based
//! testing from the spec; pinned in dev/requirements.txt, installed into .venv by scripts/venv)
//! with every check it has (`--checks all`): no 5xx, statuses, content types, headers and bodies
//! as the spec says, schema-violating input refused and valid input accepted, `405` with a
//! correct `Allow` for undocumented methods, auth enforced (requests replayed without and with a
//! wrong token). The webhook route is run too (its key pinned, its bus a stand-in): no request
//! schemathesis makes carries VideoSDK's signature, so every one must be refused and none
//! published.
//!
//! The real binaries run under `cargo lambda watch` with the development key and the default
//! configuration (`MEETING_BACKEND=videosdk`, `TOKEN_ROLES=rtc`, `ALLOW_CLIENT_WEBHOOKS=false`,
//! ...), their `VIDEOSDK_API_ENDPOINT` pointing at a stand-in for VideoSDK's rooms API started by
//! the test, which checks every call's token as VideoSDK does and remembers the rooms it made.
//! Two runs:
//! - authenticated: `Authorization: Bearer <a token from this API's /get-token>` on every
//!   request, positive and negative cases, every phase (examples, coverage, fuzzing, stateful:
//!   create-meeting then validate-meeting with the id it answered);
//! - unauthenticated: no credentials but the ones schemathesis generates itself (random, empty
//!   or `Bearer` tokens, JSON bodies with random `token`s), negative cases only: every answer
//!   must be a documented 4xx.
//!
//! One kind of generated input is left out, by the hook below: a request body that is not UTF-8
//! sent as `application/json`: `cargo lambda watch` cannot put it into the API Gateway event and
//! answers 500 itself without invoking the function. The test sends such bytes the way the
//! emulator can pass them on (base64, as `application/octet-stream`) to check that the functions
//! answer them 400. Everything else schemathesis makes is sent, in both runs; a body whose
//! `token` is not a string, in particular, is 400 `invalid_body` with a token in the header too,
//! as the spec's `type: string` says.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use api_tests::claims_of as claims;
use api_tests::webhooks::{EventBridgeStandIn, development_public_key, webhook_environment};
use api_tests::{
    ChildGuard, LocalApi, VideoSdkStandIn, dev_credentials, venv_tool, workspace_root,
};
use serde_json::Value;

/// Test cases per API operation and phase, for each run (the counts and times of a run are in
/// docs/testing.md).
const AUTHENTICATED_MAX_EXAMPLES: u32 = 100;
const UNAUTHENTICATED_MAX_EXAMPLES: u32 = 50;
/// A run that takes longer than this is stopped and fails.
const RUN_LIMIT: Duration = Duration::from_secs(900);

const HOOKS_MODULE: &str = "videosdk_api_schemathesis_hooks";
const HOOKS: &str = r#"
import schemathesis


@schemathesis.hook
def filter_body(context, body):
    # cargo lambda watch answers 500 itself to an application/json body that is not UTF-8.
    if isinstance(body, (bytes, bytearray)):
        try:
            bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True
"#;

/// The operations openapi.yaml has: each route's own, and the preflight of each route browsers
/// call.
fn operations() -> usize {
    shared::routes::ALL
        .iter()
        .map(|route| if route.cors { 2 } else { 1 })
        .sum()
}

/// What one schemathesis run reported.
struct RunReport {
    generated: u64,
    seed: String,
    seconds: f64,
}

/// Runs `schemathesis run openapi.yaml` against `base_url` with `extra` arguments, off the async
/// runtime (it blocks for minutes); fails the test, with schemathesis's own report, on any
/// failure or error.
async fn schemathesis(
    name: &'static str,
    base_url: &str,
    work_dir: &Path,
    extra: Vec<String>,
) -> RunReport {
    let base_url = base_url.to_owned();
    let work_dir = work_dir.to_path_buf();
    blocking(move || run_schemathesis(name, &base_url, &work_dir, &extra)).await
}

/// Runs `work` on tokio's blocking pool; its panic (a failed assertion) fails the test as is.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(error) => match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(error) => panic!("blocking work did not finish: {error}"),
        },
    }
}

fn run_schemathesis(name: &str, base_url: &str, work_dir: &Path, extra: &[String]) -> RunReport {
    let spec = workspace_root().join("openapi.yaml");
    let report_path = work_dir.join(format!("{name}.json"));
    let output_path = work_dir.join(format!("{name}.log"));
    let output = std::fs::File::create(&output_path).expect("a log file");
    let mut command = Command::new(venv_tool("schemathesis"));
    command
        .current_dir(work_dir)
        .env("SCHEMATHESIS_HOOKS", HOOKS_MODULE)
        .env("PYTHONPATH", work_dir)
        .env("NO_COLOR", "1")
        .arg("run")
        .arg(&spec)
        .args(["--url", base_url, "--checks", "all"])
        .args(["--request-timeout", "30", "--generation-database", "none"])
        .args(["--no-color", "--report", "json", "--report-json-path"])
        .arg(&report_path)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(output.try_clone().expect("log handle"))
        .stderr(output);
    let started = Instant::now();
    let mut process = ChildGuard::spawn(&mut command).expect("schemathesis starts");
    let status = loop {
        if let Some(status) = process.try_wait().expect("schemathesis runs") {
            break status;
        }
        assert!(
            started.elapsed() < RUN_LIMIT,
            "schemathesis ({name}) did not finish within {RUN_LIMIT:?}:\n{}",
            std::fs::read_to_string(&output_path).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let seconds = started.elapsed().as_secs_f64();
    let printed = std::fs::read_to_string(&output_path).unwrap_or_default();
    println!("==== schemathesis, {name} run ====\n{printed}");
    let report: Value = std::fs::read_to_string(&report_path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| {
            panic!("schemathesis ({name}) wrote no JSON report ({status}):\n{printed}")
        });
    let failures = report["failures"].as_array().map_or(0, Vec::len);
    let errors = report["errors"].as_array().map_or(0, Vec::len);
    assert!(
        status.success() && report["exit_code"] == 0 && failures == 0 && errors == 0,
        "schemathesis ({name}) found {failures} kinds of failure and {errors} errors ({status}); \
         its report is above, and in short: {}",
        report["failures"]
    );
    assert_eq!(
        report["operations"]["tested"],
        operations(),
        "schemathesis ({name}) did not test every operation: {}",
        report["operations"]
    );
    let generated = report["test_cases"]["generated"].as_u64().unwrap_or(0);
    assert!(
        generated > 0,
        "schemathesis ({name}) generated no test case"
    );
    RunReport {
        generated,
        // The seed is a 128-bit integer, too large for serde_json's numbers: read it as printed.
        seed: printed
            .lines()
            .find_map(|line| line.trim().strip_prefix("Seed: "))
            .unwrap_or("?")
            .to_owned(),
        seconds,
    }
}

/// Answers the functions logged with this route and status (one log line per request).
fn logged(api: &LocalApi, route: &str, status: &str) -> usize {
    let route = format!("route=\"{route}\"");
    let status = format!(" status={status}");
    api.log()
        .lines()
        .filter(|line| line.contains(&route) && line.contains(&status))
        .count()
}

/// How often the functions answered this route with each error code, most frequent first.
fn error_codes(api: &LocalApi, route: &str) -> Vec<(String, usize)> {
    let route = format!("route=\"{route}\"");
    let mut counts: Vec<(String, usize)> = Vec::new();
    for line in api.log().lines().filter(|line| line.contains(&route)) {
        let Some((_, rest)) = line.split_once(" error=") else {
            continue;
        };
        let code = rest
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .trim_matches('"');
        if code == "-" {
            continue;
        }
        match counts.iter_mut().find(|(known, _)| known == code) {
            Some((_, count)) => *count += 1,
            None => counts.push((code.to_owned(), 1)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
}

async fn token(client: &reqwest::Client, api: &LocalApi) -> String {
    let response = client
        .get(api.url("/get-token"))
        .send()
        .await
        .expect("get-token answers");
    assert_eq!(response.status(), 200, "{}", api.log());
    let body: Value = response.json().await.expect("JSON");
    body["token"].as_str().expect("a token").to_owned()
}

/// The claims of a token, read without verifying it (the functions verified it).
// Multi-threaded, and the blocking work (building and starting the functions, schemathesis) on
// the blocking pool: nothing here holds up the runtime while the functions call the stand-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn the_functions_as_deployed_keep_to_openapi_yaml() {
    let credentials = dev_credentials();
    let videosdk = VideoSdkStandIn::start(
        credentials.api_key(),
        &String::from_utf8_lossy(credentials.secret_key()),
    )
    .await;
    // The defaults of a deployment (MEETING_BACKEND=videosdk, TOKEN_ROLES=rtc,
    // ALLOW_CLIENT_WEBHOOKS=false, ...), with VideoSDK's API at the stand-in and the development
    // key from dev/local.env, which the stand-in checks every call's token against.
    // The webhook function: the development webhook key pinned, and its bus a stand-in that
    // records whatever is published (nothing schemathesis sends can carry VideoSDK's signature).
    let eventbridge = EventBridgeStandIn::start().await;
    let mut environment = webhook_environment(&eventbridge.uri());
    environment.extend([
        ("MEETING_BACKEND", "videosdk".to_owned()),
        ("VIDEOSDK_API_ENDPOINT", videosdk.uri()),
        (
            "VIDEOSDK_WEBHOOK_PUBLIC_KEY",
            development_public_key().trim_end().replace('\n', "\\n"),
        ),
    ]);
    let api = blocking(move || LocalApi::start(&environment, true)).await;

    // Start every function (the first request to each builds and starts it) before timing runs.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(1200))
        .build()
        .expect("an HTTP client");
    let warm_up_token = token(&client, &api).await;
    assert_eq!(
        claims(&warm_up_token)["roles"],
        serde_json::json!(["rtc"]),
        "tokens carry the participant role by default"
    );
    let response = client
        .post(api.url("/create-meeting"))
        .bearer_auth(&warm_up_token)
        .send()
        .await
        .expect("create-meeting answers");
    assert_eq!(response.status(), 200, "{}", api.log());
    let created: Value = response.json().await.expect("JSON");
    let room = created["roomId"].as_str().expect("a room id").to_owned();
    let response = client
        .post(api.url(&format!("/validate-meeting/{room}")))
        .bearer_auth(&warm_up_token)
        .send()
        .await
        .expect("validate-meeting answers");
    assert_eq!(response.status(), 200, "{}", api.log());
    // An id VideoSDK does not know: the stand-in answers 400, as VideoSDK does, and the
    // functions 404.
    let response = client
        .post(api.url("/validate-meeting/abcd-efgh-ijkl"))
        .bearer_auth(&warm_up_token)
        .send()
        .await
        .expect("validate-meeting answers");
    assert_eq!(response.status(), 404, "{}", api.log());
    for path in ["/create-meeting", "/validate-meeting/abcd-efgh-ijkl"] {
        let response = client
            .post(api.url(path))
            .bearer_auth(&warm_up_token)
            .header("content-type", "application/octet-stream")
            .body(&b"\x60\xff\xfe{\"token\": \xc3\x28"[..])
            .send()
            .await
            .expect("the function answers");
        assert_eq!(response.status(), 400, "{path}: {}", api.log());
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["error"]["code"], "invalid_json", "{path}: {body}");
    }

    let work_dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(work_dir.path().join(format!("{HOOKS_MODULE}.py")), HOOKS).expect("hooks");

    // A fresh token: it lives 600 s, far longer than the run.
    let bearer = format!("Authorization: Bearer {}", token(&client, &api).await);
    let created_before = logged(&api, "/create-meeting", "200");
    let validated_before = logged(&api, "/validate-meeting/{meetingId}", "200");
    let authenticated = schemathesis(
        "authenticated",
        &api.base_url,
        work_dir.path(),
        vec![
            "-H".to_owned(),
            bearer,
            "--max-examples".to_owned(),
            AUTHENTICATED_MAX_EXAMPLES.to_string(),
        ],
    )
    .await;
    let created = logged(&api, "/create-meeting", "200") - created_before;
    let validated = logged(&api, "/validate-meeting/{meetingId}", "200") - validated_before;
    assert!(
        created > 0 && validated > 0,
        "the authenticated run never got past the token: {created} meetings created, \
         {validated} validated"
    );

    // The default deployment refuses a caller's webhook, whatever its shape: the spec allows
    // only `null`, so schemathesis's negative cases send others.
    let create_codes = error_codes(&api, "/create-meeting");
    assert!(
        create_codes
            .iter()
            .any(|(code, _)| code == "option_not_allowed"),
        "no webhook was refused in the authenticated run: {create_codes:?}"
    );

    let refused_before = logged(&api, "/create-meeting", "401");
    let unauthenticated = schemathesis(
        "unauthenticated",
        &api.base_url,
        work_dir.path(),
        vec![
            "--mode".to_owned(),
            "negative".to_owned(),
            "--max-examples".to_owned(),
            UNAUTHENTICATED_MAX_EXAMPLES.to_string(),
        ],
    )
    .await;
    let refused = logged(&api, "/create-meeting", "401") - refused_before;
    assert!(
        refused > 0,
        "the unauthenticated run was never refused a token"
    );

    // The webhook route took nothing: no request schemathesis made carries VideoSDK's
    // signature, so each was refused (401, or 413 / 405 first) and nothing was published.
    let webhooks_refused = logged(&api, "/videosdk-webhook", "401");
    assert!(
        webhooks_refused > 0,
        "schemathesis never reached the webhook route's signature check"
    );
    assert_eq!(
        logged(&api, "/videosdk-webhook", "204"),
        0,
        "a webhook without VideoSDK's signature was taken"
    );
    assert!(
        eventbridge.calls().is_empty(),
        "something was published: {:?}",
        eventbridge.calls()
    );

    // Every answer the functions gave, probes included: none was a 5xx.
    let log = api.log();
    let server_errors: Vec<&str> = log
        .lines()
        .filter(|line| line.contains(" status=5") || line.contains("panicked"))
        .collect();
    assert!(
        server_errors.is_empty(),
        "the functions answered 5xx or panicked:\n{}",
        server_errors.join("\n")
    );

    // Every call that reached VideoSDK carried a token VideoSDK takes, and every meeting the
    // functions answered is a room the stand-in made: one room per 200 of create-meeting, and
    // the rest by /join.
    let calls = videosdk.calls();
    let refused_upstream: Vec<_> = calls.iter().filter(|call| !call.authorized).collect();
    assert!(
        refused_upstream.is_empty(),
        "VideoSDK would have refused {} of {} calls: {refused_upstream:#?}",
        refused_upstream.len(),
        calls.len()
    );
    let room_creations = calls
        .iter()
        .filter(|call| call.method == "POST" && call.path == "/v2/rooms")
        .count();
    let room_validations = calls
        .iter()
        .filter(|call| call.method == "GET" && call.path.starts_with("/v2/rooms/validate/"))
        .count();
    // /join makes rooms too (a new one, or a custom id's on its first join): at most one per join
    // the functions answered.
    let created = logged(&api, "/create-meeting", "200");
    let joins = logged(&api, "/join", "");
    assert!(
        (created..=created + joins).contains(&room_creations),
        "every meeting created is a room at VideoSDK ({created}), and every other room was made \
         by one of the {joins} joins: {room_creations} rooms"
    );
    assert!(
        room_validations >= logged(&api, "/validate-meeting/{meetingId}", "200"),
        "every meeting validated was asked of VideoSDK"
    );

    println!(
        "create-meeting errors: {:?}\nvalidate-meeting errors: {:?}",
        error_codes(&api, "/create-meeting"),
        error_codes(&api, "/validate-meeting/{meetingId}")
    );
    println!(
        "schemathesis: {} test cases, no failure: authenticated run {} cases in {:.0} s \
         (seed {}; {created} meetings created, {validated} validated), unauthenticated negative \
         run {} cases in {:.0} s (seed {}; {refused} create-meeting calls refused 401); \
         VideoSDK stand-in: {} calls ({room_creations} rooms created, {room_validations} \
         validations), every token accepted; {webhooks_refused} unsigned webhooks refused, \
         none published",
        authenticated.generated + unauthenticated.generated,
        authenticated.generated,
        authenticated.seconds,
        authenticated.seed,
        unauthenticated.generated,
        unauthenticated.seconds,
        unauthenticated.seed,
        calls.len(),
    );
}
