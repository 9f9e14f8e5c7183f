//! HTTP/1.1 message heads: writing requests and responses, and finding the requests in a
//! client's byte stream (for the ground truth of hand-made conversations).
//!
//! Bodies are not built here: generators fill them from a pattern so that any byte range
//! can be regenerated for a retransmission without keeping the body around.

use crate::pcap::Timestamp;
use crate::truth::HttpRequest;

/// The methods [`RequestScanner`] recognises at the start of a request line.
pub const METHODS: [&str; 9] = [
    "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE",
];

/// An HTTP/1.1 request head to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// Method token (`GET`, `POST`, ...).
    pub method: &'a str,
    /// `Host` header value.
    pub host: &'a str,
    /// Request target (`/path?query`).
    pub uri: &'a str,
    /// `User-Agent` header value.
    pub user_agent: &'a str,
    /// `Content-Type` of the body, written only with a body.
    pub content_type: &'a str,
    /// Body length; a `Content-Length` header is written when it is not zero.
    pub body_len: u64,
}

/// Appends the request line and headers (ending with the empty line) to `out`.
pub fn write_request(out: &mut Vec<u8>, req: &Request<'_>) {
    push_all(
        out,
        &[req.method, " ", req.uri, " HTTP/1.1\r\nHost: ", req.host],
    );
    push_all(
        out,
        &[
            "\r\nUser-Agent: ",
            req.user_agent,
            "\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\nAccept-Language: en-US,en;q=0.8\r\nConnection: keep-alive\r\n",
        ],
    );
    if req.body_len > 0 {
        push_all(out, &["Content-Type: ", req.content_type, "\r\n"]);
        out.extend_from_slice(b"Content-Length: ");
        push_decimal(out, req.body_len);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// An HTTP/1.1 response head to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response<'a> {
    /// Status code.
    pub status: u16,
    /// `Content-Type` header value (omitted for bodiless responses).
    pub content_type: &'a str,
    /// Body length (`Content-Length`).
    pub body_len: u64,
    /// `Date` header.
    pub date: Timestamp,
    /// `Server` header value.
    pub server: &'a str,
}

/// The reason phrase of the status codes the generators use.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Appends the status line and headers (ending with the empty line) to `out`.
pub fn write_response(out: &mut Vec<u8>, resp: &Response<'_>) {
    out.extend_from_slice(b"HTTP/1.1 ");
    push_decimal(out, u64::from(resp.status));
    push_all(out, &[" ", reason(resp.status), "\r\nDate: "]);
    out.extend_from_slice(&http_date(resp.date));
    push_all(out, &["\r\nServer: ", resp.server, "\r\n"]);
    let bodiless = resp.status == 204 || resp.status == 304;
    if !bodiless {
        push_all(out, &["Content-Type: ", resp.content_type, "\r\n"]);
        out.extend_from_slice(b"Content-Length: ");
        push_decimal(out, resp.body_len);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Cache-Control: max-age=3600\r\nConnection: keep-alive\r\n\r\n");
}

fn push_all(out: &mut Vec<u8>, parts: &[&str]) {
    for p in parts {
        out.extend_from_slice(p.as_bytes());
    }
}

/// Appends the decimal digits of `v`.
pub fn push_decimal(out: &mut Vec<u8>, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) for the `Date` header.
pub fn http_date(ts: Timestamp) -> [u8; 29] {
    const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let secs = ts.secs();
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let mut out = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    out[0..3].copy_from_slice(DAYS[(days % 7) as usize]);
    two_digits(&mut out[5..7], u64::from(day));
    out[8..11].copy_from_slice(MONTHS[usize::from(month - 1)]);
    let y = year % 10_000;
    two_digits(&mut out[12..14], y / 100);
    two_digits(&mut out[14..16], y % 100);
    two_digits(&mut out[17..19], rem / 3600);
    two_digits(&mut out[20..22], rem / 60 % 60);
    two_digits(&mut out[23..25], rem % 60);
    out
}

fn two_digits(out: &mut [u8], v: u64) {
    if let [a, b] = out {
        *a = b'0' + (v / 10 % 10) as u8;
        *b = b'0' + (v % 10) as u8;
    }
}

/// (year, month 1..=12, day 1..=31) of a day count since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: u64) -> (u64, u8, u8) {
    // Shift the epoch to 0000-03-01 so that leap days fall at the end of a year.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u8;
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Finds HTTP requests in a client's in-order byte stream, fed incrementally.
///
/// It reads request heads (request line and headers up to the empty line), takes the method,
/// the target and the `Host` header, and skips a `Content-Length` body. A stream that does not
/// start like a request (or stops looking like one) is given up on: nothing more is reported.
#[derive(Debug, Clone, Default)]
pub struct RequestScanner {
    pos: usize,
    body_left: u64,
    dead: bool,
}

/// Longest request head the scanner waits for before giving up on a stream.
const MAX_HEAD: usize = 16 << 10;

impl RequestScanner {
    /// Scans `stream` (everything the client sent so far, from its first byte) past what was
    /// already scanned, appending each complete request head to `out`.
    pub fn scan(&mut self, stream: &[u8], out: &mut Vec<HttpRequest>) {
        while !self.dead {
            if self.body_left > 0 {
                let avail = stream.len().saturating_sub(self.pos) as u64;
                let skip = avail.min(self.body_left);
                self.pos += skip as usize;
                self.body_left -= skip;
                if self.body_left > 0 {
                    return;
                }
            }
            let rest = stream.get(self.pos..).unwrap_or_default();
            if rest.is_empty() {
                return;
            }
            if !starts_like_request(rest) {
                self.dead = true;
                return;
            }
            let Some(end) = find(rest, b"\r\n\r\n") else {
                if rest.len() > MAX_HEAD {
                    self.dead = true;
                }
                return;
            };
            let head = rest.get(..end).unwrap_or_default();
            match parse_head(head) {
                Some((req, body_len)) => {
                    out.push(req);
                    self.pos += end + 4;
                    self.body_left = body_len;
                }
                None => self.dead = true,
            }
        }
    }
}

fn starts_like_request(rest: &[u8]) -> bool {
    METHODS.iter().any(|m| {
        let m = m.as_bytes();
        let n = m.len().min(rest.len());
        rest.get(..n) == m.get(..n) && (rest.len() <= m.len() || rest.get(m.len()) == Some(&b' '))
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_head(head: &[u8]) -> Option<(HttpRequest, u64)> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let method = parts.next()?;
    let uri = parts.next()?;
    let version = parts.next()?;
    if !METHODS.contains(&method) || !version.starts_with("HTTP/1.") || parts.next().is_some() {
        return None;
    }
    let mut host = "";
    let mut body_len = 0u64;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        if name.eq_ignore_ascii_case("host") {
            host = value.trim();
        } else if name.eq_ignore_ascii_case("content-length") {
            body_len = value.trim().parse().ok()?;
        }
    }
    Some((
        HttpRequest {
            method: method.to_string(),
            host: host.to_string(),
            uri: uri.to_string(),
        },
        body_len,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_imf_fixdate() {
        let d = http_date(Timestamp::from_unix(1_700_000_000, 0));
        assert_eq!(&d, b"Tue, 14 Nov 2023 22:13:20 GMT");
        let d = http_date(Timestamp::from_unix(0, 0));
        assert_eq!(&d, b"Thu, 01 Jan 1970 00:00:00 GMT");
        // 2024-02-29 12:00:00 UTC, a leap day.
        let d = http_date(Timestamp::from_unix(1_709_208_000, 0));
        assert_eq!(&d, b"Thu, 29 Feb 2024 12:00:00 GMT");
    }

    #[test]
    fn request_round_trips_through_the_scanner() {
        let mut stream = Vec::new();
        write_request(
            &mut stream,
            &Request {
                method: "POST",
                host: "api.example.com",
                uri: "/v1/items",
                user_agent: "curl/8.4.0",
                content_type: "application/x-www-form-urlencoded",
                body_len: 7,
            },
        );
        stream.extend_from_slice(b"a=1&b=2");
        write_request(
            &mut stream,
            &Request {
                method: "GET",
                host: "www.example.com",
                uri: "/search?q=rust",
                user_agent: "curl/8.4.0",
                content_type: "",
                body_len: 0,
            },
        );
        // Fed in small pieces, as segments arrive.
        let mut scanner = RequestScanner::default();
        let mut found = Vec::new();
        for end in (0..=stream.len()).step_by(13).chain([stream.len()]) {
            scanner.scan(&stream[..end], &mut found);
        }
        let got: Vec<_> = found
            .iter()
            .map(|r| (r.method.as_str(), r.host.as_str(), r.uri.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("POST", "api.example.com", "/v1/items"),
                ("GET", "www.example.com", "/search?q=rust")
            ]
        );
    }

    #[test]
    fn scanner_gives_up_on_non_http() {
        let mut scanner = RequestScanner::default();
        let mut found = Vec::new();
        scanner.scan(b"\x16\x03\x01\x02\x00GET / HTTP/1.1\r\n\r\n", &mut found);
        assert!(found.is_empty());
        scanner.scan(b"GE", &mut found);
        assert!(found.is_empty());
        let mut fresh = RequestScanner::default();
        fresh.scan(b"GETX / HTTP/1.1\r\n\r\n", &mut found);
        assert!(found.is_empty());
    }

    #[test]
    fn response_head_has_length_and_date() {
        let mut out = Vec::new();
        write_response(
            &mut out,
            &Response {
                status: 404,
                content_type: "text/html",
                body_len: 1234,
                date: Timestamp::from_unix(1_700_000_000, 0),
                server: "nginx",
            },
        );
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 404 Not Found\r\nDate: Tue, 14 Nov 2023"));
        assert!(text.contains("\r\nContent-Length: 1234\r\n"));
        assert!(text.ends_with("\r\n\r\n"));
        let mut out = Vec::new();
        write_response(
            &mut out,
            &Response {
                status: 304,
                content_type: "text/html",
                body_len: 0,
                date: Timestamp::from_unix(0, 0),
                server: "nginx",
            },
        );
        assert!(!String::from_utf8(out).unwrap().contains("Content-Length"));
    }

    #[test]
    fn decimal() {
        let mut out = Vec::new();
        push_decimal(&mut out, 0);
        out.push(b' ');
        push_decimal(&mut out, u64::MAX);
        assert_eq!(out, b"0 18446744073709551615");
    }
}
