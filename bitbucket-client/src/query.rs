//! Bitbucket's query language for lists: `q` filters, `sort` and `fields`, built typed so that a
//! value is always quoted right.

use std::fmt;

/// A value on the right of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    /// A string, written quoted (`"OPEN"`), `"` and `\` escaped.
    Text(String),
    /// A date-time, written bare (`2026-01-01T00:00:00Z`), as the language wants it.
    Time(String),
    /// A number.
    Number(i64),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

impl FilterValue {
    /// A date-time from milliseconds since the epoch (UTC).
    pub fn time_ms(ms: i64) -> FilterValue {
        let text = jiff::Timestamp::from_millisecond(ms)
            .map(|t| format!("{t:.3}"))
            .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned());
        FilterValue::Time(text)
    }
}

impl From<&str> for FilterValue {
    fn from(s: &str) -> FilterValue {
        FilterValue::Text(s.to_owned())
    }
}

impl From<String> for FilterValue {
    fn from(s: String) -> FilterValue {
        FilterValue::Text(s)
    }
}

impl From<i64> for FilterValue {
    fn from(n: i64) -> FilterValue {
        FilterValue::Number(n)
    }
}

impl From<bool> for FilterValue {
    fn from(b: bool) -> FilterValue {
        FilterValue::Bool(b)
    }
}

impl fmt::Display for FilterValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterValue::Text(s) => {
                f.write_str("\"")?;
                for c in s.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        c => write!(f, "{c}")?,
                    }
                }
                f.write_str("\"")
            }
            FilterValue::Time(t) => f.write_str(t),
            FilterValue::Number(n) => write!(f, "{n}"),
            FilterValue::Bool(b) => write!(f, "{b}"),
            FilterValue::Null => f.write_str("null"),
        }
    }
}

/// A `q` filter: comparisons joined with `AND` and `OR`.
///
/// ```
/// use cidata_bitbucket::{Filter, FilterValue};
/// let q = Filter::eq("state", "OPEN")
///     .and(Filter::gte("updated_on", FilterValue::Time("2026-01-01T00:00:00Z".into())));
/// assert_eq!(q.to_string(), r#"(state = "OPEN") AND (updated_on >= 2026-01-01T00:00:00Z)"#);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Filter(String);

impl Filter {
    fn compare(field: &str, op: &str, value: impl Into<FilterValue>) -> Filter {
        Filter(format!("{field} {op} {}", value.into()))
    }

    /// `field = value`.
    pub fn eq(field: &str, value: impl Into<FilterValue>) -> Filter {
        Filter::compare(field, "=", value)
    }

    /// `field != value`.
    pub fn ne(field: &str, value: impl Into<FilterValue>) -> Filter {
        Filter::compare(field, "!=", value)
    }

    /// `field > value`.
    pub fn gt(field: &str, value: impl Into<FilterValue>) -> Filter {
        Filter::compare(field, ">", value)
    }

    /// `field >= value`.
    pub fn gte(field: &str, value: impl Into<FilterValue>) -> Filter {
        Filter::compare(field, ">=", value)
    }

    /// `field < value`.
    pub fn lt(field: &str, value: impl Into<FilterValue>) -> Filter {
        Filter::compare(field, "<", value)
    }

    /// `field <= value`.
    pub fn lte(field: &str, value: impl Into<FilterValue>) -> Filter {
        Filter::compare(field, "<=", value)
    }

    /// `field ~ value` (contains, case-insensitive).
    pub fn contains(field: &str, value: impl Into<FilterValue>) -> Filter {
        Filter::compare(field, "~", value)
    }

    /// Both.
    pub fn and(self, other: Filter) -> Filter {
        Filter(format!("({}) AND ({})", self.0, other.0))
    }

    /// Either.
    pub fn or(self, other: Filter) -> Filter {
        Filter(format!("({}) OR ({})", self.0, other.0))
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The query of a list: `q`, `sort`, `fields` and `pagelen`.
///
/// ```
/// use cidata_bitbucket::{Filter, Query};
/// let query = Query::new().filter(Filter::eq("state", "OPEN")).sort_desc("updated_on").pagelen(50);
/// assert_eq!(
///     query.pairs(),
///     vec![("pagelen", "50".to_owned()), ("q", r#"state = "OPEN""#.to_owned()), ("sort", "-updated_on".to_owned())]
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    filter: Option<Filter>,
    sort: Option<String>,
    fields: Option<String>,
    pagelen: Option<u32>,
}

impl Query {
    /// No filter, the server's order and page size.
    pub fn new() -> Query {
        Query::default()
    }

    /// Filters with `q` (combined with `AND` with a filter set before).
    pub fn filter(mut self, filter: Filter) -> Query {
        self.filter = Some(match self.filter.take() {
            Some(before) => before.and(filter),
            None => filter,
        });
        self
    }

    /// Sorts by `field`, ascending.
    pub fn sort_asc(mut self, field: &str) -> Query {
        self.sort = Some(field.to_owned());
        self
    }

    /// Sorts by `field`, descending.
    pub fn sort_desc(mut self, field: &str) -> Query {
        self.sort = Some(format!("-{field}"));
        self
    }

    /// Asks for these fields only (`values.uuid,values.updated_on,next`).
    pub fn fields(mut self, fields: &str) -> Query {
        self.fields = Some(fields.to_owned());
        self
    }

    /// Items per page, 10 to 100 (clamped).
    pub fn pagelen(mut self, pagelen: u32) -> Query {
        self.pagelen = Some(pagelen.clamp(10, 100));
        self
    }

    /// The page size asked for, if set.
    pub fn page_len(&self) -> Option<u32> {
        self.pagelen
    }

    /// The query parameters, in a fixed order.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(n) = self.pagelen {
            pairs.push(("pagelen", n.to_string()));
        }
        if let Some(q) = &self.filter {
            pairs.push(("q", q.to_string()));
        }
        if let Some(s) = &self.sort {
            pairs.push(("sort", s.clone()));
        }
        if let Some(f) = &self.fields {
            pairs.push(("fields", f.clone()));
        }
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reads a quoted string back as Bitbucket's parser does: `\"` and `\\` are escapes.
    fn unquote(text: &str) -> Option<String> {
        let inner = text.strip_prefix('"')?.strip_suffix('"')?;
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.push(chars.next()?),
                '"' => return None,
                c => out.push(c),
            }
        }
        Some(out)
    }

    proptest! {
        /// Any string is written as one literal that reads back as itself.
        #[test]
        fn text_values_round_trip(value in ".*") {
            let written = FilterValue::Text(value.clone()).to_string();
            prop_assert_eq!(unquote(&written), Some(value));
        }

        /// A comparison is the field, the operator and the literal, nothing else.
        #[test]
        fn comparisons_keep_the_value_whole(value in ".*") {
            let filter = Filter::eq("title", value.as_str()).to_string();
            let literal = filter.strip_prefix("title = ").unwrap();
            prop_assert_eq!(unquote(literal), Some(value));
        }
    }

    #[test]
    fn pagelen_is_clamped_and_filters_combine() {
        assert_eq!(Query::new().pagelen(500).page_len(), Some(100));
        assert_eq!(Query::new().pagelen(1).page_len(), Some(10));
        let q = Query::new()
            .filter(Filter::eq("a", 1))
            .filter(Filter::eq("b", true));
        assert_eq!(q.pairs()[0].1, "(a = 1) AND (b = true)");
        assert_eq!(
            FilterValue::time_ms(1_767_225_600_000).to_string(),
            "2026-01-01T00:00:00.000Z"
        );
    }
}
