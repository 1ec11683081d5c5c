//! The outbox's sender: threads that claim due messages from the store, send them through
//! SMTP and mark each sent, or failed with the time of the next attempt.
//!
//! # Guarantees
//! - **At least once.** A message is marked sent only after the SMTP server accepted it
//!   (a thread marks its claimed batch in one statement once it went through); a sender
//!   that dies between the two (a `kill -9`) leaves them leased, and they are claimed and
//!   sent again when the lease ends. So at most the messages in flight at a crash (each
//!   thread's claimed batch) are sent twice, each time with the same `Message-ID`.
//! - **Few round trips.** Each thread keeps one SMTP connection open across messages
//!   ([`portalctl_mail::Connection`]); a message costs its four SMTP exchanges, a share of
//!   one claim and a share of one "sent" statement.
//! - **One sender per message across replicas.** Claiming leases messages in one statement
//!   (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the single writer on SQLite), so replicas
//!   and threads claim disjoint messages.
//! - **Bounded retries.** A failed attempt is retried after an exponential backoff with
//!   jitter, up to [`SenderSettings::max_attempts`]; a permanent refusal (a 5xx to the
//!   recipient) or the last attempt gives up: the message stays unsent with its
//!   `last_error` and is never claimed again. `last_error` holds no secret.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use portalctl_mail::{Composed, Connection, Mailer, Outgoing, SmtpSettings};
use portalctl_store::{OutboxMessage, Store};
use time::OffsetDateTime;

/// How the sender works.
#[derive(Debug, Clone)]
pub struct SenderSettings {
    pub smtp: SmtpSettings,
    /// Threads sending at once (each holds one SMTP connection).
    pub threads: usize,
    /// Messages one thread claims at a time: what a crash may send twice.
    pub batch: usize,
    /// How long a claim lasts before another sender may take the message.
    pub lease: Duration,
    /// The wait before the second attempt; each later one doubles it (with jitter).
    pub retry_base: Duration,
    /// The longest wait between two attempts.
    pub retry_max: Duration,
    /// Attempts before a message is given up.
    pub max_attempts: u32,
    /// How long an idle thread waits before looking for due messages again.
    pub poll: Duration,
}

impl SenderSettings {
    pub fn new(smtp: SmtpSettings) -> Self {
        Self {
            smtp,
            threads: 4,
            batch: 16,
            lease: Duration::from_secs(120),
            retry_base: Duration::from_secs(2),
            retry_max: Duration::from_secs(15 * 60),
            max_attempts: 10,
            poll: Duration::from_millis(250),
        }
    }

    /// The wait after failed attempt number `attempt` (1 for the first): `retry_base ×
    /// 2^(attempt-1)`, at most `retry_max`, of which a random half is taken off ("equal
    /// jitter"), so replicas retrying the same failure spread out.
    pub fn backoff(&self, attempt: u32, random: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(30);
        let full = self
            .retry_base
            .saturating_mul(1u32 << exponent)
            .min(self.retry_max);
        full.mul_f64(0.5 + 0.5 * random.clamp(0.0, 1.0))
    }
}

/// The running sender threads.
pub struct Sender {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Sender {
    /// Starts `settings.threads` threads sending `store`'s outbox.
    ///
    /// # Errors
    /// SMTP settings that cannot work (a bad sender address, unreadable CA certificates).
    pub fn start(
        store: Arc<dyn OutboxStore>,
        settings: SenderSettings,
    ) -> Result<Self, portalctl_mail::SmtpSettingsError> {
        let mailer = Arc::new(Mailer::new(&settings.smtp)?);
        let settings = Arc::new(settings);
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for index in 0..settings.threads.max(1) {
            let (store, mailer, settings, stop) = (
                Arc::clone(&store),
                Arc::clone(&mailer),
                Arc::clone(&settings),
                Arc::clone(&stop),
            );
            let thread = std::thread::Builder::new()
                .name(format!("mail-sender-{index}"))
                .spawn(move || run(&*store, &mailer, &settings, &stop));
            match thread {
                Ok(thread) => threads.push(thread),
                Err(error) => tracing::error!(%error, "cannot start a mail sender thread"),
            }
        }
        Ok(Self { stop, threads })
    }

    /// Stops the threads after the messages they are sending.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}

/// What the sender needs of the store (the store itself, behind the service's `App`).
pub trait OutboxStore: Send + Sync {
    fn store(&self) -> &Store;
    /// The display name of portal `technical_name` (the `From:` name).
    fn portal_name(&self, technical_name: &str) -> Option<String> {
        self.store()
            .published()
            .state
            .portals
            .get(technical_name)
            .map(|portal| portal.name.clone())
    }
}

impl OutboxStore for crate::App {
    fn store(&self) -> &Store {
        &self.store
    }
}

fn run(store: &dyn OutboxStore, mailer: &Mailer, settings: &SenderSettings, stop: &AtomicBool) {
    let hello = settings.smtp.hello_name.clone();
    // This thread's own SMTP connection, kept across messages and batches.
    let mut connection = mailer.connection();
    let mut sent = Vec::with_capacity(settings.batch);
    while !stop.load(Ordering::Relaxed) {
        let claimed =
            match store
                .store()
                .claim_outbox(OffsetDateTime::now_utc(), settings.lease, settings.batch)
            {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(%error, "cannot read the outbox");
                    std::thread::sleep(settings.poll.max(Duration::from_secs(1)));
                    continue;
                }
            };
        if claimed.is_empty() {
            std::thread::sleep(settings.poll);
            continue;
        }
        for message in claimed {
            if send_one(store, &mut connection, settings, &hello, &message) {
                sent.push(message.id);
            }
        }
        // The batch is marked sent in one statement. A crash before it leaves the batch
        // leased, and it is sent again when the lease ends: what may be sent twice is still
        // at most what this thread claimed.
        if let Err(error) = store.store().mark_all_sent(&sent, OffsetDateTime::now_utc()) {
            tracing::warn!(count = sent.len(), %error, "cannot record that mail was sent");
        }
        sent.clear();
    }
}

/// Sends one message; `true` when the SMTP server accepted it (the caller marks it sent),
/// otherwise it is marked failed here.
fn send_one(
    store: &dyn OutboxStore,
    connection: &mut Connection<'_>,
    settings: &SenderSettings,
    hello: &str,
    message: &OutboxMessage,
) -> bool {
    let from_name = store
        .portal_name(&message.portal)
        .unwrap_or_else(|| message.portal.clone());
    let composed = Composed {
        subject: message.subject.clone(),
        text: message.text.clone(),
        html: message.html.clone(),
    };
    let message_id = format!(
        "outbox-{}.{}@{hello}",
        message.id,
        message.created_at.unix_timestamp()
    );
    let outcome = connection.send(&Outgoing {
        to: &message.recipient,
        from_name: &from_name,
        message_id: &message_id,
        composed: &composed,
    });
    let now = OffsetDateTime::now_utc();
    let marked = match outcome {
        Ok(()) => {
            tracing::info!(id = message.id, kind = message.kind.as_str(), portal = %message.portal, "mail sent");
            return true;
        }
        Err(error) if error.permanent || message.attempts >= settings.max_attempts => {
            let why = format!("gave up after {} attempt(s): {}", message.attempts, error.message);
            tracing::warn!(id = message.id, error = %why, "mail not sent");
            store.store().mark_failed(message.id, &why, never())
        }
        Err(error) => {
            let wait = settings.backoff(message.attempts, fastrand::f64());
            tracing::warn!(
                id = message.id,
                attempt = message.attempts,
                retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                error = %error.message,
                "mail not sent; will retry"
            );
            store.store().mark_failed(message.id, &error.message, now + wait)
        }
    };
    if let Err(error) = marked {
        // The lease ends and the message is claimed again: sent twice at worst.
        tracing::warn!(id = message.id, %error, "cannot record the outcome of a mail");
    }
    false
}

/// The next attempt of a message given up: never (year 9999).
fn never() -> OffsetDateTime {
    time::macros::datetime!(9999-12-31 0:00 UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SenderSettings {
        SenderSettings::new(SmtpSettings {
            url: "smtp://127.0.0.1:1".parse().unwrap(),
            credentials: None,
            from: "no-reply@localhost".into(),
            hello_name: "localhost".into(),
            extra_roots_pem: None,
            timeout: Duration::from_secs(1),
        })
    }

    #[test]
    fn backs_off_exponentially_with_jitter_up_to_a_bound() {
        let settings = settings();
        assert_eq!(settings.backoff(1, 1.0), Duration::from_secs(2));
        assert_eq!(settings.backoff(1, 0.0), Duration::from_secs(1));
        assert_eq!(settings.backoff(3, 1.0), Duration::from_secs(8));
        assert_eq!(settings.backoff(30, 1.0), settings.retry_max);
        assert_eq!(settings.backoff(u32::MAX, 0.0), settings.retry_max / 2);
        for attempt in 1..12 {
            for random in [0.0, 0.3, 0.99] {
                let wait = settings.backoff(attempt, random);
                assert!(wait <= settings.backoff(attempt, 1.0));
                assert!(wait >= settings.backoff(attempt, 1.0) / 2);
            }
        }
    }
}
