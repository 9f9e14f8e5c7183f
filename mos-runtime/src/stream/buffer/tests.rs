//! Scenario tests for [`StreamBuf`]; the randomized comparison against a naive model is in
//! `model_tests.rs`.

use super::*;
use crate::stream::overlap::OverlapPolicy::{self, *};

fn pool(count: usize, region: usize) -> BufferPool {
    BufferPool::new(count, region).expect("pool")
}

/// `n` bytes of a recognisable pattern: byte at stream offset `o` is `b'a' + o % 26`.
fn pattern(from: u64, n: usize) -> Vec<u8> {
    (from..from + n as u64)
        .map(|o| b'a' + (o % 26) as u8)
        .collect()
}

fn frags(sb: &StreamBuf) -> Vec<(u64, u64)> {
    sb.fragments().collect()
}

#[test]
fn in_order_writes_and_consume() {
    let mut p = pool(2, 64);
    let mut sb = StreamBuf::new(4, First);
    assert!(!sb.has_region());
    assert_eq!(sb.write(&mut p, 0, b""), WriteOutcome::default());
    assert!(!sb.has_region(), "empty payload must not take a region");
    assert_eq!(p.in_use(), 0);

    let o = sb.write(&mut p, 0, b"hello");
    assert_eq!(
        o,
        WriteOutcome {
            new_bytes: 5,
            advanced: 5,
            ..Default::default()
        }
    );
    assert!(sb.has_region());
    assert_eq!(p.in_use(), 1);
    let o = sb.write(&mut p, 5, b" world");
    assert_eq!((o.new_bytes, o.advanced, o.overlap_bytes), (6, 6, 0));
    assert_eq!(sb.peek(&p), b"hello world");
    assert_eq!(sb.unread_len(), 11);
    assert_eq!(sb.consume(6), 6);
    assert_eq!(sb.peek(&p), b"world");
    assert_eq!((sb.base(), sb.read_offset(), sb.contig_end()), (0, 6, 11));
    assert_eq!(sb.consume_all(), 5);
    assert_eq!(sb.peek(&p), b"");
    assert_eq!(sb.consume(10), 0);
    // Consumed bytes are still there for comparison and positional reads.
    assert_eq!(sb.peek_at(&p, 0, 11), Some(&b"hello world"[..]));
    assert_eq!(sb.peek_at(&p, 6, 100), Some(&b"world"[..]));
    assert_eq!(sb.peek_at(&p, 11, 1), None);
    assert_eq!(p.in_use(), 1, "one region per side, taken once");
}

#[test]
fn empty_pool_gives_no_buffer() {
    let mut p = pool(1, 32);
    let mut a = StreamBuf::new(4, First);
    let mut b = StreamBuf::new(4, First);
    assert_eq!(a.write(&mut p, 0, b"abc").new_bytes, 3);
    let o = b.write(&mut p, 0, b"xyz");
    assert_eq!(
        o,
        WriteOutcome {
            no_buffer: true,
            ..Default::default()
        }
    );
    assert!(!b.has_region());
    assert_eq!(b.contig_end(), 0);
    assert_eq!(b.peek(&p), b"");
    // Once a's region comes back, b gets it.
    a.release(&mut p);
    assert_eq!(b.write(&mut p, 0, b"xyz").advanced, 3);
    assert_eq!(b.peek(&p), b"xyz");
}

#[test]
fn out_of_order_single_hole() {
    let mut p = pool(1, 64);
    let mut sb = StreamBuf::new(4, First);
    let o = sb.write(&mut p, 5, b"56789");
    assert_eq!((o.new_bytes, o.advanced), (5, 0));
    assert_eq!(frags(&sb), vec![(5, 10)]);
    assert_eq!(sb.peek(&p), b"");
    assert_eq!(sb.unread_len(), 0);
    let o = sb.write(&mut p, 0, b"01234");
    assert_eq!((o.new_bytes, o.advanced), (5, 10));
    assert_eq!(frags(&sb), vec![]);
    assert_eq!(sb.peek(&p), b"0123456789");
}

#[test]
fn out_of_order_several_holes() {
    let mut p = pool(1, 128);
    let mut sb = StreamBuf::new(8, First);
    let data = pattern(0, 60);
    let seg = |a: usize, b: usize| (a as u64, data[a..b].to_vec());
    for (off, bytes) in [seg(40, 50), seg(20, 30), seg(50, 60), seg(5, 10)] {
        assert_eq!(sb.write(&mut p, off, &bytes).advanced, 0);
    }
    // [40,50) and [50,60) are adjacent: one fragment.
    assert_eq!(frags(&sb), vec![(5, 10), (20, 30), (40, 60)]);
    // Bridge the middle hole [30, 40) and part of nothing else.
    let (off, bytes) = seg(28, 42);
    let o = sb.write(&mut p, off, &bytes);
    assert_eq!((o.new_bytes, o.overlap_bytes, o.advanced), (10, 4, 0));
    assert_eq!(frags(&sb), vec![(5, 10), (20, 60)]);
    // Fill [10, 20): still a hole at [0, 5).
    let (off, bytes) = seg(10, 20);
    sb.write(&mut p, off, &bytes);
    assert_eq!(frags(&sb), vec![(5, 60)]);
    assert_eq!(sb.peek_at(&p, 5, 55), Some(&data[5..60]));
    // The first hole: everything becomes contiguous.
    let (off, bytes) = seg(0, 5);
    let o = sb.write(&mut p, off, &bytes);
    assert_eq!(o.advanced, 60);
    assert_eq!(sb.peek(&p), &data[..]);
    assert!(frags(&sb).is_empty());
}

#[test]
fn hole_limit() {
    let mut p = pool(1, 128);
    let mut sb = StreamBuf::new(2, First);
    assert_eq!(sb.max_holes(), 2);
    sb.write(&mut p, 10, b"aa");
    sb.write(&mut p, 20, b"bb");
    let o = sb.write(&mut p, 30, b"cc");
    assert_eq!(
        o,
        WriteOutcome {
            too_many_holes: true,
            ..Default::default()
        }
    );
    assert_eq!(frags(&sb), vec![(10, 12), (20, 22)]);
    assert!(!sb.received_before(30, 2));
    // Extending a fragment (adjacent), bridging two, or writing in order needs no new hole.
    assert_eq!(sb.write(&mut p, 22, b"BB").new_bytes, 2);
    assert_eq!(sb.write(&mut p, 12, b"12345678").new_bytes, 8);
    assert_eq!(frags(&sb), vec![(10, 24)]);
    assert_eq!(sb.write(&mut p, 30, b"cc").new_bytes, 2);
    assert_eq!(sb.write(&mut p, 0, b"0").advanced, 1);
    assert_eq!(frags(&sb), vec![(10, 24), (30, 32)]);
    assert!(sb.write(&mut p, 40, b"dd").too_many_holes);

    // No holes at all: only in-order data is kept.
    let mut strict = StreamBuf::new(0, First);
    let mut p2 = pool(1, 16);
    assert!(strict.write(&mut p2, 1, b"x").too_many_holes);
    assert_eq!(strict.write(&mut p2, 0, b"xy").advanced, 2);
    // The limit is clamped to what the array holds.
    assert_eq!(StreamBuf::new(1000, First).max_holes(), MAX_FRAGMENTS);
}

#[test]
fn full_fragment_array() {
    let mut p = pool(1, 256);
    let mut sb = StreamBuf::new(MAX_FRAGMENTS, First);
    for i in 0..MAX_FRAGMENTS as u64 {
        assert_eq!(sb.write(&mut p, 10 + i * 10, b"ab").new_bytes, 2);
    }
    assert_eq!(sb.fragments().count(), MAX_FRAGMENTS);
    assert!(sb.write(&mut p, 5, b"z").too_many_holes);
    assert!(sb.write(&mut p, 250, b"z").too_many_holes);
    // Filling the holes one by one from the front releases them.
    let mut prev_end = 0;
    for i in 0..MAX_FRAGMENTS as u64 {
        let hole = (10 + i * 10 - prev_end) as usize;
        let o = sb.write(&mut p, prev_end, &pattern(prev_end, hole));
        let end = 10 + i * 10 + 2;
        assert_eq!(sb.contig_end(), end);
        assert_eq!(u64::from(o.advanced), end - prev_end);
        assert_eq!(sb.fragments().count(), MAX_FRAGMENTS - 1 - i as usize);
        prev_end = end;
    }
    assert_eq!(sb.fragments().count(), 0);
}

// ---- overlap policies ----

/// Held fragment [10, 20) of 'h' (hole at [0, 10)), then a segment of 'n' (or 'h' when
/// `same`). Returns the outcome and the bytes held at [5, 25) afterwards ('.' = not held).
fn fragment_case(policy: OverlapPolicy, seg: (u64, u64), same: bool) -> (WriteOutcome, String) {
    let mut p = pool(1, 64);
    let mut sb = StreamBuf::new(4, policy);
    sb.write(&mut p, 10, &[b'h'; 10]);
    let fill = if same { b'h' } else { b'n' };
    let out = sb.write(&mut p, seg.0, &vec![fill; (seg.1 - seg.0) as usize]);
    let view: String = (5..25)
        .map(|o| sb.peek_at(&p, o, 1).map_or('.', |b| b[0] as char))
        .collect();
    (out, view)
}

#[test]
fn policies_on_fragments() {
    // (name, segment, new wins for [First, Last, Bsd, Linux, Windows])
    let cases: [(&str, (u64, u64), [bool; 5]); 6] = [
        ("exact", (10, 20), [false, true, false, false, false]),
        ("partial-left", (5, 15), [false, true, true, true, false]),
        (
            "partial-right",
            (15, 25),
            [false, true, false, false, false],
        ),
        ("contained", (12, 18), [false, true, false, false, false]),
        ("containing", (5, 25), [false, true, true, true, false]),
        (
            "same-start-longer",
            (10, 25),
            [false, true, false, true, false],
        ),
    ];
    for (name, seg, wins) in cases {
        let overlap = seg.1.min(20) - seg.0.max(10);
        let fresh = (seg.1 - seg.0) - overlap;
        for (policy, new_wins) in OverlapPolicy::ALL.into_iter().zip(wins) {
            // Expected view: new bytes outside [10,20) always, inside per the policy.
            let expect: String = (5..25u64)
                .map(|o| {
                    let in_seg = o >= seg.0 && o < seg.1;
                    let in_frag = (10..20).contains(&o);
                    match (in_seg, in_frag) {
                        (true, true) if new_wins => 'n',
                        (_, true) => 'h',
                        (true, false) => 'n',
                        (false, false) => '.',
                    }
                })
                .collect();
            let (out, view) = fragment_case(policy, seg, false);
            assert_eq!(view, expect, "{name} {policy}");
            assert!(
                out.conflict,
                "{name} {policy}: differing bytes must conflict"
            );
            assert_eq!(out.overlap_bytes as u64, overlap, "{name} {policy}");
            assert_eq!(out.new_bytes as u64, fresh, "{name} {policy}");
            assert_eq!(out.advanced, 0);

            // Same bytes: no conflict, same counts.
            let (out, view) = fragment_case(policy, seg, true);
            assert!(!out.conflict, "{name} {policy}");
            assert_eq!(out.overlap_bytes as u64, overlap);
            assert_eq!(view.replace('n', "h"), expect.replace('n', "h"));
        }
    }
}

/// One segment over two fragments: each fragment is decided on its own start.
#[test]
fn policy_decided_per_fragment() {
    for policy in OverlapPolicy::ALL {
        let mut p = pool(1, 64);
        let mut sb = StreamBuf::new(4, policy);
        sb.write(&mut p, 10, &[b'a'; 10]);
        sb.write(&mut p, 30, &[b'c'; 10]);
        let o = sb.write(&mut p, 15, &[b'x'; 20]);
        assert!(o.conflict);
        assert_eq!((o.overlap_bytes, o.new_bytes), (10, 10));
        assert_eq!(frags(&sb), vec![(10, 40)]);
        let got = sb.peek_at(&p, 10, 30).expect("fragment");
        // First/Windows keep [30,35) as 'c'; Bsd/Linux/Last let the segment that starts
        // before that fragment win there, and only Last overwrites [15,20).
        let want: Vec<u8> = match policy {
            Last => [&[b'a'; 5][..], &[b'x'; 20], &[b'c'; 5]].concat(),
            First | Windows => [&[b'a'; 10][..], &[b'x'; 10], &[b'c'; 10]].concat(),
            _ => [&[b'a'; 10][..], &[b'x'; 15], &[b'c'; 5]].concat(),
        };
        assert_eq!(got, &want[..], "{policy}");
    }
}

/// Suricata's eve-overlap-payload-01: "GOOD" at rel. seq 1, then "EVIL" at the same seq.
#[test]
fn exact_in_order_overlap_good_evil() {
    for policy in OverlapPolicy::ALL {
        let mut p = pool(1, 64);
        let mut sb = StreamBuf::new(4, policy);
        sb.write(&mut p, 0, b"GOOD");
        let o = sb.write(&mut p, 0, b"EVIL");
        assert!(o.conflict);
        assert_eq!((o.overlap_bytes, o.new_bytes, o.advanced), (4, 0, 0));
        let want: &[u8] = if policy == Last { b"EVIL" } else { b"GOOD" };
        assert_eq!(sb.peek(&p), want, "{policy}");
        // A faithful retransmission of whatever is held does not conflict.
        let o = sb.write(&mut p, 0, want);
        assert!(!o.conflict);
        assert_eq!(o.overlap_bytes, 4);
    }
}

/// Suricata's eve-overlap-payload-04: "GOOD", then "XXX" one byte later.
#[test]
fn partial_in_order_overlap_good_xxx() {
    for policy in OverlapPolicy::ALL {
        let mut p = pool(1, 64);
        let mut sb = StreamBuf::new(4, policy);
        sb.write(&mut p, 0, b"GOOD");
        let o = sb.write(&mut p, 1, b"XXX");
        assert!(o.conflict);
        assert_eq!((o.overlap_bytes, o.new_bytes), (3, 0));
        let want: &[u8] = if policy == Last { b"GXXX" } else { b"GOOD" };
        assert_eq!(sb.peek(&p), want, "{policy}");
        // Overlapping to the right: the overlapped part is compared, the rest appended.
        let o = sb.write(&mut p, 2, if policy == Last { b"XXYZ" } else { b"ODYZ" });
        assert!(!o.conflict);
        assert_eq!((o.overlap_bytes, o.new_bytes, o.advanced), (2, 2, 2));
    }
}

/// The same two scenarios while offset 0 is still missing: the bytes sit in a fragment,
/// where the start-based policies apply.
#[test]
fn good_evil_as_fragment() {
    for policy in OverlapPolicy::ALL {
        let mut p = pool(1, 64);
        let mut sb = StreamBuf::new(4, policy);
        sb.write(&mut p, 1, b"GOOD");
        assert!(sb.write(&mut p, 1, b"EVIL").conflict);
        assert!(sb.write(&mut p, 2, b"XXX").conflict);
        sb.write(&mut p, 0, b"_");
        let want: &[u8] = match policy {
            // EVIL replaced GOOD, then XXX replaced VIL.
            Last => b"_EXXX",
            // Exact (same start, same end) and contained overlaps keep the held bytes.
            _ => b"_GOOD",
        };
        assert_eq!(sb.peek(&p), want, "{policy}");
    }
}

#[test]
fn overlap_with_consumed_bytes() {
    for policy in [First, Last, Linux] {
        let mut p = pool(1, 64);
        let mut sb = StreamBuf::new(4, policy);
        sb.write(&mut p, 0, b"GOOD");
        assert_eq!(sb.consume_all(), 4);
        let o = sb.write(&mut p, 0, b"EVIL!");
        assert!(o.conflict, "{policy}");
        assert_eq!(
            (o.overlap_bytes, o.new_bytes, o.advanced, o.below_base),
            (4, 1, 1, 0)
        );
        let want: &[u8] = if policy == Last { b"EVIL!" } else { b"GOOD!" };
        assert_eq!(sb.peek_at(&p, 0, 5), Some(want));
        assert_eq!(sb.peek(&p), b"!");
    }
}

// ---- room: compaction, overwrite, window ----

#[test]
fn compaction_keeps_data_across_many_cycles() {
    let mut p = pool(1, 64);
    let mut sb = StreamBuf::new(4, First);
    let total = 20_000usize;
    let stream = pattern(0, total);
    let mut written = 0usize;
    let mut read = Vec::new();
    let mut step = 0usize;
    while read.len() < total {
        // Write 1..=40 bytes, read a varying part of what is there.
        let n = (step * 7 % 40 + 1).min(total - written);
        if n > 0 {
            assert_eq!(
                sb.unread_overwrite_needed(p.region_size(), written as u64, n as u32),
                (sb.unread_len() + n).saturating_sub(64) as u64
            );
            let o = sb.write(&mut p, written as u64, &stream[written..written + n]);
            assert_eq!(o.overwritten_unread, 0, "step {step}");
            assert_eq!(o.advanced as usize, n);
            written += n;
        }
        let unread = sb.peek(&p);
        let take = if n == 0 {
            unread.len()
        } else {
            (unread.len() * (step % 3 + 1)).div_ceil(3)
        };
        read.extend_from_slice(&unread[..take]);
        assert_eq!(sb.consume(take), take);
        // Keep the unread part small enough that the next write fits without discarding.
        if sb.unread_len() > 24 {
            let rest = sb.peek(&p).to_vec();
            read.extend_from_slice(&rest);
            sb.consume_all();
        }
        assert!(sb.base() <= sb.read_offset() && sb.read_offset() <= sb.contig_end());
        step += 1;
    }
    assert_eq!(read, stream);
    assert_eq!(sb.lost_unread(), 0);
    assert_eq!(p.in_use(), 1);
}

#[test]
fn unread_overwrite() {
    let mut p = pool(1, 16);
    let mut sb = StreamBuf::new(4, First);
    let data = pattern(0, 40);
    sb.write(&mut p, 0, &data[..10]);
    // 10 unread + 10 new = 20 > 16: the 4 oldest unread bytes must go.
    assert_eq!(sb.unread_overwrite_needed(16, 10, 10), 4);
    // After reading 3 of them, only 1.
    assert_eq!(sb.consume(3), 3);
    assert_eq!(sb.unread_overwrite_needed(16, 10, 10), 1);
    // Nothing to discard for what fits after compaction.
    assert_eq!(sb.unread_overwrite_needed(16, 10, 9), 0);
    let o = sb.write(&mut p, 10, &data[10..20]);
    assert_eq!(o.overwritten_unread, 1);
    assert_eq!(o.advanced, 10);
    assert_eq!(sb.lost_unread(), 1);
    assert_eq!(sb.read_offset(), 4);
    assert_eq!(sb.base(), 4);
    assert_eq!(sb.peek(&p), &data[4..20]);
    // A segment as big as the region replaces everything unread.
    let o = sb.write(&mut p, 20, &data[20..36]);
    assert_eq!(o.overwritten_unread, 16);
    assert_eq!(sb.lost_unread(), 17);
    assert_eq!(sb.peek(&p), &data[20..36]);
    // Retransmitted bytes below base are ignored, not compared.
    let o = sb.write(&mut p, 18, b"XXXXX");
    assert_eq!((o.below_base, o.overlap_bytes, o.conflict), (2, 3, true));
}

#[test]
fn out_of_window_after_a_hole() {
    let mut p = pool(1, 16);
    let mut sb = StreamBuf::new(4, First);
    let data = pattern(0, 64);
    sb.write(&mut p, 0, &data[..10]);
    // Hole at [10, 20). The limit is contig_end + 16 = 26: [20, 26) is stored, and it needs
    // every unread byte gone.
    assert_eq!(sb.unread_overwrite_needed(16, 20, 20), 10);
    let o = sb.write(&mut p, 20, &data[20..40]);
    assert!(o.out_of_window);
    assert_eq!((o.new_bytes, o.overwritten_unread, o.advanced), (6, 10, 0));
    assert_eq!(frags(&sb), vec![(20, 26)]);
    assert_eq!(sb.peek(&p), b"");
    assert_eq!(sb.read_offset(), 10);
    assert_eq!(sb.peek_at(&p, 20, 10), Some(&data[20..26]));
    // Entirely beyond the window: nothing stored, nothing discarded.
    let o = sb.write(&mut p, 26, &data[26..30]);
    assert_eq!(
        o,
        WriteOutcome {
            out_of_window: true,
            ..Default::default()
        }
    );
    assert_eq!(sb.unread_overwrite_needed(16, 26, 4), 0);
    // Filling the hole brings everything in.
    let o = sb.write(&mut p, 10, &data[10..20]);
    assert_eq!(o.advanced, 16);
    assert_eq!(sb.peek(&p), &data[10..26]);
}

// ---- gaps ----

#[test]
fn skip_without_fragments() {
    let mut p = pool(1, 32);
    let mut sb = StreamBuf::new(4, First);
    // No region yet: pure offset tracking.
    assert_eq!(sb.skip_to(3), 3);
    assert_eq!((sb.read_offset(), sb.contig_end(), sb.missed()), (3, 3, 3));
    assert!(!sb.has_region());
    sb.write(&mut p, 3, b"abcde");
    sb.consume_all();
    assert_eq!(sb.skip_to(5), 0, "already past");
    assert_eq!(sb.skip_to(12), 4);
    assert_eq!(sb.missed(), 7);
    assert_eq!((sb.base(), sb.read_offset(), sb.contig_end()), (12, 12, 12));
    assert_eq!(sb.gaps().count(), 0);
    assert!(sb.received_before(9, 1), "acknowledged bytes count as seen");
    // Late bytes of the gap are dropped.
    let o = sb.write(&mut p, 9, b"zzz");
    assert_eq!((o.new_bytes, o.overlap_bytes, o.advanced), (0, 0, 0));
    assert_eq!(sb.peek_at(&p, 9, 3), None);
    sb.write(&mut p, 12, b"fgh");
    assert_eq!(sb.peek(&p), b"fgh");
}

#[test]
fn skip_keeps_unread_bytes_before_the_gap() {
    let mut p = pool(1, 64);
    let mut sb = StreamBuf::new(4, First);
    sb.write(&mut p, 0, b"01234");
    assert_eq!(sb.skip_to(10), 5);
    assert_eq!(sb.gaps().collect::<Vec<_>>(), vec![(5, 10)]);
    assert_eq!(sb.peek(&p), b"01234");
    sb.write(&mut p, 10, b"ABCDE");
    assert_eq!(sb.peek(&p), b"01234", "peek stops at the gap");
    assert_eq!(sb.unread_len(), 10);
    assert_eq!(sb.peek_at(&p, 3, 10), Some(&b"34"[..]));
    assert_eq!(sb.peek_at(&p, 7, 1), None);
    assert_eq!(sb.peek_at(&p, 10, 10), Some(&b"ABCDE"[..]));
    // Consuming up to the gap jumps the cursor over it.
    assert_eq!(sb.consume(5), 5);
    assert_eq!((sb.read_offset(), sb.base()), (10, 10));
    assert_eq!(sb.gaps().count(), 0);
    assert_eq!(sb.peek(&p), b"ABCDE");
    // consume() crosses gaps in one call too.
    sb.write(&mut p, 15, b"FG");
    sb.skip_to(20);
    sb.write(&mut p, 20, b"HIJ");
    assert_eq!(sb.peek(&p), b"ABCDEFG");
    assert_eq!(sb.consume(9), 9);
    assert_eq!(sb.peek(&p), b"J");
    assert_eq!(sb.missed(), 8);
}

#[test]
fn skip_over_fragments() {
    let mut p = pool(1, 64);
    let mut sb = StreamBuf::new(4, First);
    let data = pattern(0, 40);
    sb.write(&mut p, 0, &data[0..5]);
    sb.write(&mut p, 8, &data[8..10]);
    sb.write(&mut p, 12, &data[12..14]);
    sb.write(&mut p, 20, &data[20..25]);
    // [12,14) starts below 13: it becomes contiguous, contig_end goes to 14.
    assert_eq!(sb.skip_to(13), 3 + 2);
    assert_eq!(sb.contig_end(), 14);
    assert_eq!(frags(&sb), vec![(20, 25)]);
    assert_eq!(sb.gaps().collect::<Vec<_>>(), vec![(5, 8), (10, 12)]);
    assert_eq!(sb.unread_len(), 9);
    assert_eq!(sb.peek(&p), &data[0..5]);
    sb.consume(5);
    assert_eq!(sb.peek(&p), &data[8..10]);
    assert_eq!(sb.consume_all(), 4);
    assert_eq!(sb.read_offset(), 14);
    // End of connection: deliver the last fragment.
    assert_eq!(sb.skip_all_holes(), 6);
    assert_eq!(sb.peek(&p), &data[20..25]);
    assert_eq!(sb.missed(), 11);
    assert_eq!(sb.skip_all_holes(), 0);
    // Skipping exactly to a fragment's start absorbs it.
    sb.write(&mut p, 30, &data[30..32]);
    assert_eq!(sb.skip_to(30), 5);
    assert_eq!(sb.contig_end(), 32);
}

#[test]
fn gap_slots_overflow_discards_oldest_unread() {
    let mut p = pool(1, 256);
    let mut sb = StreamBuf::new(4, First);
    // Byte, gap, byte, gap, ...: each gap sits after an unread byte.
    for i in 0..(MAX_GAPS as u64 + 2) {
        sb.write(&mut p, 2 * i, &[b'0' + i as u8]);
        sb.skip_to(2 * i + 2);
    }
    assert_eq!(sb.gaps().count(), MAX_GAPS);
    // Two gaps too many: the two oldest unread bytes were given up.
    assert_eq!(sb.lost_unread(), 2);
    assert_eq!(sb.read_offset(), 4);
    assert_eq!(sb.missed(), MAX_GAPS as u64 + 2);
    let mut seen = Vec::new();
    while sb.unread_len() > 0 {
        let chunk = sb.peek(&p).to_vec();
        assert_eq!(chunk.len(), 1);
        seen.extend_from_slice(&chunk);
        sb.consume(1);
    }
    let want: Vec<u8> = (2..MAX_GAPS as u8 + 2).map(|i| b'0' + i).collect();
    assert_eq!(seen, want);
}

#[test]
fn overwrite_jumps_over_gaps() {
    let mut p = pool(1, 16);
    let mut sb = StreamBuf::new(4, First);
    sb.write(&mut p, 0, b"abcd");
    sb.skip_to(100);
    // The gap reaches far past the region; peek still shows the 4 bytes.
    assert_eq!(sb.peek(&p), b"abcd");
    // 16 bytes at 100 need the region to start at 100: "abcd" is lost, the cursor is past
    // the gap.
    assert_eq!(sb.unread_overwrite_needed(16, 100, 16), 4);
    let o = sb.write(&mut p, 100, &pattern(100, 16));
    assert_eq!(o.overwritten_unread, 4);
    assert_eq!(sb.peek(&p), &pattern(100, 16)[..]);
    assert_eq!(sb.gaps().count(), 0);
}

#[test]
fn received_before() {
    let mut p = pool(1, 64);
    let mut sb = StreamBuf::new(4, First);
    assert!(!sb.received_before(0, 1));
    sb.write(&mut p, 0, b"0123");
    sb.write(&mut p, 10, b"abcd");
    assert!(sb.received_before(0, 1));
    assert!(sb.received_before(3, 5));
    assert!(!sb.received_before(4, 6));
    assert!(sb.received_before(4, 7));
    assert!(sb.received_before(13, 10));
    assert!(!sb.received_before(14, 10));
    assert!(!sb.received_before(0, 0));
    // Consumed and compacted away: still "received before".
    sb.consume_all();
    sb.write(&mut p, 4, &pattern(4, 6));
    sb.consume_all();
    sb.write(&mut p, 14, &pattern(14, 60));
    assert!(sb.base() > 0);
    assert!(sb.received_before(0, 1));
}

#[test]
fn peek_at_inside_fragments() {
    let mut p = pool(1, 64);
    let mut sb = StreamBuf::new(4, First);
    sb.write(&mut p, 10, b"0123456789");
    sb.write(&mut p, 30, b"xyz");
    assert_eq!(sb.peek_at(&p, 12, 5), Some(&b"23456"[..]));
    assert_eq!(sb.peek_at(&p, 15, 100), Some(&b"56789"[..]));
    assert_eq!(sb.peek_at(&p, 20, 1), None);
    assert_eq!(sb.peek_at(&p, 9, 5), None);
    assert_eq!(sb.peek_at(&p, 10, 0), None);
    assert_eq!(sb.peek_at(&p, 31, 9), Some(&b"yz"[..]));
    assert_eq!(sb.peek_at(&p, u64::MAX, 9), None);
    assert_eq!(StreamBuf::new(4, First).peek_at(&p, 0, 1), None);
}

#[test]
fn release_and_reset() {
    let mut p = pool(1, 32);
    let mut sb = StreamBuf::new(4, Last);
    sb.write(&mut p, 0, b"hello");
    sb.write(&mut p, 10, b"frag");
    sb.release(&mut p);
    assert_eq!(p.in_use(), 0);
    assert!(!sb.has_region());
    assert_eq!(sb.peek(&p), b"");
    assert_eq!(sb.unread_len(), 0);
    assert_eq!(frags(&sb), vec![]);
    assert_eq!(sb.contig_end(), 5, "offsets survive");
    assert_eq!(sb.lost_unread(), 0);
    sb.release(&mut p);
    assert_eq!(p.invalid_releases(), 0, "second release is a no-op");
    // Buffering back on: a new region, starting at the cursor.
    sb.write(&mut p, 5, b" world");
    assert_eq!(sb.peek(&p), b" world");
    assert_eq!(sb.peek_at(&p, 0, 5), None);
    sb.skip_to(20);
    sb.reset();
    assert!(sb.has_region(), "reset keeps the region");
    assert_eq!((sb.contig_end(), sb.missed(), sb.unread_len()), (0, 0, 0));
    assert_eq!(sb.policy(), Last);
    assert_eq!(sb.peek(&p), b"");
    sb.write(&mut p, 0, b"new");
    assert_eq!(sb.peek(&p), b"new");
    assert_eq!(p.in_use(), 1);
    sb.set_policy(Bsd);
    assert_eq!(sb.policy(), Bsd);
}

#[test]
fn huge_offsets_do_not_panic() {
    let mut p = pool(1, 32);
    let mut sb = StreamBuf::new(4, First);
    let o = sb.write(&mut p, u64::MAX - 2, b"abcdef");
    assert!(o.out_of_window);
    assert_eq!(o.new_bytes, 0);
    assert!(!sb.received_before(u64::MAX - 1, 10));
    assert_eq!(sb.unread_overwrite_needed(32, u64::MAX, u32::MAX), 0);
    assert_eq!(sb.skip_to(u64::MAX), u64::MAX);
    assert_eq!(sb.write(&mut p, u64::MAX - 1, b"xy").advanced, 0);
    assert_eq!(sb.consume(usize::MAX), 0);
}

/// The metadata is per side of every tracked flow: keep it small and heap-free.
#[test]
fn metadata_size() {
    let size = core::mem::size_of::<StreamBuf>();
    assert!(size <= 480, "StreamBuf grew to {size} bytes");
}
