//! Randomized comparison of [`StreamBuf`] against a naive byte-map model.
//!
//! The model keeps every held byte in a `BTreeMap<u64, u8>` and applies the documented rules
//! one byte at a time (see the module docs of `buffer.rs`): clipping, hole limit, lazy
//! compaction, discarding the oldest unread bytes, per-byte overlap resolution, gaps. After
//! every operation the two must agree on the unread bytes, positional reads, fragments, gaps,
//! cursors and counters, and every write must report the same outcome.

use std::collections::BTreeMap;

use super::*;
use crate::stream::overlap::OverlapPolicy;

/// xorshift64* with a fixed seed: reproducible, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Debug)]
struct Model {
    r: u64,
    max_holes: usize,
    policy: OverlapPolicy,
    has_region: bool,
    origin: u64,
    base: u64,
    read: u64,
    contig_end: u64,
    held: BTreeMap<u64, u8>,
    missed: u64,
    lost: u64,
}

impl Model {
    fn new(r: u64, max_holes: usize, policy: OverlapPolicy) -> Model {
        Model {
            r,
            max_holes,
            policy,
            has_region: false,
            origin: 0,
            base: 0,
            read: 0,
            contig_end: 0,
            held: BTreeMap::new(),
            missed: 0,
            lost: 0,
        }
    }

    fn is_held(&self, o: u64) -> bool {
        self.held.contains_key(&o)
    }

    /// Maximal runs of held bytes at or above `from`.
    fn runs_from(&self, from: u64) -> Vec<(u64, u64)> {
        let mut runs: Vec<(u64, u64)> = Vec::new();
        for &o in self.held.range(from..).map(|(o, _)| o) {
            match runs.last_mut() {
                Some(last) if last.1 == o => last.1 += 1,
                _ => runs.push((o, o + 1)),
            }
        }
        runs
    }

    fn fragments(&self) -> Vec<(u64, u64)> {
        self.runs_from(self.contig_end)
    }

    /// Maximal runs of missing bytes in `[read, contig_end)`.
    fn gaps(&self) -> Vec<(u64, u64)> {
        let mut gaps: Vec<(u64, u64)> = Vec::new();
        for o in self.read..self.contig_end {
            if !self.is_held(o) {
                match gaps.last_mut() {
                    Some(last) if last.1 == o => last.1 += 1,
                    _ => gaps.push((o, o + 1)),
                }
            }
        }
        gaps
    }

    fn raise_base(&mut self, to: u64) {
        self.base = to;
        self.held = self.held.split_off(&to);
    }

    /// A cursor on a missing byte jumps to the next held byte; consumed bytes before it go.
    fn normalize(&mut self) {
        if self.read < self.contig_end && !self.is_held(self.read) {
            while self.read < self.contig_end && !self.is_held(self.read) {
                self.read += 1;
            }
            self.raise_base(self.read);
        }
    }

    fn unread_len(&self) -> usize {
        self.held.range(self.read..self.contig_end).count()
    }

    fn peek(&self) -> Vec<u8> {
        let mut v = Vec::new();
        let mut o = self.read;
        while o < self.contig_end {
            match self.held.get(&o) {
                Some(&b) => v.push(b),
                None => break,
            }
            o += 1;
        }
        v
    }

    fn peek_at(&self, offset: u64, len: usize) -> Option<Vec<u8>> {
        if !self.has_region || len == 0 {
            return None;
        }
        let mut v = Vec::new();
        let mut o = offset;
        while v.len() < len {
            match self.held.get(&o) {
                Some(&b) => v.push(b),
                None => break,
            }
            o += 1;
        }
        if v.is_empty() { None } else { Some(v) }
    }

    fn received_before(&self, offset: u64, len: u32) -> bool {
        (offset..offset + u64::from(len)).any(|o| o < self.contig_end || self.is_held(o))
    }

    /// Returns the expected outcome, and the expected `unread_overwrite_needed` answer.
    fn write(&mut self, offset: u64, data: &[u8], pool_has_free: bool) -> (WriteOutcome, u64) {
        let mut out = WriteOutcome::default();
        if data.is_empty() {
            return (out, 0);
        }
        if !self.has_region {
            if !pool_has_free {
                out.no_buffer = true;
                return (out, 0);
            }
            self.has_region = true;
            self.origin = self.read;
        }
        let end = offset + data.len() as u64;
        let lo = offset.max(self.base);
        let limit = self.contig_end + self.r;
        let e = end.min(limit);
        out.out_of_window = end > limit;
        let mut store = lo < e;
        if store {
            let from = lo.max(self.contig_end);
            if from > self.contig_end {
                let frags = self.fragments();
                let touches = frags.iter().any(|&(s, fe)| s <= e && fe >= from);
                if !touches && frags.len() >= self.max_holes {
                    out.too_many_holes = true;
                    store = false;
                }
            }
        }
        let mut needed = 0;
        if store && e > self.contig_end && e > self.origin + self.r {
            if e > self.read + self.r {
                let x = e - self.r;
                let mut lost = 0;
                while self.read < x {
                    if self.is_held(self.read) {
                        lost += 1;
                    }
                    self.read += 1;
                }
                self.normalize();
                needed = lost;
                out.overwritten_unread = lost;
                self.lost += lost;
            }
            self.origin = self.read;
            self.raise_base(self.read);
        }
        let lo = offset.max(self.base);
        out.below_base = (lo.min(end) - offset) as u32;
        if !store || lo >= e {
            return (out, needed);
        }
        let frags = self.fragments();
        for b in lo..e {
            let v = data[(b - offset) as usize];
            if b < self.contig_end {
                if let Some(h) = self.held.get_mut(&b) {
                    out.overlap_bytes += 1;
                    if *h != v {
                        out.conflict = true;
                        if self.policy == OverlapPolicy::Last {
                            *h = v;
                        }
                    }
                }
                // A gap byte: dropped.
            } else if let Some(&h) = self.held.get(&b) {
                out.overlap_bytes += 1;
                if h != v {
                    out.conflict = true;
                    let &(fs, fe) = frags
                        .iter()
                        .find(|&&(s, fe)| s <= b && b < fe)
                        .expect("held byte above contig_end is in a fragment");
                    // Written out again here (not `OverlapPolicy::new_wins_fragment`) so
                    // that the model does not share the code it checks.
                    let new_wins = match self.policy {
                        OverlapPolicy::First | OverlapPolicy::Windows => false,
                        OverlapPolicy::Last => true,
                        OverlapPolicy::Bsd => offset < fs,
                        OverlapPolicy::Linux => offset < fs || (offset == fs && end > fe),
                    };
                    if new_wins {
                        self.held.insert(b, v);
                    }
                }
            } else {
                self.held.insert(b, v);
                out.new_bytes += 1;
            }
        }
        let old = self.contig_end;
        while self.is_held(self.contig_end) {
            self.contig_end += 1;
        }
        out.advanced = (self.contig_end - old) as u32;
        (out, needed)
    }

    fn consume(&mut self, n: usize) -> usize {
        let mut done = 0;
        while done < n && self.read < self.contig_end {
            debug_assert!(self.is_held(self.read));
            self.read += 1;
            done += 1;
            self.normalize();
        }
        done
    }

    fn skip_to(&mut self, offset: u64) -> u64 {
        if offset <= self.contig_end {
            return 0;
        }
        let missed = (self.contig_end..offset)
            .filter(|&o| !self.is_held(o))
            .count() as u64;
        self.contig_end = offset;
        while self.is_held(self.contig_end) {
            self.contig_end += 1;
        }
        self.missed += missed;
        self.normalize();
        loop {
            let gaps = self.gaps();
            if gaps.len() <= MAX_GAPS {
                break;
            }
            let (s, e) = gaps[0];
            self.lost += self.held.range(self.read..s).count() as u64;
            self.read = e;
            self.raise_base(e);
        }
        missed
    }

    fn skip_all_holes(&mut self) -> u64 {
        match self.fragments().last() {
            Some(&(s, _)) => self.skip_to(s),
            None => 0,
        }
    }

    fn release(&mut self) {
        self.has_region = false;
        self.held.clear();
        self.read = self.contig_end;
        self.base = self.contig_end;
        self.origin = self.contig_end;
    }
}

fn check(sb: &StreamBuf, m: &Model, pool: &BufferPool, rng: &mut Rng, ctx: &str) {
    assert_eq!(sb.has_region(), m.has_region, "{ctx}: region");
    assert_eq!(sb.contig_end(), m.contig_end, "{ctx}: contig_end");
    assert_eq!(sb.read_offset(), m.read, "{ctx}: read");
    assert_eq!(sb.base(), m.base, "{ctx}: base");
    assert_eq!(sb.missed(), m.missed, "{ctx}: missed");
    assert_eq!(sb.lost_unread(), m.lost, "{ctx}: lost_unread");
    assert_eq!(sb.unread_len(), m.unread_len(), "{ctx}: unread_len");
    assert_eq!(
        sb.fragments().collect::<Vec<_>>(),
        m.fragments(),
        "{ctx}: fragments"
    );
    assert_eq!(sb.gaps().collect::<Vec<_>>(), m.gaps(), "{ctx}: gaps");
    assert!(sb.fragments().count() <= m.max_holes, "{ctx}: hole limit");
    assert_eq!(sb.peek(pool), &m.peek()[..], "{ctx}: peek");
    // Positional reads around everything that is held, and a bit outside.
    let lo = m.base.saturating_sub(8);
    let hi = m.fragments().last().map_or(m.contig_end, |f| f.1) + 8;
    for _ in 0..4 {
        let off = lo + rng.below(hi - lo + 1);
        let len = rng.below(2 * m.r) as usize;
        assert_eq!(
            sb.peek_at(pool, off, len).map(<[u8]>::to_vec),
            m.peek_at(off, len),
            "{ctx}: peek_at({off}, {len})"
        );
    }
}

/// Parameters of one randomized run.
struct Run {
    seed: u64,
    policy: OverlapPolicy,
    region: usize,
    max_holes: usize,
    ops: usize,
    /// Percentage of segments carrying altered bytes.
    evil: u64,
    /// Relative weights of: write, consume, consume_all, skip_to, skip_all_holes, release.
    mix: [u64; 6],
}

const MIX: [u64; 6] = [70, 15, 7, 4, 2, 2];
/// Rare reads, frequent skips: many pending gaps (slot overflow).
const SKIPPY: [u64; 6] = [55, 3, 1, 38, 2, 1];

/// Three buffers share a pool of two regions, so `no_buffer` and region reuse are exercised.
/// Returns (writes that reported a conflict, bytes consumed).
fn run(cfg: &Run) -> (u64, u64) {
    let mut rng = Rng::new(cfg.seed);
    let mut pool = BufferPool::new(2, cfg.region).expect("pool");
    let r = cfg.region as u64;
    let truth: Vec<u8> = (0..1 << 16).map(|_| rng.next() as u8).collect();
    let mut sides: Vec<(StreamBuf, Model)> = (0..3)
        .map(|_| {
            let m = Model::new(r, cfg.max_holes, cfg.policy);
            (StreamBuf::new(cfg.max_holes, cfg.policy), m)
        })
        .collect();
    let mut conflicts = 0u64;
    let mut consumed_total = 0u64;
    // overwritten, too_many_holes, out_of_window, no_buffer, below_base, gaps, full gap slots
    let mut tally = [0u64; 7];
    for step in 0..cfg.ops {
        let which = match rng.below(10) {
            0..=5 => 0,
            6..=8 => 1,
            _ => 2,
        };
        let pool_free = pool.in_use() < pool.capacity();
        let (sb, m) = &mut sides[which];
        let ctx = format!("seed {} {} step {step} side {which}", cfg.seed, cfg.policy);
        let mut pick = rng.below(cfg.mix.iter().sum());
        let op = cfg
            .mix
            .iter()
            .position(|&w| {
                pick < w || {
                    pick -= w;
                    false
                }
            })
            .unwrap_or(0);
        if std::env::var_os("MODEL_TRACE").is_some() {
            eprintln!("{ctx}: op {op} sb={sb:?}");
        }
        match op {
            0 => {
                // A segment near the receive point: behind (retransmission), at it, or
                // ahead (reordering), sometimes far ahead, sometimes bigger than the region.
                let anchor = m.contig_end;
                // Skip-heavy runs use short segments so that many gaps fit in the region.
                let half = 1 + rng.below(if cfg.mix == SKIPPY { 8 } else { r / 2 });
                let (offset, len) = match rng.below(20) {
                    // Retransmission (possibly reaching into new data).
                    0..=4 => (anchor.saturating_sub(rng.below(2 * r)), half),
                    // The next in-order segment.
                    5..=9 => (anchor, half),
                    // Reordered: a little ahead, often tiny (many small holes).
                    10..=15 => (
                        anchor + 1 + rng.below(r),
                        if rng.chance(50) {
                            1 + rng.below(4)
                        } else {
                            half
                        },
                    ),
                    // Far ahead, or bigger than the region.
                    16 => (anchor + rng.below(3 * r), half),
                    17 => (anchor.saturating_sub(rng.below(r)), r + rng.below(r)),
                    18 => (anchor + rng.below(r), r + rng.below(2 * r)),
                    _ => (anchor.saturating_sub(rng.below(r)), 0),
                };
                let len = len as usize;
                // The sender's byte at stream offset o is always truth[o % len].
                let mut data: Vec<u8> = (offset..offset + len as u64)
                    .map(|o| truth[o as usize % truth.len()])
                    .collect();
                if len > 0 && rng.chance(cfg.evil) {
                    for _ in 0..1 + rng.below(3) {
                        let i = rng.below(len as u64) as usize;
                        data[i] ^= 1 + rng.below(255) as u8;
                    }
                }
                let rb = sb.received_before(offset, len as u32);
                assert_eq!(
                    rb,
                    m.received_before(offset, len as u32),
                    "{ctx}: received_before"
                );
                let needed = sb.unread_overwrite_needed(cfg.region, offset, len as u32);
                let got = sb.write(&mut pool, offset, &data);
                let (want, want_needed) = m.write(offset, &data, pool_free);
                assert_eq!(got, want, "{ctx}: write({offset}, {len})");
                if !got.no_buffer {
                    assert_eq!(needed, want_needed, "{ctx}: unread_overwrite_needed");
                }
                assert_eq!(needed, got.overwritten_unread, "{ctx}: prediction");
                conflicts += u64::from(got.conflict);
                tally[0] += u64::from(got.overwritten_unread > 0);
                tally[1] += u64::from(got.too_many_holes);
                tally[2] += u64::from(got.out_of_window);
                tally[3] += u64::from(got.no_buffer);
                tally[4] += u64::from(got.below_base > 0);
            }
            1 => {
                let n = rng.below(r) as usize;
                let got = sb.consume(n);
                assert_eq!(got, m.consume(n), "{ctx}: consume({n})");
                consumed_total += got as u64;
            }
            2 => {
                let want = m.unread_len();
                let got = sb.consume_all();
                assert_eq!(got, want, "{ctx}: consume_all");
                m.consume(usize::MAX);
                consumed_total += got as u64;
            }
            3 => {
                let to = m.contig_end + rng.below(if cfg.mix == SKIPPY { 6 } else { r });
                let got = sb.skip_to(to);
                assert_eq!(got, m.skip_to(to), "{ctx}: skip_to({to})");
                tally[5] += u64::from(sb.gaps().count() > 0);
                tally[6] += u64::from(sb.gaps().count() == MAX_GAPS);
            }
            4 => {
                assert_eq!(
                    sb.skip_all_holes(),
                    m.skip_all_holes(),
                    "{ctx}: skip_all_holes"
                );
            }
            _ => {
                sb.release(&mut pool);
                m.release();
            }
        }
        check(sb, m, &pool, &mut rng, &ctx);
    }
    // Every interesting path was taken at least once in a long run.
    if cfg.ops >= 10_000 {
        assert!(
            tally[..6].iter().all(|&t| t > 0),
            "paths not exercised: {tally:?}"
        );
    }
    if cfg.mix == SKIPPY {
        assert!(tally[6] > 0, "gap slots never filled: {tally:?}");
    }
    (conflicts, consumed_total)
}

#[test]
fn randomized_against_model_all_policies() {
    for (i, policy) in OverlapPolicy::ALL.into_iter().enumerate() {
        for seed in 1..=2u64 {
            let (conflicts, consumed) = run(&Run {
                seed: seed * 1000 + i as u64,
                policy,
                region: 64,
                max_holes: 4,
                ops: 20_000,
                evil: 10,
                mix: MIX,
            });
            assert!(conflicts > 0, "{policy}: altered segments must conflict");
            assert!(
                consumed > 10_000,
                "{policy}: stream must progress ({consumed})"
            );
        }
    }
}

#[test]
fn randomized_other_shapes() {
    for (seed, region, max_holes) in [(7u64, 16usize, 1usize), (8, 200, MAX_FRAGMENTS), (9, 33, 0)]
    {
        for policy in [
            OverlapPolicy::First,
            OverlapPolicy::Last,
            OverlapPolicy::Linux,
        ] {
            run(&Run {
                seed,
                policy,
                region,
                max_holes,
                ops: 5_000,
                evil: 20,
                mix: MIX,
            });
        }
    }
}

/// Many skips between reads: gap slots fill up and the oldest unread bytes are given up.
#[test]
fn randomized_many_gaps() {
    for (seed, policy) in [(11u64, OverlapPolicy::First), (12, OverlapPolicy::Bsd)] {
        run(&Run {
            seed,
            policy,
            region: 512,
            max_holes: 8,
            ops: 8_000,
            evil: 10,
            mix: SKIPPY,
        });
    }
}

/// Without altered segments there is never a conflict, and every byte read is the sender's.
#[test]
fn randomized_honest_sender_never_conflicts() {
    for policy in [OverlapPolicy::First, OverlapPolicy::Last] {
        let (conflicts, consumed) = run(&Run {
            seed: 42,
            policy,
            region: 64,
            max_holes: 4,
            ops: 20_000,
            evil: 0,
            mix: MIX,
        });
        assert_eq!(conflicts, 0, "{policy}");
        assert!(consumed > 10_000);
    }
}

/// The model itself is checked by the stream content: with an honest sender, what `peek`
/// shows is the sender's byte at every offset.
#[test]
fn honest_stream_content_is_the_truth() {
    let mut rng = Rng::new(99);
    let mut pool = BufferPool::new(1, 128).expect("pool");
    let truth: Vec<u8> = (0..200_000).map(|_| rng.next() as u8).collect();
    let mut sb = StreamBuf::new(8, OverlapPolicy::First);
    let mut out = Vec::new();
    let mut offsets = Vec::new();
    while (sb.contig_end() as usize) < truth.len() - 200 {
        let anchor = sb.contig_end();
        let offset = anchor.saturating_sub(rng.below(64)) + rng.below(100);
        let len = 1 + rng.below(60) as usize;
        let o = offset as usize;
        sb.write(&mut pool, offset, &truth[o..o + len]);
        if rng.chance(30) {
            sb.skip_to(sb.contig_end() + rng.below(3));
        }
        if rng.chance(60) {
            while sb.unread_len() > 0 {
                let at = sb.read_offset();
                let chunk = sb.peek(&pool).to_vec();
                offsets.push((at, chunk.len()));
                out.extend_from_slice(&chunk);
                sb.consume(chunk.len());
            }
        }
    }
    let mut pos = 0;
    for (at, n) in offsets {
        assert_eq!(&out[pos..pos + n], &truth[at as usize..at as usize + n]);
        pos += n;
    }
    assert!(pos > 50_000);
    assert!(sb.missed() > 0);
}
