//! The mail of the partner portals: composing branded messages (a plain-text and an HTML
//! part from askama templates checked at compile time) and sending them through SMTP with
//! lettre (rustls on the ring provider).
//!
//! Composing ([`letter`]) is a pure function of the portal and the message; sending
//! ([`smtp`]) is the only I/O here. Which messages to send, and when, is the outbox's
//! business (the store enqueues them; `serve`'s sender drains them).
//!
//! **Architecture invariant:** no secret leaves this crate in text: the SMTP password is a
//! `Sensitive` that only the transport reads, and a send error's message is scrubbed of it
//! before it is returned (it becomes the outbox's `last_error`).

pub mod letter;
pub mod roster;
pub mod smtp;

pub use letter::{Branding, Composed, Letter, LetterKind};
pub use roster::{Links, RosterMailer};
pub use smtp::{Connection, Mailer, Outgoing, Security, SendError, SmtpSettings, SmtpSettingsError, SmtpUrl};
