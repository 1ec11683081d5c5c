//! `portalctl apply`: snapshots of its progress and summary text on the shipped examples
//! (times replaced by `<time>`), the same apply with `--show full`, and a second apply that
//! finds nothing to do.

use crate::outputs::{example, transcript};

const TARGET: &str = "sqlite:live.db";

#[test]
fn applies_the_acme_example_then_finds_nothing_to_do() {
    let dir = example("acme");
    insta::assert_snapshot!(
        "acme",
        transcript(
            dir.path(),
            &[
                &["apply", "config", "--target", TARGET, "--auto-approve"],
                &["apply", "config", "--target", TARGET, "--auto-approve"],
            ]
        )
    );
}

#[test]
fn applies_the_quickstart_example_showing_everything() {
    let dir = example("quickstart");
    insta::assert_snapshot!(
        "quickstart_show_full",
        transcript(
            dir.path(),
            &[&[
                "apply",
                "config",
                "--target",
                TARGET,
                "--auto-approve",
                "--show",
                "full"
            ]]
        )
    );
}
