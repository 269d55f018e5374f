//! The functions' log output, as Lambda's advanced logging controls ask for it: JSON lines when
//! `AWS_LAMBDA_LOG_FORMAT` is `JSON`, plain text otherwise (no colours: CloudWatch shows escape
//! codes as they are), at the level `AWS_LAMBDA_LOG_LEVEL` (or else `RUST_LOG`) names, `INFO`
//! by default.
//!
//! lambda_http's `tracing` feature does the same with tracing-subscriber's `EnvFilter`, which
//! brings a regex engine into each binary (docs/performance.md) for per-module filter directives these
//! functions have no use for. A level is all the controls set.

use std::str::FromStr;

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;

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
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .without_time()
        .with_ansi(false)
        .with_writer(writer);
    // A second call (a test that starts twice) keeps the first subscriber.
    let _ = if json {
        subscriber.json().try_init()
    } else {
        subscriber.try_init()
    };
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
