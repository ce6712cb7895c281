//! What a wait's result is expected to be, as a `Result` that says what it was instead.

use std::fmt::{Debug, Display};

use taskpoll::{FetchGiveUp, WaitError};

/// The source's error, when the wait ended at its first poll with a permanent fetch
/// error (a refused key, a body over the cap); `Err` describing what it ended with
/// otherwise.
pub fn permanent_at_first_poll<T, F, E>(result: Result<T, WaitError<F, E>>) -> Result<E, String>
where
    F: Debug + Display,
    E: std::error::Error,
{
    match result {
        Err(WaitError::Fetch {
            error,
            give_up: FetchGiveUp::Permanent,
            polls: 1,
            ..
        }) => Ok(error),
        Err(e) => Err(format!(
            "expected a permanent fetch error on the first poll, got {} after {} polls",
            describe(&e),
            e.polls()
        )),
        Ok(_) => Err("expected a permanent fetch error on the first poll, got success".into()),
    }
}

/// A wait's error as `[kind] message`.
pub(crate) fn describe<F: Debug + Display, E: std::error::Error>(e: &WaitError<F, E>) -> String {
    format!("[{}] {e}", e.kind())
}

/// `Ok` when an error about a body over the cap says so as taskpoll's adapters do:
/// `larger than the {cap}-byte cap`, and the setting that raises it,
/// `max_response_bytes`.
pub fn names_the_cap(error: &impl Display, cap: usize) -> Result<(), String> {
    let message = error.to_string();
    if message.contains(&format!("larger than the {cap}-byte cap"))
        && message.contains("max_response_bytes")
    {
        Ok(())
    } else {
        Err(format!(
            "the error does not name the {cap}-byte cap and max_response_bytes: {message}"
        ))
    }
}
