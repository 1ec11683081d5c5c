//! The one printer for messages on stderr: lowercase `error: …` lines, a `hint: …` after a
//! blank line, colour only on a terminal (or when `FORCE_COLOR`/`CLICOLOR_FORCE` ask for
//! it) and never under `NO_COLOR`.

use std::io::{IsTerminal, Write as _};

/// Writes to stderr: the one path of every message the CLI prints there. Unlike
/// `eprint!`, a stderr that is closed or full (`2>&-`, a pipe whose reader left) is not a
/// panic: the message is dropped and the command goes on to its exit code.
pub fn write_stderr(args: std::fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// Writes a rendered document to stdout. Unlike `print!`, a stdout whose reader left
/// (`| head`) is not a panic: the rest is dropped and the command goes on to its exit code.
pub fn print_stdout(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Writes a document to stdout as `write` renders it, through one buffer: a plan of
/// millions of lines is never held whole. As [`print_stdout`], a reader that left is not
/// an error.
pub fn print_stdout_with(write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) {
    write_buffered(std::io::stdout().lock(), write);
}

/// As [`print_stdout_with`], on stderr.
pub fn write_stderr_with(write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) {
    write_buffered(std::io::stderr().lock(), write);
}

fn write_buffered(
    stream: impl std::io::Write,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) {
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, stream);
    let _ = write(&mut buffered).and_then(|()| buffered.flush());
}

/// `eprintln!` through [`write_stderr`].
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::output::write_stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprint!` through [`write_stderr`].
macro_rules! say_raw {
    ($($arg:tt)*) => {
        $crate::cli::output::write_stderr(format_args!($($arg)*))
    };
}

pub(crate) use {say, say_raw};

/// Whether an environment variable is set to something other than empty or `0`.
fn set(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|value| !value.is_empty() && value != "0")
}

/// The colour decision: `NO_COLOR` wins, then `FORCE_COLOR` / `CLICOLOR_FORCE`, then
/// whether the stream is a terminal.
fn color(is_terminal: bool) -> bool {
    if set("NO_COLOR") {
        return false;
    }
    set("FORCE_COLOR") || set("CLICOLOR_FORCE") || is_terminal
}

/// Whether stderr may carry colour.
pub fn stderr_color() -> bool {
    color(std::io::stderr().is_terminal())
}

/// Whether stdout may carry colour.
pub fn stdout_color() -> bool {
    color(std::io::stdout().is_terminal())
}

/// An error the user can fix, with what to do next.
#[derive(Debug)]
pub struct UserError {
    pub message: String,
    pub hint: Option<String>,
}

impl UserError {
    pub fn new(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }
}

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}

/// Prints `error: message` and, after a blank line, `hint: …`.
pub fn problem(message: &str, hint: Option<&str>) {
    let (red, reset) = if stderr_color() {
        ("\x1b[1;31m", "\x1b[0m")
    } else {
        ("", "")
    };
    say!("{red}error{reset}: {message}");
    if let Some(hint) = hint {
        say!("\nhint: {hint}");
    }
}

/// The hint an error carries as a field, if it is one of the errors that have one.
fn hint_of(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    if let Some(user) = error.downcast_ref::<UserError>() {
        return user.hint.clone();
    }
    if let Some(serve) = error.downcast_ref::<portalctl_server::ServeError>() {
        return serve.hint().map(str::to_string);
    }
    if let Some(provider) = error.downcast_ref::<portalctl_client::ProviderError>() {
        return provider.hint();
    }
    None
}

/// Prints an error and its causes; the hint of the error or of any cause comes after a
/// blank line. Hints are fields of the error types ([`UserError::hint`],
/// `ServeError::hint`), never found by parsing text.
pub fn error(error: &anyhow::Error) {
    if let Some(user) = error.downcast_ref::<UserError>() {
        problem(&user.message, user.hint.as_deref());
        return;
    }
    let (red, reset) = if stderr_color() {
        ("\x1b[1;31m", "\x1b[0m")
    } else {
        ("", "")
    };
    let mut message = format!("{red}error{reset}: {error}");
    for cause in error.chain().skip(1) {
        message.push_str(&format!("\n  caused by: {cause}"));
    }
    say!("{message}");
    for hint in error.chain().filter_map(hint_of) {
        say!("\nhint: {hint}");
    }
}

/// Prints a warning line on stderr.
pub fn warning(text: &str) {
    let (yellow, reset) = if stderr_color() {
        ("\x1b[1;33m", "\x1b[0m")
    } else {
        ("", "")
    };
    say!("{yellow}warning{reset}: {text}");
}
