//! Finds the system DPDK with pkg-config, compiles the C shim for DPDK's inline functions,
//! generates the bindings with bindgen and tells rustc which DPDK libraries to link.
//!
//! `pkg-config` is run as a tool rather than through the `pkg-config` crate because DPDK's
//! cflags carry `-include rte_config.h` and `-march=...`, which that crate drops: without the
//! first, DPDK's headers miss their build configuration (RTE_MAX_LCORE, RTE_CACHE_LINE_SIZE,
//! ...) and bindgen produces wrong layouts; the second selects the same SSE4.2 code paths the
//! distribution built DPDK with.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, exit};

/// Oldest DPDK whose API this crate's shim and bindings use (the `RTE_ETH_*` / `RTE_MBUF_F_*`
/// names arrived in 21.11).
const MIN_DPDK: &str = "21.11";

/// What a user without DPDK must install (Debian/Ubuntu names).
const INSTALL_HINT: &str =
    "apt-get install -y dpdk dpdk-dev libdpdk-dev libpcap-dev libclang-dev pkg-config";

/// Errno names DPDK's API returns (negated) or stores in `rte_errno`; bound so callers need no
/// libc crate to compare them.
const ERRNO_NAMES: &str = "EPERM|ENOENT|EIO|ENXIO|E2BIG|EAGAIN|ENOMEM|EFAULT|EBUSY|EEXIST|ENODEV|\
                           EINVAL|ENOSPC|ERANGE|ENOSYS|ENOTSUP|EOPNOTSUPP|EALREADY|ENOEXEC|\
                           ENOBUFS|ETIMEDOUT|EPROTO|ECANCELED";

/// The DPDK headers whose declarations are bound (wrapper.h includes them), as path tails.
/// `rte_build_config` and `rte_config` hold the build's limits (RTE_MAX_LCORE,
/// RTE_PKTMBUF_HEADROOM, ...), `rte_log` the log-level controls, and the `*_core` and
/// `generic/` ones what their public header moved there.
const DPDK_HEADERS: &str = "rte_build_config|rte_config|rte_bus_vdev|rte_cycles|\
                            generic/rte_cycles|rte_eal|rte_errno|rte_ethdev|rte_ether|\
                            rte_launch|rte_lcore|rte_log|rte_mbuf|rte_mbuf_core|rte_mbuf_ptype|\
                            rte_mempool|rte_ring|rte_ring_core|rte_version";

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir =
        PathBuf::from(env::var_os("OUT_DIR").unwrap_or_else(|| fail("OUT_DIR is not set")));
    let csrc = manifest_dir.join("csrc");

    for file in ["shim.c", "shim.h", "wrapper.h"] {
        println!("cargo::rerun-if-changed={}", csrc.join(file).display());
    }
    for var in [
        "PKG_CONFIG",
        "PKG_CONFIG_PATH",
        "PKG_CONFIG_LIBDIR",
        "PKG_CONFIG_SYSROOT_DIR",
    ] {
        println!("cargo::rerun-if-env-changed={var}");
    }

    let dpdk = Dpdk::probe();
    println!("cargo::metadata=version={}", dpdk.version);
    println!(
        "cargo::metadata=include={}",
        env::join_paths(&dpdk.include_dirs)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
    );

    compile_shim(&dpdk, &csrc);
    generate_bindings(&dpdk, &csrc, &out_dir);
    emit_link_flags(&dpdk);
}

/// What pkg-config says about `libdpdk`.
struct Dpdk {
    version: String,
    /// `pkg-config --cflags`, token by token (`-include` and `rte_config.h` are two tokens).
    cflags: Vec<String>,
    include_dirs: Vec<PathBuf>,
    /// `pkg-config --libs`, token by token.
    libs: Vec<String>,
}

impl Dpdk {
    fn probe() -> Dpdk {
        let version = pkg_config(&["--modversion", "libdpdk"]);
        let version = version.trim().to_owned();
        if !pkg_config_ok(&["--atleast-version", MIN_DPDK, "libdpdk"]) {
            fail(&format!(
                "found DPDK {version} (libdpdk), but dpdk-sys needs DPDK >= {MIN_DPDK}"
            ));
        }
        // DPDK's install paths have no spaces, so splitting on whitespace is exact.
        let cflags: Vec<String> = pkg_config(&["--cflags", "libdpdk"])
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let include_dirs = cflags
            .iter()
            .filter_map(|f| f.strip_prefix("-I"))
            .map(PathBuf::from)
            .collect();
        let libs = pkg_config(&["--libs", "libdpdk"])
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        Dpdk {
            version,
            cflags,
            include_dirs,
            libs,
        }
    }
}

/// Compiles csrc/shim.c into a static library linked into this crate.
fn compile_shim(dpdk: &Dpdk, csrc: &Path) {
    let mut build = cc::Build::new();
    build
        .file(csrc.join("shim.c"))
        .include(csrc)
        .warnings(true)
        .extra_warnings(true);
    // The wrappers are one call each; optimise them in every profile so a debug build of the
    // runtime does not pay for an unoptimised rx/tx path through C.
    build.opt_level(3);
    for flag in &dpdk.cflags {
        // DPDK's `-march=corei7` comes after cc's own target flags, so it wins, as intended.
        build.flag(flag);
    }
    build.compile("mos_dpdk_shim");
}

/// Runs bindgen over csrc/wrapper.h into `$OUT_DIR/bindings.rs`.
fn generate_bindings(dpdk: &Dpdk, csrc: &Path, out_dir: &Path) {
    let rust_target = bindgen::RustTarget::stable(85, 0)
        .unwrap_or_else(|e| fail(&format!("bindgen rejects Rust 1.85 as a target: {e}")));
    let bindings = bindgen::Builder::default()
        .header(csrc.join("wrapper.h").to_string_lossy())
        .clang_args(&dpdk.cflags)
        .clang_arg(format!("-I{}", csrc.display()))
        .rust_target(rust_target)
        .rust_edition(bindgen::RustEdition::Edition2024)
        // Only what the headers named in wrapper.h declare (and what that refers to), not the
        // rest of DPDK (rte_flow alone would triple the bindings) or of libc.
        .allowlist_file(format!(".*/({DPDK_HEADERS})\\.h"))
        .allowlist_file(".*/shim\\.h")
        // Constants used with those APIs but defined elsewhere, and the errno values they return.
        .allowlist_var(format!("SOCKET_ID_ANY|{ERRNO_NAMES}"))
        // The offload/RSS/mbuf flags are function-like macros (`RTE_BIT64(n)`), which bindgen's
        // own evaluator skips; clang evaluates them instead.
        .clang_macro_fallback()
        .clang_macro_fallback_build_dir(out_dir)
        // DPDK's enumerators already carry their prefix (RTE_ETH_MQ_RX_RSS).
        .prepend_enum_name(false)
        // Configuration structs (rte_eth_conf, ...) are meant to be zero-initialised.
        .derive_default(true)
        // Edition 2024 wants each unsafe operation in its own block, also in generated code.
        .wrap_unsafe_ops(true)
        .layout_tests(true)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .parse_callbacks(Box::new(FlagWidths))
        .generate()
        .unwrap_or_else(|e| {
            fail(&format!(
                "bindgen failed on the DPDK {} headers: {e}",
                dpdk.version
            ))
        });
    let path = out_dir.join("bindings.rs");
    bindings
        .write_to_file(&path)
        .unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", path.display())));
}

/// Gives the 64-bit flag macros the type of the field they are or-ed into, and errno values
/// the `int` type DPDK returns them in.
///
/// bindgen types each integer macro by its value, so `RTE_MBUF_F_RX_RSS_HASH` (bit 1) would be
/// a `u32` and `RTE_MBUF_F_TX_IPV4` (bit 55) a `u64`, and the top bit an `i64`; masks of
/// `ol_flags`, `offloads` and `rss_hf` (all `uint64_t`) must share one type to be combined.
#[derive(Debug)]
struct FlagWidths;

impl bindgen::callbacks::ParseCallbacks for FlagWidths {
    fn int_macro(&self, name: &str, _value: i64) -> Option<bindgen::callbacks::IntKind> {
        let is_u64_flag = ["RTE_MBUF_F_", "RTE_ETH_RX_OFFLOAD_", "RTE_ETH_TX_OFFLOAD_", "RTE_ETH_RSS_"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
            // Redirection table sizes share the RSS prefix but size a u16 field.
            && !name.starts_with("RTE_ETH_RSS_RETA_SIZE_");
        if is_u64_flag {
            return Some(bindgen::callbacks::IntKind::U64);
        }
        // DPDK returns errors as negative `int`s and keeps `rte_errno` as an `int`.
        let is_errno = ERRNO_NAMES.split('|').any(|errno| errno.trim() == name);
        is_errno.then_some(bindgen::callbacks::IntKind::Int)
    }
}

/// Links the DPDK shared libraries pkg-config lists, plus the vdev bus driver.
fn emit_link_flags(dpdk: &Dpdk) {
    for token in &dpdk.libs {
        if let Some(dir) = token.strip_prefix("-L") {
            println!("cargo::rustc-link-search=native={dir}");
        } else if let Some(lib) = token.strip_prefix("-l") {
            println!("cargo::rustc-link-lib=dylib={lib}");
        }
        // `-Wl,--as-needed` is dropped: rustc already links dylibs as-needed on Linux, and a
        // link-arg from a library's build script would not reach its dependents' links anyway.
    }
    // `rte_vdev_init`/`rte_vdev_uninit` live in the vdev bus driver, which pkg-config does not
    // list (drivers are plugins that EAL dlopens); hot-plugging vdevs needs it linked.
    println!("cargo::rustc-link-lib=dylib=rte_bus_vdev");
}

/// Runs pkg-config and returns its stdout, or fails the build with the install hint.
fn pkg_config(args: &[&str]) -> String {
    let tool = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_owned());
    let output = Command::new(&tool).args(args).output().unwrap_or_else(|e| {
        fail(&format!(
            "cannot run `{tool}` ({e}), so the system DPDK cannot be found"
        ))
    });
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        fail(&format!(
            "`{tool} {}` failed: DPDK (libdpdk) is not installed or not on PKG_CONFIG_PATH.\n{}",
            args.join(" "),
            stderr.trim()
        ));
    }
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs pkg-config for a yes/no question (exit status only).
fn pkg_config_ok(args: &[&str]) -> bool {
    let tool = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_owned());
    Command::new(tool)
        .args(args)
        .status()
        .is_ok_and(|s| s.success())
}

/// Stops the build with one clear message.
fn fail(reason: &str) -> ! {
    eprintln!(
        "\nerror: dpdk-sys cannot be built: {reason}\n\n\
         dpdk-sys binds the system DPDK (>= {MIN_DPDK}; Debian 12 ships 22.11). Install it with:\n\n    \
         {INSTALL_HINT}\n\n\
         Only the `dpdk` feature of mos-runtime needs DPDK; a plain `cargo build` / `cargo test` \
         of the workspace does not build this crate.\n"
    );
    exit(1);
}
