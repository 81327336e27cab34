//! Tests of cidata-sources against wiremock: the decisions of each source that a simulator run
//! does not reach.

mod bitbucket;
mod circleci;
