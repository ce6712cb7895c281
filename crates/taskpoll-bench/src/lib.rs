//! What the benchmark binary shares with its tests: the fault matrix ([`matrix`]), which
//! `taskpoll-bench fault-matrix` runs at full size and `tests/fault_matrix.rs` runs small
//! in CI, so both check the same things the same way.

pub mod matrix;
