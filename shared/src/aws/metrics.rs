//! Operational metrics as CloudWatch embedded metric format (EMF): each event is one JSON object
//! on its own stdout line, which CloudWatch Logs turns into a metric when Lambda ships the
//! function's output. No API call, no buffer, nothing on the request path but one short write.
//!
//! Every metric of the functions is defined here, once: its name, unit and dimensions ([`ALL`]);
//! docs/operations.md's metrics table lists the same (`tests/tests/contract.rs` checks it).
//! Dimension values are the function's name and fixed words of this module or of
//! [`ErrorCode`]: never a value a caller sent, a token or a secret.
//!
//! Lines go to stdout once [`init`] has run (the functions call it through
//! `logging::init`); otherwise nowhere, unless a test captures them (`test_support::Capture`).

use std::cell::RefCell;
use std::io::Write;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_http::{Body, Response};
use serde_json::{Map, Value, json};

use crate::domain::meetings::{MeetingError, UpstreamFailure};
use crate::http::error::ErrorCode;

/// The CloudWatch namespace of every metric here.
pub const NAMESPACE: &str = "VideoSdkTokenApi";

/// The Lambda function's name (`AWS_LAMBDA_FUNCTION_NAME`), on every metric.
pub const FUNCTION_NAME: &str = "FunctionName";
/// An [`ErrorCode`] in snake_case, as in the answer's `error.code`.
pub const ERROR_CODE: &str = "ErrorCode";
/// The service that failed: `VideoSDK` or `SecretsManager`.
pub const UPSTREAM: &str = "Upstream";
/// How it failed, in snake_case (`timed_out`, `access_denied`, ...).
pub const FAILURE: &str = "Failure";
/// `refreshed` or `failed`.
pub const OUTCOME: &str = "Outcome";

/// A metric: its name, its CloudWatch unit, and the dimension set it is published with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    pub name: &'static str,
    pub unit: &'static str,
    pub dimensions: &'static [&'static str],
}

/// A token issued by get-token or join.
pub const TOKENS_ISSUED: Metric = Metric {
    name: "TokensIssued",
    unit: "Count",
    dimensions: &[FUNCTION_NAME],
};
/// An answer with a 4xx status: the caller's request was refused, with this code.
pub const REFUSALS: Metric = Metric {
    name: "Refusals",
    unit: "Count",
    dimensions: &[FUNCTION_NAME, ERROR_CODE],
};
/// An answer with a 5xx status (VideoSDK failing, or this service), with its code.
pub const FAILED_REQUESTS: Metric = Metric {
    name: "FailedRequests",
    unit: "Count",
    dimensions: &[FUNCTION_NAME, ERROR_CODE],
};
/// A call to VideoSDK, or a read of the secret, that failed.
pub const UPSTREAM_FAILURES: Metric = Metric {
    name: "UpstreamFailures",
    unit: "Count",
    dimensions: &[FUNCTION_NAME, UPSTREAM, FAILURE],
};
/// A warm function's re-read of the secret: every `SECRET_REFRESH_SECONDS`, and after a token, meeting
/// id or VideoSDK refusal no key it holds explains.
pub const SECRET_REFRESHES: Metric = Metric {
    name: "SecretRefreshes",
    unit: "Count",
    dimensions: &[FUNCTION_NAME, OUTCOME],
};
/// A cold start's settings, secret and keys, as the `init_ms` of its "initialised" log line.
pub const INIT_DURATION: Metric = Metric {
    name: "InitDuration",
    unit: "Milliseconds",
    dimensions: &[FUNCTION_NAME],
};

/// Every metric the functions publish.
pub const ALL: [Metric; 6] = [
    TOKENS_ISSUED,
    REFUSALS,
    FAILED_REQUESTS,
    UPSTREAM_FAILURES,
    SECRET_REFRESHES,
    INIT_DURATION,
];

/// The values of [`UPSTREAM`].
pub const VIDEOSDK: &str = "VideoSDK";
pub const SECRETS_MANAGER: &str = "SecretsManager";

static TO_STDOUT: AtomicBool = AtomicBool::new(false);

/// The function's name, read once; `local` outside Lambda and `cargo lambda watch`.
static FUNCTION: LazyLock<String> = LazyLock::new(|| {
    std::env::var("AWS_LAMBDA_FUNCTION_NAME")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "local".to_owned())
});

thread_local! {
    static CAPTURED: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Sends metric lines to stdout from now on; call once, at start.
pub fn init() {
    LazyLock::force(&FUNCTION);
    TO_STDOUT.store(true, Ordering::Relaxed);
}

/// Collects the metric lines written on this thread while it lives, instead of printing them
/// (for tests; a current-thread tokio runtime runs its tasks on the test's thread).
#[cfg(any(test, feature = "test-support"))]
pub struct Capture {
    // Thread-bound: the lines are those of the thread that started it.
    _thread: std::marker::PhantomData<*const ()>,
}

#[cfg(any(test, feature = "test-support"))]
impl Capture {
    pub fn start() -> Self {
        CAPTURED.with_borrow_mut(|captured| *captured = Some(Vec::new()));
        Self {
            _thread: std::marker::PhantomData,
        }
    }

    /// The lines written so far.
    pub fn lines(&self) -> Vec<String> {
        CAPTURED.with_borrow(|captured| captured.clone().unwrap_or_default())
    }
}

#[cfg(any(test, feature = "test-support"))]
impl Drop for Capture {
    fn drop(&mut self) {
        CAPTURED.with_borrow_mut(|captured| *captured = None);
    }
}

pub(crate) fn token_issued() {
    emit(&TOKENS_ISSUED, &[], 1.0);
}

/// Counts an answer with an error code: a refusal (4xx) or a failed request (5xx).
pub(crate) fn answered(response: &Response<Body>) {
    if let Some(code) = response.extensions().get::<ErrorCode>() {
        let metric = if response.status().is_server_error() {
            &FAILED_REQUESTS
        } else {
            &REFUSALS
        };
        emit(metric, &[code.as_str()], 1.0);
    }
}

/// Counts a failed call to VideoSDK (a room it does not know is no failure).
pub(crate) fn meeting_failed(error: &MeetingError) {
    if let MeetingError::Upstream(failure) = error {
        let failure = match failure {
            UpstreamFailure::AuthRefused => "auth_refused",
            UpstreamFailure::PaymentRequired => "payment_required",
            UpstreamFailure::RateLimited { .. } => "rate_limited",
            UpstreamFailure::Unavailable => "unavailable",
            UpstreamFailure::TimedOut => "timed_out",
            UpstreamFailure::InvalidResponse => "invalid_response",
            UpstreamFailure::Rejected => "rejected",
            UpstreamFailure::ClientUnavailable => "client_unavailable",
        };
        upstream_failed(VIDEOSDK, failure);
    }
}

/// Counts a failed call to `upstream` (one of this module's service names), `failure` saying how
/// (each error names its own, so this module needs no other's types).
pub(crate) fn upstream_failed(upstream: &'static str, failure: &'static str) {
    emit(&UPSTREAM_FAILURES, &[upstream, failure], 1.0);
}

/// Counts a refresh of the secret by its outcome, and hands the result on.
pub(crate) fn secret_refresh<T, E>(result: Result<T, E>) -> Result<T, E> {
    let outcome = if result.is_ok() {
        "refreshed"
    } else {
        "failed"
    };
    emit(&SECRET_REFRESHES, &[outcome], 1.0);
    result
}

/// Publishes a cold start's duration; returns it in milliseconds, for the log line.
pub(crate) fn init_duration(elapsed: Duration) -> f64 {
    let milliseconds = elapsed.as_secs_f64() * 1000.0;
    emit(&INIT_DURATION, &[], milliseconds);
    milliseconds
}

/// Writes one EMF record of `metric`: the function's name, then `dimension_values` for the
/// metric's other dimensions, in order.
fn emit(metric: &Metric, dimension_values: &[&str], value: f64) {
    let to_stdout = TO_STDOUT.load(Ordering::Relaxed);
    if !to_stdout && CAPTURED.with_borrow(Option::is_none) {
        return;
    }
    debug_assert_eq!(metric.dimensions.len(), dimension_values.len() + 1);
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    let mut record = Map::new();
    record.insert(
        "_aws".to_owned(),
        json!({
            "Timestamp": timestamp,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [metric.dimensions],
                "Metrics": [{"Name": metric.name, "Unit": metric.unit}],
            }],
        }),
    );
    let values = std::iter::once(FUNCTION.as_str()).chain(dimension_values.iter().copied());
    for (dimension, value) in metric.dimensions.iter().zip(values) {
        record.insert((*dimension).to_owned(), Value::from(value));
    }
    // Counts are whole numbers; written as such.
    let value = if value.fract() == 0.0 && value.abs() < 1e15 {
        Value::from(value as i64)
    } else {
        Value::from(value)
    };
    record.insert(metric.name.to_owned(), value);
    let mut line = Value::Object(record).to_string();
    line.push('\n');

    let captured = CAPTURED.with_borrow_mut(|captured| match captured {
        Some(lines) => {
            lines.push(line.trim_end().to_owned());
            true
        }
        None => false,
    });
    if !captured && to_stdout {
        // One write of the whole line; a closed stdout loses the metric, never the request.
        let _ = std::io::stdout().lock().write_all(line.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::error::ApiError;

    fn record(line: &str) -> Value {
        serde_json::from_str(line).expect("a metric line is JSON")
    }

    #[test]
    fn a_capture_holds_the_lines_written_while_it_lives() {
        // No Capture on this thread yet, and init() never runs in unit tests: dropped.
        token_issued();
        let capture = Capture::start();
        token_issued();
        assert_eq!(capture.lines().len(), 1);
        drop(capture);
        let capture = Capture::start();
        assert!(capture.lines().is_empty());
    }

    #[test]
    fn a_refusal_carries_its_code_and_a_server_error_is_a_failed_request() {
        let capture = Capture::start();
        answered(&ApiError::new(ErrorCode::ExpiredToken, "x").into_response());
        answered(&ApiError::new(ErrorCode::UpstreamUnavailable, "x").into_response());
        answered(&Response::new(Body::Empty));
        let lines: Vec<Value> = capture.lines().iter().map(|line| record(line)).collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0]["Refusals"], 1);
        assert_eq!(lines[0]["ErrorCode"], "expired_token");
        assert_eq!(
            lines[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["FunctionName", "ErrorCode"]])
        );
        assert_eq!(lines[1]["FailedRequests"], 1);
        assert_eq!(lines[1]["ErrorCode"], "upstream_unavailable");
    }

    #[test]
    fn upstream_failures_name_the_service_and_how() {
        let capture = Capture::start();
        meeting_failed(&MeetingError::Upstream(UpstreamFailure::TimedOut));
        meeting_failed(&MeetingError::NotFound);
        upstream_failed(SECRETS_MANAGER, "access_denied");
        let lines = capture.lines();
        assert_eq!(lines.len(), 2, "{lines:?}");
        let (videosdk, secret) = (record(&lines[0]), record(&lines[1]));
        assert_eq!(
            (&videosdk["Upstream"], &videosdk["Failure"]),
            (&json!("VideoSDK"), &json!("timed_out"))
        );
        assert_eq!(
            (&secret["Upstream"], &secret["Failure"]),
            (&json!("SecretsManager"), &json!("access_denied"))
        );
    }

    #[test]
    fn refreshes_count_by_outcome_and_init_keeps_its_fraction() {
        let capture = Capture::start();
        assert_eq!(secret_refresh::<(), ()>(Ok(())), Ok(()));
        assert_eq!(secret_refresh::<(), ()>(Err(())), Err(()));
        assert_eq!(init_duration(Duration::from_micros(12_345)), 12.345);
        let lines: Vec<Value> = capture.lines().iter().map(|line| record(line)).collect();
        assert_eq!(lines[0]["Outcome"], "refreshed");
        assert_eq!(lines[1]["Outcome"], "failed");
        assert_eq!(lines[2]["InitDuration"], 12.345);
        assert_eq!(
            lines[2]["_aws"]["CloudWatchMetrics"][0]["Metrics"],
            json!([{"Name": "InitDuration", "Unit": "Milliseconds"}])
        );
    }

    #[test]
    fn every_metric_has_a_unique_name_and_the_function_name_first() {
        let mut names: Vec<&str> = ALL.iter().map(|metric| metric.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        for metric in ALL {
            assert_eq!(
                metric.dimensions.first(),
                Some(&FUNCTION_NAME),
                "{metric:?}"
            );
            assert!(!metric.dimensions.contains(&metric.name), "{metric:?}");
        }
    }
}
