//! The library half of `ci-sync`: the simulated Jenkins its demo, tests and benchmarks run against.

pub mod simulator;
