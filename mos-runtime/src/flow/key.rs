//! The flow key: a 5-tuple in canonical (direction-free) order, and its hash.
//!
//! Both directions of a connection must find the same table entry and land on the same worker
//! core, so the key does not store "source" and "destination": it stores the *lower* and the
//! *upper* endpoint, where endpoints are ordered by (address bytes, port). [`FlowKey::new`]
//! reports whether it had to swap the packet's (source, destination) to reach that order; the
//! engine turns that bit into the packet's direction without a second comparison.
//!
//! # Representation
//! Addresses are kept as 16 bytes, IPv4 in its IPv4-mapped form (`::ffff:a.b.c.d`), plus a
//! family byte, so one key type serves both families and equality is a plain comparison of
//! 38 bytes. The family byte keeps an IPv4 flow and an IPv6 flow between the corresponding
//! IPv4-mapped addresses distinct. Ordering mapped IPv4 bytes is the same as ordering the IPv4
//! addresses numerically.
//!
//! # Hash
//! [`FlowKey::hash64`] is computed from the canonical fields, so it is the same for both
//! directions. It is a keyed multiply-fold mixer (the 128-bit product of two 64-bit words,
//! high half folded onto the low half), which spreads sequential ports and addresses over all
//! 64 output bits. The flow table indexes with the *low* bits and [`FlowKey::shard`] picks a
//! core from the *high* bits (multiply-shift range reduction), so the flows of one core still
//! spread evenly over that core's table.
//!
//! The constants are fixed, so placement is reproducible run to run; the price is that a
//! sender who knows them can craft colliding keys. Probe lengths are still bounded by the
//! table's index size, so this costs time, never memory or correctness.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Family byte of an IPv4 key.
const FAMILY_V4: u8 = 4;
/// Family byte of an IPv6 key.
const FAMILY_V6: u8 = 6;

/// A connection's 5-tuple in canonical order: the same value for both directions.
///
/// Build it with [`FlowKey::new`] (from [`IpAddr`]s) or the allocation- and branch-light
/// [`FlowKey::from_v4`] / [`FlowKey::from_v6`] (from the raw header bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey {
    /// The lower endpoint's address (IPv4 as IPv4-mapped IPv6).
    lower_addr: [u8; 16],
    /// The upper endpoint's address.
    upper_addr: [u8; 16],
    /// The lower endpoint's port.
    lower_port: u16,
    /// The upper endpoint's port.
    upper_port: u16,
    /// IP protocol number (6 = TCP, 17 = UDP).
    proto: u8,
    /// [`FAMILY_V4`] or [`FAMILY_V6`].
    family: u8,
}

/// The IPv4-mapped IPv6 form of an IPv4 address, as bytes.
#[inline]
const fn mapped(v4: [u8; 4]) -> [u8; 16] {
    // As one integer: a byte swap and two stores, where a byte array literal compiles to a
    // store per byte.
    ((0xffff_u128 << 32) | u32::from_be_bytes(v4) as u128).to_be_bytes()
}

impl FlowKey {
    /// The canonical key of a packet from `src:src_port` to `dst:dst_port`, and whether
    /// (src, dst) had to be swapped to reach canonical order (`true`: the packet travels from
    /// the upper endpoint to the lower one).
    ///
    /// Endpoints are ordered by (address, port); when both are equal (a packet to itself) the
    /// key is the same either way and `swapped` is `false`. An IPv4 and an IPv6 address
    /// together (no real packet has that) make an IPv6 key, the IPv4 side in mapped form.
    #[inline]
    pub fn new(
        src: IpAddr,
        src_port: u16,
        dst: IpAddr,
        dst_port: u16,
        proto: u8,
    ) -> (FlowKey, bool) {
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                FlowKey::from_v4(s.octets(), src_port, d.octets(), dst_port, proto)
            }
            _ => FlowKey::from_v6(v6_octets(src), src_port, v6_octets(dst), dst_port, proto),
        }
    }

    /// [`FlowKey::new`] for IPv4 header bytes.
    #[inline]
    pub fn from_v4(
        src: [u8; 4],
        src_port: u16,
        dst: [u8; 4],
        dst_port: u16,
        proto: u8,
    ) -> (FlowKey, bool) {
        // Mapped addresses share their first 12 bytes, so the IPv4 addresses alone give
        // the canonical order.
        let swapped = (u32::from_be_bytes(src), src_port) > (u32::from_be_bytes(dst), dst_port);
        FlowKey::ordered(
            mapped(src),
            src_port,
            mapped(dst),
            dst_port,
            proto,
            FAMILY_V4,
            swapped,
        )
    }

    /// [`FlowKey::new`] for IPv6 header bytes.
    #[inline]
    pub fn from_v6(
        src: [u8; 16],
        src_port: u16,
        dst: [u8; 16],
        dst_port: u16,
        proto: u8,
    ) -> (FlowKey, bool) {
        FlowKey::canonical(src, src_port, dst, dst_port, proto, FAMILY_V6)
    }

    #[inline]
    fn canonical(
        src: [u8; 16],
        src_port: u16,
        dst: [u8; 16],
        dst_port: u16,
        proto: u8,
        family: u8,
    ) -> (FlowKey, bool) {
        // Lexicographic order of (address bytes, port), compared as big-endian integers (the
        // same order, without a byte-wise comparison loop).
        let swapped = (u128::from_be_bytes(src), src_port) > (u128::from_be_bytes(dst), dst_port);
        FlowKey::ordered(src, src_port, dst, dst_port, proto, family, swapped)
    }

    /// The key with the endpoints in canonical order, `swapped` telling whether (src, dst)
    /// is (upper, lower).
    #[inline]
    #[allow(clippy::too_many_arguments)] // the key's fields, and the order found
    fn ordered(
        src: [u8; 16],
        src_port: u16,
        dst: [u8; 16],
        dst_port: u16,
        proto: u8,
        family: u8,
        swapped: bool,
    ) -> (FlowKey, bool) {
        let ((lower_addr, lower_port), (upper_addr, upper_port)) = if swapped {
            ((dst, dst_port), (src, src_port))
        } else {
            ((src, src_port), (dst, dst_port))
        };
        let key = FlowKey {
            lower_addr,
            upper_addr,
            lower_port,
            upper_port,
            proto,
            family,
        };
        (key, swapped)
    }

    /// The lower endpoint (address, port).
    pub fn lower(&self) -> (IpAddr, u16) {
        (self.addr(&self.lower_addr), self.lower_port)
    }

    /// The upper endpoint (address, port).
    pub fn upper(&self) -> (IpAddr, u16) {
        (self.addr(&self.upper_addr), self.upper_port)
    }

    /// The IP protocol number.
    pub fn proto(&self) -> u8 {
        self.proto
    }

    /// Whether this is an IPv6 flow.
    pub fn is_ipv6(&self) -> bool {
        self.family == FAMILY_V6
    }

    fn addr(&self, bytes: &[u8; 16]) -> IpAddr {
        if self.family == FAMILY_V4 {
            IpAddr::V4(Ipv4Addr::new(bytes[12], bytes[13], bytes[14], bytes[15]))
        } else {
            IpAddr::V6(Ipv6Addr::from(*bytes))
        }
    }

    /// A 64-bit hash of the canonical key: equal for both directions of a flow, well spread
    /// in its low bits (the flow table's index) and its high bits ([`FlowKey::shard`]), and the
    /// same on every run and platform.
    #[inline]
    pub fn hash64(&self) -> u64 {
        let la = &self.lower_addr;
        let ua = &self.upper_addr;
        let l0 = u64::from_le_bytes([la[0], la[1], la[2], la[3], la[4], la[5], la[6], la[7]]);
        let l1 = u64::from_le_bytes([la[8], la[9], la[10], la[11], la[12], la[13], la[14], la[15]]);
        let u0 = u64::from_le_bytes([ua[0], ua[1], ua[2], ua[3], ua[4], ua[5], ua[6], ua[7]]);
        let u1 = u64::from_le_bytes([ua[8], ua[9], ua[10], ua[11], ua[12], ua[13], ua[14], ua[15]]);
        let rest = u64::from(self.lower_port)
            | u64::from(self.upper_port) << 16
            | u64::from(self.proto) << 32
            | u64::from(self.family) << 40;
        // Three independent products (they pipeline), then two rounds that make every input
        // bit reach every output bit. The rotations keep one product's weak low bits from
        // lining up with another's.
        let a = fold_mul(l0 ^ K[0], l1 ^ K[1]);
        let b = fold_mul(u0 ^ K[2], u1 ^ K[3]);
        let c = fold_mul(rest ^ K[4], K[5]);
        let d = fold_mul(a ^ c.rotate_left(23) ^ K[6], b ^ K[7]);
        fold_mul(d ^ K[1], c ^ a.rotate_left(41) ^ K[5])
    }

    /// The worker (in `0..n`) that owns this flow, from the high bits of [`FlowKey::hash64`]
    /// (both directions agree). `n == 0` gives 0.
    #[inline]
    pub fn shard(&self, n: usize) -> usize {
        shard_of(self.hash64(), n)
    }
}

/// The shard (in `0..n`) of a precomputed [`FlowKey::hash64`]: multiply-shift range reduction,
/// which uses the hash's high bits and needs no division.
#[inline]
pub fn shard_of(hash: u64, n: usize) -> usize {
    // usize is at most 64 bits on every supported target, so the result (< n) fits.
    ((u128::from(hash) * n as u128) >> 64) as usize
}

/// Mixer keys: arbitrary odd constants with about half their bits set.
const K: [u64; 8] = [
    0x2242_25ea_cc4d_c569,
    0x2a61_deb1_f272_c43f,
    0xd1e8_e269_8d30_1895,
    0x39a5_6763_6d0b_5cd1,
    0xf9c3_4b50_8ff1_f7eb,
    0x20c6_2f71_dadc_a0a9,
    0xae68_0e22_d50f_5009,
    0x83a2_9c3f_0f4a_a1b5,
];

/// The full 128-bit product, high half folded onto the low half.
#[inline(always)]
fn fold_mul(x: u64, y: u64) -> u64 {
    let p = u128::from(x) * u128::from(y);
    (p as u64) ^ ((p >> 64) as u64)
}

fn v6_octets(addr: IpAddr) -> [u8; 16] {
    match addr {
        IpAddr::V4(a) => mapped(a.octets()),
        IpAddr::V6(a) => a.octets(),
    }
}

impl fmt::Debug for FlowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (la, lp) = self.lower();
        let (ua, up) = self.upper();
        let (la, ua) = (
            std::net::SocketAddr::new(la, lp),
            std::net::SocketAddr::new(ua, up),
        );
        write!(f, "FlowKey({la} <-> {ua}, proto {})", self.proto)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a panic is the failure report
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn v4(s: &str) -> IpAddr {
        IpAddr::V4(s.parse().unwrap())
    }
    fn v6(s: &str) -> IpAddr {
        IpAddr::V6(s.parse().unwrap())
    }

    #[test]
    fn symmetric_ipv4() {
        let (k1, s1) = FlowKey::new(v4("10.0.0.1"), 40000, v4("10.0.0.2"), 80, 6);
        let (k2, s2) = FlowKey::new(v4("10.0.0.2"), 80, v4("10.0.0.1"), 40000, 6);
        assert_eq!(k1, k2);
        assert!(!s1);
        assert!(s2);
        assert_eq!(k1.lower(), (v4("10.0.0.1"), 40000));
        assert_eq!(k1.upper(), (v4("10.0.0.2"), 80));
        assert_eq!(k1.proto(), 6);
        assert!(!k1.is_ipv6());
        assert_eq!(k1.hash64(), k2.hash64());
        assert_eq!(
            format!("{k1:?}"),
            "FlowKey(10.0.0.1:40000 <-> 10.0.0.2:80, proto 6)"
        );
    }

    #[test]
    fn address_orders_before_port() {
        // The lower address is the lower endpoint even with the higher port; the numeric
        // order of IPv4 addresses is kept (9.x < 10.x, unlike a textual order).
        let (k, swapped) = FlowKey::new(v4("10.0.0.1"), 1, v4("9.255.255.255"), 65535, 17);
        assert!(swapped);
        assert_eq!(k.lower(), (v4("9.255.255.255"), 65535));
        assert_eq!(k.upper(), (v4("10.0.0.1"), 1));
    }

    #[test]
    fn symmetric_ipv6() {
        let a = v6("2001:db8::1");
        let b = v6("2001:db8::2:0");
        let (k1, s1) = FlowKey::new(b, 443, a, 50000, 6);
        let (k2, s2) = FlowKey::new(a, 50000, b, 443, 6);
        assert_eq!(k1, k2);
        assert!(s1);
        assert!(!s2);
        assert!(k1.is_ipv6());
        assert_eq!(k1.lower(), (a, 50000));
        assert_eq!(k1.upper(), (b, 443));
        assert_eq!(k1.hash64(), k2.hash64());
        assert_eq!(
            format!("{k1:?}"),
            "FlowKey([2001:db8::1]:50000 <-> [2001:db8::2:0]:443, proto 6)"
        );
    }

    #[test]
    fn same_address_both_ends_orders_by_port() {
        let a = v4("127.0.0.1");
        let (k1, s1) = FlowKey::new(a, 5000, a, 80, 6);
        let (k2, s2) = FlowKey::new(a, 80, a, 5000, 6);
        assert_eq!(k1, k2);
        assert!(s1);
        assert!(!s2);
        assert_eq!(k1.lower(), (a, 80));
        assert_eq!(k1.upper(), (a, 5000));
        // A packet to itself: one key, never swapped.
        let (k3, s3) = FlowKey::new(a, 7, a, 7, 17);
        assert!(!s3);
        assert_eq!(k3.lower(), k3.upper());
        // Different ports are different flows.
        assert_ne!(k1, FlowKey::new(a, 5001, a, 80, 6).0);
    }

    #[test]
    fn protocol_and_family_distinguish() {
        let (tcp, _) = FlowKey::new(v4("1.2.3.4"), 1, v4("5.6.7.8"), 2, 6);
        let (udp, _) = FlowKey::new(v4("1.2.3.4"), 1, v4("5.6.7.8"), 2, 17);
        assert_ne!(tcp, udp);
        assert_ne!(tcp.hash64(), udp.hash64());
        // The IPv6 flow between the IPv4-mapped addresses is another flow.
        let (mapped6, _) = FlowKey::new(v6("::ffff:1.2.3.4"), 1, v6("::ffff:5.6.7.8"), 2, 6);
        assert_ne!(tcp, mapped6);
        assert_ne!(tcp.hash64(), mapped6.hash64());
        assert_eq!(mapped6.lower(), (v6("::ffff:1.2.3.4"), 1));
        // Mixed families make an IPv6 key with the IPv4 side mapped.
        let (mixed, swapped) = FlowKey::new(v6("2001:db8::1"), 9, v4("1.2.3.4"), 8, 6);
        assert!(swapped);
        assert!(mixed.is_ipv6());
        assert_eq!(mixed.lower(), (v6("::ffff:1.2.3.4"), 8));
    }

    #[test]
    fn raw_constructors_match_new() {
        let (a, sa) = FlowKey::from_v4([192, 168, 1, 9], 1234, [8, 8, 8, 8], 53, 17);
        let (b, sb) = FlowKey::new(v4("192.168.1.9"), 1234, v4("8.8.8.8"), 53, 17);
        assert_eq!((a, sa), (b, sb));
        assert!(sa);
        let x: Ipv6Addr = "fe80::1".parse().unwrap();
        let y: Ipv6Addr = "fe80::2".parse().unwrap();
        let (c, sc) = FlowKey::from_v6(y.octets(), 1, x.octets(), 2, 6);
        assert_eq!((c, sc), FlowKey::new(IpAddr::V6(y), 1, IpAddr::V6(x), 2, 6));
    }

    /// A xorshift64 sequence from `seed` (not zero).
    fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    #[test]
    fn ipv4_order_equals_the_mapped_addresses_order() {
        let mut next = xorshift(0x6b43_a9b5);
        for _ in 0..10_000 {
            // Few distinct values, so that equal addresses and equal ports both occur.
            let addr = |v: u64| (v as u32 % 4 * 0x4000_0001).to_be_bytes();
            let (a, b) = (addr(next()), addr(next()));
            let (pa, pb) = ((next() % 3) as u16, (next() % 3) as u16);
            let fast = FlowKey::from_v4(a, pa, b, pb, 6);
            let general = FlowKey::canonical(mapped(a), pa, mapped(b), pb, 6, FAMILY_V4);
            assert_eq!(fast, general, "{a:?}:{pa} {b:?}:{pb}");
        }
        assert_eq!(
            mapped([192, 0, 2, 1]),
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1]
        );
    }

    #[test]
    fn known_hash_values_are_stable() {
        // Placement and sharding must not change between runs or releases silently.
        let (k, _) = FlowKey::new(v4("10.0.0.1"), 40000, v4("10.0.0.2"), 80, 6);
        let (k6, _) = FlowKey::new(v6("2001:db8::1"), 1, v6("2001:db8::2"), 2, 6);
        let pair = (k.hash64(), k6.hash64());
        assert_eq!(pair, (HASH_V4_SAMPLE, HASH_V6_SAMPLE));
    }
    const HASH_V4_SAMPLE: u64 = 10_969_749_743_529_265_146;
    const HASH_V6_SAMPLE: u64 = 406_385_893_741_981_706;

    /// Counts of keys per bucket, for `n_buckets` a power of two, from the hash's low bits.
    fn low_bit_loads(keys: &[FlowKey], n_buckets: usize) -> Vec<u32> {
        let mut loads = vec![0u32; n_buckets];
        for k in keys {
            loads[(k.hash64() as usize) & (n_buckets - 1)] += 1;
        }
        loads
    }

    /// Asserts a balls-into-bins distribution looks random: the share of empty buckets within
    /// 2% of e^-load, and the fullest bucket no worse than a random hash allows.
    fn assert_random_like(loads: &[u32], n_keys: usize) {
        let n = loads.len() as f64;
        let lambda = n_keys as f64 / n;
        let empty = loads.iter().filter(|&&c| c == 0).count() as f64;
        let expected_empty = n * (-lambda).exp();
        assert!(
            (empty - expected_empty).abs() < 0.02 * n,
            "empty buckets {empty}, expected about {expected_empty}"
        );
        let max = *loads.iter().max().unwrap();
        assert!(max <= 12, "fullest bucket holds {max} keys");
    }

    #[test]
    fn hash_spreads_sequential_client_ports() {
        // One client, one server, 100k consecutive source ports (a port scan or a busy NAT).
        let keys: Vec<FlowKey> = (0..100_000u32)
            .map(|i| {
                let port = 1024 + (i % 64_000) as u16;
                let server = [10, 0, 1, (i / 64_000) as u8];
                FlowKey::from_v4([10, 0, 0, 1], port, server, 443, 6).0
            })
            .collect();
        assert_eq!(keys.iter().collect::<HashSet<_>>().len(), 100_000);
        assert_random_like(&low_bit_loads(&keys, 1 << 17), keys.len());
    }

    #[test]
    fn hash_spreads_sequential_addresses_v4_and_v6() {
        let v4keys: Vec<FlowKey> = (0..100_000u32)
            .map(|i| {
                let c = i.to_be_bytes();
                FlowKey::from_v4([10, c[1], c[2], c[3]], 50_000, [192, 0, 2, 1], 80, 6).0
            })
            .collect();
        assert_random_like(&low_bit_loads(&v4keys, 1 << 17), v4keys.len());
        let v6keys: Vec<FlowKey> = (0..100_000u32)
            .map(|i| {
                let mut a = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
                a[12..].copy_from_slice(&i.to_be_bytes());
                FlowKey::from_v6(a, 443, [0xfe; 16], 443, 6).0
            })
            .collect();
        assert_random_like(&low_bit_loads(&v6keys, 1 << 17), v6keys.len());
    }

    #[test]
    fn shards_are_balanced_and_direction_free() {
        for n in [1usize, 2, 3, 8] {
            let mut counts = vec![0u32; n];
            for port in 0..60_000u16 {
                let (k, _) = FlowKey::from_v4([10, 0, 0, 1], port, [10, 0, 0, 2], 80, 6);
                let (back, _) = FlowKey::from_v4([10, 0, 0, 2], 80, [10, 0, 0, 1], port, 6);
                let s = k.shard(n);
                assert_eq!(s, back.shard(n));
                assert_eq!(s, shard_of(k.hash64(), n));
                counts[s] += 1;
            }
            let expect = 60_000.0 / n as f64;
            for c in counts {
                assert!(
                    (f64::from(c) - expect).abs() < 0.03 * expect,
                    "{n} shards: {c}"
                );
            }
        }
        let (k, _) = FlowKey::from_v4([1, 1, 1, 1], 1, [2, 2, 2, 2], 2, 6);
        assert_eq!(k.shard(0), 0);
    }

    #[test]
    fn every_input_bit_reaches_the_output() {
        // Avalanche: flipping one input bit flips about half of the 64 output bits, for every
        // bit position of both addresses, both ports and the protocol.
        let mut next = xorshift(0x1234_5678_9abc_def1);
        let mut total = 0u64;
        let mut samples = 0u64;
        for _ in 0..200 {
            let r = [next(), next(), next()];
            let base = FlowKey {
                lower_addr: (u128::from(r[0]) << 64 | u128::from(r[1])).to_le_bytes(),
                upper_addr: (u128::from(r[1]) << 64 | u128::from(r[2])).to_le_bytes(),
                lower_port: r[2] as u16,
                upper_port: (r[2] >> 16) as u16,
                proto: (r[2] >> 32) as u8,
                family: FAMILY_V6,
            };
            let h = base.hash64();
            for bit in 0..(128 + 128 + 16 + 16 + 8) {
                let mut k = base;
                match bit {
                    0..128 => k.lower_addr[bit / 8] ^= 1 << (bit % 8),
                    128..256 => k.upper_addr[(bit - 128) / 8] ^= 1 << (bit % 8),
                    256..272 => k.lower_port ^= 1 << (bit - 256),
                    272..288 => k.upper_port ^= 1 << (bit - 272),
                    _ => k.proto ^= 1 << (bit - 288),
                }
                let flipped = u64::from((h ^ k.hash64()).count_ones());
                assert!(flipped >= 8, "bit {bit} flips only {flipped} output bits");
                total += flipped;
                samples += 1;
            }
        }
        let mean = total as f64 / samples as f64;
        assert!((31.0..33.0).contains(&mean), "mean flipped bits {mean}");
    }
}
