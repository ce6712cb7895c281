//! How cases went: a [`Verdict`] each, and the [`Report`] of a whole run.

use std::fmt;

/// How one case went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It held.
    Passed,
    /// It did not; why.
    Failed(String),
    /// It needs a capability the harness does not declare.
    Skipped(&'static str),
}

/// The result of [`run`](super::run): each case with its verdict.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// `(case, verdict)` in the order run.
    pub cases: Vec<(&'static str, Verdict)>,
}

impl Report {
    /// Cases that failed.
    pub fn failures(&self) -> Vec<(&'static str, &str)> {
        self.cases
            .iter()
            .filter_map(|(name, v)| match v {
                Verdict::Failed(why) => Some((*name, why.as_str())),
                _ => None,
            })
            .collect()
    }

    /// Cases that passed.
    pub fn passed(&self) -> usize {
        self.cases
            .iter()
            .filter(|(_, v)| *v == Verdict::Passed)
            .count()
    }

    /// Cases that were skipped for a capability the harness does not declare.
    pub fn skipped(&self) -> Vec<&'static str> {
        self.cases
            .iter()
            .filter(|(_, v)| matches!(v, Verdict::Skipped(_)))
            .map(|(name, _)| *name)
            .collect()
    }

    /// Panics with every failure listed, if any case failed (for use in `#[test]`s).
    #[allow(clippy::panic)]
    pub fn assert_all_passed(&self) {
        let failures = self.failures();
        if !failures.is_empty() {
            panic!(
                "{} of {} behavior cases failed:\n{self}",
                failures.len(),
                self.cases.len()
            );
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, verdict) in &self.cases {
            match verdict {
                Verdict::Passed => writeln!(f, "  ok      {name}")?,
                Verdict::Failed(why) => writeln!(f, "  FAILED  {name}: {why}")?,
                Verdict::Skipped(needs) => writeln!(f, "  skipped {name} (needs {needs})")?,
            }
        }
        Ok(())
    }
}
