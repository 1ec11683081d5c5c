//! `portalctl serve`: run the portal access service.

use clap::Args;

use super::ExitStatus;

#[derive(Debug, Args)]
pub struct ServeArgs {}

pub fn run(_args: ServeArgs) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("`serve` is being built")
}
