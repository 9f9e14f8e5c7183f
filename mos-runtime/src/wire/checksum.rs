//! The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//!
//! The ones'-complement sum of 16-bit words does not depend on how the words are grouped or on
//! their byte order (up to one final byte swap), so [`sum`] adds little-endian words in wide
//! lanes with no carry to propagate — 64 bytes per step through SSE2 on x86-64 — and reduces
//! to 16 bits once per part; [`fold`] reduces a partial sum. Verification reads every payload
//! byte, so this is one of the per-packet loops that count.
//!
//! Sums compose: the sum of a message is the sum of its parts' sums, provided every part but the
//! last has an even length (an odd part would shift the byte pairing of what follows). Checksummed
//! fields and pseudo-headers are all even-sized, so callers split at them freely.

/// Adds `b` to `a` in ones'-complement arithmetic over 64 bits (end-around carry).
#[inline(always)]
const fn add(a: u64, b: u64) -> u64 {
    let (s, carry) = a.overflowing_add(b);
    // With a carry, s <= 2^64 - 2, so adding it back cannot overflow again.
    s + carry as u64
}

/// Adds the big-endian 16-bit words of `data` to the partial sum `acc` (a trailing odd byte is
/// the high half of a last word padded with zero). The result is not folded: pass it to
/// [`fold`], or to `sum` again for the next part.
///
/// The hot loop of checksum verification (it reads every payload byte). The ones'-complement
/// sum does not depend on byte order except for a final byte swap (RFC 1071 §2(B)), so the
/// words are summed little-endian, folded to 16 bits, swapped to big-endian, and
/// added to `acc`.
#[inline]
pub fn sum(acc: u64, data: &[u8]) -> u64 {
    let mut acc = acc;
    for block in data.chunks(BLOCK) {
        acc = add(acc, u64::from(fold(sum_le(block)).swap_bytes()));
    }
    acc
}

/// Bytes summed between two folds in [`sum`] (a multiple of 64, so blocks keep the byte
/// pairing, and small enough for [`sum_le`]'s 32-bit lanes).
const BLOCK: usize = 1 << 18;

/// A value equal, modulo 2^16 − 1, to the ones'-complement sum of `data`'s little-endian
/// 16-bit words (the last one zero-padded), and zero only when every byte is, for
/// `data.len() <= BLOCK`: the 16-byte parts through the vector unit, the rest by words.
#[inline]
fn sum_le(data: &[u8]) -> u64 {
    let (total, rest) = sum_le_vector(data);
    total + sum_le_words(rest)
}

/// The exact sum of the little-endian 16-bit words of `data`'s 16-byte parts, and the bytes
/// after them (fewer than 16), on SSE2 (part of every x86-64 CPU, through `safe_arch`'s safe
/// wrappers): `pmaddwd` against a vector of ones adds adjacent words into 32-bit lanes in one
/// instruction, four loads in flight per 64-byte step. `pmaddwd` reads its words as *signed*,
/// so each word is first biased by flipping its top bit (w − 2^15 as a signed word) and 2^15
/// per word is added back at the end, which makes the sum exact. Each lane changes by at most
/// 2^16 per step, and a block has at most 2^12 steps: no 32-bit lane can overflow.
#[cfg(target_arch = "x86_64")]
#[inline]
fn sum_le_vector(data: &[u8]) -> (u64, &[u8]) {
    use safe_arch::{
        add_i32_m128i, bitxor_m128i, load_unaligned_m128i, m128i, mul_i16_horizontal_add_m128i,
        set_splat_i16_m128i, zeroed_m128i,
    };
    let bias = set_splat_i16_m128i(i16::MIN);
    let ones = set_splat_i16_m128i(1);
    // The adjacent pairs of one 16-byte part, biased, summed into four 32-bit lanes.
    let pairs = |part: &[u8]| -> m128i {
        // Callers pass 16-byte parts: the conversion never fails.
        let part = <&[u8; 16]>::try_from(part).unwrap_or(&[0; 16]);
        mul_i16_horizontal_add_m128i(bitxor_m128i(load_unaligned_m128i(part), bias), ones)
    };
    let mut lanes = [zeroed_m128i(); 4];
    let mut steps = data.chunks_exact(64);
    for step in &mut steps {
        for (lane, part) in lanes.iter_mut().zip(step.chunks_exact(16)) {
            *lane = add_i32_m128i(*lane, pairs(part));
        }
    }
    let mut parts = steps.remainder().chunks_exact(16);
    let mut last = zeroed_m128i();
    for part in &mut parts {
        last = add_i32_m128i(last, pairs(part));
    }
    // Five lanes of at most 2^28 each add up within an i32; their four sums may not.
    let lanes = lanes.into_iter().fold(last, add_i32_m128i);
    let signed: i64 = <[i32; 4]>::from(lanes).into_iter().map(i64::from).sum();
    let words = (data.len() / 16 * 8) as i64;
    // The biased sum is at least -2^15 per word, so this is never negative.
    ((signed + (words << 15)) as u64, parts.remainder())
}

/// The portable form of [`sum_le_vector`] (other targets; and the tests' cross-check): 32-bit
/// little-endian words added into four 64-bit lanes, a shape the compiler vectorises. Returns
/// the bytes after the 64-byte steps.
#[cfg(any(test, not(target_arch = "x86_64")))]
#[inline]
fn sum_le_portable(data: &[u8]) -> (u64, &[u8]) {
    let mut lanes = [0u64; 4];
    let mut steps = data.chunks_exact(64);
    for step in &mut steps {
        for (lane, pair) in lanes.iter_mut().zip(step.chunks_exact(16)) {
            *lane += pair.chunks_exact(8).map(le_word_halves).sum::<u64>();
        }
    }
    (lanes.iter().sum(), steps.remainder())
}

#[cfg(not(target_arch = "x86_64"))]
use sum_le_portable as sum_le_vector;

/// The sum of `data`'s little-endian 32-bit words (the last one zero-padded), for what the
/// vector loop leaves (or any length below 2^32 words).
#[inline]
fn sum_le_words(data: &[u8]) -> u64 {
    let mut words = data.chunks_exact(8);
    let total: u64 = words.by_ref().map(le_word_halves).sum();
    // The last bytes in pieces of 4, 2 and 1, each at an even offset, so each piece's value
    // is its 16-bit words' sum modulo 2^16 − 1 (a lone last byte is the low half of a
    // zero-padded word). Not copied into a padded word: that copy, of a length known only
    // here, would be a call to `memcpy` for every packet.
    let rest = words.remainder();
    let (four, rest) = match rest.split_first_chunk::<4>() {
        Some((w, rest)) => (u64::from(u32::from_le_bytes(*w)), rest),
        None => (0, rest),
    };
    let (two, rest) = match rest.split_first_chunk::<2>() {
        Some((w, rest)) => (u64::from(u16::from_le_bytes(*w)), rest),
        None => (0, rest),
    };
    let one = rest.first().map_or(0, |b| u64::from(*b));
    total + four + two + one
}

/// The two little-endian 32-bit halves of an 8-byte word, added (below 2^33).
#[inline(always)]
fn le_word_halves(word: &[u8]) -> u64 {
    // Callers pass 8-byte chunks: the conversion never fails and compiles to a plain load.
    let w = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
    (w & 0xffff_ffff) + (w >> 32)
}

/// Reduces a partial sum to the 16-bit ones'-complement sum.
#[inline]
pub const fn fold(acc: u64) -> u16 {
    let a = (acc >> 32) + (acc & 0xffff_ffff); // < 2^33
    let a = (a >> 32) + (a & 0xffff_ffff); // < 2^32
    let a = (a >> 16) + (a & 0xffff); // <= 0x1fffe
    let a = (a >> 16) + (a & 0xffff); // <= 0xffff
    a as u16
}

/// The checksum of `data`: the complement of its ones'-complement sum.
#[inline]
pub fn checksum(data: &[u8]) -> u16 {
    !fold(sum(0, data))
}

/// Whether data whose checksum field is included sums to all ones (the check of a receiver).
#[inline]
pub const fn verifies(acc: u64) -> bool {
    fold(acc) == 0xffff
}

/// The partial sum of an IPv4 header without options, for verifying it: its five big-endian
/// 32-bit words added (each equal, modulo 2^16 − 1, to the sum of its two 16-bit halves).
/// Every TCP/IPv4 packet has one, and for 20 bytes [`sum`]'s set-up is most of the work.
#[inline]
pub fn sum_ipv4_header(header: &[u8; 20]) -> u64 {
    header
        .chunks_exact(4)
        .map(|word| u64::from(u32::from_be_bytes(word.try_into().unwrap_or([0; 4]))))
        .sum()
}

/// The partial sum of the IPv4 pseudo-header (addresses, protocol, L4 length).
#[inline]
pub fn pseudo_header_v4(src: [u8; 4], dst: [u8; 4], proto: u8, l4_len: u32) -> u64 {
    // 32-bit big-endian words sum to the same value as their 16-bit halves once folded.
    u64::from(u32::from_be_bytes(src))
        + u64::from(u32::from_be_bytes(dst))
        + u64::from(proto)
        + u64::from(l4_len)
}

/// The partial sum of the IPv6 pseudo-header (RFC 8200 §8.1).
#[inline]
pub fn pseudo_header_v6(src: [u8; 16], dst: [u8; 16], proto: u8, l4_len: u32) -> u64 {
    let s = u128::from_be_bytes(src);
    let d = u128::from_be_bytes(dst);
    let mut acc = add((s >> 64) as u64, s as u64);
    acc = add(acc, (d >> 64) as u64);
    acc = add(acc, d as u64);
    add(acc, u64::from(proto) + u64::from(l4_len))
}

/// RFC 1624 eqn. 3: the checksum `check` after the bytes `old` of the covered data were replaced
/// by `new` (same length, starting at an even offset). No other byte needs to be read, so this
/// also fixes checksums of packets the capture truncated.
#[inline]
pub fn adjust(check: u16, old: &[u8], new: &[u8]) -> u16 {
    let old_sum = fold(sum(0, old));
    let new_sum = fold(sum(0, new));
    let acc = u64::from(!check) + u64::from(!old_sum) + u64::from(new_sum);
    !fold(acc)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::wire::tests::noise;

    /// The textbook 16-bit loop, as the reference.
    fn reference(data: &[u8]) -> u16 {
        let mut acc: u32 = 0;
        for pair in data.chunks(2) {
            let hi = u32::from(pair[0]) << 8;
            let lo = pair.get(1).map_or(0, |b| u32::from(*b));
            acc += hi | lo;
            acc = (acc >> 16) + (acc & 0xffff);
        }
        !(acc as u16)
    }

    #[test]
    fn matches_the_16_bit_reference_for_every_length_and_alignment() {
        let bytes: Vec<u8> = noise(0x1234_5678, 300);
        for len in 0..bytes.len() {
            assert_eq!(
                checksum(&bytes[..len]),
                reference(&bytes[..len]),
                "len {len}"
            );
        }
        // All-ones input exercises the end-around carry on every add.
        let ones = [0xffu8; 1000];
        assert_eq!(checksum(&ones), reference(&ones));
    }

    #[test]
    fn long_inputs_and_composition_match_the_reference() {
        let bytes: Vec<u8> = noise(0x9e37_79b9, 20_000);
        for len in (0..bytes.len()).step_by(97).chain([1500, 9000, 19_999]) {
            assert_eq!(
                checksum(&bytes[..len]),
                reference(&bytes[..len]),
                "len {len}"
            );
            // Split at an even point: the parts compose.
            let cut = (len / 3) & !1;
            let split = sum(sum(0, &bytes[..cut]), &bytes[cut..len]);
            assert_eq!(
                !fold(split),
                reference(&bytes[..len]),
                "len {len} cut {cut}"
            );
        }
        // Longer than one block, all ones: every lane near its largest values.
        let ones = vec![0xffu8; 3 * BLOCK + 7];
        assert_eq!(checksum(&ones), reference(&ones));
        let mixed: Vec<u8> = (0..(2 * BLOCK + 33))
            .map(|i| (i * 131 % 251) as u8)
            .collect();
        assert_eq!(checksum(&mixed), reference(&mixed));
    }

    #[test]
    fn vector_sum_equals_the_portable_sum() {
        let mut bytes = noise(0x0bad_cafe, BLOCK + 640);
        let both = |data: &[u8]| {
            let (v, v_rest) = sum_le_vector(data);
            let (p, p_rest) = sum_le_portable(data);
            (
                fold(v + sum_le_words(v_rest)),
                fold(p + sum_le_words(p_rest)),
            )
        };
        for len in (0..200).chain([640, 4096, BLOCK - 1, BLOCK]) {
            let (v, p) = both(&bytes[..len]);
            assert_eq!(v, p, "len {len}");
        }
        // The extremes of the signed bias: all 0x0000, all 0x8000, all 0xffff, all 0x7fff.
        for fill in [[0x00, 0x00], [0x00, 0x80], [0xff, 0xff], [0xff, 0x7f]] {
            for pair in bytes.chunks_exact_mut(2) {
                pair.copy_from_slice(&fill);
            }
            let block = &bytes[..BLOCK];
            let (v, p) = both(block);
            assert_eq!(v, p, "fill {fill:?}");
            assert_eq!(checksum(block), reference(block), "fill {fill:?}");
        }
        assert_eq!(sum_le_vector(&[0u8; 80]), (0, &[0u8; 0][..]));
    }

    #[test]
    fn ipv4_header_sum_equals_the_general_sum() {
        let bytes = noise(0x1357_9bdf, 20 * 1000);
        for header in bytes.chunks_exact(20) {
            let header: &[u8; 20] = header.try_into().unwrap();
            assert_eq!(fold(sum_ipv4_header(header)), fold(sum(0, header)));
        }
        assert_eq!(sum_ipv4_header(&[0; 20]), 0);
        let ones = [0xff; 20];
        assert_eq!(fold(sum_ipv4_header(&ones)), fold(sum(0, &ones)));
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(0, &data)), 0xddf2);
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn parts_compose_when_even() {
        let data: Vec<u8> = (0u8..=200).collect();
        let split = sum(sum(0, &data[..64]), &data[64..]);
        assert_eq!(fold(split), fold(sum(0, &data)));
    }

    #[test]
    fn adjust_equals_recompute() {
        let mut data: Vec<u8> = (0u8..64).map(|b| b.wrapping_mul(37)).collect();
        let before = checksum(&data);
        let old = [data[12], data[13], data[14], data[15]];
        let new = [192, 168, 1, 1];
        data[12..16].copy_from_slice(&new);
        assert_eq!(adjust(before, &old, &new), checksum(&data));
    }
}
