//! HTTP/1.x message heads: requests ([`parse_request`], [`requests`]) and responses
//! ([`parse_response`], [`responses`]), zero copy and bounded.
//!
//! # What is parsed
//! The start line and the header block, up to and including the blank line that ends it. Fields
//! borrow the input. Three headers are interpreted while scanning, because framing and the
//! UDE library need them: `Host`, `Content-Length` and `Transfer-Encoding`; every other header is
//! validated (token name, visible value) and can be read lazily with [`Request::headers`]. Header
//! names compare case-insensitively; lines may end in CRLF or a bare LF. Obsolete line folding
//! (a header line starting with a space) is rejected, as RFC 9112 §5.2 allows.
//!
//! # Limits ([`Parse::Invalid`] beyond them)
//! - start line (request line or status line, with its line end): [`MAX_START_LINE`] = 8 KiB;
//! - whole header block (start line, headers, blank line): [`MAX_HEADER_BLOCK`] = 64 KiB;
//! - header lines: [`MAX_HEADERS`] = 100;
//! - chunk extensions: [`MAX_CHUNK_EXT`] bytes per chunk; chunked trailers: 64 KiB.
//!
//! Hostile values are refused, not wrapped: a `Content-Length` that overflows `u64`, two
//! different `Content-Length`s, two `Host` headers (RFC 9112 §3.2), a request
//! `Transfer-Encoding` whose final coding is not `chunked` (§6.3). When a message has both
//! `Transfer-Encoding: chunked` and `Content-Length`, chunked framing wins (§6.1).
//!
//! # Split across segments: the `consumed` / `pending` contract
//! [`requests`] and [`responses`] walk the consecutive (pipelined) messages at the start of a
//! buffer, skipping bodies by `Content-Length` or by walking the chunks. When they stop:
//! - [`Requests::consumed`] bytes are complete messages: the caller may drop them;
//! - [`Requests::pending`] bytes at the end are an incomplete message: the caller keeps them
//!   unread (`cx.keep_unread(side, pending)` in an `ON_CONN_NEW_DATA` filter or handler), and
//!   the next call, over the kept bytes plus the new ones, finds the message once complete.
//!
//! `consumed() + pending()` is the buffer's length, except after [`End::Invalid`]: then the
//! bytes after `consumed()` are not HTTP, and the caller decides (usually: stop parsing this
//! flow). A message is yielded only once its body is complete too, so a body larger than the
//! caller's buffer is never seen; a handler that keeps state per flow can instead use
//! [`Requests::resume`], which yields each message as soon as its head is complete and carries
//! the rest of the body in a small [`BodyState`] to the next call.
//!
//! A response to a `HEAD` request, or a `2xx` to `CONNECT`, has no body whatever its headers say;
//! [`responses`] cannot know the request, so it frames by the response alone. A caller that
//! pairs requests and responses uses [`Response::framing_for`].

use core::fmt;

pub use super::Parse;
use super::Stop;

/// Longest start line (request line or status line), line end included.
pub const MAX_START_LINE: usize = 8 * 1024;
/// Longest header block: start line, header lines and the blank line.
pub const MAX_HEADER_BLOCK: usize = 64 * 1024;
/// Most header lines in one message.
pub const MAX_HEADERS: usize = 100;
/// Longest chunk extension (the bytes after the chunk size on its line).
pub const MAX_CHUNK_EXT: usize = 1024;
/// Most empty lines skipped before a message (RFC 9112 §2.2 tolerance for stray CRLFs).
pub const MAX_LEADING_EMPTY_LINES: usize = 4;

/// Request methods recognised at the start of a request (RFC 9110 §9, PATCH, WebDAV).
pub const METHODS: [&[u8]; 16] = [
    b"GET",
    b"HEAD",
    b"POST",
    b"PUT",
    b"DELETE",
    b"CONNECT",
    b"OPTIONS",
    b"TRACE",
    b"PATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
];

/// The head of an HTTP/1.x request. Fields borrow the parsed buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// The method, one of [`METHODS`].
    pub method: &'a [u8],
    /// The request target as sent (origin form `/path?q`, absolute form, `*`, or authority).
    pub uri: &'a [u8],
    /// Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    /// The `Host` header's value, trimmed.
    pub host: Option<&'a [u8]>,
    /// Bytes of the head: request line, headers and the blank line.
    pub header_len: usize,
    /// The `Content-Length` header's value.
    pub content_length: Option<u64>,
    /// `Transfer-Encoding` ends in `chunked` (then it frames the body, not `content_length`).
    pub chunked: bool,
    /// The header lines (after the request line, before the blank line), already validated.
    block: &'a [u8],
}

/// The head of an HTTP/1.x response. Fields borrow the parsed buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response<'a> {
    /// Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    /// The status code, 100..=999.
    pub status: u16,
    /// The reason phrase without trailing whitespace (may be empty).
    pub reason: &'a [u8],
    /// Bytes of the head: status line, headers and the blank line.
    pub header_len: usize,
    /// The `Content-Length` header's value.
    pub content_length: Option<u64>,
    /// `Transfer-Encoding` ends in `chunked`.
    pub chunked: bool,
    /// `Transfer-Encoding` is present but does not end in `chunked` (body until close).
    te_unchunked: bool,
    block: &'a [u8],
}

/// How a message's body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    None,
    /// A body of exactly this many bytes.
    Length(u64),
    /// A chunked body.
    Chunked,
    /// Everything until the connection closes: a response body without length, or the other
    /// protocol after `101 Switching Protocols` or a tunnel. Nothing after it is HTTP.
    UntilClose,
}

/// One header line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// The field name, as sent.
    pub name: &'a [u8],
    /// The field value, without surrounding whitespace.
    pub value: &'a [u8],
}

impl Header<'_> {
    /// Whether the name is `name`, ignoring ASCII case.
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name.as_bytes())
    }
}

/// Iterator over the header lines of a parsed message, computed lazily from the stored block.
#[derive(Debug, Clone)]
pub struct HeaderIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for HeaderIter<'a> {
    type Item = Header<'a>;

    fn next(&mut self) -> Option<Header<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        let (line, rest) = match self.rest.iter().position(|&b| b == b'\n') {
            Some(i) => (self.rest.get(..i)?, self.rest.get(i.saturating_add(1)..)?),
            None => (self.rest, &[][..]),
        };
        self.rest = rest;
        let colon = line.iter().position(|&b| b == b':')?;
        let name = line.get(..colon)?;
        let value = trim_ows(line.get(colon.saturating_add(1)..)?);
        Some(Header { name, value })
    }
}

/// `buf` without leading and trailing spaces, tabs and CRs.
fn trim_ows(mut buf: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'\r', rest @ ..] = buf {
        buf = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r'] = buf {
        buf = rest;
    }
    buf
}

fn utf8(buf: &[u8]) -> Option<&str> {
    core::str::from_utf8(buf).ok()
}

impl<'a> Request<'a> {
    /// The header lines, in order.
    pub fn headers(&self) -> HeaderIter<'a> {
        HeaderIter { rest: self.block }
    }

    /// The value of the first header named `name` (ASCII case ignored).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers().find(|h| h.is(name)).map(|h| h.value)
    }

    /// The method as text.
    pub fn method_str(&self) -> Option<&'a str> {
        utf8(self.method)
    }

    /// The request target as text, if it is UTF-8.
    pub fn uri_str(&self) -> Option<&'a str> {
        utf8(self.uri)
    }

    /// The `Host` header as text, if present and UTF-8.
    pub fn host_str(&self) -> Option<&'a str> {
        self.host.and_then(utf8)
    }

    /// How the body is delimited: chunked, by length, or none.
    pub fn framing(&self) -> Framing {
        match (self.chunked, self.content_length) {
            (true, _) => Framing::Chunked,
            (false, Some(0) | None) => Framing::None,
            (false, Some(n)) => Framing::Length(n),
        }
    }
}

impl<'a> Response<'a> {
    /// The header lines, in order.
    pub fn headers(&self) -> HeaderIter<'a> {
        HeaderIter { rest: self.block }
    }

    /// The value of the first header named `name` (ASCII case ignored).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers().find(|h| h.is(name)).map(|h| h.value)
    }

    /// The reason phrase as text, if UTF-8.
    pub fn reason_str(&self) -> Option<&'a str> {
        utf8(self.reason)
    }

    /// How the body is delimited, judged from the response alone (as if the request was `GET`).
    pub fn framing(&self) -> Framing {
        self.framing_for(b"GET")
    }

    /// How the body is delimited when the request's method was `method`: a response to `HEAD`
    /// has no body, a `2xx` to `CONNECT` starts a tunnel.
    pub fn framing_for(&self, method: &[u8]) -> Framing {
        let status = self.status;
        if method == b"HEAD" || (100..200).contains(&status) && status != 101 {
            return Framing::None;
        }
        if status == 101 || method == b"CONNECT" && (200..300).contains(&status) {
            return Framing::UntilClose;
        }
        if status == 204 || status == 304 {
            return Framing::None;
        }
        if self.chunked {
            return Framing::Chunked;
        }
        if self.te_unchunked {
            return Framing::UntilClose;
        }
        match self.content_length {
            Some(0) => Framing::None,
            Some(n) => Framing::Length(n),
            None => Framing::UntilClose,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scanning

/// A read position with a hard limit: reading at `limit` is a limit violation (Invalid), reading
/// at the end of a shorter buffer means "wait for more" (Partial).
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    limit: usize,
}

impl<'a> Cursor<'a> {
    fn next(&mut self) -> Result<u8, Stop> {
        if self.pos >= self.limit {
            return Err(Stop::Invalid);
        }
        let b = *self.buf.get(self.pos).ok_or(Stop::Partial)?;
        self.pos = self.pos.saturating_add(1);
        Ok(b)
    }

    fn expect(&mut self, want: u8) -> Result<(), Stop> {
        if self.next()? == want {
            Ok(())
        } else {
            Err(Stop::Invalid)
        }
    }

    /// A line end after a start line: CRLF or bare LF.
    fn line_end(&mut self) -> Result<(), Stop> {
        match self.next()? {
            b'\r' => self.expect(b'\n'),
            b'\n' => Ok(()),
            _ => Err(Stop::Invalid),
        }
    }

    fn slice(&self, start: usize, end: usize) -> Result<&'a [u8], Stop> {
        self.buf.get(start..end).ok_or(Stop::Invalid)
    }
}

/// `tchar` of RFC 9110 §5.6.2: the characters of a header name or method.
#[inline]
fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// [`is_tchar`] as a table: header names are tested byte by byte, and a search of the
/// punctuation list per byte costs more than the rest of the scan.
const TCHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric();
        b += 1;
    }
    let punct = b"!#$%&'*+-.^_`|~";
    let mut i = 0;
    while i < punct.len() {
        t[punct[i] as usize] = true;
        i += 1;
    }
    t
};

/// A byte of a header value or reason phrase other than whitespace: VCHAR or obs-text.
fn is_visible(b: u8) -> bool {
    b > 0x20 && b != 0x7f
}

enum MethodMatch {
    /// A known method of this length followed by a space.
    Full(usize),
    /// A prefix of "METHOD " for some known method.
    Prefix,
    No,
}

fn match_method(buf: &[u8]) -> MethodMatch {
    let mut prefix = false;
    for m in METHODS {
        match buf.get(m.len()) {
            Some(&next) => {
                if next == b' ' && buf.starts_with(m) {
                    return MethodMatch::Full(m.len());
                }
            }
            None => prefix |= m.starts_with(buf),
        }
    }
    if prefix {
        MethodMatch::Prefix
    } else {
        MethodMatch::No
    }
}

/// Cheap test: `buf` starts with a known method and a space, or is a non-empty prefix of one.
/// Meant for a UDE filter deciding whether a client stream is HTTP before parsing it.
pub fn looks_like_request_start(buf: &[u8]) -> bool {
    !buf.is_empty() && !matches!(match_method(buf), MethodMatch::No)
}

/// Cheap test: `buf` starts with `HTTP/1.0 ` or `HTTP/1.1 `, or is a non-empty prefix of one.
pub fn looks_like_response_start(buf: &[u8]) -> bool {
    const PATTERN: &[u8; 9] = b"HTTP/1.x ";
    !buf.is_empty()
        && buf.iter().zip(PATTERN).all(|(&b, &p)| {
            if p == b'x' {
                b == b'0' || b == b'1'
            } else {
                b == p
            }
        })
}

/// The version digit after `HTTP/1.`.
fn version(c: &mut Cursor<'_>) -> Result<u8, Stop> {
    for &want in b"HTTP/1." {
        c.expect(want)?;
    }
    match c.next()? {
        b'0' => Ok(0),
        b'1' => Ok(1),
        _ => Err(Stop::Invalid),
    }
}

/// What the header scan learned, besides the validated block.
#[derive(Default)]
struct Fields<'a> {
    block: &'a [u8],
    host: Option<&'a [u8]>,
    content_length: Option<u64>,
    te_seen: bool,
    chunked: bool,
}

impl<'a> Fields<'a> {
    fn note(&mut self, name: &[u8], value: &'a [u8]) -> Result<(), Stop> {
        if name.eq_ignore_ascii_case(b"host") {
            if self.host.is_some() {
                return Err(Stop::Invalid);
            }
            self.host = Some(value);
        } else if name.eq_ignore_ascii_case(b"content-length") {
            let n = content_length(value).ok_or(Stop::Invalid)?;
            if self.content_length.is_some_and(|prev| prev != n) {
                return Err(Stop::Invalid);
            }
            self.content_length = Some(n);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            self.te_seen = true;
            // Codings of several lines form one list; the final one decides.
            if let Some(last) = value
                .split(|&b| b == b',')
                .map(trim_ows)
                .rfind(|t| !t.is_empty())
            {
                self.chunked = last.eq_ignore_ascii_case(b"chunked");
            }
        }
        Ok(())
    }
}

/// `1*DIGIT` into a `u64`; `None` on anything else or overflow.
fn content_length(value: &[u8]) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    value.iter().try_fold(0u64, |acc, &b| {
        let d = if b.is_ascii_digit() {
            u64::from(b.wrapping_sub(b'0'))
        } else {
            return None;
        };
        acc.checked_mul(10)?.checked_add(d)
    })
}

/// Header lines from the cursor (just after the start line) through the blank line.
fn header_block<'a>(c: &mut Cursor<'a>) -> Result<Fields<'a>, Stop> {
    c.limit = MAX_HEADER_BLOCK;
    let block_start = c.pos;
    let mut fields = Fields::default();
    let mut count = 0usize;
    loop {
        let line_start = c.pos;
        match c.next()? {
            b'\r' => c.expect(b'\n')?,
            b'\n' => {}
            b if is_tchar(b) => {
                count = count.saturating_add(1);
                if count > MAX_HEADERS {
                    return Err(Stop::Invalid);
                }
                let name_end = field_name_end(c)?;
                let value = field_value(c)?;
                fields.note(c.slice(line_start, name_end)?, value)?;
                continue;
            }
            // Whitespace here is obs-fold or a space before the first header: both rejected.
            _ => return Err(Stop::Invalid),
        }
        fields.block = c.slice(block_start, line_start)?;
        return Ok(fields);
    }
}

/// The bytes a scan may read from the cursor on: up to the limit and the end of the buffer.
/// A scan that reads them all without finding its end stops as [`Cursor::next`] would there:
/// [`Stop::Invalid`] at the limit, [`Stop::Partial`] at the end of the buffer.
///
/// The two scans below walk a slice rather than calling [`Cursor::next`] per byte (header
/// blocks are the bulk of what this module reads); they stop exactly where and how the
/// byte-at-a-time walk would.
fn scan_window<'a>(c: &Cursor<'a>) -> (&'a [u8], Stop) {
    let stop = c.limit.min(c.buf.len());
    let out = if stop >= c.limit {
        Stop::Invalid
    } else {
        Stop::Partial
    };
    (c.buf.get(c.pos..stop).unwrap_or(&[]), out)
}

/// The rest of a field name through its colon (the first byte was read): returns the
/// offset of the colon, the cursor after it.
fn field_name_end(c: &mut Cursor<'_>) -> Result<usize, Stop> {
    let (window, out) = scan_window(c);
    for (i, &b) in window.iter().enumerate() {
        if b == b':' {
            let colon = c.pos + i;
            c.pos = colon + 1;
            return Ok(colon);
        }
        if !is_tchar(b) {
            return Err(Stop::Invalid);
        }
    }
    Err(out)
}

/// A field value through its line end, trimmed of whitespace.
///
/// Values are most of a header block's bytes, so they are scanned eight at a time while no
/// byte of the eight ends the line or needs a closer look (a control byte or DEL; a tab too,
/// rarely seen): such a word holds visible bytes and spaces only, and only where its first
/// and last visible bytes are matters. From the first word that is not so simple, byte by
/// byte, exactly as before.
fn field_value<'a>(c: &mut Cursor<'a>) -> Result<&'a [u8], Stop> {
    let mut start = None;
    let mut end = c.pos;
    let (window, out) = scan_window(c);
    let mut words = window.chunks_exact(8);
    let mut skipped = 0;
    for chunk in &mut words {
        // 8-byte chunks: the conversion never fails.
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        if zero_bytes(w & splat(0xe0)) | zero_bytes(w ^ splat(0x7f)) != 0 {
            break;
        }
        let visible = !zero_bytes(w ^ splat(b' ')) & splat(0x80);
        if visible != 0 {
            let at = c.pos + skipped;
            start.get_or_insert(at + visible.trailing_zeros() as usize / 8);
            end = at + (63 - visible.leading_zeros() as usize) / 8 + 1;
        }
        skipped += 8;
    }
    field_value_bytes(c, window, skipped, (start, end), out)
}

/// [`field_value`] byte by byte from `window[from..]` (`window` starts at the cursor), with
/// the value's `(start, end)` found so far: the line end ends it, spaces and tabs are skipped,
/// visible bytes extend it, anything else is invalid; `out` if the window ends first.
fn field_value_bytes<'a>(
    c: &mut Cursor<'a>,
    window: &[u8],
    from: usize,
    (mut start, mut end): (Option<usize>, usize),
    out: Stop,
) -> Result<&'a [u8], Stop> {
    for (i, &b) in window.get(from..).unwrap_or(&[]).iter().enumerate() {
        let at = c.pos + from + i;
        match b {
            b'\n' | b'\r' => {
                c.pos = at + 1;
                if b == b'\r' {
                    c.expect(b'\n')?;
                }
                return c.slice(start.unwrap_or(end), end);
            }
            b' ' | b'\t' => {}
            b if is_visible(b) => {
                start.get_or_insert(at);
                end = at + 1;
            }
            _ => return Err(Stop::Invalid),
        }
    }
    Err(out)
}

/// `byte` in every byte of a word.
const fn splat(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

/// The top bit set in exactly the bytes of `w` that are zero (no false positives: no carry
/// crosses a byte).
const fn zero_bytes(w: u64) -> u64 {
    let low7 = splat(0x7f);
    !(((w & low7) + low7) | w | low7)
}

fn request(buf: &[u8]) -> Result<Request<'_>, Stop> {
    let method_len = match match_method(buf) {
        MethodMatch::Full(n) => n,
        MethodMatch::Prefix => return Err(Stop::Partial),
        MethodMatch::No => return Err(Stop::Invalid),
    };
    let mut c = Cursor {
        buf,
        pos: method_len.saturating_add(1),
        limit: MAX_START_LINE,
    };
    let uri_start = c.pos;
    let uri_end = {
        let (window, out) = scan_window(&c);
        let Some(i) = window.iter().position(|&b| !is_visible(b)) else {
            return Err(out);
        };
        if window.get(i) != Some(&b' ') {
            return Err(Stop::Invalid);
        }
        c.pos += i + 1;
        c.pos - 1
    };
    if uri_end == uri_start {
        return Err(Stop::Invalid);
    }
    let version = version(&mut c)?;
    c.line_end()?;
    let fields = header_block(&mut c)?;
    if fields.te_seen && !fields.chunked {
        return Err(Stop::Invalid);
    }
    Ok(Request {
        method: c.slice(0, method_len)?,
        uri: c.slice(uri_start, uri_end)?,
        version,
        host: fields.host,
        header_len: c.pos,
        content_length: fields.content_length,
        chunked: fields.chunked,
        block: fields.block,
    })
}

fn response(buf: &[u8]) -> Result<Response<'_>, Stop> {
    let mut c = Cursor {
        buf,
        pos: 0,
        limit: MAX_START_LINE,
    };
    let version = version(&mut c)?;
    c.expect(b' ')?;
    let mut status = 0u16;
    for i in 0..3 {
        let b = c.next()?;
        if !b.is_ascii_digit() || (i == 0 && b == b'0') {
            return Err(Stop::Invalid);
        }
        status = status
            .saturating_mul(10)
            .saturating_add(u16::from(b.wrapping_sub(b'0')));
    }
    let (reason_start, reason_end) = match c.next()? {
        b' ' => {
            let start = c.pos;
            let mut end = start;
            loop {
                match c.next()? {
                    b'\n' => break,
                    b'\r' => {
                        c.expect(b'\n')?;
                        break;
                    }
                    b' ' | b'\t' => {}
                    b if is_visible(b) => end = c.pos,
                    _ => return Err(Stop::Invalid),
                }
            }
            (start, end)
        }
        // Tolerated: no space and no reason ("HTTP/1.1 200\r\n").
        b'\r' => {
            c.expect(b'\n')?;
            (c.pos, c.pos)
        }
        b'\n' => (c.pos, c.pos),
        _ => return Err(Stop::Invalid),
    };
    let reason = c.slice(reason_start, reason_end)?;
    let fields = header_block(&mut c)?;
    Ok(Response {
        version,
        status,
        reason,
        header_len: c.pos,
        content_length: fields.content_length,
        chunked: fields.chunked,
        te_unchunked: fields.te_seen && !fields.chunked,
        block: fields.block,
    })
}

/// Parses the request head at the start of `buf`. Any body after `header_len` is not looked at.
pub fn parse_request(buf: &[u8]) -> Parse<Request<'_>> {
    request(buf).into()
}

/// Parses the response head at the start of `buf`. Any body after `header_len` is not looked at.
pub fn parse_response(buf: &[u8]) -> Parse<Response<'_>> {
    response(buf).into()
}

/// Length of the complete chunked body at the start of `buf` (chunks, last chunk, trailers and
/// the final line end), or `Partial` / `Invalid`.
pub fn chunked_body_len(buf: &[u8]) -> Parse<usize> {
    let mut chunks = Chunks::START;
    match chunks.feed(buf) {
        Ok((n, true)) => Parse::Complete(n),
        Ok((_, false)) => Parse::Partial,
        Err(_) => Parse::Invalid,
    }
}

// ---------------------------------------------------------------------------------------------
// Chunked bodies: a byte-level state machine, resumable at any byte (RFC 9112 §7.1).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunks {
    /// In the hex chunk size.
    Size {
        value: u64,
        digits: u8,
    },
    /// In a chunk extension (or whitespace before it).
    Ext {
        value: u64,
        len: u16,
    },
    /// Saw CR after the size line.
    SizeLf {
        value: u64,
    },
    /// In chunk data.
    Data {
        remaining: u64,
    },
    /// After chunk data: expecting its CRLF.
    DataCr,
    DataLf,
    /// After the last chunk: at the start of a trailer line (or the final blank line).
    TrailerStart {
        total: u32,
    },
    TrailerLine {
        total: u32,
    },
    /// Saw CR on the final blank line.
    EndLf,
    Done,
}

impl Chunks {
    const START: Chunks = Chunks::Size {
        value: 0,
        digits: 0,
    };

    fn after_size(value: u64) -> Chunks {
        if value == 0 {
            Chunks::TrailerStart { total: 0 }
        } else {
            Chunks::Data { remaining: value }
        }
    }

    fn trailer_byte(total: u32) -> Result<u32, Stop> {
        let total = total.saturating_add(1);
        if total as usize > MAX_HEADER_BLOCK {
            Err(Stop::Invalid)
        } else {
            Ok(total)
        }
    }

    /// Advances over `buf`; returns the bytes used and whether the body ended (then the bytes
    /// after it are not part of it).
    fn feed(&mut self, buf: &[u8]) -> Result<(usize, bool), Stop> {
        let mut i = 0usize;
        while let Some(rest) = buf.get(i..) {
            if *self == Chunks::Done {
                return Ok((i, true));
            }
            if let Chunks::Data { remaining } = *self {
                let take = usize::try_from(remaining)
                    .unwrap_or(usize::MAX)
                    .min(rest.len());
                if take == 0 {
                    break;
                }
                i = i.saturating_add(take);
                let left = remaining.saturating_sub(take as u64);
                *self = if left == 0 {
                    Chunks::DataCr
                } else {
                    Chunks::Data { remaining: left }
                };
                continue;
            }
            let Some(&b) = rest.first() else { break };
            i = i.saturating_add(1);
            *self = self.step(b)?;
        }
        Ok((i, *self == Chunks::Done))
    }

    fn step(self, b: u8) -> Result<Chunks, Stop> {
        Ok(match self {
            Chunks::Size { value, digits } => match b {
                b'\r' | b'\n' | b';' | b' ' | b'\t' if digits == 0 => return Err(Stop::Invalid),
                b'\r' => Chunks::SizeLf { value },
                b'\n' => Chunks::after_size(value),
                b';' | b' ' | b'\t' => Chunks::Ext { value, len: 1 },
                _ => {
                    let d = (b as char).to_digit(16).ok_or(Stop::Invalid)?;
                    if digits >= 16 {
                        return Err(Stop::Invalid);
                    }
                    Chunks::Size {
                        value: (value << 4) | u64::from(d),
                        digits: digits.saturating_add(1),
                    }
                }
            },
            Chunks::Ext { value, len } => match b {
                b'\r' => Chunks::SizeLf { value },
                b'\n' => Chunks::after_size(value),
                b if (b == b'\t' || b == b' ' || is_visible(b))
                    && usize::from(len) < MAX_CHUNK_EXT =>
                {
                    Chunks::Ext {
                        value,
                        len: len.saturating_add(1),
                    }
                }
                _ => return Err(Stop::Invalid),
            },
            Chunks::SizeLf { value } if b == b'\n' => Chunks::after_size(value),
            Chunks::DataCr if b == b'\r' => Chunks::DataLf,
            Chunks::DataCr | Chunks::DataLf if b == b'\n' => Chunks::START,
            Chunks::TrailerStart { .. } if b == b'\r' => Chunks::EndLf,
            Chunks::TrailerStart { .. } if b == b'\n' => Chunks::Done,
            Chunks::TrailerStart { total } if is_tchar(b) => Chunks::TrailerLine {
                total: Chunks::trailer_byte(total)?,
            },
            Chunks::TrailerLine { total } if b == b'\n' => Chunks::TrailerStart {
                total: Chunks::trailer_byte(total)?,
            },
            Chunks::TrailerLine { total }
                if b == b'\r' || b == b'\t' || b == b' ' || is_visible(b) =>
            {
                Chunks::TrailerLine {
                    total: Chunks::trailer_byte(total)?,
                }
            }
            Chunks::EndLf if b == b'\n' => Chunks::Done,
            _ => return Err(Stop::Invalid),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Iterating over pipelined messages

/// Where a body left off at the end of a buffer, carried by a per-flow handler from one
/// [`Requests::resume`] / [`Responses::resume`] call to the next. A few words, `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BodyState(Carry);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Carry {
    /// Between messages.
    #[default]
    Idle,
    /// This many body bytes still to skip.
    Length(u64),
    /// Inside a chunked body.
    Chunked(Chunks),
    /// The rest of the connection is not HTTP (body until close, protocol switch).
    UntilClose,
}

impl BodyState {
    /// Between messages: what a new flow starts with.
    pub const IDLE: BodyState = BodyState(Carry::Idle);

    /// `true` between messages, `false` inside a body.
    pub fn is_idle(&self) -> bool {
        self.0 == Carry::Idle
    }

    /// `true` once a body runs until the connection closes: nothing more will be parsed.
    pub fn is_until_close(&self) -> bool {
        self.0 == Carry::UntilClose
    }
}

/// Why an iteration over messages stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// All bytes were consumed (in [`resume`](Requests::resume) mode possibly inside a body:
    /// see [`Requests::state`]).
    Drained,
    /// The last [`pending`](Requests::pending) bytes are an incomplete message: keep them.
    NeedMore,
    /// The bytes at [`consumed`](Requests::consumed) are not an HTTP message of this direction.
    Invalid,
    /// A response body (or a switched protocol) runs until the connection closes: everything
    /// was consumed and nothing after it is HTTP.
    UntilClose,
}

/// The shared walk of [`Requests`] and [`Responses`].
#[derive(Debug, Clone)]
struct Walk<'a> {
    buf: &'a [u8],
    pos: usize,
    pending: usize,
    carry: Carry,
    /// Yield heads as soon as complete and carry the body (resume mode).
    streaming: bool,
    end: Option<End>,
}

impl<'a> Walk<'a> {
    fn new(buf: &'a [u8], carry: Carry, streaming: bool) -> Self {
        Walk {
            buf,
            pos: 0,
            pending: 0,
            carry,
            streaming,
            end: None,
        }
    }

    fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }

    fn stop(&mut self, end: End) {
        self.pending = match end {
            End::NeedMore => self.buf.len().saturating_sub(self.pos),
            End::Drained | End::Invalid | End::UntilClose => 0,
        };
        if end == End::UntilClose {
            self.pos = self.buf.len();
        }
        self.end = Some(end);
    }

    /// Skips what is left of a carried body. `false` when the walk stopped.
    fn skip_carried(&mut self) -> bool {
        let rest = self.rest();
        match self.carry {
            Carry::Idle => true,
            Carry::UntilClose => {
                self.stop(End::UntilClose);
                false
            }
            Carry::Length(n) => {
                let take = usize::try_from(n).unwrap_or(usize::MAX).min(rest.len());
                self.pos = self.pos.saturating_add(take);
                let left = n.saturating_sub(take as u64);
                self.carry = if left == 0 {
                    Carry::Idle
                } else {
                    Carry::Length(left)
                };
                left == 0 || {
                    self.stop(End::Drained);
                    false
                }
            }
            Carry::Chunked(mut chunks) => match chunks.feed(rest) {
                Ok((n, done)) => {
                    self.pos = self.pos.saturating_add(n);
                    self.carry = if done {
                        Carry::Idle
                    } else {
                        Carry::Chunked(chunks)
                    };
                    done || {
                        self.stop(End::Drained);
                        false
                    }
                }
                Err(_) => {
                    self.stop(End::Invalid);
                    false
                }
            },
        }
    }

    /// Skips stray empty lines between messages. `false` when the walk stopped.
    fn skip_empty_lines(&mut self) -> bool {
        for _ in 0..=MAX_LEADING_EMPTY_LINES {
            match self.rest() {
                [] => {
                    self.stop(End::Drained);
                    return false;
                }
                [b'\r'] => {
                    self.stop(End::NeedMore);
                    return false;
                }
                [b'\r', b'\n', ..] => self.pos = self.pos.saturating_add(2),
                [b'\n', ..] => self.pos = self.pos.saturating_add(1),
                _ => return true,
            }
        }
        self.stop(End::Invalid);
        false
    }

    /// One message whose head `parse` recognises; `head` gives its length and framing.
    fn next_with<T>(
        &mut self,
        parse: fn(&'a [u8]) -> Parse<T>,
        head: fn(&T) -> (usize, Framing),
    ) -> Option<T> {
        if self.end.is_some() || !self.skip_carried() || !self.skip_empty_lines() {
            return None;
        }
        let msg = match parse(self.rest()) {
            Parse::Complete(msg) => msg,
            Parse::Partial => {
                self.stop(End::NeedMore);
                return None;
            }
            Parse::Invalid => {
                self.stop(End::Invalid);
                return None;
            }
        };
        let (header_len, framing) = head(&msg);
        let body_start = self.pos.saturating_add(header_len);
        let body = self.buf.get(body_start..).unwrap_or(&[]);
        let carry = match framing {
            Framing::None => Carry::Idle,
            Framing::Length(n) => Carry::Length(n),
            Framing::Chunked => Carry::Chunked(Chunks::START),
            Framing::UntilClose => Carry::UntilClose,
        };
        if self.streaming {
            self.pos = body_start;
            self.carry = carry;
            // Consume what is here of the body now, so `consumed()` covers it.
            if carry != Carry::UntilClose {
                self.skip_carried();
            } else {
                self.stop(End::UntilClose);
            }
            return Some(msg);
        }
        let body_len = match carry {
            Carry::Idle => 0,
            Carry::UntilClose => {
                self.stop(End::UntilClose);
                return Some(msg);
            }
            Carry::Length(n) => match usize::try_from(n) {
                Ok(n) if n <= body.len() => n,
                _ => {
                    self.stop(End::NeedMore);
                    return None;
                }
            },
            Carry::Chunked(_) => match chunked_body_len(body) {
                Parse::Complete(n) => n,
                Parse::Partial => {
                    self.stop(End::NeedMore);
                    return None;
                }
                Parse::Invalid => {
                    self.stop(End::Invalid);
                    return None;
                }
            },
        };
        self.pos = body_start.saturating_add(body_len);
        Some(msg)
    }
}

/// The pipelined requests at the start of a client stream; see the [module docs](self) for the
/// `consumed` / `pending` contract.
#[derive(Debug, Clone)]
pub struct Requests<'a>(Walk<'a>);

/// The pipelined responses at the start of a server stream; same contract as [`Requests`].
#[derive(Debug, Clone)]
pub struct Responses<'a>(Walk<'a>);

/// Iterates the complete requests (head and body) at the start of `buf`.
pub fn requests(buf: &[u8]) -> Requests<'_> {
    Requests(Walk::new(buf, Carry::Idle, false))
}

/// Iterates the complete responses (head and body) at the start of `buf`. A response whose body
/// runs until close ends the iteration with everything consumed ([`End::UntilClose`]).
pub fn responses(buf: &[u8]) -> Responses<'_> {
    Responses(Walk::new(buf, Carry::Idle, false))
}

macro_rules! walk_api {
    ($ty:ident, $msg:ident, $parse:ident) => {
        impl<'a> $ty<'a> {
            /// Resume mode, for a handler that keeps `state` per flow: continues a body left
            /// off by the previous call, then yields each message as soon as its *head* is
            /// complete, consuming whatever part of its body is present. Store
            /// [`state`](Self::state) after the loop and pass it next time; keep
            /// [`pending`](Self::pending) bytes (an incomplete head) unread.
            pub fn resume(buf: &'a [u8], state: BodyState) -> Self {
                $ty(Walk::new(buf, state.0, true))
            }

            /// Bytes of `buf` fully parsed: the caller may consume them.
            pub fn consumed(&self) -> usize {
                self.0.pos
            }

            /// Bytes at the end of `buf` holding an incomplete message: keep them unread.
            pub fn pending(&self) -> usize {
                self.0.pending
            }

            /// Why the iteration stopped; `None` while it has not.
            pub fn end(&self) -> Option<End> {
                self.0.end
            }

            /// Where a body left off (resume mode); idle in whole-message mode.
            pub fn state(&self) -> BodyState {
                BodyState(self.0.carry)
            }
        }

        impl<'a> Iterator for $ty<'a> {
            type Item = $msg<'a>;

            fn next(&mut self) -> Option<$msg<'a>> {
                self.0.next_with($parse, |m| (m.header_len, m.framing()))
            }
        }
    };
}

walk_api!(Requests, Request, parse_request);
walk_api!(Responses, Response, parse_response);

impl fmt::Display for Framing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Framing::None => f.write_str("no body"),
            Framing::Length(n) => write!(f, "{n} bytes"),
            Framing::Chunked => f.write_str("chunked"),
            Framing::UntilClose => f.write_str("until close"),
        }
    }
}

#[cfg(test)]
mod tests;
