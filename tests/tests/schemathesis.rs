//! The running local API against `openapi.yaml`, by schemathesis (property-based testing from
//! the spec; pinned in dev/requirements.txt, installed into .venv by scripts/venv) with every
//! check it has (`--checks all`): no 5xx, statuses, content types, headers and bodies as the spec
//! says, schema-violating input refused and valid input accepted, `405` with a correct `Allow`
//! for undocumented methods, auth enforced (requests replayed without and with a wrong token).
//!
//! Two runs against one `cargo lambda watch` with the development key:
//! - authenticated: `Authorization: Bearer <a token from this API's /get-token>` on every
//!   request, positive and negative cases, every phase (examples, coverage, fuzzing, stateful:
//!   create-meeting then validate-meeting with the id it answered);
//! - unauthenticated: no credentials but the ones schemathesis generates itself (random, empty
//!   or `Bearer` tokens, JSON bodies with random `token`s), negative cases only: every answer
//!   must be a documented 4xx.
//!
//! One input is kept from the emulator, not from the API: a request body that is not UTF-8 sent
//! as `application/json`. `cargo lambda watch` cannot put it into the API Gateway event and
//! answers 500 itself without invoking the function. The hook below drops those bodies, and the
//! test sends such bytes the way the emulator can pass them on (base64, as
//! `application/octet-stream`) to check that the functions answer them 400.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use api_tests::{ChildGuard, LocalApi, venv_tool, workspace_root};
use serde_json::Value;

/// Test cases per API operation and phase, for each run: about 1,400 and 900 cases in all,
/// under two minutes here.
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

/// What one schemathesis run reported.
struct RunReport {
    generated: u64,
    seed: String,
    seconds: f64,
}

/// Runs `schemathesis run openapi.yaml` against `base_url` with `extra` arguments; fails the
/// test, with schemathesis's own report, on any failure or error.
fn schemathesis(name: &str, base_url: &str, work_dir: &Path, extra: &[&str]) -> RunReport {
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
        report["operations"]["tested"], 6,
        "schemathesis ({name}) did not test all six operations: {}",
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

#[tokio::test]
async fn the_local_api_keeps_to_openapi_yaml() {
    let api = LocalApi::start(&[], true);
    // Start every function (the first request to each builds and starts it) before timing runs.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(1200))
        .build()
        .expect("an HTTP client");
    let warm_up_token = token(&client, &api).await;
    let response = client
        .post(api.url("/create-meeting"))
        .bearer_auth(&warm_up_token)
        .send()
        .await
        .expect("create-meeting answers");
    assert_eq!(response.status(), 200, "{}", api.log());
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
        &[
            "-H",
            &bearer,
            "--max-examples",
            &AUTHENTICATED_MAX_EXAMPLES.to_string(),
        ],
    );
    let created = logged(&api, "/create-meeting", "200") - created_before;
    let validated = logged(&api, "/validate-meeting/{meetingId}", "200") - validated_before;
    assert!(
        created > 0 && validated > 0,
        "the authenticated run never got past the token: {created} meetings created, \
         {validated} validated"
    );

    let refused_before = logged(&api, "/create-meeting", "401");
    let unauthenticated = schemathesis(
        "unauthenticated",
        &api.base_url,
        work_dir.path(),
        &[
            "--mode",
            "negative",
            "--max-examples",
            &UNAUTHENTICATED_MAX_EXAMPLES.to_string(),
        ],
    );
    let refused = logged(&api, "/create-meeting", "401") - refused_before;
    assert!(
        refused > 0,
        "the unauthenticated run was never refused a token"
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

    println!(
        "schemathesis: {} test cases, no failure: authenticated run {} cases in {:.0} s \
         (seed {}; {created} meetings created, {validated} validated), unauthenticated negative \
         run {} cases in {:.0} s (seed {}; {refused} create-meeting calls refused 401)",
        authenticated.generated + unauthenticated.generated,
        authenticated.generated,
        authenticated.seconds,
        authenticated.seed,
        unauthenticated.generated,
        unauthenticated.seconds,
        unauthenticated.seed,
    );
}
