//! The `tree=` query: which fields Jenkins returns, nested, with range specifiers.

use std::fmt;
use std::str::FromStr;

use cidata_core::{Error, ErrorKind, Result};

/// A slice of a collection, newest first, 0-based, end exclusive (`{M,N}`, `{M,}`, `{,N}`, `{N}`).
/// A range past the end is cut short by the server, not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Range {
    /// `{M,N}`: entries M to N-1.
    Between(u64, u64),
    /// `{M,}`: from entry M to the end.
    From(u64),
    /// `{,N}`: the first N entries.
    To(u64),
    /// `{N}`: entry N alone.
    Exactly(u64),
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Range::Between(m, n) => write!(f, "{{{m},{n}}}"),
            Range::From(m) => write!(f, "{{{m},}}"),
            Range::To(n) => write!(f, "{{,{n}}}"),
            Range::Exactly(n) => write!(f, "{{{n}}}"),
        }
    }
}

/// One field of a [`Tree`]: a name, optional sub-fields, and an optional range.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Field {
    name: String,
    children: Option<Tree>,
    range: Option<Range>,
}

impl Field {
    /// A plain field.
    pub fn new(name: impl Into<String>) -> Field {
        Field {
            name: name.into(),
            children: None,
            range: None,
        }
    }

    /// Sets the sub-fields (`name[...]`).
    pub fn children(mut self, children: Tree) -> Field {
        self.children = Some(children);
        self
    }

    /// Sets the range (`name[...]{M,N}`).
    pub fn range(mut self, range: Range) -> Field {
        self.range = Some(range);
        self
    }

    /// The field's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The sub-fields, if any.
    pub fn sub_tree(&self) -> Option<&Tree> {
        self.children.as_ref()
    }

    /// The range, if any.
    pub fn range_spec(&self) -> Option<Range> {
        self.range
    }
}

/// A `tree=` query, built from values and rendered on demand; it also parses such strings.
///
/// ```
/// use cidata_jenkins::{Tree, Range};
/// let tree = Tree::fields(["name", "url"])
///     .nested_range("allBuilds", Tree::fields(["number", "result"]), Range::Between(0, 100));
/// assert_eq!(tree.to_string(), "name,url,allBuilds[number,result]{0,100}");
/// assert_eq!(tree.to_string().parse::<Tree>().unwrap(), tree);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Tree {
    fields: Vec<Field>,
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Tree {
        Tree::default()
    }

    /// A tree of plain fields.
    pub fn fields<I, S>(names: I) -> Tree
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Tree {
            fields: names.into_iter().map(Field::new).collect(),
        }
    }

    /// Adds a plain field.
    pub fn field(mut self, name: impl Into<String>) -> Tree {
        self.fields.push(Field::new(name));
        self
    }

    /// Adds a field with sub-fields.
    pub fn nested(self, name: impl Into<String>, children: Tree) -> Tree {
        self.with(Field::new(name).children(children))
    }

    /// Adds a field with sub-fields and a range.
    pub fn nested_range(self, name: impl Into<String>, children: Tree, range: Range) -> Tree {
        self.with(Field::new(name).children(children).range(range))
    }

    /// Adds a field, replacing any field of the same name.
    pub fn with(mut self, field: Field) -> Tree {
        self.fields.retain(|f| f.name != field.name);
        self.fields.push(field);
        self
    }

    /// The fields in order.
    pub fn field_list(&self) -> &[Field] {
        &self.fields
    }

    /// The field called `name`.
    pub fn get(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Whether the tree has no field.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Parses a `tree=` string.
    pub fn parse(input: &str) -> Result<Tree> {
        let mut parser = Parser {
            input: input.as_bytes(),
            text: input,
            pos: 0,
        };
        let tree = parser.tree()?;
        if parser.pos != input.len() {
            return Err(parser.error("unexpected character"));
        }
        Ok(tree)
    }
}

impl fmt::Display for Tree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, field) in self.fields.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(&field.name)?;
            if let Some(children) = &field.children {
                write!(f, "[{children}]")?;
            }
            if let Some(range) = &field.range {
                write!(f, "{range}")?;
            }
        }
        Ok(())
    }
}

impl FromStr for Tree {
    type Err = Error;
    fn from_str(s: &str) -> Result<Tree> {
        Tree::parse(s)
    }
}

/// Characters that end a field name.
fn is_delimiter(b: u8) -> bool {
    matches!(b, b'[' | b']' | b'{' | b'}' | b',') || b.is_ascii_whitespace()
}

struct Parser<'a> {
    input: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> Error {
        Error::new(
            ErrorKind::InvalidInput,
            format!("invalid tree `{}`: {what} at byte {}", self.text, self.pos),
        )
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn tree(&mut self) -> Result<Tree> {
        let mut tree = Tree::new();
        if self.peek().is_none() {
            return Ok(tree);
        }
        loop {
            tree.fields.push(self.field()?);
            match self.peek() {
                Some(b',') => self.pos += 1,
                _ => return Ok(tree),
            }
        }
    }

    fn field(&mut self) -> Result<Field> {
        let start = self.pos;
        while self.peek().is_some_and(|b| !is_delimiter(b)) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error("expected a field name"));
        }
        let mut field = Field::new(&self.text[start..self.pos]);
        if self.peek() == Some(b'[') {
            self.pos += 1;
            let children = self.tree()?;
            if children.is_empty() {
                return Err(self.error("empty `[]`"));
            }
            if self.peek() != Some(b']') {
                return Err(self.error("expected `]`"));
            }
            self.pos += 1;
            field.children = Some(children);
        }
        if self.peek() == Some(b'{') {
            self.pos += 1;
            field.range = Some(self.range()?);
        }
        Ok(field)
    }

    fn number(&mut self) -> Result<Option<u64>> {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == start {
            return Ok(None);
        }
        self.text[start..self.pos]
            .parse()
            .map(Some)
            .map_err(|_| self.error("number too large"))
    }

    fn range(&mut self) -> Result<Range> {
        let first = self.number()?;
        let range = if self.peek() == Some(b',') {
            self.pos += 1;
            match (first, self.number()?) {
                (Some(m), Some(n)) => Range::Between(m, n),
                (Some(m), None) => Range::From(m),
                (None, Some(n)) => Range::To(n),
                (None, None) => return Err(self.error("a range needs a bound")),
            }
        } else {
            Range::Exactly(first.ok_or_else(|| self.error("expected a number"))?)
        };
        if self.peek() != Some(b'}') {
            return Err(self.error("expected `}`"));
        }
        self.pos += 1;
        Ok(range)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn renders_every_range_form() {
        let t = Tree::new()
            .with(Field::new("a").range(Range::Between(1, 5)))
            .with(Field::new("b").range(Range::From(3)))
            .with(Field::new("c").range(Range::To(7)))
            .with(
                Field::new("d")
                    .children(Tree::fields(["x"]))
                    .range(Range::Exactly(0)),
            );
        assert_eq!(t.to_string(), "a{1,5},b{3,},c{,7},d[x]{0}");
        assert_eq!(Tree::parse(&t.to_string()).unwrap(), t);
    }

    #[test]
    fn parses_nested_jobs() {
        let t = Tree::parse("jobs[name,url,_class,jobs[name,jobs[name]]]").unwrap();
        let jobs = t.get("jobs").unwrap().sub_tree().unwrap();
        assert_eq!(jobs.field_list().len(), 4);
        assert!(
            jobs.get("jobs")
                .unwrap()
                .sub_tree()
                .unwrap()
                .get("jobs")
                .is_some()
        );
    }

    #[test]
    fn rejects_malformed_trees() {
        for bad in [
            "a[", "a[]", "a]", "a{}", "a{,}", "a{1", "a,,b", ",a", "a{x}", "a b", "a[b]c",
        ] {
            let err = Tree::parse(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
            assert!(err.to_string().contains(bad), "{err}");
        }
    }

    fn arb_range() -> impl Strategy<Value = Range> {
        prop_oneof![
            (0u64..10_000, 0u64..10_000).prop_map(|(m, n)| Range::Between(m, n)),
            (0u64..10_000).prop_map(Range::From),
            (0u64..10_000).prop_map(Range::To),
            (0u64..10_000).prop_map(Range::Exactly),
        ]
    }

    fn arb_tree() -> impl Strategy<Value = Tree> {
        let name = "[A-Za-z_$][A-Za-z0-9_$.]{0,8}";
        let leaf = (name, proptest::option::of(arb_range())).prop_map(|(n, r)| Field {
            name: n,
            children: None,
            range: r,
        });
        let field = leaf.prop_recursive(4, 32, 4, move |inner| {
            (
                name,
                proptest::collection::vec(inner, 1..4),
                proptest::option::of(arb_range()),
            )
                .prop_map(|(n, kids, r)| Field {
                    name: n,
                    children: Some(Tree { fields: kids }),
                    range: r,
                })
        });
        proptest::collection::vec(field, 0..5).prop_map(|fields| Tree { fields })
    }

    proptest! {
        #[test]
        fn render_then_parse_is_identity(tree in arb_tree()) {
            let rendered = tree.to_string();
            prop_assert_eq!(Tree::parse(&rendered).unwrap(), tree);
        }

        #[test]
        fn parse_never_panics(input in "[a-z\\[\\]{},0-9 ]{0,24}") {
            let _ = Tree::parse(&input);
        }
    }
}
