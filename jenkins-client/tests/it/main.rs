//! Integration tests of cidata-jenkins (one test binary, for link time).

mod artifacts;
mod console;
mod fixtures;
mod listings;
mod lookup;
mod reads;
mod support;
mod trigger;
