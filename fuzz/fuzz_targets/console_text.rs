//! The console decoder: bytes cut into chunks anywhere decode to what the whole decodes to
//! (a character split across chunks is not lost or doubled; invalid UTF-8 becomes U+FFFD).
#![no_main]

use cidata_jenkins::ConsoleText;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (Vec<u8>, Vec<u8>)| {
    let (bytes, cuts) = input;
    let mut decoder = ConsoleText::new();
    let mut out = String::new();
    let mut at = 0;
    for cut in cuts {
        let end = (at + usize::from(cut)).min(bytes.len());
        out.push_str(&decoder.push(&bytes[at..end]));
        at = end;
    }
    out.push_str(&decoder.push(&bytes[at..]));
    out.push_str(&decoder.finish());
    assert_eq!(out, String::from_utf8_lossy(&bytes));
});
