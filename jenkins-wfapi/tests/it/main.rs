//! Integration tests of jenkins-wfapi (one test binary).

mod fixtures;
mod navigation;
mod operations;
mod support;
