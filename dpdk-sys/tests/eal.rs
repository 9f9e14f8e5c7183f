//! Real DPDK, no hugepages, no NIC: every test here runs against the system's DPDK libraries.
//!
//! `rte_eal_init` works once per process, and the test harness runs the tests of this binary
//! as threads of one process, so they share one EAL (`eal()`, a `OnceLock`) and each test
//! hot-plugs its own uniquely named virtual device and mempool. The EAL is started from a
//! thread of its own because `rte_eal_init` pins its caller to the main lcore's CPU, which
//! would otherwise pin whichever harness thread came first.

#![allow(unsafe_code, reason = "this test exercises raw FFI")]
#![allow(
    clippy::unwrap_used,
    reason = "a failed setup step should fail the test loudly"
)]

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use dpdk_sys::*;

/// The EAL flags proven on machines without hugepages, NICs or vfio: one lcore, anonymous
/// memory instead of hugepages, no PCI scan, no runtime files (so parallel DPDK processes
/// do not collide), no telemetry socket thread.
const EAL_ARGS: &[&str] = &[
    "dpdk-sys-test",
    "-l",
    "0",
    "--no-huge",
    "-m",
    "256",
    "--no-pci",
    "--no-shconf",
    "--no-telemetry",
    "--log-level=*:warning",
];

/// The trace the `net_pcap` test replays (14 Ethernet frames of one HTTP GET).
fn trace_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/traces/public/zeek-http-get.pcap")
}

/// Starts the EAL on first use; every later call sees the same outcome.
fn eal() {
    static EAL: OnceLock<Result<(), String>> = OnceLock::new();
    let outcome = EAL.get_or_init(|| {
        std::thread::spawn(init_eal)
            .join()
            .unwrap_or_else(|_| Err("EAL init thread panicked".to_owned()))
    });
    if let Err(e) = outcome {
        panic!("rte_eal_init failed: {e}");
    }
}

fn init_eal() -> Result<(), String> {
    // EAL may keep pointers into argv (and getopt permutes it), so it lives for the process.
    let argv: &'static mut [*mut c_char] = Vec::leak(
        EAL_ARGS
            .iter()
            .map(|a| CString::new(*a).map(CString::into_raw))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?,
    );
    let argc = c_int::try_from(argv.len()).map_err(|e| e.to_string())?;
    // SAFETY: argv holds argc valid NUL-terminated strings that are never freed; this is the
    // only call of rte_eal_init in the process (guarded by the OnceLock in `eal`).
    let parsed = unsafe { rte_eal_init(argc, argv.as_mut_ptr()) };
    if parsed < 0 {
        // SAFETY: reads this thread's rte_errno, set by the failed call above.
        let errno = unsafe { mos_rte_errno() };
        return Err(format!("returned {parsed}, rte_errno {errno}"));
    }
    Ok(())
}

/// A process-unique suffix for vdev, pool and ring names (tests run in parallel threads).
fn unique(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A packet mbuf pool without a per-lcore cache, so its in-use count is exact.
struct Pool(*mut rte_mempool);

impl Pool {
    fn new(size: u32) -> Pool {
        eal();
        let name = CString::new(unique("tpool")).unwrap();
        let data_room = u16::try_from(RTE_MBUF_DEFAULT_BUF_SIZE).unwrap();
        // SAFETY: EAL is up; name is a valid C string (DPDK copies it).
        let mp =
            unsafe { rte_pktmbuf_pool_create(name.as_ptr(), size, 0, 0, data_room, SOCKET_ID_ANY) };
        assert!(
            !mp.is_null(),
            "rte_pktmbuf_pool_create: rte_errno {}",
            errno()
        );
        Pool(mp)
    }

    fn in_use(&self) -> u32 {
        // SAFETY: self.0 is a live pool until Drop.
        unsafe { rte_mempool_in_use_count(self.0) }
    }

    fn avail(&self) -> u32 {
        // SAFETY: self.0 is a live pool until Drop.
        unsafe { rte_mempool_avail_count(self.0) }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // SAFETY: every port using this pool is declared after it, so it was closed first.
        unsafe { rte_mempool_free(self.0) }
    }
}

/// A hot-plugged virtual port with one rx and one tx queue, started.
struct Port {
    id: u16,
    name: CString,
    open: bool,
}

impl Port {
    fn open(driver: &str, args: &str, pool: &Pool) -> Port {
        eal();
        let name = CString::new(unique(driver)).unwrap();
        let c_args = CString::new(args).unwrap();
        // SAFETY: both are valid C strings; DPDK copies them.
        let rc = unsafe { rte_vdev_init(name.as_ptr(), c_args.as_ptr()) };
        assert_eq!(rc, 0, "rte_vdev_init({name:?}, {args:?})");
        let mut port = Port {
            id: u16::MAX,
            name,
            open: true,
        };
        // SAFETY: valid C string and a valid out-pointer.
        let rc = unsafe { rte_eth_dev_get_port_by_name(port.name.as_ptr(), &mut port.id) };
        assert_eq!(rc, 0, "rte_eth_dev_get_port_by_name");
        let conf = rte_eth_conf::default();
        // SAFETY: the port exists; conf outlives the call (DPDK copies it); null queue
        // configs mean the driver's defaults; the pool outlives the port (see Pool's Drop).
        unsafe {
            assert_eq!(rte_eth_dev_configure(port.id, 1, 1, &conf), 0, "configure");
            let socket = SOCKET_ID_ANY as u32;
            assert_eq!(
                rte_eth_rx_queue_setup(port.id, 0, 512, socket, ptr::null(), pool.0),
                0,
                "rx queue"
            );
            assert_eq!(
                rte_eth_tx_queue_setup(port.id, 0, 512, socket, ptr::null()),
                0,
                "tx queue"
            );
            assert_eq!(rte_eth_dev_start(port.id), 0, "start");
        }
        port
    }

    fn stats(&self) -> rte_eth_stats {
        let mut stats = rte_eth_stats::default();
        // SAFETY: the port exists; stats is a valid out-pointer.
        let rc = unsafe { rte_eth_stats_get(self.id, &mut stats) };
        assert_eq!(rc, 0, "rte_eth_stats_get");
        stats
    }

    /// Receives until an empty burst; returns the mbufs (owned by the caller).
    fn rx_until_empty(&self, limit: usize) -> Vec<*mut rte_mbuf> {
        let mut got = Vec::new();
        let mut burst = [ptr::null_mut::<rte_mbuf>(); 32];
        while got.len() < limit {
            // SAFETY: the port is started; burst has room for 32 pointers.
            let n = unsafe { mos_rte_eth_rx_burst(self.id, 0, burst.as_mut_ptr(), 32) };
            if n == 0 {
                break;
            }
            got.extend_from_slice(&burst[..usize::from(n)]);
        }
        got
    }

    /// Sends as many of `pkts` as the driver takes; frees the rest; returns how many went.
    fn tx_all(&self, pkts: &[*mut rte_mbuf]) -> usize {
        let mut sent = 0;
        for chunk in pkts.chunks(32) {
            let mut burst = chunk.to_vec();
            let len = u16::try_from(burst.len()).unwrap();
            // SAFETY: the port is started; burst holds `len` mbufs we own.
            let n =
                usize::from(unsafe { mos_rte_eth_tx_burst(self.id, 0, burst.as_mut_ptr(), len) });
            sent += n;
            for &rejected in &burst[n..] {
                // SAFETY: the driver did not take these, so we still own them.
                unsafe { mos_rte_pktmbuf_free(rejected) };
            }
        }
        sent
    }

    /// Stops, closes and unplugs the port; returns the three return codes.
    fn close(&mut self) -> [c_int; 3] {
        self.open = false;
        // SAFETY: the port exists and is used by no other thread.
        unsafe {
            [
                rte_eth_dev_stop(self.id),
                rte_eth_dev_close(self.id),
                rte_vdev_uninit(self.name.as_ptr()),
            ]
        }
    }
}

impl Drop for Port {
    fn drop(&mut self) {
        if self.open {
            self.close();
        }
    }
}

fn errno() -> c_int {
    // SAFETY: reads the calling thread's rte_errno.
    unsafe { mos_rte_errno() }
}

/// Copies a received packet's bytes (one segment expected).
fn bytes_of(m: *mut rte_mbuf) -> Vec<u8> {
    // SAFETY: m is a valid single-segment mbuf we own; mtod points at data_len bytes.
    unsafe {
        assert_eq!(mos_rte_pktmbuf_nb_segs(m), 1);
        assert_eq!(
            u32::from(mos_rte_pktmbuf_data_len(m)),
            mos_rte_pktmbuf_pkt_len(m)
        );
        std::slice::from_raw_parts(
            mos_rte_pktmbuf_mtod(m),
            usize::from(mos_rte_pktmbuf_data_len(m)),
        )
        .to_vec()
    }
}

fn free_all(pkts: &[*mut rte_mbuf]) {
    let mut pkts = pkts.to_vec();
    // SAFETY: we own every mbuf in the array; none is used afterwards.
    unsafe { rte_pktmbuf_free_bulk(pkts.as_mut_ptr(), u32::try_from(pkts.len()).unwrap()) };
}

/// A classic pcap file's frames (either byte order, µs or ns timestamps).
fn read_pcap(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let header = data.get(..24).ok_or("shorter than a pcap header")?;
    let magic = [header[0], header[1], header[2], header[3]];
    let little = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        _ => return Err(format!("not a classic pcap file (magic {magic:02x?})")),
    };
    let u32_at = |b: &[u8], at: usize| {
        let word = [b[at], b[at + 1], b[at + 2], b[at + 3]];
        if little {
            u32::from_le_bytes(word)
        } else {
            u32::from_be_bytes(word)
        }
    };
    if u32_at(header, 20) != 1 {
        return Err("link type is not Ethernet".to_owned());
    }
    let mut frames = Vec::new();
    let mut at = 24;
    while at < data.len() {
        let record = data.get(at..at + 16).ok_or("truncated record header")?;
        let caplen = usize::try_from(u32_at(record, 8)).map_err(|e| e.to_string())?;
        let frame = data
            .get(at + 16..at + 16 + caplen)
            .ok_or("truncated frame")?;
        frames.push(frame.to_vec());
        at += 16 + caplen;
    }
    Ok(frames)
}

#[test]
fn eal_reports_its_configuration() {
    eal();
    // SAFETY: plain queries of an initialised EAL.
    unsafe {
        assert_eq!(rte_eal_has_hugepages(), 0, "--no-huge");
        assert_eq!(rte_lcore_count(), 1, "-l 0");
        // Harness threads are neither EAL-created nor registered.
        assert_eq!(mos_rte_lcore_id(), LCORE_ID_ANY);
        let version = CStr::from_ptr(rte_version()).to_str().unwrap();
        let expected = format!("DPDK {}.{:02}", RTE_VER_YEAR, RTE_VER_MONTH);
        assert!(
            version.starts_with(&expected),
            "library {version:?} vs headers {expected:?}"
        );
    }
}

#[test]
fn eal_init_runs_once_per_process() {
    eal();
    let mut argv = [c"dpdk-sys-test".as_ptr().cast_mut(), ptr::null_mut()];
    // SAFETY: a second init is refused before argv is parsed; argv is NULL-terminated.
    let rc = unsafe {
        mos_rte_set_errno(0);
        rte_eal_init(1, argv.as_mut_ptr())
    };
    assert_eq!(rc, -1);
    assert_eq!(errno(), EALREADY);
}

#[test]
fn tsc_counts_at_its_reported_rate() {
    eal();
    // SAFETY: EAL is up, so the TSC rate has been calibrated.
    let hz = unsafe { rte_get_tsc_hz() };
    assert!(hz > 100_000_000, "TSC rate {hz} Hz");
    // The wall clock brackets both counter reads, and the sleep lies between them, so the
    // counter's interval (converted at its reported rate) must fall between the two, give or
    // take the rate's calibration error.
    let wall = std::time::Instant::now();
    // SAFETY: reading the time-stamp counter has no preconditions.
    let start = unsafe { mos_rte_rdtsc() };
    std::thread::sleep(std::time::Duration::from_millis(20));
    // SAFETY: as above.
    let cycles = unsafe { mos_rte_rdtsc() } - start;
    let elapsed = wall.elapsed().as_secs_f64();
    let tsc_seconds = cycles as f64 / hz as f64;
    assert!(
        tsc_seconds >= 0.020 * 0.98,
        "tsc {tsc_seconds} s for a 20 ms sleep"
    );
    assert!(
        tsc_seconds <= elapsed * 1.02,
        "tsc {tsc_seconds} s vs wall {elapsed} s"
    );
}

#[test]
fn mbuf_alloc_edit_and_free() {
    let pool = Pool::new(63);
    assert_eq!((pool.in_use(), pool.avail()), (0, 63));
    // SAFETY: the pool is live; m is owned by this test until freed at the end.
    unsafe {
        let m = mos_rte_pktmbuf_alloc(pool.0);
        assert!(!m.is_null());
        assert_eq!(pool.in_use(), 1);
        assert_eq!(
            (
                mos_rte_pktmbuf_data_len(m),
                mos_rte_pktmbuf_pkt_len(m),
                mos_rte_pktmbuf_nb_segs(m)
            ),
            (0, 0, 1)
        );
        assert!(mos_rte_pktmbuf_next(m).is_null());
        assert_eq!(
            mos_rte_pktmbuf_port(m),
            u16::try_from(RTE_MBUF_PORT_INVALID).unwrap()
        );
        assert_eq!(u32::from(mos_rte_pktmbuf_headroom(m)), RTE_PKTMBUF_HEADROOM);
        let tailroom = mos_rte_pktmbuf_tailroom(m);
        assert_eq!(
            u32::from(tailroom),
            RTE_MBUF_DEFAULT_BUF_SIZE - RTE_PKTMBUF_HEADROOM
        );

        let body = mos_rte_pktmbuf_append(m, 100);
        assert_eq!(body, mos_rte_pktmbuf_mtod(m));
        for i in 0..100u8 {
            body.add(usize::from(i)).write(i);
        }
        assert_eq!(
            (mos_rte_pktmbuf_data_len(m), mos_rte_pktmbuf_pkt_len(m)),
            (100, 100)
        );
        assert_eq!(mos_rte_pktmbuf_tailroom(m), tailroom - 100);

        let front = mos_rte_pktmbuf_prepend(m, 14);
        assert_eq!(front, body.sub(14));
        assert_eq!(front, mos_rte_pktmbuf_mtod(m));
        assert_eq!(
            u32::from(mos_rte_pktmbuf_headroom(m)),
            RTE_PKTMBUF_HEADROOM - 14
        );
        assert_eq!(mos_rte_pktmbuf_pkt_len(m), 114);

        assert_eq!(mos_rte_pktmbuf_adj(m, 14), body);
        assert_eq!(mos_rte_pktmbuf_trim(m, 10), 0);
        assert_eq!(bytes_of(m), (0..90).collect::<Vec<u8>>());
        // Out of range edits are refused and change nothing.
        assert_eq!(mos_rte_pktmbuf_trim(m, 91), -1);
        assert!(mos_rte_pktmbuf_adj(m, 91).is_null());
        assert!(mos_rte_pktmbuf_append(m, mos_rte_pktmbuf_tailroom(m) + 1).is_null());
        assert!(mos_rte_pktmbuf_prepend(m, mos_rte_pktmbuf_headroom(m) + 1).is_null());
        assert_eq!(
            (mos_rte_pktmbuf_data_len(m), mos_rte_pktmbuf_pkt_len(m)),
            (90, 90)
        );

        mos_rte_pktmbuf_set_data_len(m, 60);
        mos_rte_pktmbuf_set_pkt_len(m, 60);
        assert_eq!(bytes_of(m), (0..60).collect::<Vec<u8>>());
        mos_rte_pktmbuf_free(m);
        mos_rte_pktmbuf_free(ptr::null_mut());
    }
    assert_eq!((pool.in_use(), pool.avail()), (0, 63));
}

#[test]
fn mbuf_bulk_alloc_is_all_or_nothing() {
    let pool = Pool::new(63);
    let mut all = [ptr::null_mut::<rte_mbuf>(); 63];
    let mut one = [ptr::null_mut::<rte_mbuf>(); 1];
    // SAFETY: the arrays have room for the counts passed; every mbuf is freed below.
    unsafe {
        assert_eq!(mos_rte_pktmbuf_alloc_bulk(pool.0, all.as_mut_ptr(), 63), 0);
        assert!(all.iter().all(|m| !m.is_null()));
        assert_eq!((pool.in_use(), pool.avail()), (63, 0));
        assert!(mos_rte_pktmbuf_alloc(pool.0).is_null());
        // The documented -ENOENT, or the ring mempool driver's own -ENOBUFS (22.11 passes it on).
        let short = [-ENOENT, -ENOBUFS];
        assert!(short.contains(&mos_rte_pktmbuf_alloc_bulk(pool.0, one.as_mut_ptr(), 1)));
        rte_pktmbuf_free_bulk(all[..32].as_mut_ptr(), 32);
        assert_eq!(pool.in_use(), 31);
        // Asking for more than is left takes nothing.
        let mut many = [ptr::null_mut::<rte_mbuf>(); 33];
        assert!(short.contains(&mos_rte_pktmbuf_alloc_bulk(pool.0, many.as_mut_ptr(), 33)));
        assert!(many.iter().all(|m| m.is_null()));
        assert_eq!(pool.in_use(), 31);
        rte_pktmbuf_free_bulk(all[32..].as_mut_ptr(), 31);
    }
    assert_eq!(pool.in_use(), 0);
}

#[test]
fn duplicate_pool_name_sets_rte_errno() {
    let pool = Pool::new(31);
    let data_room = u16::try_from(RTE_MBUF_DEFAULT_BUF_SIZE).unwrap();
    // SAFETY: the pool is live; its name is a NUL-terminated array inside it.
    let dup = unsafe {
        mos_rte_set_errno(0);
        rte_pktmbuf_pool_create((*pool.0).name.as_ptr(), 31, 0, 0, data_room, SOCKET_ID_ANY)
    };
    assert!(dup.is_null());
    assert_eq!(errno(), EEXIST);
}

#[test]
fn ring_enqueue_dequeue_keeps_order() {
    eal();
    let name = CString::new(unique("tring")).unwrap();
    // SAFETY: EAL is up; the ring is freed at the end of the test.
    let ring = unsafe {
        rte_ring_create(
            name.as_ptr(),
            8,
            SOCKET_ID_ANY,
            RING_F_SP_ENQ | RING_F_SC_DEQ,
        )
    };
    assert!(!ring.is_null(), "rte_ring_create: rte_errno {}", errno());
    let objs: Vec<*mut c_void> = (1..=10usize)
        .map(|i| ptr::without_provenance_mut(i * 8))
        .collect();
    let mut out = [ptr::null_mut::<c_void>(); 10];
    let (mut free_space, mut available) = (u32::MAX, u32::MAX);
    // SAFETY: one thread uses the ring (SP/SC); the arrays hold the counts passed.
    unsafe {
        // A ring of 8 slots holds 7.
        assert_eq!(
            mos_rte_ring_enqueue_burst(ring, objs.as_ptr(), 10, &mut free_space),
            7
        );
        assert_eq!((free_space, mos_rte_ring_count(ring)), (0, 7));
        assert_eq!(
            mos_rte_ring_dequeue_burst(ring, out.as_mut_ptr(), 4, &mut available),
            4
        );
        assert_eq!(available, 3);
        assert_eq!(
            mos_rte_ring_enqueue_burst(ring, objs[7..].as_ptr(), 3, ptr::null_mut()),
            3
        );
        assert_eq!(
            mos_rte_ring_dequeue_burst(ring, out[4..].as_mut_ptr(), 6, ptr::null_mut()),
            6
        );
        assert_eq!(mos_rte_ring_count(ring), 0);
        assert_eq!(
            mos_rte_ring_dequeue_burst(ring, out.as_mut_ptr(), 1, ptr::null_mut()),
            0
        );
        rte_ring_free(ring);
    }
    assert_eq!(out.to_vec(), objs);
}

/// Sends `count` distinct packets into a `net_ring` port whose tx ring is its rx ring, reads
/// them back and checks every byte, the port counters and that every mbuf came home.
fn ring_loopback(count: u16) {
    let pool = Pool::new(1023);
    let mut port = Port::open("net_ring", "", &pool);
    let start = pool.in_use();
    let mut sent = Vec::new();
    for i in 0..count {
        let len = 60 + i % 1000;
        // SAFETY: the pool is live; the new mbuf is ours and gets `len` bytes of room.
        unsafe {
            let m = mos_rte_pktmbuf_alloc(pool.0);
            assert!(!m.is_null());
            let data = mos_rte_pktmbuf_append(m, len);
            assert!(!data.is_null());
            std::slice::from_raw_parts_mut(data, usize::from(len)).fill(i as u8);
            sent.push(m);
        }
    }
    assert_eq!(pool.in_use(), start + u32::from(count));
    assert_eq!(port.tx_all(&sent), usize::from(count));
    let got = port.rx_until_empty(usize::from(count) + 1);
    assert_eq!(got.len(), usize::from(count));
    for (i, &m) in got.iter().enumerate() {
        let len = 60 + usize::from(i as u16 % 1000);
        assert_eq!(bytes_of(m), vec![i as u8; len], "packet {i}");
    }
    let stats = port.stats();
    assert_eq!(
        (stats.ipackets, stats.opackets),
        (u64::from(count), u64::from(count))
    );
    free_all(&got);
    assert_eq!(pool.in_use(), start);
    assert_eq!(port.close(), [0, 0, 0]);
    assert_eq!(pool.in_use(), 0);
}

#[test]
fn net_ring_loopback_returns_every_mbuf() {
    ring_loopback(100);
}

#[test]
fn net_ring_full_tx_leaves_the_rest_to_the_caller() {
    let pool = Pool::new(2047);
    let mut port = Port::open("net_ring", "", &pool);
    let mut pkts = vec![ptr::null_mut::<rte_mbuf>(); 2047];
    // SAFETY: pkts has room for 2047 pointers.
    assert_eq!(
        unsafe { mos_rte_pktmbuf_alloc_bulk(pool.0, pkts.as_mut_ptr(), 2047) },
        0
    );
    // tx_all frees what the full ring refuses, so only accepted packets stay out of the pool.
    let accepted = port.tx_all(&pkts);
    assert!(accepted > 0 && accepted < 2047, "accepted {accepted}");
    assert_eq!(pool.in_use(), u32::try_from(accepted).unwrap());
    let got = port.rx_until_empty(4096);
    assert_eq!(got.len(), accepted);
    free_all(&got);
    assert_eq!(pool.in_use(), 0);
    assert_eq!(port.close(), [0, 0, 0]);
}

#[test]
fn ports_hot_plug_in_parallel_threads() {
    let threads: Vec<_> = (0..4)
        .map(|i| std::thread::spawn(move || ring_loopback(200 + i)))
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn net_null_rx_allocates_and_tx_frees() {
    let pool = Pool::new(255);
    let mut port = Port::open("net_null", "size=64", &pool);
    let mut burst = [ptr::null_mut::<rte_mbuf>(); 32];
    // SAFETY: the port is started; burst has room for 32 pointers.
    let n = unsafe { mos_rte_eth_rx_burst(port.id, 0, burst.as_mut_ptr(), 32) };
    assert_eq!(n, 32, "net_null fills every burst");
    assert_eq!(pool.in_use(), 32);
    for &m in &burst {
        // SAFETY: m was just received and is ours.
        assert_eq!(unsafe { mos_rte_pktmbuf_pkt_len(m) }, 64);
    }
    assert_eq!(port.tx_all(&burst), 32);
    assert_eq!(pool.in_use(), 0, "the null driver frees what it sends");
    assert_eq!(port.close(), [0, 0, 0]);
}

#[test]
fn net_pcap_replays_a_trace_byte_for_byte() {
    let input = trace_path();
    let frames = read_pcap(&input).unwrap();
    assert_eq!(frames.len(), 14);
    let output = std::env::temp_dir().join(format!(
        "{}-{}.pcap",
        unique("dpdk-sys-tx"),
        std::process::id()
    ));
    let pool = Pool::new(255);
    let args = format!("rx_pcap={},tx_pcap={}", input.display(), output.display());
    let mut port = Port::open("net_pcap", &args, &pool);

    // A file-backed rx queue reads synchronously: the first empty burst is the end of file,
    // unless the pool ran dry (rx_nombuf, checked below).
    let got = port.rx_until_empty(1000);
    assert_eq!(got.len(), frames.len());
    for (i, (&m, frame)) in got.iter().zip(&frames).enumerate() {
        assert_eq!(&bytes_of(m), frame, "frame {i}");
        // SAFETY: m is a received mbuf we own.
        assert_eq!(unsafe { mos_rte_pktmbuf_port(m) }, port.id);
    }
    // SAFETY: the port is started.
    let queued = unsafe { mos_rte_eth_rx_queue_count(port.id, 0) };
    assert_eq!(queued, -ENOTSUP, "net_pcap cannot count its rx queue");
    let stats = port.stats();
    let total: usize = frames.iter().map(Vec::len).sum();
    assert_eq!(
        (stats.ipackets, stats.ibytes, stats.rx_nombuf),
        (14, total as u64, 0)
    );

    assert_eq!(port.tx_all(&got), frames.len());
    let stats = port.stats();
    assert_eq!((stats.opackets, stats.obytes), (14, total as u64));
    // Closing the port closes (and flushes) the tx pcap file.
    assert_eq!(port.close(), [0, 0, 0]);
    assert_eq!(pool.in_use(), 0);
    let written = read_pcap(&output).unwrap();
    std::fs::remove_file(&output).unwrap();
    assert_eq!(written, frames);
}
