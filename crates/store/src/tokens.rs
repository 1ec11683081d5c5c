//! Tokens created by the service (`portalctl token create`, `POST /v1/tokens`): named,
//! scoped, shown once, stored only as the SHA-256 of a 256-bit random token, listed with
//! their creation, last use and expiry, and revocable at once.
//!
//! Revocation holds on every replica at once because a token is looked up in the database
//! on each request ([`Store::token_by_hash`]): there is no cache to invalidate. The last
//! use is written at most once a minute per token, so a busy client does not turn every
//! read into a write.
//!
//! None of this is state: a token is not in `GET /v1/state`, plans, import or the audit
//! log, which records a token's *name* as the actor of a batch.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::auth::SqlValue;
use crate::outbox::{from_millis, to_millis};
use crate::{Store, StoreError};

/// The table, the same in both dialects (`BIGINT` is SQLite's `INTEGER`).
pub(crate) const TABLES: &str = "
    CREATE TABLE service_tokens (
        name TEXT PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        scope TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        created_by TEXT NOT NULL,
        expires_at BIGINT,
        last_used_at BIGINT,
        revoked_at BIGINT
    );";

/// How long after its last recorded use a token's use is recorded again.
const LAST_USE_GRANULARITY_MS: i64 = 60_000;

/// The prefix of every token the service creates (so a leaked one is recognisable).
pub const TOKEN_PREFIX: &str = "pctl_";

/// What a token may do.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum TokenScope {
    /// Read and write everything, create and revoke tokens.
    Admin,
    /// Read only.
    Read,
    /// What CI needs for `plan` and `apply`: read the state, post changes; nothing else.
    Apply,
    /// SCIM (`/scim/v2`) for one partner org: its identity provider's scope. Partner
    /// admins are people and use the partner portal's People page, not a token.
    PartnerOrg(String),
}

impl fmt::Display for TokenScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Admin => f.write_str("admin"),
            Self::Read => f.write_str("read"),
            Self::Apply => f.write_str("apply"),
            Self::PartnerOrg(org) => write!(f, "partner_org:{org}"),
        }
    }
}

impl FromStr for TokenScope {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "admin" => Ok(Self::Admin),
            "read" => Ok(Self::Read),
            "apply" => Ok(Self::Apply),
            other => match other.strip_prefix("partner_org:") {
                Some(org) if !org.trim().is_empty() && org.trim() == org => {
                    Ok(Self::PartnerOrg(org.to_string()))
                }
                _ => Err(format!(
                    "`{other}` is not a scope: use `admin`, `read`, `apply` or `partner_org:NAME`"
                )),
            },
        }
    }
}

impl Serialize for TokenScope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TokenScope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for TokenScope {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TokenScope".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^(admin|read|apply|partner_org:\\S+)$",
            "description": "`admin`, `read`, `apply` (plan and apply: read the state, post changes) or `partner_org:NAME` (SCIM at /scim/v2 for one org, for its identity provider; every /v1 route is 403)"
        })
    }
}

/// A token as listed: never the token, nor its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TokenInfo {
    pub name: String,
    pub scope: TokenScope,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String")]
    pub created_at: OffsetDateTime,
    /// The name of the token that created it.
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339::option", default)]
    #[schemars(with = "Option<String>")]
    pub expires_at: Option<OffsetDateTime>,
    /// The last request it authenticated, to the minute.
    #[serde(with = "time::serde::rfc3339::option", default)]
    #[schemars(with = "Option<String>")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    #[schemars(with = "Option<String>")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl TokenInfo {
    /// Whether the token is accepted at `now`.
    #[must_use]
    pub fn is_usable(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }
}

/// A token just created: the one time its secret is known.
pub struct IssuedToken {
    pub info: TokenInfo,
    /// `pctl_` and 64 hex digits; shown once, never stored.
    pub token: String,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("info", &self.info)
            .field("token", &"(secret)")
            .finish()
    }
}

/// The longest a token may live: ten years.
pub const MAX_LIFETIME_SECONDS: u64 = 10 * 366 * 24 * 3600;

/// `POST /v1/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// 1 to 64 letters, digits, `.`, `_` or `-`; unique, also among revoked tokens and the
    /// tokens file.
    #[schemars(length(min = 1, max = 64), extend("pattern" = "^[A-Za-z0-9._-]{1,64}$"))]
    pub name: String,
    pub scope: TokenScope,
    /// Seconds from now until the token is refused; absent: it does not expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = MAX_LIFETIME_SECONDS))]
    pub expires_in_seconds: Option<u64>,
}

/// The answer to `POST /v1/tokens`: the only time the token is shown.
#[derive(Clone, Serialize, Deserialize, JsonSchema)]
pub struct CreatedToken {
    /// The bearer token (`pctl_` and 64 hex digits). Store it now: it is not shown again.
    pub token: String,
    #[serde(flatten)]
    pub info: TokenInfo,
}

impl fmt::Debug for CreatedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedToken")
            .field("token", &"(secret)")
            .field("info", &self.info)
            .finish()
    }
}

/// `GET /v1/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TokenList {
    /// Every token the service created, revoked ones too, by name. Tokens of the tokens
    /// file are not listed.
    pub tokens: Vec<TokenInfo>,
}

/// Why a token was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateTokenError {
    #[error("a token named `{0}` exists (revoked tokens keep their names): pick another name")]
    NameTaken(String),
    #[error("`{0}` is not a token name: use 1 to 64 letters, digits, `.`, `_` or `-`")]
    BadName(String),
    #[error("the system's random generator failed: {0}")]
    Random(String),
    #[error(transparent)]
    Storage(#[from] StoreError),
}

/// The SHA-256 of a token, hex: what the store keeps and looks tokens up by.
#[must_use]
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.trim().as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Whether `name` may name a token.
#[must_use]
pub fn is_token_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

const COLUMNS: &str = "name, scope, created_at, created_by, expires_at, last_used_at, revoked_at";

fn corrupt(message: &str) -> StoreError {
    StoreError::Corrupt {
        kind: "service token".into(),
        key: String::new(),
        message: message.into(),
    }
}

fn info_of(row: Vec<SqlValue>) -> Result<TokenInfo, StoreError> {
    let [
        name,
        scope,
        created_at,
        created_by,
        expires_at,
        last_used_at,
        revoked_at,
    ]: [SqlValue; 7] = row
        .try_into()
        .map_err(|_| corrupt("a row has the wrong number of columns"))?;
    let text = |value: SqlValue, column: &str| match value {
        SqlValue::Text(Some(text)) => Ok(text),
        _ => Err(corrupt(&format!("`{column}` is missing"))),
    };
    let time = |value: SqlValue| match value {
        SqlValue::Int(Some(at)) => from_millis(at).map(Some),
        _ => Ok(None),
    };
    Ok(TokenInfo {
        name: text(name, "name")?,
        scope: text(scope, "scope")?
            .parse()
            .map_err(|message: String| corrupt(&message))?,
        created_at: time(created_at)?.ok_or_else(|| corrupt("`created_at` is missing"))?,
        created_by: text(created_by, "created_by")?,
        expires_at: time(expires_at)?,
        last_used_at: time(last_used_at)?,
        revoked_at: time(revoked_at)?,
    })
}

fn optional_millis(at: Option<OffsetDateTime>) -> SqlValue {
    SqlValue::Int(at.map(to_millis))
}

impl Store {
    /// Creates a token named `name` with `scope`, expiring at `expires_at` (never when
    /// `None`), created by the token named `created_by`; returns the only copy of its
    /// secret.
    ///
    /// # Errors
    /// A malformed or taken name (also by a revoked token); storage errors.
    pub fn create_token(
        &self,
        name: &str,
        scope: TokenScope,
        expires_at: Option<OffsetDateTime>,
        created_by: &str,
        now: OffsetDateTime,
    ) -> Result<IssuedToken, CreateTokenError> {
        if !is_token_name(name) {
            return Err(CreateTokenError::BadName(name.to_string()));
        }
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|error| CreateTokenError::Random(error.to_string()))?;
        let token: String = std::iter::once(TOKEN_PREFIX.to_string())
            .chain(bytes.iter().map(|b| format!("{b:02x}")))
            .collect();
        // Milliseconds are what the table keeps: the answer says what a later list says.
        let now = from_millis(to_millis(now))?;
        let expires_at = expires_at.map(|at| from_millis(to_millis(at))).transpose()?;
        let inserted = self.backend.sql_execute(
            "INSERT INTO service_tokens (name, hash, scope, created_at, created_by, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
            &[
                SqlValue::Text(Some(name.to_string())),
                SqlValue::Text(Some(token_hash(&token))),
                SqlValue::Text(Some(scope.to_string())),
                SqlValue::Int(Some(to_millis(now))),
                SqlValue::Text(Some(created_by.to_string())),
                optional_millis(expires_at),
            ],
        )?;
        if inserted == 0 {
            return Err(CreateTokenError::NameTaken(name.to_string()));
        }
        Ok(IssuedToken {
            info: TokenInfo {
                name: name.to_string(),
                scope,
                created_at: now,
                created_by: created_by.to_string(),
                expires_at,
                last_used_at: None,
                revoked_at: None,
            },
            token,
        })
    }

    /// Every token the service created, revoked ones too, by name.
    ///
    /// # Errors
    /// Storage errors; a malformed row.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        self.backend
            .sql_query(
                &format!("SELECT {COLUMNS} FROM service_tokens ORDER BY name"),
                &[],
            )?
            .into_iter()
            .map(info_of)
            .collect()
    }

    /// Revokes the token named `name` at `now`: from the next request on, on every
    /// replica, it is refused. `false` when no unrevoked token has that name.
    ///
    /// # Errors
    /// Storage errors.
    pub fn revoke_token(&self, name: &str, now: OffsetDateTime) -> Result<bool, StoreError> {
        let changed = self.backend.sql_execute(
            "UPDATE service_tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
            &[
                SqlValue::Text(Some(name.to_string())),
                SqlValue::Int(Some(to_millis(now))),
            ],
        )?;
        Ok(changed > 0)
    }

    /// The token whose hash is `hash`, when it is usable at `now` (not revoked, not
    /// expired); records its use (at most once a minute).
    ///
    /// # Errors
    /// Storage errors; a malformed row.
    pub fn token_by_hash(&self, hash: &str, now: OffsetDateTime) -> Result<Option<TokenInfo>, StoreError> {
        let millis = to_millis(now);
        let Some(row) = self
            .backend
            .sql_query(
                &format!(
                    "SELECT {COLUMNS} FROM service_tokens
                     WHERE hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)"
                ),
                &[
                    SqlValue::Text(Some(hash.to_string())),
                    SqlValue::Int(Some(millis)),
                ],
            )?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let mut info = info_of(row)?;
        if info
            .last_used_at
            .is_none_or(|at| to_millis(at) + LAST_USE_GRANULARITY_MS <= millis)
        {
            self.backend.sql_execute(
                "UPDATE service_tokens SET last_used_at = $2 WHERE hash = $1",
                &[
                    SqlValue::Text(Some(hash.to_string())),
                    SqlValue::Int(Some(millis)),
                ],
            )?;
            info.last_used_at = Some(from_millis(millis)?);
        }
        Ok(Some(info))
    }

    /// Whether the service created any token: when it did not, requests are not looked up.
    ///
    /// # Errors
    /// Storage errors.
    pub fn has_tokens(&self) -> Result<bool, StoreError> {
        Ok(!self
            .backend
            .sql_query("SELECT name FROM service_tokens LIMIT 1", &[])?
            .is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_read_and_print_the_same() {
        for text in ["admin", "read", "apply", "partner_org:globex"] {
            assert_eq!(
                text.parse::<TokenScope>().map(|s| s.to_string()).as_deref(),
                Ok(text)
            );
        }
        for text in ["root", "partner_org:", "partner_org: x", "Admin"] {
            assert!(text.parse::<TokenScope>().is_err(), "{text}");
        }
    }

    #[test]
    fn names_and_hashes() {
        assert!(is_token_name("globex-okta.2026_12"));
        assert!(!is_token_name(""));
        assert!(!is_token_name("a b"));
        assert!(!is_token_name(&"x".repeat(65)));
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(token_hash(" abc\n"), token_hash("abc"));
    }
}
