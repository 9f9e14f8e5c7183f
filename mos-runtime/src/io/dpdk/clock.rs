//! Packet timestamps on DPDK: the mbuf's rx-timestamp field where it holds real time, the TSC
//! otherwise (see [`super::Clock`]).

use std::ffi::c_int;
use std::time::{SystemTime, UNIX_EPOCH};

use dpdk_sys as sys;

use super::DpdkError;
use super::config::Clock;
use crate::time::Timestamp;

unsafe extern "C" {
    /// `rte_mbuf_dyn_rx_timestamp_register` (rte_mbuf_dyn.h, exported by librte_mbuf, which
    /// dpdk-sys links): registers, or finds, the rx-timestamp dynamic field and flag. dpdk-sys
    /// does not bind rte_mbuf_dyn.h, hence this one declaration here (DPDK 22.11 signature).
    fn rte_mbuf_dyn_rx_timestamp_register(field_offset: *mut c_int, rx_flag: *mut u64) -> c_int;
}

/// How one port's packets get their time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PortClock {
    /// TSC at rx.
    Tsc,
    /// The mbuf rx-timestamp field times `nanos_per_unit`, when the mbuf's flag says it is set.
    Mbuf { nanos_per_unit: u64 },
}

/// Microseconds: the unit in which DPDK's pcap driver stores the capture's timestamps.
const PCAP_NANOS_PER_UNIT: u64 = 1_000;

impl PortClock {
    /// The clock `mode` gives a port of driver `driver`.
    pub(crate) fn for_port(mode: Clock, driver: &str) -> PortClock {
        match mode {
            Clock::Auto if driver == "net_pcap" => PortClock::Mbuf {
                nanos_per_unit: PCAP_NANOS_PER_UNIT,
            },
            Clock::Auto | Clock::Tsc => PortClock::Tsc,
            Clock::MbufTimestamp { nanos_per_unit } => PortClock::Mbuf { nanos_per_unit },
        }
    }
}

/// The run's clock: the TSC's origin and rate, and where the mbuf timestamp lives.
#[derive(Debug)]
pub(crate) struct RunClock {
    tsc0: u64,
    wall0: u64,
    hz: u64,
    /// Byte offset of the timestamp field in an mbuf and the `ol_flags` bit that says it is
    /// set; `None` when no port of the run uses mbuf timestamps.
    field: Option<(usize, u64)>,
    /// Per port id.
    ports: [PortClock; sys::RTE_MAX_ETHPORTS as usize],
}

impl RunClock {
    /// Takes the (TSC, system time) origin now; `ports` gives each port's clock.
    pub(crate) fn new(hz: u64, ports: &[(u16, PortClock)]) -> Result<RunClock, DpdkError> {
        let mut by_port = [PortClock::Tsc; sys::RTE_MAX_ETHPORTS as usize];
        let mut field = None;
        for &(port, clock) in ports {
            if let Some(slot) = by_port.get_mut(usize::from(port)) {
                *slot = clock;
            }
            if matches!(clock, PortClock::Mbuf { .. }) && field.is_none() {
                let (mut offset, mut flag): (c_int, u64) = (-1, 0);
                // SAFETY: valid out-pointers; registering an existing field only looks it up.
                let rc = unsafe { rte_mbuf_dyn_rx_timestamp_register(&mut offset, &mut flag) };
                let offset = usize::try_from(offset)
                    .ok()
                    .filter(|_| rc == 0)
                    .ok_or_else(|| {
                        DpdkError::from_rte_errno("rte_mbuf_dyn_rx_timestamp_register")
                    })?;
                if offset + 8 > size_of::<sys::rte_mbuf>() {
                    return Err(DpdkError::msg(format!(
                        "rx timestamp field at offset {offset} lies outside the mbuf"
                    )));
                }
                field = Some((offset, flag));
            }
        }
        // SAFETY: reading the TSC has no preconditions.
        let tsc0 = unsafe { sys::mos_rte_rdtsc() };
        Ok(RunClock {
            tsc0,
            wall0: wall_nanos(),
            hz,
            field,
            ports: by_port,
        })
    }

    /// Whether every port runs on the TSC (then idle workers may advance the engine's clock
    /// with it, so timers fire on a quiet link).
    pub(crate) fn all_tsc(&self) -> bool {
        self.field.is_none()
    }

    /// Now, from the TSC.
    #[inline]
    pub(crate) fn now(&self) -> Timestamp {
        // SAFETY: reading the TSC has no preconditions.
        let tsc = unsafe { sys::mos_rte_rdtsc() };
        Timestamp(
            self.wall0
                .saturating_add(tsc_to_nanos(tsc.wrapping_sub(self.tsc0), self.hz)),
        )
    }

    /// The time of mbuf `m` received on `port`; `burst_time` is the TSC time of its burst.
    ///
    /// # Safety
    /// `m` must be a valid mbuf.
    #[inline]
    pub(crate) unsafe fn stamp(
        &self,
        m: *const sys::rte_mbuf,
        port: u16,
        burst_time: Timestamp,
    ) -> Timestamp {
        let Some(PortClock::Mbuf { nanos_per_unit }) = self.ports.get(usize::from(port)) else {
            return burst_time;
        };
        let Some((offset, flag)) = self.field else {
            return burst_time;
        };
        // SAFETY: `m` is valid (caller); the field lies inside the 128-byte mbuf header (checked
        // in `new`) and DPDK's dynamic fields are 8-byte aligned only by convention, so it is
        // read unaligned.
        unsafe {
            if super::mbuf::ol_flags(m) & flag == 0 {
                return burst_time;
            }
            let units = m.cast::<u8>().add(offset).cast::<u64>().read_unaligned();
            Timestamp(units.saturating_mul(*nanos_per_unit))
        }
    }
}

/// TSC ticks to nanoseconds at `hz` ticks per second (0 Hz: treat ticks as nanoseconds).
#[inline]
pub(crate) fn tsc_to_nanos(ticks: u64, hz: u64) -> u64 {
    if hz == 0 {
        return ticks;
    }
    u64::try_from(u128::from(ticks) * 1_000_000_000 / u128::from(hz)).unwrap_or(u64::MAX)
}

fn wall_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
