//! How a scheduler fetches: one id per request, or batches.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::source::{BatchEntry, BatchTaskSource, TaskSource};

/// The answers of one request: one entry per id asked, `None` where it said nothing.
pub(crate) type Answers<S> = Vec<BatchEntry<S>>;
pub(crate) type AnswerFuture<S> = Pin<Box<dyn Future<Output = Answers<S>> + Send + 'static>>;
type FetchFn<S> = Arc<dyn Fn(Arc<S>, Vec<<S as TaskSource>::Id>) -> AnswerFuture<S> + Send + Sync>;

/// One `fetch` per wait, or `fetch_batch` for the waits due together.
pub(crate) struct FetchMode<S: TaskSource> {
    fetch: FetchFn<S>,
    /// Most ids in one request.
    pub(crate) max_batch: usize,
    /// How far ahead a request looks for waits to take along.
    pub(crate) window: Duration,
}

impl<S: TaskSource> Clone for FetchMode<S> {
    fn clone(&self) -> Self {
        FetchMode {
            fetch: Arc::clone(&self.fetch),
            max_batch: self.max_batch,
            window: self.window,
        }
    }
}

impl<S: TaskSource> FetchMode<S> {
    /// One `fetch` per wait.
    pub(crate) fn single() -> Self {
        FetchMode {
            fetch: Arc::new(|source: Arc<S>, ids: Vec<S::Id>| {
                Box::pin(async move {
                    let mut out = Vec::with_capacity(ids.len());
                    for id in &ids {
                        out.push(Some(source.fetch(id).await));
                    }
                    out
                })
            }),
            max_batch: 1,
            window: Duration::ZERO,
        }
    }

    /// `fetch_batch` for up to `max_batch` waits due within `window` of each other; a
    /// wait due alone is fetched with `fetch`.
    pub(crate) fn batched(max_batch: usize, window: Duration) -> Self
    where
        S: BatchTaskSource,
        S::Error: Clone,
    {
        FetchMode {
            fetch: Arc::new(|source: Arc<S>, ids: Vec<S::Id>| {
                Box::pin(async move {
                    // A lone due wait is fetched the way a lone wait would be (Redis
                    // Cloud: its own task, not the whole account's list).
                    if let [id] = ids.as_slice() {
                        return vec![Some(source.fetch(id).await)];
                    }
                    match source.fetch_batch(&ids).await {
                        Ok(mut entries) => {
                            entries.resize_with(ids.len(), || None);
                            entries
                        }
                        Err(e) => ids.iter().map(|_| Some(Err(e.clone()))).collect(),
                    }
                })
            }),
            max_batch: max_batch.max(1),
            window,
        }
    }

    /// Starts the request for `ids`.
    pub(crate) fn fetch(&self, source: &Arc<S>, ids: Vec<S::Id>) -> AnswerFuture<S> {
        (self.fetch)(Arc::clone(source), ids)
    }
}
