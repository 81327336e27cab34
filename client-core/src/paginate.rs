//! One generic paginator for every listing: next-token APIs (CircleCI), next-link APIs (Bitbucket)
//! and offset ranges (Jenkins `allBuilds{M,N}`).

use std::collections::HashSet;

use futures::{Stream, TryStreamExt, stream};
use url::Url;

use crate::error::{Error, ErrorKind, Result};
use crate::origin::BaseUrl;

/// Where the next page starts, as the previous page said.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Cursor {
    /// An opaque token to send back (`page-token`, an offset, ...).
    Token(String),
    /// A full URL to GET; checked against the origin before it reaches the fetch closure.
    Link(Url),
}

/// What a page says about the next one, before the paginator checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// There is no next page.
    End,
    /// Send this token back.
    Token(String),
    /// Follow this link (absolute or relative to the base); refused if of another origin.
    Link(String),
}

/// One page of items.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items of this page, in the server's order.
    pub items: Vec<T>,
    /// Where the next page is.
    pub next: Next,
}

/// Bounds of a listing.
#[derive(Debug, Clone)]
pub struct PageLimits {
    /// The most pages to fetch; one more is an [`ErrorKind::PageLimit`] error. Default 100,000.
    pub max_pages: usize,
}

impl Default for PageLimits {
    fn default() -> Self {
        PageLimits { max_pages: 100_000 }
    }
}

/// Pages of a listing as a `Stream`, driven by `fetch`, which gets `None` for the first page and then
/// the cursor the previous page gave.
///
/// It ends when a page has no next cursor, or when a cursor comes back that was already used (a
/// server that loops would otherwise never end); it refuses next links to another origin than
/// `base` (an [`ErrorKind::ForeignOrigin`] error ends the stream) and stops with an
/// [`ErrorKind::PageLimit`] error after `limits.max_pages` pages. Empty pages in the middle do not end it.
///
/// ```
/// # use cidata_core::{paginate, BaseUrl, Page, Next, PageLimits, Cursor};
/// # use futures::TryStreamExt;
/// # async fn demo() -> cidata_core::Result<()> {
/// let base = BaseUrl::parse("https://api.example.com/")?;
/// let pages = paginate(base, PageLimits::default(), |cursor: Option<Cursor>| async move {
///     let start: u32 = match cursor { Some(Cursor::Token(t)) => t.parse().unwrap(), _ => 0 };
///     let items: Vec<u32> = (start..(start + 10).min(25)).collect();
///     let next = if start + 10 < 25 { Next::Token((start + 10).to_string()) } else { Next::End };
///     Ok(Page { items, next })
/// });
/// let all: Vec<u32> = cidata_core::items(pages).try_collect().await?;
/// assert_eq!(all.len(), 25);
/// # Ok(()) }
/// ```
pub fn paginate<T, F, Fut>(
    base: BaseUrl,
    limits: PageLimits,
    fetch: F,
) -> impl Stream<Item = Result<Page<T>>> + Send
where
    T: Send,
    F: FnMut(Option<Cursor>) -> Fut + Send,
    Fut: Future<Output = Result<Page<T>>> + Send,
{
    struct State<F> {
        fetch: F,
        /// `Some(Ok(c))`: fetch with cursor `c`; `Some(Err(e))`: report `e` (after the page that
        /// carried the bad cursor was yielded, so that no item is lost); `None`: done.
        next: Option<Result<Option<Cursor>>>,
        seen: HashSet<Cursor>,
        pages: usize,
    }
    let state = State {
        fetch,
        next: Some(Ok(None)),
        seen: HashSet::new(),
        pages: 0,
    };
    stream::try_unfold(state, move |mut st| {
        let base = base.clone();
        let max_pages = limits.max_pages;
        async move {
            let cursor = match st.next.take() {
                None => return Ok(None),
                Some(Err(e)) => return Err(e),
                Some(Ok(cursor)) => cursor,
            };
            if st.pages >= max_pages {
                return Err(Error::new(
                    ErrorKind::PageLimit,
                    format!("stopped after {max_pages} pages; the listing may be incomplete"),
                ));
            }
            st.pages += 1;
            let page = (st.fetch)(cursor).await?;
            let next = match &page.next {
                Next::End => Ok(None),
                Next::Token(t) => Ok(Some(Cursor::Token(t.clone()))),
                Next::Link(href) => base.same_origin(href).map(|u| Some(Cursor::Link(u))),
            };
            st.next = match next {
                Ok(Some(cursor)) if !st.seen.insert(cursor.clone()) => {
                    tracing::warn!(
                        ?cursor,
                        "the server repeated a page cursor; ending the listing"
                    );
                    None
                }
                Ok(None) => None,
                other => Some(other),
            };
            Ok(Some((page, st)))
        }
    })
}

/// Flattens a stream of pages into a stream of items.
pub fn items<T, S>(pages: S) -> impl Stream<Item = Result<T>>
where
    S: Stream<Item = Result<Page<T>>>,
{
    pages
        .map_ok(|page| stream::iter(page.items.into_iter().map(Ok)))
        .try_flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::{StreamExt, TryStreamExt};

    fn base() -> BaseUrl {
        BaseUrl::parse("https://api.example.com/2.0/").unwrap()
    }

    #[tokio::test]
    async fn stops_on_repeated_token() {
        let mut calls = 0;
        let pages = paginate(base(), PageLimits::default(), |_c| {
            calls += 1;
            async move {
                Ok(Page {
                    items: vec![1],
                    next: Next::Token("string".into()),
                })
            }
        });
        let all: Vec<i32> = items(pages).try_collect().await.unwrap();
        // First page (no cursor), then "string" once; the repeat of "string" ends it.
        assert_eq!(all, vec![1, 1]);
        assert_eq!(calls, 2);
    }

    #[tokio::test]
    async fn refuses_foreign_next_link() {
        let pages = paginate(base(), PageLimits::default(), |c| async move {
            match c {
                None => Ok(Page {
                    items: vec![1],
                    next: Next::Link("http://example.com/?page=2".into()),
                }),
                Some(_) => panic!("the foreign link must not be fetched"),
            }
        });
        let out: Vec<Result<Page<i32>>> = pages.collect().await;
        assert_eq!(out.len(), 2);
        assert_eq!(
            out[1].as_ref().unwrap_err().kind(),
            ErrorKind::ForeignOrigin
        );
    }

    #[tokio::test]
    async fn follows_same_origin_links_and_empty_middle_pages() {
        let pages = paginate(base(), PageLimits::default(), |c| async move {
            let n = match c {
                None => 1,
                Some(Cursor::Link(u)) => u.query().unwrap()[5..].parse::<i32>().unwrap(),
                Some(other) => panic!("{other:?}"),
            };
            let next = if n < 3 {
                Next::Link(format!("https://api.example.com/2.0/x?page={}", n + 1))
            } else {
                Next::End
            };
            let items = if n == 2 { vec![] } else { vec![n] };
            Ok(Page { items, next })
        });
        let all: Vec<i32> = items(pages).try_collect().await.unwrap();
        assert_eq!(all, vec![1, 3]);
    }

    #[tokio::test]
    async fn caps_pages() {
        let mut n = 0;
        let pages = paginate(base(), PageLimits { max_pages: 3 }, |_c| {
            n += 1;
            let t = n.to_string();
            async move {
                Ok(Page {
                    items: vec![()],
                    next: Next::Token(t),
                })
            }
        });
        let out: Vec<Result<Page<()>>> = pages.collect().await;
        assert_eq!(out.len(), 4);
        assert_eq!(out[3].as_ref().unwrap_err().kind(), ErrorKind::PageLimit);
    }
}
