/*
 * What bindgen sees: the DPDK headers the mos runtime uses, plus the shim's declarations
 * (bound only to check the hand-written Rust declarations in src/lib.rs against them).
 * build.rs binds only what these files declare (DPDK_HEADERS there): a header added here
 * must be added there too.
 * rte_config.h comes first, as DPDK's own `-include rte_config.h` cflag would put it.
 * Protocol headers (rte_ip.h, rte_tcp.h, ...) are left out on purpose: mos parses packets
 * in Rust.
 */
#include <rte_config.h>
#include <errno.h>
#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_launch.h>
#include <rte_log.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_version.h>

#include "shim.h"
