//! Tests in a process of their own, for what is process-wide: the environment (this
//! workspace forbids `unsafe`, so no `set_var`), the global log subscriber.
//!
//! ```no_run
//! use taskpoll_testkit::process::{child_case, run_child};
//!
//! // A test: runs the child test below in a process with ACME_API_KEY set.
//! fn from_env_reads_the_variable() {
//!     run_child("from_env_child", "set", &[("ACME_API_KEY", "k")], &["ACME_API_KEY"]).unwrap();
//! }
//!
//! // The child: an `#[ignore]`d test, which returns at once in an ordinary run.
//! fn from_env_child() {
//!     let Some(case) = child_case() else { return };
//!     assert_eq!(case, "set");
//! }
//! # from_env_reads_the_variable();
//! # from_env_child();
//! ```

use std::process::Command;

/// The variable a child's case travels in.
const CASE: &str = "TASKPOLL_TESTKIT_CHILD_CASE";

/// Runs the ignored test `test` of the current test binary in a process of its own,
/// with `case` for [`child_case`], the variables in `unset` removed and then those in
/// `set` set. `Err` carries the child's output when its one test did not pass.
pub fn run_child(
    test: &str,
    case: &str,
    set: &[(&str, &str)],
    unset: &[&str],
) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| format!("no test binary: {e}"))?;
    let mut cmd = Command::new(exe);
    cmd.args([test, "--exact", "--ignored", "--nocapture"])
        .env(CASE, case);
    for name in unset {
        cmd.env_remove(name);
    }
    for (name, value) in set {
        cmd.env(name, value);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("case {case}: could not start: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() && stdout.contains("1 passed") {
        Ok(())
    } else {
        Err(format!(
            "case {case}:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The case this process was started for by [`run_child`]; `None` in an ordinary test
/// run (where the child test should return at once).
pub fn child_case() -> Option<String> {
    std::env::var(CASE).ok()
}

/// What a `from_env` child test checks (see [`run_from_env_cases`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromEnv {
    /// This variable is unset or empty: `from_env` fails naming it.
    Missing(String),
    /// Every variable holds its good value: `from_env` builds a working client.
    Set,
}

/// Runs the ignored child test `test` once for each case of a `from_env` that reads
/// `vars` (each with a good value), the child reading its case with
/// [`from_env_case`]: none set; each variable unset in turn, then set but empty, the
/// others set; all set. `Err` carries the output of the first case that failed.
///
/// ```no_run
/// use taskpoll_testkit::process::{FromEnv, from_env_case, run_from_env_cases};
///
/// fn from_env_reads_the_variables() {
///     let vars = [("ACME_API_KEY", "k"), ("ACME_API_SECRET", "s")];
///     run_from_env_cases("from_env_child", &vars).unwrap();
/// }
///
/// // An `#[ignore]`d test.
/// fn from_env_child() {
///     match from_env_case() {
///         None => {}
///         Some(FromEnv::Missing(name)) => { /* from_env() fails, naming `name` */ }
///         Some(FromEnv::Set) => { /* from_env() works, with "k" and "s" */ }
///     }
/// }
/// # from_env_reads_the_variables();
/// # from_env_child();
/// ```
pub fn run_from_env_cases(test: &str, vars: &[(&str, &str)]) -> Result<(), String> {
    let names: Vec<&str> = vars.iter().map(|(name, _)| *name).collect();
    if let Some(first) = names.first() {
        run_child(test, &format!("{MISSING}{first}"), &[], &names)?;
    }
    for (i, (name, _)) in vars.iter().enumerate() {
        let mut others: Vec<(&str, &str)> = vars.to_vec();
        others.remove(i);
        let case = format!("{MISSING}{name}");
        run_child(test, &case, &others, &names)?;
        others.push((name, ""));
        run_child(test, &case, &others, &names)?;
    }
    run_child(test, "set", vars, &names)
}

/// The prefix of a [`FromEnv::Missing`] case.
const MISSING: &str = "missing:";

/// The `from_env` case this process was started for by [`run_from_env_cases`]; `None`
/// in an ordinary test run.
pub fn from_env_case() -> Option<FromEnv> {
    let case = child_case()?;
    Some(match case.strip_prefix(MISSING) {
        Some(name) => FromEnv::Missing(name.to_owned()),
        None => FromEnv::Set,
    })
}
