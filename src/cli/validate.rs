//! `portalctl validate`: load, schema-check and rule-check a config; no network.

use std::path::PathBuf;

use clap::Args;

use super::ExitStatus;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Config directory or file
    #[arg(default_value = ".")]
    path: PathBuf,
}

pub fn run(_args: ValidateArgs) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("`validate` is being built")
}
