//! Ethernet ports: finding or hot-plugging them, owning them for a run, configuring queues and
//! RSS, and giving them back.
//!
//! A run takes DPDK ownership of its ports (`rte_eth_dev_owner_set`), so two runs in one
//! process (parallel tests, say) cannot poll the same queues; an empty port list means every
//! port that nobody owns. Hot-plugged virtual devices are removed when the run ends; ports the
//! EAL probed are only stopped, so a later run may configure them again.

use std::ffi::{CStr, CString, c_char};
use std::ptr;

use dpdk_sys as sys;

use super::DpdkError;
use super::config::PortSpec;
use super::mempool::Mempool;

/// The symmetric Toeplitz key: `0x6d5a` repeated. With it the RSS hash of (src, dst, sport,
/// dport) equals that of (dst, src, dport, sport), so both directions of a connection land in
/// the same queue, hence on the same worker (Woo and Park, "Scalable TCP Session Monitoring
/// with Symmetric Receive-side Scaling", 2012). 52 bytes cover the drivers with longer keys
/// (i40e, ice); the first 40 are the classic key.
pub const SYMMETRIC_RSS_KEY: [u8; 52] = {
    let mut key = [0u8; 52];
    let mut i = 0;
    while i < 52 {
        key[i] = if i % 2 == 0 { 0x6d } else { 0x5a };
        i += 1;
    }
    key
};

/// The hash inputs asked for: IPv4/IPv6 addresses and TCP/UDP ports (what the driver offers
/// of them is used).
const RSS_HF: u64 = sys::RTE_ETH_RSS_IP | sys::RTE_ETH_RSS_TCP | sys::RTE_ETH_RSS_UDP;

/// A DPDK port owner id, one per run; deleting it releases every port it still owns.
#[derive(Debug)]
pub(crate) struct Owner {
    id: u64,
}

impl Owner {
    pub(crate) fn new() -> Result<Owner, DpdkError> {
        let mut id = 0u64;
        // SAFETY: the EAL is running; `id` is a valid out-pointer.
        let rc = unsafe { sys::rte_eth_dev_owner_new(&mut id) };
        if rc != 0 {
            return Err(DpdkError::with_errno("rte_eth_dev_owner_new", rc));
        }
        Ok(Owner { id })
    }

    /// Ports that no run owns, in id order.
    pub(crate) fn unowned_ports() -> Vec<u16> {
        let mut ports = Vec::new();
        let mut next = 0u16;
        loop {
            // SAFETY: plain query of the ethdev table.
            let found = unsafe {
                sys::rte_eth_find_next_owned_by(next, u64::from(sys::RTE_ETH_DEV_NO_OWNER))
            };
            let Ok(port) = u16::try_from(found) else {
                break;
            };
            if u32::from(port) >= sys::RTE_MAX_ETHPORTS {
                break;
            }
            ports.push(port);
            next = port + 1;
        }
        ports
    }

    fn claim(&self, port: u16) -> Result<(), DpdkError> {
        let mut owner = sys::rte_eth_dev_owner {
            id: self.id,
            name: [0; 64],
        };
        for (dst, src) in owner.name.iter_mut().zip(b"mos") {
            *dst = *src as c_char;
        }
        // SAFETY: the port id was validated by the caller; `owner` outlives the call.
        let rc = unsafe { sys::rte_eth_dev_owner_set(port, &owner) };
        if rc != 0 {
            return Err(DpdkError::with_errno(
                format!("port {port}: taking ownership (another run or application owns it?)"),
                rc,
            ));
        }
        Ok(())
    }

    fn release(&self, port: u16) {
        // SAFETY: releases a port this owner claimed; an error only means it was not ours.
        unsafe { sys::rte_eth_dev_owner_unset(port, self.id) };
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        // SAFETY: the id came from rte_eth_dev_owner_new and is deleted once.
        unsafe { sys::rte_eth_dev_owner_delete(self.id) };
    }
}

/// What a port can do (from `rte_eth_dev_info_get`), in plain values.
#[derive(Clone, Debug, Default)]
pub(crate) struct PortCaps {
    pub driver: String,
    pub max_rx_queues: u16,
    pub max_tx_queues: u16,
    pub rss_offloads: u64,
    pub hash_key_size: u8,
    pub rx_offloads: u64,
}

impl PortCaps {
    /// Whether RSS can spread this port over `queues` rx queues.
    pub(crate) fn rss_for(&self, queues: u16) -> bool {
        self.rss_offloads & RSS_HF != 0 && self.max_rx_queues >= queues
    }

    /// Whether the driver takes a key the symmetric key fits.
    pub(crate) fn symmetric_key(&self) -> bool {
        matches!(self.hash_key_size, 40 | 52)
    }
}

/// How one port is set up for a run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PortSetup {
    pub rx_queues: u16,
    pub tx_queues: u16,
    pub rss: bool,
    pub rx_offloads: u64,
    pub rx_descriptors: u16,
    pub tx_descriptors: u16,
}

/// A port of a run: owned, configured, started; stopped (and unplugged if hot-plugged) on drop.
#[derive(Debug)]
pub(crate) struct Port<'o> {
    pub id: u16,
    pub name: String,
    pub caps: PortCaps,
    hotplugged: Option<CString>,
    owner: &'o Owner,
    started: bool,
    /// The pool the rx queues take mbufs from, kept until the port is stopped (stopping hands
    /// the mbufs in the driver's rx ring back to it).
    pool: Option<Mempool>,
    rx_queues: u16,
}

impl<'o> Port<'o> {
    /// Finds, or hot-plugs, the port and takes ownership of it.
    pub(crate) fn open(spec: &PortSpec, owner: &'o Owner) -> Result<Port<'o>, DpdkError> {
        let (id, hotplugged) = match spec {
            PortSpec::Vdev(vdev) => {
                let (name, args) = vdev.split_once(',').unwrap_or((vdev.as_str(), ""));
                let c_name = CString::new(name)
                    .map_err(|_| DpdkError::msg(format!("vdev {vdev:?}: NUL byte")))?;
                let c_args = CString::new(args)
                    .map_err(|_| DpdkError::msg(format!("vdev {vdev:?}: NUL byte")))?;
                // SAFETY: both are valid C strings; DPDK copies them.
                let rc = unsafe { sys::rte_vdev_init(c_name.as_ptr(), c_args.as_ptr()) };
                if rc != 0 {
                    return Err(DpdkError::with_errno(
                        format!("rte_vdev_init({vdev:?})"),
                        rc,
                    ));
                }
                match port_by_name(&c_name) {
                    Ok(id) => (id, Some(c_name)),
                    Err(e) => {
                        // SAFETY: undoes the successful rte_vdev_init above.
                        unsafe { sys::rte_vdev_uninit(c_name.as_ptr()) };
                        return Err(e);
                    }
                }
            }
            PortSpec::Name(name) => {
                let c_name = CString::new(name.as_str())
                    .map_err(|_| DpdkError::msg(format!("port {name:?}: NUL byte")))?;
                (port_by_name(&c_name)?, None)
            }
            PortSpec::Id(id) => {
                // SAFETY: plain query.
                if unsafe { sys::rte_eth_dev_is_valid_port(*id) } == 0 {
                    return Err(DpdkError::msg(format!("port {id}: no such port")));
                }
                (*id, None)
            }
        };
        let mut port = Port {
            id,
            name: String::new(),
            caps: PortCaps::default(),
            hotplugged,
            owner,
            started: false,
            pool: None,
            rx_queues: 0,
        };
        // From here on Drop undoes the hot-plug; the ownership claim is released on drop too
        // (unsetting an owner that does not own the port is a harmless error).
        owner.claim(id)?;
        port.name = port_name(id);
        port.caps = caps(id)?;
        Ok(port)
    }

    /// Configures queues (and RSS), sets them up on `pool`, starts the port.
    pub(crate) fn start(&mut self, setup: &PortSetup, pool: &Mempool) -> Result<(), DpdkError> {
        let id = self.id;
        self.pool = Some(pool.clone());
        let what = |call: &str| format!("{call}(port {id} {:?})", self.name);
        let mut conf = sys::rte_eth_conf::default();
        conf.rxmode.offloads = setup.rx_offloads & self.caps.rx_offloads;
        if setup.rss {
            conf.rxmode.mq_mode = sys::RTE_ETH_MQ_RX_RSS;
            let rss = &mut conf.rx_adv_conf.rss_conf;
            if self.caps.symmetric_key() {
                // The driver copies the key when the port is configured or started; the key is
                // a constant, so the pointer stays valid for the life of the process anyway.
                rss.rss_key = SYMMETRIC_RSS_KEY.as_ptr().cast_mut();
                rss.rss_key_len = self.caps.hash_key_size;
            }
            rss.rss_hf = RSS_HF & self.caps.rss_offloads;
        }
        // SAFETY: the port is valid and owned by this run; `conf` outlives the call (DPDK copies
        // it); the RSS key pointer is to a static that is never written through.
        let rc = unsafe { sys::rte_eth_dev_configure(id, setup.rx_queues, setup.tx_queues, &conf) };
        if rc != 0 {
            return Err(DpdkError::with_errno(
                format!(
                    "{} with {} rx / {} tx queues",
                    what("rte_eth_dev_configure"),
                    setup.rx_queues,
                    setup.tx_queues
                ),
                rc,
            ));
        }
        let (mut rxd, mut txd) = (setup.rx_descriptors, setup.tx_descriptors);
        // SAFETY: valid port and out-pointers.
        let rc = unsafe { sys::rte_eth_dev_adjust_nb_rx_tx_desc(id, &mut rxd, &mut txd) };
        if rc != 0 {
            return Err(DpdkError::with_errno(
                what("rte_eth_dev_adjust_nb_rx_tx_desc"),
                rc,
            ));
        }
        // SAFETY: plain query; a negative answer (unknown socket) becomes SOCKET_ID_ANY.
        let socket = unsafe { sys::rte_eth_dev_socket_id(id) };
        let socket = u32::try_from(socket).unwrap_or(sys::SOCKET_ID_ANY as u32);
        for q in 0..setup.rx_queues {
            // SAFETY: the port is configured with this many rx queues; a null rxconf means the
            // driver's defaults; the port keeps a clone of the pool until it is stopped.
            let rc = unsafe {
                sys::rte_eth_rx_queue_setup(id, q, rxd, socket, ptr::null(), pool.as_ptr())
            };
            if rc != 0 {
                return Err(DpdkError::with_errno(
                    format!("{} queue {q}", what("rte_eth_rx_queue_setup")),
                    rc,
                ));
            }
        }
        for q in 0..setup.tx_queues {
            // SAFETY: as above, for tx queues.
            let rc = unsafe { sys::rte_eth_tx_queue_setup(id, q, txd, socket, ptr::null()) };
            if rc != 0 {
                return Err(DpdkError::with_errno(
                    format!("{} queue {q}", what("rte_eth_tx_queue_setup")),
                    rc,
                ));
            }
        }
        // SAFETY: every queue is set up.
        let rc = unsafe { sys::rte_eth_dev_start(id) };
        if rc != 0 {
            return Err(DpdkError::with_errno(what("rte_eth_dev_start"), rc));
        }
        self.started = true;
        self.rx_queues = setup.rx_queues;
        // A middlebox sees frames for any address. Virtual devices may not implement it; that
        // is no reason to fail.
        // SAFETY: the port is started.
        unsafe { sys::rte_eth_promiscuous_enable(id) };
        Ok(())
    }
}

impl Drop for Port<'_> {
    fn drop(&mut self) {
        if self.started && self.hotplugged.is_some() {
            self.drain();
        }
        // SAFETY: no worker uses the port any more (workers are joined before ports drop);
        // stopping returns the mbufs the driver holds to the pool, which `self.pool` keeps
        // alive until after this body.
        unsafe {
            if self.started {
                sys::rte_eth_dev_stop(self.id);
            }
            self.owner.release(self.id);
            if let Some(name) = &self.hotplugged {
                sys::rte_eth_dev_close(self.id);
                sys::rte_vdev_uninit(name.as_ptr());
            }
        }
    }
}

impl Port<'_> {
    /// Frees what is still waiting in the rx queues of a port about to be destroyed: a software
    /// device (`net_ring`) frees its queues' memory on close without freeing the mbufs in them.
    /// Bounded, since some devices (`net_null`) never run dry.
    fn drain(&mut self) {
        const BURSTS: usize = 64;
        let mut burst = [ptr::null_mut::<sys::rte_mbuf>(); 32];
        for q in 0..self.rx_queues {
            for _ in 0..BURSTS {
                // SAFETY: the port is started and no worker polls it any more; `burst` has room
                // for 32 pointers.
                let n = unsafe { sys::mos_rte_eth_rx_burst(self.id, q, burst.as_mut_ptr(), 32) };
                if n == 0 {
                    break;
                }
                // SAFETY: the mbufs were just received and are referenced nowhere else.
                unsafe { sys::rte_pktmbuf_free_bulk(burst.as_mut_ptr(), u32::from(n)) };
            }
        }
    }
}

fn port_by_name(name: &CStr) -> Result<u16, DpdkError> {
    let mut id = 0u16;
    // SAFETY: valid C string and out-pointer.
    let rc = unsafe { sys::rte_eth_dev_get_port_by_name(name.as_ptr(), &mut id) };
    if rc != 0 {
        return Err(DpdkError::with_errno(
            format!("no port named {:?}", name.to_string_lossy()),
            rc,
        ));
    }
    Ok(id)
}

fn port_name(id: u16) -> String {
    let mut buf = [0 as c_char; 64];
    // SAFETY: the buffer is RTE_ETH_NAME_MAX_LEN (64) long, as the call requires.
    let rc = unsafe { sys::rte_eth_dev_get_name_by_port(id, buf.as_mut_ptr()) };
    if rc != 0 {
        return format!("port{id}");
    }
    // SAFETY: on success DPDK wrote a NUL-terminated name into the buffer.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

fn caps(id: u16) -> Result<PortCaps, DpdkError> {
    let mut info = sys::rte_eth_dev_info::default();
    // SAFETY: valid port and out-pointer.
    let rc = unsafe { sys::rte_eth_dev_info_get(id, &mut info) };
    if rc != 0 {
        return Err(DpdkError::with_errno(
            format!("rte_eth_dev_info_get(port {id})"),
            rc,
        ));
    }
    let driver = if info.driver_name.is_null() {
        String::new()
    } else {
        // SAFETY: DPDK sets driver_name to a static NUL-terminated string.
        unsafe { CStr::from_ptr(info.driver_name) }
            .to_string_lossy()
            .into_owned()
    };
    Ok(PortCaps {
        driver,
        max_rx_queues: info.max_rx_queues,
        max_tx_queues: info.max_tx_queues,
        rss_offloads: info.flow_type_rss_offloads,
        hash_key_size: info.hash_key_size,
        rx_offloads: info.rx_offload_capa,
    })
}
