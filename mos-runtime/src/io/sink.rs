//! [`PcapSink`]: frames out to a classic pcap file.

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::time::Timestamp;
use crate::wire::LinkType;

/// Buffer of the writer: large writes, few system calls.
const WRITE_BUFFER: usize = 256 << 10;
/// The snap length written in the header (libpcap's maximum).
const SNAPLEN: u32 = 262_144;

/// Writes frames as a classic pcap file (little-endian, version 2.4), the format every tool
/// reads.
///
/// Timestamps are written with microsecond resolution ([`PcapSink::create`]) or nanosecond
/// resolution ([`PcapSink::create_nanos`], magic `a1b23c4d`); microseconds are truncated, not
/// rounded, as libpcap does.
///
/// A pcap file has one link type, in its header. The header is written with the first frame,
/// whose link type it takes, or earlier by [`PcapSink::set_link`]; a later frame of another link
/// type is refused with an `InvalidInput` error (nothing is written for it). A sink dropped
/// without any frame writes an Ethernet header, so the file is still a valid (empty) pcap.
///
/// The output goes through a `BufWriter`; call [`PcapSink::flush`] to see errors of the last
/// writes (dropping the sink flushes too, but cannot report a failure). The sink owns its writer
/// as a `Box<dyn Write + Send>` so that it can be handed to a worker thread and stored without a
/// type parameter; per frame that costs one indirect call into the buffered writer, and nothing
/// is allocated after construction.
pub struct PcapSink {
    out: BufWriter<Box<dyn Write + Send>>,
    nanos: bool,
    /// Set once the header is written.
    link: Option<LinkType>,
    frames_written: u64,
}

impl fmt::Debug for PcapSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PcapSink")
            .field("nanos", &self.nanos)
            .field("link", &self.link)
            .field("frames_written", &self.frames_written)
            .finish()
    }
}

impl PcapSink {
    /// Creates (or truncates) `path`, microsecond timestamps.
    pub fn create(path: impl AsRef<Path>) -> io::Result<PcapSink> {
        Ok(PcapSink::from_writer(File::create(path)?))
    }

    /// Creates (or truncates) `path`, nanosecond timestamps.
    pub fn create_nanos(path: impl AsRef<Path>) -> io::Result<PcapSink> {
        Ok(PcapSink::from_writer_nanos(File::create(path)?))
    }

    /// Writes to any writer (a pipe, a `Vec<u8>`...), microsecond timestamps.
    pub fn from_writer<W: Write + Send + 'static>(writer: W) -> PcapSink {
        PcapSink::with(Box::new(writer), false)
    }

    /// Writes to any writer, nanosecond timestamps.
    pub fn from_writer_nanos<W: Write + Send + 'static>(writer: W) -> PcapSink {
        PcapSink::with(Box::new(writer), true)
    }

    fn with(writer: Box<dyn Write + Send>, nanos: bool) -> PcapSink {
        PcapSink {
            out: BufWriter::with_capacity(WRITE_BUFFER, writer),
            nanos,
            link: None,
            frames_written: 0,
        }
    }

    /// Appends one frame. `wire_len` is its original length (at least `data.len()`; a smaller
    /// value is raised to it). Errors: `InvalidInput` for a link type other than the file's, or
    /// a frame longer than 4 GiB; otherwise the writer's error.
    pub fn write_frame(
        &mut self,
        ts: Timestamp,
        data: &[u8],
        wire_len: u32,
        link: LinkType,
    ) -> io::Result<()> {
        let cap_len = u32::try_from(data.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame longer than 4 GiB"))?;
        match self.link {
            None => self.write_header(link)?,
            Some(file_link) if file_link != link => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "a pcap file has one link type: this frame's differs from the file's",
                ));
            }
            Some(_) => {}
        }
        let nanos = ts.as_nanos();
        let secs = u32::try_from(nanos / 1_000_000_000).unwrap_or(u32::MAX);
        let sub = (nanos % 1_000_000_000) as u32;
        let frac = if self.nanos { sub } else { sub / 1000 };
        let mut header = [0u8; 16];
        for (dst, value) in
            header
                .chunks_exact_mut(4)
                .zip([secs, frac, cap_len, wire_len.max(cap_len)])
        {
            dst.copy_from_slice(&value.to_le_bytes());
        }
        self.out.write_all(&header)?;
        self.out.write_all(data)?;
        self.frames_written += 1;
        Ok(())
    }

    /// Fixes the file's link type now and writes the header, before any frame (a capture that
    /// may stay empty still says what it would have held). Refused with `InvalidInput` when the
    /// header was already written with another link type.
    pub fn set_link(&mut self, link: LinkType) -> io::Result<()> {
        match self.link {
            None => self.write_header(link),
            Some(file_link) if file_link == link => Ok(()),
            Some(_) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the pcap header was already written with another link type",
            )),
        }
    }

    fn write_header(&mut self, link: LinkType) -> io::Result<()> {
        let magic: u32 = if self.nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        // magic, version 2.4, thiszone, sigfigs, snaplen, link type.
        let parts = [
            magic.to_le_bytes(),
            [2, 0, 4, 0],
            [0; 4],
            [0; 4],
            SNAPLEN.to_le_bytes(),
            link.to_linktype().to_le_bytes(),
        ];
        let mut header = [0u8; 24];
        for (dst, src) in header.chunks_exact_mut(4).zip(parts) {
            dst.copy_from_slice(&src);
        }
        self.out.write_all(&header)?;
        self.link = Some(link);
        Ok(())
    }

    /// Writes out the buffered frames. Before the first frame there is nothing to write: the
    /// header waits for the link type (see [`PcapSink::set_link`]).
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Frames written so far.
    pub fn frames_written(&self) -> u64 {
        self.frames_written
    }
}

impl Drop for PcapSink {
    fn drop(&mut self) {
        // An empty capture still gets a header (Ethernet), so the file is a valid pcap.
        // Errors cannot be reported from drop; `flush` is the way to see them.
        if self.link.is_none() {
            let _ = self.write_header(LinkType::Ethernet);
        }
        let _ = self.flush();
    }
}
