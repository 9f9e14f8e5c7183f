//! Classic pcap output (the libpcap format, not pcapng), Ethernet link type.
//!
//! The writer streams: the global header goes out when it is created, then one record per
//! [`PcapWriter::write_packet`]; nothing is buffered here, so wrap a file in a `BufWriter`.
//! Records are little-endian, with microsecond (`0xa1b2c3d4`) or nanosecond (`0xa1b23c4d`)
//! timestamps. Times are kept in nanoseconds everywhere in this crate; a microsecond file
//! truncates them.

use std::io::{self, Write};
use std::time::Duration;

/// The link type of every capture this crate writes: Ethernet (`LINKTYPE_ETHERNET`).
pub const LINKTYPE_ETHERNET: u32 = 1;

/// The snapshot length announced in the file header; frames are never longer.
pub const SNAPLEN: u32 = 262_144;

/// A capture timestamp: nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The timestamp `secs` seconds and `nanos` nanoseconds after the epoch.
    pub const fn from_unix(secs: u64, nanos: u32) -> Timestamp {
        Timestamp(secs * 1_000_000_000 + nanos as u64)
    }

    /// The timestamp `nanos` nanoseconds after the epoch.
    pub const fn from_unix_nanos(nanos: u64) -> Timestamp {
        Timestamp(nanos)
    }

    /// Nanoseconds since the epoch.
    pub const fn unix_nanos(self) -> u64 {
        self.0
    }

    /// Whole seconds since the epoch.
    pub const fn secs(self) -> u64 {
        self.0 / 1_000_000_000
    }

    /// The nanoseconds within the second.
    pub const fn subsec_nanos(self) -> u32 {
        (self.0 % 1_000_000_000) as u32
    }

    /// The timestamp as a reader of a capture with `precision` sees it.
    pub const fn truncate(self, precision: Precision) -> Timestamp {
        match precision {
            Precision::Micros => Timestamp(self.0 / 1_000 * 1_000),
            Precision::Nanos => self,
        }
    }

    /// Seconds since the epoch as a float (what `flowdump` prints as `start`).
    pub fn as_secs_f64(self) -> f64 {
        self.secs() as f64 + f64::from(self.subsec_nanos()) / 1e9
    }

    /// This timestamp moved `d` later (saturating at the end of time).
    pub fn after(self, d: Duration) -> Timestamp {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Timestamp(self.0.saturating_add(nanos))
    }

    /// This timestamp moved `nanos` nanoseconds later (saturating).
    pub const fn add_nanos(self, nanos: u64) -> Timestamp {
        Timestamp(self.0.saturating_add(nanos))
    }

    /// The time from `earlier` to `self` (zero if `earlier` is later).
    pub const fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

impl std::ops::Add<Duration> for Timestamp {
    type Output = Timestamp;
    fn add(self, d: Duration) -> Timestamp {
        self.after(d)
    }
}

/// Timestamp resolution of a capture file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Precision {
    /// Microseconds (magic `0xa1b2c3d4`), what most tools write.
    #[default]
    Micros,
    /// Nanoseconds (magic `0xa1b23c4d`).
    Nanos,
}

impl Precision {
    /// The file magic number for this precision.
    pub const fn magic(self) -> u32 {
        match self {
            Precision::Micros => 0xa1b2_c3d4,
            Precision::Nanos => 0xa1b2_3c4d,
        }
    }
}

/// Streams a classic pcap file into any [`Write`].
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    precision: Precision,
    packets: u64,
    bytes: u64,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header and returns a writer ready for packets.
    pub fn new(mut out: W, precision: Precision) -> io::Result<PcapWriter<W>> {
        let mut header = [0u8; 24];
        header[0..4].copy_from_slice(&precision.magic().to_le_bytes());
        header[4..6].copy_from_slice(&2u16.to_le_bytes()); // version 2.4
        header[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone and sigfigs stay zero.
        header[16..20].copy_from_slice(&SNAPLEN.to_le_bytes());
        header[20..24].copy_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        out.write_all(&header)?;
        Ok(PcapWriter {
            out,
            precision,
            packets: 0,
            bytes: 0,
        })
    }

    /// Appends one frame captured whole at `ts`.
    ///
    /// Fails with `InvalidInput` when the frame is longer than [`SNAPLEN`] or the timestamp
    /// does not fit the format's 32-bit seconds (after 2106).
    pub fn write_packet(&mut self, ts: Timestamp, frame: &[u8]) -> io::Result<()> {
        let len = u32::try_from(frame.len())
            .ok()
            .filter(|&l| l <= SNAPLEN)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("frame of {} bytes exceeds the snapshot length", frame.len()),
                )
            })?;
        let secs = u32::try_from(ts.secs()).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("timestamp {}s does not fit a pcap record", ts.secs()),
            )
        })?;
        let frac = match self.precision {
            Precision::Micros => ts.subsec_nanos() / 1_000,
            Precision::Nanos => ts.subsec_nanos(),
        };
        let mut record = [0u8; 16];
        record[0..4].copy_from_slice(&secs.to_le_bytes());
        record[4..8].copy_from_slice(&frac.to_le_bytes());
        record[8..12].copy_from_slice(&len.to_le_bytes());
        record[12..16].copy_from_slice(&len.to_le_bytes());
        self.out.write_all(&record)?;
        self.out.write_all(frame)?;
        self.packets += 1;
        self.bytes += u64::from(len);
        Ok(())
    }

    /// Packets written so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Frame bytes written so far (record headers not included).
    pub fn frame_bytes(&self) -> u64 {
        self.bytes
    }

    /// The timestamp precision of this file.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Gives the underlying writer back (not flushed).
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_record_layout_micros() {
        let mut w = PcapWriter::new(Vec::new(), Precision::Micros).unwrap();
        let ts = Timestamp::from_unix(1_700_000_000, 123_456_789);
        w.write_packet(ts, &[0xaa; 60]).unwrap();
        assert_eq!(w.packets(), 1);
        assert_eq!(w.frame_bytes(), 60);
        let bytes = w.into_inner();
        assert_eq!(bytes.len(), 24 + 16 + 60);
        assert_eq!(&bytes[0..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), 2);
        assert_eq!(u16::from_le_bytes([bytes[6], bytes[7]]), 4);
        assert_eq!(
            u32::from_le_bytes(bytes[16..20].try_into().unwrap()),
            SNAPLEN
        );
        assert_eq!(u32::from_le_bytes(bytes[20..24].try_into().unwrap()), 1);
        let rec = &bytes[24..40];
        assert_eq!(
            u32::from_le_bytes(rec[0..4].try_into().unwrap()),
            1_700_000_000
        );
        assert_eq!(u32::from_le_bytes(rec[4..8].try_into().unwrap()), 123_456);
        assert_eq!(u32::from_le_bytes(rec[8..12].try_into().unwrap()), 60);
        assert_eq!(u32::from_le_bytes(rec[12..16].try_into().unwrap()), 60);
    }

    #[test]
    fn nanosecond_magic_and_fraction() {
        let mut w = PcapWriter::new(Vec::new(), Precision::Nanos).unwrap();
        w.write_packet(Timestamp::from_unix(5, 7), &[1, 2, 3])
            .unwrap();
        let bytes = w.into_inner();
        assert_eq!(&bytes[0..4], &[0x4d, 0x3c, 0xb2, 0xa1]);
        assert_eq!(u32::from_le_bytes(bytes[28..32].try_into().unwrap()), 7);
    }

    #[test]
    fn rejects_what_the_format_cannot_hold() {
        let mut w = PcapWriter::new(Vec::new(), Precision::Micros).unwrap();
        let err = w
            .write_packet(Timestamp::from_unix(1 << 33, 0), &[0])
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let big = vec![0u8; SNAPLEN as usize + 1];
        let err = w.write_packet(Timestamp::default(), &big).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(w.packets(), 0);
    }

    #[test]
    fn timestamp_arithmetic() {
        let t = Timestamp::from_unix(10, 999_999_999);
        assert_eq!(t + Duration::from_nanos(1), Timestamp::from_unix(11, 0));
        assert_eq!(t.after(Duration::MAX), Timestamp::from_unix_nanos(u64::MAX));
        assert_eq!(
            t.truncate(Precision::Micros),
            Timestamp::from_unix(10, 999_999_000)
        );
        assert_eq!(
            Timestamp::from_unix(11, 0).since(t),
            Duration::from_nanos(1)
        );
        assert!((Timestamp::from_unix(3, 500_000_000).as_secs_f64() - 3.5).abs() < 1e-12);
    }
}
