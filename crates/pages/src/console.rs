//! The staff console's pages (`/console` of `portalctl serve`): one layout
//! (`templates/console/page.html`) over a small vocabulary of blocks — headings, text,
//! facts, tables, forms, framed previews, code — from which the server builds each page
//! (overview, portal, roster, partner, folder, audit, tokens). Sign-in, the second
//! factor and messages reuse the partner pages' templates with a neutral [`Theme`].

use askama::Template;

use crate::Theme;

/// The console's neutral colour (dark grey; white text reads on it).
pub const CONSOLE_COLOR: &str = "#393939";

/// The theme the console's sign-in pages and layout use.
pub fn console_theme(workspace: &str) -> Theme {
    let name = if workspace.trim().is_empty() {
        "Staff console".to_string()
    } else {
        format!("{workspace} console")
    };
    Theme::new(&name, CONSOLE_COLOR, None, None, "/console")
}

/// One table cell: text, a link to a console page when `href` is set.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cell {
    pub text: String,
    pub href: Option<String>,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            href: None,
        }
    }

    pub fn link(text: impl Into<String>, href: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            href: Some(href.into()),
        }
    }
}

/// One input of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub label: String,
    pub value: String,
    /// `hidden`, `text`, `search`, `email`, `color`, `url`, `number`, `textarea` or `select`.
    pub kind: String,
    /// The choices of a `select`: value, label.
    pub options: Vec<(String, String)>,
}

impl Field {
    pub fn hidden(name: &str, value: impl Into<String>) -> Self {
        Self::input("hidden", name, "", value)
    }

    pub fn input(kind: &str, name: &str, label: &str, value: impl Into<String>) -> Self {
        Self {
            name: name.to_string(),
            label: label.to_string(),
            value: value.into(),
            kind: kind.to_string(),
            options: Vec::new(),
        }
    }

    pub fn select(name: &str, label: &str, value: &str, options: Vec<(String, String)>) -> Self {
        Self {
            options,
            ..Self::input("select", name, label, value)
        }
    }
}

/// A form: `GET` ones filter a page, `POST` ones act (and carry the CSRF token, which
/// the layout adds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub action: String,
    pub post: bool,
    /// What the form is for, for assistive technology.
    pub label: String,
    pub fields: Vec<Field>,
    pub button: String,
    /// A `data-action` name tests and scripts find the form by.
    pub name: String,
}

/// A part of a console page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Heading(String),
    Text(String),
    /// Name–value pairs.
    Facts(Vec<(String, Cell)>),
    Table {
        caption: String,
        headers: Vec<String>,
        rows: Vec<Vec<Cell>>,
    },
    Form(Form),
    /// A page of this service shown framed (a preview, view-as).
    Frame {
        title: String,
        src: String,
        name: String,
    },
    /// Text to copy, such as YAML or a diff.
    Code {
        label: String,
        text: String,
        name: String,
    },
}

/// One console page.
#[derive(Debug, Template)]
#[template(path = "console/page.html")]
pub struct ConsolePage {
    pub theme: Theme,
    pub csrf: String,
    pub title: String,
    /// Who is signed in, and their role: `ann@acme.io (approver)`.
    pub staff: String,
    /// Whether the staff signed in with a session (a sign-out button) rather than a token.
    pub session: bool,
    pub notice: Option<String>,
    pub blocks: Vec<Block>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_renders_every_block_and_the_csrf_token_in_posts_only() {
        let page = ConsolePage {
            theme: console_theme("Acme"),
            csrf: "CSRF".into(),
            title: "Overview".into(),
            staff: "ann@acme.io (approver)".into(),
            session: true,
            notice: Some("Done".into()),
            blocks: vec![
                Block::Heading("Portals".into()),
                Block::Text("<b>".into()),
                Block::Facts(vec![("Revision".into(), Cell::text("7"))]),
                Block::Table {
                    caption: "Members".into(),
                    headers: vec!["Email".into()],
                    rows: vec![vec![Cell::link("a@globex.com", "/console/partners/a@globex.com")]],
                },
                Block::Form(Form {
                    action: "/console/roster".into(),
                    post: false,
                    label: "Search".into(),
                    fields: vec![Field::input("search", "q", "Search", "")],
                    button: "Search".into(),
                    name: "search".into(),
                }),
                Block::Form(Form {
                    action: "/console/actions/approve".into(),
                    post: true,
                    label: "Approve".into(),
                    fields: vec![Field::hidden("email", "a@globex.com")],
                    button: "Approve".into(),
                    name: "approve".into(),
                }),
                Block::Frame {
                    title: "Preview".into(),
                    src: "/console/x".into(),
                    name: "preview".into(),
                },
                Block::Code {
                    label: "YAML".into(),
                    text: "a: 1".into(),
                    name: "yaml".into(),
                },
            ],
        };
        let html = crate::render(&page);
        assert!(
            html.contains("&#60;b&#62;") || html.contains("&lt;b&gt;"),
            "{html}"
        );
        assert_eq!(html.matches("value=\"CSRF\"").count(), 2, "{html}");
        assert!(html.contains("<iframe"));
        assert!(html.contains("/console/partners/a@globex.com"));
    }
}
