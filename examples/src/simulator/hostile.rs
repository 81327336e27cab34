//! Answers no API allows, served in place of a page of a list: what servers and the proxies in
//! front of them send (`{}`, a null list, a 404 for page 2, a cursor that repeats or changes on
//! every page over the same items, a number of 2^63-1). The hostile tests serve each of them to
//! every source and check that none is taken for the end of a list or for a new checkpoint.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

/// What to answer instead of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostileAnswer {
    /// `{}` with 200 (a gateway's answer).
    EmptyObject,
    /// The list key with `null` (`{"items": null}`, `{"values": null}`).
    NullList,
    /// `{"message": "..."}` with 200: an error body under a success status.
    MessageOnly,
    /// 404 with an error body.
    NotFound,
    /// The page as it is, pointing to itself as the next page (a cursor that repeats).
    RepeatedCursor,
    /// The first page served under this plan, again and again, each time with a fresh cursor
    /// (a server that ignores the cursor, or `?page=`).
    FreshCursorSameItems,
    /// The page as it is, with its first item's number (`number_field`) set to 2^63-1.
    PoisonNumber,
    /// 400 with an error message holding a newline, a fake `error:` line and escape sequences
    /// (a window title, a screen clear): it must reach no terminal raw.
    ControlText,
}

/// The message of [`HostileAnswer::ControlText`].
pub const CONTROL_TEXT: &str = "bad page\nerror: fake line\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}";

/// Which requests get a hostile answer, and which.
#[derive(Debug, Clone)]
pub struct HostilePlan {
    /// A GET whose path ends with this (`/pipeline`, `/workflow`, `/pipelines/`).
    pub path_ends_with: String,
    /// ... and whose query holds this (`page-token=`, `page=2`), if set: a later page.
    pub query_contains: Option<String>,
    /// ... and whose query does not hold this, if set (`page-token`: the first page).
    pub query_lacks: Option<String>,
    /// The answer.
    pub answer: HostileAnswer,
    /// The key of the list in a page (`items`, `values`).
    pub list_key: &'static str,
    /// The field of an item [`HostileAnswer::PoisonNumber`] sets (`number`, `build_number`).
    pub number_field: &'static str,
}

/// A plan being served: what it matched so far.
#[derive(Debug)]
pub(crate) struct HostileState {
    pub(crate) plan: HostilePlan,
    /// The first page served under [`HostileAnswer::FreshCursorSameItems`].
    first: Option<Value>,
    served: AtomicU64,
}

impl HostileState {
    pub(crate) fn new(plan: HostilePlan) -> HostileState {
        HostileState {
            plan,
            first: None,
            served: AtomicU64::new(0),
        }
    }

    /// Whether the request (path and query) gets a hostile answer.
    pub(crate) fn matches(&self, path: &str, query: &str) -> bool {
        let path = path.trim_end_matches('/');
        path.ends_with(self.plan.path_ends_with.trim_end_matches('/'))
            && self
                .plan
                .query_contains
                .as_deref()
                .is_none_or(|q| query.contains(q))
            && self
                .plan
                .query_lacks
                .as_deref()
                .is_none_or(|q| !query.contains(q))
    }

    /// Requests answered under the plan.
    pub(crate) fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    /// The hostile answer (status, body) for a request whose real answer is `real`; `own_url`
    /// is the request's full URL, `token` its CircleCI `page-token`.
    pub(crate) fn answer(
        &mut self,
        real: (u16, Value),
        own_url: &str,
        token: Option<&str>,
    ) -> (u16, Value) {
        let n = self.served.fetch_add(1, Ordering::Relaxed) + 1;
        let key = self.plan.list_key;
        let (status, mut body) = real;
        match self.plan.answer {
            HostileAnswer::EmptyObject => (200, serde_json::json!({})),
            HostileAnswer::NullList => (200, serde_json::json!({ key: null })),
            HostileAnswer::MessageOnly => (
                200,
                serde_json::json!({"message": "Service temporarily degraded"}),
            ),
            HostileAnswer::NotFound => (
                404,
                serde_json::json!({"message": "Not Found", "type": "error", "error": {"message": "Not found"}}),
            ),
            HostileAnswer::ControlText => (
                400,
                serde_json::json!({"message": CONTROL_TEXT, "type": "error", "error": {"message": CONTROL_TEXT}}),
            ),
            HostileAnswer::RepeatedCursor => {
                point_next(&mut body, key, own_url, token.unwrap_or("after-0"));
                (status, body)
            }
            HostileAnswer::FreshCursorSameItems => {
                let mut first = self.first.get_or_insert(body).clone();
                let fresh_url = format!("{own_url}&fresh={n}");
                point_next(&mut first, key, &fresh_url, &format!("fresh-{n}"));
                (status, first)
            }
            HostileAnswer::PoisonNumber => {
                if let Some(item) = body
                    .get_mut(key)
                    .and_then(Value::as_array_mut)
                    .and_then(|items| items.first_mut())
                {
                    item[self.plan.number_field] = i64::MAX.into();
                }
                (status, body)
            }
        }
    }
}

/// Points a page's next cursor at `url` (Bitbucket's `next`) or `token` (CircleCI's
/// `next_page_token`), whichever the page uses.
fn point_next(body: &mut Value, key: &str, url: &str, token: &str) {
    if key == "items" {
        body["next_page_token"] = token.into();
    } else {
        body["next"] = url.into();
    }
}
