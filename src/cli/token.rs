//! `portalctl token create|list|revoke`: tokens the service creates, against the target
//! (`http(s)://` with an admin token, or the `sqlite:` store directly, which is how a first
//! token is made before `serve` starts). A token is printed once, alone on stdout, so it
//! can be piped into a secret store; the store keeps its SHA-256 only.

use anyhow::Context as _;
use clap::{Args, Subcommand};

use super::ExitStatus;
use super::explain::ExplainFormat;
use super::output::{UserError, say};
use super::target::TargetArgs;
use portalctl_store::tokens::{CreateTokenRequest, MAX_LIFETIME_SECONDS};
use portalctl_store::{TokenInfo, TokenScope};

/// The version of the `token create|list --format json` documents.
pub const TOKEN_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token and print it once: `token create --name globex-okta --org globex --scope scim --expires 90d`
    Create(CreateArgs),
    /// List the tokens the service created, with scope, creation, last use and expiry
    List(ListArgs),
    /// Revoke a token: refused from the next request on, on every replica
    Revoke(RevokeArgs),
}

/// What a token may do, as the flag takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ScopeArg {
    /// Read and write everything, manage tokens
    Admin,
    /// Read only
    Read,
    /// What CI needs for plan and apply: read the state, post changes
    Apply,
    /// SCIM for one partner org (with `--org`): the `partner_org:ORG` scope
    Scim,
}

#[derive(Debug, Args)]
struct CreateArgs {
    /// The token's name (1 to 64 letters, digits, `.`, `_`, `-`): what logs and the audit log show
    #[arg(long, value_name = "NAME", value_parser = parse_token_name)]
    name: String,
    /// What the token may do
    #[arg(long, value_enum)]
    scope: ScopeArg,
    /// The partner org of a `scim` token
    #[arg(long, value_name = "ORG")]
    org: Option<String>,
    /// Refuse the token after this long (`90d`, `12h`, `30m`); without it, it does not expire
    #[arg(long, value_name = "DURATION", value_parser = parse_lifetime)]
    expires: Option<u64>,
    /// How to print the token
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    format: ExplainFormat,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// How to print the tokens
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    format: ExplainFormat,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(Debug, Args)]
struct RevokeArgs {
    /// The name of the token to revoke
    name: String,
    #[command(flatten)]
    target: TargetArgs,
}

/// `90d`, `12h`, `30m` or `45s`, in seconds.
/// A token name, judged before anything is sent.
fn parse_token_name(text: &str) -> Result<String, String> {
    if portalctl_store::tokens::is_token_name(text) {
        Ok(text.to_string())
    } else {
        Err(format!(
            "`{text}` is not a token name: use 1 to 64 letters, digits, `.`, `_` or `-`"
        ))
    }
}

fn parse_lifetime(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration: use e.g. `90d`, `12h`, `30m`"))?;
    let seconds = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => {
            return Err(format!(
                "`{text}` needs a unit: `d`, `h`, `m` or `s` (e.g. `90d`)"
            ));
        }
    };
    let total = value.saturating_mul(seconds);
    if total == 0 || total > MAX_LIFETIME_SECONDS {
        return Err(format!("`{text}`: a token lives from 1 second to ten years"));
    }
    Ok(total)
}

/// `token create|list --format json` (`schemas/output/token.schema.json`): the token made
/// (`create`: `token`, shown once, and `created`) or the listing (`list`: `tokens`, never
/// a token nor its hash).
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
#[schemars(title = "portalctl token create|list --format json", rename = "TokenDocument")]
pub struct TokenDocument<'a> {
    #[schemars(extend("const" = TOKEN_FORMAT_VERSION))]
    pub format_version: u32,
    /// The target as shown to users.
    pub target: &'a str,
    /// `create` only: the token, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<&'a str>,
    /// `create` only: the token made, as listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<&'a TokenInfo>,
    /// `list` only: every token the service made, revoked and expired ones included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens: Option<&'a [TokenInfo]>,
}

fn seconds(at: time::OffsetDateTime) -> String {
    at.replace_nanosecond(0)
        .ok()
        .and_then(|at| at.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

fn scope_of(args: &CreateArgs) -> Result<TokenScope, UserError> {
    match (args.scope, &args.org) {
        (ScopeArg::Scim, Some(org)) => Ok(TokenScope::PartnerOrg(org.clone())),
        (ScopeArg::Scim, None) => Err(UserError::new(
            "a `scim` token belongs to one partner org",
            "add `--org ORG`",
        )),
        (_, Some(_)) => Err(UserError::new(
            "`--org` goes with `--scope scim` only",
            "drop `--org`, or use `--scope scim`",
        )),
        (ScopeArg::Admin, None) => Ok(TokenScope::Admin),
        (ScopeArg::Read, None) => Ok(TokenScope::Read),
        (ScopeArg::Apply, None) => Ok(TokenScope::Apply),
    }
}

pub fn run(args: TokenArgs, session: &super::context::Session) -> anyhow::Result<ExitStatus> {
    match args.command {
        TokenCommand::Create(args) => create(&args, session),
        TokenCommand::List(args) => list(&args, session),
        TokenCommand::Revoke(args) => revoke(&args, session),
    }
}

fn create(args: &CreateArgs, session: &super::context::Session) -> anyhow::Result<ExitStatus> {
    let scope = scope_of(args)?;
    let provider = args.target.open(session.today)?;
    let request = CreateTokenRequest {
        name: args.name.clone(),
        scope,
        expires_in_seconds: args.expires,
    };
    let created = provider
        .create_token(&request)
        .with_context(|| format!("cannot create token `{}` on `{}`", args.name, provider.target()))?;
    match args.format {
        ExplainFormat::Text => {
            println!("{}", created.token);
            let expiry = created.info.expires_at.map_or_else(
                || "does not expire".to_string(),
                |at| format!("expires {}", seconds(at)),
            );
            say!(
                "created token `{}` with scope `{}` on {}; it {expiry}\nit is shown once: store it now (the service keeps only its hash)",
                created.info.name,
                created.info.scope,
                provider.target()
            );
        }
        ExplainFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&TokenDocument {
                format_version: TOKEN_FORMAT_VERSION,
                target: provider.target(),
                token: Some(&created.token),
                created: Some(&created.info),
                tokens: None,
            })?
        ),
    }
    Ok(ExitStatus::Success)
}

fn list(args: &ListArgs, session: &super::context::Session) -> anyhow::Result<ExitStatus> {
    let provider = args.target.open(session.today)?;
    let tokens = provider
        .tokens()
        .with_context(|| format!("cannot list the tokens of `{}`", provider.target()))?;
    match args.format {
        ExplainFormat::Text => {
            println!(
                "Tokens of {} (the tokens file's are not listed):",
                provider.target()
            );
            if tokens.is_empty() {
                println!("  none");
            }
            for token in &tokens {
                let state = match (token.revoked_at, token.expires_at) {
                    (Some(at), _) => format!("revoked {}", seconds(at)),
                    (None, Some(at)) if at <= time::OffsetDateTime::now_utc() => {
                        format!("expired {}", seconds(at))
                    }
                    (None, Some(at)) => format!("expires {}", seconds(at)),
                    (None, None) => "does not expire".to_string(),
                };
                let used = token.last_used_at.map_or_else(
                    || "never used".to_string(),
                    |at| format!("last used {}", seconds(at)),
                );
                println!(
                    "  {}  {}  created {} by `{}`  {used}  {state}",
                    token.name,
                    token.scope,
                    seconds(token.created_at),
                    token.created_by
                );
            }
        }
        ExplainFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&TokenDocument {
                format_version: TOKEN_FORMAT_VERSION,
                target: provider.target(),
                token: None,
                created: None,
                tokens: Some(&tokens),
            })?
        ),
    }
    Ok(ExitStatus::Success)
}

fn revoke(args: &RevokeArgs, session: &super::context::Session) -> anyhow::Result<ExitStatus> {
    let provider = args.target.open(session.today)?;
    let revoked = provider
        .revoke_token(&args.name)
        .with_context(|| format!("cannot revoke token `{}` on `{}`", args.name, provider.target()))?;
    if !revoked {
        return Err(UserError::new(
            format!(
                "no unrevoked token is named `{}` on {}",
                args.name,
                provider.target()
            ),
            "`portalctl token list` shows the tokens and which are revoked",
        )
        .into());
    }
    say!(
        "revoked token `{}` on {}: it is refused from the next request on",
        args.name,
        provider.target()
    );
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes() {
        assert_eq!(parse_lifetime("90d"), Ok(90 * 86_400));
        assert_eq!(parse_lifetime("12h"), Ok(43_200));
        assert_eq!(parse_lifetime("30m"), Ok(1_800));
        assert!(parse_lifetime("90").unwrap_err().contains("needs a unit"));
        assert!(parse_lifetime("0d").is_err());
        assert!(parse_lifetime("4000d").is_err());
        assert!(parse_lifetime("d").is_err());
    }
}
