//! One generic paginator for every listing: next-token APIs (CircleCI), next-link APIs (Bitbucket)
//! and offset ranges (Jenkins `allBuilds{M,N}`).

use futures::{Stream, TryStreamExt, stream};
use url::Url;

#[cfg(doc)]
use crate::error::ErrorKind;
use crate::error::Result;
use crate::list_guard::{ListGuard, PageFacts};
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

/// One page of items, with what the paginator checks it by.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items of this page, in the server's order.
    pub items: Vec<T>,
    /// Where the next page is.
    pub next: Next,
    /// The items' identities ([`item_key`](crate::item_key) of their JSON), one per item, for the
    /// check that each page brings an item not listed before; `None`: not checked.
    pub keys: Option<Vec<u64>>,
    /// How many items the server says the whole list holds (Bitbucket's `size`), if it says: it
    /// bounds the pages.
    pub total: Option<u64>,
    /// Where the page was read from, named by the errors about it.
    pub url: Option<Url>,
}

impl<T> Page<T> {
    /// A page of `items` whose next page is at `next`.
    pub fn new(items: Vec<T>, next: Next) -> Page<T> {
        Page {
            items,
            next,
            keys: None,
            total: None,
            url: None,
        }
    }

    /// A page of items decoded with their identities ([`Keyed`](crate::raw::Keyed)).
    pub fn keyed(items: Vec<crate::raw::Keyed<T>>, next: Next) -> Page<T> {
        let (keys, items) = items.into_iter().map(|k| (k.key, k.item)).unzip();
        Page {
            keys: Some(keys),
            ..Page::new(items, next)
        }
    }

    /// Sets the items' identities.
    pub fn with_keys(mut self, keys: Vec<u64>) -> Page<T> {
        self.keys = Some(keys);
        self
    }

    /// Sets the server's count of the list's items.
    pub fn with_total(mut self, total: Option<u64>) -> Page<T> {
        self.total = total;
        self
    }

    /// Sets the URL the page was read from.
    pub fn fetched_from(mut self, url: Url) -> Page<T> {
        self.url = Some(url);
        self
    }
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
/// A list is complete or it is an error ([`ListGuard`] decides): the stream ends only when a page
/// has no next cursor. A cursor already used, a page (after the first) that brings no item not
/// listed before (when the page has [`Page::keys`]), a "not found" for any page after the first,
/// more empty pages in a row than [`MAX_EMPTY_PAGES_IN_A_ROW`](crate::MAX_EMPTY_PAGES_IN_A_ROW), or
/// more pages than the server's own count of items allows are [`ErrorKind::IncompleteList`]
/// errors naming the page's URL; more than `limits.max_pages` pages an [`ErrorKind::PageLimit`]
/// error; a next link to another origin than `base` an [`ErrorKind::ForeignOrigin`] error. A
/// page of items already given is not yielded; a page that only points badly is, before the error.
///
/// ```
/// # use cidata_core::{paginate, BaseUrl, Page, Next, PageLimits, Cursor};
/// # use futures::TryStreamExt;
/// # async fn demo() -> cidata_core::Result<()> {
/// let base = BaseUrl::parse("https://api.example.com/")?;
/// let pages = paginate(base, PageLimits::default(), |cursor: Option<Cursor>| async move {
///     let start: u32 = match cursor { Some(Cursor::Token(t)) => t.parse().unwrap(), _ => 0 };
///     let items: Vec<u32> = (start..(start + 10).min(25)).collect();
///     let keys = items.iter().map(|&i| u64::from(i)).collect();
///     let next = if start + 10 < 25 { Next::Token((start + 10).to_string()) } else { Next::End };
///     Ok(Page::new(items, next).with_keys(keys))
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
        /// `Some(Ok(c))`: fetch with cursor `c` (`None`: the first page); `Some(Err(e))`: report
        /// `e` (after the page that pointed badly was yielded: its items are part of the list);
        /// `None`: done.
        next: Option<Result<Option<Cursor>>>,
        guard: ListGuard,
    }
    let state = State {
        fetch,
        next: Some(Ok(None)),
        guard: ListGuard::new(&limits),
    };
    stream::try_unfold(state, move |mut st| {
        let base = base.clone();
        async move {
            let cursor = match st.next.take() {
                None => return Ok(None),
                Some(Err(e)) => return Err(e),
                Some(Ok(cursor)) => cursor,
            };
            st.guard.before_fetch()?;
            let page = (st.fetch)(cursor)
                .await
                .map_err(|e| st.guard.fetch_failed(e))?;
            let facts = PageFacts {
                items: page.items.len(),
                keys: page.keys.as_deref(),
                total: page.total,
                url: page.url.as_ref(),
            };
            st.guard.check_items(facts)?;
            let next = match &page.next {
                Next::End => Ok(None),
                Next::Token(t) => Ok(Some(Cursor::Token(t.clone()))),
                Next::Link(href) => base.same_origin(href).map(|u| Some(Cursor::Link(u))),
            };
            st.next = match next {
                Ok(Some(cursor)) => match st.guard.next_cursor(facts, Some(cursor)) {
                    Ok(Some(c)) => Some(Ok(Some(c))),
                    Ok(None) => None,
                    Err(e) => Some(Err(e)),
                },
                Ok(None) => None,
                Err(e) => Some(Err(e)),
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
    use crate::error::ErrorKind;
    use futures::{StreamExt, TryStreamExt};

    fn base() -> BaseUrl {
        BaseUrl::parse("https://api.example.com/2.0/").unwrap()
    }

    fn keyed(items: Vec<i32>, next: Next) -> Page<i32> {
        let keys = items.iter().map(|&i| i as u64).collect();
        Page::new(items, next).with_keys(keys)
    }

    #[tokio::test]
    async fn a_repeated_token_is_an_error_not_the_end() {
        let mut calls = 0;
        let pages = paginate(base(), PageLimits::default(), |_c| {
            calls += 1;
            let n = calls;
            async move { Ok(keyed(vec![n], Next::Token("string".into()))) }
        });
        let out: Vec<Result<Page<i32>>> = pages.collect().await;
        // Prism's static token: page 1 points to "string", page 2 points back to it.
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].as_ref().unwrap().items, [1]);
        assert_eq!(out[1].as_ref().unwrap().items, [2]);
        let err = out[2].as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::IncompleteList, "{err}");
        assert_eq!(calls, 2);
    }

    #[tokio::test]
    async fn refuses_foreign_next_link() {
        let pages = paginate(base(), PageLimits::default(), |c| async move {
            match c {
                None => Ok(Page::new(
                    vec![1],
                    Next::Link("http://example.com/?page=2".into()),
                )),
                Some(_) => panic!("the foreign link must not be fetched"),
            }
        });
        let out: Vec<Result<Page<i32>>> = pages.collect().await;
        assert_eq!(
            out.len(),
            2,
            "the page that points away is kept, then the error"
        );
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
            Ok(keyed(items, next))
        });
        let all: Vec<i32> = items(pages).try_collect().await.unwrap();
        assert_eq!(all, vec![1, 3]);
    }

    #[tokio::test]
    async fn a_page_of_known_items_under_a_fresh_cursor_stops_the_listing() {
        let mut n = 0;
        let pages = paginate(base(), PageLimits::default(), |_c| {
            n += 1;
            let t = n.to_string();
            let url = Url::parse(&format!("https://api.example.com/2.0/x?page={n}")).unwrap();
            async move { Ok(keyed(vec![7, 8], Next::Token(t)).fetched_from(url)) }
        });
        let out: Vec<Result<Page<i32>>> = pages.collect().await;
        assert_eq!(out.len(), 2, "page 1, then the error: no endless listing");
        let err = out[1].as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::IncompleteList);
        assert!(err.to_string().contains("/2.0/x?page=2"), "{err}");
    }

    #[tokio::test]
    async fn not_found_after_page_one_is_a_cut_listing() {
        let pages = paginate(base(), PageLimits::default(), |c| async move {
            match c {
                None => Ok(keyed(vec![1], Next::Token("2".into()))),
                Some(_) => Err(crate::Error::new(ErrorKind::NotFound, "404")),
            }
        });
        let err = items(pages).try_collect::<Vec<i32>>().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::IncompleteList);
    }

    #[tokio::test]
    async fn caps_pages() {
        let mut n = 0;
        let pages = paginate(base(), PageLimits { max_pages: 3 }, |_c| {
            n += 1;
            let t = n.to_string();
            async move { Ok(keyed(vec![n], Next::Token(t))) }
        });
        let out: Vec<Result<Page<i32>>> = pages.collect().await;
        assert_eq!(out.len(), 4);
        assert_eq!(out[3].as_ref().unwrap_err().kind(), ErrorKind::PageLimit);
    }
}
