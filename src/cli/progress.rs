//! Progress on a terminal: one spinner whose message says which step a long command is in
//! (load, read live, plan, send). Nothing at all when stderr is not a terminal, so CI
//! logs carry only results.

use std::io::IsTerminal as _;

/// A spinner on stderr, or nothing when stderr is not a terminal.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    /// A spinner when stderr is a terminal; a silent stand-in otherwise.
    pub fn on_terminal() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Self { bar }
    }

    /// Says which step runs now.
    pub fn step(&self, message: String) {
        if let Some(bar) = &self.bar {
            bar.set_message(message);
        }
    }

    /// Removes the spinner (before printing results).
    pub fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}
