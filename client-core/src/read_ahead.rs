//! Driving a stream ahead of its consumer, so that the next page of a list is being fetched
//! while the items already received are worked on.

use futures::{Stream, StreamExt};

/// Drives `stream` in a task of its own, up to `capacity` items ahead of the consumer. It stops
/// after the first error (which the consumer receives), and when the returned stream is dropped
/// (the task is aborted). Needs a tokio runtime.
///
/// ```no_run
/// # async fn demo(pages: impl futures::Stream<Item = cidata_core::Result<u32>> + Send + 'static) {
/// use futures::TryStreamExt;
/// let mut items = std::pin::pin!(cidata_core::read_ahead(pages, 16));
/// while let Ok(Some(item)) = items.try_next().await {
///     println!("{item}");
/// }
/// # }
/// ```
pub fn read_ahead<T: Send + 'static, E: Send + 'static>(
    stream: impl Stream<Item = Result<T, E>> + Send + 'static,
    capacity: usize,
) -> impl Stream<Item = Result<T, E>> + Send + 'static {
    let (tx, mut rx) = tokio::sync::mpsc::channel(capacity.max(1));
    let producer = tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(item) = stream.next().await {
            let failed = item.is_err();
            // The consumer went away: stop reading.
            if tx.send(item).await.is_err() || failed {
                break;
            }
        }
    });
    let guard = AbortOnDrop(producer);
    futures::stream::poll_fn(move |cx| {
        let _ = &guard;
        rx.poll_recv(cx)
    })
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use futures::TryStreamExt;

    #[tokio::test]
    async fn items_arrive_in_order_and_an_error_ends_the_stream() {
        let source = futures::stream::iter([Ok(1), Ok(2), Err("broken"), Ok(3)]);
        let read: Vec<Result<i32, &str>> = super::read_ahead(source, 1).collect_vec().await;
        assert_eq!(read, vec![Ok(1), Ok(2), Err("broken")]);
        let ok = futures::stream::iter((0..100).map(Ok::<_, ()>));
        let all: Vec<i32> = super::read_ahead(ok, 4).try_collect().await.unwrap();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
    }

    trait CollectVec: futures::Stream + Sized {
        async fn collect_vec(self) -> Vec<Self::Item> {
            futures::StreamExt::collect(self).await
        }
    }
    impl<S: futures::Stream> CollectVec for S {}
}
