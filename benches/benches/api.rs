//! The per-request cost of the API, each case against a floor timed in the same run: one
//! HMAC-SHA256 over as many bytes as a real token's signing input (`header.payload`), with the
//! key prepared once, in ring (the crypto the functions use). `scripts/bench` runs this and
//! prints every case as a ratio to that floor.
//!
//! Times are the benchmarking thread's CPU time (`api_benches::ThreadCpuTime`), not wall-clock
//! time, so that other work on a shared machine does not land in one case and not another.
//!
//! Keys, claims, tokens and parsed events are made outside the timed code. The handlers are
//! async: they run on a current-thread tokio runtime through criterion's `to_async`, which enters
//! the runtime once per sample (not per iteration); the `async_overhead` case times the same
//! harness around an empty future, so its cost can be seen to be negligible.

use shared::domain::unix_now;
use std::hint::black_box;
use std::sync::{Arc, Once};

use api_benches::{
    ThreadCpuTime, default_claims, event_text, long_lived_claims, parse, signing_input, timed_event,
};
use api_tests::ApiState as State;
use api_tests::{Functions, webhooks};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use lambda_http::{Body, Request, Response};
use ring::hmac;
use shared::domain::keyring::Keyring;
use shared::domain::webhooks::WebhookPublicKey;
use shared::routes::{self, GET_TOKEN};
use tokio::runtime::Runtime;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
}

/// The development keys, as a function builds them at cold start.
fn dev_keys() -> Arc<Keyring> {
    let runtime = runtime();
    let state = runtime.block_on(api_tests::dev_state(&[]));
    runtime.block_on(state.keys())
}

/// The floor: the one cryptographic operation a token costs, and nothing else.
fn floor(c: &mut Criterion<ThreadCpuTime>, name: &str) {
    let keys = dev_keys();
    let token = keys.sign(&long_lived_claims(&keys)).expect("signs");
    let input = signing_input(&token).as_bytes().to_vec();
    let key = hmac::Key::new(hmac::HMAC_SHA256, api_tests::dev_credentials().secret_key());
    c.bench_function(name, |b| b.iter(|| hmac::sign(&key, black_box(&input))));
}

fn primitives(c: &mut Criterion<ThreadCpuTime>) {
    floor(c, "floor_hmac_sha256");

    let keys = dev_keys();
    let claims = default_claims(&keys);
    let token = keys.sign(&long_lived_claims(&keys)).expect("signs");
    assert_eq!(token.len(), keys.sign(&claims).expect("signs").len());
    c.bench_function("sign_token", |b| b.iter(|| keys.sign(black_box(&claims))));
    assert!(keys.verify_at(&token, unix_now()).is_ok());
    c.bench_function("verify_token", |b| {
        b.iter(|| keys.verify_at(black_box(&token), unix_now()))
    });

    let webhook_key = WebhookPublicKey::from_pem(&webhooks::development_public_key())
        .expect("the development webhook key");
    let body = webhooks::webhook_body("session-started");
    let signature = webhooks::WebhookSigner::development().sign(body.as_bytes());
    assert!(
        webhook_key
            .verify(body.as_bytes(), signature.as_bytes())
            .is_ok()
    );
    c.bench_function("verify_webhook_signature", |b| {
        b.iter(|| webhook_key.verify(black_box(body.as_bytes()), black_box(signature.as_bytes())))
    });

    c.bench_function("issue_meeting_id", |b| b.iter(|| keys.issue_meeting_id()));
    let id = keys.issue_meeting_id().expect("an id").to_string();
    assert!(keys.check_meeting_id(&id).is_ok());
    c.bench_function("check_meeting_id", |b| {
        b.iter(|| keys.check_meeting_id(black_box(&id)))
    });
}

/// Times `handler` on fresh copies of one parsed event (a `Request` is not `Clone`; the copies
/// are parsed outside the timed code, and the responses dropped outside it too).
fn bench_handler<F, Fut>(
    c: &mut Criterion<ThreadCpuTime>,
    rt: &Runtime,
    name: &str,
    event: &str,
    handler: F,
) where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Response<Body>>,
{
    let text = event_text(event);
    let response = rt.block_on(handler(parse(&text)));
    let status = event.rsplit('.').nth(1).unwrap_or_default();
    assert_eq!(
        response.status().as_str(),
        status,
        "{event} is answered with {status}"
    );
    c.bench_function(name, |b| {
        b.to_async(rt)
            .iter_batched(|| parse(&text), &handler, BatchSize::SmallInput)
    });
}

fn handlers(c: &mut Criterion<ThreadCpuTime>) {
    let rt = runtime();
    let state: &State = Box::leak(Box::new(rt.block_on(api_tests::dev_state(&[]))));

    c.bench_function("async_overhead", |b| {
        b.to_async(&rt)
            .iter_batched(|| (), |()| async {}, BatchSize::SmallInput)
    });
    for route in &routes::API {
        let name = format!("handler_{}", route.name.replace('-', "_"));
        bench_handler(c, &rt, &name, &timed_event(route), |r| {
            shared::test_support::answer(route, state, r)
        });
    }
    // The webhook route runs on its own state; its bus is a local stand-in for EventBridge, so
    // this times the handler, the RSA check and the SDK's PutEvents call up to the loopback
    // socket (the stand-in answers on another thread, not timed). The SDK needs tokio's I/O
    // and timers, which the other handlers' runtime leaves out.
    let io_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime with I/O and timers");
    let functions: &Functions = Box::leak(Box::new(io_rt.block_on(Functions::development(&[]))));
    bench_handler(
        c,
        &io_rt,
        "handler_videosdk_webhook",
        &timed_event(&routes::VIDEOSDK_WEBHOOK),
        |r| functions.invoke(routes::VIDEOSDK_WEBHOOK.name, r),
    );
    // The moderation function on its own state, timed on a refusal after its token is verified
    // (its successes need VideoSDK's sessions or the bans table).
    let moderation = &routes::moderation::REMOVE_PARTICIPANT;
    bench_handler(
        c,
        &io_rt,
        "handler_moderation",
        &timed_event(moderation),
        |r| functions.invoke(moderation.name, r),
    );

    // Informative, no goal: what else a request costs in a running function. The handlers
    // above drop their request, so its drop is part of their time; here it is on its own.
    let text = event_text(&timed_event(&GET_TOKEN));
    c.bench_function("parse_event_get_token", |b| {
        b.iter(|| parse(black_box(&text)))
    });
    c.bench_function("drop_event_get_token", |b| {
        b.iter_batched(|| parse(&text), drop, BatchSize::SmallInput)
    });
    // After every other handler case, because it installs a global subscriber: the handler with
    // its log line formatted as in Lambda (shared::aws::logging), into a sink.
    static LOGGING: Once = Once::new();
    c.bench_function("handler_get_token_logged", |b| {
        LOGGING.call_once(|| shared::aws::logging::init_with_writer(std::io::sink));
        b.to_async(&rt).iter_batched(
            || parse(&text),
            |r| shared::test_support::answer(&GET_TOKEN, state, r),
            BatchSize::SmallInput,
        )
    });
}

/// The floor again at the end: how far it moved during the run says how noisy the machine was.
fn floor_again(c: &mut Criterion<ThreadCpuTime>) {
    floor(c, "floor_hmac_sha256_end");
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = primitives, handlers, floor_again
}
criterion_main!(benches);
