//! The `tree` parser: arbitrary text is an error or a tree, and a tree prints as text that
//! parses back to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(tree) = cidata_jenkins::Tree::parse(text) {
        let printed = tree.to_string();
        let again = cidata_jenkins::Tree::parse(&printed).expect("a printed tree parses");
        assert_eq!(again.to_string(), printed);
    }
});
