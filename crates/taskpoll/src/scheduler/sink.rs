//! Where a wait's updates go: its [`Watch`](crate::Watch), or its group's stream.

use tokio::sync::mpsc::UnboundedSender;

use crate::checkpoint::WaitCheckpoint;
use crate::source::TaskSource;
use crate::update::Update;

/// What a scheduler tells one wait's owner.
pub(crate) enum WaitMsg<S: TaskSource> {
    /// Something happened to the wait.
    Update(Update<S>),
    /// The scheduler stopped (its runtime shut down) with the wait unfinished: here it
    /// is, written down, to hand to a scheduler that runs.
    Lost(WaitCheckpoint<S::Id>),
}

/// What a scheduler tells a group: a message about one of its waits, or a nudge to look
/// at its counts again.
pub(crate) enum GroupMsg<S: TaskSource> {
    /// A message about the wait on this id.
    Wait(S::Id, WaitMsg<S>),
    /// A handle that could add waits was dropped.
    Nudge,
}

/// One wait's destination.
pub(crate) enum Sink<S: TaskSource> {
    /// A lone wait.
    Watch(UnboundedSender<WaitMsg<S>>),
    /// A wait of group `group`.
    Group {
        tx: UnboundedSender<GroupMsg<S>>,
        group: u64,
    },
}

impl<S: TaskSource> Sink<S> {
    /// Nobody listens any more: the wait is abandoned.
    pub(crate) fn is_closed(&self) -> bool {
        match self {
            Sink::Watch(tx) => tx.is_closed(),
            Sink::Group { tx, .. } => tx.is_closed(),
        }
    }

    /// The group this wait belongs to, if any.
    pub(crate) fn group(&self) -> Option<u64> {
        match self {
            Sink::Watch(_) => None,
            Sink::Group { group, .. } => Some(*group),
        }
    }

    /// Delivers a message about the wait on `id` (a closed sink drops it).
    pub(crate) fn send(&self, id: &S::Id, msg: WaitMsg<S>) {
        match self {
            Sink::Watch(tx) => {
                let _ = tx.send(msg);
            }
            Sink::Group { tx, .. } => {
                let _ = tx.send(GroupMsg::Wait(id.clone(), msg));
            }
        }
    }
}
