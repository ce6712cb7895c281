//! `taskpoll-sim`: serves the loopback simulators until interrupted.
fn main() {}
