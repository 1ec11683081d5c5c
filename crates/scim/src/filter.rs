//! The filter grammar of RFC 7644 §3.4.2.2: a parser to a [`Filter`] tree, a printer
//! (`Display`) whose output parses back to the same tree, and an evaluator over a
//! resource's JSON form.
//!
//! ```text
//! FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
//! valuePath = attrPath "[" valFilter "]"
//! attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
//! attrPath  = [URI ":"] ATTRNAME *1subAttr
//! ```
//!
//! Operators and keywords are case-insensitive; `not` binds tighter than `and`, which binds
//! tighter than `or`; `and`/`or` associate to the left. Attribute names keep the case they
//! were written in (the tree compares them as written); lookups ignore case. String
//! comparisons ignore case unless the attribute is `caseExact` (`id`, `externalId`).

use std::cmp::Ordering;
use std::fmt;

use serde_json::{Number, Value};

use crate::Error;
use crate::schema::{Attribute, Kind, ResourceSchema};

/// A filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attrPath op value`.
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: CompValue,
    },
    /// `attrPath pr`.
    Present(AttrPath),
    /// `left and right`.
    And(Box<Filter>, Box<Filter>),
    /// `left or right`.
    Or(Box<Filter>, Box<Filter>),
    /// `not (inner)`.
    Not(Box<Filter>),
    /// `attrPath[filter]`: some value of a multi-valued complex attribute matches `filter`,
    /// whose paths are relative to that value.
    ValuePath { path: AttrPath, filter: Box<Filter> },
}

/// `[URI ":"] ATTRNAME ["." subAttr]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN, when written.
    pub schema: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

/// The comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    const ALL: [(Self, &'static str); 9] = [
        (Self::Eq, "eq"),
        (Self::Ne, "ne"),
        (Self::Co, "co"),
        (Self::Sw, "sw"),
        (Self::Ew, "ew"),
        (Self::Gt, "gt"),
        (Self::Ge, "ge"),
        (Self::Lt, "lt"),
        (Self::Le, "le"),
    ];

    fn parse(word: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(word))
            .map(|(op, _)| *op)
    }

    /// The operator as printed.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(op, _)| *op == self)
            .map_or("eq", |(_, name)| name)
    }

    fn is_ordering(self) -> bool {
        matches!(self, Self::Gt | Self::Ge | Self::Lt | Self::Le)
    }

    fn is_substring(self) -> bool {
        matches!(self, Self::Co | Self::Sw | Self::Ew)
    }
}

/// `false / null / true / number / string`.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
}

impl Filter {
    /// Parses a filter.
    ///
    /// # Errors
    /// `invalidFilter` naming the position (a character offset) and what was expected.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let tokens = lex(text)?;
        let mut parser = Parser {
            tokens,
            position: 0,
            text_len: text.len(),
        };
        let filter = parser.or_expression(false)?;
        match parser.peek() {
            None => Ok(filter),
            Some((offset, token)) => Err(Error::invalid_filter(format!(
                "unexpected {} at {offset} in filter `{text}`",
                token.describe()
            ))),
        }
    }

    /// Checks that every attribute the filter names exists in `schema`.
    ///
    /// # Errors
    /// `invalidFilter` naming the unknown attribute, or a value path on a attribute that
    /// is not multi-valued and complex.
    pub fn validate(&self, schema: &ResourceSchema) -> Result<(), Error> {
        self.validate_in(&Scope::Resource(schema))
    }

    fn validate_in(&self, scope: &Scope<'_>) -> Result<(), Error> {
        match self {
            Self::Compare { path, .. } | Self::Present(path) => scope.resolve(path).map(|_| ()),
            Self::And(left, right) | Self::Or(left, right) => {
                left.validate_in(scope)?;
                right.validate_in(scope)
            }
            Self::Not(inner) => inner.validate_in(scope),
            Self::ValuePath { path, filter } => match scope.resolve(path)? {
                Resolved::Core(attribute) if attribute.kind == Kind::Complex && path.sub.is_none() => {
                    filter.validate_in(&Scope::Complex(attribute))
                }
                _ => Err(Error::invalid_filter(format!(
                    "`{path}[...]` needs a complex attribute"
                ))),
            },
        }
    }

    /// Whether `resource` (the JSON form of a resource of `schema`) matches.
    #[must_use]
    pub fn matches(&self, resource: &Value, schema: &ResourceSchema) -> bool {
        self.matches_in(resource, &Scope::Resource(schema))
    }

    fn matches_in(&self, resource: &Value, scope: &Scope<'_>) -> bool {
        match self {
            Self::And(left, right) => left.matches_in(resource, scope) && right.matches_in(resource, scope),
            Self::Or(left, right) => left.matches_in(resource, scope) || right.matches_in(resource, scope),
            Self::Not(inner) => !inner.matches_in(resource, scope),
            Self::Present(path) => !scope.values(resource, path).is_empty(),
            Self::Compare { path, op, value } => {
                let values = scope.values(resource, path);
                let case_exact = scope.case_exact(path);
                let equal = || {
                    values
                        .iter()
                        .any(|v| compare(v, CompareOp::Eq, value, case_exact))
                };
                match (op, value) {
                    (CompareOp::Eq, CompValue::Null) => values.is_empty(),
                    (CompareOp::Ne, CompValue::Null) => !values.is_empty(),
                    (CompareOp::Ne, _) => !equal(),
                    _ => values.iter().any(|v| compare(v, *op, value, case_exact)),
                }
            }
            Self::ValuePath { path, filter } => {
                let Ok(Resolved::Core(attribute)) = scope.resolve(path) else {
                    return false;
                };
                let inner = Scope::Complex(attribute);
                let container = scope.container(resource, path);
                match container.and_then(|c| lookup(c, &path.name)) {
                    Some(Value::Array(items)) => items.iter().any(|item| filter.matches_in(item, &inner)),
                    Some(item @ Value::Object(_)) => filter.matches_in(item, &inner),
                    _ => false,
                }
            }
        }
    }
}

/// Where a path is resolved: a resource, or the inside of one complex value.
enum Scope<'s> {
    Resource(&'s ResourceSchema),
    Complex(&'static Attribute),
}

/// What a path names.
pub(crate) enum Resolved {
    /// A core attribute (or one sub-attribute of a complex value scope).
    Core(&'static Attribute),
    /// An attribute of the extension, by the name as written.
    Extension,
}

impl Scope<'_> {
    fn resolve(&self, path: &AttrPath) -> Result<Resolved, Error> {
        match self {
            Self::Resource(schema) => resolve(schema, path).map_err(|e| Error::invalid_filter(e.detail)),
            Self::Complex(parent) => {
                if path.schema.is_some() || path.sub.is_some() {
                    return Err(Error::invalid_filter(format!(
                        "`{path}` inside `{}[...]` must name one sub-attribute",
                        parent.name
                    )));
                }
                parent
                    .sub_attribute(&path.name)
                    .map(Resolved::Core)
                    .ok_or_else(|| {
                        Error::invalid_filter(format!(
                            "`{}` has no sub-attribute `{}`",
                            parent.name, path.name
                        ))
                    })
            }
        }
    }

    fn case_exact(&self, path: &AttrPath) -> bool {
        match self.resolve(path) {
            Ok(Resolved::Core(attribute)) => match &path.sub {
                Some(sub) => attribute.sub_attribute(sub).is_some_and(|s| s.case_exact),
                None if attribute.kind == Kind::Complex => {
                    attribute.sub_attribute("value").is_some_and(|s| s.case_exact)
                }
                None => attribute.case_exact,
            },
            _ => false,
        }
    }

    /// The object the path's attribute lives in: the resource, or its extension object.
    fn container<'v>(&self, resource: &'v Value, path: &AttrPath) -> Option<&'v Value> {
        match (self, &path.schema) {
            (Self::Resource(schema), Some(urn)) if schema.is_extension(urn) => lookup(resource, urn),
            _ => Some(resource),
        }
    }

    /// The non-null leaf values a path reaches: every element of a multi-valued attribute,
    /// the `value` sub-attribute of complex values when no sub-attribute is named.
    fn values<'v>(&self, resource: &'v Value, path: &AttrPath) -> Vec<&'v Value> {
        if self.resolve(path).is_err() {
            return Vec::new();
        }
        let Some(found) = self.container(resource, path).and_then(|c| lookup(c, &path.name)) else {
            return Vec::new();
        };
        let items: Vec<&Value> = match found {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        items
            .into_iter()
            .filter_map(|item| match (&path.sub, item) {
                (Some(sub), Value::Object(_)) => lookup(item, sub),
                (Some(_), _) => None,
                (None, Value::Object(_)) => lookup(item, "value"),
                (None, other) => Some(other),
            })
            .filter(|v| !v.is_null() && v.as_str() != Some(""))
            .collect()
    }
}

/// Resolves a path against a resource schema.
pub(crate) fn resolve(schema: &ResourceSchema, path: &AttrPath) -> Result<Resolved, Error> {
    match &path.schema {
        Some(urn) if schema.is_extension(urn) => {
            if path.sub.is_some() {
                return Err(Error::invalid_path(format!(
                    "`{path}`: the attributes of `{urn}` have no sub-attributes"
                )));
            }
            Ok(Resolved::Extension)
        }
        Some(urn) if !urn.eq_ignore_ascii_case(schema.core) => Err(Error::invalid_path(format!(
            "`{path}`: a {} has no schema `{urn}`",
            schema.name
        ))),
        _ => {
            let attribute = schema.attribute(&path.name).ok_or_else(|| {
                Error::invalid_path(format!("a {} has no attribute `{}`", schema.name, path.name))
            })?;
            if let Some(sub) = &path.sub
                && attribute.sub_attribute(sub).is_none()
            {
                return Err(Error::invalid_path(format!(
                    "`{}` has no sub-attribute `{sub}`",
                    attribute.name
                )));
            }
            Ok(Resolved::Core(attribute))
        }
    }
}

/// The member of `object` named `name`, ignoring case.
pub(crate) fn lookup<'v>(object: &'v Value, name: &str) -> Option<&'v Value> {
    let object = object.as_object()?;
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    })
}

fn compare(actual: &Value, op: CompareOp, expected: &CompValue, case_exact: bool) -> bool {
    match (actual, expected) {
        (Value::String(actual), CompValue::String(expected)) => {
            let (actual, expected) = if case_exact {
                (actual.clone(), expected.clone())
            } else {
                (actual.to_lowercase(), expected.to_lowercase())
            };
            match op {
                CompareOp::Eq => actual == expected,
                CompareOp::Ne => actual != expected,
                CompareOp::Co => actual.contains(&expected),
                CompareOp::Sw => actual.starts_with(&expected),
                CompareOp::Ew => actual.ends_with(&expected),
                CompareOp::Gt => actual > expected,
                CompareOp::Ge => actual >= expected,
                CompareOp::Lt => actual < expected,
                CompareOp::Le => actual <= expected,
            }
        }
        (Value::Number(actual), CompValue::Number(expected)) => {
            let (Some(actual), Some(expected)) = (actual.as_f64(), expected.as_f64()) else {
                return false;
            };
            let Some(ordering) = actual.partial_cmp(&expected) else {
                return false;
            };
            match op {
                CompareOp::Eq => ordering == Ordering::Equal,
                CompareOp::Ne => ordering != Ordering::Equal,
                CompareOp::Gt => ordering == Ordering::Greater,
                CompareOp::Ge => ordering != Ordering::Less,
                CompareOp::Lt => ordering == Ordering::Less,
                CompareOp::Le => ordering != Ordering::Greater,
                CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
            }
        }
        (Value::Bool(actual), CompValue::Bool(expected)) => match op {
            CompareOp::Eq => actual == expected,
            CompareOp::Ne => actual != expected,
            _ => false,
        },
        _ => false,
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(schema) = &self.schema {
            write!(f, "{schema}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("null"),
            Self::Bool(value) => write!(f, "{value}"),
            Self::Number(number) => write!(f, "{number}"),
            Self::String(text) => f.write_str(&serde_json::to_string(text).expect("a string serialises")),
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Compare { path, op, value } => write!(f, "{path} {} {value}", op.as_str()),
            Self::Present(path) => write!(f, "{path} pr"),
            Self::Not(inner) => write!(f, "not ({inner})"),
            Self::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
            // Left-associative: a right operand of the same operator needs parentheses, and
            // `or` inside `and` always does.
            Self::And(left, right) => {
                let left_parens = matches!(**left, Self::Or(..));
                let right_parens = matches!(**right, Self::Or(..) | Self::And(..));
                write_operand(f, left, left_parens)?;
                f.write_str(" and ")?;
                write_operand(f, right, right_parens)
            }
            Self::Or(left, right) => {
                write_operand(f, left, false)?;
                f.write_str(" or ")?;
                write_operand(f, right, matches!(**right, Self::Or(..)))
            }
        }
    }
}

fn write_operand(f: &mut fmt::Formatter<'_>, filter: &Filter, parens: bool) -> fmt::Result {
    if parens {
        write!(f, "({filter})")
    } else {
        write!(f, "{filter}")
    }
}

/// A lexical token, with the character offset it starts at.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    /// A run of attribute-path, keyword or number characters.
    Word(String),
    String(String),
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Self::Open => "`(`".to_owned(),
            Self::Close => "`)`".to_owned(),
            Self::OpenBracket => "`[`".to_owned(),
            Self::CloseBracket => "`]`".to_owned(),
            Self::Word(word) => format!("`{word}`"),
            Self::String(text) => format!("string {}", CompValue::String(text.clone())),
        }
    }
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '$' | '.' | ':' | '+')
}

fn lex(text: &str) -> Result<Vec<(usize, Token)>, Error> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(offset, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | '[' | ']' => {
                chars.next();
                let token = match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    '[' => Token::OpenBracket,
                    _ => Token::CloseBracket,
                };
                tokens.push((offset, token));
            }
            '"' => {
                chars.next();
                let mut end = None;
                let mut escaped = false;
                for (index, c) in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        end = Some(index);
                        break;
                    }
                }
                let end = end.ok_or_else(|| {
                    Error::invalid_filter(format!("unterminated string at {offset} in filter `{text}`"))
                })?;
                let literal = &text[offset..=end];
                let value: String = serde_json::from_str(literal).map_err(|error| {
                    Error::invalid_filter(format!("bad string {literal} at {offset}: {error}"))
                })?;
                tokens.push((offset, Token::String(value)));
            }
            c if is_word_char(c) => {
                let mut end = offset;
                while let Some(&(index, c)) = chars.peek() {
                    if !is_word_char(c) {
                        break;
                    }
                    end = index + c.len_utf8();
                    chars.next();
                }
                tokens.push((offset, Token::Word(text[offset..end].to_owned())));
            }
            other => {
                return Err(Error::invalid_filter(format!(
                    "unexpected `{other}` at {offset} in filter `{text}`"
                )));
            }
        }
    }
    Ok(tokens)
}

/// A JSON number, read exactly (`str::parse`, not serde_json's fast float path, so a
/// printed number reads back to the same value).
fn parse_number(word: &str) -> Option<Number> {
    let digits = word.strip_prefix('-').unwrap_or(word);
    if !digits.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if let Ok(integer) = word.parse::<i64>() {
        return Some(Number::from(integer));
    }
    if let Ok(integer) = word.parse::<u64>() {
        return Some(Number::from(integer));
    }
    serde_json::from_str::<Value>(word)
        .ok()
        .filter(Value::is_number)?;
    word.parse::<f64>().ok().and_then(Number::from_f64)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    position: usize,
    text_len: usize,
}

impl Parser {
    fn peek(&self) -> Option<&(usize, Token)> {
        self.tokens.get(self.position)
    }

    fn next(&mut self) -> Option<(usize, Token)> {
        let token = self.tokens.get(self.position).cloned();
        self.position += 1;
        token
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some((_, Token::Word(w))) if w.eq_ignore_ascii_case(keyword))
    }

    fn unexpected(&self, expected: &str) -> Error {
        match self.peek() {
            Some((offset, token)) => Error::invalid_filter(format!(
                "expected {expected} at {offset}, found {}",
                token.describe()
            )),
            None => Error::invalid_filter(format!(
                "expected {expected} at {}, found the end of the filter",
                self.text_len
            )),
        }
    }

    fn expect(&mut self, token: &Token, expected: &str) -> Result<(), Error> {
        if self.peek().map(|(_, t)| t) == Some(token) {
            self.position += 1;
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    fn or_expression(&mut self, in_value_path: bool) -> Result<Filter, Error> {
        let mut left = self.and_expression(in_value_path)?;
        while self.peek_keyword("or") {
            self.position += 1;
            let right = self.and_expression(in_value_path)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expression(&mut self, in_value_path: bool) -> Result<Filter, Error> {
        let mut left = self.unary(in_value_path)?;
        while self.peek_keyword("and") {
            self.position += 1;
            let right = self.unary(in_value_path)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, in_value_path: bool) -> Result<Filter, Error> {
        if self.peek_keyword("not") && matches!(self.tokens.get(self.position + 1), Some((_, Token::Open))) {
            self.position += 2;
            let inner = self.or_expression(in_value_path)?;
            self.expect(&Token::Close, "`)`")?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        if matches!(self.peek(), Some((_, Token::Open))) {
            self.position += 1;
            let inner = self.or_expression(in_value_path)?;
            self.expect(&Token::Close, "`)`")?;
            return Ok(inner);
        }
        self.attribute_expression(in_value_path)
    }

    fn attribute_expression(&mut self, in_value_path: bool) -> Result<Filter, Error> {
        let (offset, word) = match self.peek() {
            Some((offset, Token::Word(word))) => (*offset, word.clone()),
            _ => return Err(self.unexpected("an attribute name")),
        };
        self.position += 1;
        let path = AttrPath::parse(&word)
            .map_err(|detail| Error::invalid_filter(format!("{detail} at {offset}")))?;
        if matches!(self.peek(), Some((_, Token::OpenBracket))) {
            if in_value_path {
                return Err(Error::invalid_filter(format!(
                    "a value filter cannot hold another one (`{path}[` at {offset})"
                )));
            }
            self.position += 1;
            let filter = self.or_expression(true)?;
            self.expect(&Token::CloseBracket, "`]`")?;
            return Ok(Filter::ValuePath {
                path,
                filter: Box::new(filter),
            });
        }
        let op_offset = self.peek().map_or(self.text_len, |(o, _)| *o);
        let op = match self.next() {
            Some((_, Token::Word(w))) if w.eq_ignore_ascii_case("pr") => {
                return Ok(Filter::Present(path));
            }
            Some((_, Token::Word(w))) => CompareOp::parse(&w)
                .ok_or_else(|| Error::invalid_filter(format!("unknown operator `{w}` at {op_offset}")))?,
            _ => {
                self.position -= 1;
                return Err(self.unexpected("an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)"));
            }
        };
        let value_offset = self.peek().map_or(self.text_len, |(o, _)| *o);
        let value = match self.next() {
            Some((_, Token::String(text))) => CompValue::String(text),
            Some((_, Token::Word(w))) if w == "true" => CompValue::Bool(true),
            Some((_, Token::Word(w))) if w == "false" => CompValue::Bool(false),
            Some((_, Token::Word(w))) if w == "null" => CompValue::Null,
            Some((_, Token::Word(w))) => match parse_number(&w) {
                Some(number) => CompValue::Number(number),
                None => {
                    return Err(Error::invalid_filter(format!(
                        "expected a value (a string in double quotes, a number, true, false or null) at {value_offset}, found `{w}`"
                    )));
                }
            },
            _ => {
                self.position -= 1;
                return Err(self.unexpected("a value"));
            }
        };
        let fits = match &value {
            CompValue::String(_) => true,
            CompValue::Number(_) => !op.is_substring(),
            CompValue::Bool(_) | CompValue::Null => !op.is_substring() && !op.is_ordering(),
        };
        if !fits {
            return Err(Error::invalid_filter(format!(
                "`{}` does not apply to {value} (at {value_offset})",
                op.as_str()
            )));
        }
        Ok(Filter::Compare { path, op, value })
    }
}

/// A PATCH path (RFC 7644 §3.5.2): `attrPath` or `attrPath[valFilter][.subAttr]`.
///
/// # Errors
/// `invalidPath` naming what is malformed.
pub(crate) fn parse_patch_path(text: &str) -> Result<(AttrPath, Option<Filter>, Option<String>), Error> {
    let to_path_error = |error: Error| Error::invalid_path(format!("path `{text}`: {}", error.detail));
    let tokens = lex(text).map_err(to_path_error)?;
    let mut parser = Parser {
        tokens,
        position: 0,
        text_len: text.len(),
    };
    let Some((_, Token::Word(word))) = parser.next() else {
        return Err(Error::invalid_path(format!(
            "path `{text}` does not start with an attribute"
        )));
    };
    let path = AttrPath::parse(&word).map_err(Error::invalid_path)?;
    let mut filter = None;
    let mut sub = None;
    if matches!(parser.peek(), Some((_, Token::OpenBracket))) {
        parser.position += 1;
        filter = Some(parser.or_expression(true).map_err(to_path_error)?);
        parser
            .expect(&Token::CloseBracket, "`]`")
            .map_err(to_path_error)?;
        if let Some((_, Token::Word(word))) = parser.peek() {
            let name = word
                .strip_prefix('.')
                .ok_or_else(|| Error::invalid_path(format!("path `{text}`: expected `.` after `]`")))?;
            AttrPath::parse(name).map_err(Error::invalid_path)?;
            if name.contains('.') || name.contains(':') {
                return Err(Error::invalid_path(format!(
                    "path `{text}`: one sub-attribute after `]`"
                )));
            }
            sub = Some(name.to_owned());
            parser.position += 1;
        }
        if path.sub.is_some() {
            return Err(Error::invalid_path(format!(
                "path `{text}`: a value filter applies to an attribute, not a sub-attribute"
            )));
        }
    }
    if let Some((offset, token)) = parser.peek() {
        return Err(Error::invalid_path(format!(
            "path `{text}`: unexpected {} at {offset}",
            token.describe()
        )));
    }
    Ok((path, filter, sub))
}

impl AttrPath {
    /// Parses `[URI ":"] ATTRNAME ["." subAttr]`.
    ///
    /// # Errors
    /// A description of what is wrong, for the caller to wrap in its `scimType`.
    pub fn parse(word: &str) -> Result<Self, String> {
        let (schema, rest) = match word.rfind(':') {
            Some(colon) => (Some(word[..colon].to_owned()), &word[colon + 1..]),
            None => (None, word),
        };
        if let Some(schema) = &schema
            && !schema.to_ascii_lowercase().starts_with("urn:")
        {
            return Err(format!(
                "`{word}` is not an attribute path (a schema is a `urn:`)"
            ));
        }
        let (name, sub) = match rest.split_once('.') {
            Some((name, sub)) => (name, Some(sub)),
            None => (rest, None),
        };
        for part in std::iter::once(name).chain(sub) {
            let valid = part.strip_prefix('$').unwrap_or(part);
            let mut chars = valid.chars();
            let starts_alpha = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
            if !starts_alpha || !chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                return Err(format!("`{word}` is not an attribute path"));
            }
        }
        Ok(Self {
            schema,
            name: name.to_owned(),
            sub: sub.map(str::to_owned),
        })
    }

    /// A path to a top-level attribute.
    #[must_use]
    pub fn attribute(name: &str) -> Self {
        Self {
            schema: None,
            name: name.to_owned(),
            sub: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ScimType;
    use crate::schema::{GROUP, USER};

    fn check(text: &str, expected: &str) {
        let filter = Filter::parse(text).unwrap_or_else(|e| panic!("`{text}`: {e}"));
        assert_eq!(filter.to_string(), expected, "`{text}`");
        assert_eq!(Filter::parse(&filter.to_string()).expect("reparses"), filter);
    }

    #[test]
    fn parses_and_prints() {
        check(r#"userName eq "bjensen""#, r#"userName eq "bjensen""#);
        check(
            r#"userName Eq "x" AND active EQ true"#,
            r#"userName eq "x" and active eq true"#,
        );
        check("title pr", "title pr");
        check(r"a eq 1 or b eq 2 and c eq 3", r"a eq 1 or b eq 2 and c eq 3");
        check(r"(a eq 1 or b eq 2) and c eq 3", r"(a eq 1 or b eq 2) and c eq 3");
        check(
            r"a eq 1 and (b eq 2 and c eq 3)",
            r"a eq 1 and (b eq 2 and c eq 3)",
        );
        check(r"not(a pr)", "not (a pr)");
        check(
            r#"emails[type eq "work" and value co "@example.com"]"#,
            r#"emails[type eq "work" and value co "@example.com"]"#,
        );
        check(
            r#"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName co "O'Malley""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName co "O'Malley""#,
        );
        check(
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        );
        check(r#"x eq "a \"quoted\" ]""#, r#"x eq "a \"quoted\" ]""#);
        check("n ge -1.5e3", "n ge -1500.0");
        check(r"externalId eq null", "externalId eq null");
    }

    #[test]
    fn bad_filters_are_invalid_filter_errors_with_a_position() {
        for (text, needle) in [
            ("userName eq", "expected a value at 11"),
            ("userName", "expected an operator"),
            ("userName xx \"a\"", "unknown operator `xx` at 9"),
            ("(userName pr", "expected `)` at 12"),
            ("userName pr)", "unexpected `)` at 11"),
            ("userName eq \"open", "unterminated string at 12"),
            ("userName eq bob", "found `bob`"),
            ("active gt true", "`gt` does not apply to true"),
            ("userName co 3", "`co` does not apply to 3"),
            ("emails[value[x pr]]", "cannot hold another"),
            ("1abc pr", "not an attribute path"),
            ("userName eq 'x'", "unexpected `'`"),
            ("", "expected an attribute name at 0"),
        ] {
            let error = Filter::parse(text).expect_err(text);
            assert_eq!(error.scim_type, Some(ScimType::InvalidFilter), "{text}");
            assert!(error.detail.contains(needle), "`{text}`: {}", error.detail);
        }
    }

    fn user() -> Value {
        json!({
            "schemas": [crate::USER_SCHEMA],
            "id": "2819c223",
            "externalId": "00uAbC",
            "userName": "Alice@Globex.com",
            "name": {"givenName": "Alice", "familyName": "Ng"},
            "active": true,
            "emails": [
                {"value": "alice@globex.com", "type": "work", "primary": true},
                {"value": "alice@home.example", "type": "home"}
            ],
            "meta": {"lastModified": "2026-12-01T10:00:00Z"},
            crate::SELF_SERVICE_SCHEMA: {"region": "EMEA", "tier": 2}
        })
    }

    #[test]
    fn evaluates_over_a_user() {
        let user = user();
        for (text, expected) in [
            (r#"userName eq "alice@globex.com""#, true),
            (r#"USERNAME EQ "ALICE@GLOBEX.COM""#, true),
            (r#"externalId eq "00uabc""#, false),
            (r#"externalId eq "00uAbC""#, true),
            (r#"id eq "2819C223""#, false),
            (r#"userName sw "alice" and userName ew ".com""#, true),
            (r#"userName co "globex""#, true),
            (r#"userName ne "alice@globex.com""#, false),
            (r#"name.givenName eq "alice""#, true),
            (r#"emails co "home.example""#, true),
            (r#"emails.value eq "alice@home.example""#, true),
            (r#"emails[type eq "work" and value eq "alice@globex.com"]"#, true),
            (
                r#"emails[type eq "work" and value eq "alice@home.example"]"#,
                false,
            ),
            (r#"emails[type eq "other"]"#, false),
            ("active eq true", true),
            ("active eq false", false),
            ("displayName pr", false),
            ("not (displayName pr)", true),
            ("displayName eq null", true),
            ("userName ne null", true),
            (r#"meta.lastModified gt "2026-11-30T00:00:00Z""#, true),
            (r#"meta.lastModified lt "2026-11-30T00:00:00Z""#, false),
            (
                r#"urn:ietf:params:scim:schemas:extension:portalctl:2.0:User:region eq "emea""#,
                true,
            ),
            (
                r"urn:ietf:params:scim:schemas:extension:portalctl:2.0:User:tier ge 2",
                true,
            ),
            (
                r"urn:ietf:params:scim:schemas:extension:portalctl:2.0:User:tier gt 2",
                false,
            ),
            (
                r#"userName eq "x" or (active eq true and not (emails[type eq "other"]))"#,
                true,
            ),
            (r#"title eq "CFO""#, false),
        ] {
            let filter = Filter::parse(text).expect(text);
            assert_eq!(filter.matches(&user, &USER), expected, "`{text}`");
        }
    }

    #[test]
    fn validate_names_unknown_attributes() {
        Filter::parse(r#"userName eq "a" and emails[type eq "work"]"#)
            .expect("parses")
            .validate(&USER)
            .expect("known");
        for text in [
            r#"title eq "CFO""#,
            r#"emails[kind eq "work"]"#,
            r#"userName[value eq "a"]"#,
            r"urn:example:Other:x pr",
            "name.nickname pr",
        ] {
            let error = Filter::parse(text).expect(text).validate(&USER).expect_err(text);
            assert_eq!(error.scim_type, Some(ScimType::InvalidFilter), "{text}");
        }
        Filter::parse(r#"displayName eq "Sales""#)
            .expect("parses")
            .validate(&GROUP)
            .expect("known");
    }
}
