//! The README's code is real: its app is `examples/hello.rs` verbatim (which `cargo test`
//! compiles), its examples table lists every example of `examples/Cargo.toml`, and its first
//! command is the one whose output `examples/expected/flowdump-json.txt` pins.

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_readme_app_is_the_hello_example() {
    let readme = read("README.md");
    let section = readme
        .split("## Writing an app")
        .nth(1)
        .expect("README has a `## Writing an app` section");
    let code = section
        .split("```rust\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a ```rust block in that section");
    assert_eq!(
        code,
        read("examples/hello.rs"),
        "README's app and examples/hello.rs differ"
    );
}

#[test]
fn the_readme_lists_every_example() {
    let readme = read("README.md");
    let table = readme
        .split("## Examples")
        .nth(1)
        .expect("an Examples section");
    let manifest = read("examples/Cargo.toml");
    let names: Vec<&str> = manifest
        .split("[[example]]")
        .skip(1)
        .filter_map(|block| {
            block
                .lines()
                .find_map(|l| l.trim().strip_prefix("name = "))
                .map(|n| n.trim_matches('"'))
        })
        .collect();
    assert!(names.len() >= 10, "{names:?}");
    for name in names {
        assert!(
            table.contains(&format!("| `{name}` |")),
            "README's examples table lacks `{name}`"
        );
    }
}

#[test]
fn the_readme_quick_start_is_the_pinned_command() {
    let readme = read("README.md");
    let quick = readme
        .split("## Quick start")
        .nth(1)
        .expect("a Quick start section");
    assert!(quick.contains("cargo run --release --example flowdump -- --json"));
    assert!(quick.contains("cargo test --workspace"));
    assert!(readme.contains("book/src/SUMMARY.md"));
    // What that command prints on the shipped sample: one line per connection, then the summary.
    let pinned = read("examples/expected/flowdump-json.txt");
    let last = pinned.lines().last().expect("output");
    assert!(last.starts_with("{\"summary\":"), "{last}");
    assert!(pinned.lines().count() > 30);
}
