//! What the engine is handed: a new wait, or one resumed from a checkpoint.

use std::sync::Arc;

use crate::checkpoint::WaitCheckpoint;
use crate::policy::PollPolicy;
use crate::scheduler::sink::Sink;
use crate::source::TaskSource;

/// How a wait starts: fresh, or from a checkpoint.
pub(crate) enum Start<Id> {
    New(Id),
    Resume(WaitCheckpoint<Id>),
}

/// A wait handed to the engine.
pub(crate) struct NewWait<S: TaskSource> {
    pub(crate) start: Start<S::Id>,
    pub(crate) policy: Arc<PollPolicy>,
    pub(crate) sink: Sink<S>,
    /// Report every update, or only the end.
    pub(crate) report: bool,
}
