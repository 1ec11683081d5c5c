//! Posting a notice to a webhook (Slack-style incoming webhooks, or any endpoint taking
//! JSON): one POST, retried like the target's requests.
//!
//! A webhook URL is a credential (whoever has a Slack webhook URL can post to the
//! channel), so no error or message of this module contains it: only its host.

use std::time::Duration;

use serde_json::{Value, json};

use super::retry::{Attempt, RetryPolicy};

/// Why a notice was not delivered. Names the webhook's host only.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("the webhook address is not an `http(s)://` URL")]
    BadUrl,
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("cannot reach the webhook at {host}: {detail}")]
    Unreachable { host: String, detail: String },
    #[error("the webhook at {host} answered {status}")]
    Refused { host: String, status: u16 },
}

/// What a notice says, already rendered (and redacted, when asked) by the caller.
#[derive(Debug, Clone)]
pub struct Notice {
    /// One line: `portalctl: drift: 3 differences … on sqlite:x.db (revision 7)`.
    pub headline: String,
    /// Who gains or loses access, one line each; shown first, it matters most.
    pub impact: Vec<String>,
    /// The differences, one line each (the caller bounds how many).
    pub items: Vec<String>,
    /// The machine-readable report, sent beside the text for non-Slack receivers.
    pub report: Value,
}

impl Notice {
    /// The JSON body: the report's fields, plus `text` (the fallback every Slack-style
    /// receiver shows) and Slack `blocks` with the access impact first.
    pub fn body(&self) -> Value {
        let mut text = self.headline.clone();
        for line in self.impact.iter().chain(&self.items) {
            text.push('\n');
            text.push_str(line);
        }
        let mut blocks = vec![json!({
            "type": "header",
            "text": {"type": "plain_text", "text": truncate(&self.headline, 150)},
        })];
        if !self.impact.is_empty() {
            blocks.push(section("*Access impact*", &self.impact));
        }
        if !self.items.is_empty() {
            blocks.push(section("*Differences*", &self.items));
        }
        let mut body = match &self.report {
            Value::Object(fields) => Value::Object(fields.clone()),
            other => json!({ "report": other }),
        };
        body["text"] = Value::String(text);
        body["blocks"] = Value::Array(blocks);
        body
    }
}

/// A Slack `section` block; Slack refuses text over 3000 characters.
fn section(title: &str, lines: &[String]) -> Value {
    let mut text = title.to_string();
    for line in lines {
        text.push_str("\n• ");
        text.push_str(line);
    }
    json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&text, 3000)}})
}

fn truncate(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(limit.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The host (and port) of a URL, the most of it that may be shown: `hooks.slack.com`.
pub fn shown_host(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    (!host.is_empty()).then(|| host.to_string())
}

/// Posts `notice` to `url`, retrying transient failures (connection errors, 429, 5xx)
/// as the target's requests are retried.
///
/// # Errors
/// [`NotifyError`], which never contains the URL beyond its host.
pub fn post(url: &str, notice: &Notice, retry: RetryPolicy) -> Result<String, NotifyError> {
    let host = shown_host(url).ok_or(NotifyError::BadUrl)?;
    let client = super::http_client_builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|error| NotifyError::Client(error.without_url().to_string()))?;
    let body = notice.body();
    retry.run(
        || match client.post(url).json(&body).send() {
            Err(error) => {
                let connect = error.is_connect();
                let error = NotifyError::Unreachable {
                    host: host.clone(),
                    detail: error.without_url().to_string(),
                };
                if connect {
                    Attempt::Unreachable(error)
                } else {
                    Attempt::Transient {
                        error,
                        retry_after: None,
                    }
                }
            }
            Ok(response) if response.status().is_success() => Attempt::Done(host.clone()),
            Ok(response) => {
                let status = response.status().as_u16();
                let error = NotifyError::Refused {
                    host: host.clone(),
                    status,
                };
                if matches!(status, 429 | 500 | 502 | 503 | 504) {
                    let retry_after = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|value| value.to_str().ok())
                        .and_then(|value| value.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    Attempt::Transient { error, retry_after }
                } else {
                    Attempt::Fatal(error)
                }
            }
        },
        |error, wait| eprintln!("retrying the notice in {:.1}s: {error}", wait.as_secs_f64()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_only_the_host() {
        assert_eq!(
            shown_host("https://hooks.slack.com/services/T0/B0/secret?x=1").as_deref(),
            Some("hooks.slack.com")
        );
        assert_eq!(
            shown_host("http://user:pw@127.0.0.1:9/hook").as_deref(),
            Some("127.0.0.1:9")
        );
        assert_eq!(shown_host("ftp://x/y"), None);
        assert_eq!(shown_host("https://"), None);
    }

    #[test]
    fn blocks_put_the_impact_first_and_keep_the_report() {
        let notice = Notice {
            headline: "portalctl: drift".to_string(),
            impact: vec!["+ ana@globex.com gains view on /Finance".to_string()],
            items: vec!["+ member ana@globex.com in portal globex".to_string()],
            report: json!({"format_version": 1, "drift": true}),
        };
        let body = notice.body();
        assert_eq!(body["drift"], json!(true));
        let blocks = body["blocks"].as_array().expect("blocks");
        assert_eq!(blocks[0]["type"], "header");
        assert!(
            blocks[1]["text"]["text"]
                .as_str()
                .unwrap()
                .starts_with("*Access impact*")
        );
        assert!(
            blocks[2]["text"]["text"]
                .as_str()
                .unwrap()
                .starts_with("*Differences*")
        );
        let text = body["text"].as_str().unwrap();
        assert!(text.find("gains").unwrap() < text.find("member ana").unwrap());
    }

    #[test]
    fn an_unreachable_webhook_error_names_the_host_not_the_url() {
        let policy = RetryPolicy {
            unreachable_budget: Duration::from_millis(1),
            ..RetryPolicy::default()
        };
        let notice = Notice {
            headline: "h".to_string(),
            impact: Vec::new(),
            items: Vec::new(),
            report: json!({}),
        };
        let error =
            post("http://127.0.0.1:1/hook/SECRET?token=SECRET", &notice, policy).expect_err("port 1 refuses");
        let text = error.to_string();
        assert!(text.contains("127.0.0.1:1"), "{text}");
        assert!(!text.contains("SECRET"), "{text}");
    }
}
