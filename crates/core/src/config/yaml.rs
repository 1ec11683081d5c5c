//! A span-aware YAML pass: saphyr-parser events become a tree of [`Node`]s in which every
//! value, and every mapping key, carries its line and column. Duplicate keys, non-scalar
//! keys and runaway aliases are rejected here, before anything else looks at the data.
//!
//! **Architecture invariant:** no I/O; input is a `&str`, output a tree or an error.

use saphyr_parser::{Event, Parser, ScalarStyle};

/// Where a value starts: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub at: Position,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Seq(Vec<Node>),
    /// Entries in document order; keys are unique.
    Map(Vec<(Key, Node)>),
}

/// A mapping key: its text and where it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub text: String,
    pub at: Position,
}

/// A problem found while reading YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub at: Position,
    pub message: String,
    /// For duplicate keys: where the key was first defined.
    pub first: Option<Position>,
}

/// Nesting deeper than this is refused (a config needs about six levels).
const MAX_DEPTH: usize = 64;
/// Alias expansion may not grow the tree past this many nodes ("billion laughs").
const MAX_ALIAS_NODES: usize = 1_000_000;

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k.text == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn key_position(&self, key: &str) -> Option<Position> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k.text == key).map(|(k, _)| k.at),
            _ => None,
        }
    }

    /// The node at an RFC 6901 pointer, following it as far as it goes; returns the
    /// deepest node reached and whether the whole pointer resolved.
    pub fn at_pointer(&self, pointer: &str) -> (&Node, bool) {
        let mut node = self;
        if pointer.is_empty() {
            return (node, true);
        }
        for raw in pointer[1..].split('/') {
            let segment = raw.replace("~1", "/").replace("~0", "~");
            let next = match &node.value {
                Value::Map(_) => node.get(&segment),
                Value::Seq(items) => segment.parse::<usize>().ok().and_then(|index| items.get(index)),
                _ => None,
            };
            match next {
                Some(next) => node = next,
                None => return (node, false),
            }
        }
        (node, true)
    }

    /// The plain data, for schema validation and deserialisation.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(value) => serde_json::Value::Bool(*value),
            Value::Int(value) => serde_json::Value::from(*value),
            Value::Float(value) => serde_json::Number::from_f64(*value)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Value::String(value) => serde_json::Value::String(value.clone()),
            Value::Seq(items) => serde_json::Value::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(key, value)| (key.text.clone(), value.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Parses one YAML document. An empty file is `Null`; a second document is an error.
pub fn parse(text: &str) -> Result<Node, YamlError> {
    Builder::default().run(text)
}

#[derive(Default)]
struct Builder {
    /// Open collections: the node being built and, for maps, a pending key.
    stack: Vec<Frame>,
    anchors: std::collections::HashMap<usize, Node>,
    /// Open anchors: (anchor id, depth in `stack` of the collection carrying it).
    open_anchors: Vec<(usize, usize)>,
    nodes: usize,
}

enum Frame {
    Seq {
        at: Position,
        items: Vec<Node>,
    },
    Map {
        at: Position,
        entries: Vec<(Key, Node)>,
        pending: Option<Key>,
        /// Key text → where it was first defined, for duplicate detection in O(1).
        seen: std::collections::HashMap<String, Position>,
    },
}

fn position(marker: saphyr_parser::Marker) -> Position {
    Position {
        line: u32::try_from(marker.line()).unwrap_or(u32::MAX),
        column: u32::try_from(marker.col() + 1).unwrap_or(u32::MAX),
    }
}

fn error(at: Position, message: impl Into<String>) -> YamlError {
    YamlError {
        at,
        message: message.into(),
        first: None,
    }
}

fn count_nodes(node: &Node) -> usize {
    match &node.value {
        Value::Seq(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Value::Map(entries) => 1 + entries.iter().map(|(_, value)| count_nodes(value)).sum::<usize>(),
        _ => 1,
    }
}

impl Builder {
    fn run(mut self, text: &str) -> Result<Node, YamlError> {
        let mut documents = 0;
        let mut root: Option<Node> = None;
        for event in Parser::new_from_str(text) {
            let (event, span) = event.map_err(|scan| {
                let at = position(*scan.marker());
                error(at, format!("invalid YAML: {}", scan.info()))
            })?;
            let at = position(span.start);
            match event {
                Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
                Event::DocumentStart(_) => {
                    documents += 1;
                    if documents > 1 {
                        return Err(error(
                            at,
                            "a config file holds one YAML document; found a second `---`",
                        ));
                    }
                }
                Event::Alias(id) => {
                    let node = self
                        .anchors
                        .get(&id)
                        .cloned()
                        .ok_or_else(|| error(at, "alias to an unknown anchor"))?;
                    self.nodes += count_nodes(&node);
                    if self.nodes > MAX_ALIAS_NODES {
                        return Err(error(at, "aliases expand to too many values"));
                    }
                    let node = Node { at, ..node };
                    if let Some(done) = self.add(node)? {
                        root = Some(done);
                    }
                }
                Event::Scalar(text, style, anchor, tag) => {
                    let value = if let Some(tag) = tag.as_deref() {
                        match (tag.handle.as_str(), tag.suffix.as_str()) {
                            ("!!" | "tag:yaml.org,2002:", "str") => Value::String(text.into_owned()),
                            _ => resolve_scalar(&text, style),
                        }
                    } else {
                        resolve_scalar(&text, style)
                    };
                    self.nodes += 1;
                    let node = Node { value, at };
                    if anchor > 0 {
                        self.anchors.insert(anchor, node.clone());
                    }
                    if let Some(done) = self.add(node)? {
                        root = Some(done);
                    }
                }
                Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                    if self.stack.len() >= MAX_DEPTH {
                        return Err(error(at, format!("nesting deeper than {MAX_DEPTH} levels")));
                    }
                    if anchor > 0 {
                        self.open_anchors.push((anchor, self.stack.len()));
                    }
                    self.stack.push(if matches!(event, Event::SequenceStart(..)) {
                        Frame::Seq {
                            at,
                            items: Vec::new(),
                        }
                    } else {
                        Frame::Map {
                            at,
                            entries: Vec::new(),
                            pending: None,
                            seen: std::collections::HashMap::new(),
                        }
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let node = match self.stack.pop() {
                        Some(Frame::Seq { at, items }) => Node {
                            value: Value::Seq(items),
                            at,
                        },
                        Some(Frame::Map { at, entries, .. }) => Node {
                            value: Value::Map(resolve_merge_keys(entries)?),
                            at,
                        },
                        None => return Err(error(at, "unbalanced YAML collection")),
                    };
                    self.nodes += 1;
                    if let Some(&(anchor, depth)) = self.open_anchors.last()
                        && depth == self.stack.len()
                    {
                        self.open_anchors.pop();
                        self.anchors.insert(anchor, node.clone());
                    }
                    if let Some(done) = self.add(node)? {
                        root = Some(done);
                    }
                }
            }
        }
        Ok(root.unwrap_or(Node {
            value: Value::Null,
            at: Position { line: 1, column: 1 },
        }))
    }

    /// Adds a finished node to the open collection, or returns it when it is the root.
    fn add(&mut self, node: Node) -> Result<Option<Node>, YamlError> {
        match self.stack.last_mut() {
            None => Ok(Some(node)),
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(None)
            }
            Some(Frame::Map {
                entries,
                pending,
                seen,
                ..
            }) => {
                match pending.take() {
                    Some(key) => entries.push((key, node)),
                    None => {
                        let text = match node.value {
                            Value::String(text) => text,
                            Value::Int(value) => value.to_string(),
                            Value::Bool(value) => value.to_string(),
                            Value::Float(value) => value.to_string(),
                            Value::Null => String::new(),
                            Value::Seq(_) | Value::Map(_) => {
                                return Err(error(
                                    node.at,
                                    "mapping keys must be plain values, not lists or maps",
                                ));
                            }
                        };
                        if let Some(first) = seen.get(&text) {
                            return Err(YamlError {
                                at: node.at,
                                message: format!("duplicate key `{text}`"),
                                first: Some(*first),
                            });
                        }
                        seen.insert(text.clone(), node.at);
                        *pending = Some(Key { text, at: node.at });
                    }
                }
                Ok(None)
            }
        }
    }
}

/// The merge key of YAML 1.1 (`<<: *defaults`, `<<: [*a, *b]`): the entries of the merged
/// mappings join this one where it does not set the key itself; with a list, earlier
/// mappings win. Merged entries keep the positions where they were written (the anchor's
/// lines), so diagnostics about a merged value point at the line that wrote it.
fn resolve_merge_keys(entries: Vec<(Key, Node)>) -> Result<Vec<(Key, Node)>, YamlError> {
    if !entries.iter().any(|(key, _)| key.text == MERGE_KEY) {
        return Ok(entries);
    }
    let own: std::collections::HashSet<String> = entries
        .iter()
        .filter(|(key, _)| key.text != MERGE_KEY)
        .map(|(key, _)| key.text.clone())
        .collect();
    let mut taken = std::collections::HashSet::new();
    let mut resolved = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        if key.text != MERGE_KEY {
            resolved.push((key, value));
            continue;
        }
        let sources = match value.value {
            Value::Map(_) => vec![value],
            Value::Seq(items) => items,
            _ => return Err(merge_error(value.at)),
        };
        for source in sources {
            let Value::Map(merged) = source.value else {
                return Err(merge_error(source.at));
            };
            for (merged_key, merged_value) in merged {
                if !own.contains(&merged_key.text) && taken.insert(merged_key.text.clone()) {
                    resolved.push((merged_key, merged_value));
                }
            }
        }
    }
    Ok(resolved)
}

const MERGE_KEY: &str = "<<";

fn merge_error(at: Position) -> YamlError {
    error(
        at,
        "a merge key `<<` takes a mapping or a list of mappings (e.g. `<<: *defaults` or `<<: [*a, *b]`)",
    )
}

/// The YAML 1.2 core schema for plain scalars; quoted and block scalars are strings.
fn resolve_scalar(text: &str, style: ScalarStyle) -> Value {
    if style != ScalarStyle::Plain {
        return Value::String(text.to_string());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && let Ok(value) = text.parse::<i64>()
    {
        return Value::Int(value);
    }
    let looks_float = text.bytes().any(|b| b.is_ascii_digit())
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && text.contains(['.', 'e', 'E']);
    if looks_float && let Ok(value) = text.parse::<f64>() {
        return Value::Float(value);
    }
    Value::String(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_positions_of_values_and_keys() {
        let node = parse("portals:\n  globex:\n    color: \"#0F62FE\"\n    members:\n      - role: viwer\n")
            .unwrap();
        let color = node
            .get("portals")
            .unwrap()
            .get("globex")
            .unwrap()
            .get("color")
            .unwrap();
        assert_eq!(color.at, Position { line: 3, column: 12 });
        let (role, found) = node.at_pointer("/portals/globex/members/0/role");
        assert!(found);
        assert_eq!(role.at, Position { line: 5, column: 15 });
        assert_eq!(
            node.get("portals").unwrap().key_position("globex"),
            Some(Position { line: 2, column: 3 })
        );
    }

    #[test]
    fn resolves_plain_scalars() {
        let node = parse("a: 1\nb: true\nc: ~\nd: '1'\ne: 2027-03-31\nf: 1.5\ng: \"#x\"").unwrap();
        assert_eq!(
            node.to_json(),
            serde_json::json!({"a": 1, "b": true, "c": null, "d": "1", "e": "2027-03-31", "f": 1.5, "g": "#x"})
        );
    }

    #[test]
    fn rejects_duplicate_keys_naming_both_places() {
        let error = parse("roles:\n  a: {}\n  a: {}\n").unwrap_err();
        assert_eq!(error.at.line, 3);
        assert_eq!(error.first.unwrap().line, 2);
        assert!(error.message.contains("duplicate key `a`"));
    }

    #[test]
    fn reports_syntax_errors_with_a_position() {
        let error = parse("a: [1, 2\nb: c").unwrap_err();
        assert!(error.message.starts_with("invalid YAML"), "{}", error.message);
        assert!(error.at.line >= 1);
    }

    #[test]
    fn expands_aliases_within_limits() {
        let node = parse("base: &b {x: 1}\nother: *b\n").unwrap();
        assert_eq!(
            node.to_json(),
            serde_json::json!({"base": {"x": 1}, "other": {"x": 1}})
        );
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..8 {
            let prev = level - 1;
            bomb.push_str(&format!("a{level}: &a{level} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"));
        }
        assert!(parse(&bomb).unwrap_err().message.contains("too many"));
    }

    #[test]
    fn merge_keys_join_mappings_and_keep_the_anchor_lines() {
        let text = "x-defaults: &defaults\n  color: red\n  ttl: 12h\nx-more: &more\n  ttl: 1h\n  help: h\nportal:\n  <<: [*defaults, *more]\n  color: blue\n";
        let root = parse(text).unwrap();
        let portal = root.get("portal").unwrap();
        let Value::Map(entries) = &portal.value else {
            panic!("a map")
        };
        let keys: Vec<&str> = entries.iter().map(|(key, _)| key.text.as_str()).collect();
        assert_eq!(keys, ["ttl", "help", "color"]);
        // the portal's own value wins and stays on its own line
        assert_eq!(portal.get("color").unwrap().value, Value::String("blue".into()));
        assert_eq!(portal.get("color").unwrap().at.line, 9);
        // the first mapping of the list wins; merged values keep the anchor's lines
        assert_eq!(portal.get("ttl").unwrap().value, Value::String("12h".into()));
        assert_eq!(portal.get("ttl").unwrap().at.line, 3);
        assert_eq!(portal.key_position("help").unwrap().line, 6);
    }

    #[test]
    fn merge_keys_refuse_scalars() {
        let error = parse("a: &a 1\nb:\n  <<: *a\n").unwrap_err();
        assert!(error.message.contains("merge key"), "{error:?}");
        assert_eq!(error.at.line, 3);
        let error = parse("a: &a {x: 1}\nb:\n  <<: [*a, 2]\n").unwrap_err();
        assert!(error.message.contains("merge key"), "{error:?}");
    }

    #[test]
    fn refuses_deep_nesting_and_second_documents() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(parse(&deep).is_err());
        assert!(parse("a: 1\n---\nb: 2\n").is_err());
        assert_eq!(parse("").unwrap().value, Value::Null);
    }
}
