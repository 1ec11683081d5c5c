//! The outbox: mail waiting to be sent, kept in the store beside the state.
//!
//! A message is written in the same transaction as the change that causes it
//! ([`crate::Store::commit_with_mail`]) or on its own ([`crate::Store::enqueue`]), then a
//! sender claims due messages ([`crate::Store::claim_outbox`]), sends them and marks each
//! sent or failed. Claiming leases a message (its `next_attempt_at` moves to the end of the
//! lease and `attempts` grows by one) in one statement, so several replicas never claim the
//! same message at once, and a sender that dies mid-send leaves it to be claimed again when
//! the lease ends: delivery is at least once.
//!
//! **Architecture invariant:** nothing of the outbox is part of the declarative state: it
//! never appears in `GET /v1/state`, plans, drift, import or the audit log.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::StoreError;

/// Why a message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// A one-time sign-in link for a partner page.
    SignInLink,
    /// The link that verifies an address given on the sign-up page.
    SignUpVerification,
    /// A member was added by `apply` or the API.
    Invitation,
    /// A self-registration awaiting approval was approved or refused.
    Approval,
    /// A member lost access to the portal.
    AccessRemoved,
}

impl MailKind {
    pub const ALL: [Self; 5] = [
        Self::SignInLink,
        Self::SignUpVerification,
        Self::Invitation,
        Self::Approval,
        Self::AccessRemoved,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignInLink => "sign_in_link",
            Self::SignUpVerification => "sign_up_verification",
            Self::Invitation => "invitation",
            Self::Approval => "approval",
            Self::AccessRemoved => "access_removed",
        }
    }

    #[must_use]
    pub fn from_wire(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// A message to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// The technical name of the portal the message is about.
    pub portal: String,
    pub recipient: String,
    pub kind: MailKind,
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OutboxMessage {
    /// Grows with each message enqueued: a later message has a larger id.
    pub id: u64,
    pub portal: String,
    pub recipient: String,
    pub kind: MailKind,
    pub subject: String,
    pub text: String,
    pub html: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String")]
    pub created_at: OffsetDateTime,
    /// How many times a sender claimed it.
    pub attempts: u32,
    /// When a sender may next claim it (unsent messages only).
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String")]
    pub next_attempt_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schemars(with = "Option<String>")]
    pub sent_at: Option<OffsetDateTime>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// Which messages [`crate::Store::outbox`] lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxQuery {
    /// Only messages with an id below this one (the page after one ending there).
    pub before: Option<u64>,
    /// At most this many messages.
    pub limit: usize,
    /// Only messages not sent yet.
    pub unsent_only: bool,
    /// Only messages of this portal.
    pub portal: Option<String>,
    /// Only messages to this address.
    pub recipient: Option<String>,
}

impl Default for OutboxQuery {
    fn default() -> Self {
        Self {
            before: None,
            limit: 100,
            unsent_only: false,
            portal: None,
            recipient: None,
        }
    }
}

/// Milliseconds since the Unix epoch, as stored.
pub(crate) fn to_millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub(crate) fn from_millis(millis: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).map_err(|error| {
        StoreError::Corrupt {
            kind: "outbox time".into(),
            key: millis.to_string(),
            message: error.to_string(),
        }
    })
}

pub(crate) fn now_millis() -> i64 {
    to_millis(OffsetDateTime::now_utc())
}

/// The columns every read of a message selects, in [`MessageRow`]'s order.
pub(crate) const COLUMNS: &str = "id, portal, recipient, kind, subject, text_body, html_body, created_at, \
                                  attempts, next_attempt_at, sent_at, last_error";

/// A stored row before its kind and times are checked.
pub(crate) struct MessageRow {
    pub id: i64,
    pub portal: String,
    pub recipient: String,
    pub kind: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub created_at: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub sent_at: Option<i64>,
    pub last_error: Option<String>,
}

impl MessageRow {
    pub(crate) fn into_message(self) -> Result<OutboxMessage, StoreError> {
        let kind = MailKind::from_wire(&self.kind).ok_or_else(|| StoreError::Corrupt {
            kind: "outbox message".into(),
            key: self.id.to_string(),
            message: format!("unknown kind `{}`", self.kind),
        })?;
        Ok(OutboxMessage {
            id: u64::try_from(self.id).unwrap_or(0),
            portal: self.portal,
            recipient: self.recipient,
            kind,
            subject: self.subject,
            text: self.text,
            html: self.html,
            created_at: from_millis(self.created_at)?,
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
            next_attempt_at: from_millis(self.next_attempt_at)?,
            sent_at: self.sent_at.map(from_millis).transpose()?,
            last_error: self.last_error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_wire_names() {
        for kind in MailKind::ALL {
            assert_eq!(MailKind::from_wire(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::String(kind.as_str().into())
            );
        }
        assert_eq!(MailKind::from_wire("spam"), None);
    }

    #[test]
    fn times_keep_milliseconds() {
        let at = time::macros::datetime!(2026-12-07 04:35:01.123 UTC);
        assert_eq!(from_millis(to_millis(at)).unwrap(), at);
    }
}
