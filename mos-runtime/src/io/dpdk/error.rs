//! The error type of the DPDK layer: which call failed, and DPDK's own words for why.

use std::ffi::CStr;
use std::fmt;

use crate::runtime::RunError;

/// A failed DPDK call (or a DPDK setup the configuration does not allow).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DpdkError {
    /// What was being done, e.g. `rte_eth_dev_configure(port 0 "net_pcap0")`.
    pub context: String,
    /// The positive errno (`rte_errno` or a negated return code), when DPDK gave one.
    pub errno: Option<i32>,
}

impl DpdkError {
    /// An error with an errno; `code` may be given negated, as DPDK's calls return it.
    pub(crate) fn with_errno(context: impl Into<String>, code: i32) -> DpdkError {
        DpdkError {
            context: context.into(),
            errno: Some(code.saturating_abs()),
        }
    }

    /// An error without an errno (a configuration or capability mismatch).
    pub(crate) fn msg(context: impl Into<String>) -> DpdkError {
        DpdkError {
            context: context.into(),
            errno: None,
        }
    }

    /// An error from the calling thread's `rte_errno`, which the failed call set.
    pub(crate) fn from_rte_errno(context: impl Into<String>) -> DpdkError {
        // SAFETY: reads a per-thread variable; no preconditions.
        let errno = unsafe { dpdk_sys::mos_rte_errno() };
        DpdkError::with_errno(context, errno)
    }
}

/// DPDK's text for an errno (`rte_strerror` knows both libc's values and its own `E_RTE_*`).
pub(crate) fn strerror(errno: i32) -> String {
    // SAFETY: rte_strerror returns a pointer to a NUL-terminated string that is either static
    // or in a per-thread buffer that stays valid until this thread's next call; it is copied
    // out at once.
    unsafe {
        let text = dpdk_sys::rte_strerror(errno);
        if text.is_null() {
            return format!("error {errno}");
        }
        CStr::from_ptr(text).to_string_lossy().into_owned()
    }
}

impl fmt::Display for DpdkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errno {
            Some(errno) => write!(f, "{}: {} (errno {errno})", self.context, strerror(errno)),
            None => f.write_str(&self.context),
        }
    }
}

impl std::error::Error for DpdkError {}

impl From<DpdkError> for RunError {
    /// DPDK set-up failures are reported as configuration errors (bad EAL flags, a vdev string
    /// the driver refuses, a queue count the port lacks), with DPDK's own text.
    fn from(e: DpdkError) -> RunError {
        RunError::Config(format!("DPDK: {e}"))
    }
}
