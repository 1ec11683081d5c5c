//! `portalctl approve PORTAL EMAIL`: approve a self-registration awaiting approval, on the
//! target (`POST /v1/portals/{portal}/members/{email}/approve` on a service).

use anyhow::Context as _;
use clap::Args;

use super::ExitStatus;
use super::output::say;
use super::target::TargetArgs;

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The portal's technical name
    portal: String,
    /// The email of the pending registration
    email: String,
    #[command(flatten)]
    target: TargetArgs,
}

pub fn run(args: ApproveArgs, session: &super::context::Session) -> anyhow::Result<ExitStatus> {
    let provider = args.target.open(session.today)?;
    let approval = provider.approve(&args.portal, &args.email).with_context(|| {
        format!(
            "cannot approve {} in portal {} on `{}`",
            args.email,
            args.portal,
            provider.target()
        )
    })?;
    if approval.approved {
        say!(
            "approved {} in portal {} on {}: now at revision {}",
            args.email,
            args.portal,
            provider.target(),
            approval.revision
        );
    } else {
        say!(
            "{} in portal {} is not awaiting approval on {}: nothing to do",
            args.email,
            args.portal,
            provider.target()
        );
    }
    Ok(ExitStatus::Success)
}
