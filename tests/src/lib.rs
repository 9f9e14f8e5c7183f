//! Helpers shared by the integration suites.
#![forbid(unsafe_code)]
