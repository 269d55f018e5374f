//! A verified webhook is kept whatever fails around it: within the invocation's deadline when
//! Secrets Manager is slow and EventBridge never answers (it is queued, 202); through a
//! failed entry that EventBridge asks to be sent again; in a queue message that always fits;
//! and back onto the bus by the queue's consumer once EventBridge takes it again.

use std::time::Duration;

use api_tests::webhooks::{
    EventBridgeStandIn, PutEventsAnswer, SLOW_SECRET_ARN, SilentEndpoint, SlowSecretsManager,
    WebhookSigner, webhook_request, webhook_settings,
};
use api_tests::{MotoServer, lambda_context_ending_in};
use lambda_http::RequestExt;
use serde_json::json;
use shared::backends::webhooks::WebhookBackend;
use shared::domain::webhooks::MAX_WEBHOOK_BODY_BYTES;
use shared::routes::videosdk_webhook::handler;
use shared::state::State;

/// A regional incident: Secrets Manager answers a minute late and EventBridge not at all. The
/// webhook's pinned key is checked without waiting for the secret's refresh, which is due on
/// every request here; `PutEvents` gets what the invocation has left less the queue's share;
/// the webhook is queued and answered 202 before the deadline Lambda would kill the function
/// at. Without the budget the calls take their usual timeouts (5 s each) and Lambda kills the
/// function first: here, the deadline passes first and the test fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn a_webhook_is_queued_within_the_deadline_when_every_call_before_hangs() {
    let moto = MotoServer::start();
    let queue = moto.create_queue("videosdk-deadline-fallback").await;
    let credentials = api_tests::dev_credentials();
    let stored = json!({"VIDEOSDK_API_KEY": credentials.api_key(),
                        "VIDEOSDK_SECRET_KEY": String::from_utf8_lossy(credentials.secret_key())});
    let secrets = SlowSecretsManager::start(&stored.to_string()).await;
    let eventbridge = SilentEndpoint::start().await;
    let secrets_uri = secrets.uri();
    let pairs = [
        ("VIDEOSDK_SECRET_ID", SLOW_SECRET_ARN),
        ("VIDEOSDK_API_KEY", ""),
        ("VIDEOSDK_SECRET_KEY", ""),
        ("SECRET_REFRESH_SECONDS", "0"),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", secrets_uri.as_str()),
        ("AWS_ENDPOINT_URL_SQS", moto.endpoint.as_str()),
        ("WEBHOOK_FALLBACK_QUEUE_URL", queue.as_str()),
    ];
    let state: State<WebhookBackend> =
        State::from_settings(webhook_settings(eventbridge.uri(), &pairs))
            .await
            .expect("the cold start reads the secret while it answers");
    assert!(secrets.calls() >= 1, "the secret was read at cold start");
    let at_cold_start = secrets.calls();
    secrets.stall();

    let body = api_tests::webhooks::webhook_body("session-ended");
    let signature = WebhookSigner::development().sign(body.as_bytes());
    // Lambda's default timeout is 3 s; the template's is longer. The budget is what is left.
    let left = Duration::from_secs(4);
    let request = webhook_request(&body, Some(&signature))
        .with_lambda_context(lambda_context_ending_in(left));
    // Lambda kills the function at its deadline: so does this test.
    let started = std::time::Instant::now();
    let Ok(Ok(response)) = tokio::time::timeout(left, handler(&state, request)).await else {
        panic!("the function was still running at its deadline");
    };
    // A figure for docs/webhook-delivery.md, printed, not asserted.
    eprintln!(
        "answered {} after {:?} of a {left:?} budget",
        response.status(),
        started.elapsed()
    );
    assert_eq!(response.status(), 202, "{:?}", response.body());
    assert!(
        eventbridge.connections() >= 1,
        "PutEvents was tried before the queue"
    );
    assert!(
        secrets.calls() > at_cold_start,
        "the due refresh was tried, beside the delivery"
    );
    let messages = moto.receive(&queue).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let (kind, queued) =
        shared::test_support::read_queued_webhook(&messages[0]).expect("a queued webhook");
    assert_eq!(
        (kind.as_str(), queued),
        ("session-ended", body.into_bytes())
    );
}

/// Whether SQS takes `text` as a message body: the characters its documentation allows (#x9,
/// #xA, #xD, #x20 to #xD7FF, #xE000 to #xFFFD, #x10000 to #x10FFFF). moto does not check them.
fn sqs_allows(text: &str) -> bool {
    text.chars().all(|c| {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
            || c >= '\u{10000}'
    })
}

/// The fallback queue's `MaximumMessageSize` in template.yaml.
fn template_maximum_message_size() -> usize {
    let template = api_tests::template::template();
    let queue = &template["Resources"]["WebhookFallbackQueue"]["Properties"];
    queue["MaximumMessageSize"]
        .as_u64()
        .expect("the template sets the fallback queue's MaximumMessageSize") as usize
}

#[test]
fn the_template_sets_the_queues_maximum_message_size_the_function_encodes_for() {
    assert_eq!(
        template_maximum_message_size(),
        shared::aws::fallback_queue::MAX_MESSAGE_BYTES
    );
}

/// The largest body the route takes, made of quotes and backslashes (which JSON escaping would
/// double, past the queue's maximum), and bodies holding U+FFFF and U+FFFE (which JSON carries
/// unescaped and SQS refuses): each queued when EventBridge refuses it (202), in a message
/// within the template's maximum size and SQS's character set, read back byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn any_body_the_route_takes_fits_a_queue_message() {
    let moto = MotoServer::start();
    let maximum = template_maximum_message_size();
    let queue = moto
        .sqs()
        .create_queue()
        .queue_name("videosdk-sizes-fallback")
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::MaximumMessageSize,
            maximum.to_string(),
        )
        .send()
        .await
        .expect("moto creates the queue")
        .queue_url()
        .expect("a URL")
        .to_owned();
    let eventbridge = EventBridgeStandIn::start().await;
    eventbridge.answer_with(PutEventsAnswer::Status(400));
    let pairs = [
        ("AWS_ENDPOINT_URL_SQS", moto.endpoint.as_str()),
        ("WEBHOOK_FALLBACK_QUEUE_URL", queue.as_str()),
    ];
    let state: State<WebhookBackend> =
        State::from_settings(webhook_settings(&eventbridge.uri(), &pairs))
            .await
            .expect("the webhook state");
    let shell = r#"{"webhookType":"session-started","data":""}"#;
    let escapes = "\\\"".repeat((MAX_WEBHOOK_BODY_BYTES - shell.len()) / 2);
    let mut largest = format!(r#"{{"webhookType":"session-started","data":"{escapes}"}}"#);
    // JSON's whitespace, to the last byte.
    largest.push_str(&" ".repeat(MAX_WEBHOOK_BODY_BYTES - largest.len()));
    assert_eq!(largest.len(), MAX_WEBHOOK_BODY_BYTES);
    let noncharacters = "{\"webhookType\":\"session-started\",\"data\":\"\u{FFFF}\u{FFFE}\"}";
    for body in [largest.as_str(), noncharacters] {
        let signature = WebhookSigner::development().sign(body.as_bytes());
        let Ok(response) = handler(&state, webhook_request(body, Some(&signature))).await;
        assert_eq!(response.status(), 202, "{:?}", response.body());
        let messages = moto.receive(&queue).await;
        assert_eq!(messages.len(), 1);
        let message = &messages[0];
        assert!(message.len() <= maximum, "{} bytes", message.len());
        assert!(sqs_allows(message), "a character SQS refuses");
        let (kind, queued) =
            shared::test_support::read_queued_webhook(message).expect("a queued webhook");
        assert_eq!(kind, "session-started");
        assert!(queued == body.as_bytes(), "the body, byte for byte");
    }
}

/// AWS's Lambda Runtime Interface Emulator, as the SAM CLI ships it (`scripts/venv-sam`).
fn lambda_emulator() -> std::path::PathBuf {
    let lib = api_tests::workspace_root().join(".venv-sam/lib");
    std::fs::read_dir(&lib)
        .unwrap_or_else(|error| panic!("{}: {error}: run scripts/venv-sam", lib.display()))
        .filter_map(|entry| entry.ok())
        .map(|entry| {
            entry
                .path()
                .join("site-packages/samcli/local/rapid/aws-lambda-rie-x86_64")
        })
        .find(|path| path.exists())
        .expect("the SAM CLI's aws-lambda-rie-x86_64")
}

/// The same incident through the real `videosdk-webhook` binary under AWS's Lambda emulator,
/// which gives it Lambda's deadline (`AWS_LAMBDA_FUNCTION_TIMEOUT`, 4 s here) and kills it
/// there, answering with an error instead of the function's answer. Twice: the cold start (the
/// secret read while Secrets Manager answers), then with Secrets Manager stalled and its refresh
/// due. Each answer is API Gateway's 202, and each webhook is in the queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn the_binary_queues_within_lambdas_timeout_under_the_emulator() {
    let moto = MotoServer::start();
    let queue = moto.create_queue("videosdk-emulator-fallback").await;
    let credentials = api_tests::dev_credentials();
    let stored = json!({"VIDEOSDK_API_KEY": credentials.api_key(),
                        "VIDEOSDK_SECRET_KEY": String::from_utf8_lossy(credentials.secret_key())});
    let secrets = SlowSecretsManager::start(&stored.to_string()).await;
    let eventbridge = SilentEndpoint::start().await;
    let [runtime_port, invoke_port] = [api_tests::free_port(), api_tests::free_port()];
    let mut command = std::process::Command::new(lambda_emulator());
    command
        .args(["--log-level", "error"])
        .arg("--runtime-api-address")
        .arg(format!("127.0.0.1:{runtime_port}"))
        .arg("--runtime-interface-emulator-address")
        .arg(format!("127.0.0.1:{invoke_port}"))
        .arg(api_tests::function_binary("videosdk-webhook"))
        .env_clear()
        .envs(api_tests::aws_test_environment(&moto.endpoint))
        .envs([
            ("PATH", "/usr/bin:/bin".to_owned()),
            ("AWS_LAMBDA_FUNCTION_TIMEOUT", "4".to_owned()),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", secrets.uri()),
            ("AWS_ENDPOINT_URL_EVENTBRIDGE", eventbridge.uri().to_owned()),
            ("VIDEOSDK_SECRET_ID", SLOW_SECRET_ARN.to_owned()),
            ("SECRET_REFRESH_SECONDS", "0".to_owned()),
            ("EVENT_BUS_NAME", "videosdk-emulator".to_owned()),
            ("WEBHOOK_FALLBACK_QUEUE_URL", queue.clone()),
            (
                "VIDEOSDK_WEBHOOK_PUBLIC_KEY",
                api_tests::webhooks::development_public_key(),
            ),
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let _emulator = api_tests::ChildGuard::spawn(&mut command).expect("the emulator starts");
    api_tests::wait_for_port(invoke_port, Duration::from_secs(10), "the Lambda emulator");
    // A webhook as API Gateway delivers it, signed with the development key.
    let event = std::fs::read_to_string(
        api_tests::workspace_root().join("events/videosdk-webhook/session-started.204.json"),
    )
    .expect("the event");
    let invoke = || async {
        let answer = reqwest::Client::new()
            .post(format!(
                "http://127.0.0.1:{invoke_port}/2015-03-31/functions/function/invocations"
            ))
            .body(event.clone())
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .expect("the emulator answers")
            .text()
            .await
            .expect("a body");
        // The function's answer, or the emulator's text when it ended the function.
        serde_json::from_str(&answer).unwrap_or(serde_json::Value::String(answer))
    };
    let cold = invoke().await;
    assert_eq!(cold["statusCode"], 202, "{cold}");
    let at_cold_start = secrets.calls();
    secrets.stall();
    let warm = invoke().await;
    assert_eq!(
        warm["statusCode"], 202,
        "{warm} (a text is the emulator's: the function ran past its timeout)"
    );
    assert!(secrets.calls() > at_cold_start, "the due refresh was tried");
    let mut messages = moto.receive(&queue).await;
    messages.extend(moto.receive(&queue).await);
    assert_eq!(messages.len(), 2, "{messages:?}");
}
