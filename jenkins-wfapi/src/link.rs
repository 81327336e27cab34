//! HAL links that know the type of what they point to.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use cidata_core::{Result, Url};
use cidata_jenkins::Jenkins;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A `_links` entry, `{"href": "/jenkins/job/x/16/wfapi/describe"}`, typed by the resource it points to.
///
/// Hrefs are origin-relative and include the context path; [`Link::follow`] resolves them against
/// the client's configured origin (never doubling the context path) and refuses any other origin.
///
/// ```no_run
/// # async fn demo(jenkins: cidata_jenkins::Jenkins, run: cidata_wfapi::Run) -> cidata_wfapi::Result<()> {
/// if let Some(link) = &run.links.artifacts {
///     let artifacts: Vec<cidata_wfapi::Artifact> = link.follow(&jenkins).await?;
///     println!("{} artifacts", artifacts.len());
/// }
/// # Ok(()) }
/// ```
pub struct Link<T> {
    href: String,
    target: PhantomData<fn() -> T>,
}

impl<T> Link<T> {
    /// A link to `href`.
    pub fn new(href: impl Into<String>) -> Link<T> {
        Link {
            href: href.into(),
            target: PhantomData,
        }
    }

    /// The href as the server sent it.
    pub fn href(&self) -> &str {
        &self.href
    }

    /// The absolute URL on the configured origin; an href of another origin is an
    /// [`cidata_core::ErrorKind::ForeignOrigin`] error.
    pub fn url(&self, jenkins: &Jenkins) -> Result<Url> {
        jenkins.base().same_origin(&self.href)
    }

    /// The same href, typed as another resource (for relations this crate does not know).
    pub fn cast<U>(&self) -> Link<U> {
        Link::new(self.href.clone())
    }
}

impl<T: DeserializeOwned> Link<T> {
    /// GETs the resource and decodes it as `T`.
    pub async fn follow(&self, client: &impl AsRef<Jenkins>) -> Result<T> {
        let jenkins = client.as_ref();
        jenkins.http().get_json(self.url(jenkins)?).await
    }
}

impl<T> Clone for Link<T> {
    fn clone(&self) -> Self {
        Link::new(self.href.clone())
    }
}

impl<T> PartialEq for Link<T> {
    fn eq(&self, other: &Self) -> bool {
        self.href == other.href
    }
}

impl<T> Eq for Link<T> {}

impl<T> fmt::Debug for Link<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Link({})", self.href)
    }
}

#[derive(Deserialize, Serialize)]
struct Href {
    href: String,
}

impl<'de, T> Deserialize<'de> for Link<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Href::deserialize(d).map(|h| Link::new(h.href))
    }
}

impl<T> Serialize for Link<T> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        Href {
            href: self.href.clone(),
        }
        .serialize(s)
    }
}

/// Relations this crate does not know, kept by name.
pub type OtherLinks = BTreeMap<String, Link<serde_json::Value>>;
