//! The Redis Cloud simulator (being written).
