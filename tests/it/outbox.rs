//! `portalctl outbox`: a snapshot of its text on `sqlite:` after the shipped example's
//! apply enqueued its invitations, and of it filtered to one recipient.

use crate::support::{apply_to_live, example, transcript};

#[test]
fn lists_the_invitations_of_the_acme_example() {
    let dir = example("acme");
    apply_to_live(dir.path());
    insta::assert_snapshot!(
        "acme",
        transcript(
            dir.path(),
            &[
                &["outbox", "--target", "sqlite:live.db"],
                &["outbox", "--target", "sqlite:live.db", "--to", "ana@contoso.com"],
            ]
        )
    );
}

#[test]
fn an_empty_outbox_says_so() {
    let dir = example("acme");
    insta::assert_snapshot!(
        "empty",
        transcript(dir.path(), &[&["outbox", "--target", "sqlite:live.db"]])
    );
}
