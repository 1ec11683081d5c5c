//! The admin API of `portalctl serve` over HTTP(S): one `GET /v1/state` to read, one
//! `POST /v1/changes` to apply — never a request per resource.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder, Response};

use super::retry::{Attempt, RetryPolicy};
use super::{Guarantees, Live, Provider, ProviderError, Token};
use portalctl_core::api::ErrorBody;
use portalctl_core::api::wire::{
    AccessResponse, AuditChangesPage, AuditPage, ChangesRequestRef, RevisionResponse, StateResponse,
};
use portalctl_core::api::{AuditEntry, ChangeMeta, Problems};
use portalctl_core::model::Change;
use portalctl_store::{OutboxMessage, OutboxQuery};

pub struct HttpProvider {
    base: String,
    shown: String,
    client: Client,
    token: Option<Token>,
    retry: RetryPolicy,
}

impl HttpProvider {
    pub fn new(base: &str, token: Option<Token>, retry: RetryPolicy) -> Result<Self, ProviderError> {
        let client = super::http_client_builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(300))
            .build()
            .map_err(|error| ProviderError::Unavailable(error.to_string()))?;
        Ok(Self {
            base: base.to_string(),
            shown: portalctl_core::plan::file::without_credentials(base),
            client,
            token,
            retry,
        })
    }

    fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        let builder = self.client.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(token) => builder.bearer_auth(token.expose()),
            None => builder,
        }
    }

    /// Sends with retries on transient failures; returns the final response.
    fn send(&self, build: impl Fn() -> RequestBuilder) -> Result<Response, ProviderError> {
        self.retry.run(
            || match build().send() {
                Err(error) => {
                    let message = describe(&error);
                    if error.is_connect() {
                        Attempt::Unreachable(ProviderError::Unreachable {
                            target: self.shown.clone(),
                            message,
                        })
                    } else if error.is_timeout() || error.is_request() {
                        Attempt::Transient {
                            error: ProviderError::Unavailable(message),
                            retry_after: None,
                        }
                    } else {
                        Attempt::Fatal(ProviderError::Unavailable(message))
                    }
                }
                Ok(response) if is_transient(response.status()) => {
                    let retry_after = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|value| value.to_str().ok())
                        .and_then(|value| value.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let status = response.status();
                    Attempt::Transient {
                        error: ProviderError::Unavailable(format!("{status} from {}", self.shown)),
                        retry_after,
                    }
                }
                Ok(response) => Attempt::Done(response),
            },
            |error, wait| eprintln!("retrying in {:.1}s: {error}", wait.as_secs_f64()),
        )
    }

    /// The error for a refused response; a 401 without a token says how to give one.
    fn refused(&self, response: Response) -> ProviderError {
        match error_from(response) {
            ProviderError::Unauthorized(_) if self.token.is_none() => ProviderError::Unauthorized(
                "no token was sent: set `PORTALCTL_TOKEN` or pass `--token-file FILE`".to_string(),
            ),
            other => other,
        }
    }

    fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ProviderError> {
        use std::io::Read as _;
        /// A larger `Content-Length` is not trusted for the first allocation.
        const MAX_PRESIZE: u64 = 1 << 30;
        let mut response = self.send(|| self.request(reqwest::Method::GET, path))?;
        if !response.status().is_success() {
            return Err(self.refused(response));
        }
        let unreadable = |error: &dyn std::fmt::Display| {
            ProviderError::Unavailable(format!("unreadable answer from {path}: {error}"))
        };
        // Into one buffer sized from `Content-Length`: collecting the body first (what
        // `Response::json` does) holds its chunks and a copy of them at once, twice the
        // 240 MB of a million partners' state.
        let presize = response.content_length().unwrap_or(0).min(MAX_PRESIZE);
        let mut body = Vec::with_capacity(usize::try_from(presize).unwrap_or(0));
        response
            .read_to_end(&mut body)
            .map_err(|error| unreadable(&error))?;
        serde_json::from_slice(&body).map_err(|error| unreadable(&error))
    }
}

/// A path segment, percent-encoded where it is not a plain email or name character.
fn encode_segment(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"@.-_+".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn is_transient(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// A transport error without the URL's credentials or query.
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_connect() {
        "cannot connect"
    } else if error.is_timeout() {
        "timed out"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(error);
    let mut detail = String::new();
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}

fn error_from(response: Response) -> ProviderError {
    let status = response.status();
    let body: Option<ErrorBody> = response.json().ok();
    let message = body
        .as_ref()
        .map_or_else(|| status.to_string(), |b| b.error.message.clone());
    match (status.as_u16(), body) {
        (401, _) => ProviderError::Unauthorized(message),
        (403, _) => ProviderError::Forbidden(message),
        (409, Some(body)) if body.error.code == "stale_revision" => ProviderError::Stale {
            expected: 0,
            current: body.current_revision.unwrap_or_default(),
        },
        (409, Some(body)) if body.error.code == "protected" => {
            let portal = body
                .error
                .field
                .as_deref()
                .and_then(|field| field.split('/').nth(2))
                .map(str::to_string);
            ProviderError::Protected(portal.unwrap_or_else(|| message.clone()))
        }
        // Refused changes: invalid ones (422), and ones that conflict with the current
        // state (409 `conflicts_with_state`, `seat_limit`) are shown alike.
        (409 | 422, Some(body)) if body.problems.is_some() => {
            let listed = body.problems.unwrap_or_default();
            let total = body
                .problem_count
                .and_then(|count| usize::try_from(count).ok())
                .unwrap_or(listed.len());
            ProviderError::Rejected(Problems { listed, total })
        }
        (status, _) => ProviderError::Server { status, message },
    }
}

impl Provider for HttpProvider {
    fn target(&self) -> &str {
        &self.shown
    }

    fn guarantees(&self) -> Guarantees {
        Guarantees {
            atomic: true,
            revision_checked: true,
        }
    }

    fn read(&self) -> Result<Live, ProviderError> {
        let response: StateResponse = self.get_json("/v1/state")?;
        Ok(Live {
            state: response.state,
            revision: response.revision,
        })
    }

    fn read_revealed(&self) -> Result<Live, ProviderError> {
        let response: StateResponse = self.get_json("/v1/state?reveal=sensitive")?;
        Ok(Live {
            state: response.state,
            revision: response.revision,
        })
    }

    fn apply(
        &self,
        expected_revision: u64,
        changes: &[Change],
        meta: &ChangeMeta,
    ) -> Result<u64, ProviderError> {
        // Borrowed, and shared between attempts: at a million partners the batch is
        // hundreds of megabytes, and neither the changes nor the body are copied.
        let body = bytes::Bytes::from(
            serde_json::to_vec(&ChangesRequestRef {
                expected_revision: Some(expected_revision),
                changes,
                meta,
            })
            .map_err(|error| ProviderError::Unavailable(error.to_string()))?,
        );
        let response = self.send(|| {
            self.request(reqwest::Method::POST, "/v1/changes")
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
        })?;
        if response.status() == reqwest::StatusCode::PAYLOAD_TOO_LARGE {
            return Err(ProviderError::Server {
                status: 413,
                message: format!(
                    "the batch of {} changes is {} MB, over the service's request body limit; \
                     start `portalctl serve` with a larger `--max-body-bytes`",
                    changes.len(),
                    body.len().div_ceil(1 << 20)
                ),
            });
        }
        if response.status().is_success() {
            let revision: RevisionResponse = response
                .json()
                .map_err(|error| ProviderError::Unavailable(format!("unreadable answer: {error}")))?;
            return Ok(revision.revision);
        }
        match self.refused(response) {
            ProviderError::Stale { current, .. } => {
                // A retried POST whose first attempt did commit comes back stale: the audit
                // log tells whether the revision after ours carries our plan id.
                if let Some(plan_id) = &meta.plan_id {
                    let ours = self.audit(expected_revision)?.into_iter().find(|entry| {
                        entry.revision == expected_revision + 1
                            && entry.meta.plan_id.as_ref() == Some(plan_id)
                    });
                    if let Some(entry) = ours {
                        return Ok(entry.revision);
                    }
                }
                Err(ProviderError::Stale {
                    expected: expected_revision,
                    current,
                })
            }
            other => Err(other),
        }
    }

    fn reveals(&self, after: u64) -> Result<Vec<portalctl_core::api::RevealEntry>, ProviderError> {
        super::all_reveal_pages(after, |cursor| {
            let page: portalctl_core::api::RevealPage = self.get_json(&format!(
                "/v1/audit/reveals?after={cursor}&limit={}",
                super::AUDIT_PAGE
            ))?;
            Ok(page.entries)
        })
    }

    fn audit(&self, after: u64) -> Result<Vec<AuditEntry>, ProviderError> {
        super::all_audit_pages(after, |cursor| {
            let mut page: AuditPage =
                self.get_json(&format!("/v1/audit?after={cursor}&limit={}", super::AUDIT_PAGE))?;
            // A batch too large for one page comes truncated: fetch the rest of its changes.
            for entry in page.entries.iter_mut().filter(|entry| entry.changes_truncated) {
                while (entry.changes.len() as u64) < entry.change_count {
                    let slice: AuditChangesPage = self.get_json(&format!(
                        "/v1/audit/{}/changes?offset={}&limit={}",
                        entry.revision,
                        entry.changes.len(),
                        super::AUDIT_PAGE
                    ))?;
                    if slice.changes.is_empty() {
                        break;
                    }
                    entry.changes.extend(slice.changes);
                }
                entry.changes_truncated = false;
            }
            Ok(page.entries)
        })
    }

    fn outbox(&self, query: &OutboxQuery) -> Result<Vec<OutboxMessage>, ProviderError> {
        #[derive(serde::Deserialize)]
        struct Page {
            messages: Vec<OutboxMessage>,
        }
        fn encode(text: &str) -> String {
            text.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect()
        }
        let mut path = format!("/v1/outbox?limit={}", query.limit);
        if query.unsent_only {
            path.push_str("&unsent=true");
        }
        if let Some(before) = query.before {
            path.push_str(&format!("&before={before}"));
        }
        if let Some(portal) = &query.portal {
            path.push_str(&format!("&portal={}", encode(portal)));
        }
        if let Some(recipient) = &query.recipient {
            path.push_str(&format!("&recipient={}", encode(recipient)));
        }
        let page: Page = self.get_json(&path)?;
        Ok(page.messages)
    }

    fn access(&self, email: &str) -> Result<AccessResponse, ProviderError> {
        self.get_json(&format!("/v1/access/{}", encode_segment(email)))
    }

    fn approve(&self, portal: &str, email: &str) -> Result<crate::Approval, ProviderError> {
        let path = format!(
            "/v1/portals/{}/members/{}/approve",
            encode_segment(portal),
            encode_segment(email)
        );
        let response = self.send(|| self.request(reqwest::Method::POST, &path))?;
        if !response.status().is_success() {
            return Err(self.refused(response));
        }
        response
            .json()
            .map_err(|error| ProviderError::Unavailable(format!("unreadable answer from {path}: {error}")))
    }

    fn create_token(
        &self,
        request: &portalctl_store::tokens::CreateTokenRequest,
    ) -> Result<portalctl_store::tokens::CreatedToken, ProviderError> {
        let response = self.send(|| self.request(reqwest::Method::POST, "/v1/tokens").json(request))?;
        if !response.status().is_success() {
            return Err(self.refused(response));
        }
        response.json().map_err(|error| {
            ProviderError::Unavailable(format!("unreadable answer from /v1/tokens: {}", describe(&error)))
        })
    }

    fn tokens(&self) -> Result<Vec<portalctl_store::TokenInfo>, ProviderError> {
        let list: portalctl_store::tokens::TokenList = self.get_json("/v1/tokens")?;
        Ok(list.tokens)
    }

    fn revoke_token(&self, name: &str) -> Result<bool, ProviderError> {
        let path = format!("/v1/tokens/{}", percent_encode(name));
        let response = self.send(|| self.request(reqwest::Method::DELETE, &path))?;
        match response.status().as_u16() {
            204 => Ok(true),
            404 => Ok(false),
            _ => Err(self.refused(response)),
        }
    }
}

/// A path segment, percent-encoded (token names are plain, but a typo should not become
/// another path).
fn percent_encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.') {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}
