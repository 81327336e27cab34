//! Tests of cidata-circleci: every recorded response decodes, the client reads the recorded
//! service through replay-server, and each endpoint behaves against wiremock.

mod endpoints;
mod fixtures;
mod prism;
mod replay;
