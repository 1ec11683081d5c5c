//! What partner sign-in keeps in the store: one-time link tokens, sessions, TOTP
//! enrolments and recovery codes. Stored beside the state, never in it: none of it
//! appears in `GET /v1/state`, plans, drift, import or the audit log.
//!
//! Secrets the service hands out (link tokens, session tokens, recovery codes) are stored
//! only as their SHA-256, hex-encoded: a copy of the database signs no one in. TOTP keys
//! must be kept to check codes; they live in a table of their own.
//!
//! Every write is one statement, so it is atomic on both backends and across replicas: a
//! link is used up by an `UPDATE ... WHERE used_at IS NULL ... RETURNING`, which only one
//! request can win. The SQL is written once, for both dialects (`$n` parameters in order
//! of first use; SQLite reads them as `?n`).

use time::OffsetDateTime;

use crate::outbox::{from_millis, to_millis};
use crate::{NewMessage, Store, StoreError};

/// The tables, the same in both dialects (`BIGINT` is SQLite's `INTEGER`).
pub(crate) const TABLES: &str = "
    CREATE TABLE link_tokens (
        hash TEXT PRIMARY KEY,
        portal TEXT NOT NULL,
        email TEXT NOT NULL,
        purpose TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        used_at BIGINT
    );
    CREATE INDEX link_tokens_by_expiry ON link_tokens (expires_at);
    CREATE TABLE sessions (
        hash TEXT PRIMARY KEY,
        portal TEXT NOT NULL,
        email TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        second_factor BIGINT NOT NULL,
        first_login BIGINT NOT NULL
    );
    CREATE INDEX sessions_by_member ON sessions (portal, email);
    CREATE INDEX sessions_by_expiry ON sessions (expires_at);
    CREATE TABLE sign_ins (
        portal TEXT NOT NULL,
        email TEXT NOT NULL,
        first_at BIGINT NOT NULL,
        PRIMARY KEY (portal, email)
    );
    CREATE TABLE totp (
        portal TEXT NOT NULL,
        email TEXT NOT NULL,
        secret TEXT NOT NULL,
        confirmed_at BIGINT,
        last_step BIGINT NOT NULL,
        PRIMARY KEY (portal, email)
    );
    CREATE TABLE recovery_codes (
        portal TEXT NOT NULL,
        email TEXT NOT NULL,
        hash TEXT NOT NULL,
        used_at BIGINT,
        PRIMARY KEY (portal, email, hash)
    );";

/// A value bound to or read from a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlValue {
    Int(Option<i64>),
    Text(Option<String>),
}

impl SqlValue {
    pub(crate) fn text(text: &str) -> Self {
        Self::Text(Some(text.to_string()))
    }

    pub(crate) fn int(value: i64) -> Self {
        Self::Int(Some(value))
    }

    fn as_int(&self) -> Option<i64> {
        match self {
            Self::Int(value) => *value,
            Self::Text(_) => None,
        }
    }

    fn into_text(self) -> Option<String> {
        match self {
            Self::Text(text) => text,
            Self::Int(_) => None,
        }
    }
}

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    SignIn,
    /// Verifies the address of a sign-up; the payload holds the registration.
    SignUp,
}

impl LinkPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::SignUp => "sign_up",
        }
    }

    fn from_wire(text: &str) -> Option<Self> {
        match text {
            "sign_in" => Some(Self::SignIn),
            "sign_up" => Some(Self::SignUp),
            _ => None,
        }
    }
}

/// A link token as stored (its hash, never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkToken {
    /// The SHA-256 of the token, hex.
    pub hash: String,
    pub portal: String,
    pub email: String,
    pub purpose: LinkPurpose,
    /// What the link carries (JSON; a sign-up's attributes), empty for a sign-in.
    pub payload: String,
    pub expires_at: OffsetDateTime,
}

/// The outcome of following a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkUse {
    /// The link was valid and is now used up.
    Used(LinkToken),
    /// The link was used before.
    AlreadyUsed,
    /// The link belongs to another portal: it was not used up.
    OtherPortal,
    Expired,
    Unknown,
}

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The SHA-256 of the session token, hex.
    pub hash: String,
    pub portal: String,
    pub email: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// Whether the second factor was given (or none was needed).
    pub second_factor: bool,
    /// Whether this is the partner's first sign-in to the portal and the first-login text
    /// was not shown yet.
    pub first_login: bool,
}

/// A partner's authenticator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totp {
    /// The key, base32.
    pub secret: String,
    /// Whether a code confirmed the enrolment.
    pub confirmed: bool,
    /// The last time step a code was accepted for (a code is accepted once).
    pub last_step: i64,
}

const LINK_COLUMNS: &str = "hash, portal, email, purpose, payload, expires_at, used_at";
const SESSION_COLUMNS: &str = "hash, portal, email, created_at, expires_at, second_factor, first_login";

pub(crate) fn corrupt(kind: &str, message: &str) -> StoreError {
    StoreError::Corrupt {
        kind: kind.into(),
        key: String::new(),
        message: message.into(),
    }
}

pub(crate) fn text_at(row: &mut [SqlValue], at: usize, kind: &str) -> Result<String, StoreError> {
    std::mem::replace(&mut row[at], SqlValue::Text(None))
        .into_text()
        .ok_or_else(|| corrupt(kind, "a text column is missing"))
}

pub(crate) fn int_at(row: &[SqlValue], at: usize, kind: &str) -> Result<i64, StoreError> {
    row[at]
        .as_int()
        .ok_or_else(|| corrupt(kind, "a number column is missing"))
}

fn link_of(mut row: Vec<SqlValue>) -> Result<(LinkToken, Option<i64>), StoreError> {
    let purpose = text_at(&mut row, 3, "link token")?;
    let token = LinkToken {
        hash: text_at(&mut row, 0, "link token")?,
        portal: text_at(&mut row, 1, "link token")?,
        email: text_at(&mut row, 2, "link token")?,
        purpose: LinkPurpose::from_wire(&purpose)
            .ok_or_else(|| corrupt("link token", &format!("unknown purpose `{purpose}`")))?,
        payload: text_at(&mut row, 4, "link token")?,
        expires_at: from_millis(int_at(&row, 5, "link token")?)?,
    };
    Ok((token, row[6].as_int()))
}

fn session_of(mut row: Vec<SqlValue>) -> Result<Session, StoreError> {
    Ok(Session {
        hash: text_at(&mut row, 0, "session")?,
        portal: text_at(&mut row, 1, "session")?,
        email: text_at(&mut row, 2, "session")?,
        created_at: from_millis(int_at(&row, 3, "session")?)?,
        expires_at: from_millis(int_at(&row, 4, "session")?)?,
        second_factor: int_at(&row, 5, "session")? != 0,
        first_login: int_at(&row, 6, "session")? != 0,
    })
}

const INSERT_LINK: &str =
    "INSERT INTO link_tokens (hash, portal, email, purpose, payload, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

fn link_params(link: &LinkToken, now: OffsetDateTime) -> [SqlValue; 7] {
    [
        SqlValue::text(&link.hash),
        SqlValue::text(&link.portal),
        SqlValue::text(&link.email),
        SqlValue::text(link.purpose.as_str()),
        SqlValue::text(&link.payload),
        SqlValue::int(to_millis(now)),
        SqlValue::int(to_millis(link.expires_at)),
    ]
}

impl Store {
    /// Stores a new link token (by its hash).
    ///
    /// # Errors
    /// Storage errors (a hash already stored, which 256 random bits never give).
    pub fn create_link(&self, link: &LinkToken, now: OffsetDateTime) -> Result<(), StoreError> {
        self.backend.sql_execute(INSERT_LINK, &link_params(link, now))?;
        Ok(())
    }

    /// Stores a new link token (by its hash) and enqueues `mail`, the message that carries
    /// the link, in one transaction: a link is never stored without its mail, nor a mail
    /// queued for a link that was not stored.
    ///
    /// # Errors
    /// Storage errors (of either; then neither is stored).
    pub fn create_link_with_mail(
        &self,
        link: &LinkToken,
        now: OffsetDateTime,
        mail: &[NewMessage],
    ) -> Result<Vec<u64>, StoreError> {
        self.backend
            .enqueue_with(mail, INSERT_LINK, &link_params(link, now))
    }

    /// Uses up the link of `portal` whose hash is `hash`, if it is unused and unexpired at
    /// `now`: of any number of requests (on any replica) following one link, one gets
    /// [`LinkUse::Used`]. A link followed on another portal's page is not used up.
    ///
    /// # Errors
    /// Storage errors; a malformed row.
    pub fn use_link(&self, hash: &str, portal: &str, now: OffsetDateTime) -> Result<LinkUse, StoreError> {
        let now = to_millis(now);
        let mut rows = self.backend.sql_query(
            &format!(
                "UPDATE link_tokens SET used_at = $2
                 WHERE hash = $1 AND used_at IS NULL AND expires_at > $2 AND portal = $3
                 RETURNING {LINK_COLUMNS}"
            ),
            &[SqlValue::text(hash), SqlValue::int(now), SqlValue::text(portal)],
        )?;
        if let Some(row) = rows.pop() {
            return Ok(LinkUse::Used(link_of(row)?.0));
        }
        let mut rows = self.backend.sql_query(
            &format!("SELECT {LINK_COLUMNS} FROM link_tokens WHERE hash = $1"),
            &[SqlValue::text(hash)],
        )?;
        Ok(match rows.pop().map(link_of).transpose()? {
            None => LinkUse::Unknown,
            Some((link, _)) if link.portal != portal => LinkUse::OtherPortal,
            Some((_, Some(_))) => LinkUse::AlreadyUsed,
            Some((_, None)) => LinkUse::Expired,
        })
    }

    /// Stores a new session; marks it the first sign-in when the partner never signed in to
    /// the portal before.
    ///
    /// # Errors
    /// Storage errors.
    pub fn create_session(&self, session: &Session) -> Result<Session, StoreError> {
        let first = self.backend.sql_execute(
            "INSERT INTO sign_ins (portal, email, first_at) VALUES ($1, $2, $3)
             ON CONFLICT (portal, email) DO NOTHING",
            &[
                SqlValue::text(&session.portal),
                SqlValue::text(&session.email),
                SqlValue::int(to_millis(session.created_at)),
            ],
        )? > 0;
        self.backend.sql_execute(
            &format!("INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
            &[
                SqlValue::text(&session.hash),
                SqlValue::text(&session.portal),
                SqlValue::text(&session.email),
                SqlValue::int(to_millis(session.created_at)),
                SqlValue::int(to_millis(session.expires_at)),
                SqlValue::int(i64::from(session.second_factor)),
                SqlValue::int(i64::from(first)),
            ],
        )?;
        Ok(Session {
            first_login: first,
            ..session.clone()
        })
    }

    /// The session whose hash is `hash`, if it has not expired at `now`.
    ///
    /// # Errors
    /// Storage errors; a malformed row.
    pub fn session(&self, hash: &str, now: OffsetDateTime) -> Result<Option<Session>, StoreError> {
        let mut rows = self.backend.sql_query(
            &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE hash = $1 AND expires_at > $2"),
            &[SqlValue::text(hash), SqlValue::int(to_millis(now))],
        )?;
        rows.pop().map(session_of).transpose()
    }

    /// Records that the session's second factor was given.
    ///
    /// # Errors
    /// Storage errors.
    pub fn complete_second_factor(&self, hash: &str) -> Result<bool, StoreError> {
        Ok(self.backend.sql_execute(
            "UPDATE sessions SET second_factor = 1 WHERE hash = $1",
            &[SqlValue::text(hash)],
        )? > 0)
    }

    /// Records that the first-login text was shown; `true` for the one caller that
    /// cleared it (so it is shown once even when two pages load at once).
    ///
    /// # Errors
    /// Storage errors.
    pub fn take_first_login(&self, hash: &str) -> Result<bool, StoreError> {
        Ok(self.backend.sql_execute(
            "UPDATE sessions SET first_login = 0 WHERE hash = $1 AND first_login = 1",
            &[SqlValue::text(hash)],
        )? > 0)
    }

    /// Ends a session.
    ///
    /// # Errors
    /// Storage errors.
    pub fn delete_session(&self, hash: &str) -> Result<bool, StoreError> {
        Ok(self
            .backend
            .sql_execute("DELETE FROM sessions WHERE hash = $1", &[SqlValue::text(hash)])?
            > 0)
    }

    /// The unexpired sessions of `email`, in every audience (portals and the console),
    /// newest first.
    ///
    /// # Errors
    /// Storage errors; a malformed row.
    pub fn sessions_of(&self, email: &str, now: OffsetDateTime) -> Result<Vec<Session>, StoreError> {
        self.backend
            .sql_query(
                &format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions WHERE email = $1 AND expires_at > $2
                     ORDER BY created_at DESC"
                ),
                &[SqlValue::text(email), SqlValue::int(to_millis(now))],
            )?
            .into_iter()
            .map(session_of)
            .collect()
    }

    /// Ends every session of `email` in `portal` (one statement: a session started
    /// meanwhile is either ended or started after); returns how many were ended.
    ///
    /// # Errors
    /// Storage errors.
    pub fn end_sessions(&self, portal: &str, email: &str) -> Result<u64, StoreError> {
        self.backend.sql_execute(
            "DELETE FROM sessions WHERE portal = $1 AND email = $2",
            &[SqlValue::text(portal), SqlValue::text(email)],
        )
    }

    /// Removes link tokens and sessions that expired before `now`.
    ///
    /// # Errors
    /// Storage errors.
    pub fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let now = SqlValue::int(to_millis(now));
        let links = self.backend.sql_execute(
            "DELETE FROM link_tokens WHERE expires_at <= $1",
            std::slice::from_ref(&now),
        )?;
        let sessions = self
            .backend
            .sql_execute("DELETE FROM sessions WHERE expires_at <= $1", &[now])?;
        Ok(links + sessions)
    }

    /// The partner's authenticator, confirmed or not.
    ///
    /// # Errors
    /// Storage errors; a malformed row.
    pub fn totp(&self, portal: &str, email: &str) -> Result<Option<Totp>, StoreError> {
        let mut rows = self.backend.sql_query(
            "SELECT secret, confirmed_at, last_step FROM totp WHERE portal = $1 AND email = $2",
            &[SqlValue::text(portal), SqlValue::text(email)],
        )?;
        let Some(mut row) = rows.pop() else {
            return Ok(None);
        };
        Ok(Some(Totp {
            secret: text_at(&mut row, 0, "totp")?,
            confirmed: row[1].as_int().is_some(),
            last_step: int_at(&row, 2, "totp")?,
        }))
    }

    /// Starts an enrolment with `secret`, unless one is already confirmed (then `false`).
    /// An unconfirmed enrolment is replaced.
    ///
    /// # Errors
    /// Storage errors.
    pub fn begin_totp(&self, portal: &str, email: &str, secret: &str) -> Result<bool, StoreError> {
        Ok(self.backend.sql_execute(
            "INSERT INTO totp (portal, email, secret, confirmed_at, last_step) VALUES ($1, $2, $3, NULL, 0)
             ON CONFLICT (portal, email) DO UPDATE SET secret = excluded.secret, last_step = 0
             WHERE totp.confirmed_at IS NULL",
            &[
                SqlValue::text(portal),
                SqlValue::text(email),
                SqlValue::text(secret),
            ],
        )? > 0)
    }

    /// Confirms an enrolment with a code of time step `step` and stores the recovery
    /// codes' hashes (replacing any older ones); `false` when there is no unconfirmed
    /// enrolment.
    ///
    /// # Errors
    /// Storage errors.
    pub fn confirm_totp(
        &self,
        portal: &str,
        email: &str,
        step: i64,
        recovery_hashes: &[String],
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let confirmed = self.backend.sql_execute(
            "UPDATE totp SET confirmed_at = $3, last_step = $4
             WHERE portal = $1 AND email = $2 AND confirmed_at IS NULL",
            &[
                SqlValue::text(portal),
                SqlValue::text(email),
                SqlValue::int(to_millis(now)),
                SqlValue::int(step),
            ],
        )? > 0;
        if !confirmed {
            return Ok(false);
        }
        self.backend.sql_execute(
            "DELETE FROM recovery_codes WHERE portal = $1 AND email = $2",
            &[SqlValue::text(portal), SqlValue::text(email)],
        )?;
        for hash in recovery_hashes {
            self.backend.sql_execute(
                "INSERT INTO recovery_codes (portal, email, hash) VALUES ($1, $2, $3)",
                &[
                    SqlValue::text(portal),
                    SqlValue::text(email),
                    SqlValue::text(hash),
                ],
            )?;
        }
        Ok(true)
    }

    /// Accepts a code of time step `step` once: `false` when a code of this step or a
    /// later one was accepted already (a replayed code).
    ///
    /// # Errors
    /// Storage errors.
    pub fn use_totp_step(&self, portal: &str, email: &str, step: i64) -> Result<bool, StoreError> {
        Ok(self.backend.sql_execute(
            "UPDATE totp SET last_step = $3
             WHERE portal = $1 AND email = $2 AND confirmed_at IS NOT NULL AND last_step < $3",
            &[SqlValue::text(portal), SqlValue::text(email), SqlValue::int(step)],
        )? > 0)
    }

    /// Uses up a recovery code by its hash; `false` when it is unknown or used.
    ///
    /// # Errors
    /// Storage errors.
    pub fn use_recovery_code(
        &self,
        portal: &str,
        email: &str,
        hash: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        Ok(self.backend.sql_execute(
            "UPDATE recovery_codes SET used_at = $4
             WHERE portal = $1 AND email = $2 AND hash = $3 AND used_at IS NULL",
            &[
                SqlValue::text(portal),
                SqlValue::text(email),
                SqlValue::text(hash),
                SqlValue::int(to_millis(now)),
            ],
        )? > 0)
    }
}
