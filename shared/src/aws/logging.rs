//! The functions' log output, as Lambda's advanced logging controls ask for it: JSON lines when
//! `AWS_LAMBDA_LOG_FORMAT` is `JSON`, plain text otherwise (no colours: CloudWatch shows escape
//! codes as they are), at the level `AWS_LAMBDA_LOG_LEVEL` (or else `RUST_LOG`) names, `INFO`
//! by default.
//!
//! lambda_http's `tracing` feature does the same with tracing-subscriber's `EnvFilter`, which
//! brings a regex engine into each binary (docs/performance.md) for per-module filter directives these
//! functions have no use for. A level is all the controls set, and it applies to this crate's
//! own events: the dependencies never log below INFO (see `DEPENDENCY_MAX_LEVEL`).

use std::str::FromStr;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// The most the dependencies log, whatever level is asked for: at debug and trace they log raw
/// events (lambda_runtime: every payload, `Authorization` headers and `{"token": ...}` bodies
/// included), HTTP headers and bodies (hyper, reqwest: the token this service sends VideoSDK;
/// the AWS SDK: the secret's value). Never a token or a secret in the logs, at any level.
const DEPENDENCY_MAX_LEVEL: LevelFilter = LevelFilter::INFO;

/// Installs the subscriber for the process, writing to stdout, and sends metric lines
/// (`aws::metrics`) there too; call once, first thing in `main`.
pub fn init() {
    init_with_writer(std::io::stdout);
    crate::aws::metrics::init();
}

/// [`init`] with another writer (the benchmarks format log lines into a sink).
pub fn init_with_writer<W>(writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let level = level(
        std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().as_deref(),
        std::env::var("RUST_LOG").ok().as_deref(),
    );
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT")
        .is_ok_and(|format| format.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .without_time()
        .with_ansi(false)
        .with_writer(writer);
    // A second call (a test that starts twice) keeps the first subscriber.
    let _ = if json {
        builder.json().finish().with(targets(level)).try_init()
    } else {
        builder.finish().with(targets(level)).try_init()
    };
}

/// This crate's events at `level`; every other crate's at most at [`DEPENDENCY_MAX_LEVEL`].
fn targets(level: LevelFilter) -> Targets {
    Targets::new()
        .with_target(env!("CARGO_CRATE_NAME"), level)
        .with_default(level.min(DEPENDENCY_MAX_LEVEL))
}

/// The level Lambda's log-level control sets, else the one `RUST_LOG` names, else `INFO`. A value
/// that is empty or names no level is passed over, as if unset. Lambda's `FATAL` has no tracing level of its
/// own: it is `ERROR`, the most severe there is.
fn level(lambda_log_level: Option<&str>, rust_log: Option<&str>) -> LevelFilter {
    let parse = |name: &str| match name.trim() {
        // tracing reads "" as ERROR; an empty variable is an unset one here.
        "" => None,
        fatal if fatal.eq_ignore_ascii_case("fatal") => Some(LevelFilter::ERROR),
        name => LevelFilter::from_str(name).ok(),
    };
    lambda_log_level
        .and_then(parse)
        .or_else(|| rust_log.and_then(parse))
        .unwrap_or(LevelFilter::INFO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_never_log_below_info() {
        let enabled = |filter: &Targets, target: &str, level: tracing::Level| {
            filter.would_enable(target, &level)
        };
        let verbose = targets(LevelFilter::TRACE);
        assert!(enabled(
            &verbose,
            env!("CARGO_CRATE_NAME"),
            tracing::Level::TRACE
        ));
        assert!(enabled(
            &verbose,
            "shared::routes::get_token",
            tracing::Level::TRACE
        ));
        assert!(enabled(
            &verbose,
            "lambda_runtime::layers::api_response",
            tracing::Level::INFO
        ));
        assert!(!enabled(
            &verbose,
            "lambda_runtime::layers::api_response",
            tracing::Level::TRACE
        ));
        assert!(!enabled(&verbose, "hyper::proto", tracing::Level::DEBUG));
        assert!(!enabled(
            &verbose,
            "aws_smithy_runtime",
            tracing::Level::DEBUG
        ));
        let quiet = targets(LevelFilter::WARN);
        assert!(!enabled(&quiet, "lambda_runtime", tracing::Level::INFO));
        assert!(enabled(&quiet, "shared", tracing::Level::WARN));
    }

    #[test]
    fn lambda_control_then_rust_log_then_info() {
        assert_eq!(level(None, None), LevelFilter::INFO);
        assert_eq!(level(Some("DEBUG"), Some("error")), LevelFilter::DEBUG);
        assert_eq!(level(None, Some("warn")), LevelFilter::WARN);
        assert_eq!(level(Some(" trace "), None), LevelFilter::TRACE);
        assert_eq!(level(Some("FATAL"), None), LevelFilter::ERROR);
        assert_eq!(level(Some("fatal"), Some("debug")), LevelFilter::ERROR);
        // Names of no level are passed over, including RUST_LOG's per-module directives,
        // which this subscriber does not take.
        assert_eq!(level(Some("loud"), Some("debug")), LevelFilter::DEBUG);
        assert_eq!(level(None, Some("info,hyper=warn")), LevelFilter::INFO);
        assert_eq!(level(Some(""), Some("off")), LevelFilter::OFF);
    }
}
