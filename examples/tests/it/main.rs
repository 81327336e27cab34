//! End-to-end tests of the `ci-sync` binary, in one test binary: against mock servers
//! (`cli`), against the simulated Jenkins (`sync`, `simulated`) and the demo (`demo`).

mod bad_input;
mod bitbucket;
#[cfg(unix)]
mod ci_script;
mod circleci;
mod cli;
mod dashboard;
mod demo;
mod every_source;
mod faults;
mod hostile;
mod hostile_lists;
mod many_servers;
mod postgres;
mod secrets;
mod simulated;
mod sync;
mod task_examples;
