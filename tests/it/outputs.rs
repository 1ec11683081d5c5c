//! Snapshots of each command's text output on the shipped examples (`examples/`): what a
//! user reads, reviewed once and held. The example is copied to a temp dir and the
//! commands run there with relative paths and a fixed day, so nothing in the output
//! depends on the machine; the audit log's times are replaced by `<time>`.

use std::path::Path;
use std::process::Command;

use crate::support::{stderr, stdout};

/// A copy of `examples/NAME` in a fresh temp dir, as `config/`.
pub(crate) fn example(name: &str) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(name),
        &dir.path().join("config"),
    );
    dir
}

/// Applies the config in `dir` to `sqlite:live.db`, asserting it succeeds.
pub(crate) fn apply_to_live(dir: &Path) {
    let (code, _, err) = run(
        dir,
        &["apply", "config", "--target", "sqlite:live.db", "--auto-approve"],
    );
    assert_eq!(code, 0, "{err}");
}

/// Replaces the first `from` in the config file `file` of `dir` with `to`; `from` must be there.
pub(crate) fn edit_config(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join("config").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} holds {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// Runs the binary in `dir` on a fixed day and returns (exit code, stdout, stderr).
pub(crate) fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    run_on(dir, "2027-01-04", args)
}

/// [`run`] on `today`.
pub(crate) fn run_on(dir: &Path, today: &str, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("PORTALCTL_TODAY", today)
        .env_remove("PORTALCTL_TARGET")
        .env_remove("PORTALCTL_TOKEN")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the portalctl binary runs");
    (
        output.status.code().unwrap_or(-1),
        stdout(&output),
        stderr(&output),
    )
}

/// `2026-12-07T05:10:00Z`-like stamps (and any fraction or offset after them) as `<time>`.
pub(crate) fn without_times(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut index = 0;
    let shape = "dddd-dd-ddTdd:dd:dd";
    while index < chars.len() {
        let fits = chars.len() - index >= shape.len()
            && shape.chars().zip(&chars[index..]).all(|(want, have)| match want {
                'd' => have.is_ascii_digit(),
                other => other == *have,
            });
        if fits {
            out.push_str("<time>");
            index += shape.len();
            while index < chars.len() && (chars[index].is_ascii_digit() || ".+-:Z".contains(chars[index])) {
                index += 1;
            }
        } else {
            out.push(chars[index]);
            index += 1;
        }
    }
    out
}

/// Runs each command in `dir` on `today`, as a transcript: the command line and exit
/// code, stdout, then stderr (if any) under `[stderr]`; times replaced by `<time>`.
pub(crate) fn transcript_on(dir: &Path, today: &str, steps: &[&[&str]]) -> String {
    let mut transcript = String::new();
    for args in steps {
        let (code, out, err) = run_on(dir, today, args);
        transcript.push_str(&format!(
            "$ portalctl {}   # exit {code}\n{out}{}{err}\n",
            args.join(" "),
            if err.is_empty() { "" } else { "[stderr]\n" }
        ));
    }
    without_times(&transcript)
}

/// [`transcript_on`] on the fixed day of [`run`].
pub(crate) fn transcript(dir: &Path, steps: &[&[&str]]) -> String {
    transcript_on(dir, "2027-01-04", steps)
}

/// Each command of a first session with an example, in order, as the user sees it.
fn session(name: &str, email: &str) -> String {
    let dir = example(name);
    let dir = dir.path();
    let target = "sqlite:live.db";
    let steps: [&[&str]; 7] = [
        &["validate", "config"],
        &["plan", "config", "--target", target],
        &["apply", "config", "--target", target, "--auto-approve"],
        &["plan", "config", "--target", target],
        &["drift", "config", "--target", target],
        &["explain", email, "config"],
        &["history", "--target", target],
    ];
    transcript(dir, &steps)
}

#[test]
fn the_acme_example_session() {
    insta::assert_snapshot!("acme_session", session("acme", "dana@globex.com"));
}

#[test]
fn the_quickstart_example_session() {
    insta::assert_snapshot!("quickstart_session", session("quickstart", "alice@globex.com"));
}

#[test]
fn times_are_filtered_and_nothing_else() {
    assert_eq!(
        without_times("at 2026-12-07T05:10:00.123Z by ci, 2026-12-07 stays"),
        "at <time> by ci, 2026-12-07 stays"
    );
}
