//! The JSON path of the place a decode error points at, found by scanning the text up to the
//! error's line and column. Not generic: tracking the path while decoding (serde_path_to_error)
//! compiled every model's decoder a second time, a large part of each crate's build.

/// One level of nesting on the way to the error.
enum Frame {
    /// Inside an object: the member being read, and whether a key comes next.
    Object { key: Option<String>, key_next: bool },
    /// Inside an array: the element being read.
    Array { index: usize },
}

/// The path (`items[1].number`, `.` for the top level) of the value `err` points at in `text`.
/// serde_json reports the place of the last character it read: a missing field (or a wrong
/// length) at the closing bracket of its object (or array), which is then the path; any other
/// error at the end of the value that failed.
pub(crate) fn json_path_of(text: &[u8], err: &serde_json::Error) -> String {
    let message = err.to_string();
    let about_container =
        message.starts_with("missing field") || message.starts_with("invalid length");
    json_path_at(text, err.line(), err.column(), about_container)
}

/// The path of the value at `line`:`column` (1-based) of `text`; with `about_container`, a
/// closing bracket there stands for its object or array rather than its last member.
fn json_path_at(text: &[u8], line: usize, column: usize, about_container: bool) -> String {
    let line_start = if line <= 1 {
        0
    } else {
        text.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(line - 2)
            .map_or(text.len(), |(i, _)| i + 1)
    };
    let at = (line_start + column.saturating_sub(1)).min(text.len());
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < at {
        match text[i] {
            b'"' => {
                let end = string_end(text, i);
                if let Some(Frame::Object {
                    key,
                    key_next: true,
                }) = stack.last_mut()
                    && end < at
                {
                    *key = Some(decode_key(&text[i..=end.min(text.len() - 1)]));
                }
                i = end;
            }
            b'{' => stack.push(Frame::Object {
                key: None,
                key_next: true,
            }),
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array { index }) => *index += 1,
                Some(Frame::Object { key_next, .. }) => *key_next = true,
                None => {}
            },
            b':' => {
                if let Some(Frame::Object { key_next, .. }) = stack.last_mut() {
                    *key_next = false;
                }
            }
            _ => {}
        }
        i += 1;
    }
    let depth = match text.get(at) {
        Some(b'}' | b']') if about_container => stack.len().saturating_sub(1),
        _ => stack.len(),
    };
    render(&stack[..depth])
}

/// The index of the quote that closes the string opening at `start` (or the text's end).
fn string_end(text: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < text.len() {
        match text[i] {
            b'\\' => i += 2,
            b'"' => return i,
            _ => i += 1,
        }
    }
    text.len()
}

fn decode_key(quoted: &[u8]) -> String {
    serde_json::from_slice::<String>(quoted)
        .unwrap_or_else(|_| String::from_utf8_lossy(quoted).trim_matches('"').to_owned())
}

/// `a.b[2].c`, or `.` for the top level.
fn render(stack: &[Frame]) -> String {
    let mut out = String::new();
    for frame in stack {
        match frame {
            Frame::Object { key: Some(key), .. } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Frame::Object { key: None, .. } => {}
            Frame::Array { index } => out.push_str(&format!("[{index}]")),
        }
    }
    if out.is_empty() { ".".to_owned() } else { out }
}

#[cfg(test)]
mod tests {
    use super::json_path_of;
    use serde::Deserialize;

    /// The path of the error decoding `text` as `T`.
    fn path_of<T: for<'de> Deserialize<'de> + std::fmt::Debug>(text: &str) -> String {
        let err = serde_json::from_str::<T>(text).unwrap_err();
        json_path_of(text.as_bytes(), &err)
    }

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Item {
        number: u64,
        #[serde(default)]
        name: Option<String>,
    }

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Page {
        items: Vec<Item>,
    }

    #[test]
    fn a_value_of_the_wrong_type_is_named_by_its_path() {
        assert_eq!(
            path_of::<Page>(r#"{"items":[{"number":1},{"number":"x"}]}"#),
            "items[1].number"
        );
        assert_eq!(
            path_of::<Page>(
                "{\n  \"items\": [\n    {\"name\": \"a,b:[}\", \"number\": -1}\n  ]\n}"
            ),
            "items[0].number"
        );
        assert_eq!(path_of::<Vec<u64>>("[1, 2, \"three\"]"), "[2]");
    }

    #[test]
    fn a_missing_field_is_the_path_of_its_object() {
        assert_eq!(
            path_of::<Page>(r#"{"items":[{"number":1},{"name":"no number"}]}"#),
            "items[1]"
        );
        assert_eq!(path_of::<Page>(r#"{"other":[]}"#), ".");
    }

    #[test]
    fn keys_with_escapes_and_truncated_text() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Odd {
            #[serde(rename = "a\"b")]
            ab: u64,
        }
        assert_eq!(path_of::<Odd>(r#"{"a\"b": true}"#), "a\"b");
        assert_eq!(
            path_of::<Page>(r#"{"items":[{"number":1},{"numb"#),
            "items[1]"
        );
        assert_eq!(path_of::<Page>(""), ".");
    }
}
