//! Bounded, allocation-free parsers for the protocols of the UDE library: HTTP/1.x requests and
//! responses ([`http`]), the TLS ClientHello ([`tls`]) and DNS messages ([`dns`]).
//!
//! These are plain functions over byte slices. The UDE library's `#[event]` structs call them
//! from their filters on `ON_CONN_NEW_DATA` (over `cx.peek(side)`), and handlers call them again
//! to read the fields; an app may call them directly on any bytes.
//!
//! # Contract
//! - **Zero copy.** Results borrow the input wherever the field is contiguous in it (HTTP method,
//!   URI, header values). The two exceptions hold a small fixed array inside the result: the DNS
//!   name (decompressed, at most 255 bytes) and the TLS SNI / ALPN (a ClientHello may be split
//!   over several records, so a field can straddle a record header).
//! - **No allocation, bounded work.** Every length read from the wire is checked against the
//!   input and against a documented limit before use; a parser reads each byte a bounded number
//!   of times. Limits are constants of each module (`MAX_*`).
//! - **Never panics.** Truncated, malformed or hostile input gives [`Parse::Invalid`] (or a
//!   [`dns::DnsError`]), never a panic, an overflow or a loop.
//! - **Streams arrive in pieces.** Over TCP a message may be split across segments. The parsers
//!   that run over a stream say [`Parse::Partial`] when the bytes are a valid *prefix* of a
//!   message: the caller keeps them unread (the runtime's `cx.keep_unread(side, n)`) and parses
//!   again when more bytes arrive, so a split message is found once it is complete. Rescanning
//!   a kept prefix costs at most the message's limit (for example 64 KiB for an HTTP header
//!   block), never more.

pub mod dns;
pub mod http;
pub mod tls;

/// The outcome of parsing a message at the start of a byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parse<T> {
    /// A complete message.
    Complete(T),
    /// The bytes are a valid prefix of a message but it is not complete yet: keep them and parse
    /// again with more.
    Partial,
    /// The bytes are not (the start of) a message of this protocol, or break one of its limits.
    Invalid,
}

impl<T> Parse<T> {
    /// The message, if complete.
    pub fn complete(self) -> Option<T> {
        match self {
            Parse::Complete(t) => Some(t),
            Parse::Partial | Parse::Invalid => None,
        }
    }

    /// `true` for [`Parse::Partial`].
    pub fn is_partial(&self) -> bool {
        matches!(self, Parse::Partial)
    }

    /// `true` for [`Parse::Invalid`].
    pub fn is_invalid(&self) -> bool {
        matches!(self, Parse::Invalid)
    }

    /// Maps the complete value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Parse<U> {
        match self {
            Parse::Complete(t) => Parse::Complete(f(t)),
            Parse::Partial => Parse::Partial,
            Parse::Invalid => Parse::Invalid,
        }
    }
}

/// Why an internal step stopped: the input ended early (a valid prefix) or it broke the format.
/// Internal steps return `Result<_, Stop>` so `?` carries both outcomes up to a [`Parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Partial,
    Invalid,
}

impl<T> From<Result<T, Stop>> for Parse<T> {
    fn from(r: Result<T, Stop>) -> Self {
        match r {
            Ok(t) => Parse::Complete(t),
            Err(Stop::Partial) => Parse::Partial,
            Err(Stop::Invalid) => Parse::Invalid,
        }
    }
}
