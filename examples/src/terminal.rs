//! Text from servers reaches a terminal only with its control characters made visible: a job
//! name holding a newline would print a fake log line, and escape sequences could clear the screen
//! or set the window title.

use std::borrow::Cow;

/// `text` with every control character (C0, DEL, C1; newlines and tabs included, since one line
/// must stay one line) written as a visible `\u{..}` escape.
pub fn safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// How every log line's fields are written: each value through [`safe`], so that no log line,
/// now or added later, can print server text raw (a job name holding a newline and `error:`
/// would print a fake error line; an escape sequence could clear the screen). The message comes
/// first, then `name=value` fields, as tracing's default formatter writes them.
pub fn safe_fields() -> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> + 'static {
    use tracing_subscriber::field::MakeExt;
    tracing_subscriber::fmt::format::debug_fn(|writer, field, value| {
        let text = format!("{value:?}");
        let text = safe(&text);
        if field.name() == "message" {
            write!(writer, "{text}")
        } else {
            write!(writer, "{field}={text}")
        }
    })
    .delimited(" ")
}

/// JSON text with DEL and the C1 controls escaped too (`serde_json` escapes only those below
/// U+0020); still the same JSON value.
pub fn escape_json_controls(json: &[u8]) -> Cow<'_, [u8]> {
    let needs = json
        .windows(2)
        .any(|w| w[0] == 0x7f || (w[0] == 0xc2 && (0x80..=0x9f).contains(&w[1])))
        || json.last() == Some(&0x7f);
    if !needs {
        return Cow::Borrowed(json);
    }
    let mut out = Vec::with_capacity(json.len() + 16);
    let mut i = 0;
    while i < json.len() {
        match (json[i], json.get(i + 1)) {
            (0x7f, _) => {
                out.extend_from_slice(b"\\u007f");
                i += 1;
            }
            (0xc2, Some(&b)) if (0x80..=0x9f).contains(&b) => {
                out.extend_from_slice(format!("\\u00{b:02x}").as_bytes());
                i += 2;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// A console log's bytes for a terminal: colours (SGR sequences, `ESC [ ... m`), newlines, tabs
/// and carriage returns pass; every other control byte is shown as `\xNN`. Piped output is not
/// passed through this: it is the log as the server has it.
pub fn log_for_terminal(bytes: &[u8]) -> Cow<'_, [u8]> {
    let allowed = |b: u8| b == b'\n' || b == b'\t' || b == b'\r';
    if !bytes
        .iter()
        .any(|&b| (b < 0x20 && !allowed(b)) || b == 0x7f)
    {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() + 16);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == 0x1b && bytes.get(i + 1) == Some(&b'[') {
            let params = bytes[i + 2..]
                .iter()
                .take_while(|c| c.is_ascii_digit() || **c == b';')
                .count();
            if bytes.get(i + 2 + params) == Some(&b'm') {
                out.extend_from_slice(&bytes[i..i + 3 + params]);
                i += 3 + params;
                continue;
            }
        }
        if (b < 0x20 && !allowed(b)) || b == 0x7f {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        } else {
            out.push(b);
        }
        i += 1;
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_visible() {
        assert_eq!(safe("team/app"), "team/app");
        let shown = safe("a\nerror: fake\x1b]0;title\x07\u{9b}2J");
        assert!(!shown.chars().any(char::is_control), "{shown}");
        assert!(
            shown.contains("\\u{a}error: fake\\u{1b}]0;title\\u{7}\\u{9b}2J"),
            "{shown}"
        );
    }

    #[test]
    fn logs_keep_colours_only() {
        let log = b"\x1b[1;31mred\x1b[0m\tok\r\n\x1b]0;title\x07\x1b[2J";
        let shown = log_for_terminal(log);
        assert_eq!(
            String::from_utf8_lossy(&shown),
            "\x1b[1;31mred\x1b[0m\tok\r\n\\x1b]0;title\\x07\\x1b[2J"
        );
        assert!(matches!(log_for_terminal(b"plain\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_stays_the_same_value() {
        let value = serde_json::json!({"name": "x\u{7f}y\u{9b}z\u{85}é"});
        let raw = serde_json::to_vec(&value).unwrap();
        let escaped = escape_json_controls(&raw);
        assert!(
            !String::from_utf8_lossy(&escaped)
                .chars()
                .any(char::is_control)
        );
        let back: serde_json::Value = serde_json::from_slice(&escaped).unwrap();
        assert_eq!(back, value);
    }
}
