//! `TlsClientHello`: a TLS ClientHello at the start of the client's unread bytes.

use crate::cx::FilterCx;
use crate::event::Side;
use crate::proto::tls::{self, ClientHello, Parse};

/// A complete TLS ClientHello from the client is at the start of its unread bytes.
///
/// Base `ON_CONN_NEW_DATA`, raised at `RCV` on the server side. Read it with
/// [`tls_client_hello`] in the handler (its server name with `.sni()`).
#[mos_macros::event(base = ON_CONN_NEW_DATA, filter = is_tls_client_hello)]
#[derive(Debug, Clone, Copy, Default)]
pub struct TlsClientHello;

/// The filter of [`TlsClientHello`]. Keeps a ClientHello that is not complete yet unread (it
/// may span several segments and records); the parser bounds it at
/// [`tls::MAX_CLIENT_HELLO`] bytes.
pub fn is_tls_client_hello<F, C>(cx: &FilterCx<'_, F, C>) -> bool {
    if cx.side() != Side::Server {
        return false;
    }
    let buf = cx.peek(Side::Server);
    if !tls::looks_like_tls_handshake(buf) {
        return false;
    }
    match tls::parse_client_hello(buf) {
        Parse::Complete(_) => true,
        Parse::Partial => {
            cx.keep_unread(Side::Server, buf.len());
            false
        }
        Parse::Invalid => false,
    }
}

/// The ClientHello a `TlsClientHello` handler reports (parsed again from the client's unread
/// bytes; the result is a small owned value). `None` outside that event.
pub fn tls_client_hello<F, C>(cx: &FilterCx<'_, F, C>) -> Option<ClientHello> {
    tls::parse_client_hello(cx.peek(Side::Server)).complete()
}
