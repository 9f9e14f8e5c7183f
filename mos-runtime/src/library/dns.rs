//! DNS queries over UDP: packets without flow context, seen at the `NULL` hook.
//!
//! A library event's filter takes a flow context (`&FilterCx`), so a packet-level event cannot
//! be a `#[mos_runtime::event]` library struct; the library gives the filter and the reader,
//! and an app names its own event with them:
//!
//! ```ignore
//! #[event(base = ON_PKT_IN, filter = mos_runtime::library::is_dns_query)]
//! pub struct DnsQuery;
//!
//! #[on(event = DnsQuery, hook = NULL)]
//! fn log_query(cx: &mut PacketCx<'_>) {
//!     if let Some(q) = mos_runtime::library::dns_query(cx) {
//!         println!("{}", q.name().unwrap_or("?"));
//!     }
//! }
//! ```
//!
//! Base `ON_PKT_IN` (at `NULL`, every packet that has no flow) or `ON_ORPHAN`: UDP is never a
//! tracked flow, so both see every DNS packet.
//!
//! DNS over TCP (RFC 1035 §4.2.2, length-prefixed messages on a connection to port 53) has a
//! flow, so it is a library event: [`DnsTcpQuery`], read with [`dns_tcp_queries`].

use crate::cx::{FilterCx, PacketCx};
use crate::event::Side;
use crate::proto::dns::{self, DnsError, DnsQuery};
use crate::wire::Packet;

/// The DNS port.
pub const DNS_PORT: u16 = 53;

/// The DNS query in `pkt`: a UDP datagram to port 53 whose payload is a DNS message with
/// QR = 0 (a question, not an answer) and at least one question.
pub fn dns_query_in(pkt: &Packet<'_>) -> Option<DnsQuery> {
    pkt.udp()?;
    if pkt.dst_port() != Some(DNS_PORT) {
        return None;
    }
    dns::parse_query(pkt.payload()).ok().filter(|q| !q.qr)
}

/// A filter for an app event on `ON_PKT_IN` or `ON_ORPHAN` at `NULL`: the packet is a DNS
/// query ([`dns_query_in`]).
pub fn is_dns_query<C>(cx: &PacketCx<'_, C>) -> bool {
    cx.packet().is_some_and(|p| dns_query_in(&p).is_some())
}

/// The DNS query of the current packet, for the handler.
pub fn dns_query<C>(cx: &PacketCx<'_, C>) -> Option<DnsQuery> {
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
    type Item = DnsQuery;

    fn next(&mut self) -> Option<DnsQuery> {
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
