//! The time an invocation has left: Lambda kills a function at its deadline
//! (`Lambda-Runtime-Deadline-Ms`, lambda_runtime's `Context::deadline`), with no log line and no
//! answer. Each call on a path that must finish (the webhook's: a key fetch, `PutEvents`, then
//! the fallback queue) takes its timeout from what is left, keeping what the calls after it need,
//! so that the last one (the queue) always has its time before the deadline.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use lambda_http::lambda_runtime::Context;

use crate::aws::environment::OPERATION_TIMEOUT;

/// Kept at the end of every budget for the answer to leave the function.
pub(crate) const ANSWER_MARGIN: Duration = Duration::from_millis(250);
/// Kept at the end of a whole request's bound ([`Budget::bound`]): less than [`ANSWER_MARGIN`],
/// so that a call that keeps to its budget always ends first and is never cut short by it.
const BOUND_MARGIN: Duration = Duration::from_millis(100);
/// What a send to the fallback queue is given, kept by every call before it.
pub(crate) const QUEUE_SEND_RESERVE: Duration = Duration::from_secs(2);

/// When the invocation ends, if known (a handler called outside Lambda has no deadline, and its
/// calls get their usual timeouts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    deadline: Option<Instant>,
}

/// A call the budget had no time for, or that ran out of the time it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no time left before the invocation's deadline (given {given:?})")]
pub struct OutOfTime {
    pub given: Duration,
}

impl Budget {
    /// No deadline: every call gets its usual timeout.
    pub fn unbounded() -> Self {
        Self { deadline: None }
    }

    /// Ends at `deadline`.
    pub fn until(deadline: Instant) -> Self {
        Self {
            deadline: Some(deadline),
        }
    }

    /// The deadline Lambda gave the invocation. One that has passed as the invocation starts is
    /// none that Lambda gives: lambda_runtime's `Context::default()` has 0, and `cargo lambda
    /// watch` sends its own timeout (600000) where Lambda sends a time. Those get no budget.
    pub fn from_context(context: Option<&Context>) -> Self {
        let now = (Instant::now(), SystemTime::now());
        match context.map(|context| context.deadline().duration_since(now.1)) {
            Some(Ok(left)) => Self::until(now.0 + left),
            Some(Err(_)) => {
                tracing::warn!(
                    deadline_ms = context.map(|context| context.deadline),
                    "the invocation's deadline has passed as it starts: not Lambda's; no budget"
                );
                Self::unbounded()
            }
            None => Self::unbounded(),
        }
    }

    /// The timeout of a call made now that must leave `keep` to the calls after it (and
    /// [`ANSWER_MARGIN`] to the answer): what is left, at most `usual`; `None` when nothing is.
    pub fn timeout(&self, keep: Duration, usual: Duration) -> Option<Duration> {
        self.timeout_at(Instant::now(), keep, usual)
    }

    fn timeout_at(&self, now: Instant, keep: Duration, usual: Duration) -> Option<Duration> {
        let Some(deadline) = self.deadline else {
            return Some(usual);
        };
        deadline
            .checked_duration_since(now)?
            .checked_sub(keep + ANSWER_MARGIN)
            .filter(|left| !left.is_zero())
            .map(|left| left.min(usual))
    }

    /// Runs `call` within [`Budget::timeout`] (of `usual`, keeping `keep`); `OutOfTime` when there
    /// was no time for it or it ran out.
    pub async fn run<T>(
        &self,
        keep: Duration,
        usual: Duration,
        call: impl Future<Output = T>,
    ) -> Result<T, OutOfTime> {
        let given = self.timeout(keep, usual).ok_or(OutOfTime {
            given: Duration::ZERO,
        })?;
        tokio::time::timeout(given, call)
            .await
            .map_err(|_| OutOfTime { given })
    }

    /// [`Budget::run`] with the AWS clients' usual operation timeout.
    pub async fn run_aws<T>(
        &self,
        keep: Duration,
        call: impl Future<Output = T>,
    ) -> Result<T, OutOfTime> {
        self.run(keep, OPERATION_TIMEOUT, call).await
    }

    /// Runs `call` to its end or until the deadline less [`BOUND_MARGIN`], whichever comes
    /// first: the bound of a whole request, so that Lambda never stops one without an answer.
    /// Without a deadline, `call` runs to its end.
    pub async fn bound<T>(&self, call: impl Future<Output = T>) -> Result<T, OutOfTime> {
        let Some(deadline) = self.deadline else {
            return Ok(call.await);
        };
        let end = deadline.checked_sub(BOUND_MARGIN).unwrap_or(deadline);
        let given = end.saturating_duration_since(Instant::now());
        tokio::time::timeout_at(end.into(), call)
            .await
            .map_err(|_| OutOfTime { given })
    }

    /// How long until the deadline, if there is one.
    pub fn left(&self) -> Option<Duration> {
        self.deadline
            .map(|deadline| deadline.saturating_duration_since(Instant::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USUAL: Duration = Duration::from_secs(5);

    #[test]
    fn a_call_never_gets_past_the_deadline_less_what_it_must_keep() {
        let now = Instant::now();
        let budget = Budget::until(now + Duration::from_secs(10));
        // Far from the deadline: the usual timeout.
        assert_eq!(
            budget.timeout_at(now, QUEUE_SEND_RESERVE, USUAL),
            Some(USUAL)
        );
        // Near it: what is left, less what is kept.
        let later = now + Duration::from_secs(6);
        assert_eq!(
            budget.timeout_at(later, QUEUE_SEND_RESERVE, USUAL),
            Some(Duration::from_secs(4) - QUEUE_SEND_RESERVE - ANSWER_MARGIN)
        );
        assert_eq!(
            budget.timeout_at(later, Duration::ZERO, USUAL),
            Some(Duration::from_secs(4) - ANSWER_MARGIN)
        );
        // Nothing left once what must be kept is all that remains, or past the deadline.
        let near = now + Duration::from_secs(10) - QUEUE_SEND_RESERVE - ANSWER_MARGIN;
        assert_eq!(budget.timeout_at(near, QUEUE_SEND_RESERVE, USUAL), None);
        assert_eq!(
            budget.timeout_at(now + Duration::from_secs(11), Duration::ZERO, USUAL),
            None
        );
        assert_eq!(
            Budget::unbounded().timeout_at(now, QUEUE_SEND_RESERVE, USUAL),
            Some(USUAL)
        );
    }

    #[test]
    fn the_deadline_is_lambdas() {
        let mut context = Context::default();
        assert_eq!(Budget::from_context(Some(&context)), Budget::unbounded());
        assert_eq!(Budget::from_context(None), Budget::unbounded());
        // What `cargo lambda watch` 1.9 sends: its timeout, not a time.
        context.deadline = 600_000;
        assert_eq!(Budget::from_context(Some(&context)), Budget::unbounded());
        let in_three_seconds = SystemTime::now() + Duration::from_secs(3);
        context.deadline = in_three_seconds
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let left = Budget::from_context(Some(&context))
            .left()
            .expect("a deadline");
        assert!(left <= Duration::from_secs(3), "{left:?}");
        assert!(left > Duration::from_secs(1), "{left:?}");
    }
}
