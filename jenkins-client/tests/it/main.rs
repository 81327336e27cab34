//! Integration tests of cidata-jenkins (one test binary, for link time).

mod artifacts;
mod console;
mod fixtures;
mod listings;
mod reads;
mod support;
mod trigger;
