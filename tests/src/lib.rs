//! Helpers shared by the integration suites: where the public captures are, an independent
//! oracle built on tshark, and an app that records every event it sees.
#![forbid(unsafe_code)]

pub mod oracle;
pub mod recorder;
pub mod traces;
