//! Property tests of the filter grammar and the PATCH engine: a filter printed parses to
//! the same tree, a filter and its negation never agree, and each identity provider's
//! PATCH dialect applied to random users gives the user the RFC describes.

use portalctl_scim::filter::{AttrPath, CompValue, CompareOp, Filter};
use portalctl_scim::patch::{self, PatchRequest};
use portalctl_scim::resource::Resource;
use portalctl_scim::schema::{GROUP, USER};
use portalctl_scim::{Email, Group, Member, Name, PATCH_OP_SCHEMA, ScimType, SelfService, User};
use proptest::prelude::*;
use serde_json::{Number, Value, json};

const NAMES: &[&str] = &[
    "userName",
    "active",
    "emails",
    "name",
    "externalId",
    "title",
    "x-y_z",
    "$ref",
];
const SUBS: &[&str] = &["value", "type", "givenName", "primary"];
const OPS: &[CompareOp] = &[
    CompareOp::Eq,
    CompareOp::Ne,
    CompareOp::Co,
    CompareOp::Sw,
    CompareOp::Ew,
    CompareOp::Gt,
    CompareOp::Ge,
    CompareOp::Lt,
    CompareOp::Le,
];

fn attr_path(relative: bool) -> impl Strategy<Value = AttrPath> {
    let schema = if relative {
        Just(None).boxed()
    } else {
        prop_oneof![
            3 => Just(None),
            1 => Just(Some("urn:ietf:params:scim:schemas:core:2.0:User".to_owned())),
            1 => Just(Some("urn:ietf:params:scim:schemas:extension:portalctl:2.0:User".to_owned())),
        ]
        .boxed()
    };
    let sub = if relative {
        Just(None).boxed()
    } else {
        proptest::option::of(proptest::sample::select(SUBS)).boxed()
    };
    (schema, proptest::sample::select(&NAMES[..NAMES.len() - 1]), sub).prop_map(|(schema, name, sub)| {
        AttrPath {
            schema,
            name: name.to_owned(),
            sub: sub.map(str::to_owned),
        }
    })
}

fn comparison(relative: bool) -> impl Strategy<Value = Filter> {
    let value = prop_oneof![
        any::<String>().prop_map(CompValue::String),
        any::<i64>().prop_map(|n| CompValue::Number(Number::from(n))),
        (-1e9f64..1e9).prop_map(|f| CompValue::Number(Number::from_f64(f).expect("finite"))),
        any::<bool>().prop_map(CompValue::Bool),
        Just(CompValue::Null),
    ];
    (attr_path(relative), proptest::sample::select(OPS), value).prop_map(|(path, op, value)| {
        // Keep to what the grammar accepts: substring operators take strings, ordering
        // operators strings or numbers.
        let op = match (&value, op) {
            (CompValue::Number(_), CompareOp::Co | CompareOp::Sw | CompareOp::Ew) => CompareOp::Gt,
            (CompValue::Bool(_) | CompValue::Null, op) if op != CompareOp::Ne => CompareOp::Eq,
            (_, op) => op,
        };
        Filter::Compare { path, op, value }
    })
}

fn tree(relative: bool) -> BoxedStrategy<Filter> {
    let leaf = prop_oneof![
        comparison(relative),
        attr_path(relative).prop_map(Filter::Present)
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::And(Box::new(l), Box::new(r))),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::Or(Box::new(l), Box::new(r))),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
    .boxed()
}

fn filter() -> impl Strategy<Value = Filter> {
    let value_path = (
        proptest::sample::select(&["emails", "members", "groups"][..]),
        tree(true),
    )
        .prop_map(|(name, inner)| Filter::ValuePath {
            path: AttrPath::attribute(name),
            filter: Box::new(inner),
        });
    prop_oneof![3 => tree(false), 1 => value_path.clone(), 1 => (tree(false), value_path).prop_map(|(l, r)| Filter::Or(Box::new(l), Box::new(r)))]
}

fn word() -> impl Strategy<Value = String> {
    "[a-z]{1,8}"
}

fn user() -> impl Strategy<Value = User> {
    (
        (word(), word(), any::<bool>(), proptest::option::of(word())),
        proptest::option::of((proptest::option::of(word()), proptest::option::of(word()))),
        proptest::collection::vec(
            (word(), proptest::sample::select(&["work", "home", "other"][..])),
            0..3,
        ),
        proptest::collection::btree_map("[a-z]{1,6}", word(), 0..3),
    )
        .prop_map(
            |((local, domain, active, external_id), name, emails, extension)| {
                let mut user = User::new(format!("{local}@{domain}.example"));
                user.id = Some(format!("id-{local}"));
                user.active = active;
                user.external_id = external_id;
                user.name = name.map(|(given_name, family_name)| Name {
                    given_name,
                    family_name,
                    ..Name::default()
                });
                user.emails = emails
                    .into_iter()
                    .enumerate()
                    .map(|(index, (local, kind))| Email {
                        value: format!("{local}@{domain}.example"),
                        kind: Some(kind.to_owned()),
                        primary: index == 0,
                        display: None,
                    })
                    .collect();
                if !extension.is_empty() {
                    user.self_service = Some(SelfService(
                        extension.into_iter().map(|(k, v)| (k, Value::from(v))).collect(),
                    ));
                    user.schemas.push(portalctl_scim::SELF_SERVICE_SCHEMA.to_owned());
                }
                user
            },
        )
}

fn operations(operations: &Value) -> Vec<patch::PatchOperation> {
    PatchRequest::from_json(&json!({"schemas": [PATCH_OP_SCHEMA], "Operations": operations}))
        .expect("a valid PATCH body")
        .operations
}

/// Spells `word` with each letter's case picked by `mask`.
fn mixed_case(word: &str, mask: u64) -> String {
    word.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_printed_filter_parses_to_the_same_tree(filter in filter()) {
        let printed = filter.to_string();
        let parsed = Filter::parse(&printed).map_err(|e| TestCaseError::fail(format!("`{printed}`: {e}")))?;
        prop_assert_eq!(&parsed, &filter, "printed as `{}`", printed);
        prop_assert_eq!(parsed.to_string(), printed);
    }

    #[test]
    fn keywords_parse_in_any_case(mask in any::<u64>(), user in user()) {
        let text = format!(
            "{} {} {} {} {} ({})",
            mixed_case("userName", mask),
            mixed_case("eq", mask >> 8),
            serde_json::to_string(&user.user_name.to_uppercase()).expect("string"),
            mixed_case("and", mask >> 12),
            mixed_case("not", mask >> 16),
            mixed_case("externalId pr", mask >> 20),
        );
        let filter = Filter::parse(&text).map_err(|e| TestCaseError::fail(format!("`{text}`: {e}")))?;
        prop_assert_eq!(filter.matches(&user.to_json(), &USER), user.external_id.is_none(), "`{}`", text);
    }

    #[test]
    fn a_filter_and_its_negation_never_agree(filter in filter(), user in user()) {
        let json = user.to_json();
        let negated = Filter::Not(Box::new(filter.clone()));
        prop_assert_ne!(filter.matches(&json, &USER), negated.matches(&json, &USER));
    }

    #[test]
    fn okta_deactivation_sets_active_false_and_nothing_else(user in user()) {
        let patched = patch::apply(&user, &operations(&json!([{"op": "replace", "value": {"active": false}}])))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(patched, User { active: false, ..user });
    }

    #[test]
    fn entra_replace_of_active_as_a_string_sets_it(user in user(), active in any::<bool>(), mask in any::<u64>()) {
        let text = if active { "True" } else { "False" };
        let patched = patch::apply(&user, &operations(&json!([{"op": mixed_case("replace", mask), "path": "active", "value": text}])))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(patched, User { active, ..user });
    }

    #[test]
    fn entra_work_email_replace_changes_every_work_address_or_has_no_target(user in user(), new in word()) {
        let address = format!("{new}@new.example");
        let result = patch::apply(&user, &operations(&json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": address}
        ])));
        let has_work = user.emails.iter().any(|e| e.kind.as_deref() == Some("work"));
        match result {
            Ok(patched) => {
                prop_assert!(has_work);
                let mut expected = user.clone();
                for email in &mut expected.emails {
                    if email.kind.as_deref() == Some("work") {
                        email.value.clone_from(&address);
                    }
                }
                prop_assert_eq!(patched, expected);
            }
            Err(error) => {
                prop_assert!(!has_work);
                prop_assert_eq!(error.scim_type, Some(ScimType::NoTarget));
            }
        }
    }

    #[test]
    fn entra_add_of_a_work_email_creates_it_when_missing(user in user(), new in word()) {
        let address = format!("{new}@new.example");
        let patched = patch::apply(&user, &operations(&json!([
            {"op": "Add", "path": "emails[type eq \"work\"].value", "value": address},
            {"op": "Add", "path": "name.givenName", "value": new},
        ])))
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let work: Vec<&Email> = patched.emails.iter().filter(|e| e.kind.as_deref() == Some("work")).collect();
        prop_assert!(!work.is_empty());
        prop_assert!(work.iter().all(|e| e.value == address));
        prop_assert_eq!(patched.name.and_then(|n| n.given_name), Some(new));
        prop_assert_eq!(patched.user_name, user.user_name);
    }

    #[test]
    fn member_removal_in_both_dialects_removes_exactly_the_named_members(
        members in proptest::collection::btree_set("[a-z0-9]{1,6}", 1..8),
        pick in any::<proptest::sample::Index>(),
        entra in any::<bool>(),
    ) {
        let members: Vec<String> = members.into_iter().collect();
        let removed = pick.get(&members).clone();
        let group = Group::from_json(json!({
            "displayName": "sales",
            "members": members.iter().map(|m| json!({"value": m})).collect::<Vec<_>>(),
        }))
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let body = if entra {
            json!([{"op": "Remove", "path": "members", "value": [{"value": removed}]}])
        } else {
            json!([{"op": "remove", "path": format!("members[value eq \"{removed}\"]")}])
        };
        let patched = patch::apply(&group, &operations(&body)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let expected: Vec<Member> = members
            .iter()
            .filter(|m| **m != removed)
            .map(|m| Member { value: m.clone(), reference: None, display: None, kind: None })
            .collect();
        prop_assert_eq!(patched.members, expected);
        let json = patched_json(&group, &body);
        let still_there = Filter::parse(&format!("members[value eq \"{removed}\"]")).expect("parses");
        prop_assert!(!still_there.matches(&json, &GROUP));
    }
}

fn patched_json(group: &Group, body: &Value) -> Value {
    patch::apply(group, &operations(body)).expect("applies").to_json()
}
