//! `portalctl schema`: print the JSON Schema of the config.

use clap::Args;

use super::ExitStatus;

#[derive(Debug, Args)]
pub struct SchemaArgs {}

pub fn run(_args: SchemaArgs) -> anyhow::Result<ExitStatus> {
    println!("{}", portalctl_core::config::schema_json());
    Ok(ExitStatus::Success)
}
