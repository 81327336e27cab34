//! The server root (`/api/json`) and views.

use super::computer::LabelRef;
use super::job::Job;
use super::raw::{raw_model, vec_or_null};

raw_model! {
    /// A view (`/view/NAME/api/json`, or an entry of a root's `views`).
    pub struct View {
        /// `hudson.model.AllView`, `hudson.model.ListView`, a plugin's class, ...
        #[serde(rename = "_class")]
        pub class: Option<String>,
        /// The view's name.
        pub name: Option<String>,
        /// Its URL (the primary view's URL is the root's).
        pub url: Option<String>,
        /// Its description (HTML).
        pub description: Option<String>,
        /// The jobs it shows.
        #[serde(deserialize_with = "vec_or_null")]
        pub jobs: Vec<Job>,
        /// Nested views of a nested-view.
        #[serde(deserialize_with = "vec_or_null")]
        pub views: Vec<View>,
    }
}

raw_model! {
    /// The server root, `hudson.model.Hudson` (`/api/json`).
    pub struct Root {
        /// The Java class; absent on servers older than Jenkins 2.
        #[serde(rename = "_class")]
        pub class: Option<String>,
        /// The configured root URL; `None` when it was never set.
        pub url: Option<String>,
        /// The system message.
        pub description: Option<String>,
        /// `NORMAL` or `EXCLUSIVE`.
        pub mode: Option<String>,
        /// The controller's node name (`""`).
        pub node_name: Option<String>,
        /// The controller's node description.
        pub node_description: Option<String>,
        /// The controller's executors.
        pub num_executors: Option<u32>,
        /// Whether the server is preparing for shutdown.
        pub quieting_down: Option<bool>,
        /// Why (newer servers).
        pub quiet_down_reason: Option<String>,
        /// Whether POSTs need a CSRF crumb.
        pub use_crumbs: Option<bool>,
        /// Whether security is on.
        pub use_security: Option<bool>,
        /// The inbound agent port.
        pub slave_agent_port: Option<i64>,
        /// The top-level jobs.
        #[serde(deserialize_with = "vec_or_null")]
        pub jobs: Vec<Job>,
        /// The views.
        #[serde(deserialize_with = "vec_or_null")]
        pub views: Vec<View>,
        /// The default view.
        pub primary_view: Option<View>,
        /// The controller's labels.
        #[serde(deserialize_with = "vec_or_null")]
        pub assigned_labels: Vec<LabelRef>,
    }
}
