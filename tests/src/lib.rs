//! Helpers shared by the integration suites: where the public captures are, an independent
//! oracle built on tshark, (the event recorder lives in `mos_examples::eventlog`).
#![forbid(unsafe_code)]

pub mod oracle;
pub mod traces;
