//! The TLS ClientHello at the start of a client stream: [`parse_client_hello`] and the cheap
//! [`looks_like_tls_handshake`] test.
//!
//! # Records
//! A ClientHello is a handshake message carried in handshake records (content type 22, record
//! version 0x0301..=0x0304, RFC 8446 §5.1). It usually fits one record, but a large one (many
//! extensions, post-quantum key shares, a big session ticket) may be fragmented over several,
//! and a fragment boundary may fall anywhere, even inside a field. The parser reads the
//! handshake through a *logical* cursor that steps over record headers in place, so fragmented
//! hellos are parsed without copying the message. The two strings it returns (SNI and the first
//! ALPN protocol) are copied into fixed arrays of the result, since a fragment boundary may
//! split them.
//!
//! The SSL 2.0-compatible ClientHello (RFC 5246 appendix E.2) of old clients is recognised too;
//! it has no extensions, hence no SNI.
//!
//! # Outcome
//! - [`Parse::Partial`] while the bytes are a valid prefix: record headers seen so far are
//!   handshake records, the message is a ClientHello within the limits, and every field read
//!   so far fits its enclosing length. Keep the bytes and parse again.
//! - [`Parse::Invalid`] for anything else: another content type or message, a length that
//!   does not fit its container, a record of 0 or more than 2^14 bytes, a hello longer than
//!   [`MAX_CLIENT_HELLO`], an SNI host name longer than [`MAX_HOST_NAME`], or a repeated
//!   `server_name`, `alpn` or `supported_versions` extension (RFC 8446 §4.2 forbids repeats,
//!   and two SNIs are a classic way to tell a middlebox and a server different names).

pub use super::Parse;
use super::Stop;

/// Longest ClientHello body accepted (the handshake length field).
pub const MAX_CLIENT_HELLO: usize = 16 * 1024;
/// Longest record payload (RFC 8446 §5.1: 2^14).
pub const MAX_RECORD: usize = 16 * 1024;
/// Longest SNI host name kept (a DNS name is at most 253 characters).
pub const MAX_HOST_NAME: usize = 255;

/// Record content type of handshake records.
const CONTENT_HANDSHAKE: u8 = 22;
/// Handshake message type of a ClientHello.
const CLIENT_HELLO: u8 = 1;
const EXT_SERVER_NAME: u16 = 0;
const EXT_ALPN: u16 = 16;
const EXT_SUPPORTED_VERSIONS: u16 = 43;
const TLS13: u16 = 0x0304;

/// What a ClientHello says. The strings are copied (at most 255 bytes each), the rest is plain
/// values, so the result borrows nothing.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ClientHello {
    /// Version of the first record (0x0301..=0x0304), or 0x0002 for an SSL 2.0-compatible hello.
    pub record_version: u16,
    /// The hello's `legacy_version` (0x0303 for TLS 1.2 and 1.3 clients).
    pub legacy_version: u16,
    /// Number of cipher suites offered.
    pub cipher_suites_count: u16,
    /// Number of extensions.
    pub extensions_count: u16,
    /// `supported_versions` lists TLS 1.3 (0x0304).
    pub supported_versions_has_tls13: bool,
    /// Bytes of the stream up to the end of the ClientHello (record headers included).
    pub len: usize,
    sni: [u8; MAX_HOST_NAME],
    sni_len: Option<u8>,
    alpn: [u8; 255],
    alpn_len: Option<u8>,
}

impl ClientHello {
    /// The SNI host name (`server_name` extension, first `host_name` entry), raw bytes.
    pub fn sni_bytes(&self) -> Option<&[u8]> {
        self.sni.get(..usize::from(self.sni_len?))
    }

    /// The SNI host name as text, if present and UTF-8 (host names are ASCII).
    pub fn sni(&self) -> Option<&str> {
        core::str::from_utf8(self.sni_bytes()?).ok()
    }

    /// The first protocol of the `application_layer_protocol_negotiation` extension.
    pub fn alpn(&self) -> Option<&[u8]> {
        self.alpn.get(..usize::from(self.alpn_len?))
    }

    /// The first ALPN protocol as text (`h2`, `http/1.1`), if present and UTF-8.
    pub fn alpn_str(&self) -> Option<&str> {
        core::str::from_utf8(self.alpn()?).ok()
    }

    /// Whether this is an SSL 2.0-compatible ClientHello.
    pub fn is_sslv2_compatible(&self) -> bool {
        self.record_version == 0x0002
    }

    fn empty() -> Self {
        ClientHello {
            record_version: 0,
            legacy_version: 0,
            cipher_suites_count: 0,
            extensions_count: 0,
            supported_versions_has_tls13: false,
            len: 0,
            sni: [0; MAX_HOST_NAME],
            sni_len: None,
            alpn: [0; 255],
            alpn_len: None,
        }
    }
}

impl core::fmt::Debug for ClientHello {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientHello")
            .field(
                "record_version",
                &format_args!("{:#06x}", self.record_version),
            )
            .field(
                "legacy_version",
                &format_args!("{:#06x}", self.legacy_version),
            )
            .field("cipher_suites_count", &self.cipher_suites_count)
            .field("extensions_count", &self.extensions_count)
            .field(
                "supported_versions_has_tls13",
                &self.supported_versions_has_tls13,
            )
            .field("len", &self.len)
            .field("sni", &self.sni_bytes().map(String::from_utf8_lossy))
            .field("alpn", &self.alpn().map(String::from_utf8_lossy))
            .finish()
    }
}

/// Checks the (possibly incomplete) record header at the start of `h`; its payload length.
fn record_header(h: &[u8]) -> Result<usize, Stop> {
    let check = |i: usize, ok: fn(u8) -> bool| match h.get(i) {
        None => Err(Stop::Partial),
        Some(&b) if ok(b) => Ok(()),
        Some(_) => Err(Stop::Invalid),
    };
    check(0, |b| b == CONTENT_HANDSHAKE)?;
    check(1, |b| b == 3)?;
    check(2, |b| (1..=4).contains(&b))?;
    let (Some(&hi), Some(&lo)) = (h.get(3), h.get(4)) else {
        return Err(Stop::Partial);
    };
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    if len == 0 || len > MAX_RECORD {
        Err(Stop::Invalid)
    } else {
        Ok(len)
    }
}

/// Cheap test: `buf` starts with a handshake record header followed by a ClientHello type byte
/// (or an SSL 2.0-compatible ClientHello header), or is a non-empty prefix of one.
pub fn looks_like_tls_handshake(buf: &[u8]) -> bool {
    match buf.first() {
        None => false,
        Some(&CONTENT_HANDSHAKE) => match record_header(buf) {
            Ok(_) => buf.get(5).is_none_or(|&t| t == CLIENT_HELLO),
            Err(stop) => stop == Stop::Partial,
        },
        Some(&b0) if b0 & 0x80 != 0 => matches!(sslv2_header(buf), Ok(_) | Err(Stop::Partial)),
        Some(_) => false,
    }
}

/// The handshake bytes behind the record layer, read in place. `logical` counts handshake
/// bytes; reads past `end` are a length error (Invalid), reads past the buffer are Partial.
struct Reader<'a> {
    buf: &'a [u8],
    phys: usize,
    rec_end: usize,
    logical: usize,
    end: usize,
}

impl Reader<'_> {
    /// Steps over record headers until a payload byte is at `phys`.
    fn seek_payload(&mut self) -> Result<(), Stop> {
        while self.phys >= self.rec_end {
            let len = record_header(self.buf.get(self.phys..).unwrap_or(&[]))?;
            self.phys = self.phys.saturating_add(5);
            self.rec_end = self.phys.saturating_add(len);
        }
        Ok(())
    }

    fn check_room(&self, n: usize) -> Result<(), Stop> {
        if n > self.end.saturating_sub(self.logical) {
            Err(Stop::Invalid)
        } else {
            Ok(())
        }
    }

    fn u8(&mut self) -> Result<u8, Stop> {
        self.check_room(1)?;
        self.seek_payload()?;
        let b = *self.buf.get(self.phys).ok_or(Stop::Partial)?;
        self.phys = self.phys.saturating_add(1);
        self.logical = self.logical.saturating_add(1);
        Ok(b)
    }

    fn u16(&mut self) -> Result<u16, Stop> {
        Ok(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }

    fn u24(&mut self) -> Result<usize, Stop> {
        Ok(usize::from(self.u8()?) << 16 | usize::from(self.u16()?))
    }

    fn skip(&mut self, n: usize) -> Result<(), Stop> {
        self.check_room(n)?;
        let mut left = n;
        while left > 0 {
            self.seek_payload()?;
            let avail = self.rec_end.min(self.buf.len()).saturating_sub(self.phys);
            if avail == 0 {
                return Err(Stop::Partial);
            }
            let take = left.min(avail);
            self.phys = self.phys.saturating_add(take);
            self.logical = self.logical.saturating_add(take);
            left = left.saturating_sub(take);
        }
        Ok(())
    }

    /// Copies `n` bytes into the start of `out`.
    fn copy(&mut self, out: &mut [u8], n: usize) -> Result<(), Stop> {
        self.check_room(n)?;
        if n > out.len() {
            return Err(Stop::Invalid);
        }
        for slot in out.iter_mut().take(n) {
            *slot = self.u8()?;
        }
        Ok(())
    }

    /// Runs `f` over the next `len` bytes as a nested container: `f` must not read past them,
    /// and whatever it leaves unread is skipped.
    fn nested<T>(
        &mut self,
        len: usize,
        f: impl FnOnce(&mut Self) -> Result<T, Stop>,
    ) -> Result<T, Stop> {
        self.check_room(len)?;
        let outer = self.end;
        let inner = self.logical.saturating_add(len);
        self.end = inner;
        let out = f(self)?;
        let rest = inner.saturating_sub(self.logical);
        self.skip(rest)?;
        self.end = outer;
        Ok(out)
    }
}

/// Parses the ClientHello at the start of a TLS client stream.
pub fn parse_client_hello(buf: &[u8]) -> Parse<ClientHello> {
    match buf.first() {
        Some(&CONTENT_HANDSHAKE) => client_hello(buf).into(),
        Some(&b0) if b0 & 0x80 != 0 => sslv2_client_hello(buf).into(),
        Some(_) => Parse::Invalid,
        None => Parse::Partial,
    }
}

fn client_hello(buf: &[u8]) -> Result<ClientHello, Stop> {
    let mut hello = ClientHello::empty();
    hello.record_version = match (buf.get(1), buf.get(2)) {
        (Some(&hi), Some(&lo)) => u16::from_be_bytes([hi, lo]),
        _ => {
            record_header(buf)?;
            return Err(Stop::Partial);
        }
    };
    let mut r = Reader {
        buf,
        phys: 0,
        rec_end: 0,
        logical: 0,
        end: 4,
    };
    if r.u8()? != CLIENT_HELLO {
        return Err(Stop::Invalid);
    }
    let len = r.u24()?;
    // version, random, and at least the three one- or two-byte list lengths.
    if !(2 + 32 + 1 + 2 + 1..=MAX_CLIENT_HELLO).contains(&len) {
        return Err(Stop::Invalid);
    }
    r.end = len.saturating_add(4);
    hello.legacy_version = r.u16()?;
    r.skip(32)?; // random
    let session_id = usize::from(r.u8()?);
    if session_id > 32 {
        return Err(Stop::Invalid);
    }
    r.skip(session_id)?;
    let suites = usize::from(r.u16()?);
    if suites < 2 || suites % 2 != 0 {
        return Err(Stop::Invalid);
    }
    r.skip(suites)?;
    hello.cipher_suites_count = u16::try_from(suites / 2).map_err(|_| Stop::Invalid)?;
    let compression = usize::from(r.u8()?);
    if compression == 0 {
        return Err(Stop::Invalid);
    }
    r.skip(compression)?;
    if r.logical < r.end {
        let ext_len = usize::from(r.u16()?);
        if ext_len != r.end.saturating_sub(r.logical) {
            return Err(Stop::Invalid);
        }
        let mut seen = 0u8;
        while r.logical < r.end {
            let ty = r.u16()?;
            let len = usize::from(r.u16()?);
            hello.extensions_count = hello.extensions_count.saturating_add(1);
            let bit = match ty {
                EXT_SERVER_NAME => 1,
                EXT_ALPN => 2,
                EXT_SUPPORTED_VERSIONS => 4,
                _ => 0,
            };
            if seen & bit != 0 {
                return Err(Stop::Invalid);
            }
            seen |= bit;
            r.nested(len, |r| match ty {
                EXT_SERVER_NAME => server_name(r, &mut hello),
                EXT_ALPN => alpn(r, &mut hello),
                EXT_SUPPORTED_VERSIONS => supported_versions(r, &mut hello),
                _ => Ok(()),
            })?;
        }
    }
    hello.len = r.phys;
    Ok(hello)
}

/// `server_name` (RFC 6066 §3): a list of (type, name); the first `host_name` (type 0) wins.
/// An empty extension body is what a server sends back; accepted without a name.
fn server_name(r: &mut Reader<'_>, hello: &mut ClientHello) -> Result<(), Stop> {
    if r.logical == r.end {
        return Ok(());
    }
    let list = usize::from(r.u16()?);
    r.nested(list, |r| {
        while r.logical < r.end {
            let ty = r.u8()?;
            let len = usize::from(r.u16()?);
            if ty == 0 && hello.sni_len.is_none() {
                let n = u8::try_from(len).map_err(|_| Stop::Invalid)?;
                r.copy(&mut hello.sni, len)?;
                hello.sni_len = Some(n);
            } else {
                r.skip(len)?;
            }
        }
        Ok(())
    })
}

/// ALPN (RFC 7301 §3.1): a list of length-prefixed protocol names; the first is kept.
fn alpn(r: &mut Reader<'_>, hello: &mut ClientHello) -> Result<(), Stop> {
    let list = usize::from(r.u16()?);
    r.nested(list, |r| {
        while r.logical < r.end {
            let len = r.u8()?;
            if len == 0 {
                return Err(Stop::Invalid);
            }
            if hello.alpn_len.is_none() {
                r.copy(&mut hello.alpn, usize::from(len))?;
                hello.alpn_len = Some(len);
            } else {
                r.skip(usize::from(len))?;
            }
        }
        Ok(())
    })
}

/// `supported_versions` in a ClientHello (RFC 8446 §4.2.1): a u8-length list of u16 versions.
fn supported_versions(r: &mut Reader<'_>, hello: &mut ClientHello) -> Result<(), Stop> {
    let list = usize::from(r.u8()?);
    if list % 2 != 0 {
        return Err(Stop::Invalid);
    }
    r.nested(list, |r| {
        while r.logical < r.end {
            hello.supported_versions_has_tls13 |= r.u16()? == TLS13;
        }
        Ok(())
    })
}

/// The two-byte header and fixed fields of an SSL 2.0-compatible ClientHello, checked as far as
/// `buf` goes; the message length after the header.
fn sslv2_header(buf: &[u8]) -> Result<usize, Stop> {
    let check = |i: usize, ok: fn(u8) -> bool| match buf.get(i) {
        None => Err(Stop::Partial),
        Some(&b) if ok(b) => Ok(()),
        Some(_) => Err(Stop::Invalid),
    };
    check(0, |b| b & 0x80 != 0)?;
    check(1, |_| true)?;
    check(2, |b| b == CLIENT_HELLO)?;
    check(3, |b| b == 3)?;
    check(4, |b| b <= 4)?;
    let hi = buf.first().map_or(0, |&b| b & 0x7f);
    let lo = buf.get(1).copied().unwrap_or(0);
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    if !(9..=MAX_CLIENT_HELLO).contains(&len) {
        Err(Stop::Invalid)
    } else {
        Ok(len)
    }
}

fn sslv2_client_hello(buf: &[u8]) -> Result<ClientHello, Stop> {
    let len = sslv2_header(buf)?;
    let field = |i: usize| match (buf.get(i), buf.get(i.saturating_add(1))) {
        (Some(&hi), Some(&lo)) => Ok(u16::from_be_bytes([hi, lo])),
        _ => Err(Stop::Partial),
    };
    let version = field(3)?;
    let specs = usize::from(field(5)?);
    let session_id = usize::from(field(7)?);
    let challenge = usize::from(field(9)?);
    if specs == 0 || specs % 3 != 0 || session_id > 32 || !(16..=32).contains(&challenge) {
        return Err(Stop::Invalid);
    }
    if specs
        .saturating_add(session_id)
        .saturating_add(challenge)
        .saturating_add(9)
        != len
    {
        return Err(Stop::Invalid);
    }
    let total = len.saturating_add(2);
    if buf.len() < total {
        return Err(Stop::Partial);
    }
    let mut hello = ClientHello::empty();
    hello.record_version = 0x0002;
    hello.legacy_version = version;
    hello.cipher_suites_count = u16::try_from(specs / 3).map_err(|_| Stop::Invalid)?;
    hello.len = total;
    Ok(hello)
}

#[cfg(test)]
mod tests;
