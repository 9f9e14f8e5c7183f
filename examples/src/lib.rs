//! Shared code of the example middleboxes: the apps themselves live here as library modules so
//! the integration and conformance suites (`tests/`) run exactly what the example binaries run.
#![forbid(unsafe_code)]

pub mod cli;
pub mod eventlog;
pub mod flowdump;
