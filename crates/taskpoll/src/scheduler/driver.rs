//! The task that runs a scheduler: takes commands from its handles, runs the engine.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::oneshot;

use super::engine::{Engine, NewWait};
use crate::checkpoint::WaitCheckpoint;
use crate::source::TaskSource;

/// What a handle asks of the running scheduler.
pub(crate) enum Command<S: TaskSource> {
    /// Start (or resume) a wait.
    Wait(NewWait<S>),
    /// Write down every unfinished wait of a group.
    Checkpoint {
        group: u64,
        reply: oneshot::Sender<Vec<WaitCheckpoint<S::Id>>>,
    },
}

/// The scheduler's task. It ends when every handle is gone (nobody could hear about a
/// wait any more).
pub(crate) struct Driver<S: TaskSource> {
    commands: UnboundedReceiver<Command<S>>,
    engine: Engine<S>,
}

// Every pinned part of the engine is boxed, so moving a `Driver` is fine.
impl<S: TaskSource> Unpin for Driver<S> {}

impl<S: TaskSource> Driver<S> {
    pub(crate) fn new(commands: UnboundedReceiver<Command<S>>, engine: Engine<S>) -> Self {
        Driver { commands, engine }
    }
}

impl<S: TaskSource> Future for Driver<S> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            match this.commands.poll_recv(cx) {
                Poll::Ready(Some(Command::Wait(wait))) => this.engine.add(wait),
                Poll::Ready(Some(Command::Checkpoint { group, reply })) => {
                    let _ = reply.send(this.engine.checkpoint(group));
                }
                Poll::Ready(None) => {
                    tracing::debug!(
                        idle = this.engine.is_idle(),
                        "every handle dropped: scheduler stopped"
                    );
                    return Poll::Ready(());
                }
                Poll::Pending => break,
            }
        }
        this.engine.poll(cx);
        Poll::Pending
    }
}
