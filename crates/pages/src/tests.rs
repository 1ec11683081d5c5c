use super::*;

fn theme() -> Theme {
    Theme::new(
        "Globex <Partners>",
        "#0F62FE",
        Some("https://cdn.acme.io/cover.jpg"),
        Some("https://acme.io/help"),
        "/p/globex",
    )
}

#[test]
fn text_on_any_colour_contrasts_at_least_4_5_to_1() {
    assert_eq!(text_color_on("#ffffff"), "#000000");
    assert_eq!(text_color_on("#000000"), "#ffffff");
    assert_eq!(text_color_on("#0F62FE"), "#ffffff");
    assert_eq!(text_color_on("#FFD700"), "#000000");
    for red in (0..=255).step_by(17) {
        for green in (0..=255).step_by(17) {
            for blue in (0..=255).step_by(17) {
                let color = format!("#{red:02x}{green:02x}{blue:02x}");
                let background = luminance(channels(&color).unwrap());
                let text = luminance(channels(text_color_on(&color)).unwrap());
                assert!(contrast(background, text) >= 4.5, "{color}");
            }
        }
    }
}

#[test]
fn the_theme_stylesheet_holds_only_checked_colours() {
    assert_eq!(
        theme_css("#FFD700"),
        ":root { --brand: #FFD700; --on-brand: #000000; }\n"
    );
    // Anything but `#RRGGBB` never reaches the stylesheet.
    assert!(theme_css("red;} body{display:none").contains("#0f62fe"));
}

#[test]
fn the_stylesheet_path_names_its_content() {
    let path = stylesheet_path();
    assert!(
        path.starts_with("/assets/portal-") && path.ends_with(".css"),
        "{path}"
    );
    assert_eq!(path.len(), "/assets/portal-".len() + 12 + ".css".len());
}

#[test]
fn sign_in_page() {
    let page = render(&SignIn {
        theme: theme(),
        csrf: "csrf-token".into(),
        email: "a\"b@globex.com".into(),
        error: None,
        sign_up: true,
    });
    // Escaped: a name or address cannot inject markup.
    assert!(
        page.contains("Globex &#60;Partners&#62;") || page.contains("Globex &lt;Partners&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script"));
    insta::assert_snapshot!(page);
}

#[test]
fn message_page() {
    insta::assert_snapshot!(render(&Message {
        theme: theme(),
        title: "Check your email".into(),
        paragraphs: vec!["If alice@globex.com may sign in, a link is on its way.".into()],
        link: Some(("/p/globex/sign-in".into(), "Back to sign-in".into())),
    }));
}

#[test]
fn confirm_page() {
    insta::assert_snapshot!(render(&Confirm {
        theme: theme(),
        csrf: "csrf-token".into(),
        title: "Sign in to Globex".into(),
        explanation: "Continue as alice@globex.com.".into(),
        button: "Sign in".into(),
        action: "/p/globex/link".into(),
        token: "TOKEN".into(),
    }));
}

#[test]
fn home_page() {
    insta::assert_snapshot!(render(&Home {
        theme: theme(),
        csrf: "csrf-token".into(),
        email: "alice@globex.com".into(),
        items: vec![HomeItem {
            path: "/Partners/Finance".into(),
            kind: "folder".into(),
            level: "view".into(),
            permissions: "dashboard.view, folder.view".into(),
        }],
        attributes: vec![("region".into(), "EMEA".into())],
        first_login: Some("Welcome aboard.".into()),
        manages_people: false,
    }));
}

#[test]
fn an_empty_home_says_so() {
    let page = render(&Home {
        theme: theme(),
        csrf: "c".into(),
        email: "alice@globex.com".into(),
        items: Vec::new(),
        attributes: Vec::new(),
        first_login: None,
        manages_people: false,
    });
    assert!(page.contains("Nothing is shared with you yet."));
    assert!(!page.contains("<table"));
}

#[test]
fn totp_pages() {
    let uri = "otpauth://totp/Globex:alice%40globex.com?secret=JBSWY3DPEHPK3PXP&issuer=Globex";
    let svg = qr_svg(uri);
    assert!(svg.starts_with("<svg") && svg.contains("</svg>"), "{svg}");
    insta::assert_snapshot!(
        "totp_enrol",
        render(&TotpEnrol {
            theme: theme(),
            csrf: "csrf-token".into(),
            secret: "JBSWY3DPEHPK3PXP".into(),
            uri: uri.into(),
            qr_svg: "<svg>QR</svg>".into(),
            error: Some("That code did not match; try the next one.".into()),
        })
    );
    insta::assert_snapshot!(
        "totp_verify",
        render(&TotpVerify {
            theme: theme(),
            csrf: "csrf-token".into(),
            error: None,
        })
    );
    insta::assert_snapshot!(
        "recovery_codes",
        render(&RecoveryCodes {
            theme: theme(),
            codes: vec!["abcd-efgh".into(), "ijkl-mnop".into()],
        })
    );
}

#[test]
fn sign_up_page() {
    insta::assert_snapshot!(render(&SignUp {
        theme: theme(),
        csrf: "csrf-token".into(),
        initiation: Some("Register to see the partner price lists.".into()),
        email: String::new(),
        domains: "globex.com".into(),
        fields: vec![
            SignUpField {
                name: "region".into(),
                label: "Region".into(),
                options: vec!["AMER".into(), "EMEA".into()],
                value: "EMEA".into(),
                required: true,
            },
            SignUpField {
                name: "phone".into(),
                label: "Phone".into(),
                options: Vec::new(),
                value: String::new(),
                required: false,
            },
        ],
        error: None,
    }));
}

#[test]
fn people_page() {
    insta::assert_snapshot!(render(&People {
        theme: theme(),
        csrf: "csrf-token".into(),
        org: "globex".into(),
        vendor: "Acme".into(),
        domains: "globex.com".into(),
        max_role: "editor".into(),
        default_role: "viewer".into(),
        roles: vec!["editor".into(), "viewer".into()],
        people: vec![Person {
            email: "pam@globex.com".into(),
            role: "viewer".into(),
        }],
        others: vec![
            OtherPerson {
                email: "alice@globex.com".into(),
                role: "editor".into(),
                origin: "declared in git".into(),
            },
            OtherPerson {
                email: "sam@globex.com".into(),
                role: "viewer".into(),
                origin: "self-registered".into(),
            },
        ],
        fields: vec![SignUpField {
            name: "region".into(),
            label: "region".into(),
            options: vec!["emea".into(), "amer".into()],
            value: String::new(),
            required: false,
        }],
        email: String::new(),
        notice: Some("Invited pam@globex.com as viewer.".into()),
        error: None,
    }));
}
