//! Progress display for the long-running commands (`bench`, `soak`, `log bench`): an indicatif
//! bar on stderr when stdout is a terminal, and nothing at all when stdout goes to a
//! pipe or a file (the commands' log lines then go to stderr as plain lines).

use std::borrow::Cow;
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar that is only drawn for a person watching a terminal.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar of `total` steps, counted in `unit` (e.g. "runs", "s"), drawn only when
    /// stdout is a terminal.
    pub fn new(total: u64, unit: &str) -> Progress {
        if !std::io::stdout().is_terminal() {
            return Progress { bar: None };
        }
        let template =
            format!("{{elapsed_precise}} [{{bar:30}}] {{pos}}/{{len}} {unit}  {{wide_msg}}");
        let style = ProgressStyle::with_template(&template)
            .expect("a valid template")
            .progress_chars("=> ");
        Progress {
            bar: Some(ProgressBar::new(total).with_style(style)),
        }
    }

    /// Whether the bar is drawn.
    pub fn is_shown(&self) -> bool {
        self.bar.is_some()
    }

    /// The text after the bar.
    pub fn set_message(&self, msg: impl Into<Cow<'static, str>>) {
        if let Some(bar) = &self.bar {
            bar.set_message(msg);
        }
    }

    /// Moves the bar `n` steps on.
    #[cfg_attr(not(feature = "compare"), allow(dead_code))] // bench's, with `compare`
    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    /// Moves the bar to step `pos`.
    pub fn set_position(&self, pos: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(pos);
        }
    }

    /// A log line on stderr: above the bar when it is drawn.
    #[cfg_attr(not(feature = "compare"), allow(dead_code))] // bench's, with `compare`
    pub fn log(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Runs `f` (which prints to stdout) with the bar cleared, then redraws it.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_when_stdout_is_not_a_terminal() {
        // Under the test harness stdout is captured or piped, never a terminal here.
        if std::io::stdout().is_terminal() {
            return;
        }
        let p = Progress::new(10, "runs");
        assert!(!p.is_shown());
        p.inc(1);
        assert_eq!(p.suspend(|| 7), 7);
        p.finish();
    }
}
