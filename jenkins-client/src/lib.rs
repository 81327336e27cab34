//! Jenkins client (in progress).
mod job_path;
pub mod models;
mod tree;
pub use job_path::{JobPath, encode_segment};
pub use tree::{Field, Range, Tree};
