//! mos runtime (architecture essay to be completed with the engine).
#![deny(unsafe_code)]

pub mod event;
pub mod flow;
pub mod io;
pub mod stream;
pub mod tcp;
pub mod time;
pub mod wire;
