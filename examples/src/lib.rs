//! The library half of `ci-sync`: the simulated Jenkins its demo, tests and benchmarks run against.

pub mod dashboard;
pub mod simulator;

// The README's examples are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
