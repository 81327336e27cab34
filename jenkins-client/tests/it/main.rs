//! Integration tests of jenkins-client (one test binary, for link time).

mod fixtures;
