//! Tests of the capture reader and writer: every public trace against its tshark oracle, cut and
//! garbage files, synthetic pcapng with several sections and interfaces, and write/read round
//! trips (also through tshark when it is installed).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::*;
use crate::time::Timestamp;
use crate::wire::{LinkType, parse};

/// The public traces: `$MOS_TRACES`, else `shared/traces/public` beside the repository.
pub(crate) fn traces_dir() -> PathBuf {
    let dir = match std::env::var_os("MOS_TRACES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/traces/public"),
    };
    assert!(
        dir.is_dir(),
        "trace directory {} not found: set MOS_TRACES to shared/traces/public",
        dir.display()
    );
    dir
}

pub(crate) fn trace(name: &str) -> PathBuf {
    traces_dir().join(name)
}

/// A frame copied out of the reader.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct OwnedFrame {
    pub data: Vec<u8>,
    pub ts: Timestamp,
    pub wire_len: u32,
    pub link: LinkType,
}

fn collect(reader: &mut PcapReader) -> Result<Vec<OwnedFrame>, (Vec<OwnedFrame>, PcapError)> {
    let mut frames = Vec::new();
    loop {
        match reader.next_frame() {
            Ok(Some(f)) => frames.push(OwnedFrame {
                data: f.data.to_vec(),
                ts: f.ts,
                wire_len: f.wire_len,
                link: f.link,
            }),
            Ok(None) => return Ok(frames),
            Err(e) => return Err((frames, e)),
        }
    }
}

/// Every frame of a capture file that must read cleanly.
pub(crate) fn read_all(path: &Path) -> Vec<OwnedFrame> {
    let mut reader = PcapReader::open(path).unwrap();
    collect(&mut reader).unwrap_or_else(|(_, e)| panic!("{e}"))
}

/// Every capture among the public traces, by name.
pub(crate) fn capture_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(traces_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("pcap" | "pcapng")
            )
        })
        .collect();
    files.sort();
    files
}

fn oracle_frames(path: &Path) -> u64 {
    let stem = path.file_stem().unwrap().to_str().unwrap();
    let text = fs::read_to_string(path.with_file_name(format!("{stem}.oracle.json"))).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["frames"].as_u64().unwrap()
}

/// A file in the temp directory, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str) -> TempFile {
        TempFile(std::env::temp_dir().join(format!("mos-io-{}-{tag}", std::process::id())))
    }
    fn with(tag: &str, bytes: &[u8]) -> TempFile {
        let file = TempFile::new(tag);
        fs::write(&file.0, bytes).unwrap();
        file
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

#[test]
fn every_public_trace_matches_the_oracle_frame_count() {
    let files = capture_files();
    assert!(files.len() >= 40, "only {} traces found", files.len());
    for path in files {
        let name = path.display();
        let frames = read_all(&path);
        assert_eq!(frames.len() as u64, oracle_frames(&path), "{name}");
        // The in-memory reader sees the very same frames.
        let mut memory = PcapReader::from_bytes(fs::read(&path).unwrap()).unwrap();
        assert_eq!(collect(&mut memory).unwrap(), frames, "{name}");
        assert_eq!(memory.frames_read(), frames.len() as u64);
        for f in &frames {
            assert!(f.wire_len as usize >= f.data.len());
            // Parsing never panics; the outcome is a PacketMeta or a ParseError.
            for verify in [false, true] {
                let _ = parse(f.link, &f.data, f.ts, f.wire_len, verify);
            }
        }
    }
}

#[test]
fn public_trace_formats() {
    let nano = read_all(&trace("tcpdump-tcp-handshake-nano.pcap"));
    assert_eq!(nano[0].link, LinkType::LinuxSll);
    assert_eq!(
        nano[0].ts,
        Timestamp::from_parts(1_418_145_369, 924_505_488)
    );
    let raw = read_all(&trace("tcpdump-linktype-raw-ipv6.pcap"));
    assert_eq!(raw[0].link, LinkType::RawIp);
    // pcapng, little-endian, microseconds.
    let ng = read_all(&trace("zeek-tcp-retransmit-timeout.pcapng"));
    assert_eq!(ng.len(), 3);
    assert_eq!(ng[0].link, LinkType::Ethernet);
    assert_eq!(ng[0].data.len(), 72);
    // tshark: 629503200.000030000.
    assert_eq!(ng[0].ts, Timestamp::from_parts(629_503_200, 30_000));
    // pcapng, big-endian.
    let be = read_all(&trace("pcapparser-test001-be.pcapng"));
    assert_eq!(be.len(), 4);
    assert_eq!(be[0].data.len(), 314);
    assert_eq!(be[0].data[12..14], [0x08, 0x00]);
    // The first record of zeek-http-get: 1362692526.869344 s (from tshark).
    let get = read_all(&trace("zeek-http-get.pcap"));
    assert_eq!(get[0].ts, Timestamp::from_parts(1_362_692_526, 869_344_000));
    assert_eq!(get[0].data.len(), 78);
}

#[test]
fn empty_and_header_only_captures() {
    let mut empty_ng = PcapReader::open(trace("tcpdump-empty.pcapng")).unwrap();
    assert!(empty_ng.next_frame().unwrap().is_none());
    assert!(empty_ng.next_frame().unwrap().is_none());

    let empty = TempFile::with("empty", b"");
    match PcapReader::open(&empty.0) {
        Err(e @ PcapError::NotPcap { .. }) => {
            assert!(e.to_string().ends_with("not a pcap or pcapng file"), "{e}");
            assert!(e.to_string().contains("mos-io-"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    let header = fs::read(trace("zeek-http-get.pcap")).unwrap()[..24].to_vec();
    let mut only = PcapReader::from_bytes(header.clone()).unwrap();
    assert!(only.next_frame().unwrap().is_none());
    assert!(matches!(
        PcapReader::from_bytes(header[..10].to_vec()),
        Err(PcapError::Truncated {
            frames_read: 0,
            offset: 0,
            ..
        })
    ));
    assert!(matches!(
        PcapReader::from_bytes(vec![0xd4, 0xc3]),
        Err(PcapError::NotPcap { .. })
    ));
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let err = PcapReader::open("/nonexistent/dir/trace.pcap").unwrap_err();
    assert!(matches!(err, PcapError::Io { .. }));
    let text = err.to_string();
    assert!(text.contains("/nonexistent/dir/trace.pcap"), "{text}");
    assert!(std::error::Error::source(&err).is_some());
    // A directory opens but cannot be read.
    assert!(matches!(
        PcapReader::open(std::env::temp_dir()),
        Err(PcapError::Io { .. })
    ));
}

/// Record boundaries of a capture (offsets where a record or block ends), from the full read.
fn boundaries_pcap(bytes: &[u8]) -> Vec<usize> {
    let mut ends = vec![24];
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + caplen;
        ends.push(at);
    }
    ends
}

#[test]
fn cut_at_every_offset_delivers_a_prefix_then_truncated() {
    let path = trace("zeek-tcp-fin-retransmission.pcap");
    let bytes = fs::read(&path).unwrap();
    let full = read_all(&path);
    let ends = boundaries_pcap(&bytes);
    assert_eq!(*ends.last().unwrap(), bytes.len());
    for cut in 0..=bytes.len() {
        let prefix = bytes[..cut].to_vec();
        let reader = PcapReader::from_bytes(prefix);
        if cut < 4 {
            assert!(
                matches!(reader, Err(PcapError::NotPcap { .. })),
                "cut {cut}"
            );
            continue;
        }
        if cut < 24 {
            assert!(
                matches!(reader, Err(PcapError::Truncated { .. })),
                "cut {cut}"
            );
            continue;
        }
        let mut reader = reader.unwrap();
        let complete = ends.iter().filter(|&&end| end <= cut).count() - 1;
        match collect(&mut reader) {
            Ok(frames) => {
                assert!(
                    ends.contains(&cut),
                    "cut {cut} inside a record read as clean"
                );
                assert_eq!(frames[..], full[..complete]);
            }
            Err((
                frames,
                PcapError::Truncated {
                    frames_read,
                    offset,
                    ..
                },
            )) => {
                assert!(
                    !ends.contains(&cut),
                    "cut {cut} on a boundary read as truncated"
                );
                assert_eq!(frames[..], full[..complete]);
                assert_eq!(frames_read as usize, complete);
                assert_eq!(offset as usize, ends[complete]);
                // Finished: no loop on the error.
                assert!(reader.next_frame().unwrap().is_none());
            }
            Err((_, e)) => panic!("cut {cut}: {e}"),
        }
    }
}

#[test]
fn pcapng_cut_at_every_offset_never_panics_and_keeps_a_prefix() {
    let path = trace("zeek-tcp-retransmit-timeout.pcapng");
    let bytes = fs::read(&path).unwrap();
    let full = read_all(&path);
    let mut clean_cuts = 0;
    for cut in 0..=bytes.len() {
        match PcapReader::from_bytes(bytes[..cut].to_vec()) {
            Err(PcapError::NotPcap { .. }) => assert!(cut < 4),
            Err(e) => panic!("cut {cut}: {e}"),
            Ok(mut reader) => match collect(&mut reader) {
                Ok(frames) => {
                    assert_eq!(frames[..], full[..frames.len()]);
                    clean_cuts += 1;
                }
                Err((frames, PcapError::Truncated { frames_read, .. })) => {
                    assert_eq!(frames[..], full[..frames.len()]);
                    assert_eq!(frames_read as usize, frames.len());
                }
                Err((_, e)) => panic!("cut {cut}: {e}"),
            },
        }
    }
    // SHB, IDB and three EPBs end at five offsets: the only clean cuts.
    assert_eq!(clean_cuts, 5);
}

fn xorshift(seed: u64, len: usize) -> Vec<u8> {
    let mut s = seed | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s as u8
        })
        .collect()
}

#[test]
fn garbage_never_panics_or_hangs() {
    let pcap_header = fs::read(trace("zeek-http-get.pcap")).unwrap()[..24].to_vec();
    let ng_header = fs::read(trace("tcpdump-empty.pcapng")).unwrap();
    for seed in 0..300u64 {
        let noise = xorshift(seed, 64 + (seed as usize * 37) % 4000);
        assert!(
            matches!(
                PcapReader::from_bytes(noise.clone()),
                Err(PcapError::NotPcap { .. })
            ) || noise[..4] == pcap_header[..4]
        );
        for prefix in [&pcap_header, &ng_header] {
            let mut bytes = prefix.clone();
            bytes.extend_from_slice(&noise);
            let mut reader = PcapReader::from_bytes(bytes.clone()).unwrap();
            let mut frames = 0usize;
            // Every frame consumes at least 12 bytes: the loop is bounded by the input.
            while let Ok(Some(frame)) = reader.next_frame() {
                frames += 1;
                assert!(frames <= bytes.len() / 12);
                let _ = parse(frame.link, frame.data, frame.ts, frame.wire_len, true);
            }
            assert!(reader.next_frame().unwrap().is_none());
            // Batches, and the flow-key hint on whatever the frames hold, the same.
            let single = collect(&mut PcapReader::from_bytes(bytes.clone()).unwrap());
            let mut reader = PcapReader::from_bytes(bytes.clone()).unwrap();
            let batched = collect_batches(&mut reader, 5);
            match (&single, &batched) {
                (Ok(a), Ok(b)) => assert!(a == b),
                (Err((a, ea)), Err((b, eb))) => {
                    assert!(a == b);
                    assert_eq!(ea.to_string(), eb.to_string());
                }
                _ => panic!("seed {seed}: frames and batches disagree"),
            }
            for frame in batched.unwrap_or_else(|(f, _)| f) {
                let _ = crate::wire::flow_key_hint(frame.link, &frame.data);
            }
        }
    }
}

/// Builds a pcapng block in the given byte order.
fn ng_block(big: bool, block_type: u32, body: &[u8]) -> Vec<u8> {
    let u32b = |v: u32| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let padded = body.len().div_ceil(4) * 4;
    let len = (12 + padded) as u32;
    let mut block = Vec::new();
    block.extend_from_slice(&u32b(block_type));
    block.extend_from_slice(&u32b(len));
    block.extend_from_slice(body);
    block.resize(8 + padded, 0);
    block.extend_from_slice(&u32b(len));
    block
}

fn ng_shb(big: bool) -> Vec<u8> {
    let mut body = Vec::new();
    let put16 = |v: u16| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    body.extend_from_slice(&if big {
        0x1a2b_3c4du32.to_be_bytes()
    } else {
        0x1a2b_3c4du32.to_le_bytes()
    });
    body.extend_from_slice(&put16(1));
    body.extend_from_slice(&put16(0));
    body.extend_from_slice(&(-1i64).to_le_bytes());
    ng_block(big, 0x0a0d_0d0a, &body)
}

/// An IDB with optional if_tsresol and if_tsoffset options.
fn ng_idb(
    big: bool,
    link: u16,
    snaplen: u32,
    tsresol: Option<u8>,
    tsoffset: Option<i64>,
) -> Vec<u8> {
    let put16 = |v: u16| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let put32 = |v: u32| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut body = Vec::new();
    body.extend_from_slice(&put16(link));
    body.extend_from_slice(&put16(0));
    body.extend_from_slice(&put32(snaplen));
    if let Some(r) = tsresol {
        body.extend_from_slice(&put16(9));
        body.extend_from_slice(&put16(1));
        body.extend_from_slice(&[r, 0, 0, 0]);
    }
    if let Some(o) = tsoffset {
        body.extend_from_slice(&put16(14));
        body.extend_from_slice(&put16(8));
        body.extend_from_slice(&if big {
            o.to_be_bytes()
        } else {
            o.to_le_bytes()
        });
    }
    body.extend_from_slice(&[0, 0, 0, 0]);
    ng_block(big, 1, &body)
}

fn ng_epb(big: bool, if_id: u32, ts: u64, data: &[u8], origlen: u32) -> Vec<u8> {
    let put32 = |v: u32| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut body = Vec::new();
    for v in [
        if_id,
        (ts >> 32) as u32,
        ts as u32,
        data.len() as u32,
        origlen,
    ] {
        body.extend_from_slice(&put32(v));
    }
    body.extend_from_slice(data);
    ng_block(big, 6, &body)
}

fn ng_spb(big: bool, data: &[u8], origlen: u32) -> Vec<u8> {
    let mut body = if big {
        origlen.to_be_bytes()
    } else {
        origlen.to_le_bytes()
    }
    .to_vec();
    body.extend_from_slice(data);
    ng_block(big, 3, &body)
}

#[test]
fn pcapng_sections_interfaces_resolutions_and_skipped_blocks() {
    let frame_a = vec![0xaa; 60];
    let frame_b = vec![0xbb; 33];
    let mut file = ng_shb(false);
    // Interface 0: Ethernet, microseconds (default). Interface 1: raw IP, nanoseconds, with a
    // +100 s offset. Interface 2: SLL, 2^-20 s units.
    file.extend(ng_idb(false, 1, 0, None, None));
    file.extend(ng_idb(false, 101, 0, Some(9), Some(100)));
    file.extend(ng_idb(false, 113, 0, Some(0x80 | 20), None));
    file.extend(ng_epb(false, 0, 1_500_000_123, &frame_a, 60));
    // A statistics block and an unknown custom block between packets: skipped.
    file.extend(ng_block(false, 5, &[0; 20]));
    file.extend(ng_block(false, 0x0000_0bad, &[1, 2, 3, 4, 5, 6, 7, 8]));
    file.extend(ng_epb(false, 1, 1_700_000_000_123_456_789, &frame_b, 1000));
    file.extend(ng_epb(false, 2, 3 << 20 | 1 << 19, &frame_b, 33));
    // Simple packet block: interface 0, previous timestamp, original length 40 < data.
    file.extend(ng_spb(false, &frame_a, 40));
    // A new, big-endian section: interfaces reset; Ethernet in nanoseconds.
    file.extend(ng_shb(true));
    file.extend(ng_idb(true, 1, 0, Some(9), Some(-5)));
    file.extend(ng_epb(true, 0, 10_000_000_007, &frame_a, 64));
    // A big non-packet block is skipped whatever its size.
    file.extend(ng_block(true, 4, &vec![0x55; 3 << 20]));
    file.extend(ng_epb(true, 0, 20_000_000_000, &frame_b, 33));

    let tmp = TempFile::with("sections.pcapng", &file);
    let from_file = read_all(&tmp.0);
    let from_memory = collect(&mut PcapReader::from_bytes(file.clone()).unwrap()).unwrap();
    assert_eq!(from_file, from_memory);
    let got: Vec<(LinkType, Timestamp, usize, u32)> = from_file
        .iter()
        .map(|f| (f.link, f.ts, f.data.len(), f.wire_len))
        .collect();
    assert_eq!(
        got,
        vec![
            (LinkType::Ethernet, Timestamp(1_500_000_123_000), 60, 60),
            (
                LinkType::RawIp,
                Timestamp(1_700_000_100_123_456_789),
                33,
                1000
            ),
            (LinkType::LinuxSll, Timestamp(3_500_000_000), 33, 33),
            (LinkType::Ethernet, Timestamp(3_500_000_000), 40, 40),
            (LinkType::Ethernet, Timestamp(5_000_000_007), 60, 64),
            (LinkType::Ethernet, Timestamp(15_000_000_000), 33, 33),
        ]
    );
    assert_eq!(from_file[1].data, frame_b);
}

#[test]
fn pcapng_structural_errors() {
    let mut base = ng_shb(false);
    base.extend(ng_idb(false, 1, 0, None, None));
    let expect = |bytes: Vec<u8>, want: &str| {
        let mut reader = PcapReader::from_bytes(bytes).unwrap();
        match collect(&mut reader) {
            Err((_, e @ PcapError::Malformed { .. })) => {
                assert!(e.to_string().contains(want), "{e}");
                assert!(
                    e.to_string()
                        .starts_with("<memory>: malformed record at byte"),
                    "{e}"
                );
            }
            other => panic!("{other:?}"),
        }
    };
    let mut undeclared = base.clone();
    undeclared.extend(ng_epb(false, 3, 0, &[1; 20], 20));
    expect(undeclared, "interface not described");

    let mut odd_len = base.clone();
    let mut block = ng_epb(false, 0, 0, &[1; 20], 20);
    block[4] = 49;
    odd_len.extend(block);
    expect(odd_len, "multiple of 4");

    let mut trailer = base.clone();
    let mut block = ng_epb(false, 0, 0, &[1; 20], 20);
    let n = block.len();
    block[n - 4] ^= 4;
    trailer.extend(block);
    expect(trailer, "trailing length");

    let mut caplen = base.clone();
    let mut block = ng_epb(false, 0, 0, &[1; 20], 20);
    block[20] = 200;
    caplen.extend(block);
    expect(caplen, "longer than its enhanced packet block");

    let mut spb_first = ng_shb(false);
    spb_first.extend(ng_spb(false, &[0; 8], 8));
    expect(spb_first, "before any interface");

    // A packet block too large for the buffer.
    let mut huge = base.clone();
    huge.extend(ng_epb(false, 0, 0, &vec![0; MAX_RECORD_LEN], 1));
    let mut reader = PcapReader::from_bytes(huge).unwrap();
    let err = reader.next_frame().unwrap_err();
    assert!(
        matches!(err, PcapError::TooLarge { frames_read: 0, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("more than the 1048576"), "{err}");
}

#[test]
fn large_file_streams_through_the_fixed_buffer() {
    // ~3.3 MB of frames of varied sizes, so records straddle every refill of the 1 MiB buffer,
    // plus one frame at libpcap's largest snap length.
    let tmp = TempFile::new("large.pcap");
    let mut sink = PcapSink::create(&tmp.0).unwrap();
    let mut expected = Vec::new();
    for i in 0..4000u32 {
        let len = 60 + (i as usize * 389) % 1440;
        let data = xorshift(u64::from(i) + 1, len);
        let ts = Timestamp::from_parts(1_600_000_000 + u64::from(i), i * 1000);
        sink.write_frame(ts, &data, len as u32 + 4, LinkType::Ethernet)
            .unwrap();
        expected.push(OwnedFrame {
            data,
            ts,
            wire_len: len as u32 + 4,
            link: LinkType::Ethernet,
        });
        if i == 2000 {
            let big = xorshift(99, 262_144);
            sink.write_frame(ts, &big, 262_144, LinkType::Ethernet)
                .unwrap();
            expected.push(OwnedFrame {
                data: big,
                ts,
                wire_len: 262_144,
                link: LinkType::Ethernet,
            });
        }
    }
    sink.flush().unwrap();
    assert_eq!(sink.frames_written(), 4001);
    drop(sink);
    assert!(fs::metadata(&tmp.0).unwrap().len() > 3 * MAX_RECORD_LEN as u64);
    let mut reader = PcapReader::open(&tmp.0).unwrap();
    let got = collect(&mut reader).unwrap();
    assert_eq!(got.len(), expected.len());
    assert!(got == expected);
    assert_eq!(reader.frames_read(), 4001);

    // A record claiming more than the buffer is refused, not trusted.
    let mut bytes = fs::read(&tmp.0).unwrap()[..24].to_vec();
    bytes.extend_from_slice(&[0; 8]);
    bytes.extend_from_slice(&(2_000_000u32).to_le_bytes());
    bytes.extend_from_slice(&(2_000_000u32).to_le_bytes());
    let oversized = TempFile::with("oversized.pcap", &bytes);
    let err = PcapReader::open(&oversized.0)
        .unwrap()
        .next_frame()
        .unwrap_err();
    assert!(
        matches!(err, PcapError::TooLarge { len: 2_000_016, .. }),
        "{err}"
    );
}

#[test]
fn sink_round_trips_public_traces() {
    for name in [
        "zeek-http-get.pcap",
        "zeek-http-qinq.pcap",
        "tcpdump-linktype-raw-ipv6.pcap",
        "tcpdump-tcp-handshake-nano.pcap",
        "zeek-tcp-retransmit-timeout.pcapng",
        "pcapparser-test001-be.pcapng",
        "tcpdump-malformed-tcp.pcap",
    ] {
        let frames = read_all(&trace(name));
        let nanos = frames.iter().any(|f| f.ts.as_nanos() % 1000 != 0);
        let tmp = TempFile::new(&format!("rt-{name}.pcap"));
        let mut sink = if nanos {
            PcapSink::create_nanos(&tmp.0).unwrap()
        } else {
            PcapSink::create(&tmp.0).unwrap()
        };
        for f in &frames {
            sink.write_frame(f.ts, &f.data, f.wire_len, f.link).unwrap();
        }
        sink.flush().unwrap();
        assert_eq!(sink.frames_written(), frames.len() as u64);
        drop(sink);
        assert_eq!(read_all(&tmp.0), frames, "{name}");
    }
}

#[test]
fn sink_link_type_rules_and_empty_files() {
    let mut out = PcapSink::from_writer(Vec::<u8>::new());
    out.write_frame(Timestamp(0), &[0; 20], 20, LinkType::RawIp)
        .unwrap();
    let err = out
        .write_frame(Timestamp(0), &[0; 20], 20, LinkType::Ethernet)
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(out.frames_written(), 1);
    assert!(out.set_link(LinkType::RawIp).is_ok());
    assert!(out.set_link(LinkType::LinuxSll).is_err());

    // Dropped without frames: a valid, empty Ethernet pcap.
    let tmp = TempFile::new("empty-sink.pcap");
    drop(PcapSink::create(&tmp.0).unwrap());
    let bytes = fs::read(&tmp.0).unwrap();
    assert_eq!(bytes.len(), 24);
    assert_eq!(bytes[20..24], 1u32.to_le_bytes());
    assert!(read_all(&tmp.0).is_empty());

    // set_link before any frame fixes the header.
    let tmp = TempFile::new("sll-sink.pcap");
    let mut sink = PcapSink::create_nanos(&tmp.0).unwrap();
    sink.set_link(LinkType::LinuxSll2).unwrap();
    sink.flush().unwrap();
    let bytes = fs::read(&tmp.0).unwrap();
    assert_eq!(bytes[..4], 0xa1b2_3c4du32.to_le_bytes());
    assert_eq!(bytes[20..24], 276u32.to_le_bytes());
}

#[test]
fn tshark_reads_the_sink_output() {
    let frames = read_all(&trace("zeek-http-vlan.pcap"));
    let tmp = TempFile::new("tshark.pcap");
    let mut sink = PcapSink::create(&tmp.0).unwrap();
    for f in &frames {
        sink.write_frame(f.ts, &f.data, f.wire_len, f.link).unwrap();
    }
    sink.flush().unwrap();
    drop(sink);
    let output = std::process::Command::new("tshark")
        .args(["-r"])
        .arg(&tmp.0)
        .args([
            "-T",
            "fields",
            "-e",
            "frame.time_epoch",
            "-e",
            "vlan.id",
            "-e",
            "tcp.len",
        ])
        .output();
    let output = match output {
        Ok(output) => output,
        Err(e) => {
            println!("tshark not available ({e}): skipping the tshark check");
            return;
        }
    };
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), frames.len());
    let first = frames[0].ts;
    let want = format!(
        "{}.{:06}",
        first.as_nanos() / 1_000_000_000,
        first.as_nanos() / 1000 % 1_000_000
    );
    assert!(lines[0].starts_with(&want), "{} vs {want}", lines[0]);
    let tcp_bytes: u64 = lines
        .iter()
        .map(|l| l.split('\t').nth(2).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(tcp_bytes, 136 + 5007);
}

#[test]
fn frame_debug_does_not_dump_bytes() {
    let mut reader = PcapReader::open(trace("zeek-http-get.pcap")).unwrap();
    let text = format!("{:?}", reader.next_frame().unwrap().unwrap());
    assert!(text.contains("cap_len: 78"), "{text}");
    assert!(text.len() < 150, "{text}");
    assert!(format!("{reader:?}").contains("frames_read: 1"));
}

#[test]
fn legacy_variants_big_endian_and_modified() {
    // Rewrite zeek-http-get as a big-endian pcap: same frames.
    let bytes = fs::read(trace("zeek-http-get.pcap")).unwrap();
    let swap32 = |b: &mut [u8]| b.reverse();
    let mut be = bytes.clone();
    swap32(&mut be[0..4]);
    be[4..6].reverse();
    be[6..8].reverse();
    for at in [8, 12, 16, 20] {
        swap32(&mut be[at..at + 4]);
    }
    let mut at = 24;
    while at < be.len() {
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        for f in 0..4 {
            swap32(&mut be[at + 4 * f..at + 4 * f + 4]);
        }
        at += 16 + caplen;
    }
    let frames = collect(&mut PcapReader::from_bytes(be).unwrap()).unwrap();
    assert_eq!(frames, read_all(&trace("zeek-http-get.pcap")));

    // Kuznetzov's modified format: 8 more bytes per record header (ifindex, protocol, type).
    let mut modified = bytes[..24].to_vec();
    modified[..4].copy_from_slice(&0xa1b2_cd34u32.to_le_bytes());
    let mut at = 24;
    while at < bytes.len() {
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        modified.extend_from_slice(&bytes[at..at + 16]);
        modified.extend_from_slice(&[0; 8]);
        modified.extend_from_slice(&bytes[at + 16..at + 16 + caplen]);
        at += 16 + caplen;
    }
    let frames = collect(&mut PcapReader::from_bytes(modified).unwrap()).unwrap();
    assert_eq!(frames, read_all(&trace("zeek-http-get.pcap")));
}

#[test]
fn sink_writes_the_documented_bytes() {
    let shared = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut sink = PcapSink::from_writer(Shared(shared.clone()));
    sink.write_frame(
        Timestamp::from_parts(2, 345_678_999),
        &[9, 8, 7],
        2,
        LinkType::Ethernet,
    )
    .unwrap();
    sink.flush().unwrap();
    let bytes = shared.lock().unwrap().clone();
    let mut want = 0xa1b2_c3d4u32.to_le_bytes().to_vec();
    want.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    want.extend_from_slice(&262_144u32.to_le_bytes());
    want.extend_from_slice(&1u32.to_le_bytes());
    // Microseconds truncate; the wire length is raised to the captured length.
    for v in [2u32, 345_678, 3, 3] {
        want.extend_from_slice(&v.to_le_bytes());
    }
    want.extend_from_slice(&[9, 8, 7]);
    assert_eq!(bytes, want);
}

/// Every frame through [`PcapReader::next_batch`] with batches of at most `max`, and the error
/// that ended the capture, if any; checks each batch's size.
fn collect_batches(
    reader: &mut PcapReader,
    max: usize,
) -> Result<Vec<OwnedFrame>, (Vec<OwnedFrame>, PcapError)> {
    let mut frames = Vec::new();
    loop {
        match reader.next_batch(max) {
            Ok(batch) if batch.is_empty() => {
                // The end stays the end.
                assert!(reader.next_batch(max).unwrap().is_empty());
                return Ok(frames);
            }
            Ok(batch) => {
                assert!(batch.len() <= max.clamp(1, MAX_BATCH));
                assert_eq!(batch.iter().len(), batch.len());
                frames.extend(batch.iter().map(|f| OwnedFrame {
                    data: f.data.to_vec(),
                    ts: f.ts,
                    wire_len: f.wire_len,
                    link: f.link,
                }));
            }
            Err(e) => {
                // Finished after the error.
                assert!(reader.next_batch(max).unwrap().is_empty());
                return Err((frames, e));
            }
        }
    }
}

/// Batches give the frames `next_frame` gives, on every public capture (pcap and pcapng),
/// from the file and from memory, for several batch sizes.
#[test]
fn batches_read_what_single_frames_read() {
    for path in capture_files() {
        let single = read_all(&path);
        for max in [0, 1, 7, MAX_BATCH, 1000] {
            let mut reader = PcapReader::open(&path).unwrap();
            let batched = collect_batches(&mut reader, max).unwrap_or_else(|(_, e)| panic!("{e}"));
            assert!(batched == single, "{} max {max}", path.display());
            assert_eq!(reader.frames_read(), single.len() as u64);
            let mut reader = PcapReader::from_bytes(fs::read(&path).unwrap()).unwrap();
            let batched = collect_batches(&mut reader, max).unwrap_or_else(|(_, e)| panic!("{e}"));
            assert!(batched == single, "{} in memory, max {max}", path.display());
        }
    }
}

/// Streaming a file larger than the buffer: batches end where the buffer would move, and
/// nothing is lost or repeated; a batch never mixes in bytes of a later refill. A pcapng
/// variant puts an unknown block larger than what is left in the buffer between packets
/// (skipped only when the batch may move the buffer).
#[test]
fn batches_stream_across_buffer_refills() {
    let mut expected = Vec::new();
    let tmp = TempFile::new("batch-large.pcap");
    let mut sink = PcapSink::create(&tmp.0).unwrap();
    for i in 0..3000u32 {
        let len = 60 + (i as usize * 577) % 1500;
        let data = xorshift(u64::from(i) + 7, len);
        let ts = Timestamp::from_parts(1_700_000_000 + u64::from(i), i);
        sink.write_frame(ts, &data, len as u32, LinkType::Ethernet)
            .unwrap();
        expected.push(OwnedFrame {
            data,
            ts,
            wire_len: len as u32,
            link: LinkType::Ethernet,
        });
    }
    sink.flush().unwrap();
    drop(sink);
    assert!(fs::metadata(&tmp.0).unwrap().len() > 2 * MAX_RECORD_LEN as u64);
    let mut reader = PcapReader::open(&tmp.0).unwrap();
    let mut sizes = Vec::new();
    let mut got = Vec::new();
    loop {
        let batch = reader.next_batch(MAX_BATCH).unwrap();
        if batch.is_empty() {
            break;
        }
        sizes.push(batch.len());
        got.extend(batch.iter().map(|f| f.data.to_vec()));
    }
    assert!(got.iter().eq(expected.iter().map(|f| &f.data)));
    // Full batches except where a refill was due (about once per MiB).
    assert!(
        sizes.iter().filter(|&&n| n < MAX_BATCH).count() <= 6,
        "{sizes:?}"
    );

    let mut file = ng_shb(false);
    file.extend(ng_idb(false, 1, 0, None, None));
    let mut frames = Vec::new();
    for i in 0..1500u32 {
        let data = xorshift(u64::from(i) + 1, 200 + (i as usize * 131) % 1300);
        file.extend(ng_epb(false, 0, u64::from(i), &data, data.len() as u32));
        frames.push(data);
        if i == 700 {
            // A custom block of 600 KB: what is left of the buffer cannot hold it.
            file.extend(ng_block(false, 0x0000_0bad, &vec![0x5a; 600_000]));
        }
    }
    let ng = TempFile::with("batch-skip.pcapng", &file);
    let mut reader = PcapReader::open(&ng.0).unwrap();
    let got = collect_batches(&mut reader, MAX_BATCH).unwrap_or_else(|(_, e)| panic!("{e}"));
    assert!(got.iter().map(|f| &f.data).eq(frames.iter()));
}

/// A capture cut inside a record: the batches deliver every complete frame, then the same
/// error `next_frame` gives, then nothing.
#[test]
fn batches_end_with_the_error_after_the_frames() {
    let path = trace("zeek-tcp-fin-retransmission.pcap");
    let bytes = fs::read(&path).unwrap();
    let full = read_all(&path);
    let ends = boundaries_pcap(&bytes);
    for cut in (24..bytes.len()).filter(|c| !ends.contains(c)).step_by(37) {
        let complete = ends.iter().filter(|&&end| end <= cut).count() - 1;
        for max in [1, 5, MAX_BATCH] {
            let mut reader = PcapReader::from_bytes(bytes[..cut].to_vec()).unwrap();
            match collect_batches(&mut reader, max) {
                Err((frames, PcapError::Truncated { frames_read, .. })) => {
                    assert_eq!(frames[..], full[..complete], "cut {cut} max {max}");
                    assert_eq!(frames_read as usize, complete);
                }
                other => panic!("cut {cut} max {max}: {other:?}"),
            }
        }
    }
}

/// `next_frame` and `next_batch` mixed on one reader (the runtime switches between them as
/// the number of flows crosses `prefetch_min_flows`) read every frame once, in order.
#[test]
fn frames_and_batches_mix() {
    for path in capture_files().into_iter().take(12) {
        let single = read_all(&path);
        let mut reader = PcapReader::open(&path).unwrap();
        let mut mixed = Vec::new();
        let own = |f: Frame<'_>| OwnedFrame {
            data: f.data.to_vec(),
            ts: f.ts,
            wire_len: f.wire_len,
            link: f.link,
        };
        for turn in 0.. {
            if turn % 2 == 0 {
                match reader.next_frame().unwrap() {
                    Some(f) => mixed.push(own(f)),
                    None => break,
                }
            } else {
                let batch = reader.next_batch(turn % 7 + 1).unwrap();
                if batch.is_empty() {
                    break;
                }
                mixed.extend(batch.iter().map(own));
            }
        }
        assert!(mixed == single, "{}", path.display());
    }
}
