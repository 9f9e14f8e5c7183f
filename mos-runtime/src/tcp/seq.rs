//! TCP sequence numbers: 32-bit values compared on a circle (RFC 793 §3.3, RFC 1982).
//!
//! A sequence number is only meaningful relative to another one: `a` is "before" `b` when
//! going forward from `a` reaches `b` in fewer than 2^31 steps. That order is not total (it is
//! not transitive over the whole circle), so [`SeqNum`] has no `Ord` impl; comparisons are
//! explicit methods ([`SeqNum::lt`], …) built on the signed distance `a - b`.
//!
//! Two numbers exactly 2^31 apart have no defined order (RFC 1982 §3.2). Here, as in the usual
//! kernel `before()`/`after()` macros, their distance is `i32::MIN`, so *each* is `lt` the
//! other. Callers that care (window checks) reject such distances; reassembly never produces
//! them because windows are far smaller than 2^31.
//!
//! Reassembly works in a 64-bit stream-offset space instead (offset 0 = the byte after the
//! ISN), which does not wrap; [`SeqNum::stream_offset`] converts a sequence number into that
//! space relative to a known nearby offset.

use core::fmt;
use core::ops::{Add, AddAssign, Sub, SubAssign};

/// A TCP sequence (or acknowledgment) number with wrapping arithmetic.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeqNum(pub u32);

impl SeqNum {
    /// `self` comes strictly before `other` (signed distance `self - other < 0`).
    #[inline]
    pub fn lt(self, other: SeqNum) -> bool {
        (self - other) < 0
    }

    /// `self` comes before `other` or equals it.
    #[inline]
    pub fn le(self, other: SeqNum) -> bool {
        (self - other) <= 0
    }

    /// `self` comes strictly after `other` (signed distance `self - other > 0`).
    #[inline]
    pub fn gt(self, other: SeqNum) -> bool {
        (self - other) > 0
    }

    /// `self` comes after `other` or equals it.
    #[inline]
    pub fn ge(self, other: SeqNum) -> bool {
        (self - other) >= 0
    }

    /// The later of the two (`self` when they are equal or exactly 2^31 apart).
    #[inline]
    pub fn max(self, other: SeqNum) -> SeqNum {
        if other.gt(self) { other } else { self }
    }

    /// The earlier of the two (`self` when they are equal or exactly 2^31 apart).
    #[inline]
    pub fn min(self, other: SeqNum) -> SeqNum {
        if self.le(other) { self } else { other }
    }

    /// `self` lies in the `len` numbers starting at `start`: `start <= self < start + len`
    /// on the circle. An empty window (`len == 0`) contains nothing; a window of 2^32 − 1
    /// numbers contains all but `start - 1`.
    #[inline]
    pub fn in_window(self, start: SeqNum, len: u32) -> bool {
        self.0.wrapping_sub(start.0) < len
    }

    /// The 64-bit stream offset of the byte numbered `self`, in the stream whose initial
    /// sequence number is `isn` (offset 0 = sequence number `isn + 1`).
    ///
    /// Sequence numbers repeat every 2^32 bytes, so the answer is the offset with this
    /// sequence number that lies closest to `reference` (an offset known to be near, such as
    /// the reassembly buffer's `contig_end`): within `[reference - 2^31, reference + 2^31)`.
    /// `None` when that offset would be negative (a byte before the start of the stream).
    #[inline]
    pub fn stream_offset(self, isn: SeqNum, reference: u64) -> Option<u64> {
        // Truncating `reference` to 32 bits is the point: it gives its sequence number.
        let reference_seq = isn + 1 + reference as u32;
        let distance = self - reference_seq;
        reference.checked_add_signed(i64::from(distance))
    }
}

impl Add<u32> for SeqNum {
    type Output = SeqNum;
    #[inline]
    fn add(self, rhs: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(rhs))
    }
}

impl AddAssign<u32> for SeqNum {
    #[inline]
    fn add_assign(&mut self, rhs: u32) {
        *self = *self + rhs;
    }
}

impl Sub<u32> for SeqNum {
    type Output = SeqNum;
    #[inline]
    fn sub(self, rhs: u32) -> SeqNum {
        SeqNum(self.0.wrapping_sub(rhs))
    }
}

impl SubAssign<u32> for SeqNum {
    #[inline]
    fn sub_assign(&mut self, rhs: u32) {
        *self = *self - rhs;
    }
}

/// Signed distance: how far `self` is after `rhs` (negative: before). Exactly 2^31 apart
/// gives `i32::MIN` whichever way round.
impl Sub<SeqNum> for SeqNum {
    type Output = i32;
    #[inline]
    fn sub(self, rhs: SeqNum) -> i32 {
        // Reinterpreting the wrapped difference as two's complement is the RFC 1982 rule.
        self.0.wrapping_sub(rhs.0) as i32
    }
}

impl fmt::Debug for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SeqNum({})", self.0)
    }
}

impl fmt::Display for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::SeqNum;

    const HALF: u32 = 1 << 31;

    /// Interesting points: around 0, around 2^31 and just below 2^32.
    fn points() -> Vec<u32> {
        let mut v = Vec::new();
        for centre in [0u32, HALF, u32::MAX, 1 << 30, 3 << 30] {
            for d in 0..4u32 {
                v.push(centre.wrapping_add(d));
                v.push(centre.wrapping_sub(d));
            }
        }
        v.sort_unstable();
        v.dedup();
        v
    }

    #[test]
    fn add_and_sub_wrap() {
        assert_eq!(SeqNum(u32::MAX) + 1, SeqNum(0));
        assert_eq!(SeqNum(u32::MAX) + 2, SeqNum(1));
        assert_eq!(SeqNum(0) - 1, SeqNum(u32::MAX));
        assert_eq!(SeqNum(5) - 10, SeqNum(u32::MAX - 4));
        assert_eq!(SeqNum(HALF - 1) + 1, SeqNum(HALF));
        let mut s = SeqNum(u32::MAX - 1);
        s += 3;
        assert_eq!(s, SeqNum(1));
        s -= 2;
        assert_eq!(s, SeqNum(u32::MAX));
    }

    #[test]
    fn signed_distance() {
        assert_eq!(SeqNum(0) - SeqNum(u32::MAX), 1);
        assert_eq!(SeqNum(u32::MAX) - SeqNum(0), -1);
        assert_eq!(SeqNum(10) - SeqNum(u32::MAX - 9), 20);
        assert_eq!(SeqNum(HALF - 1) - SeqNum(0), i32::MAX);
        assert_eq!(SeqNum(0) - SeqNum(HALF - 1), -i32::MAX);
        assert_eq!(SeqNum(HALF + 1) - SeqNum(0), -i32::MAX);
        // Exactly half the circle: i32::MIN both ways.
        assert_eq!(SeqNum(HALF) - SeqNum(0), i32::MIN);
        assert_eq!(SeqNum(0) - SeqNum(HALF), i32::MIN);
    }

    /// Every pair of interesting points: the comparisons agree with the signed distance,
    /// `a + (b - a) == b`, and lt/gt are mirror images.
    #[test]
    fn exhaustive_pairs() {
        let pts = points();
        for &a in &pts {
            for &b in &pts {
                let (sa, sb) = (SeqNum(a), SeqNum(b));
                let d = sb - sa;
                assert_eq!(sa + d as u32, sb, "{a} + ({b} - {a})");
                assert_eq!(sb - d as u32, sa);
                let forward = b.wrapping_sub(a);
                match forward {
                    0 => {
                        assert!(sa.le(sb) && sa.ge(sb) && !sa.lt(sb) && !sa.gt(sb));
                    }
                    f if f < HALF => {
                        assert!(
                            sa.lt(sb) && sa.le(sb) && !sa.gt(sb) && !sa.ge(sb),
                            "{a} {b}"
                        );
                        assert!(sb.gt(sa) && sb.ge(sa) && !sb.lt(sa));
                        assert_eq!(sa.max(sb), sb);
                        assert_eq!(sb.max(sa), sb);
                        assert_eq!(sa.min(sb), sa);
                        assert_eq!(sb.min(sa), sa);
                    }
                    f if f == HALF => {
                        // Undefined order: each is "before" the other.
                        assert!(sa.lt(sb) && sb.lt(sa));
                        assert_eq!(sa.max(sb), sa);
                        assert_eq!(sa.min(sb), sa);
                    }
                    _ => {
                        assert!(sa.gt(sb) && !sa.lt(sb), "{a} {b}");
                        assert_eq!(sa.max(sb), sa);
                        assert_eq!(sa.min(sb), sb);
                    }
                }
            }
        }
    }

    #[test]
    fn ordering_across_zero() {
        assert!(SeqNum(u32::MAX).lt(SeqNum(0)));
        assert!(SeqNum(u32::MAX - 100).lt(SeqNum(100)));
        assert!(SeqNum(100).gt(SeqNum(u32::MAX - 100)));
        assert!(SeqNum(0).lt(SeqNum(HALF - 1)));
        assert!(SeqNum(0).gt(SeqNum(HALF + 1)));
    }

    #[test]
    fn windows() {
        assert!(SeqNum(0).in_window(SeqNum(u32::MAX - 1), 3));
        assert!(SeqNum(1).in_window(SeqNum(u32::MAX - 1), 4));
        assert!(!SeqNum(2).in_window(SeqNum(u32::MAX - 1), 4));
        assert!(!SeqNum(u32::MAX - 2).in_window(SeqNum(u32::MAX - 1), 4));
        assert!(!SeqNum(7).in_window(SeqNum(7), 0));
        assert!(SeqNum(7).in_window(SeqNum(7), 1));
        assert!(!SeqNum(8).in_window(SeqNum(7), 1));
        assert!(SeqNum(HALF).in_window(SeqNum(HALF - 10), 11));
        assert!(!SeqNum(HALF + 1).in_window(SeqNum(HALF - 10), 11));
        // The largest window holds all but the number before its start.
        assert!(!SeqNum(5).in_window(SeqNum(6), u32::MAX));
        assert!(SeqNum(4).in_window(SeqNum(6), u32::MAX));
        assert!(!SeqNum(4).in_window(SeqNum(6), u32::MAX - 1));
        assert!(!SeqNum(5).in_window(SeqNum(6), 0));
        for &p in &points() {
            let s = SeqNum(p);
            assert!(s.in_window(s, 1));
            assert!(!s.in_window(s + 1, u32::MAX));
            assert!((s + 100).in_window(s, 101));
            assert!(!(s + 101).in_window(s, 101));
        }
    }

    #[test]
    fn stream_offsets() {
        let isn = SeqNum(u32::MAX - 2);
        // Offset 0 is isn + 1.
        assert_eq!((isn + 1).stream_offset(isn, 0), Some(0));
        assert_eq!((isn + 5).stream_offset(isn, 0), Some(4));
        // The ISN itself (the SYN) is before the stream.
        assert_eq!(isn.stream_offset(isn, 0), None);
        // After the sequence numbers wrapped several times.
        let far = 5 * (1u64 << 32) + 1234;
        let seq = isn + 1 + far as u32;
        assert_eq!(seq.stream_offset(isn, far), Some(far));
        assert_eq!(seq.stream_offset(isn, far - 100_000), Some(far));
        assert_eq!(seq.stream_offset(isn, far + 100_000), Some(far));
        assert_eq!((seq + 10).stream_offset(isn, far), Some(far + 10));
        assert_eq!((seq - 10).stream_offset(isn, far), Some(far - 10));
        // Nearest copy: 2^31 - 1 ahead is ahead, 2^31 ahead is taken as behind.
        assert_eq!(
            (seq + (HALF - 1)).stream_offset(isn, far),
            Some(far + u64::from(HALF - 1))
        );
        assert_eq!(
            (seq + HALF).stream_offset(isn, far),
            Some(far - u64::from(HALF))
        );
    }

    #[test]
    fn formatting() {
        assert_eq!(format!("{}", SeqNum(42)), "42");
        assert_eq!(format!("{:?}", SeqNum(42)), "SeqNum(42)");
        assert_eq!(format!("{:>5}", SeqNum(7)), "    7");
    }
}
