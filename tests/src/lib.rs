//! Fixtures shared by the workspace's integration tests: the development credentials, the
//! `events/` files, and real local stand-ins for AWS (moto's Secrets Manager, EventBridge and
//! SQS) and for VideoSDK.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lambda_http::{Body, Request, Response};
use shared::aws::environment::AwsEnvironment;
use shared::backends::meetings::MeetingBackend;
use shared::domain::credentials::ApiCredentials;
use shared::http::route::Route;
use shared::routes;
use shared::settings::Settings;
use shared::state::State;

pub mod authorizer;
pub mod cloudformation;
pub mod emf;
pub mod events;
pub mod https;
pub mod local_api;
pub mod template;
pub mod videosdk_stand_in;
pub mod webhooks;

pub use local_api::LocalApi;
pub use videosdk_stand_in::VideoSdkStandIn;
pub use webhooks::Functions;

/// The workspace root (this crate lives in `tests/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The made-up development key and secret from `dev/local.env`, the same the local API runs with.
pub fn dev_credentials() -> ApiCredentials {
    let path = workspace_root().join("dev/local.env");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    let value = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("{name} missing from {}", path.display()))
            .trim()
            .to_owned()
    };
    ApiCredentials::new(value("VIDEOSDK_API_KEY"), value("VIDEOSDK_SECRET_KEY"))
}

/// Settings as the functions read them, from name/value pairs instead of the environment.
pub fn settings(pairs: &[(&str, &str)]) -> Settings {
    shared::test_support::settings_from_pairs(pairs).expect("test settings are valid")
}

/// Owned name/value pairs as the `&[(&str, &str)]` the settings helpers take.
pub fn as_pairs(owned: &[(String, String)]) -> Vec<(&str, &str)> {
    owned
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect()
}

/// The state of a meeting function, with which every route can be answered.
pub type ApiState = State<MeetingBackend>;

/// The state a function builds at cold start, from `pairs` as its environment.
pub async fn state(pairs: &[(&str, &str)]) -> State<MeetingBackend> {
    State::from_settings(settings(pairs))
        .await
        .expect("state builds")
}

/// The state of a function (local meeting ids) reading `secret_id` from the Secrets Manager at
/// `endpoint` (moto, or a stand-in), refreshing every `refresh_seconds` (blank: the default).
pub async fn secrets_manager_state(
    endpoint: &str,
    secret_id: &str,
    refresh_seconds: &str,
) -> ApiState {
    let mut environment = aws_test_environment(endpoint);
    environment.extend([
        ("VIDEOSDK_SECRET_ID", secret_id.to_owned()),
        ("SECRET_REFRESH_SECONDS", refresh_seconds.to_owned()),
        ("MEETING_BACKEND", "local".to_owned()),
    ]);
    let pairs: Vec<(&str, &str)> = environment
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    state(&pairs).await
}

/// The state a function builds at cold start with the development credentials.
pub async fn dev_state(pairs: &[(&str, &str)]) -> State<MeetingBackend> {
    dev_state_of(pairs).await
}

/// [`dev_state`], for a function with backend `B`.
pub async fn dev_state_of<B: shared::state::Backend>(pairs: &[(&str, &str)]) -> State<B> {
    let credentials = dev_credentials();
    let mut all = vec![
        ("VIDEOSDK_API_KEY", credentials.api_key().to_owned()),
        (
            "VIDEOSDK_SECRET_KEY",
            String::from_utf8_lossy(credentials.secret_key()).into_owned(),
        ),
    ];
    // Explicit pairs first: the first value of a name wins. The handler tests run offline, on
    // the local backend, unless they ask for another.
    all.splice(0..0, pairs.iter().map(|(k, v)| (*k, v.to_string())));
    all.push(("MEETING_BACKEND", "local".to_owned()));
    let borrowed: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
    State::from_settings(settings(&borrowed))
        .await
        .expect("state builds")
}

/// The functions, each once (one function may answer several routes), in the registry's order.
pub fn functions() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for route in routes::ALL {
        if !names.contains(&route.name) {
            names.push(route.name);
        }
    }
    names
}

/// The route of the function named `function` (its crate, and its `events/` folder).
pub fn route(function: &str) -> &'static Route {
    routes::ALL
        .iter()
        .find(|route| route.name == function)
        .unwrap_or_else(|| panic!("no route is answered by a function named {function}"))
}

/// Sends `request` to the handler of `function`, one of `routes::API`, as its Lambda binary
/// would (the webhook function runs on another state: [`Functions::invoke`] answers every route).
pub async fn invoke(
    function: &str,
    state: &State<MeetingBackend>,
    request: Request,
) -> Response<Body> {
    shared::test_support::answer(route(function), state, request).await
}

/// The parameters of `query` (`name=value&...`) as lambda_http gives them from an event: already
/// decoded, as API Gateway's, so values need not be valid in a URI.
pub fn query_parameters(query: &str) -> std::collections::HashMap<String, Vec<String>> {
    let mut parameters = std::collections::HashMap::<String, Vec<String>>::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        parameters
            .entry(name.to_owned())
            .or_default()
            .push(value.to_owned());
    }
    parameters
}

/// A `GET /get-token?{query}` request as lambda_http builds it from an event.
pub fn get_token_request(query: &str) -> Request {
    use lambda_http::RequestExt as _;
    lambda_http::http::Request::builder()
        .uri("https://api.example/get-token")
        .body(Body::Empty)
        .expect("request builds")
        .with_query_string_parameters(query_parameters(query))
}

/// The body of a response as JSON.
pub fn json(response: &Response<Body>) -> serde_json::Value {
    serde_json::from_slice(response.body().as_ref())
        .unwrap_or_else(|error| panic!("body is not JSON ({error}): {:?}", response.body()))
}

/// The `error.code` of an error body (`{"error": {"code", "message"}}`), or "" when it has none.
pub fn error_code_of(body: &serde_json::Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

/// The `error.code` of a handler's answer, or "" when it has none.
pub fn error_code(response: &Response<Body>) -> String {
    error_code_of(&json(response)).to_owned()
}

/// The status and `error.code` of a handler's answer, as a refusal is checked.
pub fn status_and_code(response: &Response<Body>) -> (u16, String) {
    (response.status().as_u16(), error_code(response))
}

/// The claims of a JWT, decoded without verifying it.
pub fn claims_of(token: &str) -> serde_json::Value {
    use base64::Engine as _;
    token
        .split('.')
        .nth(1)
        .and_then(|part| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_else(|| panic!("not a JWT with JSON claims: {token}"))
}

/// The claims of a token signed with the development key, as VideoSDK's official Rust crate
/// verifies them (it panics if the crate refuses the token).
pub fn verified_by_videosdk(token: &str) -> serde_json::Value {
    let credentials = dev_credentials();
    let secret = std::str::from_utf8(credentials.secret_key()).expect("a UTF-8 development key");
    let claims = videosdk::verify_token(token, secret).expect("the official crate verifies it");
    serde_json::Value::Object(claims.raw.into_iter().collect())
}

/// What every answer of every route keeps, whatever it was asked: no 5xx; a 204 without a body
/// or JSON (`Content-Type: application/json`); an error as `{"error": {"code", "message"}}`,
/// both non-empty strings. The error says which rule the answer breaks.
pub fn check_answer(response: &Response<Body>) -> Result<(), String> {
    let status = response.status().as_u16();
    if status >= 500 {
        return Err(format!("a 5xx: {status} {:?}", response.body()));
    }
    if status == 204 {
        return Ok(());
    }
    let content_type = response.headers().get("content-type");
    if content_type.map(|value| value.as_bytes()) != Some(b"application/json") {
        return Err(format!("{status} with Content-Type {content_type:?}"));
    }
    let body: serde_json::Value = serde_json::from_slice(response.body().as_ref())
        .map_err(|error| format!("{status} whose body is not JSON: {error}"))?;
    if status >= 400 {
        let message = body["error"]["message"].as_str().unwrap_or_default();
        if error_code_of(&body).is_empty() || message.is_empty() {
            return Err(format!(
                "{status} without an error code and message: {body}"
            ));
        }
    }
    Ok(())
}

/// A program installed by the test command into the project's venv (`.venv/bin`).
pub fn venv_tool(name: &str) -> PathBuf {
    let path = workspace_root().join(".venv/bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run ./scripts/test, which installs the test tools into .venv",
        path.display()
    );
    path
}

/// Runs VideoSDK's official Node server SDK (`tests/node/videosdk-oracle.mjs`, installed by the
/// test command with `npm ci`) on one JSON request and returns its JSON answer.
pub fn node_oracle(request: &serde_json::Value) -> serde_json::Value {
    use std::io::Write as _;
    let folder = workspace_root().join("tests/node");
    assert!(
        folder
            .join("node_modules/@videosdk.live/server-sdk")
            .exists(),
        "VideoSDK's Node server SDK is missing: run ./scripts/test, which installs it \
         (npm ci --prefix tests/node)"
    );
    let mut child = Command::new("node")
        .arg(folder.join("videosdk-oracle.mjs"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs (Node.js 18 or later)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request.to_string().as_bytes())
        .expect("the request reaches node");
    let output = child.wait_with_output().expect("node ends");
    assert!(
        output.status.success(),
        "the Node oracle failed on {request}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the Node oracle prints JSON")
}

/// A free TCP port on 127.0.0.1, so that parallel runs do not collide.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port on 127.0.0.1")
}

/// Waits until something accepts connections on `port`, or panics after `limit`.
pub fn wait_for_port(port: u16, limit: Duration, what: &str) {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < limit,
            "{what} did not listen on port {port} within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A child process that leads its own process group; the whole group (its own children too,
/// such as the functions cargo-lambda spawns) is stopped when the guard is dropped, also when a
/// test fails.
pub struct ChildGuard(Child);

impl ChildGuard {
    /// Spawns `command` as the leader of a new process group.
    pub fn spawn(command: &mut Command) -> std::io::Result<Self> {
        use std::os::unix::process::CommandExt as _;
        command.process_group(0).spawn().map(Self)
    }

    pub fn id(&self) -> u32 {
        self.0.id()
    }

    /// The exit status, if the process has ended.
    pub fn try_wait(&mut self) -> std::io::Result<Option<std::process::ExitStatus>> {
        self.0.try_wait()
    }

    /// Everything the ended process wrote to its piped stdout and stderr.
    pub fn output_text(&mut self) -> String {
        use std::io::Read as _;
        let mut text = String::new();
        if let Some(stdout) = self.0.stdout.as_mut() {
            let _ = stdout.read_to_string(&mut text);
        }
        if let Some(stderr) = self.0.stderr.as_mut() {
            let _ = stderr.read_to_string(&mut text);
        }
        text
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        use nix::sys::signal::{Signal, killpg};
        use nix::unistd::Pid;
        let group = Pid::from_raw(self.0.id() as i32);
        let _ = killpg(group, Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = killpg(group, Signal::SIGKILL);
        let _ = self.0.wait();
    }
}

/// Real Secrets Manager, EventBridge and SQS APIs on 127.0.0.1: `moto_server`, started fresh for
/// each fixture.
pub struct MotoServer {
    _process: ChildGuard,
    /// Where moto's recorder writes (it defaults to `moto_recording` in the working directory,
    /// which is the source tree).
    _recording: tempfile::TempDir,
    pub endpoint: String,
}

impl MotoServer {
    pub fn start() -> Self {
        let port = free_port();
        let recording = tempfile::tempdir().expect("a temporary directory");
        let process = ChildGuard::spawn(
            Command::new(venv_tool("moto_server"))
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env(
                    "MOTO_RECORDER_FILEPATH",
                    recording.path().join("moto_recording"),
                )
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )
        .expect("moto_server starts");
        wait_for_port(port, Duration::from_secs(60), "moto_server");
        Self {
            _process: process,
            _recording: recording,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// A Secrets Manager client built like the functions' (same timeouts and retries), pointed at
    /// this server with dummy credentials.
    pub async fn client(&self) -> aws_sdk_secretsmanager::Client {
        secrets_manager_client(&self.endpoint).await
    }

    /// Starts recording every request moto receives, forgetting those recorded before.
    pub async fn record_requests(&self) {
        for action in ["reset-recording", "start-recording"] {
            let response = reqwest::Client::new()
                .post(format!("{}/moto-api/recorder/{action}", self.endpoint))
                .send()
                .await
                .expect("moto's recorder answers");
            assert!(response.status().is_success(), "moto {action}");
        }
    }

    /// How many `GetSecretValue` calls moto received since [`MotoServer::record_requests`].
    pub async fn get_secret_value_calls(&self) -> usize {
        let recording = reqwest::Client::new()
            .get(format!(
                "{}/moto-api/recorder/download-recording",
                self.endpoint
            ))
            .send()
            .await
            .expect("moto's recorder answers")
            .text()
            .await
            .expect("a recording");
        recording
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|request| request["headers"]["X-Amz-Target"] == "secretsmanager.GetSecretValue")
            .count()
    }

    /// Puts `secret_string` as the new current version of `name` (the old one becomes
    /// `AWSPREVIOUS`), as a rotation does.
    pub async fn rotate_secret(&self, name: &str, secret_string: &str) {
        self.client()
            .await
            .put_secret_value()
            .secret_id(name)
            .secret_string(secret_string)
            .send()
            .await
            .expect("moto stores the new version");
    }

    /// An EventBridge client built like the functions' (same timeouts and retries).
    pub fn eventbridge(&self) -> aws_sdk_eventbridge::Client {
        shared::aws::eventbridge::client(&test_aws_environment(&self.endpoint))
    }

    /// Deletes the EventBridge bus `name`, as an outage would take it away.
    pub async fn delete_event_bus(&self, name: &str) {
        self.eventbridge()
            .delete_event_bus()
            .name(name)
            .send()
            .await
            .expect("moto deletes the bus");
    }

    /// An SQS client, to read back what a rule delivered.
    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        let config = aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .http_client(shared::aws::environment::http_client())
            .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                "testing", "testing", None, None, "tests",
            ))
            .region(aws_sdk_sqs::config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .build();
        aws_sdk_sqs::Client::from_conf(config)
    }

    /// Signs in a moderator and a member of a Cognito user pool in this moto
    /// (`tests/python/cognito_tokens.py`, boto3): their real ID and access tokens,
    /// `{"moderator": {"id", "access"}, "member": {...}}`.
    pub fn cognito_tokens(&self) -> serde_json::Value {
        let output = Command::new(venv_tool("python"))
            .arg(workspace_root().join("tests/python/cognito_tokens.py"))
            .arg(&self.endpoint)
            .envs(aws_test_environment(&self.endpoint))
            .output()
            .expect("python runs");
        assert!(
            output.status.success(),
            "cognito_tokens.py failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("tokens as JSON")
    }

    /// A queue in moto named `name`; its URL.
    pub async fn create_queue(&self, name: &str) -> String {
        self.sqs()
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .expect("moto creates the queue")
            .queue_url()
            .expect("a queue URL")
            .to_owned()
    }

    /// A bus named `bus` with a rule that sends every `videosdk` event to a new queue named
    /// `queue`; returns the queue's URL.
    pub async fn bus_to_queue(&self, bus: &str, queue: &str) -> String {
        self.eventbridge()
            .create_event_bus()
            .name(bus)
            .send()
            .await
            .expect("moto creates the bus");
        self.rule_to_queue(bus, queue, r#"{"source":["videosdk"]}"#)
            .await
    }

    /// A rule on `bus` that sends the events `pattern` (EventBridge's JSON) matches to a new
    /// queue named `queue`; returns the queue's URL.
    pub async fn rule_to_queue(&self, bus: &str, queue: &str, pattern: &str) -> String {
        let eventbridge = self.eventbridge();
        let sqs = self.sqs();
        let url = self.create_queue(queue).await;
        let arn = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("the queue's attributes")
            .attributes()
            .and_then(|attributes| {
                attributes.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            })
            .expect("the queue's ARN")
            .clone();
        eventbridge
            .put_rule()
            .name(format!("{queue}-rule"))
            .event_bus_name(bus)
            .event_pattern(pattern)
            .send()
            .await
            .expect("moto creates the rule");
        eventbridge
            .put_targets()
            .rule(format!("{queue}-rule"))
            .event_bus_name(bus)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("queue")
                    .arn(arn)
                    .build()
                    .expect("a target"),
            )
            .send()
            .await
            .expect("moto adds the target");
        url
    }

    /// The bodies of the messages waiting in the queue at `url` (taken off it), without waiting
    /// for more: moto delivers a rule's target while it answers PutEvents.
    pub async fn receive(&self, url: &str) -> Vec<String> {
        let sqs = self.sqs();
        let mut bodies = Vec::new();
        loop {
            let output = sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await
                .expect("moto answers ReceiveMessage");
            let messages = output.messages();
            if messages.is_empty() {
                return bodies;
            }
            for message in messages {
                bodies.push(message.body().unwrap_or_default().to_owned());
                sqs.delete_message()
                    .queue_url(url)
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .expect("moto deletes the message");
            }
        }
    }

    /// A DynamoDB client built like the functions' (same timeouts and retries).
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        shared::aws::bans::client(&test_aws_environment(&self.endpoint))
    }

    /// A bans table named `name` as `template.yaml` makes it: keyed `roomId` and
    /// `participantId`, on demand, expiring at `endsAt`.
    pub async fn create_bans_table(&self, name: &str) {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
            TimeToLiveSpecification,
        };
        use shared::aws::bans::{ENDS_AT, PARTICIPANT_ID, ROOM_ID};
        let dynamodb = self.dynamodb();
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("an attribute")
        };
        let key = |name: &str, kind| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .expect("a key")
        };
        dynamodb
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute(ROOM_ID))
            .attribute_definitions(attribute(PARTICIPANT_ID))
            .key_schema(key(ROOM_ID, KeyType::Hash))
            .key_schema(key(PARTICIPANT_ID, KeyType::Range))
            .send()
            .await
            .expect("moto creates the table");
        dynamodb
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(ENDS_AT)
                    .enabled(true)
                    .build()
                    .expect("a TTL specification"),
            )
            .send()
            .await
            .expect("moto turns TTL on");
    }

    /// Stores `secret_string` under `name` and returns the secret's ARN.
    pub async fn create_secret(&self, name: &str, secret_string: &str) -> String {
        self.client()
            .await
            .create_secret()
            .name(name)
            .secret_string(secret_string)
            .send()
            .await
            .expect("moto creates the secret")
            .arn()
            .expect("moto returns an ARN")
            .to_owned()
    }
}

/// The environment a function process needs to reach this machine's stand-ins for Secrets
/// Manager, EventBridge and SQS (moto serves them on one endpoint).
pub fn aws_test_environment(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint.to_owned()),
        ("AWS_ENDPOINT_URL_EVENTBRIDGE", endpoint.to_owned()),
        ("AWS_ENDPOINT_URL_SQS", endpoint.to_owned()),
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ]
}

/// What Lambda's runtime API gives an invocation that ends `left` from now: its deadline (and a
/// request id), which the handlers read through `RequestExt::lambda_context_ref`.
pub fn lambda_context_ending_in(left: Duration) -> lambda_http::lambda_runtime::Context {
    let mut context = lambda_http::lambda_runtime::Context::default();
    context.request_id = "2f0b4a8e-7c1d-4f4e-9d55-0a4d1c9b7e21".to_owned();
    context.deadline = (std::time::SystemTime::now() + left)
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after the epoch")
        .as_millis() as u64;
    context
}

/// The AWS environment of [`aws_test_environment`], as the functions read it.
pub fn test_aws_environment(endpoint: &str) -> AwsEnvironment {
    let variables = aws_test_environment(endpoint);
    AwsEnvironment::from_lookup(|name| {
        variables
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
    })
    .expect("a complete AWS environment")
}

/// A client with the functions' configuration, for any endpoint (also an unreachable one).
pub async fn secrets_manager_client(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    shared::aws::secrets_manager::client(&test_aws_environment(endpoint))
}

/// Removes from `command` the variables `cargo test` sets for a test process about the test's own
/// package (`CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME`, ...). A cargo started by a test would
/// otherwise inherit them, and build scripts that declare `rerun-if-env-changed` on them (ring's
/// does) would be rerun, rebuilding ring and every crate above it, the functions included, on
/// each test run and again on the next `cargo test` or `cargo build` from a shell.
pub fn without_test_package_env(command: &mut Command) -> &mut Command {
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_MANIFEST_")
            || name.starts_with("CARGO_BIN_")
            || matches!(
                name,
                "CARGO_CRATE_NAME" | "CARGO_PRIMARY_PACKAGE" | "CARGO_TARGET_TMPDIR"
            )
        {
            command.env_remove(name);
        }
    }
    command
}

/// The debug build of a function's binary (`bootstrap` on Lambda), built first if needed with
/// the same command `cargo lambda watch` uses, so both share one build.
pub fn function_binary(function: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = without_test_package_env(&mut Command::new(cargo))
        .current_dir(workspace_root())
        .args(["build", "--quiet", "--bin", function])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo build --bin {function} failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("debug").join(function)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, content_type: Option<&str>, body: &str) -> Response<Body> {
        let mut builder = Response::builder().status(status);
        if let Some(content_type) = content_type {
            builder = builder.header("content-type", content_type);
        }
        builder.body(Body::from(body)).expect("a response")
    }

    #[test]
    fn check_answer_refuses_each_broken_rule() {
        let error = r#"{"error":{"code":"invalid_token","message":"Not a JWT."}}"#;
        let json = Some("application/json");
        assert_eq!(check_answer(&answer(204, None, "")), Ok(()));
        assert_eq!(check_answer(&answer(200, json, r#"{"token":"t"}"#)), Ok(()));
        assert_eq!(check_answer(&answer(401, json, error)), Ok(()));
        for (broken, why) in [
            (answer(500, json, error), "a 5xx"),
            (answer(502, None, ""), "a 5xx"),
            (answer(401, Some("text/plain"), error), "Content-Type"),
            (answer(200, None, "{}"), "Content-Type"),
            (answer(400, json, "{\"error\":"), "not JSON"),
            (
                answer(400, json, r#"{"error":{"code":"x"}}"#),
                "error code and message",
            ),
            (
                answer(400, json, r#"{"error":{"code":"","message":"m"}}"#),
                "error code and message",
            ),
            (
                answer(403, json, r#"{"code":"x","message":"m"}"#),
                "error code and message",
            ),
        ] {
            let error = check_answer(&broken).expect_err(why);
            assert!(error.contains(why), "{why}: {error}");
        }
    }

    #[test]
    fn error_codes_and_claims_are_read() {
        let body = serde_json::json!({"error": {"code": "expired_token", "message": "m"}});
        assert_eq!(error_code_of(&body), "expired_token");
        assert_eq!(error_code_of(&serde_json::json!({"token": "t"})), "");
        // {"alg":"HS256"} . {"apikey":"k","exp":1}
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJhcGlrZXkiOiJrIiwiZXhwIjoxfQ.c2ln";
        assert_eq!(
            claims_of(token),
            serde_json::json!({"apikey": "k", "exp": 1})
        );
    }
}
