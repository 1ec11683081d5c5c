//! `portalctl completions SHELL` and `portalctl man`: generated from the command tree, so
//! they cannot drift from the flags.

use clap::{Args, ValueEnum};

use super::ExitStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {}

pub fn completions(args: &CompletionsArgs) -> anyhow::Result<ExitStatus> {
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
        Shell::Powershell => clap_complete::Shell::PowerShell,
    };
    let mut command = super::command();
    clap_complete::generate(shell, &mut command, "portalctl", &mut std::io::stdout());
    Ok(ExitStatus::Success)
}

/// One page, `portalctl(1)`: clap_mangen's whole-page render lists a
/// `portalctl-validate(1)` page per command, which portalctl does not ship, so the
/// commands are described here instead, each with its usage.
pub fn man(_args: &ManArgs) -> anyhow::Result<ExitStatus> {
    std::io::Write::write_all(&mut std::io::stdout().lock(), &man_page()?)?;
    Ok(ExitStatus::Success)
}

fn man_page() -> std::io::Result<Vec<u8>> {
    let command = super::command();
    let man = clap_mangen::Man::new(command.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    page.extend_from_slice(
        b".SH COMMANDS\n`portalctl COMMAND --help` shows a command's options and arguments.\n",
    );
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
        let usage = sub
            .clone()
            .bin_name(format!("portalctl {}", sub.get_name()))
            .render_usage()
            .to_string();
        let usage = usage.trim_start_matches("Usage: ");
        page.extend_from_slice(
            format!(
                ".TP\n\\fBportalctl {}\\fR\n{}\n.br\n{}\n",
                sub.get_name(),
                roff_text(&about),
                roff_text(usage)
            )
            .as_bytes(),
        );
    }
    man.render_extra_section(&mut page)?;
    man.render_version_section(&mut page)?;
    Ok(page)
}

/// Text safe in a roff line: backslashes escaped, no leading control character.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    /// Regression (issue 21): the page listed `portalctl-validate(1)` and the like, pages
    /// that do not exist.
    #[test]
    fn the_man_page_names_no_page_that_is_not_shipped() {
        let page = String::from_utf8(super::man_page().unwrap()).unwrap();
        assert!(page.contains(".TH portalctl"), "{page}");
        assert!(
            !page.contains("portalctl-validate") && !page.contains("(1)"),
            "{page}"
        );
        assert!(page.contains("\\fBportalctl validate\\fR"), "{page}");
        assert!(page.contains("\\fBportalctl approve\\fR"), "{page}");
    }
}
