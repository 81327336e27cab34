//! Integration tests of cidata-wfapi (one test binary).

mod fixtures;
mod navigation;
mod operations;
mod support;
