//! The target flags every command that talks to live state shares, and opening it.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;

use portalctl_client::{Provider, RetryPolicy, Target, Token};
use portalctl_core::model::CalendarDate;

/// The live side: `--target` (or `PORTALCTL_TARGET`) and the token.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Where live state is: `http(s)://host:port` for `portalctl serve`, or `sqlite:PATH`
    /// for the embedded store
    #[arg(
        long,
        value_name = "TARGET",
        env = "PORTALCTL_TARGET",
        default_value = "sqlite:portalctl.db"
    )]
    pub target: String,
    /// A file holding the bearer token
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// The bearer token (prefer `--token-file`: a flag shows in `ps`)
    #[arg(
        long = "token",
        value_name = "TOKEN",
        env = "PORTALCTL_TOKEN",
        hide_env_values = true,
        hide = true
    )]
    pub token: Option<String>,
    /// How long to keep retrying a target that cannot be reached (`30s`, `5m`); busy
    /// answers (429, 503) are retried as their `Retry-After` asks [default: 3s]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub retry_for: Option<Duration>,
}

/// `500ms`, `30s`, `5m`, `1h`, or plain seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration: use e.g. `30s`, `5m`, `1h`"))?;
    let millis = match unit {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(format!("`{text}` has an unknown unit: use `ms`, `s`, `m` or `h`")),
    };
    Ok(Duration::from_millis(value.saturating_mul(millis)))
}

/// Removes a `sqlite:` store file that this command created, unless [`disarm`]ed: a
/// refused or failed `apply` leaves no empty database behind.
///
/// [`disarm`]: NewStoreCleanup::disarm
pub struct NewStoreCleanup {
    created: Option<PathBuf>,
}

impl NewStoreCleanup {
    /// Notes whether `target` is a `sqlite:` file that does not exist yet.
    pub fn before_open(target: &str) -> Self {
        let created = match Target::parse(target) {
            Ok(Target::Sqlite(path)) if !path.exists() => Some(path),
            _ => None,
        };
        Self { created }
    }

    /// Keeps the file: the command succeeded.
    pub fn disarm(mut self) {
        self.created = None;
    }
}

impl Drop for NewStoreCleanup {
    fn drop(&mut self) {
        if let Some(path) = self.created.take() {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut name = path.clone().into_os_string();
                name.push(suffix);
                let _ = std::fs::remove_file(name);
            }
        }
    }
}

impl TargetArgs {
    pub fn target(&self) -> anyhow::Result<Target> {
        Ok(Target::parse(&self.target)?)
    }

    fn token(&self) -> anyhow::Result<Option<Token>> {
        if let Some(path) = &self.token_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the token file `{}`", path.display()))?;
            let token = text.trim();
            anyhow::ensure!(!token.is_empty(), "the token file `{}` is empty", path.display());
            return Ok(Some(Token::new(token.to_string())));
        }
        Ok(self
            .token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| Token::new(t.to_string())))
    }

    /// Opens the target.
    pub fn open(&self, today: CalendarDate) -> anyhow::Result<Box<dyn Provider>> {
        let target = self.target()?;
        if let Target::Sqlite(path) = &target
            && let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
            && !parent.is_dir()
        {
            return Err(super::output::UserError::new(
                format!(
                    "cannot open `{target}`: the directory `{}` does not exist",
                    parent.display()
                ),
                "create the directory, or point `--target sqlite:PATH` at an existing one",
            )
            .into());
        }
        let retry = self
            .retry_for
            .map_or_else(RetryPolicy::default, RetryPolicy::retrying_for);
        let provider = target
            .open(self.token()?, today, retry)
            .with_context(|| format!("cannot open the target `{target}`"))?;
        Ok(provider)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3d").is_err());
    }
}
