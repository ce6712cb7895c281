//! What a task is doing: the [`Phase`] a source classifies a status into.

use std::fmt;

/// A task's phase, as a [`TaskSource`](crate::TaskSource) classifies one fetched status.
///
/// `O` is the output of a task that succeeded, `P` a partial result (one finished piece
/// of a task that produces several) and `F` the vendor's description of a failure.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase<O, P, F> {
    /// Accepted but not started (queued, waiting, received).
    Pending(Progress<P>),
    /// Being processed.
    Running(Progress<P>),
    /// Finished successfully: the wait ends with this output.
    Succeeded(O),
    /// Finished with a failure reported by the vendor: the wait ends with this failure.
    Failed(F),
}

impl<O, P, F> Phase<O, P, F> {
    /// The kind of this phase, without its data.
    pub fn kind(&self) -> PhaseKind {
        match self {
            Phase::Pending(_) => PhaseKind::Pending,
            Phase::Running(_) => PhaseKind::Running,
            Phase::Succeeded(_) => PhaseKind::Succeeded,
            Phase::Failed(_) => PhaseKind::Failed,
        }
    }

    /// Whether the task has finished (succeeded or failed).
    pub fn is_terminal(&self) -> bool {
        self.kind().is_terminal()
    }

    /// A pending phase with the vendor's status word.
    pub fn pending(status: impl Into<String>) -> Self {
        Phase::Pending(Progress::new(status))
    }

    /// A running phase with the vendor's status word.
    pub fn running(status: impl Into<String>) -> Self {
        Phase::Running(Progress::new(status))
    }
}

/// What a non-terminal phase carries: the vendor's own status word, and optionally
/// a completion percentage and the partial results finished so far.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Progress<P> {
    /// The status exactly as the vendor spelled it (`"processing-in-progress"`, `"waiting"`).
    pub status: String,
    /// Completion in percent (0 to 100), when the vendor reports it.
    pub percent: Option<f64>,
    /// Every partial result finished so far, cumulative and in a stable order: the
    /// poller reports the ones past those it has already reported as new.
    pub partials: Vec<P>,
    /// `false` when the source did not recognise the status and treats it as still in
    /// progress (the unknown-status policy): the poller logs it and shows it in updates.
    pub recognized: bool,
}

impl<P> Progress<P> {
    /// Progress with a status word and nothing else.
    pub fn new(status: impl Into<String>) -> Self {
        Progress {
            status: status.into(),
            percent: None,
            partials: Vec::new(),
            recognized: true,
        }
    }

    /// Sets the completion percentage (clamped to 0..=100; NaN is dropped).
    pub fn with_percent(mut self, percent: f64) -> Self {
        self.percent = if percent.is_nan() {
            None
        } else {
            Some(percent.clamp(0.0, 100.0))
        };
        self
    }

    /// Sets the partial results finished so far.
    pub fn with_partials(mut self, partials: Vec<P>) -> Self {
        self.partials = partials;
        self
    }

    /// Marks the status as one the source does not know (kept non-terminal).
    pub fn unrecognized(mut self) -> Self {
        self.recognized = false;
        self
    }
}

/// The kind of a [`Phase`], without its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum PhaseKind {
    /// Accepted, not started.
    Pending,
    /// Being processed.
    Running,
    /// Finished successfully.
    Succeeded,
    /// Finished with a failure.
    Failed,
}

impl PhaseKind {
    /// A stable lower-case name: `pending`, `running`, `succeeded`, `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseKind::Pending => "pending",
            PhaseKind::Running => "running",
            PhaseKind::Succeeded => "succeeded",
            PhaseKind::Failed => "failed",
        }
    }

    /// Whether this kind ends a wait.
    pub fn is_terminal(self) -> bool {
        matches!(self, PhaseKind::Succeeded | PhaseKind::Failed)
    }
}

impl fmt::Display for PhaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A summary of the phase seen at one poll: what a timeout reports as the last thing
/// known about the task, and what each [`Update::Polled`](crate::Update::Polled) carries.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct PhaseSummary {
    /// The phase's kind.
    pub kind: PhaseKind,
    /// The vendor's status word (for terminal phases, the kind's name).
    pub status: String,
    /// Completion in percent, if reported.
    pub percent: Option<f64>,
    /// How many partial results had finished.
    pub partials: usize,
    /// Whether the source recognised the status.
    pub recognized: bool,
}

impl PhaseSummary {
    /// Summarises a phase.
    pub fn of<O, P, F>(phase: &Phase<O, P, F>) -> Self {
        match phase {
            Phase::Pending(p) | Phase::Running(p) => PhaseSummary {
                kind: phase.kind(),
                status: p.status.clone(),
                percent: p.percent,
                partials: p.partials.len(),
                recognized: p.recognized,
            },
            Phase::Succeeded(_) | Phase::Failed(_) => PhaseSummary {
                kind: phase.kind(),
                status: phase.kind().as_str().to_owned(),
                percent: None,
                partials: 0,
                recognized: true,
            },
        }
    }
}

impl fmt::Display for PhaseSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:?}", self.kind, self.status)?;
        if !self.recognized {
            f.write_str(", unrecognized status")?;
        }
        if let Some(p) = self.percent {
            write!(f, ", {p:.0}%")?;
        }
        match self.partials {
            0 => {}
            1 => f.write_str(", 1 partial result")?,
            n => write!(f, ", {n} partial results")?,
        }
        f.write_str(")")
    }
}
