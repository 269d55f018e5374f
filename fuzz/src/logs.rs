//! The log lines a call writes, caught by a subscriber of this thread alone: the moderation
//! backend's audit line is how the targets see that it was asked to act (the local backend
//! records no calls), and every line is where a token must never be.

use std::cell::RefCell;
use std::fmt::Debug;
use std::sync::OnceLock;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};

/// One event: its message and every other field, as text.
#[derive(Debug, Clone, Default)]
pub struct LogLine {
    pub message: String,
    pub fields: Vec<(&'static str, String)>,
}

impl LogLine {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| *field == name)
            .map(|(_, value)| value.as_str())
    }

    /// The message and every field value, for a search through all of them.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.message.as_str()).chain(self.fields.iter().map(|(_, v)| v.as_str()))
    }
}

thread_local! {
    static CAUGHT: RefCell<Vec<LogLine>> = const { RefCell::new(Vec::new()) };
}

/// Keeps every event of the thread it is the default of; spans are ignored.
struct Catcher;

impl Visit for LogLine {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.record_text(field, format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.record_text(field, value.to_owned());
    }
}

impl LogLine {
    fn record_text(&mut self, field: &Field, text: String) {
        if field.name() == "message" {
            self.message = text;
        } else {
            self.fields.push((field.name(), text));
        }
    }
}

impl Subscriber for Catcher {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        // Asked again for each dispatcher: the other threads' (none) see nothing here.
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_event()
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = LogLine::default();
        event.record(&mut line);
        CAUGHT.with(|caught| caught.borrow_mut().push(line));
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// Runs `call` with every log event it writes on this thread caught, and returns them.
pub fn caught<T>(call: impl FnOnce() -> T) -> (T, Vec<LogLine>) {
    // One dispatcher for the process: each new one makes tracing ask every callsite again.
    static DISPATCH: OnceLock<tracing::Dispatch> = OnceLock::new();
    let dispatch = DISPATCH.get_or_init(|| tracing::Dispatch::new(Catcher));
    CAUGHT.with(|caught| caught.borrow_mut().clear());
    let value = tracing::dispatcher::with_default(dispatch, call);
    (value, CAUGHT.with(|caught| caught.take()))
}
