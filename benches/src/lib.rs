//! Fixtures for the benchmarks in `benches/benches/api.rs` (run them and print their ratios to the
//! floor with `scripts/bench`): the events each handler is timed on, and the token whose
//! signing input sizes the HMAC-SHA256 floor.

use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use lambda_http::Request;
use shared::domain::keyring::Keyring;
use shared::domain::permissions::{PermissionSet, TokenRoles};
use shared::domain::token::{Claims, TokenScope};
use shared::domain::unix_now;
use shared::http::route::Route;
use shared::routes::{CREATE_MEETING, GET_TOKEN, JOIN, VALIDATE_MEETING, VIDEOSDK_WEBHOOK};

/// Criterion's measurement by the CPU time of the benchmarking thread
/// (`CLOCK_THREAD_CPUTIME_ID`) instead of wall-clock time: on a machine shared with builds, time
/// spent waiting for a core while others run is not counted, so the floor and the cases are
/// compared on the work they do. Everything timed here runs on that one thread (the handlers on
/// a current-thread runtime) and never blocks.
pub struct ThreadCpuTime;

fn thread_cpu_now() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for clock_gettime to write; the clock always exists on
    // Linux, so the call cannot fail.
    let result = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(result, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

impl Measurement for ThreadCpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        thread_cpu_now()
    }

    fn end(&self, started: Duration) -> Duration {
        thread_cpu_now().saturating_sub(started)
    }

    fn add(&self, v1: &Duration, v2: &Duration) -> Duration {
        *v1 + *v2
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        // Durations, printed as criterion prints wall-clock ones.
        static WALL_TIME: WallTime = WallTime;
        WALL_TIME.formatter()
    }
}

/// The event of `events/<route>/` each handler is timed on: a request it answers with success
/// (the status in its name); for the moderation function, whose successes need VideoSDK's
/// sessions or the bans table, a refusal after its token is verified.
pub const TIMED_EVENTS: [(&Route, &str); 6] = [
    // An issued room joined (the local backend checks it and signs the token).
    (&JOIN, "anonymous-existing-room.200.json"),
    (&GET_TOKEN, "default-permissions.200.json"),
    (&CREATE_MEETING, "bearer-token.200.json"),
    (&VALIDATE_MEETING, "issued-id.200.json"),
    (&VIDEOSDK_WEBHOOK, "session-started.204.json"),
    (
        &shared::routes::moderation::REMOVE_PARTICIPANT,
        "token-without-allow-mod.403.json",
    ),
];

/// `<route>/<case>.json`, the path under `events/` of a timed event.
pub fn timed_event(route: &Route) -> String {
    let (_, case) = TIMED_EVENTS
        .iter()
        .find(|(timed, _)| *timed == route)
        .unwrap_or_else(|| panic!("no timed event for {}: add one to TIMED_EVENTS", route.name));
    format!("{}/{case}", route.name)
}

/// The text of `<route>/<case>.json` in a set of events written for this run.
pub fn event_text(path: &str) -> String {
    // Written once per run: the committed events' tokens are only valid for a day.
    static FRESH: std::sync::OnceLock<api_tests::events::FreshEvents> = std::sync::OnceLock::new();
    let file = FRESH
        .get_or_init(api_tests::events::fresh)
        .root()
        .join(path);
    std::fs::read_to_string(&file)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", file.display()))
}

/// An event parsed as the Lambda runtime parses it for the handler.
pub fn parse(text: &str) -> Request {
    lambda_http::request::from_str(text).expect("the event parses")
}

/// The claims get-token signs for a request that names no permission and no scope.
pub fn default_claims(keys: &Keyring) -> Claims {
    claims_for(keys, 600)
}

/// The same claims valid as long as the functions take (a day): a token to verify must not
/// expire during the run (and this machine's wall clock has been seen to jump by minutes).
pub fn long_lived_claims(keys: &Keyring) -> Claims {
    claims_for(keys, shared::domain::token::MAX_TOKEN_LIFETIME_SECONDS)
}

fn claims_for(keys: &Keyring, ttl_seconds: u64) -> Claims {
    let permissions = PermissionSet::parse_list("allow_join").expect("allow_join is a permission");
    Claims::new(
        keys.api_key(),
        &permissions,
        &TokenRoles::participant(),
        TokenScope::default(),
        unix_now(),
        ttl_seconds,
    )
}

/// What HS256 signs: `header.payload`, the token without its signature.
pub fn signing_input(token: &str) -> &str {
    token
        .rsplit_once('.')
        .map(|(input, _signature)| input)
        .expect("a JWT has three parts")
}
