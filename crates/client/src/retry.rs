//! Retrying transient failures: exponential backoff with full jitter, honouring
//! `Retry-After`, within a bounded total time. A target that cannot be reached at all
//! (connection refused, DNS failure) gets a much shorter budget than one that answers
//! "busy": a typo in `--target` should fail in seconds, not in a minute.

use std::time::{Duration, Instant};

/// How long and how often to retry.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// The first wait; doubled after each attempt.
    pub base: Duration,
    /// No single wait is longer than this.
    pub max_wait: Duration,
    /// Give up once this much time has passed since the first attempt.
    pub budget: Duration,
    /// Give up on an unreachable target once this much time has passed (`--retry-for`).
    pub unreachable_budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(200),
            max_wait: Duration::from_secs(10),
            budget: Duration::from_secs(60),
            unreachable_budget: Duration::from_secs(3),
        }
    }
}

impl RetryPolicy {
    /// The default policy, waiting up to `duration` for an unreachable target (and at
    /// least as long for a busy one).
    pub fn retrying_for(duration: Duration) -> Self {
        let default = Self::default();
        Self {
            unreachable_budget: duration,
            budget: default.budget.max(duration),
            ..default
        }
    }
}

/// The outcome of one attempt, as retrying sees it.
pub enum Attempt<T, E> {
    Done(T),
    /// A transient failure; `retry_after` is what the server asked for, if anything.
    Transient {
        error: E,
        retry_after: Option<Duration>,
    },
    /// The target could not be reached at all: retried within the unreachable budget.
    Unreachable(E),
    Fatal(E),
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` (0-based), jittered, capped.
    pub fn wait(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(asked) = retry_after {
            return asked.min(self.max_wait);
        }
        let exponential = self
            .base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_wait);
        // Full jitter: anywhere in [0, exponential], so clients that failed together spread out.
        let millis = u64::try_from(exponential.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(fastrand::u64(0..=millis))
    }

    /// Runs `attempt` until it is done, fails fatally, or the time budget runs out (then
    /// the last transient error is returned). `on_retry` hears about each retry.
    pub fn run<T, E>(
        &self,
        mut attempt: impl FnMut() -> Attempt<T, E>,
        mut on_retry: impl FnMut(&E, Duration),
    ) -> Result<T, E> {
        let started = Instant::now();
        let mut tries = 0;
        loop {
            match attempt() {
                Attempt::Done(value) => return Ok(value),
                Attempt::Fatal(error) => return Err(error),
                Attempt::Unreachable(error) => {
                    let wait = self.wait(tries, None);
                    if started.elapsed() + wait > self.unreachable_budget.min(self.budget) {
                        return Err(error);
                    }
                    on_retry(&error, wait);
                    std::thread::sleep(wait);
                    tries += 1;
                }
                Attempt::Transient { error, retry_after } => {
                    let wait = self.wait(tries, retry_after);
                    if started.elapsed() + wait > self.budget {
                        return Err(error);
                    }
                    on_retry(&error, wait);
                    std::thread::sleep(wait);
                    tries += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick() -> RetryPolicy {
        RetryPolicy {
            base: Duration::from_millis(1),
            max_wait: Duration::from_millis(5),
            budget: Duration::from_secs(2),
            unreachable_budget: Duration::from_millis(50),
        }
    }

    #[test]
    fn gives_up_on_an_unreachable_target_within_its_shorter_budget() {
        let started = Instant::now();
        let mut calls = 0;
        let result: Result<u32, &str> = quick().run(
            || {
                calls += 1;
                Attempt::Unreachable("connection refused")
            },
            |_, _| {},
        );
        assert_eq!(result, Err("connection refused"));
        assert!(calls >= 2, "retried at least once, got {calls} calls");
        // Far below the 2 s budget for busy targets.
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn retrying_for_widens_both_budgets() {
        let policy = RetryPolicy::retrying_for(Duration::from_secs(120));
        assert_eq!(policy.unreachable_budget, Duration::from_secs(120));
        assert_eq!(policy.budget, Duration::from_secs(120));
        let short = RetryPolicy::retrying_for(Duration::from_secs(1));
        assert_eq!(short.budget, RetryPolicy::default().budget);
    }

    #[test]
    fn retries_transient_failures_until_success() {
        let mut calls = 0;
        let result: Result<u32, &str> = quick().run(
            || {
                calls += 1;
                if calls < 4 {
                    Attempt::Transient {
                        error: "503",
                        retry_after: None,
                    }
                } else {
                    Attempt::Done(7)
                }
            },
            |_, _| {},
        );
        assert_eq!(result, Ok(7));
        assert_eq!(calls, 4);
    }

    #[test]
    fn fatal_errors_fail_fast() {
        let mut calls = 0;
        let result: Result<u32, &str> = quick().run(
            || {
                calls += 1;
                Attempt::Fatal("422")
            },
            |_, _| {},
        );
        assert_eq!(result, Err("422"));
        assert_eq!(calls, 1);
    }

    #[test]
    fn gives_up_when_the_budget_is_spent() {
        let policy = RetryPolicy {
            budget: Duration::from_millis(30),
            ..quick()
        };
        let result: Result<u32, &str> = policy.run(
            || Attempt::Transient {
                error: "503",
                retry_after: Some(Duration::from_millis(5)),
            },
            |_, _| {},
        );
        assert_eq!(result, Err("503"));
    }

    #[test]
    fn honours_retry_after_within_the_cap() {
        let policy = quick();
        assert_eq!(
            policy.wait(0, Some(Duration::from_millis(3))),
            Duration::from_millis(3)
        );
        assert_eq!(
            policy.wait(0, Some(Duration::from_secs(60))),
            Duration::from_millis(5)
        );
        assert!(policy.wait(10, None) <= Duration::from_millis(5));
    }
}
