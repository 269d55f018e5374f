//! Every file in `events/` goes through the functions' event conversion (`shared::aws::lambda`,
//! checked against `lambda_http::request::from_str`) and its function's handler, and gets the
//! status its name promises: no event can rot.

use api_tests::{Functions, check_answer, events, json};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use serde_json::{Value, json};

#[tokio::test]
async fn every_event_gets_its_expected_status() {
    let functions = Functions::development(&api_tests::as_pairs(&events::settings())).await;
    let fresh = events::fresh();
    let files = fresh.files();
    assert!(files.len() >= 20, "only {} events", files.len());
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(&file.path).expect("event is readable");
        let event: ApiGatewayV2httpRequest = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{} does not parse: {error}", file.path.display()));
        // The deployed functions' path (shared::aws::lambda), which hands every event it can
        // convert to lambda_http's own conversion: the request must be the one from_str makes.
        let response = match shared::aws::lambda::into_request(event) {
            Ok(request) => {
                let parsed = lambda_http::request::from_str(&text).expect("parses");
                assert_eq!(request.method(), parsed.method(), "{}", file.case);
                assert_eq!(request.uri(), parsed.uri(), "{}", file.case);
                assert_eq!(request.headers(), parsed.headers(), "{}", file.case);
                functions.invoke(&file.function, request).await
            }
            Err(error) => error.into_response(),
        };
        let status = response.status().as_u16();
        if status != file.expected_status {
            failures.push(format!(
                "{}: expected {}, got {status} {:?}",
                file.path.display(),
                file.expected_status,
                response.body()
            ));
            continue;
        }
        if let Err(broken) = check_answer(&response) {
            panic!("{}: {broken}", file.case);
        }
        if status == 204 {
            continue;
        }
        let body = json(&response);
        // What API Gateway receives: JSON as text, readable in `sam local invoke` and
        // `cargo lambda invoke` output, not base64.
        let answer = shared::aws::lambda::into_response(response);
        assert!(!answer.is_base64_encoded, "{}: base64 body", file.case);
        assert_eq!(answer.headers["cache-control"], "no-store", "{}", file.case);
        let text = match &answer.body {
            Some(lambda_http::Body::Text(text)) => text.as_str(),
            other => panic!("{}: not a text body: {other:?}", file.case),
        };
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .as_ref(),
            Some(&body),
            "{}",
            file.case
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Each 204 of the webhook route put one event on the bus, and nothing else did.
    let published = files
        .iter()
        .filter(|file| file.function == "videosdk-webhook" && file.expected_status == 204)
        .count();
    assert_eq!(functions.eventbridge.entries().len(), published);
}

/// `events/` holds exactly the events the generator writes, case for case and field for field,
/// apart from what changes with each run: the tokens' `iat` and `exp` (their lifetime, `exp`
/// minus `iat`, must match) and so their signatures (whether each is signed with the
/// development key must match), and the meeting ids issued at random (each id must stand in the
/// same places). `cargo run -p api-tests --bin make-events` writes them anew.
#[test]
fn the_committed_events_are_the_generated_cases() {
    let cases = |files: Vec<events::EventFile>| -> Vec<(String, String, u16)> {
        files
            .into_iter()
            .map(|file| (file.function, file.case, file.expected_status))
            .collect()
    };
    let fresh = events::fresh();
    assert_eq!(
        cases(events::all()),
        cases(fresh.files()),
        "run cargo run -p api-tests --bin make-events"
    );
    let mut drifted = Vec::new();
    for (committed, generated) in events::all().iter().zip(fresh.files()) {
        let read = |path: &std::path::Path| std::fs::read_to_string(path).expect("readable");
        let (committed_value, generated_value) = (
            comparable(&read(&committed.path)),
            comparable(&read(&generated.path)),
        );
        if committed_value != generated_value {
            drifted.push(format!(
                "{}:\n  committed: {committed_value}\n  generated: {generated_value}",
                committed.path.display()
            ));
        }
    }
    assert!(
        drifted.is_empty(),
        "events/ differs from what make-events writes (run cargo run -p api-tests --bin \
         make-events):\n{}",
        drifted.join("\n")
    );
}

/// An event with what changes from run to run taken out (see above).
fn comparable(text: &str) -> Value {
    let value: Value = serde_json::from_str(text).expect("an event is JSON");
    comparable_value(value, &mut Vec::new())
}

fn comparable_value(value: Value, ids: &mut Vec<String>) -> Value {
    match value {
        Value::String(text) => match serde_json::from_str::<Value>(&text) {
            // A body that is JSON: compared as JSON.
            Ok(inner @ (Value::Object(_) | Value::Array(_))) => {
                json!({ "json": comparable_value(inner, ids) })
            }
            _ => comparable_text(&text, ids),
        },
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| comparable_value(item, ids))
                .collect(),
        ),
        Value::Object(members) => Value::Object(
            members
                .into_iter()
                .map(|(name, member)| (name, comparable_value(member, ids)))
                .collect(),
        ),
        other => other,
    }
}

fn comparable_text(text: &str, ids: &mut Vec<String>) -> Value {
    if let Some(token) = text.strip_prefix("Bearer ") {
        return json!({ "bearer": comparable_text(token, ids) });
    }
    if let Some(token) = comparable_token(text, ids) {
        return token;
    }
    Value::String(with_ids_numbered(text, ids))
}

/// A JWT as its header, its claims without `iat` and `exp` but with their difference, and
/// whether the development key signed it.
fn comparable_token(text: &str, ids: &mut Vec<String>) -> Option<Value> {
    let [header, claims, signature] = text.split('.').collect::<Vec<_>>()[..] else {
        return None;
    };
    let decode = |part: &str| -> Option<Value> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
    };
    let (header_value, Value::Object(mut claims_value)) = (decode(header)?, decode(claims)?) else {
        return None;
    };
    let lifetime = match (claims_value.remove("iat"), claims_value.remove("exp")) {
        (Some(iat), Some(exp)) => json!(exp.as_i64()? - iat.as_i64()?),
        (iat, exp) => json!({ "iat": iat.is_some(), "exp": exp.is_some() }),
    };
    let dev = api_tests::dev_credentials();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, dev.secret_key());
    let signed = URL_SAFE_NO_PAD.decode(signature).is_ok_and(|tag| {
        ring::hmac::verify(&key, format!("{header}.{claims}").as_bytes(), &tag).is_ok()
    });
    Some(json!({
        "jwt": {
            "header": header_value,
            "claims": comparable_value(Value::Object(claims_value), ids),
            "lifetime": lifetime,
            "signature": if signature.is_empty() { "none" } else if signed { "development key" } else { "another key" },
        }
    }))
}

/// `text` with each meeting id in the format the local backend issues (`abcd-efgh-ijkl`) written
/// as its order of first appearance in the event.
fn with_ids_numbered(text: &str, ids: &mut Vec<String>) -> String {
    const LENGTH: usize = 14;
    let bytes = text.as_bytes();
    let is_id_byte = |byte: u8| byte.is_ascii_lowercase() || byte.is_ascii_digit();
    let is_id = |at: usize| {
        at + LENGTH <= bytes.len()
            && (0..LENGTH).all(|i| {
                if i == 4 || i == 9 {
                    bytes[at + i] == b'-'
                } else {
                    is_id_byte(bytes[at + i])
                }
            })
            && (at == 0 || !(is_id_byte(bytes[at - 1]) || bytes[at - 1] == b'-'))
            && bytes
                .get(at + LENGTH)
                .is_none_or(|next| !(is_id_byte(*next) || *next == b'-'))
    };
    let mut out = String::new();
    let mut at = 0;
    while at < text.len() {
        if is_id(at) {
            let id = &text[at..at + LENGTH];
            let number = match ids.iter().position(|known| known == id) {
                Some(index) => index,
                None => {
                    ids.push(id.to_owned());
                    ids.len() - 1
                }
            };
            out.push_str(&format!("<meeting id {number}>"));
            at += LENGTH;
        } else {
            let next = text[at..].chars().next().expect("within the text");
            out.push(next);
            at += next.len_utf8();
        }
    }
    out
}

#[test]
fn every_function_has_a_success_and_failures() {
    let files = events::all();
    for function in api_tests::functions() {
        let statuses: Vec<u16> = files
            .iter()
            .filter(|file| file.function == function)
            .map(|file| file.expected_status)
            .collect();
        assert!(
            statuses.iter().any(|s| (200..300).contains(s)),
            "{function} has no success event"
        );
        assert!(
            statuses.iter().any(|s| *s >= 400),
            "{function} has no failure event"
        );
    }
    let failures = files
        .iter()
        .filter(|file| file.expected_status >= 400)
        .count();
    assert!(failures >= 8, "{failures} failure events");
}

/// `events/videosdk-webhook-drain/<case>.<n>-failed.json`: Lambda's SQS event for the fallback
/// queue's consumer (the shape AWS documents, with the messages' real MD5s), which must name
/// exactly `n` of its messages failed, those that are no queued webhook, and put every other
/// one on the bus, body and delivery id intact. The Lambda RIE run (scripts/check-lambda-rie.py)
/// sends the same files to the built consumer.
#[tokio::test]
async fn every_drain_event_gets_its_expected_failures() {
    use api_tests::webhooks::{EventBridgeStandIn, webhook_environment};
    use aws_lambda_events::event::sqs::SqsEvent;
    let folder = events::committed_root().join(shared::function::WEBHOOK_DRAIN);
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .expect("the consumer's events")
        .map(|entry| entry.expect("an entry").path())
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    let eventbridge = EventBridgeStandIn::start().await;
    let environment = webhook_environment(&eventbridge.uri());
    let drain = shared::backends::webhooks::WebhookDrain::from_lookup(|name| {
        environment
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
    })
    .expect("the consumer's settings");
    let (mut successes, mut failures) = (0, 0);
    for path in &files {
        let name = path.file_name().and_then(|name| name.to_str()).unwrap();
        let failed: usize = name
            .strip_suffix("-failed.json")
            .and_then(|rest| rest.rsplit_once('.'))
            .and_then(|(_, count)| count.parse().ok())
            .unwrap_or_else(|| panic!("{name} is not named <case>.<n>-failed.json"));
        let event: SqsEvent = serde_json::from_str(&std::fs::read_to_string(path).unwrap())
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        let before = eventbridge.entries().len();
        let answer = drain
            .drain(&event.records, &shared::aws::budget::Budget::unbounded())
            .await;
        let named: Vec<&str> = answer
            .batch_item_failures
            .iter()
            .map(|failure| failure.item_identifier.as_str())
            .collect();
        let mut unreadable = Vec::new();
        let mut published = Vec::new();
        for record in &event.records {
            match shared::test_support::read_queued_webhook(record.body.as_deref().unwrap()) {
                Ok((_, body)) => published.push(String::from_utf8(body).unwrap()),
                Err(_) => unreadable.push(record.message_id.as_deref().unwrap()),
            }
        }
        assert_eq!(named, unreadable, "{name}");
        assert_eq!(named.len(), failed, "{name}");
        let details: Vec<String> = eventbridge.entries()[before..]
            .iter()
            .map(|entry| entry["Detail"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(details, published, "{name}");
        successes += usize::from(failed < event.records.len());
        failures += usize::from(failed > 0);
    }
    assert!(successes > 0 && failures > 0, "both kinds of case");
}
