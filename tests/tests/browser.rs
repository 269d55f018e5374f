//! CORS and the hand-off to VideoSDK's JS SDK, proven in a real browser: Debian's headless
//! Chromium, driven through chromedriver, runs the web client of `examples/web/` (served from its
//! own origin) against the local API.
//!
//! - From an origin in `ALLOWED_ORIGINS` both flows work, the three calls of VideoSDK's example
//!   servers and the page's default, one `POST /join`, the preflighted POSTs with
//!   `Authorization` and a JSON body included, and the page can read error bodies (401, 404, 403).
//!   The API runs as deployed, `MEETING_BACKEND=videosdk`, against the VideoSDK stand-in: the
//!   meeting is a room created there. The page then hands the token, the room id and the
//!   participant id to VideoSDK's JS SDK (`VideoSDK.config`, `VideoSDK.initMeeting`) and the
//!   meeting object holds exactly those, without joining: no request left 127.0.0.1 for
//!   VideoSDK.
//! - From an origin not in the list the browser blocks the call, and the API refuses it (403
//!   `origin_not_allowed`, no CORS header), so that page never holds a token.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (`scripts/install-browser`) and the
//! page's copy of the JS SDK (`npm ci --prefix examples/web`).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use api_tests::error_code_of as code;
use api_tests::local_api::http_client;
use api_tests::{
    ChildGuard, LocalApi, VideoSdkStandIn, dev_credentials, free_port, wait_for_port,
    workspace_root,
};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use shared::domain::credentials::ApiCredentials;
use shared::domain::token::{Claims, TokenKeys};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long the page may take to show an answer (the functions are built and warm by then).
const PAGE_LIMIT: Duration = Duration::from_secs(60);
/// The page's copy of VideoSDK's JS SDK, installed by `npm ci --prefix examples/web`.
const JS_SDK: &str = "examples/web/node_modules/@videosdk.live/js-sdk/videosdk.js";

/// The browser's only way out of 127.0.0.1: an HTTP proxy on a free port that records the first
/// line of every request (`CONNECT host:443 ...` for HTTPS and WebSockets, `GET http://...` for
/// plain HTTP) and refuses it with 502. Chromium never sends loopback requests through a proxy,
/// so the page and the API are reached directly, and nothing else reaches the internet: not the
/// JS SDK (were it to call VideoSDK), nor Chromium's own background requests.
struct Egress {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Egress {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port for the egress proxy");
        let port = listener.local_addr().expect("its address").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (recorded, stopping) = (Arc::clone(&seen), Arc::clone(&stop));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut line = String::new();
                let _ = BufReader::new(&stream).read_line(&mut line);
                recorded
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(line.trim_end().to_owned());
                let _ = stream.write_all(
                    b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Self { port, seen, stop }
    }

    /// The first line of every request that tried to leave 127.0.0.1 so far.
    fn requests(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Egress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// `examples/web/` served by `python3 -m http.server` on its own port of 127.0.0.1: an origin
/// of its own, distinct from the API's.
struct WebPage {
    _server: ChildGuard,
    origin: String,
}

impl WebPage {
    fn serve() -> Self {
        let port = free_port();
        let server = ChildGuard::spawn(
            Command::new("python3")
                .args([
                    "-m",
                    "http.server",
                    "--bind",
                    "127.0.0.1",
                    &port.to_string(),
                ])
                .arg("--directory")
                .arg(workspace_root().join("examples/web"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )
        .expect("python3 -m http.server starts");
        wait_for_port(port, Duration::from_secs(30), "the web page's http.server");
        Self {
            _server: server,
            origin: format!("http://127.0.0.1:{port}"),
        }
    }

    /// The client page, pointed at `api` through its `?api=` parameter.
    fn url(&self, api: &LocalApi) -> String {
        format!("{}/index.html?api={}", self.origin, api.base_url)
    }
}

/// chromedriver on a free port with a headless Chromium session on a fresh profile. The
/// session is closed by `close`; chromedriver (and with it any browser left) when dropped.
struct Browser {
    client: Client,
    egress: Egress,
    _profile: tempfile::TempDir,
    _driver: ChildGuard,
}

impl Browser {
    async fn start() -> Self {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(program).exists(),
                "{program} is missing: run scripts/install-browser"
            );
        }
        let port = free_port();
        let driver = ChildGuard::spawn(
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )
        .expect("chromedriver starts");
        wait_for_port(port, Duration::from_secs(30), "chromedriver");

        let profile = tempfile::tempdir().expect("a temporary browser profile");
        let egress = Egress::start();
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--no-first-run",
                    "--disable-sync",
                    "--disable-quic",
                    "--disable-dev-shm-usage",
                    "--hide-scrollbars",
                    "--window-size=1000,1300",
                    format!("--proxy-server=http://127.0.0.1:{}", egress.port),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object")
        };
        // chromedriver speaks plain HTTP on 127.0.0.1: no TLS connector needed.
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("chromedriver opens a Chromium session");
        Self {
            client,
            egress,
            _profile: profile,
            _driver: driver,
        }
    }

    async fn close(self) {
        let Self {
            client,
            egress: _,
            _profile,
            _driver,
        } = self;
        client.close().await.expect("the browser session closes");
    }

    /// Opens `url` in the browser.
    async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("the page loads");
    }

    async fn element(&self, selector: &str) -> Element {
        self.client
            .find(Locator::Css(selector))
            .await
            .unwrap_or_else(|error| panic!("no {selector} on the page: {error}"))
    }

    async fn text(&self, selector: &str) -> String {
        self.element(selector)
            .await
            .text()
            .await
            .expect("the element's text")
    }

    /// The JSON a step card shows.
    async fn json(&self, selector: &str) -> Value {
        let text = self.text(selector).await;
        serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{selector} shows no JSON ({error}): {text}"))
    }

    async fn click(&self, selector: &str) {
        self.element(selector)
            .await
            .click()
            .await
            .unwrap_or_else(|error| panic!("cannot click {selector}: {error}"));
    }

    async fn type_into(&self, selector: &str, text: &str) {
        let input = self.element(selector).await;
        input.clear().await.expect("the input clears");
        input.send_keys(text).await.expect("typing works");
    }

    /// Waits (polling, at most `PAGE_LIMIT`) for an element matching `selector`.
    async fn wait_for(&self, selector: &str, api: &LocalApi) {
        if let Err(error) = self
            .client
            .wait()
            .at_most(PAGE_LIMIT)
            .every(Duration::from_millis(50))
            .for_element(Locator::Css(selector))
            .await
        {
            let page = self.text("main").await;
            panic!(
                "{selector} did not appear within {PAGE_LIMIT:?} ({error}).\nPage:\n{page}\nAPI log:\n{}",
                api.log()
            );
        }
    }

    /// Waits until the page's log has `count` lines: each finished call adds one.
    async fn wait_for_answers(&self, count: usize, api: &LocalApi) {
        self.wait_for(&format!("#log li:nth-child({count})"), api)
            .await;
    }

    /// Has the page validate `meeting_id` with whatever token it holds, waits for its `answers`-th
    /// logged call, and checks the error it shows: the status, the body's code, and the message
    /// that names the code.
    async fn validate_any_shows_error(
        &self,
        meeting_id: &str,
        answers: usize,
        api: &LocalApi,
        status: &str,
        error_code: &str,
    ) {
        self.type_into("#meeting-id", meeting_id).await;
        self.click("#validate-any").await;
        self.wait_for_answers(answers, api).await;
        assert_eq!(self.text("#any-status").await, status);
        assert_eq!(code(&self.json("#any-body").await), error_code);
        assert!(
            self.text("#any-error")
                .await
                .starts_with(&format!("{error_code}:")),
            "the page names the error code"
        );
    }

    /// Picks the page's flow (the button `flow`), types the input's value (`field`, `value`),
    /// runs it, waits for its `answers`-th logged call and the hand-off built, and returns the
    /// body the page shows for its call `step` (`#{step}-body`), which answered 200.
    async fn run_flow(
        &self,
        flow: &str,
        (field, value): (&str, &str),
        answers: usize,
        api: &LocalApi,
        step: &str,
    ) -> Value {
        self.click(flow).await;
        self.type_into(field, value).await;
        self.click("#run").await;
        self.wait_for_answers(answers, api).await;
        self.assert_flow_done(api).await;
        assert_eq!(self.text(&format!("#{step}-status")).await, "200", "{step}");
        self.json(&format!("#{step}-body")).await
    }

    /// The flow the page ran ended with the hand-off built.
    async fn assert_flow_done(&self, api: &LocalApi) {
        let flow = self
            .element("body")
            .await
            .attr("data-flow")
            .await
            .expect("its data-flow");
        assert_eq!(
            flow.as_deref(),
            Some("done"),
            "page:\n{}\nAPI log:\n{}",
            self.text("main").await,
            api.log()
        );
    }

    /// The meeting object the page built with VideoSDK's JS SDK holds `token`, `room_id` and
    /// `participant_id`, and the page shows it. `meeting.id` is the SDK's public API; the token
    /// it was configured with (`VideoSDK.apiKey`) and the one the meeting would join with
    /// (`meeting.roomClient._secret`) are internals of version 1.1.1, the version
    /// examples/web/package.json pins.
    async fn assert_handed_off(&self, token: &str, room_id: &str, participant_id: &str) {
        let sdk = self
            .client
            .execute(
                "return {
                    meetingId: meeting.id,
                    configuredToken: VideoSDK.apiKey,
                    meetingToken: meeting.roomClient._secret,
                    roomId: meeting.roomClient._roomId,
                    micEnabled: meeting.roomClient._micEnabled,
                    webcamEnabled: meeting.roomClient._webcamEnabled,
                    displayName: meeting.localParticipant.displayName,
                    participantId: meeting.localParticipant.id,
                };",
                vec![],
            )
            .await
            .expect("the page holds a meeting object");
        assert_eq!(
            sdk,
            json!({
                "meetingId": room_id,
                "configuredToken": token,
                "meetingToken": token,
                "roomId": room_id,
                "micEnabled": false,
                "webcamEnabled": false,
                "displayName": "Web client example",
                "participantId": participant_id,
            })
        );
        assert_eq!(self.text("#sdk-status").await, "built");
        let shown = self.json("#sdk-body").await;
        assert_eq!(shown["meeting.id"], room_id, "{shown}");
        assert_eq!(shown["token"], "the token the API issued", "{shown}");
        assert_eq!(shown["joined"], false, "{shown}");
    }

    /// Runs `fetch` in the page, as its own script would; returns `{status, body}` or, when the
    /// browser refuses the call, `{failed: "<error name>: <message>"}`.
    async fn fetch(&self, url: &str, init: Value) -> Value {
        const SCRIPT: &str = "
            const [url, init] = arguments;
            return fetch(url, init).then(
                async (response) => ({ status: response.status, body: await response.text() }),
                (error) => ({ failed: `${error.name}: ${error.message}` }),
            );";
        let mut answer = self
            .client
            .execute(SCRIPT, vec![json!(url), init])
            .await
            .expect("the script runs in the page");
        if let Some(body) = answer.get("body").and_then(Value::as_str) {
            answer["body"] = serde_json::from_str(body).unwrap_or_else(|_| json!(body));
        }
        answer
    }
}

/// The first request to each route starts that function (and, should it be stale, builds it):
/// do it over plain HTTP (no `Origin`, so never refused) before the browser's calls.
/// The claims of a token the page was issued: signed with the development key, for the role
/// VideoSDK's client SDKs need to join (`rtc`).
fn participant_claims(credentials: &ApiCredentials, token: &str) -> Claims {
    let claims = TokenKeys::new(credentials)
        .expect("the development key")
        .verify_at(token, shared::domain::unix_now())
        .expect("signed with the development key");
    assert_eq!(claims.roles, ["rtc"], "{claims:?}");
    claims
}

async fn warm_up(api: &LocalApi) {
    let client = http_client();
    for (method, path, body, expected) in [
        (reqwest::Method::GET, "/get-token", "", 200),
        (reqwest::Method::POST, "/create-meeting", "", 401),
        (
            reqwest::Method::POST,
            "/validate-meeting/aaaa-bbbb-cccc",
            "",
            401,
        ),
        // A malformed room id: refused before any room is looked up or created.
        (reqwest::Method::POST, "/join", r#"{"roomId": "a.b"}"#, 400),
    ] {
        let response = client
            .request(method, api.url(path))
            .body(body)
            .send()
            .await
            .unwrap_or_else(|error| panic!("{path}: {error}\n{}", api.log()));
        assert_eq!(
            response.status().as_u16(),
            expected,
            "{path}\n{}",
            api.log()
        );
    }
}

#[tokio::test]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn from_an_allowed_origin_the_page_runs_the_flow_hands_off_to_the_js_sdk_and_reads_errors() {
    assert!(
        workspace_root().join(JS_SDK).exists(),
        "{JS_SDK} is missing: run npm ci --prefix examples/web"
    );
    let page = WebPage::serve();
    // As deployed: rooms are created at VideoSDK (here its stand-in, for the development key
    // the functions get from dev/local.env).
    let credentials = dev_credentials();
    let secret = std::str::from_utf8(credentials.secret_key()).expect("a text secret");
    let videosdk = VideoSdkStandIn::start(credentials.api_key(), secret).await;
    let api = LocalApi::start(
        &[
            ("ALLOWED_ORIGINS", page.origin.clone()),
            ("MEETING_BACKEND", "videosdk".to_owned()),
            ("VIDEOSDK_API_ENDPOINT", videosdk.uri()),
            // Every guest gets an id of its own, which the page must hand to the JS SDK.
            ("ANONYMOUS_PARTICIPANT_IDS", "generate".to_owned()),
        ],
        true,
    );
    warm_up(&api).await;
    let browser = Browser::start().await;
    browser.open(&page.url(&api)).await;
    let api_input = browser
        .element("#api")
        .await
        .prop("value")
        .await
        .expect("its value");
    assert_eq!(api_input.as_deref(), Some(api.base_url.as_str()));

    // A 401 error body is readable from this origin: a preflighted POST (JSON body) without a
    // token, straight from the page's context.
    let answer = browser
        .fetch(
            &api.url("/create-meeting"),
            json!({"method": "POST", "headers": {"Content-Type": "application/json"}, "body": "{}"}),
        )
        .await;
    assert_eq!(answer["status"], 401, "{answer}\n{}", api.log());
    assert_eq!(code(&answer["body"]), "missing_token", "{answer}");

    // The page shows that error body too: validating before it holds any token.
    browser
        .validate_any_shows_error("aaaa-bbbb-cccc", 1, &api, "401", "missing_token")
        .await;

    // The three-call flow: GET /get-token, with a sign-in token in its Authorization header (a
    // preflighted GET: the API must allow that header), then the two preflighted POSTs with the
    // Bearer token.
    let input = ("#sign-in", "a-sign-in-token");
    let issued = browser
        .run_flow("#flow-three-calls", input, 5, &api, "token")
        .await;
    let token = issued["token"].as_str().expect("the page shows a token");
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    assert!(issued["expiresAt"].is_u64(), "{issued}");
    let participant_id = issued["participantId"]
        .as_str()
        .expect("a generated participantId");
    assert!(participant_id.starts_with("guest-"), "{issued}");

    participant_claims(&credentials, token);

    assert_eq!(browser.text("#create-status").await, "200");
    let created = browser.json("#create-body").await;
    let meeting_id = created["meetingId"].as_str().expect("a meetingId");
    assert_eq!(created["roomId"], meeting_id, "{created}");

    assert_eq!(browser.text("#validate-status").await, "200");
    assert_eq!(
        browser.json("#validate-body").await,
        json!({"meetingId": meeting_id, "roomId": meeting_id, "valid": true})
    );
    // The room was created and validated at VideoSDK, with the functions' own management token,
    // never the page's.
    let calls = videosdk.calls();
    let made: Vec<_> = calls
        .iter()
        .map(|call| (call.method.as_str(), call.path.as_str(), call.authorized))
        .collect();
    assert_eq!(
        made,
        [
            ("POST", "/v2/rooms", true),
            ("GET", &*format!("/v2/rooms/validate/{meeting_id}"), true),
        ],
        "{calls:#?}"
    );
    assert!(
        calls
            .iter()
            .all(|call| call.authorization.as_deref() != Some(token)),
        "{calls:#?}"
    );
    browser
        .assert_handed_off(token, meeting_id, participant_id)
        .await;
    // A 404 error body, for a well-formed id VideoSDK does not know, with that token.
    browser
        .validate_any_shows_error("aaaa-bbbb-cccc", 6, &api, "404", "meeting_not_found")
        .await;

    // The page's default: one POST /join for a named room, made on first use, then the same
    // hand-off.
    let input = ("#custom-room-id", "standup");
    let joined = browser.run_flow("#flow-join", input, 8, &api, "join").await;
    let token = joined["token"].as_str().expect("the page shows a token");
    let room_id = joined["roomId"].as_str().expect("a roomId");
    let participant_id = joined["participantId"].as_str().expect("a participantId");
    assert!(participant_id.starts_with("guest-"), "{joined}");
    assert_eq!(joined["permissions"], json!(["allow_join"]), "{joined}");
    // Scoped to the room and bound to the participant the answer names.
    let claims = participant_claims(&credentials, token);
    assert_eq!(claims.room_id.as_deref(), Some(room_id), "{claims:?}");
    assert_eq!(
        claims.participant_id.as_deref(),
        Some(participant_id),
        "{claims:?}"
    );
    // One call to VideoSDK for it: the creation of the named room.
    let calls = videosdk.calls();
    assert_eq!(calls.len(), 4, "{calls:#?}");
    assert_eq!(
        (
            calls[3].method.as_str(),
            calls[3].path.as_str(),
            calls[3].authorized
        ),
        ("POST", "/v2/rooms", true)
    );
    assert_eq!(calls[3].body["customRoomId"], "standup", "{calls:#?}");
    assert_ne!(calls[3].authorization.as_deref(), Some(token));
    browser
        .assert_handed_off(token, room_id, participant_id)
        .await;

    // The browser did preflight the GET with its Authorization header and the POSTs, and the
    // functions answered the preflights.
    let log = api.log();
    for route in [
        "/get-token",
        "/create-meeting",
        "/validate-meeting",
        "/join",
    ] {
        assert!(
            log.lines().any(|line| line.contains(route)
                && line.contains("method=OPTIONS")
                && line.contains("status=204")),
            "no preflight of {route} reached the functions:\n{log}"
        );
    }

    // A 403 error body: the token the page holds now is /join's, scoped to its room, so another
    // id is refused whether VideoSDK knows it or not.
    browser
        .validate_any_shows_error("aaaa-bbbb-cccc", 9, &api, "403", "token_scope_mismatch")
        .await;

    // The page loaded and called nothing but its own origin and the API...
    let loaded = browser
        .client
        .execute(
            "return performance.getEntriesByType('resource').map((entry) => entry.name);",
            vec![],
        )
        .await
        .expect("the page's resource timings");
    let loaded: Vec<String> = serde_json::from_value(loaded).expect("a list of URLs");
    assert!(
        loaded.iter().any(|url| url.ends_with("/videosdk.js")),
        "{loaded:#?}"
    );
    assert!(
        loaded
            .iter()
            .all(|url| url.starts_with(&page.origin) || url.starts_with(&api.base_url)),
        "{loaded:#?}"
    );
    // ...and nothing (JS SDK included, WebSockets too) tried to reach VideoSDK.
    let outside = browser.egress.requests();
    assert!(
        !outside
            .iter()
            .any(|line| line.to_ascii_lowercase().contains("videosdk")),
        "{outside:#?}"
    );

    // For docs/clients.md: the whole page after the flows (and that 403), the window fitted to it.
    let height = browser
        .client
        .execute(
            "return document.body.scrollHeight + (window.outerHeight - window.innerHeight)",
            vec![],
        )
        .await
        .expect("the page's height")
        .as_u64()
        .expect("a height in pixels");
    browser
        .client
        .set_window_size(1000, height.clamp(600, 2400) as u32)
        .await
        .expect("the window resizes");
    let png = browser.client.screenshot().await.expect("a screenshot");
    // Into target/ on every run; over docs/clients.md's picture only when asked to, so that a test
    // run leaves the work tree as it found it.
    let shot = if std::env::var_os("UPDATE_SCREENSHOT").is_some() {
        workspace_root().join("docs/web-client.png")
    } else {
        workspace_root().join("target/web-client.png")
    };
    std::fs::write(&shot, png).unwrap_or_else(|error| panic!("{}: {error}", shot.display()));

    browser.close().await;
}

#[tokio::test]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn from_an_origin_not_allowed_the_browser_blocks_the_call_and_gets_no_token() {
    let page = WebPage::serve();
    // Origins are compared exactly: localhost is not 127.0.0.1, even on the page's own port.
    let allowed = page.origin.replace("127.0.0.1", "localhost");
    let api = LocalApi::start(&[("ALLOWED_ORIGINS", allowed)], true);
    warm_up(&api).await;

    // What the browser gets, seen over plain HTTP: 403 and no CORS header, on the call itself
    // and on the preflight of a POST.
    let client = http_client();
    let response = client
        .get(api.url("/get-token"))
        .header("origin", &page.origin)
        .send()
        .await
        .expect("the API answers");
    assert_eq!(response.status().as_u16(), 403);
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none(),
        "{:?}",
        response.headers()
    );
    let body: Value = response.json().await.expect("a JSON error body");
    assert_eq!(code(&body), "origin_not_allowed", "{body}");
    assert!(body.get("token").is_none());
    let preflight = client
        .request(reqwest::Method::OPTIONS, api.url("/create-meeting"))
        .header("origin", &page.origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .expect("the API answers");
    assert_eq!(preflight.status().as_u16(), 403);
    assert!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let refusals = |log: String| {
        log.lines()
            .filter(|line| line.contains("origin_not_allowed") && line.contains("status=403"))
            .count()
    };
    let refused_before = refusals(api.log());

    // In the browser: the page's fetch fails, so the flow stops at its first step, no token.
    let browser = Browser::start().await;
    browser.open(&page.url(&api)).await;
    browser.click("#run").await;
    browser
        .wait_for("body[data-flow='done'], body[data-flow='failed']", &api)
        .await;
    assert_eq!(browser.text("#join-status").await, "blocked");
    let shown = browser.text("#join-body").await;
    assert!(shown.starts_with("TypeError"), "{shown}");
    assert!(!shown.contains("eyJ"), "the page holds no token: {shown}");
    assert_eq!(browser.text("#sdk-status").await, "skipped");
    // And the three-call flow stops at its first call.
    browser.click("#flow-three-calls").await;
    browser.click("#run").await;
    browser.wait_for_answers(2, &api).await;
    browser
        .wait_for("body[data-flow='done'], body[data-flow='failed']", &api)
        .await;
    assert_eq!(browser.text("#token-status").await, "blocked");
    let shown = browser.text("#token-body").await;
    assert!(shown.starts_with("TypeError"), "{shown}");
    assert!(!shown.contains("eyJ"), "the page holds no token: {shown}");
    assert_eq!(browser.text("#create-status").await, "skipped");
    assert_eq!(browser.text("#validate-status").await, "skipped");
    assert_eq!(browser.text("#sdk-status").await, "skipped");

    // The same from a script in the page: a TypeError, and nothing readable.
    let answer = browser.fetch(&api.url("/get-token"), json!({})).await;
    let failed = answer["failed"].as_str().unwrap_or_default();
    assert!(failed.starts_with("TypeError"), "{answer}");

    // The browser's calls did reach the API, which refused them (not an unreachable API).
    let log = api.log();
    assert!(
        refusals(log.clone()) >= refused_before + 3,
        "the API logged no refusal of the browser's calls:\n{log}"
    );

    browser.close().await;
}
