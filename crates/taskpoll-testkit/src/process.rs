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
