//! Capture files: reading pcap/pcapng into frames, writing frames as pcap.
//!
//! # Reading: [`PcapReader`]
//!
//! One reader for both formats and every variant met in practice: classic pcap in either byte
//! order with microsecond or nanosecond timestamps (and the old Kuznetzov "modified" records),
//! and pcapng in either byte order, with several sections and several interfaces per section,
//! each interface with its own link type, snap length and timestamp resolution and offset
//! (`if_tsresol`, `if_tsoffset`). Enhanced and Simple Packet Blocks are frames; every other block
//! (statistics, name resolution, decryption secrets, custom...) is skipped by its length.
//!
//! The file formats are parsed with **pcap-parser**, for four reasons: it is pure Rust (no
//! libpcap to link, nothing `unsafe` to wrap), zero-copy (a record's data is a slice of the
//! input, never copied out), it covers pcap and pcapng in both byte orders, and its parsers are
//! *streaming* nom parsers: on a partial record they say "incomplete", which is what a reader with
//! a fixed buffer over a file of any size needs. The reader drives that buffer itself rather than
//! using pcap-parser's `PcapNGReader` / `LegacyPcapReader` so that it can keep the `io::Error` of
//! a failed read (theirs becomes a bare `ReadError`), parse an in-memory capture in place without
//! copying it through a circular buffer, and report a truncated file as such. Packet blocks are
//! decoded from their fixed fields here (pcap-parser's block parsers collect the block options in
//! a `Vec`, an allocation per frame), as are `if_tsresol` and `if_tsoffset` (its resolution
//! helper rejects power-of-two resolutions and reads the offset little-endian in big-endian
//! sections). Classic pcap record headers (four fixed fields) are read in place too: that is
//! once per frame, where a parser combinator costs more than the frame's other work.
//!
//! Memory: [`PcapReader::open`] allocates one 1 MiB buffer and never grows it. That is the
//! largest record the reader accepts ([`MAX_RECORD_LEN`]); libpcap's largest snap length is
//! 262 144 bytes, so every legal frame fits, and a larger record is reported as
//! [`PcapError::TooLarge`] rather than trusted. Records are returned as slices of that buffer;
//! reading refills it with large `read` calls and moves at most one partial record to its front.
//! A multi-gigabyte capture is never loaded whole. [`PcapReader::from_bytes`] takes a capture
//! already in memory and returns slices of it: no I/O and no copy in the loop.
//!
//! After construction nothing allocates per frame. Section and interface headers are parsed
//! through pcap-parser, which builds their option lists on the heap; the constructor reads ahead
//! through the metadata blocks that precede the first packet, so a capture that declares its
//! interfaces up front (as every capturing tool writes them) allocates nothing while its frames
//! are read. The interface table has a fixed capacity ([`MAX_INTERFACES`] per section).
//!
//! Bad input never panics and never loops: a file that is neither format is
//! [`PcapError::NotPcap`]; a file that ends inside a record is [`PcapError::Truncated`] (the
//! frames before it were delivered); inconsistent lengths are [`PcapError::Malformed`]; each
//! error says which file, which byte offset and how many frames came before. After an error the
//! reader is finished and returns `Ok(None)`.
//!
//! # Writing: [`PcapSink`]
//!
//! Writes classic pcap (the format every tool reads) through a buffered writer; see its docs.

#[cfg(feature = "dpdk")]
pub mod dpdk;
mod pcap;
mod sink;
#[cfg(test)]
pub(crate) mod tests;

pub use pcap::{
    Frame, FrameBatch, MAX_BATCH, MAX_INTERFACES, MAX_RECORD_LEN, PcapError, PcapReader,
};
pub use sink::PcapSink;
