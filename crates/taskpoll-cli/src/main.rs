//! The `taskpoll` command (being written).
fn main() {}
