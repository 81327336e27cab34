//! Integration tests of cidata-core against local mock servers (one test binary for link speed).

mod hostile;
mod origin_guard;
mod retries;
mod support;
