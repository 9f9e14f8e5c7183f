//! `HttpRequest` and `HttpResponse`: HTTP/1.x messages at the start of a side's unread bytes.
//!
//! See the [library docs](super) for how filters keep split messages and who consumes.

use crate::cx::FilterCx;
use crate::event::Side;
use crate::proto::http::{self, End, Framing, Parse};

/// The largest message the filters wait for whole. A message whose head is complete but whose
/// body is still arriving is kept unread (and reported when complete) only while head and body
/// fit in this many bytes; a larger one is reported as soon as its head is complete and the
/// rest of its body is let go (not kept), so a big upload or download never fills the receive
/// buffer. Keep the runtime's `buffer_size` at least this large (the default is 64 KiB).
pub const MAX_HELD_MESSAGE: usize = 16 * 1024;

/// Up to this many stray line ends may precede a message (RFC 9112 §2.2).
const MAX_LEADING_EOL: usize = http::MAX_LEADING_EMPTY_LINES * 2;

/// `buf` without the stray CR/LF bytes a client may send after a body.
fn skip_eol(buf: &[u8]) -> &[u8] {
    let n = buf
        .iter()
        .take(MAX_LEADING_EOL)
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count();
    buf.get(n..).unwrap_or(&[])
}

/// A message too large to wait for whole: its head is complete, and its head plus body exceed
/// [`MAX_HELD_MESSAGE`] (announced by `Content-Length`, or already buffered for a chunked or
/// unknown length).
fn is_large(header_len: usize, framing: Framing, buffered: usize) -> bool {
    let announced = match framing {
        Framing::Length(n) => (header_len as u64).saturating_add(n),
        Framing::None => header_len as u64,
        Framing::Chunked | Framing::UntilClose => buffered as u64,
    };
    announced > MAX_HELD_MESSAGE as u64 || buffered > MAX_HELD_MESSAGE
}

macro_rules! messages {
    (
        $(#[$doc:meta])*
        $name:ident, $item:ident, $walk:ident, $walk_fn:path, $parse:path, $looks:path
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name<'a> {
            buf: &'a [u8],
            walk: http::$walk<'a>,
            /// Bytes to keep unread, known once the walk is over.
            keep: usize,
            done: bool,
        }

        impl<'a> $name<'a> {
            /// The messages at the start of `buf` (unread stream bytes).
            pub fn new(buf: &'a [u8]) -> Self {
                $name {
                    buf,
                    walk: $walk_fn(buf),
                    keep: 0,
                    done: false,
                }
            }

            /// Bytes at the end of the buffer that hold the start of a message not reported
            /// yet: the filter keeps them unread. Walks the rest of the buffer first.
            pub fn keep(&mut self) -> usize {
                while self.next().is_some() {}
                self.keep
            }

            /// Whether the bytes after the reported messages are not HTTP of this direction
            /// (they are let go). Walks the rest of the buffer first.
            pub fn hit_garbage(&mut self) -> bool {
                while self.next().is_some() {}
                self.walk.end() == Some(End::Invalid)
            }

            /// The walk stopped on an incomplete message: report it now if it is too large to
            /// wait for, else keep it.
            fn tail(&mut self) -> Option<http::$item<'a>> {
                let at = self.walk.consumed();
                let rest = self.buf.get(at..).unwrap_or(&[]);
                match $parse(rest) {
                    Parse::Complete(head) if is_large(head.header_len, head.framing(), rest.len()) => {
                        Some(head)
                    }
                    _ => {
                        self.keep = self.walk.pending();
                        None
                    }
                }
            }
        }

        impl<'a> Iterator for $name<'a> {
            type Item = http::$item<'a>;

            fn next(&mut self) -> Option<http::$item<'a>> {
                if self.done {
                    return None;
                }
                if let Some(msg) = self.walk.next() {
                    return Some(msg);
                }
                self.done = true;
                match self.walk.end() {
                    Some(End::NeedMore) => self.tail(),
                    _ => None,
                }
            }
        }

        /// Cheap pre-test of the filter: the unread bytes could start a message.
        fn starts(buf: &[u8]) -> bool {
            $looks(skip_eol(buf))
        }
    };
}

mod requests {
    use super::*;

    messages!(
        /// The requests the `HttpRequest` event reports, in order: each complete request
        /// (head and body) at the start of the client's unread bytes, then possibly one whose
        /// head is complete and whose body is too large to wait for ([`MAX_HELD_MESSAGE`]).
        /// Items borrow the buffer; nothing is copied or allocated.
        HttpRequests, Request, Requests, http::requests, http::parse_request,
        http::looks_like_request_start
    );

    pub(super) fn could_start(buf: &[u8]) -> bool {
        starts(buf)
    }
}

mod responses {
    use super::*;

    messages!(
        /// The responses the `HttpResponse` event reports, in order (same rules as
        /// [`HttpRequests`](super::HttpRequests), over the server's bytes). A response is
        /// framed by its own headers; a response to `HEAD` that announces a body is not told
        /// apart (see [`crate::proto::http`]).
        HttpResponses, Response, Responses, http::responses, http::parse_response,
        http::looks_like_response_start
    );

    pub(super) fn could_start(buf: &[u8]) -> bool {
        starts(buf)
    }
}

pub use requests::HttpRequests;
pub use responses::HttpResponses;

/// An HTTP request from the client is complete at the start of its unread bytes.
///
/// Base `ON_CONN_NEW_DATA`, raised at `RCV` on the server side. Read the requests with
/// [`http_requests`] in the handler.
#[mos_macros::event(base = ON_CONN_NEW_DATA, filter = is_http_request)]
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpRequest;

/// An HTTP response from the server is complete at the start of its unread bytes.
///
/// Base `ON_CONN_NEW_DATA`, raised at `RCV` on the client side. Read the responses with
/// [`http_responses`] in the handler.
#[mos_macros::event(base = ON_CONN_NEW_DATA, filter = is_http_response)]
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpResponse;

/// The filter of [`HttpRequest`]: new client bytes start with at least one request to report.
/// Keeps an incomplete request unread (also when it returns `false`).
pub fn is_http_request<F, C>(cx: &FilterCx<'_, F, C>) -> bool {
    if cx.side() != Side::Server {
        return false;
    }
    let buf = cx.peek(Side::Server);
    if !requests::could_start(buf) {
        return false;
    }
    let mut msgs = HttpRequests::new(buf);
    let found = msgs.next().is_some();
    cx.keep_unread(Side::Server, msgs.keep());
    found
}

/// The filter of [`HttpResponse`]: new server bytes start with at least one response to
/// report. Keeps an incomplete response unread (also when it returns `false`).
pub fn is_http_response<F, C>(cx: &FilterCx<'_, F, C>) -> bool {
    if cx.side() != Side::Client {
        return false;
    }
    let buf = cx.peek(Side::Client);
    if !responses::could_start(buf) {
        return false;
    }
    let mut msgs = HttpResponses::new(buf);
    let found = msgs.next().is_some();
    cx.keep_unread(Side::Client, msgs.keep());
    found
}

/// The requests an `HttpRequest` handler reports: those at the start of the client's unread
/// bytes (`cx.peek(Side::Server)`), in order. Empty when buffering is off for that side.
pub fn http_requests<'c, F, C>(cx: &'c FilterCx<'_, F, C>) -> HttpRequests<'c> {
    HttpRequests::new(cx.peek(Side::Server))
}

/// The responses an `HttpResponse` handler reports: those at the start of the server's unread
/// bytes (`cx.peek(Side::Client)`), in order.
pub fn http_responses<'c, F, C>(cx: &'c FilterCx<'_, F, C>) -> HttpResponses<'c> {
    HttpResponses::new(cx.peek(Side::Client))
}
