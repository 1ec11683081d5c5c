//! The one printer for messages on stderr: lowercase `error: …` lines, a `hint: …` after a
//! blank line, colour only on a terminal and never under `NO_COLOR`.

use std::io::IsTerminal;

/// Whether stderr may carry colour.
pub fn stderr_color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty()) && std::io::stderr().is_terminal()
}

/// Whether stdout may carry colour.
pub fn stdout_color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty()) && std::io::stdout().is_terminal()
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
    eprintln!("{red}error{reset}: {message}");
    if let Some(hint) = hint {
        eprintln!("\nhint: {hint}");
    }
}

/// Prints an error and its causes; a [`UserError`] anywhere in the chain brings its hint.
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
    let mut hints = Vec::new();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if let Some(hint) = text.strip_prefix("hint: ") {
            hints.push(hint.to_string());
        } else {
            message.push_str(&format!("\n  caused by: {text}"));
        }
    }
    eprintln!("{message}");
    for hint in hints {
        eprintln!("\nhint: {hint}");
    }
}

/// Prints a warning line on stderr.
pub fn warning(text: &str) {
    let (yellow, reset) = if stderr_color() {
        ("\x1b[1;33m", "\x1b[0m")
    } else {
        ("", "")
    };
    eprintln!("{yellow}warning{reset}: {text}");
}
