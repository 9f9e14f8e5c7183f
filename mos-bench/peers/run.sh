#!/usr/bin/env bash
# mos and its peers side by side, in one command:
#
#   mos-bench/peers/run.sh [--preset W5] [--seed 1] [--runs 5] [--pcap FILE [--truth FILE]]
#                          [--no-tshark] [--tshark-runs N] [--workdir DIR]
#
# Builds mos-bench and mos-synth (release), then runs `mos-bench peers`, which builds the C
# peers (libnids monitor, mapped-file ceiling, libpcap loop), generates the workload if needed,
# checks mos's counts against the ground truth, runs every tool alternately (each run a whole
# process, the file in the page cache) and prints medians, min-max, peak RSS and the ratios
# mos/peer. System packages (Debian 12):
#
#   apt-get install -y gcc libnids-dev libpcap-dev time tshark
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
for tool in cc /usr/bin/time; do
    command -v "$tool" >/dev/null || {
        echo "run.sh: $tool not found (apt-get install -y gcc libnids-dev libpcap-dev time tshark)" >&2
        exit 1
    }
done
cargo build --release -q -p mos-bench -p mos-synth
target="${CARGO_TARGET_DIR:-$root/target}"
exec "$target/release/mos-bench" peers "$@"
