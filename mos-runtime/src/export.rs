//! What generated code reaches through `::mos_runtime::__private` (owned by the macros work).
pub use crate::app::{App, CoreState, HandlerId, HandlerInfo, HandlerSet, Subscriptions};
pub use crate::cx::{Cx, FilterCx, PacketCx};
pub use crate::event::{Event, Hook};
pub use crate::wire::Packet;
