//! DNS messages in wire format (RFC 1035): queries and address answers, with the answer
//! names compressed to a pointer at the question, and an EDNS(0) OPT record as current
//! resolvers send.

use std::net::IpAddr;

use crate::Error;

/// Record type A (IPv4 address).
pub const TYPE_A: u16 = 1;
/// Record type AAAA (IPv6 address).
pub const TYPE_AAAA: u16 = 28;
/// Record type OPT (EDNS).
const TYPE_OPT: u16 = 41;
/// Class IN.
pub const CLASS_IN: u16 = 1;

/// Appends `name` in wire format (length-prefixed labels, then the root label).
///
/// A trailing dot is allowed. Fails on empty labels, labels over 63 bytes and names over 255
/// bytes encoded.
pub fn encode_name(out: &mut Vec<u8>, name: &str) -> Result<(), Error> {
    let bad = || Error::InvalidDnsName(name.to_string());
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    let start = out.len();
    if !trimmed.is_empty() {
        for label in trimmed.split('.') {
            if label.is_empty() || label.len() > 63 {
                out.truncate(start);
                return Err(bad());
            }
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
    }
    out.push(0);
    if out.len() - start > 255 {
        out.truncate(start);
        return Err(bad());
    }
    Ok(())
}

fn header(out: &mut Vec<u8>, id: u16, flags: u16, qd: u16, an: u16, ar: u16) {
    for v in [id, flags, qd, an, 0, ar] {
        out.extend_from_slice(&v.to_be_bytes());
    }
}

fn opt_record(out: &mut Vec<u8>) {
    out.push(0); // root
    out.extend_from_slice(&TYPE_OPT.to_be_bytes());
    out.extend_from_slice(&1232u16.to_be_bytes()); // UDP payload size (DNS flag day value)
    out.extend_from_slice(&[0, 0, 0, 0]); // extended rcode, version, flags
    out.extend_from_slice(&0u16.to_be_bytes());
}

/// Appends a recursive query for `name`/`qtype` to `out` (cleared first).
pub fn write_query(out: &mut Vec<u8>, id: u16, name: &str, qtype: u16) -> Result<(), Error> {
    out.clear();
    header(out, id, 0x0100, 1, 0, 1);
    encode_name(out, name)?;
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    opt_record(out);
    Ok(())
}

/// Appends the response to [`write_query`]'s query to `out` (cleared first): one answer per
/// address in `answers` whose family matches `qtype`, all with `ttl`. No matching address
/// gives an NXDOMAIN.
pub fn write_response(
    out: &mut Vec<u8>,
    id: u16,
    name: &str,
    qtype: u16,
    answers: &[IpAddr],
    ttl: u32,
) -> Result<(), Error> {
    out.clear();
    let matching = || {
        answers.iter().filter(move |a| match a {
            IpAddr::V4(_) => qtype == TYPE_A,
            IpAddr::V6(_) => qtype == TYPE_AAAA,
        })
    };
    let count = matching().count().min(usize::from(u16::MAX)) as u16;
    // QR, RD, RA; rcode 3 (NXDOMAIN) when there is nothing to answer.
    let flags = if count == 0 { 0x8183 } else { 0x8180 };
    header(out, id, flags, 1, count, 1);
    encode_name(out, name)?;
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    for addr in matching().take(usize::from(count)) {
        out.extend_from_slice(&0xc00cu16.to_be_bytes()); // pointer to the question name
        out.extend_from_slice(&qtype.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        out.extend_from_slice(&ttl.to_be_bytes());
        match addr {
            IpAddr::V4(a) => {
                out.extend_from_slice(&4u16.to_be_bytes());
                out.extend_from_slice(&a.octets());
            }
            IpAddr::V6(a) => {
                out.extend_from_slice(&16u16.to_be_bytes());
                out.extend_from_slice(&a.octets());
            }
        }
    }
    opt_record(out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_encode_as_labels() {
        let mut out = Vec::new();
        encode_name(&mut out, "www.example.com.").unwrap();
        assert_eq!(out, b"\x03www\x07example\x03com\x00");
        out.clear();
        encode_name(&mut out, "").unwrap();
        assert_eq!(out, b"\x00");
        for bad in ["a..b", &"x".repeat(64), &["abcdefghi"; 30].join(".")] {
            let mut out = vec![1, 2];
            assert!(encode_name(&mut out, bad).is_err(), "{bad}");
            assert_eq!(out, [1, 2], "nothing half-written");
        }
    }

    #[test]
    fn query_and_response_layout() {
        let mut q = Vec::new();
        write_query(&mut q, 0x1234, "example.com", TYPE_A).unwrap();
        assert_eq!(&q[..12], &[0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
        assert_eq!(&q[12..25], b"\x07example\x03com\x00");
        assert_eq!(&q[25..29], &[0, 1, 0, 1]);
        assert_eq!(q.len(), 29 + 11);

        let mut r = Vec::new();
        let addrs: [IpAddr; 2] = ["192.0.2.1".parse().unwrap(), "2001:db8::1".parse().unwrap()];
        write_response(&mut r, 0x1234, "example.com", TYPE_A, &addrs, 300).unwrap();
        assert_eq!(&r[2..4], &[0x81, 0x80]);
        assert_eq!(&r[6..8], &[0, 1], "only the A record answers an A query");
        let ans = &r[29..];
        assert_eq!(&ans[..2], &[0xc0, 0x0c]);
        assert_eq!(&ans[10..12], &[0, 4]);
        assert_eq!(&ans[12..16], &[192, 0, 2, 1]);

        write_response(&mut r, 1, "nowhere.example", TYPE_AAAA, &addrs[..1], 60).unwrap();
        assert_eq!(&r[2..4], &[0x81, 0x83]);
        assert_eq!(&r[6..8], &[0, 0]);
    }
}
