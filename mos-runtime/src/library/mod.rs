//! The UDE library: reusable user-defined events for the protocols middleboxes look at first
//! (mOS's "UDE library").
//!
//! | event | base | raised at | the handler reads |
//! |---|---|---|---|
//! | [`HttpRequest`] | `ON_CONN_NEW_DATA` | `RCV`, server side (client bytes) | [`http_requests`] |
//! | [`HttpResponse`] | `ON_CONN_NEW_DATA` | `RCV`, client side (server bytes) | [`http_responses`] |
//! | [`TlsClientHello`] | `ON_CONN_NEW_DATA` | `RCV`, server side | [`tls_client_hello`] |
//! | [`DnsTcpQuery`] | `ON_CONN_NEW_DATA` | `RCV`, server side, port 53 | [`dns_tcp_queries`] |
//! | [`DnsQuery`] | `ON_PKT_IN` (no flow: UDP to port 53) | `NULL` | [`dns_query`] |
//!
//! Each is a `pub struct` with `#[mos_runtime::event(base = .., filter = ..)]`, so an app
//! handles it or builds its own events on it by path:
//!
//! ```ignore
//! #[mos_runtime::app]
//! mod search_log {
//!     use mos_runtime::prelude::*;
//!     use mos_runtime::library::{self, HttpRequest};
//!
//!     #[flow_state]
//!     #[derive(Default)]
//!     pub struct Flow;
//!
//!     #[event(base = mos_runtime::library::HttpRequest, filter = is_search)]
//!     pub struct Search;
//!     fn is_search(cx: &FilterCx<'_, Flow>) -> bool {
//!         library::http_requests(cx).any(|r| r.uri.starts_with(b"/search?"))
//!     }
//!
//!     #[on(event = Search, hook = RCV)]
//!     fn log(cx: &mut Cx<'_, Flow>) {
//!         for req in library::http_requests(cx) {
//!             println!("{} {}", req.host_str().unwrap_or("-"), req.uri_str().unwrap_or("-"));
//!         }
//!     }
//! }
//! ```
//!
//! [`DnsQuery`] is a packet-level event: its filter takes `&PacketCx` (a UDP datagram has no
//! flow), so it is handled at `NULL`, and an app event built on it has a `&PacketCx` filter
//! too (see [`dns`] and [`crate::ude`]):
//!
//! ```ignore
//! #[on(event = mos_runtime::library::DnsQuery, hook = NULL)]
//! fn log_query(cx: &mut PacketCx<'_>) {
//!     if let Some(q) = library::dns_query(cx) {
//!         println!("{}", q.name().unwrap_or("?"));
//!     }
//! }
//! ```
//!
//! # Reading a message
//! A filter tells *that* a message is there; the handler reads it again from the same unread
//! bytes: `library::http_requests(cx)` iterates the complete requests at the start of the
//! client's unread bytes (method, URI, `Host`, headers, all borrowed from the buffer:
//! `req.method_str()`, `req.host_str()`, `req.uri_str()`, `req.header("user-agent")`);
//! `library::tls_client_hello(cx)` returns the ClientHello (`hello.sni()`, `hello.alpn_str()`).
//! Parsing twice costs a scan of a message head; nothing is copied or allocated.
//!
//! # Split messages and who consumes
//! The filters run on every `ON_CONN_NEW_DATA` of their side. When the unread bytes end in the
//! beginning of a message, the filter asks the runtime to keep those bytes
//! ([`FilterCx::keep_unread`](crate::FilterCx::keep_unread)), whether or not it reports a
//! message this time: the next `ON_CONN_NEW_DATA` sees them again followed by the new bytes, so
//! a request split over any number of segments is found once complete, and found once.
//!
//! **The runtime consumes.** After each `ON_CONN_NEW_DATA` dispatch it marks as read all the
//! unread bytes of that side except the ones some filter or handler kept. Handlers of library
//! events do not call `cx.consume`; one that does hides the consumed bytes from every event
//! dispatched after it on the same data.
//!
//! Bounds: an HTTP head is kept at most [`proto::http::MAX_HEADER_BLOCK`](crate::proto::http::MAX_HEADER_BLOCK)
//! bytes, a whole HTTP message at most [`MAX_HELD_MESSAGE`] (a larger one is reported when its
//! head is complete, and its body is not kept), a ClientHello at most
//! [`proto::tls::MAX_CLIENT_HELLO`](crate::proto::tls::MAX_CLIENT_HELLO) bytes (plus record
//! headers). Bytes that are not the protocol are never kept.
//!
//! The filters keep state nowhere: they read the unread bytes only, which is what lets them be
//! generic over any app's flow type. A consequence: the library resynchronises on message
//! boundaries that coincide with the start of the unread bytes. Between messages, that is every
//! time (a client sends a request after the previous response, pipelined requests follow each
//! other in the kept bytes); inside a large body that was let go, the bytes of the body are not
//! HTTP and are skipped until data starts with a message again.
//!
//! # Per-flow handlers
//! A filter whose handlers are all disabled on a flow does not run, so it keeps nothing: a
//! `per_flow` handler enabled in the middle of a message sees the messages that start after it
//! was enabled.

pub mod dns;
pub mod http;
pub mod tls;

pub use crate::proto::dns::DnsMessage;
pub use dns::{
    DNS_PORT, DnsQuery, DnsTcpQueries, DnsTcpQuery, dns_query, dns_query_in, dns_tcp_queries,
    is_dns_query, is_dns_tcp_query,
};
pub use http::{
    HttpRequest, HttpRequests, HttpResponse, HttpResponses, MAX_HELD_MESSAGE, http_requests,
    http_responses, is_http_request, is_http_response,
};
pub use tls::{TlsClientHello, is_tls_client_hello, tls_client_hello};

#[cfg(test)]
mod tests;
