//! Whether a listing is still whole, page after page: the decisions behind [`paginate`]
//! (crate::paginate), kept apart from any I/O so that they are tested on their own.
//!
//! A list is complete or it is an error. Servers and the proxies before them answer things no
//! API allows (a page of items already sent under a fresh cursor, a cursor that repeats, a 404
//! for page 2 of a list whose page 1 was fine); each of these, taken as "the end of the list",
//! would let a sync move its checkpoint past rows it never read. So each is an
//! [`ErrorKind::IncompleteList`] error naming the page's URL, never an end.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use url::Url;

use crate::error::{Error, ErrorKind, Result};
use crate::paginate::{Cursor, PageLimits};

/// Empty pages in a row (each with a next cursor) after which a listing is taken as endless.
pub const MAX_EMPTY_PAGES_IN_A_ROW: usize = 5;

/// Pages allowed beyond what the server's own count of items (`size`) implies: items added while
/// the listing is read shift pages.
const PAGES_OVER_THE_COUNT: usize = 2;

/// The identity of an item of a listing, from its JSON text: two items are the same when the
/// server sent the same text. Stable within a process (a fixed hash), which is all a listing needs.
pub fn item_key(json: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    json.hash(&mut hasher);
    hasher.finish()
}

/// What one page said, as the guard needs it.
#[derive(Debug, Clone, Copy)]
pub struct PageFacts<'a> {
    /// How many items the page held.
    pub items: usize,
    /// Their identities ([`item_key`]), when known; without them a page is not checked for
    /// bringing something new.
    pub keys: Option<&'a [u64]>,
    /// How many items the server says the whole list holds (Bitbucket's `size`), if it says.
    pub total: Option<u64>,
    /// Where the page was read from, for errors.
    pub url: Option<&'a Url>,
}

/// The running decisions of one listing: which page this is, which cursors and items it has
/// seen, how many pages the server's count allows.
#[derive(Debug, Clone)]
pub struct ListGuard {
    max_pages: usize,
    pages: usize,
    cursors: HashSet<Cursor>,
    items: HashSet<u64>,
    empty_in_a_row: usize,
    /// Pages the server's count of items allows, once the first page told it.
    bound: Option<usize>,
}

impl ListGuard {
    /// A guard for a new listing.
    pub fn new(limits: &PageLimits) -> ListGuard {
        ListGuard {
            max_pages: limits.max_pages.max(1),
            pages: 0,
            cursors: HashSet::new(),
            items: HashSet::new(),
            empty_in_a_row: 0,
            bound: None,
        }
    }

    /// Pages fetched so far (the one being fetched included).
    pub fn pages(&self) -> usize {
        self.pages
    }

    /// Before a page is fetched: counts it, or refuses it past the page cap or past what the
    /// server's count of items allows.
    pub fn before_fetch(&mut self) -> Result<()> {
        let limit = self.bound.map_or(self.max_pages, |b| b.min(self.max_pages));
        if self.pages >= limit {
            let why = match self.bound {
                Some(b) if b < self.max_pages => format!(
                    "the server's count of items allows {b} pages, and the listing goes on past them"
                ),
                _ => format!("stopped after {} pages", self.max_pages),
            };
            let kind = if self.bound.is_some_and(|b| b < self.max_pages) {
                ErrorKind::IncompleteList
            } else {
                ErrorKind::PageLimit
            };
            return Err(Error::new(
                kind,
                format!("{why}; the listing may be incomplete"),
            ));
        }
        self.pages += 1;
        Ok(())
    }

    /// A page failed to come: after the first page, a "not found" (or "gone") no longer means
    /// that the list does not exist, so it becomes an [`ErrorKind::IncompleteList`] error, which
    /// no caller takes for "nothing there". Other errors stay as they are.
    pub fn fetch_failed(&self, err: Error) -> Error {
        if self.pages > 1 && err.kind() == ErrorKind::NotFound {
            let page = self.pages;
            let message = format!(
                "page {page} of the listing was not found, after page 1 was: the listing is cut, not ended"
            );
            return err
                .with_kind(ErrorKind::IncompleteList)
                .with_message(message);
        }
        err
    }

    /// A page came: checks it against the pages before, and returns where the next one is
    /// (`None`: the listing is complete). [`ListGuard::check_items`], then
    /// [`ListGuard::next_cursor`].
    pub fn after_page(
        &mut self,
        page: PageFacts<'_>,
        next: Option<Cursor>,
    ) -> Result<Option<Cursor>> {
        self.check_items(page)?;
        self.next_cursor(page, next)
    }

    /// Checks a page's items: after the first page, a page of items all given before is an
    /// error (the page is not part of the list). The first page's `total` bounds the pages.
    pub fn check_items(&mut self, page: PageFacts<'_>) -> Result<()> {
        let n = self.pages;
        if let Some(keys) = page.keys.filter(|k| k.len() == page.items) {
            let mut new = 0usize;
            for key in keys {
                new += usize::from(self.items.insert(*key));
            }
            if n > 1 && page.items > 0 && new == 0 {
                return Err(incomplete(
                    page.url,
                    format!(
                        "page {n} brought only items the listing had already given ({} of them): \
                         the server does not move through the list",
                        page.items
                    ),
                ));
            }
        }
        if n == 1
            && let Some(total) = page.total
        {
            let per_page = u64::try_from(page.items.max(1)).unwrap_or(u64::MAX);
            let pages = usize::try_from(total.div_ceil(per_page)).unwrap_or(usize::MAX);
            self.bound = Some(pages.saturating_add(PAGES_OVER_THE_COUNT));
        }
        Ok(())
    }

    /// Checks where a page (whose items passed [`ListGuard::check_items`]) points: a cursor
    /// already used, or too many empty pages in a row, is an error; the page's items stay part
    /// of the list.
    pub fn next_cursor(
        &mut self,
        page: PageFacts<'_>,
        next: Option<Cursor>,
    ) -> Result<Option<Cursor>> {
        let n = self.pages;
        let Some(cursor) = next else {
            return Ok(None);
        };
        if page.items == 0 {
            self.empty_in_a_row += 1;
            if self.empty_in_a_row > MAX_EMPTY_PAGES_IN_A_ROW {
                return Err(incomplete(
                    page.url,
                    format!(
                        "{} empty pages in a row, each pointing to another: the listing does not end",
                        self.empty_in_a_row
                    ),
                ));
            }
        } else {
            self.empty_in_a_row = 0;
        }
        if !self.cursors.insert(cursor.clone()) {
            return Err(incomplete(
                page.url,
                format!(
                    "page {n} points back to a page already read ({}): the listing would loop",
                    cursor_text(&cursor)
                ),
            ));
        }
        Ok(Some(cursor))
    }
}

fn incomplete(url: Option<&Url>, message: String) -> Error {
    let err = Error::new(ErrorKind::IncompleteList, message);
    match url {
        Some(url) => err.with_request("GET", url),
        None => err,
    }
}

fn cursor_text(cursor: &Cursor) -> String {
    match cursor {
        Cursor::Token(t) => {
            let cut = t.char_indices().nth(40).map_or(t.len(), |(i, _)| i);
            let more = if cut < t.len() { "…" } else { "" };
            format!("cursor `{}{more}`", &t[..cut])
        }
        Cursor::Link(u) => format!("link {}", crate::error::short_url(u)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn facts(keys: &[u64]) -> PageFacts<'_> {
        PageFacts {
            items: keys.len(),
            keys: Some(keys),
            total: None,
            url: None,
        }
    }

    fn token(t: &str) -> Option<Cursor> {
        Some(Cursor::Token(t.into()))
    }

    #[test]
    fn a_page_of_items_already_given_is_an_error_not_an_end() {
        let mut g = ListGuard::new(&PageLimits::default());
        g.before_fetch().unwrap();
        assert_eq!(
            g.after_page(facts(&[1, 2]), token("a")).unwrap(),
            token("a")
        );
        g.before_fetch().unwrap();
        let err = g.after_page(facts(&[2, 1]), token("b")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::IncompleteList, "{err}");
        // Even when the server says it is the last page.
        let mut g = ListGuard::new(&PageLimits::default());
        g.before_fetch().unwrap();
        g.after_page(facts(&[1, 2]), token("a")).unwrap();
        g.before_fetch().unwrap();
        assert!(g.after_page(facts(&[1, 2]), None).is_err());
    }

    #[test]
    fn a_repeated_cursor_is_an_error() {
        let mut g = ListGuard::new(&PageLimits::default());
        g.before_fetch().unwrap();
        g.after_page(facts(&[1]), token("a")).unwrap();
        g.before_fetch().unwrap();
        let err = g.after_page(facts(&[2]), token("a")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::IncompleteList);
        assert!(err.to_string().contains("cursor `a`"), "{err}");
    }

    #[test]
    fn not_found_after_the_first_page_is_a_cut_listing() {
        let mut g = ListGuard::new(&PageLimits::default());
        g.before_fetch().unwrap();
        let first = g.fetch_failed(Error::new(ErrorKind::NotFound, "gone"));
        assert_eq!(
            first.kind(),
            ErrorKind::NotFound,
            "page 1: the list is not there"
        );
        g.after_page(facts(&[1]), token("a")).unwrap();
        g.before_fetch().unwrap();
        let err = g.fetch_failed(Error::new(ErrorKind::NotFound, "gone"));
        assert_eq!(err.kind(), ErrorKind::IncompleteList);
        let other = g.fetch_failed(Error::new(ErrorKind::Server, "502"));
        assert_eq!(other.kind(), ErrorKind::Server);
    }

    #[test]
    fn the_servers_count_bounds_the_pages() {
        let mut g = ListGuard::new(&PageLimits::default());
        g.before_fetch().unwrap();
        let first = PageFacts {
            total: Some(25),
            ..facts(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
        };
        g.after_page(first, token("p2")).unwrap();
        // 3 pages hold 25 items; 2 more allowed for items added meanwhile.
        for page in 2..=5u64 {
            g.before_fetch().unwrap();
            g.after_page(facts(&[page * 100]), token(&format!("p{}", page + 1)))
                .unwrap();
        }
        let err = g.before_fetch().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::IncompleteList, "{err}");
    }

    #[test]
    fn empty_pages_may_come_but_not_without_end() {
        let mut g = ListGuard::new(&PageLimits::default());
        g.before_fetch().unwrap();
        g.after_page(facts(&[1]), token("0")).unwrap();
        for i in 1..=MAX_EMPTY_PAGES_IN_A_ROW {
            g.before_fetch().unwrap();
            g.after_page(facts(&[]), token(&i.to_string())).unwrap();
        }
        g.before_fetch().unwrap();
        assert!(g.after_page(facts(&[]), token("x")).is_err());
    }

    /// How a hostile server departs from the list at one page.
    #[derive(Debug, Clone, Copy)]
    enum Hostility {
        /// The previous page's items again, under a fresh cursor.
        SamePageFreshCursor,
        /// The next cursor is one already used.
        RepeatedCursor,
        /// The page answers 404.
        NotFound,
        /// The page's items, then the cursor of the first page (a cycle).
        CycleToStart,
    }

    fn hostility() -> impl Strategy<Value = Option<(usize, Hostility)>> {
        prop::option::of((
            1usize..8,
            prop_oneof![
                Just(Hostility::SamePageFreshCursor),
                Just(Hostility::RepeatedCursor),
                Just(Hostility::NotFound),
                Just(Hostility::CycleToStart),
            ],
        ))
    }

    proptest! {
        /// Whatever page the server misbehaves at and however, the guard either delivers every
        /// item of the list (each once) and ends, or fails: never a clean end with items missing.
        #[test]
        fn a_listing_ends_only_complete(
            total in 0usize..60,
            per_page in 1usize..9,
            hostile in hostility(),
        ) {
            let truth: Vec<u64> = (0..total as u64).map(|i| i * 7 + 3).collect();
            let pages: Vec<&[u64]> = if truth.is_empty() { vec![&[]] } else { truth.chunks(per_page).collect() };
            let mut g = ListGuard::new(&PageLimits { max_pages: 1_000 });
            let mut delivered: Vec<u64> = Vec::new();
            let mut at = 0usize; // the page the server serves for the cursor asked
            let mut fresh = 0u64;
            let outcome: Result<()> = loop {
                if let Err(e) = g.before_fetch() { break Err(e); }
                let fetched = g.pages() - 1;
                let mut items: Vec<u64> = pages[at].to_vec();
                let mut next = (at + 1 < pages.len()).then(|| Cursor::Token(format!("p{}", at + 1)));
                match hostile {
                    Some((when, how)) if when == fetched => match how {
                        Hostility::SamePageFreshCursor if fetched > 0 => {
                            items = pages[at.saturating_sub(1)].to_vec();
                            fresh += 1;
                            next = Some(Cursor::Token(format!("fresh{fresh}")));
                        }
                        Hostility::RepeatedCursor if fetched > 0 => next = Some(Cursor::Token(format!("p{at}"))),
                        Hostility::NotFound => {
                            let err = g.fetch_failed(Error::new(ErrorKind::NotFound, "404"));
                            if fetched == 0 { prop_assert_eq!(err.kind(), ErrorKind::NotFound); }
                            break Err(err);
                        }
                        Hostility::CycleToStart if fetched > 0 => next = Some(Cursor::Token("p1".into())),
                        _ => {}
                    },
                    _ => {}
                }
                let facts = PageFacts { items: items.len(), keys: Some(&items), total: None, url: None };
                match g.after_page(facts, next) {
                    Err(e) => break Err(e),
                    Ok(next) => {
                        delivered.extend(&items);
                        match next {
                            None => break Ok(()),
                            Some(Cursor::Token(t)) => {
                                at = t.strip_prefix('p').and_then(|n| n.parse().ok()).unwrap_or(at);
                            }
                            Some(Cursor::Link(_)) => unreachable!(),
                        }
                    }
                }
            };
            if outcome.is_ok() {
                let mut got = delivered.clone();
                got.sort_unstable();
                got.dedup();
                prop_assert_eq!(got, truth.clone(), "a clean end must have every item");
            }
        }
    }
}
