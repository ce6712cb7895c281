//! The Runware simulator (being written).
