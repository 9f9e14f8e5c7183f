//! Locating the public captures (`MOS_TRACES`, default `../shared/traces/public`).

use std::path::PathBuf;

/// The directory of the public captures, or `None` (with the reason printed) when absent.
/// Under `CI=true` an absent directory is a failure, not a skip.
pub fn public_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("MOS_TRACES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("..")
                .join("shared")
                .join("traces")
                .join("public")
        });
    if dir.join("MANIFEST.md").is_file() {
        return Some(dir);
    }
    let msg = format!(
        "public traces not found in {} (set MOS_TRACES)",
        dir.display()
    );
    if is_ci() {
        panic!("{msg}; CI=true requires them");
    }
    eprintln!("skipped: {msg}");
    None
}

/// Every capture in the public directory, sorted by name.
pub fn public_captures(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    matches!(
                        p.extension().and_then(|e| e.to_str()),
                        Some("pcap" | "pcapng")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Whether we run under CI (`CI=true`): skips become failures.
pub fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether tshark can be run; prints the skip reason (or panics under CI) when not.
pub fn tshark_available() -> bool {
    let ok = std::process::Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if is_ci() {
            panic!("tshark is not installed; CI=true requires it (apt-get install -y tshark)");
        }
        eprintln!("skipped: tshark not installed (apt-get install -y tshark)");
    }
    ok
}
