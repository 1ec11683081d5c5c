//! Retrying transient failures: exponential backoff with full jitter, honouring
//! `Retry-After`, within a bounded total time.

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
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(200),
            max_wait: Duration::from_secs(10),
            budget: Duration::from_secs(60),
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
        }
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
