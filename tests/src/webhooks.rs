//! Fixtures for VideoSDK's webhooks: signing bodies as VideoSDK does (RSA-SHA256, PKCS#1 v1.5,
//! base64) with ring and a PKCS#8 key; the development key pair of `dev/`; a local stand-in for
//! EventBridge's `PutEvents`; the webhook function's state; and [`Functions`], the states of
//! both kinds of function, which answer every route of the registry.

use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use lambda_http::{Body, Request, Response};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde_json::{Value, json};
use shared::backends::moderation::ModerationBackend;
use shared::backends::webhooks::WebhookBackend;
use shared::routes::{self, VIDEOSDK_WEBHOOK};
use shared::state::State;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

use crate::{ApiState, dev_credentials, settings, workspace_root};

/// The webhook function's state.
pub type WebhookState = State<WebhookBackend>;

/// The bus name the fixtures give `EVENT_BUS_NAME`.
pub const TEST_BUS: &str = "videosdk-test-bus";

/// Signs webhook bodies as VideoSDK does: the base64 of the RSA-SHA256 (PKCS#1 v1.5) signature
/// of the bytes. PKCS#1 v1.5 signatures are deterministic: one key and body, one signature.
pub struct WebhookSigner {
    key_pair: RsaKeyPair,
}

impl WebhookSigner {
    /// A signer for a PKCS#8 private key in PEM (`-----BEGIN PRIVATE KEY-----`); text before the
    /// block is ignored.
    pub fn from_pkcs8_pem(text: &str) -> Self {
        let block = pem::parse(text).expect("a PEM private key");
        assert_eq!(block.tag(), "PRIVATE KEY", "a PKCS#8 private key");
        Self::from_pkcs8_der(block.contents())
    }

    pub fn from_pkcs8_der(der: &[u8]) -> Self {
        Self {
            key_pair: RsaKeyPair::from_pkcs8(der).expect("ring takes the RSA key"),
        }
    }

    /// The made-up development key of `dev/webhook-signing-key.pem`, which signs the events of
    /// `events/videosdk-webhook/`.
    pub fn development() -> Self {
        Self::from_pkcs8_pem(&read("dev/webhook-signing-key.pem"))
    }

    /// The signature bytes.
    pub fn sign_bytes(&self, body: &[u8]) -> Vec<u8> {
        let mut signature = vec![0; self.key_pair.public().modulus_len()];
        self.key_pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                body,
                &mut signature,
            )
            .expect("ring signs");
        signature
    }

    /// The `videosdk-signature` header value for `body`.
    pub fn sign(&self, body: &[u8]) -> String {
        STANDARD.encode(self.sign_bytes(body))
    }
}

fn read(relative: &str) -> String {
    let path = workspace_root().join(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// An RSA key pair made for a test, with the public key in both PEM forms the functions take.
pub struct TestKey {
    pkcs8_der: Vec<u8>,
    signer: std::sync::OnceLock<WebhookSigner>,
    /// `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo), as VideoSDK serves its key.
    pub spki_pem: String,
    /// `-----BEGIN RSA PUBLIC KEY-----` (PKCS#1).
    pub pkcs1_pem: String,
    /// `-----BEGIN PRIVATE KEY-----` (PKCS#8), for other signers (VideoSDK's Node SDK).
    pub pkcs8_pem: String,
}

/// A key of `bits` made from `seed` (the rsa crate's generator on a deterministic random
/// stream): the same seed gives the same key, so a failure reproduces.
pub fn generate_key(seed: &str, bits: usize) -> TestKey {
    use rsa::pkcs1::EncodeRsaPublicKey as _;
    use rsa::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
    let mut random = SeededRandom::new(seed);
    let private = rsa::PrivateKey::new(&mut random, bits).expect("an RSA key");
    let public = private.to_public_key();
    let pkcs8 = private.to_pkcs8_der().expect("PKCS#8");
    let spki = public.to_public_key_der().expect("SPKI");
    let pkcs1 = public.to_pkcs1_der().expect("PKCS#1");
    let pem = |label: &str, der: &[u8]| pem::encode(&pem::Pem::new(label, der.to_vec()));
    TestKey {
        pkcs8_der: pkcs8.as_bytes().to_vec(),
        signer: std::sync::OnceLock::new(),
        spki_pem: pem("PUBLIC KEY", spki.as_bytes()),
        pkcs1_pem: pem("RSA PUBLIC KEY", pkcs1.as_bytes()),
        pkcs8_pem: pem("PRIVATE KEY", pkcs8.as_bytes()),
    }
}

impl TestKey {
    /// Its signer (ring signs with keys of 2048 bits or more).
    pub fn signer(&self) -> &WebhookSigner {
        self.signer
            .get_or_init(|| WebhookSigner::from_pkcs8_der(&self.pkcs8_der))
    }
}

/// SHA-256 of (seed, counter), block after block: a reproducible stream for test keys only.
struct SeededRandom {
    seed: ring::digest::Digest,
    counter: u64,
    block: Vec<u8>,
}

impl SeededRandom {
    fn new(seed: &str) -> Self {
        Self {
            seed: ring::digest::digest(&ring::digest::SHA256, seed.as_bytes()),
            counter: 0,
            block: Vec::new(),
        }
    }
}

impl rsa::rand_core::TryRng for SeededRandom {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut bytes = [0; 4];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u32::from_le_bytes(bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut bytes = [0; 8];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u64::from_le_bytes(bytes))
    }

    fn try_fill_bytes(&mut self, destination: &mut [u8]) -> Result<(), Self::Error> {
        for byte in destination {
            if self.block.is_empty() {
                let mut input = self.seed.as_ref().to_vec();
                input.extend_from_slice(&self.counter.to_le_bytes());
                self.counter += 1;
                self.block = ring::digest::digest(&ring::digest::SHA256, &input)
                    .as_ref()
                    .to_vec();
            }
            *byte = self.block.pop().unwrap_or_default();
        }
        Ok(())
    }
}

impl rsa::rand_core::TryCryptoRng for SeededRandom {}

/// `dev/webhook-public-key.pem`, the public half of [`WebhookSigner::development`].
pub fn development_public_key() -> String {
    read("dev/webhook-public-key.pem")
}

/// A webhook body as VideoSDK sends one.
pub fn webhook_body(kind: &str) -> String {
    json!({
        "webhookType": kind,
        "data": {"meetingId": "abcd-efgh-ijkl", "sessionId": "6565b0e2c9f1a2f4d1e9b0c3"}
    })
    .to_string()
}

/// A `POST /videosdk-webhook` with `body` and, if given, the signature header.
pub fn webhook_request(body: &str, signature: Option<&str>) -> Request {
    let mut builder = lambda_http::http::Request::builder()
        .method("POST")
        .uri(format!(
            "https://abc123.execute-api.us-east-1.amazonaws.com{}",
            VIDEOSDK_WEBHOOK.path
        ))
        .header("content-type", "application/json");
    if let Some(signature) = signature {
        builder = builder.header(routes::videosdk_webhook::SIGNATURE_HEADER, signature);
    }
    builder
        .body(Body::from(body.to_owned()))
        .expect("a request")
}

/// How the EventBridge stand-in answers `PutEvents`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutEventsAnswer {
    /// Every entry taken, with an id.
    Accept,
    /// HTTP 200 with the entry failed (`FailedEntryCount: 1`), as EventBridge answers a
    /// throttled or refused entry.
    FailEntry { code: String, message: String },
    /// [`PutEventsAnswer::FailEntry`] for the next call only, then [`PutEventsAnswer::Accept`].
    FailEntryOnce { code: String, message: String },
    /// This HTTP status, with EventBridge's error shape.
    Status(u16),
}

struct Recorded {
    answer: PutEventsAnswer,
    /// The `Entries` of each PutEvents call, in order.
    calls: Vec<Vec<Value>>,
}

/// EventBridge's `PutEvents` on 127.0.0.1 (wiremock): records every call's entries and answers
/// as told. For the tests that need no installed tool; the ones with moto use the real thing.
pub struct EventBridgeStandIn {
    server: MockServer,
    recorded: Arc<Mutex<Recorded>>,
}

impl EventBridgeStandIn {
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let recorded = Arc::new(Mutex::new(Recorded {
            answer: PutEventsAnswer::Accept,
            calls: Vec::new(),
        }));
        Mock::given(method("POST"))
            .and(path("/"))
            .and(header("x-amz-target", "AWSEvents.PutEvents"))
            .respond_with(PutEvents(Arc::clone(&recorded)))
            .mount(&server)
            .await;
        Self { server, recorded }
    }

    /// The endpoint to give the functions as `AWS_ENDPOINT_URL_EVENTBRIDGE`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    pub fn answer_with(&self, answer: PutEventsAnswer) {
        lock(&self.recorded).answer = answer;
    }

    /// The entries of every PutEvents call so far.
    pub fn calls(&self) -> Vec<Vec<Value>> {
        lock(&self.recorded).calls.clone()
    }

    /// Every entry received so far, of all calls.
    pub fn entries(&self) -> Vec<Value> {
        self.calls().concat()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

struct PutEvents(Arc<Mutex<Recorded>>);

impl Respond for PutEvents {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let entries = body["Entries"].as_array().cloned().unwrap_or_default();
        let mut recorded = lock(&self.0);
        recorded.calls.push(entries.clone());
        if let PutEventsAnswer::FailEntryOnce { code, message } = &recorded.answer {
            let failure = PutEventsAnswer::FailEntry {
                code: code.clone(),
                message: message.clone(),
            };
            recorded.answer = PutEventsAnswer::Accept;
            return answer_to(&failure, &entries, recorded.calls.len());
        }
        answer_to(&recorded.answer, &entries, recorded.calls.len())
    }
}

/// The answer `answer` gives to the `entries` of call number `call`.
fn answer_to(answer: &PutEventsAnswer, entries: &[Value], call: usize) -> ResponseTemplate {
    {
        let json_answer = |status: u16, value: Value| {
            ResponseTemplate::new(status)
                .insert_header("content-type", "application/x-amz-json-1.1")
                .set_body_string(value.to_string())
        };
        match answer {
            PutEventsAnswer::FailEntryOnce { .. } => unreachable!("answered by the caller"),
            PutEventsAnswer::Accept => {
                let ids: Vec<Value> = (0..entries.len())
                    .map(|n| json!({"EventId": format!("stand-in-{call}-{n}")}))
                    .collect();
                json_answer(200, json!({"FailedEntryCount": 0, "Entries": ids}))
            }
            PutEventsAnswer::FailEntry { code, message } => json_answer(
                200,
                json!({"FailedEntryCount": entries.len(),
                       "Entries": entries.iter().map(|_| json!({"ErrorCode": code, "ErrorMessage": message})).collect::<Vec<_>>()}),
            ),
            PutEventsAnswer::Status(status) => json_answer(
                *status,
                json!({"__type": "InternalException", "message": "the stand-in was told to fail"}),
            ),
        }
    }
}

/// What the webhook function needs besides the key: its bus, and an AWS environment that
/// reaches `eventbridge` (the endpoint of a stand-in or of moto).
pub fn webhook_environment(eventbridge: &str) -> Vec<(&'static str, String)> {
    let mut environment = crate::aws_test_environment(eventbridge);
    environment.push(("EVENT_BUS_NAME", TEST_BUS.to_owned()));
    environment
}

/// The webhook function's state with the development VideoSDK key, the development webhook key
/// pinned (`VIDEOSDK_WEBHOOK_PUBLIC_KEY`) and its bus at `eventbridge`; `pairs` come first and
/// win.
pub async fn webhook_state(eventbridge: &str, pairs: &[(&str, &str)]) -> WebhookState {
    State::from_settings(webhook_settings(eventbridge, pairs))
        .await
        .expect("the webhook state builds")
}

/// The settings [`webhook_state`] builds its state from.
pub fn webhook_settings(eventbridge: &str, pairs: &[(&str, &str)]) -> shared::settings::Settings {
    let credentials = dev_credentials();
    let secret = String::from_utf8_lossy(credentials.secret_key()).into_owned();
    let public_key = development_public_key();
    let environment = webhook_environment(eventbridge);
    let mut all: Vec<(&str, &str)> = pairs.to_vec();
    all.extend([
        ("VIDEOSDK_API_KEY", credentials.api_key()),
        ("VIDEOSDK_SECRET_KEY", secret.as_str()),
        ("VIDEOSDK_WEBHOOK_PUBLIC_KEY", public_key.as_str()),
    ]);
    all.extend(
        environment
            .iter()
            .map(|(name, value)| (*name, value.as_str())),
    );
    settings(&all)
}

/// Every kind of function state, as deployed with the development keys: the meeting functions'
/// (offline, `MEETING_BACKEND=local`) and the webhook function's, whose bus is a stand-in. It
/// answers every route of the registry, each on its function's state.
pub struct Functions {
    pub api: ApiState,
    pub webhooks: WebhookState,
    pub moderation: State<ModerationBackend>,
    pub eventbridge: EventBridgeStandIn,
}

impl Functions {
    /// `pairs` go to both states.
    pub async fn development(pairs: &[(&str, &str)]) -> Self {
        let eventbridge = EventBridgeStandIn::start().await;
        Self {
            api: crate::dev_state(pairs).await,
            webhooks: webhook_state(&eventbridge.uri(), pairs).await,
            moderation: crate::dev_state_of(pairs).await,
            eventbridge,
        }
    }

    /// Sends `request` to the handler of `function`, on its function's state.
    pub async fn invoke(&self, function: &str, request: Request) -> Response<Body> {
        if function == VIDEOSDK_WEBHOOK.name {
            let Ok(response) = routes::videosdk_webhook::handler(&self.webhooks, request).await;
            response
        } else if function == routes::moderation::REMOVE_PARTICIPANT.name {
            let Ok(response) = routes::moderation::handler(&self.moderation, request).await;
            response
        } else {
            crate::invoke(function, &self.api, request).await
        }
    }
}

/// An endpoint that takes every connection and never answers: a service in a regional
/// incident, as a client with no timeout of its own would wait on it forever. Counts the
/// connections it took.
pub struct SilentEndpoint {
    uri: String,
    connections: Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl SilentEndpoint {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a local port");
        let uri = format!("http://{}", listener.local_addr().expect("an address"));
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&connections);
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                held.push(stream);
            }
        });
        Self {
            uri,
            connections,
            task,
        }
    }

    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// Connections taken so far.
    pub fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for SilentEndpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Secrets Manager's `GetSecretValue` on 127.0.0.1 (wiremock), serving `secret_string` as
/// `AWSCURRENT` (and no `AWSPREVIOUS`), promptly until [`SlowSecretsManager::stall`], then
/// after a minute: a refresh that would hold up whatever waits for it.
pub struct SlowSecretsManager {
    server: MockServer,
    stalled: Arc<std::sync::atomic::AtomicBool>,
    calls: Arc<std::sync::atomic::AtomicUsize>,
}

/// The secret's ARN the stand-in answers with.
pub const SLOW_SECRET_ARN: &str =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:videosdk/slow-AbCdEf";

impl SlowSecretsManager {
    pub async fn start(secret_string: &str) -> Self {
        let server = MockServer::start().await;
        let stalled = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        Mock::given(method("POST"))
            .and(header("x-amz-target", "secretsmanager.GetSecretValue"))
            .respond_with(GetSecretValue {
                secret_string: secret_string.to_owned(),
                stalled: Arc::clone(&stalled),
                calls: Arc::clone(&calls),
            })
            .mount(&server)
            .await;
        Self {
            server,
            stalled,
            calls,
        }
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// From now on, every answer comes a minute late.
    pub fn stall(&self) {
        self.stalled
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// `GetSecretValue` calls so far.
    pub fn calls(&self) -> usize {
        self.calls.load(std::sync::atomic::Ordering::SeqCst)
    }
}

struct GetSecretValue {
    secret_string: String,
    stalled: Arc<std::sync::atomic::AtomicBool>,
    calls: Arc<std::sync::atomic::AtomicUsize>,
}

impl Respond for GetSecretValue {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let answer = if body["VersionStage"] == "AWSPREVIOUS" {
            ResponseTemplate::new(400).set_body_string(
                json!({"__type": "ResourceNotFoundException",
                       "message": "Secrets Manager can't find the specified secret version."})
                .to_string(),
            )
        } else {
            ResponseTemplate::new(200).set_body_string(
                json!({"ARN": SLOW_SECRET_ARN, "Name": "videosdk/slow", "VersionId": "v1",
                       "SecretString": self.secret_string, "VersionStages": ["AWSCURRENT"],
                       "CreatedDate": 1_767_225_600})
                .to_string(),
            )
        }
        .insert_header("content-type", "application/x-amz-json-1.1");
        if self.stalled.load(std::sync::atomic::Ordering::SeqCst) {
            answer.set_delay(std::time::Duration::from_secs(60))
        } else {
            answer
        }
    }
}

/// Messages of a queue in moto, received as a Lambda event source mapping receives them (a long
/// poll, every system attribute), and the event Lambda gives the consumer for them: AWS's
/// documented SQS event (`Records` of `messageId`, `receiptHandle`, `body`, `attributes`,
/// `messageAttributes`, `md5OfBody`, `eventSource`, `eventSourceARN`, `awsRegion`).
pub struct SqsBatch {
    pub event: Value,
    /// (message id, receipt handle) of each record.
    pub handles: Vec<(String, String)>,
}

impl SqsBatch {
    /// Up to 10 messages of `queue_url` (none when it stays empty through a 1 s long poll), each
    /// hidden for `visibility_seconds` as the queue's visibility timeout would hide it.
    pub async fn receive(
        moto: &crate::MotoServer,
        queue_url: &str,
        visibility_seconds: i32,
    ) -> Self {
        use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
        let sqs = moto.sqs();
        let arn = sqs
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("the queue's attributes")
            .attributes()
            .and_then(|attributes| attributes.get(&QueueAttributeName::QueueArn).cloned())
            .expect("the queue's ARN");
        let output = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(visibility_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .expect("moto answers ReceiveMessage");
        let mut records = Vec::new();
        let mut handles = Vec::new();
        for message in output.messages() {
            let attributes: serde_json::Map<String, Value> = message
                .attributes()
                .into_iter()
                .flatten()
                .map(|(name, value)| (name.as_str().to_owned(), Value::from(value.as_str())))
                .collect();
            let id = message.message_id().expect("a message id").to_owned();
            let handle = message
                .receipt_handle()
                .expect("a receipt handle")
                .to_owned();
            records.push(json!({
                "messageId": id,
                "receiptHandle": handle,
                "body": message.body().unwrap_or_default(),
                "attributes": attributes,
                "messageAttributes": {},
                "md5OfBody": message.md5_of_body().unwrap_or_default(),
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": "us-east-1",
            }));
            handles.push((id, handle));
        }
        Self {
            event: json!({"Records": records}),
            handles,
        }
    }

    /// What Lambda does with the consumer's answer (`batchItemFailures`): deletes every message
    /// not named in it, and leaves those named to come back after their visibility timeout.
    /// Returns the ids of the messages named.
    pub async fn settle(
        &self,
        moto: &crate::MotoServer,
        queue_url: &str,
        answer: &Value,
    ) -> Vec<String> {
        let failed: Vec<String> = answer["batchItemFailures"]
            .as_array()
            .unwrap_or_else(|| panic!("a partial batch response: {answer}"))
            .iter()
            .map(|failure| {
                failure["itemIdentifier"]
                    .as_str()
                    .expect("an itemIdentifier")
                    .to_owned()
            })
            .collect();
        for (id, handle) in &self.handles {
            if !failed.contains(id) {
                moto.sqs()
                    .delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .expect("moto deletes the message");
            }
        }
        failed
    }
}
