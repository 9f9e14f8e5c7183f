//! The Environment Abstraction Layer: started once per process, and lcore ids for workers.
//!
//! `rte_eal_init` succeeds once per process, ever (a second call fails with `EALREADY`, even
//! after `rte_eal_cleanup`), so the outcome of the first call is kept in a `OnceLock` and every
//! later run shares that EAL. It is called from a short-lived thread of its own because it pins
//! its caller to the main lcore's CPU: called directly it would pin whichever application or
//! test-harness thread happened to start the first run. The EAL is never cleaned up; the
//! operating system reclaims it at exit, as for any DPDK program that does not call
//! `rte_eal_cleanup` (with `--no-shconf` nothing is left on disk).
//!
//! Workers are ordinary threads of the run, each registered with `rte_thread_register` for the
//! run's duration: that gives it an lcore id of its own, so mempool per-lcore caches work and
//! `rte_lcore_id()` means something in it, while the EAL's own lcore threads stay untouched
//! and several runs (e.g. parallel tests) can share the process.

use std::ffi::{CString, c_char, c_int};
use std::sync::OnceLock;

use dpdk_sys as sys;

use super::DpdkError;

/// What the EAL looked like after start-up.
#[derive(Clone, Debug)]
pub(crate) struct EalInfo {
    /// TSC ticks per second (`rte_get_tsc_hz`).
    pub tsc_hz: u64,
    /// EAL lcores (`-l` / `--lcores`).
    pub lcores: u32,
}

static EAL: OnceLock<Result<EalInfo, DpdkError>> = OnceLock::new();

/// Starts the EAL with `args` (flags only, no program name) unless it already runs, in which
/// case `args` are ignored: the EAL can be initialised once per process. Returns the outcome
/// of the first initialisation (an error stays an error: DPDK cannot be retried).
pub fn init_eal(args: &[String]) -> Result<(), DpdkError> {
    start(args).map(|_| ())
}

/// [`init_eal`], returning what the EAL reported.
pub(crate) fn start(args: &[String]) -> Result<&'static EalInfo, DpdkError> {
    let outcome = EAL.get_or_init(|| {
        let args = args.to_vec();
        std::thread::Builder::new()
            .name("mos-eal-init".into())
            .spawn(move || init_now(&args))
            .map_err(|e| DpdkError::msg(format!("spawning the EAL init thread: {e}")))
            .and_then(|t| {
                t.join()
                    .unwrap_or_else(|_| Err(DpdkError::msg("the EAL init thread panicked")))
            })
    });
    outcome.as_ref().map_err(Clone::clone)
}

/// The running EAL, if [`init_eal`] succeeded.
pub(crate) fn running() -> Result<&'static EalInfo, DpdkError> {
    match EAL.get() {
        Some(Ok(info)) => Ok(info),
        Some(Err(e)) => Err(e.clone()),
        None => Err(DpdkError::msg(
            "the EAL is not initialised: call mos_runtime::io::dpdk::init_eal first",
        )),
    }
}

fn init_now(args: &[String]) -> Result<EalInfo, DpdkError> {
    let mut owned = Vec::with_capacity(args.len() + 1);
    owned.push(CString::new("mos").map_err(|e| DpdkError::msg(e.to_string()))?);
    for arg in args {
        owned.push(
            CString::new(arg.as_str())
                .map_err(|_| DpdkError::msg(format!("EAL flag {arg:?} contains a NUL byte")))?,
        );
    }
    // EAL keeps pointers into argv (getopt permutes it, and some flags are referenced later),
    // so the strings and the array live for the rest of the process: leaked on purpose, once.
    let argv: &'static mut [*mut c_char] =
        Vec::leak(owned.into_iter().map(CString::into_raw).collect::<Vec<_>>());
    let argc = c_int::try_from(argv.len())
        .map_err(|_| DpdkError::msg(format!("{} EAL flags", argv.len())))?;
    // SAFETY: argv holds argc valid NUL-terminated strings that are never freed; the OnceLock in
    // `start` makes this the only rte_eal_init call this module makes.
    let parsed = unsafe {
        sys::mos_rte_set_errno(0);
        sys::rte_eal_init(argc, argv.as_mut_ptr())
    };
    if parsed < 0 {
        // SAFETY: reads this thread's rte_errno, set by the failed call above.
        let errno = unsafe { sys::mos_rte_errno() };
        // Someone else in the process (another library, a raw dpdk-sys user) started the EAL
        // first: use theirs.
        if errno != sys::EALREADY {
            return Err(DpdkError::with_errno(
                format!("rte_eal_init({})", args.join(" ")),
                errno,
            ));
        }
    }
    // SAFETY: plain queries of an initialised EAL.
    let (tsc_hz, lcores) = unsafe { (sys::rte_get_tsc_hz(), sys::rte_lcore_count()) };
    Ok(EalInfo { tsc_hz, lcores })
}

/// An lcore id for the current thread while this guard lives.
#[derive(Debug)]
pub(crate) struct LcoreGuard {
    registered: bool,
    /// Registration is per thread: the guard must be dropped where it was made.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl LcoreGuard {
    /// Registers the calling thread with the EAL (a no-op for a thread that already has an
    /// lcore id). When the EAL has no lcore id left (`RTE_MAX_LCORE`), the thread runs without
    /// one: everything still works, only without a mempool cache.
    pub(crate) fn register() -> LcoreGuard {
        // SAFETY: called after EAL init (the run starts it first); both calls only touch the
        // calling thread's per-lcore state.
        let registered = unsafe {
            sys::mos_rte_lcore_id() == sys::LCORE_ID_ANY && sys::rte_thread_register() == 0
        };
        LcoreGuard {
            registered,
            _not_send: std::marker::PhantomData,
        }
    }
}

impl Drop for LcoreGuard {
    fn drop(&mut self) {
        if self.registered {
            // SAFETY: this thread registered itself in `register` and gives the id back once;
            // the guard is not Send, so this runs on that thread.
            unsafe { sys::rte_thread_unregister() };
        }
    }
}
