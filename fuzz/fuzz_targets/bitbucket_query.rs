//! The Bitbucket query builder: any text value comes out as one quoted string literal, so that
//! no value can end the literal and add a condition of its own.
#![no_main]

use cidata_bitbucket::{Filter, FilterValue, Query};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|value: String| {
    let filter = Filter::eq("name", FilterValue::Text(value.clone()));
    let q = filter.to_string();
    let literal = q
        .strip_prefix("name = ")
        .expect("the field and operator come first");
    // The literal is `"` + escaped text + `"`, with every `"` and `\` inside escaped.
    let inner = literal
        .strip_prefix('"')
        .and_then(|l| l.strip_suffix('"'))
        .expect("quoted");
    let mut unescaped = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => unescaped.push(
                chars
                    .next()
                    .expect("an escape is followed by its character"),
            ),
            '"' => panic!("an unescaped quote in {literal}"),
            c => unescaped.push(c),
        }
    }
    assert_eq!(unescaped, value);
    let _ = Query::new().filter(filter).pairs();
});
