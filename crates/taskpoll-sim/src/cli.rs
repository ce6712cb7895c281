//! The `taskpoll-sim` command (also `taskpoll sim`).
//! Placeholder replaced below.
