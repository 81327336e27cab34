//! Tests of cidata-bitbucket: every recorded response decodes, the client reads the recorded
//! service through replay-server, each endpoint behaves against wiremock, and the specification's
//! mock (Prism) decodes.

mod endpoints;
mod fixtures;
mod prism;
mod replay;
