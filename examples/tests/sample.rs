//! The shipped sample (`examples/data/sample.pcap` and its ground truth) is exactly what the
//! project's generator writes, so the committed files cannot drift from `mos_synth::sample`.
//! After a deliberate change to the generator, regenerate them with
//! `cargo run -p mos-synth -- sample --out examples/data/sample.pcap --truth examples/data/sample.truth.jsonl`.

use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
}

const REGENERATE: &str = "regenerate with `cargo run -p mos-synth -- sample --out examples/data/sample.pcap \
     --truth examples/data/sample.truth.jsonl`";

#[test]
fn the_shipped_sample_is_the_generators_output() {
    let shipped = std::fs::read(data("sample.pcap")).expect("examples/data/sample.pcap");
    let generated = mos_synth::sample::pcap();
    assert!(
        shipped == generated,
        "examples/data/sample.pcap differs from mos_synth::sample::pcap() ({} vs {} bytes): {REGENERATE}",
        shipped.len(),
        generated.len()
    );
    assert!(shipped.len() < 1 << 20, "the sample must stay under 1 MB");
}

#[test]
fn the_shipped_ground_truth_is_the_generators_output() {
    let shipped = std::fs::read_to_string(data("sample.truth.jsonl"))
        .expect("examples/data/sample.truth.jsonl");
    let generated = mos_synth::sample::truth().to_json_lines();
    assert!(
        shipped == generated,
        "examples/data/sample.truth.jsonl differs: {REGENERATE}"
    );
}
