//! Runs waits to their end: a line on stdout the moment each task ends, progress on
//! stderr, and on SIGINT or SIGTERM a line for each unfinished task.

use std::future::Future;
use std::io::Write;
use std::time::Duration;

use futures_util::StreamExt;

use crate::board::{Board, Events};
use crate::progress::Display;
use crate::report::{TaskReport, Verdict};

/// How each finished task is printed on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lines {
    /// The human line.
    Human,
    /// One JSON object per line.
    Json,
    /// Nothing (the demo prints a table at the end).
    Silent,
}

fn print(lines: Lines, report: &TaskReport) {
    let line = match lines {
        Lines::Human => report.human_line(),
        Lines::Json => report.json_line(),
        Lines::Silent => return,
    };
    let mut out = std::io::stdout().lock();
    // A closed stdout (`| head`) is not worth a panic: the waits go on, the exit
    // status still tells.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Drives `events` until every wait has ended or `shutdown` resolves; returns every
/// task's report, in the order they ended (interrupted ones last).
pub(crate) async fn drive(
    board: &mut Board,
    display: &mut Display,
    events: Events,
    lines: Lines,
    requests: &(dyn Fn() -> u64 + Send + Sync),
    shutdown: impl Future<Output = ()>,
) -> Vec<TaskReport> {
    let mut events = events;
    let mut reports = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut shutdown = std::pin::pin!(shutdown);
    display.draw(board, requests(), true);
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => {
                // Stop polling at once: the waits end with the stream.
                drop(events);
                display.clear();
                for report in board.interrupt() {
                    print(lines, &report);
                    reports.push(report);
                }
                display.draw(board, requests(), true);
                return reports;
            }
            event = events.next() => match event {
                Some(event) => {
                    let (report, note) = board.apply(event);
                    if let Some(note) = note {
                        display.note(board, &note);
                    }
                    match report {
                        Some(report) => {
                            display.clear();
                            print(lines, &report);
                            reports.push(report);
                            display.draw(board, requests(), true);
                        }
                        None => display.draw(board, requests(), false),
                    }
                }
                None => break,
            },
            _ = tick.tick() => display.draw(board, requests(), false),
        }
    }
    display.draw(board, requests(), true);
    reports
}

/// Resolves on SIGINT or SIGTERM (Ctrl-C only, off Unix).
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The exit status of the reports: the worst verdict's.
pub(crate) fn exit_status(reports: &[TaskReport]) -> u8 {
    crate::report::exit_code(reports.iter().map(|r| r.verdict))
}

/// Whether any task was interrupted.
pub(crate) fn interrupted(reports: &[TaskReport]) -> bool {
    reports.iter().any(|r| r.verdict == Verdict::Interrupted)
}
