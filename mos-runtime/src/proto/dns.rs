//! DNS messages (RFC 1035 §4): the header and the questions, over UDP ([`parse_query`]) or TCP
//! ([`parse_tcp_message`], with its two-byte length prefix).
//!
//! # Names
//! A question name is decoded into a fixed 255-byte array inside the result, labels joined by
//! `.` without a trailing dot (the root name is the empty string). Compression pointers are
//! followed with two guards that make every decode finish in bounded steps: a pointer must
//! point strictly before the start of the labels it was found in (so a chain of pointers only
//! moves backwards, and a loop or a forward pointer is [`DnsError::BadPointer`]), and at most
//! [`MAX_POINTERS`] pointers are followed per name. A pointer into the 12-byte header is also
//! refused. The decoded name is at most 255 bytes on the wire ([`DnsError::NameTooLong`]).
//!
//! Labels are bytes, not text. [`Question::name`] gives the name as `&str` when it reads back
//! unambiguously (every label byte printable ASCII other than `.`), the usual case;
//! [`Question::name_bytes`] always gives the raw dotted form.
//!
//! The message may be a query or a response (`qr`); only the header and questions are read.

use core::fmt;

/// Length of the DNS header.
pub const HEADER_LEN: usize = 12;
/// Longest name on the wire, length bytes and the final zero included (RFC 1035 §2.3.4).
pub const MAX_NAME: usize = 255;
/// Most compression pointers followed in one name.
pub const MAX_POINTERS: usize = 16;

/// Why a DNS message was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsError {
    /// The message ends inside its header or a question.
    Truncated,
    /// TCP only: the length prefix announces more bytes than the buffer holds. Keep the bytes
    /// and wait for `needed` more.
    Incomplete {
        /// Bytes still missing.
        needed: usize,
    },
    /// The header counts no question.
    NoQuestion,
    /// A label length byte uses the reserved `01` or `10` top bits.
    BadLabel,
    /// A compression pointer points into the header, forward, at itself or into a loop, or a
    /// name follows more than [`MAX_POINTERS`] pointers.
    BadPointer,
    /// A name longer than 255 bytes on the wire.
    NameTooLong,
}

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DnsError::Truncated => f.write_str("DNS message truncated"),
            DnsError::Incomplete { needed } => write!(
                f,
                "DNS message over TCP incomplete: {needed} more bytes needed"
            ),
            DnsError::NoQuestion => f.write_str("DNS message has no question"),
            DnsError::BadLabel => f.write_str("DNS name has a label of a reserved type"),
            DnsError::BadPointer => {
                f.write_str("DNS name has a compression pointer that does not point backwards")
            }
            DnsError::NameTooLong => f.write_str("DNS name longer than 255 bytes"),
        }
    }
}

impl std::error::Error for DnsError {}

/// One question: a decoded name, its type and class.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Question {
    /// QTYPE (1 = A, 28 = AAAA, 5 = CNAME, 15 = MX, 16 = TXT, 255 = ANY, ...).
    pub qtype: u16,
    /// QCLASS (1 = IN; mDNS sets the top bit to ask for a unicast answer).
    pub qclass: u16,
    name: [u8; MAX_NAME],
    name_len: u8,
    /// Every label byte is printable ASCII other than `.`.
    text: bool,
}

impl Question {
    /// The name as text (`www.example.org`; the root is `""`), when unambiguous: `None` if a
    /// label holds a `.` or a byte that is not printable ASCII (see [`name_bytes`](Self::name_bytes)).
    pub fn name(&self) -> Option<&str> {
        if !self.text {
            return None;
        }
        core::str::from_utf8(self.name_bytes()).ok()
    }

    /// The name's labels joined by `.`, raw.
    pub fn name_bytes(&self) -> &[u8] {
        self.name.get(..usize::from(self.name_len)).unwrap_or(&[])
    }

    fn empty() -> Self {
        Question {
            qtype: 0,
            qclass: 0,
            name: [0; MAX_NAME],
            name_len: 0,
            text: true,
        }
    }
}

impl fmt::Debug for Question {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Question")
            .field("name", &String::from_utf8_lossy(self.name_bytes()))
            .field("qtype", &self.qtype)
            .field("qclass", &self.qclass)
            .finish()
    }
}

/// A DNS message's header and first question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsMessage {
    /// Transaction id.
    pub id: u16,
    /// The 16 flag bits as sent.
    pub flags: u16,
    /// QR: `true` for a response.
    pub qr: bool,
    /// OPCODE (0 = query).
    pub opcode: u8,
    /// RCODE (0 = no error, 3 = NXDOMAIN).
    pub rcode: u8,
    /// Number of questions.
    pub qdcount: u16,
    /// Number of answer records.
    pub ancount: u16,
    /// Number of authority records.
    pub nscount: u16,
    /// Number of additional records.
    pub arcount: u16,
    /// The first question.
    pub question: Question,
    /// Offset of the byte after the first question in the message.
    pub question_end: usize,
}

impl DnsMessage {
    /// The first question's name as text (see [`Question::name`]).
    pub fn name(&self) -> Option<&str> {
        self.question.name()
    }

    /// The first question's name, raw (see [`Question::name_bytes`]).
    pub fn name_bytes(&self) -> &[u8] {
        self.question.name_bytes()
    }

    /// The first question's type.
    pub fn qtype(&self) -> u16 {
        self.question.qtype
    }

    /// The first question's class.
    pub fn qclass(&self) -> u16 {
        self.question.qclass
    }

    /// RD: recursion desired.
    pub fn recursion_desired(&self) -> bool {
        self.flags & 0x0100 != 0
    }

    /// TC: the message was truncated by its sender.
    pub fn truncated(&self) -> bool {
        self.flags & 0x0200 != 0
    }
}

fn be16(msg: &[u8], at: usize) -> Result<u16, DnsError> {
    match (msg.get(at), msg.get(at.saturating_add(1))) {
        (Some(&hi), Some(&lo)) => Ok(u16::from_be_bytes([hi, lo])),
        _ => Err(DnsError::Truncated),
    }
}

/// Decodes the name at `start` of `msg` into `q`; the offset just past it (past its first
/// pointer, if compressed).
fn read_name(msg: &[u8], start: usize, q: &mut Question) -> Result<usize, DnsError> {
    let mut pos = start;
    // Pointers must target bytes strictly before `limit`, the start of the current labels.
    let mut limit = start;
    let mut end = None;
    let mut wire = 0usize;
    let mut out = 0usize;
    let mut pointers = 0usize;
    q.name_len = 0;
    q.text = true;
    loop {
        let len = *msg.get(pos).ok_or(DnsError::Truncated)?;
        match len & 0xc0 {
            0x00 if len == 0 => {
                end.get_or_insert(pos.saturating_add(1));
                break;
            }
            0x00 => {
                let len = usize::from(len);
                let from = pos.saturating_add(1);
                let label = msg
                    .get(from..from.saturating_add(len))
                    .ok_or(DnsError::Truncated)?;
                // This label, its length byte, and the final zero must fit the name limit.
                wire = wire.saturating_add(len).saturating_add(1);
                if wire.saturating_add(1) > MAX_NAME {
                    return Err(DnsError::NameTooLong);
                }
                if out > 0 {
                    *q.name.get_mut(out).ok_or(DnsError::NameTooLong)? = b'.';
                    out = out.saturating_add(1);
                }
                let dst = q
                    .name
                    .get_mut(out..out.saturating_add(len))
                    .ok_or(DnsError::NameTooLong)?;
                dst.copy_from_slice(label);
                out = out.saturating_add(len);
                q.text &= label.iter().all(|&b| b.is_ascii_graphic() && b != b'.');
                pos = from.saturating_add(len);
            }
            0xc0 => {
                let lo = *msg.get(pos.saturating_add(1)).ok_or(DnsError::Truncated)?;
                end.get_or_insert(pos.saturating_add(2));
                let target = usize::from(len & 0x3f) << 8 | usize::from(lo);
                pointers = pointers.saturating_add(1);
                if target < HEADER_LEN || target >= limit || pointers > MAX_POINTERS {
                    return Err(DnsError::BadPointer);
                }
                limit = target;
                pos = target;
            }
            _ => return Err(DnsError::BadLabel),
        }
    }
    q.name_len = u8::try_from(out).map_err(|_| DnsError::NameTooLong)?;
    end.ok_or(DnsError::Truncated)
}

/// Reads the question at `at`; the question and the offset after it.
fn read_question(msg: &[u8], at: usize) -> Result<(Question, usize), DnsError> {
    let mut q = Question::empty();
    let end = read_name(msg, at, &mut q)?;
    q.qtype = be16(msg, end)?;
    q.qclass = be16(msg, end.saturating_add(2))?;
    Ok((q, end.saturating_add(4)))
}

/// Parses a DNS message carried in a UDP payload: the header and the first question.
pub fn parse_query(payload: &[u8]) -> Result<DnsMessage, DnsError> {
    let flags = be16(payload, 2)?;
    let qdcount = be16(payload, 4)?;
    let arcount = be16(payload, 10)?;
    if qdcount == 0 {
        return Err(DnsError::NoQuestion);
    }
    let (question, question_end) = read_question(payload, HEADER_LEN)?;
    Ok(DnsMessage {
        id: be16(payload, 0)?,
        flags,
        qr: flags & 0x8000 != 0,
        opcode: ((flags >> 11) & 0x0f) as u8,
        rcode: (flags & 0x0f) as u8,
        qdcount,
        ancount: be16(payload, 6)?,
        nscount: be16(payload, 8)?,
        arcount,
        question,
        question_end,
    })
}

/// Parses the DNS message at the start of a TCP stream (RFC 1035 §4.2.2: a two-byte length,
/// then the message); the message and the bytes it took (length prefix included), which the
/// caller consumes before the next message.
pub fn parse_tcp_message(buf: &[u8]) -> Result<(DnsMessage, usize), DnsError> {
    let len = usize::from(match be16(buf, 0) {
        Ok(len) => len,
        Err(_) => {
            return Err(DnsError::Incomplete {
                needed: 2usize.saturating_sub(buf.len()),
            });
        }
    });
    let total = len.saturating_add(2);
    let msg = match buf.get(2..total) {
        Some(msg) => msg,
        None => {
            return Err(DnsError::Incomplete {
                needed: total.saturating_sub(buf.len()),
            });
        }
    };
    Ok((parse_query(msg)?, total))
}

/// Iterates every question of a DNS message (`qdcount` of them); stops after the first error.
pub fn questions(msg: &[u8]) -> Questions<'_> {
    Questions {
        msg,
        pos: HEADER_LEN,
        left: be16(msg, 4).ok(),
        failed: false,
    }
}

/// Iterator over the questions of a DNS message; see [`questions`].
#[derive(Debug, Clone)]
pub struct Questions<'a> {
    msg: &'a [u8],
    pos: usize,
    /// Questions still to read; `None` if the header is truncated.
    left: Option<u16>,
    failed: bool,
}

impl Iterator for Questions<'_> {
    type Item = Result<Question, DnsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let Some(left) = self.left else {
            self.failed = true;
            return Some(Err(DnsError::Truncated));
        };
        if left == 0 {
            return None;
        }
        self.left = Some(left.saturating_sub(1));
        match read_question(self.msg, self.pos) {
            Ok((q, next)) => {
                self.pos = next;
                Some(Ok(q))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests;
