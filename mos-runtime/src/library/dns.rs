//! DNS queries: over UDP, packets without a flow, and over TCP, on a connection.
//!
//! [`DnsQuery`] is a packet-level library event: base `ON_PKT_IN`, its filter
//! [`is_dns_query`] takes `&PacketCx`, so it is raised at `NULL` for the packets that have no
//! flow (UDP is never a tracked flow, so every UDP datagram is one of them). Handle it, or
//! build on it, like any library event, at `NULL`:
//!
//! ```ignore
//! #[on(event = mos_runtime::library::DnsQuery, hook = NULL)]
//! fn log_query(cx: &mut PacketCx<'_>) {
//!     if let Some(q) = mos_runtime::library::dns_query(cx) {
//!         println!("{}", q.name().unwrap_or("?"));
//!     }
//! }
//!
//! #[event(base = mos_runtime::library::DnsQuery, filter = is_aaaa)]
//! pub struct AaaaQuery;
//! fn is_aaaa(cx: &PacketCx<'_>) -> bool {
//!     mos_runtime::library::dns_query(cx).is_some_and(|q| q.qtype() == 28)
//! }
//! ```
//!
//! The handler reads the query again with [`dns_query`] (a [`DnsMessage`]: header and first
//! question, the name decoded into a fixed array; nothing allocated).
//!
//! DNS over TCP (RFC 1035 §4.2.2, length-prefixed messages on a connection to port 53) has a
//! flow, so it is a flow library event: [`DnsTcpQuery`], read with [`dns_tcp_queries`].

use crate::cx::{FilterCx, PacketCx};
use crate::event::Side;
use crate::proto::dns::{self, DnsError, DnsMessage};
use crate::wire::Packet;

/// The DNS port.
pub const DNS_PORT: u16 = 53;

/// The DNS query in `pkt`: a UDP datagram to port 53 whose payload is a DNS message with
/// QR = 0 (a question, not an answer) and at least one question.
pub fn dns_query_in(pkt: &Packet<'_>) -> Option<DnsMessage> {
    pkt.udp()?;
    if pkt.dst_port() != Some(DNS_PORT) {
        return None;
    }
    dns::parse_query(pkt.payload()).ok().filter(|q| !q.qr)
}

/// A packet without a flow is a DNS query: a UDP datagram to port 53 holding a DNS question
/// ([`dns_query_in`]).
///
/// Base `ON_PKT_IN`, a packet-level event: raised at `NULL`, handlers take
/// `&mut PacketCx<'_, Core>`. Read the query with [`dns_query`].
#[mos_macros::event(base = ON_PKT_IN, filter = is_dns_query)]
#[derive(Debug, Clone, Copy, Default)]
pub struct DnsQuery;

/// The filter of [`DnsQuery`] ([`dns_query_in`] on the current packet). Also usable as the
/// filter of an app's own event on `ON_ORPHAN`.
pub fn is_dns_query<C>(cx: &PacketCx<'_, C>) -> bool {
    cx.packet().is_some_and(|p| dns_query_in(&p).is_some())
}

/// The DNS query of the current packet, for the handler.
pub fn dns_query<C>(cx: &PacketCx<'_, C>) -> Option<DnsMessage> {
    dns_query_in(&cx.packet()?)
}

/// A complete DNS query from the client of a TCP connection to port 53 is at the start of its
/// unread bytes.
///
/// Base `ON_CONN_NEW_DATA`, raised at `RCV` on the server side. Read the queries with
/// [`dns_tcp_queries`].
#[mos_macros::event(base = ON_CONN_NEW_DATA, filter = is_dns_tcp_query)]
#[derive(Debug, Clone, Copy, Default)]
pub struct DnsTcpQuery;

/// The filter of [`DnsTcpQuery`]. Keeps a message that is not complete yet unread (at most
/// 2 + 65535 bytes, the largest a length prefix can announce).
pub fn is_dns_tcp_query<F, C>(cx: &FilterCx<'_, F, C>) -> bool {
    if cx.side() != Side::Server || cx.server().port() != DNS_PORT {
        return false;
    }
    let mut queries = DnsTcpQueries::new(cx.peek(Side::Server));
    let found = queries.next().is_some();
    cx.keep_unread(Side::Server, queries.keep());
    found
}

/// The queries a `DnsTcpQuery` handler reports, in order.
pub fn dns_tcp_queries<'c, F, C>(cx: &'c FilterCx<'_, F, C>) -> DnsTcpQueries<'c> {
    DnsTcpQueries::new(cx.peek(Side::Server))
}

/// The length-prefixed DNS queries at the start of a client stream. Answers (QR = 1) and
/// malformed messages end the walk; an incomplete message is kept.
#[derive(Debug, Clone)]
pub struct DnsTcpQueries<'a> {
    buf: &'a [u8],
    pos: usize,
    keep: usize,
    done: bool,
}

impl<'a> DnsTcpQueries<'a> {
    /// The queries at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        DnsTcpQueries {
            buf,
            pos: 0,
            keep: 0,
            done: false,
        }
    }

    /// Bytes at the end holding an incomplete message, to keep unread. Walks the rest first.
    pub fn keep(&mut self) -> usize {
        while self.next().is_some() {}
        self.keep
    }
}

impl Iterator for DnsTcpQueries<'_> {
    type Item = DnsMessage;

    fn next(&mut self) -> Option<DnsMessage> {
        if self.done {
            return None;
        }
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        if rest.is_empty() {
            self.done = true;
            return None;
        }
        match dns::parse_tcp_message(rest) {
            Ok((query, len)) if !query.qr => {
                self.pos = self.pos.saturating_add(len);
                Some(query)
            }
            Ok(_) => {
                self.done = true;
                None
            }
            Err(DnsError::Incomplete { .. }) => {
                self.keep = rest.len();
                self.done = true;
                None
            }
            Err(_) => {
                self.done = true;
                None
            }
        }
    }
}
