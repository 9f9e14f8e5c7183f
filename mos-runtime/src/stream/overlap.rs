//! Which copy of a byte is kept when a segment overlaps bytes already held.
//!
//! TCP lets a sender transmit the same sequence range twice with different contents. A
//! receiving host keeps one copy, and which one depends on its operating system. A monitor
//! that wants to see the stream the way the destination host will see it (and so not be
//! evaded by crafted overlaps) must apply the destination's rule: this is *target-based*
//! reassembly. Independently of the rule, [`StreamBuf::write`](super::StreamBuf::write)
//! reports every overlapping byte that differs (`conflict`): an overlap that changes data is
//! an evasion attempt or a broken sender, whatever copy is kept.
//!
//! How the rules apply in this byte-level model:
//!
//! * Bytes already accepted *in order* (below the buffer's `contig_end`, read or unread) keep
//!   their held copy under every policy except [`OverlapPolicy::Last`]: a host has already
//!   acknowledged and delivered them, and every real stack trims a new segment to its
//!   receive point before queueing it.
//! * Out-of-order bytes are held in *fragments*: maximal runs of received bytes above the
//!   in-order point. A fragment's start is the start of the earliest segment that built it
//!   (adjacent or overlapping segments merge, as hosts coalesce their out-of-order queues),
//!   and the start-based rules ([`Bsd`](OverlapPolicy::Bsd), [`Linux`](OverlapPolicy::Linux))
//!   compare the new segment against that start and end. When one segment overlaps several
//!   fragments, each fragment is decided on its own.

use core::fmt;
use core::str::FromStr;

/// Overlap resolution rule for bytes received more than once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum OverlapPolicy {
    /// The held bytes always win; the new copy of an overlapped byte is dropped. mOS's
    /// default (`tcprb` FIRST).
    #[default]
    First,
    /// The new bytes always win, including over bytes already accepted in order (unread or
    /// kept after reading). mOS's LAST; models targets that overwrite queued data.
    Last,
    /// BSD-derived stacks: the held bytes of a fragment win, unless the new segment starts
    /// *before* the fragment does; then the new bytes replace the fragment's overlapped bytes.
    Bsd,
    /// Linux: as [`Bsd`](Self::Bsd), and in addition the new bytes win when the new segment
    /// starts *at the same offset* as the fragment and ends *after* it (it covers the
    /// fragment and more).
    Linux,
    /// Windows: the held bytes always win. In this byte-level model that is exactly
    /// [`First`](Self::First): the target-based literature distinguishes Windows from
    /// "first" only for cases this buffer cannot see (IP fragments, segments the host drops
    /// for other reasons). It exists so a configuration can name the *target* it protects
    /// rather than the rule, and keeps that name in reports.
    Windows,
}

impl OverlapPolicy {
    /// Every policy, in declaration order.
    pub const ALL: [OverlapPolicy; 5] = [
        OverlapPolicy::First,
        OverlapPolicy::Last,
        OverlapPolicy::Bsd,
        OverlapPolicy::Linux,
        OverlapPolicy::Windows,
    ];

    /// The configuration name: `first`, `last`, `linux`, `bsd` or `windows`.
    pub fn name(self) -> &'static str {
        match self {
            OverlapPolicy::First => "first",
            OverlapPolicy::Last => "last",
            OverlapPolicy::Bsd => "bsd",
            OverlapPolicy::Linux => "linux",
            OverlapPolicy::Windows => "windows",
        }
    }

    /// Whether a new segment `[seg_start, seg_end)` replaces the bytes it overlaps in the
    /// held fragment `[frag_start, frag_end)` (out-of-order data).
    #[inline]
    pub fn new_wins_fragment(
        self,
        seg_start: u64,
        seg_end: u64,
        frag_start: u64,
        frag_end: u64,
    ) -> bool {
        match self {
            OverlapPolicy::First | OverlapPolicy::Windows => false,
            OverlapPolicy::Last => true,
            OverlapPolicy::Bsd => seg_start < frag_start,
            OverlapPolicy::Linux => {
                seg_start < frag_start || (seg_start == frag_start && seg_end > frag_end)
            }
        }
    }

    /// Whether a new segment replaces bytes already accepted in order: only under
    /// [`Last`](Self::Last).
    #[inline]
    pub fn new_wins_in_order(self) -> bool {
        self == OverlapPolicy::Last
    }
}

impl fmt::Display for OverlapPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An overlap policy name that is not one of `first`, `last`, `linux`, `bsd`, `windows`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsePolicyError;

impl fmt::Display for ParsePolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown overlap policy (expected first, last, linux, bsd or windows)")
    }
}

impl std::error::Error for ParsePolicyError {}

impl FromStr for OverlapPolicy {
    type Err = ParsePolicyError;

    /// Parses a configuration name (exact, lower case).
    fn from_str(s: &str) -> Result<OverlapPolicy, ParsePolicyError> {
        OverlapPolicy::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or(ParsePolicyError)
    }
}

#[cfg(test)]
mod tests {
    use super::OverlapPolicy::{self, *};

    #[test]
    fn names_round_trip() {
        for p in OverlapPolicy::ALL {
            assert_eq!(p.name().parse::<OverlapPolicy>(), Ok(p));
            assert_eq!(p.to_string(), p.name());
        }
        assert_eq!("linux".parse::<OverlapPolicy>(), Ok(Linux));
        assert!("Linux".parse::<OverlapPolicy>().is_err());
        assert!("".parse::<OverlapPolicy>().is_err());
        assert!("solaris".parse::<OverlapPolicy>().is_err());
        assert_eq!(OverlapPolicy::default(), First);
    }

    #[test]
    fn fragment_rules() {
        // Held fragment [10, 20).
        let cases: [(u64, u64, [bool; 5]); 6] = [
            // new segment      First  Last  Bsd    Linux  Windows
            ((5, 15), [false, true, true, true, false]), // starts before
            ((5, 25), [false, true, true, true, false]), // starts before, covers
            ((10, 20), [false, true, false, false, false]), // exact
            ((10, 25), [false, true, false, true, false]), // same start, ends after
            ((10, 15), [false, true, false, false, false]), // same start, ends before
            ((12, 25), [false, true, false, false, false]), // starts inside
        ]
        .map(|((s, e), w)| (s, e, w));
        for (s, e, wins) in cases {
            for (p, want) in OverlapPolicy::ALL.into_iter().zip(wins) {
                assert_eq!(p.new_wins_fragment(s, e, 10, 20), want, "{p} [{s},{e})");
            }
        }
        assert!(Last.new_wins_in_order());
        for p in [First, Bsd, Linux, Windows] {
            assert!(!p.new_wins_in_order());
        }
    }
}
