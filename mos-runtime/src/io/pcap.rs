//! [`PcapReader`]: pcap and pcapng frames out of a file or a byte vector. See the module doc of
//! [`crate::io`] for the design.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pcap_parser::pcapng::{
    OptionCode, parse_interfacedescriptionblock_be, parse_interfacedescriptionblock_le,
    parse_sectionheaderblock,
};
use pcap_parser::{BOM_MAGIC, EPB_MAGIC, IDB_MAGIC, SHB_MAGIC, SPB_MAGIC, parse_pcap_header};

use crate::time::Timestamp;
use crate::wire::LinkType;

/// The read buffer of [`PcapReader::open`], and the largest record (pcap record header + data,
/// or pcapng block) either constructor accepts.
pub const MAX_RECORD_LEN: usize = 1 << 20;

/// The most interfaces one pcapng section may declare.
pub const MAX_INTERFACES: usize = 256;

const LEGACY_HEADER_LEN: usize = 24;
/// Type, length, and the trailing length copy.
const NG_BLOCK_MIN: usize = 12;
/// Type, length, interface, timestamp (2), captured and original length.
const EPB_FIXED: usize = 28;
/// Type, length, original length.
const SPB_FIXED: usize = 12;

/// One captured frame, borrowed from the reader until the next call.
#[derive(Clone, Copy)]
pub struct Frame<'a> {
    /// The captured bytes, starting with the link-layer header.
    pub data: &'a [u8],
    /// Capture time.
    pub ts: Timestamp,
    /// Length on the wire; never less than `data.len()` (a file claiming less is corrected).
    pub wire_len: u32,
    /// Link type of the interface the frame was captured on.
    pub link: LinkType,
}

impl fmt::Debug for Frame<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("ts", &self.ts)
            .field("cap_len", &self.data.len())
            .field("wire_len", &self.wire_len)
            .field("link", &self.link)
            .finish()
    }
}

/// Why a capture could not be read. Every variant names the file (`<memory>` for
/// [`PcapReader::from_bytes`]); those about a record give its byte offset in the file and the
/// number of frames delivered before it.
#[derive(Debug)]
pub enum PcapError {
    /// Opening or reading the file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// The file starts with neither a pcap nor a pcapng magic number (or is empty).
    NotPcap {
        /// The file.
        path: PathBuf,
    },
    /// The file ends inside a record; the frames before it were delivered.
    Truncated {
        /// The file.
        path: PathBuf,
        /// Frames delivered before the cut.
        frames_read: u64,
        /// File offset of the incomplete record.
        offset: u64,
    },
    /// A record's fields contradict each other or the format.
    Malformed {
        /// The file.
        path: PathBuf,
        /// Frames delivered before the bad record.
        frames_read: u64,
        /// File offset of the bad record.
        offset: u64,
        /// What is wrong.
        detail: &'static str,
    },
    /// A record is larger than [`MAX_RECORD_LEN`].
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Frames delivered before it.
        frames_read: u64,
        /// File offset of the record.
        offset: u64,
        /// Its length as the file claims it.
        len: u64,
        /// The limit.
        max: u64,
    },
}

impl fmt::Display for PcapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PcapError::Io { path, source } => {
                write!(f, "{}: cannot read the capture: {source}", path.display())
            }
            PcapError::NotPcap { path } => {
                write!(f, "{}: not a pcap or pcapng file", path.display())
            }
            PcapError::Truncated {
                path,
                frames_read,
                offset,
            } => write!(
                f,
                "{}: the file ends inside the record at byte {offset} (truncated capture; \
                 {frames_read} frames were read before it)",
                path.display()
            ),
            PcapError::Malformed {
                path,
                frames_read,
                offset,
                detail,
            } => write!(
                f,
                "{}: malformed record at byte {offset}: {detail} ({frames_read} frames were read \
                 before it)",
                path.display()
            ),
            PcapError::TooLarge {
                path,
                frames_read,
                offset,
                len,
                max,
            } => write!(
                f,
                "{}: the record at byte {offset} claims {len} bytes, more than the {max} this \
                 reader accepts ({frames_read} frames were read before it)",
                path.display()
            ),
        }
    }
}

impl std::error::Error for PcapError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PcapError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The bytes of the capture: a window `[start, end)` of a fixed buffer that a file refills, or
/// the whole capture when it came from memory (`file` is `None`).
struct Input {
    buf: Buf,
    start: usize,
    end: usize,
    file: Option<File>,
    /// The file returned end-of-file.
    eof: bool,
    /// File offset of `buf[start]`.
    offset: u64,
    /// Frames already handed out in this batch point into `buf`: a record that is not wholly
    /// here must not move bytes or read more; `fill` says [`would_move`] instead.
    frozen: bool,
    /// `buf` is prefetched below this index (see [`Input::prefetch_ahead`]).
    prefetched: usize,
}

/// How far ahead of the read position [`Input::prefetch_ahead`] keeps the capture's bytes
/// coming: several records, about a DRAM latency's worth of bandwidth and more.
const PREFETCH_AHEAD: usize = 8 * 1024;

/// The error a frozen [`Input`] gives instead of moving its bytes (never seen by users: the
/// batch ends before that record).
fn would_move() -> io::Error {
    io::Error::from(io::ErrorKind::WouldBlock)
}

/// The bytes behind an [`Input`]: the reader's own buffer (a file's window, or a capture given
/// by value), or a capture shared with other threads (multi-core replay hands frame offsets to
/// workers that read the same bytes; see [`PcapReader::from_shared`]). Only a file's buffer is
/// ever written, and a file's buffer is never shared. Always an `Arc`, even when owned: the
/// reader looks at its bytes several times per frame, and one representation makes that a
/// plain load where an enum of owned and shared would test which it is every time.
struct Buf(Arc<Vec<u8>>);

impl std::ops::Deref for Buf {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Buf {
    fn owned(bytes: Vec<u8>) -> Buf {
        Buf(Arc::new(bytes))
    }

    /// The writable bytes: all of a buffer nobody else holds, none of a shared one.
    fn bytes_mut(&mut self) -> &mut [u8] {
        match Arc::get_mut(&mut self.0) {
            Some(bytes) => bytes,
            None => &mut [],
        }
    }
}

impl Input {
    #[inline]
    fn available(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or(&[])
    }

    /// Makes at least `need` bytes available; `Ok(false)` when the input ends before.
    /// `need` must not exceed the buffer length (callers check [`MAX_RECORD_LEN`] first).
    #[inline]
    fn fill(&mut self, need: usize) -> io::Result<bool> {
        if self.end - self.start >= need {
            return Ok(true);
        }
        self.refill(need)
    }

    /// [`fill`](Input::fill) when the bytes are not all here yet (kept out of line: the
    /// in-memory replay never gets here, a file once per buffer).
    fn refill(&mut self, need: usize) -> io::Result<bool> {
        let Some(file) = self.file.as_mut() else {
            return Ok(false);
        };
        if self.eof || need > self.buf.len() {
            return Ok(false);
        }
        if self.frozen {
            return Err(would_move());
        }
        if self.start + need > self.buf.len() {
            // Move the partial record to the front: at most one record is copied per refill.
            self.buf.bytes_mut().copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            self.prefetched = 0;
        }
        while self.end - self.start < need {
            let Some(space) = self.buf.bytes_mut().get_mut(self.end..) else {
                return Ok(false);
            };
            match file.read(space) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Asks for the cache lines of the next [`PREFETCH_AHEAD`] bytes (those not asked for
    /// yet). Records are found one after the other, each header giving the next one's place,
    /// so without this every header waits for memory in turn when little work separates them
    /// (a batch, a worker skipping other workers' frames): the hardware's stream prefetcher
    /// does not run that far ahead of such a walk.
    #[inline]
    fn prefetch_ahead(&mut self) {
        let to = (self.start + PREFETCH_AHEAD).min(self.end);
        let from = self.prefetched.max(self.start);
        if from >= to {
            return;
        }
        // One line per 64 bytes, the first at `from`; the next call starts where this one
        // stopped (a multiple of 64 past `from`), so no line is asked for twice.
        let buf: &[u8] = &self.buf;
        if let Some(ahead) = buf.get(from..to) {
            crate::prefetch::bytes(ahead);
        }
        self.prefetched = from + (to - from).next_multiple_of(64);
    }

    /// Marks `n` available bytes as read.
    #[inline]
    fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.offset += n as u64;
    }

    /// Skips `n` bytes, which may be more than the buffer holds; `Ok(false)` if the input ends
    /// first.
    fn skip(&mut self, n: usize) -> io::Result<bool> {
        if self.frozen && self.file.is_some() && !self.eof && n > self.end - self.start {
            // Checked before consuming anything, so the block is skipped whole later.
            return Err(would_move());
        }
        let mut left = n;
        loop {
            let here = left.min(self.end - self.start);
            self.consume(here);
            left -= here;
            if left == 0 {
                return Ok(true);
            }
            // Empty buffer: refill from the front.
            self.start = 0;
            self.end = 0;
            self.prefetched = 0;
            if !self.fill(1)? {
                return Ok(false);
            }
        }
    }
}

/// Byte order of the file or section.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Order {
    Little,
    Big,
}

impl Order {
    /// The four 32-bit words of a 16-byte record header, with one test of the byte order.
    #[inline]
    fn words(self, header: &[u8; 16]) -> [u32; 4] {
        let mut words = [0u32; 4];
        for (word, bytes) in words.iter_mut().zip(header.chunks_exact(4)) {
            let bytes: [u8; 4] = bytes.try_into().unwrap_or([0; 4]);
            *word = match self {
                Order::Little => u32::from_le_bytes(bytes),
                Order::Big => u32::from_be_bytes(bytes),
            };
        }
        words
    }

    fn u32(self, bytes: &[u8], at: usize) -> Option<u32> {
        let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(match self {
            Order::Little => u32::from_le_bytes(b),
            Order::Big => u32::from_be_bytes(b),
        })
    }
}

/// How an interface's timestamps count.
#[derive(Clone, Copy, Debug)]
struct Iface {
    link: LinkType,
    snaplen: u32,
    /// Timestamp units per second.
    units_per_sec: u64,
    /// Nanoseconds per unit when that is a whole number (the fast path), else 0.
    nanos_per_unit: u64,
    /// `if_tsoffset`: seconds added to every timestamp.
    offset_secs: i64,
}

impl Iface {
    fn new(link: LinkType, snaplen: u32, tsresol: u8, offset_secs: i64) -> Option<Iface> {
        // if_tsresol: high bit clear, 10^-n seconds; set, 2^-n seconds.
        let exp = u32::from(tsresol & 0x7f);
        let units_per_sec = if tsresol & 0x80 == 0 {
            10u64.checked_pow(exp)?
        } else {
            1u64.checked_shl(exp)?
        };
        let nanos_per_unit = if 1_000_000_000 % units_per_sec == 0 {
            1_000_000_000 / units_per_sec
        } else {
            0
        };
        Some(Iface {
            link,
            snaplen,
            units_per_sec,
            nanos_per_unit,
            offset_secs,
        })
    }

    fn timestamp(&self, units: u64) -> Timestamp {
        let nanos = if self.nanos_per_unit != 0 {
            i128::from(units) * i128::from(self.nanos_per_unit)
        } else {
            i128::from(units) * 1_000_000_000 / i128::from(self.units_per_sec)
        };
        let nanos = nanos + i128::from(self.offset_secs) * 1_000_000_000;
        Timestamp(u64::try_from(nanos.max(0)).unwrap_or(u64::MAX))
    }
}

#[derive(Debug)]
enum Format {
    Legacy {
        order: Order,
        nanos: bool,
        /// Kuznetzov's patched libpcap: 24-byte record headers.
        modified: bool,
        link: LinkType,
    },
    Ng {
        order: Order,
        /// Interfaces of the current section; capacity [`MAX_INTERFACES`], never grown.
        ifaces: Vec<Iface>,
        /// Timestamp of the last frame, given to Simple Packet Blocks (which carry none).
        last_ts: Timestamp,
    },
}

/// Where a frame is in the buffer (found without holding a borrow of it).
#[derive(Clone, Copy)]
struct Record {
    data_start: usize,
    data_len: usize,
    /// Bytes to consume once the frame has been used.
    record_len: usize,
    ts: Timestamp,
    wire_len: u32,
    link: LinkType,
}

/// Reads frames from a pcap or pcapng capture (see the [module doc](crate::io)).
///
/// ```no_run
/// use mos_runtime::io::PcapReader;
/// let mut reader = PcapReader::open("trace.pcap")?;
/// while let Some(frame) = reader.next_frame()? {
///     println!("{} bytes at {}", frame.data.len(), frame.ts);
/// }
/// # Ok::<(), mos_runtime::io::PcapError>(())
/// ```
pub struct PcapReader {
    name: PathBuf,
    input: Input,
    format: Format,
    frames_read: u64,
    /// Length of the record returned last, consumed on the next call (the frame borrowed it).
    pending: usize,
    /// Where the data of the frame returned last starts in `input.buf`.
    last_data_start: usize,
    finished: bool,
    /// The frames of the last [`next_batch`](PcapReader::next_batch).
    batch: [Record; MAX_BATCH],
    /// An error met after some frames of a batch, returned by the next call.
    deferred: Option<PcapError>,
}

/// The most frames one [`PcapReader::next_batch`] returns.
pub const MAX_BATCH: usize = 32;

const NO_RECORD: Record = Record {
    data_start: 0,
    data_len: 0,
    record_len: 0,
    ts: Timestamp::ZERO,
    wire_len: 0,
    link: LinkType::Ethernet,
};

/// Frames returned together by [`PcapReader::next_batch`], in capture order; they borrow the
/// reader until its next call.
#[derive(Clone, Copy)]
pub struct FrameBatch<'a> {
    buf: &'a [u8],
    records: &'a [Record],
}

impl<'a> FrameBatch<'a> {
    /// The number of frames (0 at the end of the capture).
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// No frames: the capture has ended.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The frames, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Frame<'a>> + Clone + 'a {
        let buf = self.buf;
        self.records.iter().map(move |r| Frame {
            data: buf
                .get(r.data_start..r.data_start + r.data_len)
                .unwrap_or(&[]),
            ts: r.ts,
            wire_len: r.wire_len,
            link: r.link,
        })
    }
}

impl fmt::Debug for FrameBatch<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameBatch")
            .field("frames", &self.len())
            .finish()
    }
}

impl fmt::Debug for PcapReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PcapReader")
            .field("path", &self.name)
            .field("format", &self.format)
            .field("frames_read", &self.frames_read)
            .field("offset", &self.input.offset)
            .finish()
    }
}

/// What a record-reading step found.
enum Step {
    Frame(Record),
    End,
}

/// An error found while reading, before the file name is attached.
enum Fault {
    Io(io::Error),
    Truncated,
    Malformed(&'static str),
    TooLarge(u64),
}

impl From<io::Error> for Fault {
    fn from(e: io::Error) -> Fault {
        Fault::Io(e)
    }
}

impl PcapReader {
    /// Opens a capture file and reads its header. The file is streamed through a fixed
    /// [`MAX_RECORD_LEN`] buffer, never loaded whole.
    pub fn open(path: impl AsRef<Path>) -> Result<PcapReader, PcapError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| PcapError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let input = Input {
            buf: Buf::owned(vec![0; MAX_RECORD_LEN]),
            start: 0,
            end: 0,
            file: Some(file),
            eof: false,
            offset: 0,
            frozen: false,
            prefetched: 0,
        };
        PcapReader::start(path.to_path_buf(), input)
    }

    /// Reads a capture held in memory (replay without I/O): frames are slices of `bytes`.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<PcapReader, PcapError> {
        PcapReader::in_memory(Buf::owned(bytes))
    }

    /// Reads a capture held in memory and shared (replay on several threads, or several runs
    /// over one capture without copying it): frames are slices of `bytes`, and
    /// [`frame_offset`](PcapReader::frame_offset) says where each one starts in it.
    pub fn from_shared(bytes: Arc<Vec<u8>>) -> Result<PcapReader, PcapError> {
        PcapReader::in_memory(Buf(bytes))
    }

    /// A reader over a whole capture already in memory (no file behind it).
    fn in_memory(buf: Buf) -> Result<PcapReader, PcapError> {
        let end = buf.len();
        let input = Input {
            buf,
            start: 0,
            end,
            file: None,
            eof: true,
            offset: 0,
            frozen: false,
            prefetched: 0,
        };
        PcapReader::start(PathBuf::from("<memory>"), input)
    }

    fn start(name: PathBuf, mut input: Input) -> Result<PcapReader, PcapError> {
        let io_err = |name: &PathBuf, source| PcapError::Io {
            path: name.clone(),
            source,
        };
        let has_magic = input.fill(4).map_err(|e| io_err(&name, e))?;
        let magic = match input.available() {
            [a, b, c, d, ..] if has_magic => [*a, *b, *c, *d],
            _ => return Err(PcapError::NotPcap { path: name }),
        };
        let format = if u32::from_le_bytes(magic) == SHB_MAGIC {
            // The section header block sets the byte order; it is read as the first block.
            Format::Ng {
                order: Order::Little,
                ifaces: Vec::with_capacity(MAX_INTERFACES),
                last_ts: Timestamp::ZERO,
            }
        } else {
            let is_pcap = matches!(
                u32::from_le_bytes(magic),
                0xa1b2_c3d4 | 0xa1b2_3c4d | 0xa1b2_cd34 | 0xd4c3_b2a1 | 0x4d3c_b2a1
            );
            if !is_pcap {
                return Err(PcapError::NotPcap { path: name });
            }
            if !input
                .fill(LEGACY_HEADER_LEN)
                .map_err(|e| io_err(&name, e))?
            {
                return Err(PcapError::Truncated {
                    path: name,
                    frames_read: 0,
                    offset: 0,
                });
            }
            let Ok((_, header)) = parse_pcap_header(input.available()) else {
                return Err(PcapError::NotPcap { path: name });
            };
            input.consume(LEGACY_HEADER_LEN);
            Format::Legacy {
                order: if header.is_bigendian() {
                    Order::Big
                } else {
                    Order::Little
                },
                nanos: header.is_nanosecond_precision(),
                modified: header.is_modified_format(),
                link: LinkType::from_linktype(header.network.0 as u32),
            }
        };
        let mut reader = PcapReader {
            name,
            input,
            format,
            frames_read: 0,
            pending: 0,
            last_data_start: 0,
            finished: false,
            batch: [NO_RECORD; MAX_BATCH],
            deferred: None,
        };
        // Read ahead through the section and interface blocks (which allocate their option
        // lists) so that reading frames does not. The packet found, or an error, is left in
        // place for the first `next_frame` to find again.
        let _ = reader.step();
        Ok(reader)
    }

    /// The next frame, `Ok(None)` at the end of the capture. The frame borrows the reader's
    /// buffer until the next call. After an error the reader is finished: later calls return
    /// `Ok(None)`.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, PcapError> {
        if self.finished {
            return Ok(None);
        }
        self.input.consume(self.pending);
        self.pending = 0;
        self.input.prefetch_ahead();
        match self.step() {
            Ok(Step::Frame(record)) => {
                self.pending = record.record_len;
                self.last_data_start = record.data_start;
                self.frames_read += 1;
                let end = record.data_start + record.data_len;
                let data = self.input.buf.get(record.data_start..end).unwrap_or(&[]);
                Ok(Some(Frame {
                    data,
                    ts: record.ts,
                    wire_len: record.wire_len,
                    link: record.link,
                }))
            }
            Ok(Step::End) => {
                self.finished = true;
                Ok(None)
            }
            Err(fault) => {
                self.finished = true;
                Err(self.error(fault))
            }
        }
    }

    /// Up to `max` (at most [`MAX_BATCH`]) next frames at once, an empty batch at the end of
    /// the capture: the frames [`next_frame`](PcapReader::next_frame) would return one by one,
    /// all valid until the next call, so that a worker can look at several before processing
    /// them (see [`Worker::process_batch`](crate::Worker::process_batch)). A batch ends early
    /// where a file's buffer would have to move to hold the next record (the bytes already
    /// handed out stay where they are; the next call moves them). An error met after some
    /// frames is returned by the next call, after those frames.
    pub fn next_batch(&mut self, max: usize) -> Result<FrameBatch<'_>, PcapError> {
        if let Some(e) = self.deferred.take() {
            return Err(e);
        }
        let max = max.clamp(1, MAX_BATCH);
        let mut n = 0;
        if !self.finished {
            self.input.consume(self.pending);
            self.pending = 0;
        }
        while n < max && !self.finished {
            // The first record may move the buffer; later ones must not.
            self.input.frozen = n > 0;
            self.input.prefetch_ahead();
            match self.step() {
                Ok(Step::Frame(record)) => {
                    self.input.consume(record.record_len);
                    self.last_data_start = record.data_start;
                    self.frames_read += 1;
                    if let Some(slot) = self.batch.get_mut(n) {
                        *slot = record;
                    }
                    n += 1;
                }
                Ok(Step::End) => self.finished = true,
                Err(Fault::Io(e)) if self.input.frozen && e.kind() == io::ErrorKind::WouldBlock => {
                    break;
                }
                Err(fault) => {
                    self.finished = true;
                    let error = self.error(fault);
                    if n == 0 {
                        self.input.frozen = false;
                        return Err(error);
                    }
                    self.deferred = Some(error);
                }
            }
        }
        self.input.frozen = false;
        Ok(FrameBatch {
            buf: &self.input.buf,
            records: self.batch.get(..n).unwrap_or(&[]),
        })
    }

    /// Where the data of the frame returned last starts in the capture given to
    /// [`from_bytes`](PcapReader::from_bytes) or [`from_shared`](PcapReader::from_shared), so
    /// that another thread holding the same bytes can find it; `None` when reading a file (its
    /// frames live in a buffer that the next read overwrites) or before the first frame.
    pub fn frame_offset(&self) -> Option<usize> {
        (self.input.file.is_none() && self.frames_read > 0).then_some(self.last_data_start)
    }

    /// Frames returned so far.
    pub fn frames_read(&self) -> u64 {
        self.frames_read
    }

    /// The file (or `<memory>`) this reader reads.
    pub fn path(&self) -> &Path {
        &self.name
    }

    fn error(&self, fault: Fault) -> PcapError {
        let path = self.name.clone();
        let (frames_read, offset) = (self.frames_read, self.input.offset);
        match fault {
            Fault::Io(source) => PcapError::Io { path, source },
            Fault::Truncated => PcapError::Truncated {
                path,
                frames_read,
                offset,
            },
            Fault::Malformed(detail) => PcapError::Malformed {
                path,
                frames_read,
                offset,
                detail,
            },
            Fault::TooLarge(len) => PcapError::TooLarge {
                path,
                frames_read,
                offset,
                len,
                max: MAX_RECORD_LEN as u64,
            },
        }
    }

    /// Finds the next frame without consuming it.
    #[inline]
    fn step(&mut self) -> Result<Step, Fault> {
        match self.format {
            Format::Legacy {
                order,
                nanos,
                modified,
                link,
            } => legacy_record(&mut self.input, order, nanos, modified, link),
            Format::Ng { .. } => self.ng_record(),
        }
    }

    /// Walks pcapng blocks up to the next packet block.
    fn ng_record(&mut self) -> Result<Step, Fault> {
        let Format::Ng {
            order,
            ifaces,
            last_ts,
        } = &mut self.format
        else {
            return Err(Fault::Malformed("internal: not a pcapng reader"));
        };
        let input = &mut self.input;
        loop {
            if !input.fill(1)? {
                return Ok(Step::End);
            }
            if !input.fill(NG_BLOCK_MIN)? {
                return Err(Fault::Truncated);
            }
            let head = input.available();
            let raw_type = Order::Little.u32(head, 0).unwrap_or(0);
            if raw_type == SHB_MAGIC {
                // The type is a palindrome; the byte-order magic after the length says how
                // to read this section.
                *order = match Order::Little.u32(head, 8) {
                    Some(BOM_MAGIC) => Order::Little,
                    Some(bom) if bom == BOM_MAGIC.swap_bytes() => Order::Big,
                    _ => {
                        return Err(Fault::Malformed(
                            "section header with an unknown byte-order magic",
                        ));
                    }
                };
            }
            let block_type = order.u32(head, 0).unwrap_or(0);
            let block_len = order.u32(head, 4).unwrap_or(0) as usize;
            if block_len < NG_BLOCK_MIN || block_len % 4 != 0 {
                return Err(Fault::Malformed(
                    "block length below 12 or not a multiple of 4",
                ));
            }
            let is_known = matches!(block_type, SHB_MAGIC | IDB_MAGIC | EPB_MAGIC | SPB_MAGIC);
            if !is_known {
                // Statistics, name resolution, secrets, custom blocks: not frames.
                if !input.skip(block_len)? {
                    return Err(Fault::Truncated);
                }
                continue;
            }
            if block_len > MAX_RECORD_LEN {
                return Err(Fault::TooLarge(block_len as u64));
            }
            if !input.fill(block_len)? {
                return Err(Fault::Truncated);
            }
            let block = input.available().get(..block_len).unwrap_or(&[]);
            if order.u32(block, block_len - 4) != Some(block_len as u32) {
                return Err(Fault::Malformed(
                    "block's trailing length differs from its length",
                ));
            }
            match block_type {
                SHB_MAGIC => {
                    let Ok((_, shb)) = parse_sectionheaderblock(block) else {
                        return Err(Fault::Malformed("unreadable section header block"));
                    };
                    if shb.major_version != 1 {
                        return Err(Fault::Malformed(
                            "pcapng section of a major version other than 1",
                        ));
                    }
                    ifaces.clear();
                    input.consume(block_len);
                }
                IDB_MAGIC => {
                    let parsed = match order {
                        Order::Little => parse_interfacedescriptionblock_le(block),
                        Order::Big => parse_interfacedescriptionblock_be(block),
                    };
                    let Ok((_, idb)) = parsed else {
                        return Err(Fault::Malformed("unreadable interface description block"));
                    };
                    let mut tsresol = 6u8;
                    let mut tsoffset = 0i64;
                    for option in &idb.options {
                        let value = option.as_bytes().unwrap_or(&[]);
                        if option.code == OptionCode::IfTsresol {
                            if let Some(r) = value.first() {
                                tsresol = *r;
                            }
                        } else if option.code == OptionCode::IfTsoffset {
                            if let Ok(b) = <[u8; 8]>::try_from(value) {
                                tsoffset = match order {
                                    Order::Little => i64::from_le_bytes(b),
                                    Order::Big => i64::from_be_bytes(b),
                                };
                            }
                        }
                    }
                    let link = LinkType::from_linktype(idb.linktype.0 as u32);
                    let Some(iface) = Iface::new(link, idb.snaplen, tsresol, tsoffset) else {
                        return Err(Fault::Malformed(
                            "interface timestamp resolution out of range",
                        ));
                    };
                    if ifaces.len() == MAX_INTERFACES {
                        return Err(Fault::Malformed("more than 256 interfaces in one section"));
                    }
                    ifaces.push(iface);
                    input.consume(block_len);
                }
                EPB_MAGIC => {
                    let field = |at| order.u32(block, at).unwrap_or(0);
                    let (if_id, ts_high, ts_low) = (field(8), field(12), field(16));
                    let (caplen, origlen) = (field(20) as usize, field(24));
                    if caplen > block_len - EPB_FIXED - 4 {
                        return Err(Fault::Malformed(
                            "packet longer than its enhanced packet block",
                        ));
                    }
                    let Some(iface) = ifaces.get(if_id as usize) else {
                        return Err(Fault::Malformed("packet of an interface not described"));
                    };
                    let ts = iface.timestamp((u64::from(ts_high) << 32) | u64::from(ts_low));
                    *last_ts = ts;
                    return Ok(Step::Frame(Record {
                        data_start: input.start + EPB_FIXED,
                        data_len: caplen,
                        record_len: block_len,
                        ts,
                        wire_len: origlen.max(caplen as u32),
                        link: iface.link,
                    }));
                }
                _ => {
                    // Simple Packet Block: interface 0, no timestamp, captured length implied.
                    let Some(iface) = ifaces.first() else {
                        return Err(Fault::Malformed("simple packet block before any interface"));
                    };
                    let origlen = order.u32(block, 8).unwrap_or(0);
                    let mut caplen = (origlen as usize).min(block_len - SPB_FIXED - 4);
                    if iface.snaplen != 0 {
                        caplen = caplen.min(iface.snaplen as usize);
                    }
                    return Ok(Step::Frame(Record {
                        data_start: input.start + SPB_FIXED,
                        data_len: caplen,
                        record_len: block_len,
                        ts: *last_ts,
                        wire_len: origlen.max(caplen as u32),
                        link: iface.link,
                    }));
                }
            }
        }
    }
}

/// The next classic pcap record.
#[inline]
fn legacy_record(
    input: &mut Input,
    order: Order,
    nanos: bool,
    modified: bool,
    link: LinkType,
) -> Result<Step, Fault> {
    let header_len = if modified { 24 } else { 16 };
    if !input.fill(1)? {
        return Ok(Step::End);
    }
    if !input.fill(header_len)? {
        return Err(Fault::Truncated);
    }
    let caplen = order.u32(input.available(), 8).unwrap_or(0) as usize;
    let record_len = header_len + caplen;
    if record_len > MAX_RECORD_LEN {
        return Err(Fault::TooLarge(record_len as u64));
    }
    if !input.fill(record_len)? {
        return Err(Fault::Truncated);
    }
    // The record header's four leading fields (the same in the modified format, whose extra
    // fields are skipped) are read in place: this runs once per frame, and the fill above
    // has checked that the header and the data are all here.
    let Some(header) = input.available().first_chunk::<16>() else {
        return Err(Fault::Malformed("unreadable pcap record header"));
    };
    let [ts_sec, ts_frac, _, origlen] = order.words(header);
    let frac = u64::from(ts_frac) * if nanos { 1 } else { 1000 };
    let ts = Timestamp(
        u64::from(ts_sec)
            .saturating_mul(1_000_000_000)
            .saturating_add(frac),
    );
    Ok(Step::Frame(Record {
        data_start: input.start + header_len,
        data_len: caplen,
        record_len,
        ts,
        // `caplen` fits in u32: it was read from one, and `record_len` is capped above.
        wire_len: origlen.max(caplen as u32),
        link,
    }))
}
