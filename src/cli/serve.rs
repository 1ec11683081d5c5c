//! `portalctl serve`: run the portal access service until SIGINT or SIGTERM.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::ExitStatus;
use portalctl_core::model::Sensitive;
use portalctl_mail::{SmtpSettings, SmtpUrl};
use portalctl_server::console::config_repo::ConfigFiles;
use portalctl_server::sender::SenderSettings;
use portalctl_server::{ServeConfig, Tokens};
use portalctl_store::Database;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The SQLite database file (created if missing), or `postgres://user@host:port/db`
    /// for a PostgreSQL database that several replicas share
    #[arg(
        long,
        value_name = "FILE|URL",
        env = "PORTALCTL_DB",
        hide_env_values = true,
        default_value = "portalctl.db",
        value_parser = parse_database
    )]
    db: Database,
    /// The address to listen on; port 0 picks a free port
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7878")]
    listen: String,
    /// A file holding the admin token (otherwise `PORTALCTL_TOKEN`)
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// The admin token (prefer `--token-file`)
    #[arg(
        long = "token",
        value_name = "TOKEN",
        env = "PORTALCTL_TOKEN",
        hide_env_values = true,
        hide = true
    )]
    token: Option<String>,
    /// A YAML or JSON list of named tokens: `[{name, token, scope: admin|read|apply}]`
    #[arg(long, value_name = "FILE")]
    tokens: Option<PathBuf>,
    /// The largest request body accepted, in bytes
    #[arg(long, value_name = "N", default_value_t = portalctl_server::DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// Self-registrations accepted per portal per minute, all clients together (0: no limit)
    #[arg(long, value_name = "N", default_value_t = portalctl_server::DEFAULT_SELF_REGISTER_LIMITS.per_portal.per_minute)]
    self_register_per_portal: u32,
    /// Self-registrations accepted per client address per minute, all portals together (0: no limit)
    #[arg(long, value_name = "N", default_value_t = portalctl_server::DEFAULT_SELF_REGISTER_LIMITS.per_client.per_minute)]
    self_register_per_client: u32,
    /// Connections open at once; at the cap a new one closes the oldest idle one, or is
    /// answered `503` when all are busy (lowered to fit the file-descriptor limit)
    #[arg(long, value_name = "N", default_value_t = portalctl_server::DEFAULT_CONNECTION_LIMITS.max_connections)]
    max_connections: usize,
    /// How long a request head (request line and headers) may take to arrive, from its
    /// first byte; a slower client is disconnected
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    header_timeout: Duration,
    /// How long a connection with no request in progress may stay silent
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    idle_timeout: Duration,
    /// How long a request body may take to arrive after its head (`408` after that)
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    body_timeout: Duration,
    /// How long SIGINT or SIGTERM waits for requests in progress before exiting anyway
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    shutdown_timeout: Duration,
    /// How long a write waits behind other writes (they are made one at a time, in arrival
    /// order) before it is refused with `503 busy` and `Retry-After`, having changed nothing
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    write_wait: Duration,
    /// The URL partners reach the service at, such as `https://portals.acme.io`: links in
    /// mail start with it, and an https URL makes session cookies `Secure` and
    /// `__Host-` prefixed (default: the listen address)
    #[arg(long, value_name = "URL", env = "PORTALCTL_PUBLIC_URL", value_parser = parse_public_url)]
    public_url: Option<String>,
    /// Also serve portal P's pages at `P.SUFFIX` (e.g. `portals.acme.io`: portal `globex`
    /// at `globex.portals.acme.io`), as well as at `/p/P/`
    #[arg(long, value_name = "SUFFIX", value_parser = parse_host_suffix)]
    portal_host_suffix: Option<String>,
    /// Send the outbox's mail through this SMTP server: `smtp://host:port` (plain),
    /// `smtp+starttls://host:port` (STARTTLS required) or `smtps://host:port` (TLS); the
    /// user and password come from `PORTALCTL_SMTP_USER` and `PORTALCTL_SMTP_PASSWORD`.
    /// Without it, mail stays in the outbox (`portalctl outbox`)
    #[arg(long, value_name = "URL", env = "PORTALCTL_SMTP")]
    smtp: Option<String>,
    /// The address mail is sent from (default: `no-reply@` the public URL's host)
    #[arg(long, value_name = "ADDRESS", env = "PORTALCTL_MAIL_FROM")]
    mail_from: Option<String>,
    /// The config directory (inside its git repository) that `apply` runs on: the console's
    /// *try it* then shows a unified diff of the portal's own file at the commit the last
    /// apply recorded, instead of a snippet alone
    #[arg(long, value_name = "PATH")]
    config_repo: Option<PathBuf>,
    /// PEM certificates to trust for the SMTP server's TLS, besides the system's
    #[arg(long, value_name = "FILE")]
    smtp_ca_file: Option<PathBuf>,
    /// Test aid: the wait before a failed mail's second attempt, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 2000, hide = true)]
    mail_retry_base_ms: u64,
    /// Test aid: how long a sender's claim on a mail lasts before another may send it, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 120, hide = true)]
    mail_lease_secs: u64,
    /// Test aid: attempts before a mail is given up
    #[arg(long, value_name = "N", default_value_t = 10, hide = true)]
    mail_max_attempts: u32,
    /// Test aid: answer `503` with `Retry-After: 0` to the first N requests under /v1
    #[arg(long, value_name = "N", default_value_t = 0, hide = true)]
    inject_503: u64,
}

/// A duration such as `10s`, `500ms` or `2m`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as `10s`, `500ms` or `2m`"))?;
    let duration = match unit {
        "ms" => Duration::from_millis(number),
        "s" => Duration::from_secs(number),
        "m" => Duration::from_secs(number.saturating_mul(60)),
        _ => {
            return Err(format!(
                "`{text}` is not a duration such as `10s`, `500ms` or `2m`"
            ));
        }
    };
    if duration.is_zero() {
        return Err("a timeout must be longer than zero".into());
    }
    Ok(duration)
}

fn parse_public_url(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or("the public URL starts with `https://` (or `http://`)")?;
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() || rest.contains(['?', '#', ' ', '@']) {
        return Err("the public URL is a scheme, a host, an optional port and path, such as `https://portals.acme.io`".into());
    }
    Ok(text.trim_end_matches('/').to_string())
}

/// The sender's settings from `--smtp` and the environment, or `None` without `--smtp`.
fn mail_settings(args: &ServeArgs) -> anyhow::Result<Option<SenderSettings>> {
    let Some(text) = args.smtp.as_deref().filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    let url: SmtpUrl = text.parse().context("invalid `--smtp` (or `PORTALCTL_SMTP`)")?;
    let variable = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let credentials = match (
        variable("PORTALCTL_SMTP_USER"),
        variable("PORTALCTL_SMTP_PASSWORD"),
    ) {
        (Some(user), Some(password)) => Some((user, Sensitive::new(password))),
        (None, None) => None,
        (Some(_), None) => anyhow::bail!("`PORTALCTL_SMTP_USER` is set but `PORTALCTL_SMTP_PASSWORD` is not"),
        (None, Some(_)) => anyhow::bail!("`PORTALCTL_SMTP_PASSWORD` is set but `PORTALCTL_SMTP_USER` is not"),
    };
    // The public URL's host names the sender (the default `From:` and `EHLO`), unless it
    // is an IP address, which neither takes.
    let host = args
        .public_url
        .as_deref()
        .and_then(|url| url.split_once("://"))
        .map(|(_, rest)| {
            rest.split(['/', ':'])
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase()
        })
        .filter(|host| host.contains('.') && host.parse::<std::net::IpAddr>().is_err())
        .unwrap_or_else(|| "localhost".to_string());
    let extra_roots_pem = match &args.smtp_ca_file {
        Some(path) => Some(
            std::fs::read(path).with_context(|| format!("cannot read the CA file `{}`", path.display()))?,
        ),
        None => None,
    };
    let mut settings = SenderSettings::new(SmtpSettings {
        url,
        credentials,
        from: args
            .mail_from
            .clone()
            .unwrap_or_else(|| format!("no-reply@{host}")),
        hello_name: host,
        extra_roots_pem,
        timeout: std::time::Duration::from_secs(30),
    });
    settings.retry_base = std::time::Duration::from_millis(args.mail_retry_base_ms.max(1));
    settings.max_attempts = args.mail_max_attempts.max(1);
    settings.lease = std::time::Duration::from_secs(args.mail_lease_secs.max(1));
    Ok(Some(settings))
}

fn parse_host_suffix(text: &str) -> Result<String, String> {
    let suffix = text.trim_matches('.').to_ascii_lowercase();
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if suffix.is_empty() || !suffix.split('.').all(label_ok) {
        return Err("the suffix is a DNS name such as `portals.acme.io`".into());
    }
    Ok(suffix)
}

fn parse_database(text: &str) -> Result<Database, String> {
    Database::parse(text)
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitStatus> {
    let admin = match &args.token_file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the token file `{}`", path.display()))?,
        ),
        None => args.token.clone().filter(|token| !token.is_empty()),
    };
    let entries = match &args.tokens {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the tokens file `{}`", path.display()))?;
            Tokens::parse_file(&text).map_err(|message| anyhow::anyhow!("`{}`: {message}", path.display()))?
        }
        None => Vec::new(),
    };
    let tokens = Tokens::new(admin.as_deref().map(str::trim), entries).map_err(anyhow::Error::msg)?;
    let mail = mail_settings(&args)?;
    // One line per request on stderr; request bodies, tokens and attribute values are
    // never logged.
    // `RUST_LOG` picks what is logged (`info` when unset or unreadable).
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(super::output::stderr_color())
        .with_target(false)
        .try_init();
    portalctl_server::run(ServeConfig {
        db: args.db,
        listen: args.listen,
        tokens,
        max_body_bytes: args.max_body_bytes,
        inject_503: args.inject_503,
        self_register_limits: portalctl_server::SelfRegisterLimits {
            per_portal: portalctl_server::Quota::per_minute(args.self_register_per_portal),
            per_client: portalctl_server::Quota::per_minute(args.self_register_per_client),
        },
        connection_limits: portalctl_server::ConnectionLimits {
            max_connections: args.max_connections.max(1),
            header_timeout: args.header_timeout,
            idle_timeout: args.idle_timeout,
            body_timeout: args.body_timeout,
            shutdown_timeout: args.shutdown_timeout,
        },
        write_wait: args.write_wait,
        mail,
        public_url: args.public_url,
        portal_host_suffix: args.portal_host_suffix,
        config_files: args
            .config_repo
            .map(|path| std::sync::Arc::new(GitConfigFiles::new(path)) as std::sync::Arc<dyn ConfigFiles>),
    })?;
    Ok(ExitStatus::Success)
}

/// The config's YAML files at a commit, read from the git object database (no checkout);
/// the last commit read is kept, as every *try it* of one apply asks for the same.
/// A commit and its YAML files (path, text).
type FilesAt = (String, Vec<(String, String)>);

#[derive(Debug)]
struct GitConfigFiles {
    path: PathBuf,
    last: std::sync::Mutex<Option<FilesAt>>,
}

impl GitConfigFiles {
    fn new(path: PathBuf) -> Self {
        Self {
            path,
            last: std::sync::Mutex::new(None),
        }
    }
}

impl ConfigFiles for GitConfigFiles {
    fn yaml_at(&self, commit: &str) -> Result<Vec<(String, String)>, String> {
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((at, files)) = last.as_ref()
            && at == commit
        {
            return Ok(files.clone());
        }
        let source =
            portalctl_sources::git::source_at(&self.path, commit).map_err(|error| error.to_string())?;
        let files: Vec<(String, String)> = source
            .files
            .into_iter()
            .filter(|(path, _)| portalctl_core::config::is_yaml(path))
            .map(|(path, text)| (path.display().to_string(), text))
            .collect();
        *last = Some((commit.to_string(), files.clone()));
        Ok(files)
    }
}
