//! The target flags every command that talks to live state shares, and opening it.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use portalctl_client::{Provider, RetryPolicy, Target, Token};

/// The live side: `--target` (or `PORTALCTL_TARGET`) and the token.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Where live state is: `http(s)://host:port` for `portalctl serve`, or `sqlite:PATH`
    /// for the embedded store [env: PORTALCTL_TARGET] [default: sqlite:portalctl.db]
    #[arg(long, value_name = "TARGET")]
    pub target: Option<String>,
    /// A file holding the bearer token (else `PORTALCTL_TOKEN`)
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
}

impl TargetArgs {
    pub fn target(&self) -> anyhow::Result<Target> {
        let text = match &self.target {
            Some(text) => text.clone(),
            None => std::env::var("PORTALCTL_TARGET").unwrap_or_else(|_| "sqlite:portalctl.db".to_string()),
        };
        Ok(Target::parse(&text)?)
    }

    fn token(&self) -> anyhow::Result<Option<Token>> {
        if let Some(path) = &self.token_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the token file `{}`", path.display()))?;
            let token = text.trim();
            anyhow::ensure!(!token.is_empty(), "the token file `{}` is empty", path.display());
            return Ok(Some(Token::new(token.to_string())));
        }
        Ok(std::env::var("PORTALCTL_TOKEN")
            .ok()
            .filter(|t| !t.trim().is_empty())
            .map(|t| Token::new(t.trim().to_string())))
    }

    /// Opens the target.
    pub fn open(&self) -> anyhow::Result<Box<dyn Provider>> {
        let target = self.target()?;
        let today = super::context::today()?;
        let provider = target
            .open(self.token()?, today, RetryPolicy::default())
            .with_context(|| format!("cannot open the target `{target}`"))?;
        Ok(provider)
    }
}
