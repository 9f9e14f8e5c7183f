//! Resident memory of this process, from `/proc/self/status` (Linux).

/// One `kB` field of `/proc/self/status` (`VmHWM`, `VmRSS`, ...), in bytes.
pub fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        let kb: u64 = rest.trim().strip_suffix("kB")?.trim().parse().ok()?;
        Some(kb * 1024)
    })
}

/// Peak resident memory (`VmHWM`).
pub fn peak() -> Option<u64> {
    status_bytes("VmHWM")
}

/// Current resident memory (`VmRSS`).
pub fn current() -> Option<u64> {
    status_bytes("VmRSS")
}

/// Resets the peak to the current resident memory (writing `5` to `/proc/self/clear_refs`,
/// Linux 4.0 and later), so that a peak measured next belongs to what runs next. Returns
/// whether the kernel took it.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// CPU time this process has used so far, user and system, all threads (exited ones
/// included), in seconds: fields 14 and 15 of `/proc/self/stat`, in clock ticks of 1/100 s
/// (Linux's `USER_HZ` on every architecture it runs on). Unlike wall time it does not grow
/// while the machine runs something else.
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces: count fields after its closing paren.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = rest.split_whitespace();
    // After the paren: field 3 (state) is the first; utime is field 14, stime 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}
