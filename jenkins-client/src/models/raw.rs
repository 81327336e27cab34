//! Keeping what the server sent (see `cidata_core::raw`): Jenkins models spell fields in camelCase.

pub use cidata_core::raw::{RawJson, vec_or_null};

/// `cidata_core::raw_model!` with Jenkins' camelCase field names.
macro_rules! raw_model {
    ($($model:tt)*) => {
        cidata_core::raw_model! { rename_all = "camelCase"; $($model)* }
    };
}
pub(crate) use raw_model;
