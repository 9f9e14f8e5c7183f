//! The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//!
//! The ones'-complement sum of 16-bit words does not depend on how the words are grouped, so
//! [`sum`] adds eight bytes at a time as one big-endian `u64` with end-around carry (an
//! add-with-carry per 8 bytes instead of four 16-bit adds), and [`fold`] reduces the 64-bit sum
//! to 16 bits once at the end. The carry is folded back on every add, so no input length can
//! overflow the accumulator.
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
/// The hot loop of checksum verification (it reads every payload byte), so it is written for
/// the vector unit: 32-bit *little-endian* words are added into 64-bit lanes with no carry to
/// propagate. The ones'-complement sum does not
/// depend on byte order except for a final byte swap (RFC 1071 §2(B)), so the lanes are folded
/// to 16 bits, swapped to big-endian, and added to `acc`.
#[inline]
pub fn sum(acc: u64, data: &[u8]) -> u64 {
    let mut acc = acc;
    for block in data.chunks(BLOCK) {
        acc = add(acc, u64::from(fold(sum_le(block)).swap_bytes()));
    }
    acc
}

/// Bytes summed between two folds in [`sum`] (a multiple of 32, so blocks keep the byte
/// pairing).
const BLOCK: usize = 1 << 18;

/// The plain sum of `data`'s little-endian 32-bit words (the last one zero-padded), for
/// `data.len() <= BLOCK`: equal, modulo 2^16 − 1, to the ones'-complement sum of its
/// little-endian 16-bit words. Four lanes each add both 32-bit halves of one 64-bit word per
/// 32 bytes (below 2^33 per add, 2^13 adds per block: no overflow), a shape that compiles to
/// wide vector adds without target-specific code.
#[inline]
fn sum_le(data: &[u8]) -> u64 {
    let mut lanes = [0u64; 4];
    let mut blocks = data.chunks_exact(32);
    for block in &mut blocks {
        for (lane, word) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            // 8-byte chunks: the conversion never fails and compiles to a plain load.
            let w = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
            *lane += (w & 0xffff_ffff) + (w >> 32);
        }
    }
    let mut total: u64 = lanes.iter().sum();
    let mut words = blocks.remainder().chunks_exact(8);
    for word in &mut words {
        let w = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
        total += (w & 0xffff_ffff) + (w >> 32);
    }
    // The zero padding goes after the last bytes: they start at a multiple of 8, so their
    // 16-bit words keep their halves.
    let tail = words.remainder();
    let mut last = [0u8; 8];
    if let Some(dst) = last.get_mut(..tail.len()) {
        dst.copy_from_slice(tail);
    }
    let w = u64::from_le_bytes(last);
    total + (w & 0xffff_ffff) + (w >> 32)
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
        let mut state = 0x1234_5678u32;
        let bytes: Vec<u8> = (0..300)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            })
            .collect();
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
        let mut state = 0x9e37_79b9u32;
        let bytes: Vec<u8> = (0..20_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            })
            .collect();
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
