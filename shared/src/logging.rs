//! The functions' log output, as Lambda's advanced logging controls ask for it: JSON lines when
//! `AWS_LAMBDA_LOG_FORMAT` is `JSON`, plain text otherwise (no colours: CloudWatch shows escape
//! codes as they are), at the level `AWS_LAMBDA_LOG_LEVEL` (or else `RUST_LOG`) names, `INFO`
//! by default.
//!
//! lambda_http's `tracing` feature does the same with tracing-subscriber's `EnvFilter`, which
//! brings a regex engine: some 0.3 MB of each binary for per-module filter directives these
//! functions have no use for. A level is all the controls set.

use std::str::FromStr;

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Installs the subscriber for the process, writing to stdout; call once, first thing in `main`.
pub fn init() {
    init_with_writer(std::io::stdout);
}

/// [`init`] with another writer (the benchmarks format log lines into a sink).
pub fn init_with_writer<W>(writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|name| LevelFilter::from_str(name.trim()).ok())
        .unwrap_or(LevelFilter::INFO);
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
