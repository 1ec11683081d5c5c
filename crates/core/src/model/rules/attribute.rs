//! The rules of attribute declarations: enum values, and whether a value fits its attribute.

use std::collections::BTreeSet;

use super::{Checker, RuleId, Violation};
use crate::model::Pointer;

impl Checker<'_> {
    pub(super) fn all_attributes(&mut self) {
        for (key, attribute) in &self.state.attributes {
            let at = Pointer::root().join("attributes").join(key);
            let is_enum = attribute.kind == crate::model::AttributeType::Enum;
            if is_enum && attribute.values.is_empty() {
                self.push(Violation::error(
                    RuleId::EnumWithoutValues,
                    at.join("type"),
                    format!("enum attribute `{key}` lists no `values`"),
                ));
            }
            if !is_enum && !attribute.values.is_empty() {
                self.push(Violation::error(
                    RuleId::ValuesOnNonEnum,
                    at.join("values"),
                    format!(
                        "`values` only applies to enum attributes, and `{key}` is a {}",
                        attribute.kind
                    ),
                ));
            }
            let mut seen = BTreeSet::new();
            for value in &attribute.values {
                if !seen.insert(value) {
                    self.push(
                        Violation::error(
                            RuleId::EnumValueRepeated,
                            at.join("values"),
                            format!("enum value `{value}` is listed twice"),
                        )
                        .about(value.clone()),
                    );
                }
            }
        }
    }
}

/// Why `value` does not fit `attribute`, or `None`; for a sensitive attribute only the
/// expected type, since the reason may quote the value.
pub(super) fn mismatch(
    value: &crate::model::AttributeValue,
    attribute: &crate::model::Attribute,
) -> Option<String> {
    let why = value.check(attribute).err()?;
    Some(if attribute.sensitive {
        format!("expected {}", attribute.kind)
    } else {
        why
    })
}
