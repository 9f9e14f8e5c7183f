//! Golden files: output compared with a committed file, or the file rewritten when an
//! environment variable asks for it after a deliberate change.

use std::path::Path;

/// Compares `got` with the file at `path`; when the variable `update` is set, writes `got`
/// there instead. A difference panics naming the first differing line of each and the
/// command that rewrites the file (`rerun`).
pub fn check(path: &Path, got: &str, update: &str, rerun: &str) {
    if std::env::var_os(update).is_some() {
        std::fs::write(path, got).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let want = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}; create it with {update}=1 {rerun}", path.display()));
    if got != want {
        let first = got
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| got.lines().count().min(want.lines().count()));
        panic!(
            "{} differs from line {}:\n  now:       {:?}\n  committed: {:?}\n\
             ({update}=1 {rerun} rewrites it after a deliberate change)",
            path.display(),
            first + 1,
            got.lines().nth(first),
            want.lines().nth(first)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_passes_and_a_difference_names_its_line() {
        let path = std::env::temp_dir().join(format!("mos-golden-{}", std::process::id()));
        std::fs::write(&path, "a\nb\nc\n").unwrap();
        check(
            &path,
            "a\nb\nc\n",
            "MOS_GOLDEN_TEST_NEVER_SET",
            "cargo test",
        );
        let err = std::panic::catch_unwind(|| {
            check(
                &path,
                "a\nx\nc\n",
                "MOS_GOLDEN_TEST_NEVER_SET",
                "cargo test",
            )
        })
        .unwrap_err();
        let message = err.downcast_ref::<String>().unwrap();
        assert!(
            message.contains("from line 2") && message.contains("\"x\""),
            "{message}"
        );
        std::fs::remove_file(&path).unwrap();
    }
}
