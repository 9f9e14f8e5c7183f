//! Helpers shared by the integration suites: where the public captures are, an independent
//! oracle built on tshark, the field table the comparing suites diff connection records with,
//! the scripted conversations more than one suite replays, and what the small test apps
//! record (the event recorder lives in `mos_examples::eventlog`), and golden-file checks.
#![forbid(unsafe_code)]

pub mod conversations;
pub mod fields;
pub mod golden;
pub mod oracle;
pub mod recorder;
pub mod traces;
