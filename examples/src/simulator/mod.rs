//! A simulated Jenkins for the demo, the end-to-end tests and the benchmarks: nested folders,
//! freestyle and Pipeline jobs with stages, a multibranch project, builds still running, artifacts
//! in subfolders, non-ASCII names, a stale configured root URL, all under `/jenkins/` on 127.0.0.1;
//! a CircleCI API v2 under `/api/v2/` (projects, pipelines, workflows with approvals, reruns); and
//! a Bitbucket Cloud API under `/2.0/` (a workspace, repositories, pipelines, pull requests).

pub mod bitbucket;
pub mod circleci;
mod faults;
mod hostile;
mod render;
mod server;
mod world;

pub use bitbucket::{BbTruth, BbWorld};
pub use circleci::{CciTruth, CciWorld};
pub use faults::{Fault, FaultPlan};
pub use hostile::{CONTROL_TEXT, HostileAnswer, HostilePlan};
pub use render::STALE_ROOT;
pub use server::{CONTEXT, Simulator};
pub use world::{SimBuild, SimInput, SimJob, SimKind, SimStage, Truth, World};
