//! TLS records: real ClientHello/ServerHello handshakes (RFC 5246 / RFC 8446 wire format)
//! with the server_name extension (RFC 6066), ChangeCipherSpec, and opaque encrypted records;
//! plus a scanner that finds the SNI of the ClientHellos in a client's byte stream.
//!
//! Nothing is encrypted for real: after the hellos, records carry pattern bytes of the right
//! length, which is all a passive monitor (or Wireshark) can see of them anyway.

use crate::Error;

/// Record content type: ChangeCipherSpec.
pub const CHANGE_CIPHER_SPEC: u8 = 20;
/// Record content type: Alert.
pub const ALERT: u8 = 21;
/// Record content type: Handshake.
pub const HANDSHAKE: u8 = 22;
/// Record content type: ApplicationData.
pub const APPLICATION_DATA: u8 = 23;

/// Largest record body a sender may emit (2^14 plaintext plus AEAD expansion allowance).
pub const MAX_RECORD_BODY: usize = (1 << 14) + 256;

/// Protocol version a hello negotiates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsVersion {
    /// TLS 1.2: no supported_versions extension, version 0x0303.
    Tls12,
    /// TLS 1.3: supported_versions lists 0x0304, a key_share is sent.
    Tls13,
}

/// The variable parts of a ClientHello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientHello<'a> {
    /// Highest version offered.
    pub version: TlsVersion,
    /// Host name for the server_name extension; empty means no extension.
    pub sni: &'a str,
    /// The client random.
    pub random: [u8; 32],
    /// Legacy session id (0 or 32 bytes; longer is cut to 32).
    pub session_id: &'a [u8],
    /// X25519 public key for the key_share extension (TLS 1.3).
    pub key_share: [u8; 32],
    /// ALPN protocol names, most preferred first.
    pub alpn: &'a [&'a str],
}

/// Cipher suites offered: the three TLS 1.3 suites, then ECDHE-AEAD and legacy TLS 1.2 ones.
const CLIENT_SUITES: [u16; 15] = [
    0x1301, 0x1303, 0x1302, 0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c, 0xc030, 0xc013, 0xc014, 0x009c,
    0x009d, 0x002f, 0x0035,
];

/// Signature algorithms offered (ecdsa/rsa-pss/rsa-pkcs1 with SHA-256/384/512).
const SIG_ALGS: [u16; 8] = [
    0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
];

fn push_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Runs `body`, then writes the number of bytes it appended in front of them as a
/// big-endian length of `width` bytes (1, 2 or 3).
fn prefixed(out: &mut Vec<u8>, width: usize, body: impl FnOnce(&mut Vec<u8>)) {
    let at = out.len();
    out.extend_from_slice(&[0u8; 3][..width]);
    body(out);
    let len = (out.len() - at - width) as u32;
    let bytes = len.to_be_bytes();
    if let Some(slot) = out.get_mut(at..at + width) {
        slot.copy_from_slice(&bytes[4 - width..]);
    }
}

fn extension(out: &mut Vec<u8>, ty: u16, body: impl FnOnce(&mut Vec<u8>)) {
    push_u16(out, ty);
    prefixed(out, 2, body);
}

/// Appends a whole TLS record (header and handshake) holding `hello` to `out`.
///
/// Fails on an SNI that is not a plausible host name (longer than 255 bytes) or ALPN names
/// longer than 255 bytes.
pub fn write_client_hello(out: &mut Vec<u8>, hello: &ClientHello<'_>) -> Result<(), Error> {
    if hello.sni.len() > 255 {
        return Err(Error::InvalidDnsName(hello.sni.to_string()));
    }
    if let Some(bad) = hello.alpn.iter().find(|p| p.is_empty() || p.len() > 255) {
        return Err(Error::Config(format!("invalid ALPN protocol name {bad:?}")));
    }
    let session_id = hello.session_id.get(..32).unwrap_or(hello.session_id);
    out.push(HANDSHAKE);
    push_u16(out, 0x0301); // legacy record version of a first ClientHello
    prefixed(out, 2, |out| {
        out.push(1); // client_hello
        prefixed(out, 3, |out| {
            push_u16(out, 0x0303);
            out.extend_from_slice(&hello.random);
            prefixed(out, 1, |out| out.extend_from_slice(session_id));
            prefixed(out, 2, |out| {
                let suites = match hello.version {
                    TlsVersion::Tls13 => &CLIENT_SUITES[..],
                    TlsVersion::Tls12 => &CLIENT_SUITES[3..],
                };
                for &s in suites {
                    push_u16(out, s);
                }
            });
            prefixed(out, 1, |out| out.push(0)); // null compression only
            prefixed(out, 2, |out| client_extensions(out, hello));
        });
    });
    Ok(())
}

fn client_extensions(out: &mut Vec<u8>, hello: &ClientHello<'_>) {
    if !hello.sni.is_empty() {
        extension(out, 0x0000, |out| {
            prefixed(out, 2, |out| {
                out.push(0); // host_name
                prefixed(out, 2, |out| out.extend_from_slice(hello.sni.as_bytes()));
            });
        });
    }
    extension(out, 0x0017, |_| {}); // extended_master_secret
    extension(out, 0xff01, |out| out.push(0)); // renegotiation_info, empty
    extension(out, 0x000a, |out| {
        // supported_groups: x25519, secp256r1, secp384r1
        prefixed(out, 2, |out| {
            for g in [0x001d, 0x0017, 0x0018] {
                push_u16(out, g);
            }
        });
    });
    extension(out, 0x000b, |out| prefixed(out, 1, |out| out.push(0))); // ec_point_formats
    extension(out, 0x0023, |_| {}); // session_ticket
    if !hello.alpn.is_empty() {
        extension(out, 0x0010, |out| {
            prefixed(out, 2, |out| {
                for p in hello.alpn {
                    prefixed(out, 1, |out| out.extend_from_slice(p.as_bytes()));
                }
            });
        });
    }
    extension(out, 0x0005, |out| out.extend_from_slice(&[1, 0, 0, 0, 0])); // status_request
    extension(out, 0x000d, |out| {
        prefixed(out, 2, |out| {
            for a in SIG_ALGS {
                push_u16(out, a);
            }
        });
    });
    if hello.version == TlsVersion::Tls13 {
        extension(out, 0x0033, |out| {
            prefixed(out, 2, |out| {
                push_u16(out, 0x001d);
                prefixed(out, 2, |out| out.extend_from_slice(&hello.key_share));
            });
        });
        extension(out, 0x002d, |out| prefixed(out, 1, |out| out.push(1))); // psk_dhe_ke
        extension(out, 0x002b, |out| {
            prefixed(out, 1, |out| {
                push_u16(out, 0x0304);
                push_u16(out, 0x0303);
            });
        });
    }
}

/// The variable parts of a ServerHello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerHello<'a> {
    /// Version selected.
    pub version: TlsVersion,
    /// The server random.
    pub random: [u8; 32],
    /// Session id echoed from the ClientHello (or a new one for TLS 1.2).
    pub session_id: &'a [u8],
    /// Cipher suite selected.
    pub cipher: u16,
    /// X25519 public key for the key_share extension (TLS 1.3).
    pub key_share: [u8; 32],
}

/// Appends a whole TLS record holding `hello` to `out`.
pub fn write_server_hello(out: &mut Vec<u8>, hello: &ServerHello<'_>) {
    let session_id = hello.session_id.get(..32).unwrap_or(hello.session_id);
    out.push(HANDSHAKE);
    push_u16(out, 0x0303);
    prefixed(out, 2, |out| {
        out.push(2); // server_hello
        prefixed(out, 3, |out| {
            push_u16(out, 0x0303);
            out.extend_from_slice(&hello.random);
            prefixed(out, 1, |out| out.extend_from_slice(session_id));
            push_u16(out, hello.cipher);
            out.push(0);
            prefixed(out, 2, |out| match hello.version {
                TlsVersion::Tls13 => {
                    extension(out, 0x002b, |out| push_u16(out, 0x0304));
                    extension(out, 0x0033, |out| {
                        push_u16(out, 0x001d);
                        prefixed(out, 2, |out| out.extend_from_slice(&hello.key_share));
                    });
                }
                TlsVersion::Tls12 => {
                    extension(out, 0xff01, |out| out.push(0));
                    extension(out, 0x0017, |_| {});
                    extension(out, 0x000b, |out| prefixed(out, 1, |out| out.push(0)));
                }
            });
        });
    });
}

/// Appends a ChangeCipherSpec record.
pub fn write_change_cipher_spec(out: &mut Vec<u8>) {
    out.extend_from_slice(&[CHANGE_CIPHER_SPEC, 0x03, 0x03, 0x00, 0x01, 0x01]);
}

/// Appends a record of `content_type` whose body is `body` (opaque, "encrypted" bytes).
///
/// A body longer than [`MAX_RECORD_BODY`] is cut to it.
pub fn write_opaque_record(out: &mut Vec<u8>, content_type: u8, body: &[u8]) {
    let body = body.get(..MAX_RECORD_BODY).unwrap_or(body);
    out.push(content_type);
    push_u16(out, 0x0303);
    push_u16(out, body.len() as u16);
    out.extend_from_slice(body);
}

/// Finds the server names of the ClientHellos in a client's in-order byte stream.
///
/// Record by record: a handshake record that holds a whole ClientHello yields its SNI (a
/// ClientHello without the extension yields nothing); other records are skipped by length.
/// Bytes that are not a TLS record header end the scan for good.
#[derive(Debug, Clone, Default)]
pub struct SniScanner {
    pos: usize,
    dead: bool,
}

impl SniScanner {
    /// Scans `stream` (everything the client sent so far) past what was already scanned,
    /// appending each SNI found to `out`.
    pub fn scan(&mut self, stream: &[u8], out: &mut Vec<String>) {
        while !self.dead {
            let rest = stream.get(self.pos..).unwrap_or_default();
            let Some(&[ty, major, _minor, hi, lo]) = rest.get(..5) else {
                return;
            };
            if !(CHANGE_CIPHER_SPEC..=APPLICATION_DATA).contains(&ty) || major != 3 {
                self.dead = true;
                return;
            }
            let len = usize::from(u16::from_be_bytes([hi, lo]));
            let Some(body) = rest.get(5..5 + len) else {
                return; // record not complete yet
            };
            if ty == HANDSHAKE && body.first() == Some(&1) {
                if let Some(name) = client_hello_sni(body) {
                    out.push(name);
                }
            }
            self.pos += 5 + len;
        }
    }
}

/// The server name in a ClientHello handshake message (`body` starts at the handshake type).
fn client_hello_sni(body: &[u8]) -> Option<String> {
    let mut r = Reader(body.get(4..)?);
    r.skip(2 + 32)?; // client_version, random
    let sid = r.u8()?;
    r.skip(usize::from(sid))?;
    let suites = r.u16()?;
    r.skip(usize::from(suites))?;
    let comp = r.u8()?;
    r.skip(usize::from(comp))?;
    let ext_len = r.u16()?;
    let mut exts = Reader(r.take(usize::from(ext_len))?);
    while let Some(ty) = exts.u16() {
        let len = exts.u16()?;
        let mut ext = Reader(exts.take(usize::from(len))?);
        if ty != 0 {
            continue;
        }
        let list_len = ext.u16()?;
        let mut list = Reader(ext.take(usize::from(list_len))?);
        while let Some(name_type) = list.u8() {
            let n = list.u16()?;
            let name = list.take(usize::from(n))?;
            if name_type == 0 {
                return String::from_utf8(name.to_vec()).ok();
            }
        }
        return None;
    }
    None
}

/// A bounds-checked big-endian cursor.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let head = self.0.get(..n)?;
        self.0 = self.0.get(n..)?;
        Some(head)
    }
    fn skip(&mut self, n: usize) -> Option<()> {
        self.take(n).map(|_| ())
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello(version: TlsVersion, sni: &str) -> Vec<u8> {
        let mut out = Vec::new();
        write_client_hello(
            &mut out,
            &ClientHello {
                version,
                sni,
                random: [7; 32],
                session_id: &[9; 32],
                key_share: [5; 32],
                alpn: &["h2", "http/1.1"],
            },
        )
        .unwrap();
        out
    }

    #[test]
    fn client_hello_lengths_are_consistent() {
        for v in [TlsVersion::Tls12, TlsVersion::Tls13] {
            let rec = hello(v, "www.example.com");
            assert_eq!(rec[0], HANDSHAKE);
            let rec_len = usize::from(u16::from_be_bytes([rec[3], rec[4]]));
            assert_eq!(rec_len + 5, rec.len());
            assert_eq!(rec[5], 1);
            let hs_len = u32::from_be_bytes([0, rec[6], rec[7], rec[8]]) as usize;
            assert_eq!(hs_len + 4, rec_len);
            // The extensions block ends exactly at the end of the message.
            let mut r = Reader(&rec[9..]);
            r.skip(34).unwrap();
            let sid = r.u8().unwrap();
            assert_eq!(sid, 32);
            r.skip(32).unwrap();
            let cs = r.u16().unwrap();
            r.skip(usize::from(cs)).unwrap();
            let comp = r.u8().unwrap();
            r.skip(usize::from(comp)).unwrap();
            let ext = r.u16().unwrap();
            assert_eq!(usize::from(ext), r.0.len());
        }
        let v13 = hello(TlsVersion::Tls13, "a.example");
        assert!(
            v13.windows(6)
                .any(|w| w == [0x00, 0x2b, 0x00, 0x05, 0x04, 0x03])
        );
    }

    #[test]
    fn scanner_finds_sni_across_records_and_pieces() {
        let mut stream = hello(TlsVersion::Tls13, "mail.example.com");
        write_change_cipher_spec(&mut stream);
        write_opaque_record(&mut stream, APPLICATION_DATA, &[0xab; 100]);
        stream.extend_from_slice(&hello(TlsVersion::Tls12, "second.example.org"));
        let mut scanner = SniScanner::default();
        let mut names = Vec::new();
        for end in (0..stream.len()).step_by(17).chain([stream.len()]) {
            scanner.scan(&stream[..end], &mut names);
        }
        assert_eq!(names, ["mail.example.com", "second.example.org"]);
    }

    #[test]
    fn scanner_ignores_garbage_and_hellos_without_sni() {
        let mut names = Vec::new();
        let mut s = SniScanner::default();
        s.scan(b"GET / HTTP/1.1\r\n\r\n", &mut names);
        assert!(names.is_empty());
        let mut s = SniScanner::default();
        s.scan(&hello(TlsVersion::Tls12, ""), &mut names);
        assert!(names.is_empty());
        // A truncated hello inside a complete record (lengths lie) is skipped, not a panic.
        let mut bad = hello(TlsVersion::Tls13, "x.example");
        bad.truncate(60);
        let n = (bad.len() - 5) as u16;
        bad[3..5].copy_from_slice(&n.to_be_bytes());
        let mut s = SniScanner::default();
        s.scan(&bad, &mut names);
        assert!(names.is_empty());
    }

    #[test]
    fn server_hello_and_records() {
        let mut out = Vec::new();
        write_server_hello(
            &mut out,
            &ServerHello {
                version: TlsVersion::Tls13,
                random: [1; 32],
                session_id: &[2; 32],
                cipher: 0x1301,
                key_share: [3; 32],
            },
        );
        let len = usize::from(u16::from_be_bytes([out[3], out[4]]));
        assert_eq!(len + 5, out.len());
        assert_eq!(out[5], 2);
        let mut rec = Vec::new();
        write_opaque_record(&mut rec, APPLICATION_DATA, &vec![0; MAX_RECORD_BODY + 10]);
        assert_eq!(rec.len(), 5 + MAX_RECORD_BODY);
        assert!(
            write_client_hello(
                &mut rec,
                &ClientHello {
                    version: TlsVersion::Tls13,
                    sni: &"a".repeat(300),
                    random: [0; 32],
                    session_id: &[],
                    key_share: [0; 32],
                    alpn: &[],
                }
            )
            .is_err()
        );
    }
}
