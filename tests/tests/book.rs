//! The book (`book/`) cannot rot without this suite noticing:
//!
//! - every `{{#include ..}}` in `book/src` names a file that exists, and its anchor (or line
//!   range) is in it; every page is in `SUMMARY.md` and every entry of `SUMMARY.md` exists;
//!   every picture a page shows exists;
//! - the book's own listings (`book/listings/*.rs`) are compiled here, run over scripted
//!   captures, and what they print is compared with the `.out` files the book shows;
//! - the event-order sequences the book shows are what `eventlog` prints now;
//! - the event graphs (`book/src/graphs/NAME.dot`) are what the example apps generate now, and
//!   each rendered SVG names every handler of its graph;
//! - the table of events and hooks is `Event::hooks()`, and the table of known conformance
//!   differences lists exactly the `KNOWN` entries of `tests/tests/conformance.rs`.
//!
//! After a deliberate change, `MOS_UPDATE_BOOK=1 cargo test -p mos-tests --test book` rewrites
//! the `.out` and `.dot` files; then re-render the SVGs (see `book/src/graphs.md`) and review
//! the diff.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mos_runtime::OverlapPolicy;
use mos_runtime::Report;
use mos_runtime::prelude::*;
use mos_synth::script::{ACK, Client, PSH, Script, Server};
use mos_tests::conversations::{self, established, event_log, replay, run};

#[path = "../../book/listings/lines.rs"]
mod lines;
#[path = "../../book/listings/shop.rs"]
mod shop;
#[path = "../../book/listings/sides.rs"]
mod sides;
#[path = "../../book/listings/timers.rs"]
mod timers;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn book() -> PathBuf {
    root().join("book")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn updating() -> bool {
    std::env::var_os("MOS_UPDATE_BOOK").is_some()
}

/// Compares `got` with the committed file `path` (relative to `book/`), or rewrites it.
fn check_file(path: &str, got: &str) {
    mos_tests::golden::check(
        &book().join(path),
        got,
        "MOS_UPDATE_BOOK",
        "cargo test -p mos-tests --test book",
    );
}

/// Every Markdown page under `dir`, recursively.
fn pages(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            pages(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

fn all_pages() -> Vec<PathBuf> {
    let mut out = Vec::new();
    pages(&book().join("src"), &mut out);
    out
}

/// The `{{#include ARG}}` (and `{{#rustdoc_include ARG}}`) arguments of a page.
fn includes(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for directive in ["{{#include ", "{{#rustdoc_include "] {
        let mut rest = text;
        while let Some(start) = rest.find(directive) {
            let after = &rest[start + directive.len()..];
            let end = after
                .find("}}")
                .unwrap_or_else(|| panic!("unclosed {directive}"));
            out.push(after[..end].trim().to_string());
            rest = &after[end..];
        }
    }
    out
}

/// Whether `line` is mdBook's anchor marker `ANCHOR: name` or `ANCHOR_END: name`.
fn is_marker(line: &str, kind: &str, name: &str) -> bool {
    line.split_once(kind)
        .is_some_and(|(_, rest)| rest.trim() == name)
}

#[test]
fn every_include_resolves_to_a_file_and_an_anchor() {
    let mut checked = 0;
    for page in all_pages() {
        let text = read(&page);
        let dir = page.parent().expect("a page has a directory");
        for arg in includes(&text) {
            let mut parts = arg.split(':');
            let file = parts.next().expect("a path");
            let rest: Vec<&str> = parts.collect();
            let path = dir.join(file);
            let where_ = format!("{}: {{{{#include {arg}}}}}", page.display());
            let content = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{where_}: {}: {e}", path.display()));
            let lines: Vec<&str> = content.lines().collect();
            match rest.as_slice() {
                [] => assert!(!content.is_empty(), "{where_}: the file is empty"),
                [anchor] if anchor.parse::<usize>().is_err() => {
                    let start = lines
                        .iter()
                        .position(|l| is_marker(l, "ANCHOR:", anchor))
                        .unwrap_or_else(|| panic!("{where_}: no `ANCHOR: {anchor}` line"));
                    let end = lines
                        .iter()
                        .position(|l| is_marker(l, "ANCHOR_END:", anchor))
                        .unwrap_or_else(|| panic!("{where_}: no `ANCHOR_END: {anchor}` line"));
                    let body = lines[start + 1..end.max(start + 1)]
                        .iter()
                        .filter(|l| !l.contains("ANCHOR"))
                        .count();
                    assert!(
                        start < end && body > 0,
                        "{where_}: the anchor region is empty or reversed"
                    );
                }
                range => {
                    // `N`, `N:M`, `N:` or `:M` (1-based lines).
                    let start: usize = range
                        .first()
                        .filter(|s| !s.is_empty())
                        .map_or(1, |s| s.parse().expect("a line number"));
                    let end: usize = range
                        .get(1)
                        .filter(|s| !s.is_empty())
                        .map_or(start, |s| s.parse().expect("a line number"));
                    assert!(
                        start >= 1 && start <= end && end <= lines.len(),
                        "{where_}: the file has {} lines",
                        lines.len()
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} includes: is the book there?");
}

#[test]
fn summary_lists_every_page_and_every_picture_exists() {
    let src = book().join("src");
    let summary = read(&src.join("SUMMARY.md"));
    let mut listed = BTreeSet::new();
    for part in summary.split("](").skip(1) {
        let target = part.split(')').next().expect("a link target");
        assert!(
            src.join(target).is_file(),
            "SUMMARY.md links to {target}, which does not exist"
        );
        listed.insert(src.join(target));
    }
    for page in all_pages() {
        if page.file_name().is_some_and(|n| n == "SUMMARY.md") {
            continue;
        }
        assert!(
            listed.contains(&page),
            "{} is not in SUMMARY.md",
            page.display()
        );
        let text = read(&page);
        let dir = page.parent().expect("a page has a directory");
        for part in text.split("![").skip(1) {
            let Some(target) = part
                .split_once("](")
                .and_then(|(_, rest)| rest.split(')').next())
            else {
                continue;
            };
            assert!(
                dir.join(target).is_file(),
                "{} shows {target}, which does not exist",
                page.display()
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The listings

fn lines_of(core_lines: &[String]) -> String {
    let mut out = core_lines.join("\n");
    out.push('\n');
    out
}

fn counts(items: &[mos_runtime::report::Count]) -> String {
    let v: Vec<String> = items
        .iter()
        .map(|c| format!("{} {}", c.name, c.count))
        .collect();
    v.join(", ")
}

#[test]
fn sides_listing() {
    let (mut t, c) = established();
    t.send(c, Client, b"ping");
    t.send(c, Server, b"pong");
    t.close(c);
    let (_, core) = run::<sides::sides::App>(replay(&t).batch_size(1));
    check_file("listings/sides.out", &lines_of(&core.lines));
}

#[test]
fn shop_listing() {
    let mut t = Script::new();
    let a = t.tcp("10.0.0.1:40000", "10.0.0.2:80");
    t.handshake(a);
    t.send(
        a,
        Client,
        b"GET /index.html HTTP/1.1\r\nHost: shop.example\r\n\r\n",
    );
    t.send(a, Server, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    t.send(
        a,
        Client,
        b"POST /cart/add HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 0\r\n\r\n",
    );
    t.send(
        a,
        Server,
        b"HTTP/1.1 303 See Other\r\nContent-Length: 0\r\n\r\n",
    );
    t.close(a);
    // A server that speaks first: the response handler is still off on this connection.
    let b = t.tcp("10.0.0.3:40001", "10.0.0.2:80");
    t.handshake(b);
    t.send(b, Server, b"HTTP/1.1 408 Request Timeout\r\n\r\n");
    t.close(b);
    // Outside the app's scope (`tcp dst port 80`): orphans, no events of a connection.
    let c = t.tcp("10.0.0.1:40002", "10.0.0.2:443");
    t.handshake(c);
    t.close(c);
    let (report, core) = shop::run(t.to_pcap()).expect("run");
    let mut out = lines_of(&core.lines);
    out.push_str(&format!(
        "GET requests: {}, POST requests: {}\n",
        core.gets, core.posts
    ));
    out.push_str(&format!("handler calls: {}\n", counts(&report.handlers)));
    out.push_str(&format!("orphans: {}\n", counts(&report.orphans_by_reason)));
    check_file("listings/shop.out", &out);
}

fn run_lines(script: &Script, batch: usize, overlap: OverlapPolicy) -> String {
    let (_, core): (Report, lines::lines::Core) =
        lines::run(script.to_pcap(), batch, overlap).expect("run");
    lines_of(&core.lines)
}

#[test]
fn lines_listing() {
    // Out of order: the second half arrives first.
    let mut t = Script::new();
    let c = t.tcp("10.0.0.1:40000", "10.0.0.2:7");
    t.handshake(c);
    t.segment(c, Client)
        .rel_seq(4)
        .payload(b"def\n")
        .flags(ACK | PSH)
        .emit();
    t.segment(c, Client)
        .rel_seq(1)
        .payload(b"abc")
        .flags(ACK)
        .emit();
    t.ack(c, Server);
    t.close(c);
    check_file(
        "listings/lines-reorder.out",
        &run_lines(&t, 1, OverlapPolicy::First),
    );

    // A line split across two segments.
    let mut t = Script::new();
    let c = t.tcp("10.0.0.1:40000", "10.0.0.2:7");
    t.handshake(c);
    t.send(c, Client, b"HELLO wor");
    t.send(c, Client, b"ld\nBYE\n");
    t.close(c);
    check_file(
        "listings/lines-split.out",
        &run_lines(&t, 1, OverlapPolicy::First),
    );

    // Four bytes the capture never saw; the server acknowledged them.
    let mut t = Script::new();
    let c = t.tcp("10.0.0.1:40000", "10.0.0.2:7");
    t.handshake(c);
    t.send(c, Client, b"one\n");
    t.unseen(c, Client, 4);
    t.send(c, Client, b"three\n");
    t.close(c);
    check_file(
        "listings/lines-gap.out",
        &run_lines(&t, 1, OverlapPolicy::First),
    );

    // A retransmission with different bytes, while the first copy is still unread (one
    // receive batch), under two overlap policies.
    let mut t = Script::new();
    let c = t.tcp("10.0.0.1:40000", "10.0.0.2:7");
    t.handshake(c);
    for (rel, bytes) in [(1, &b"GOOD"[..]), (1, &b"EVIL"[..]), (5, &b"!\n"[..])] {
        t.segment(c, Client)
            .rel_seq(rel)
            .payload(bytes)
            .flags(ACK | PSH)
            .emit();
    }
    t.close(c);
    check_file(
        "listings/lines-overlap-first.out",
        &run_lines(&t, 32, OverlapPolicy::First),
    );
    check_file(
        "listings/lines-overlap-last.out",
        &run_lines(&t, 32, OverlapPolicy::Last),
    );
}

#[test]
fn timers_listing() {
    let mut t = Script::new();
    let a = t.tcp("10.0.0.1:40001", "10.0.0.2:80");
    t.handshake(a);
    t.send(a, Client, b"hi\n");
    t.close(a);
    let b = t.tcp("10.0.0.1:40002", "10.0.0.2:80");
    t.handshake(b);
    t.advance(Duration::from_secs(3));
    t.send(b, Client, b"late\n");
    t.close(b);
    let c = t.tcp("10.0.0.1:40003", "10.0.0.2:80");
    t.handshake(c);
    t.advance(Duration::from_secs(15));
    let d = t.tcp("10.0.0.1:40004", "10.0.0.2:80");
    t.handshake(d);
    t.send(d, Client, b"x\n");
    t.rst(d, Server);
    let e = t.tcp("10.0.0.1:40005", "10.0.0.2:80");
    t.handshake(e);
    let (_, core) = timers::run(t.to_pcap()).expect("run");
    check_file("listings/timers.out", &lines_of(&core.lines));
}

/// The sequences of the "order of events" chapter: the conversations of
/// [`mos_tests::conversations`], which `tests/tests/event_order.rs` pins line by line. The later
/// ones are shown without their handshake, which the first one shows.
#[test]
fn event_order_listings() {
    let full = lines_of(&event_log(&conversations::request_response(), 1));
    check_file("listings/event-order.out", &full);
    let handshake: Vec<&str> = full.lines().take(12).collect();
    assert_eq!(
        handshake.last(),
        Some(&"ON_TCP_STATE_CHANGE@RCV server c2s ESTABLISHED")
    );
    let after_handshake = |log: Vec<String>| -> String {
        let lines: Vec<&str> = log.iter().map(String::as_str).collect();
        assert_eq!(lines[..12], handshake[..], "the same handshake");
        lines_of(&log[12..])
    };
    check_file(
        "listings/event-order-rexmit.out",
        &after_handshake(event_log(&conversations::retransmission(), 1)),
    );
    check_file(
        "listings/event-order-batch.out",
        &after_handshake(event_log(&conversations::unacknowledged_writes(), 32)),
    );

    let mut t = Script::new();
    conversations::midstream_data(&mut t);
    conversations::udp_datagram(&mut t);
    check_file(
        "listings/event-order-orphans.out",
        &lines_of(&event_log(&t, 1)),
    );
}

// ---------------------------------------------------------------------------------------------
// Event graphs

#[test]
fn event_graphs_are_what_the_apps_generate() {
    let listings = [("shop", shop::shop::App::EVENT_GRAPH)];
    for (name, graph) in mos_examples::graph::GRAPHS.into_iter().chain(listings) {
        let now = graph.to_dot();
        check_file(&format!("src/graphs/{name}.dot"), &now);
        if updating() {
            continue;
        }
        let svg_path = book().join(format!("src/graphs/{name}.svg"));
        let svg = read(&svg_path);
        assert!(svg.contains("<svg"), "{}: not an SVG", svg_path.display());
        // Every handler and every event of the graph is drawn: the picture was rendered from
        // this graph, not an older one.
        for line in now.lines() {
            let Some(label) = line
                .split_once("label=\"")
                .and_then(|(_, rest)| rest.split(['"', '\\']).next())
            else {
                continue;
            };
            let label = label.split(" @ ").next().unwrap_or(label);
            assert!(
                svg.contains(label),
                "{} does not show `{label}`: re-render it (book/src/graphs.md)",
                svg_path.display()
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tables that mirror code

#[test]
fn the_event_table_is_the_runtime_catalog() {
    let text = read(&book().join("src/events.md"));
    let mut seen = Vec::new();
    for row in text.lines().filter(|l| l.starts_with("| `ON_")) {
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        let name = cells[0].trim_matches('`');
        let hooks: Vec<&str> = cells[cells.len() - 1]
            .split(',')
            .map(|h| h.trim().trim_matches('`'))
            .collect();
        let event = Event::ALL
            .into_iter()
            .find(|e| e.name() == name)
            .unwrap_or_else(|| panic!("events.md lists {name}, which is not a built-in event"));
        let want: Vec<&str> = event.hooks().iter().map(|h| h.name()).collect();
        assert_eq!(hooks, want, "events.md: the hooks of {name}");
        seen.push(name.to_string());
    }
    let all: Vec<String> = Event::ALL.iter().map(|e| e.name().to_string()).collect();
    assert_eq!(
        seen, all,
        "events.md lists every built-in event once, in order"
    );

    // The payloads' tables: one row per name, in the runtime's order.
    let rows = |names: &[&str]| -> Vec<usize> {
        names
            .iter()
            .map(|n| {
                text.find(&format!("\n| `{n}` |"))
                    .unwrap_or_else(|| panic!("events.md has no row for `{n}`"))
            })
            .collect()
    };
    for names in [
        ErrorKind::ALL.map(ErrorKind::name).to_vec(),
        OrphanReason::ALL.map(OrphanReason::name).to_vec(),
        EndReason::ALL.map(EndReason::name).to_vec(),
    ] {
        let at = rows(&names);
        assert!(at.is_sorted(), "events.md lists {names:?} out of order");
    }
}

/// The `KNOWN` entries of the conformance suite: (trace, client, field, ours, theirs).
fn known_differences() -> BTreeSet<[String; 5]> {
    let text = read(&root().join("tests/tests/conformance.rs"));
    let body = text
        .split("const KNOWN: &[Known] = &[")
        .nth(1)
        .and_then(|rest| rest.split("\n];").next())
        .expect("conformance.rs has `const KNOWN: &[Known] = &[ .. ];`");
    let value = |entry: &str, key: &str| -> String {
        entry
            .split(&format!("{key}: \""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("a KNOWN entry without `{key}`: {entry}"))
            .to_string()
    };
    body.split("Known {")
        .skip(1)
        .map(|e| {
            [
                value(e, "trace"),
                value(e, "client"),
                value(e, "field"),
                value(e, "ours"),
                value(e, "theirs"),
            ]
        })
        .collect()
}

#[test]
fn the_known_differences_table_is_the_conformance_suite() {
    let text = read(&book().join("src/conformance.md"));
    let table = text
        .split("<!-- KNOWN -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- /KNOWN -->").next())
        .expect("conformance.md marks its table with <!-- KNOWN --> .. <!-- /KNOWN -->");
    let mut rows = BTreeSet::new();
    for row in table.lines() {
        if !row.starts_with("| `") {
            continue;
        }
        let cells: Vec<String> = row
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().trim_matches('`').to_string())
            .collect();
        let [trace, client, field, ours, theirs, ..] = cells.as_slice() else {
            panic!("a row with fewer than five cells: {row}");
        };
        let cell = |c: &str| {
            if c == "-" {
                String::new()
            } else {
                c.to_string()
            }
        };
        rows.insert([
            trace.clone(),
            client.clone(),
            field.clone(),
            cell(ours),
            cell(theirs),
        ]);
    }
    assert_eq!(
        rows,
        known_differences(),
        "conformance.md's table and tests/tests/conformance.rs KNOWN differ"
    );
}

#[test]
fn the_option_table_has_the_runtime_defaults() {
    let text = read(&book().join("src/dsl.md"));
    let cfg = mos_runtime::Config::default();
    let secs = |d: Duration| format!("{} s", d.as_secs());
    let want = [
        ("max_flows", cfg.max_flows.to_string()),
        ("buffer_size", cfg.buffer_size.to_string()),
        ("buffers", cfg.buffers.to_string()),
        ("max_holes", cfg.max_holes.to_string()),
        ("overlap", cfg.overlap.name().to_string()),
        ("idle_timeout", secs(cfg.idle_timeout)),
        ("evict_min_idle", secs(cfg.evict_min_idle)),
        ("batch_size", cfg.batch_size.to_string()),
        ("verify_checksums", cfg.verify_checksums.to_string()),
        ("buffering", cfg.buffering.to_string()),
        ("release_drained", cfg.release_drained.to_string()),
        ("progress", cfg.progress.to_string()),
    ];
    for (option, default) in want {
        let row = text
            .lines()
            .find(|l| l.starts_with(&format!("| `{option}(")))
            .unwrap_or_else(|| panic!("dsl.md has no row for `{option}`"));
        let last = row.trim_end_matches('|').rsplit('|').next().map(str::trim);
        assert_eq!(
            last,
            Some(default.as_str()),
            "dsl.md: the default of {option}"
        );
    }
}
