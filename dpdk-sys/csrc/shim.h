/*
 * Out-of-line wrappers for DPDK's `static inline` functions and macros.
 *
 * bindgen cannot bind a `static inline` function (there is no symbol to link to), and
 * `rte_errno` / `rte_lcore_id()` read per-thread variables that only C can name. Each
 * `mos_*` function below is compiled once by build.rs (with DPDK's own cflags, so the
 * inlined bodies are the ones DPDK's headers intend) and is declared by hand in
 * src/lib.rs; the Rust declarations are checked against this header at compile time.
 *
 * Functions that DPDK already exports as real symbols (rte_pktmbuf_free_bulk,
 * rte_mempool_avail_count, rte_mempool_in_use_count, rte_get_tsc_hz, rte_vdev_init, ...)
 * are bound directly by bindgen and have no wrapper here.
 */
#ifndef MOS_DPDK_SHIM_H
#define MOS_DPDK_SHIM_H

#include <stdint.h>

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

/* ---- ethdev fast path ---- */

/** rte_eth_rx_burst: receive up to nb_pkts mbufs from one rx queue; returns how many. */
uint16_t mos_rte_eth_rx_burst(uint16_t port_id, uint16_t queue_id, struct rte_mbuf **rx_pkts,
                              uint16_t nb_pkts);
/** rte_eth_tx_burst: send up to nb_pkts mbufs; returns how many the driver took (it now owns them). */
uint16_t mos_rte_eth_tx_burst(uint16_t port_id, uint16_t queue_id, struct rte_mbuf **tx_pkts,
                              uint16_t nb_pkts);
/** rte_eth_rx_queue_count: used descriptors of an rx queue, or a negative errno (-ENOTSUP...). */
int mos_rte_eth_rx_queue_count(uint16_t port_id, uint16_t queue_id);

/* ---- mbuf allocation ---- */

/** rte_pktmbuf_alloc: one reset packet mbuf from mp, or NULL when the pool is empty. */
struct rte_mbuf *mos_rte_pktmbuf_alloc(struct rte_mempool *mp);
/** rte_pktmbuf_alloc_bulk: count reset mbufs, all or none; 0, or -ENOENT/-ENOBUFS when short. */
int mos_rte_pktmbuf_alloc_bulk(struct rte_mempool *mp, struct rte_mbuf **mbufs, unsigned int count);
/** rte_pktmbuf_free: free a packet and all its segments; NULL is a no-op. */
void mos_rte_pktmbuf_free(struct rte_mbuf *m);

/* ---- mbuf fields (macros or inline accessors in DPDK) ---- */

/** rte_pktmbuf_mtod(m, uint8_t *): start of the first segment's data. */
uint8_t *mos_rte_pktmbuf_mtod(struct rte_mbuf *m);
/** rte_pktmbuf_data_len: bytes of data in this segment. */
uint16_t mos_rte_pktmbuf_data_len(const struct rte_mbuf *m);
/** rte_pktmbuf_pkt_len: bytes of data in the whole packet (all segments). */
uint32_t mos_rte_pktmbuf_pkt_len(const struct rte_mbuf *m);
/** Set this segment's data_len (no check against the buffer size; see append/trim). */
void mos_rte_pktmbuf_set_data_len(struct rte_mbuf *m, uint16_t len);
/** Set the packet's pkt_len (no check; must equal the sum of the segments' data_len). */
void mos_rte_pktmbuf_set_pkt_len(struct rte_mbuf *m, uint32_t len);
/** Number of segments of the packet (1 unless chained). */
uint16_t mos_rte_pktmbuf_nb_segs(const struct rte_mbuf *m);
/** Next segment of a chained packet, or NULL. */
struct rte_mbuf *mos_rte_pktmbuf_next(const struct rte_mbuf *m);
/** Input port of a received packet. */
uint16_t mos_rte_pktmbuf_port(const struct rte_mbuf *m);
/** RSS hash set by the driver; valid only when ol_flags has RTE_MBUF_F_RX_RSS_HASH. */
uint32_t mos_rte_pktmbuf_rss_hash(const struct rte_mbuf *m);
/** Offload flags (RTE_MBUF_F_*). */
uint64_t mos_rte_pktmbuf_ol_flags(const struct rte_mbuf *m);
/** rte_pktmbuf_headroom: free bytes before the data in the first segment. */
uint16_t mos_rte_pktmbuf_headroom(const struct rte_mbuf *m);
/** rte_pktmbuf_tailroom: free bytes after the data in the last segment. */
uint16_t mos_rte_pktmbuf_tailroom(const struct rte_mbuf *m);

/* ---- mbuf data editing ---- */

/** rte_pktmbuf_append: grow the packet at its end; pointer to the new bytes, NULL if no room. */
uint8_t *mos_rte_pktmbuf_append(struct rte_mbuf *m, uint16_t len);
/** rte_pktmbuf_prepend: grow the packet at its start; new data start, NULL if no headroom. */
uint8_t *mos_rte_pktmbuf_prepend(struct rte_mbuf *m, uint16_t len);
/** rte_pktmbuf_adj: drop len bytes from the start; new data start, NULL if len > data_len. */
uint8_t *mos_rte_pktmbuf_adj(struct rte_mbuf *m, uint16_t len);
/** rte_pktmbuf_trim: drop len bytes from the end; 0, or -1 if len > last segment's data_len. */
int mos_rte_pktmbuf_trim(struct rte_mbuf *m, uint16_t len);

/* ---- rings (inter-lcore queues) ---- */

/** rte_ring_enqueue_burst: enqueue up to n pointers; returns how many; free_space may be NULL. */
unsigned int mos_rte_ring_enqueue_burst(struct rte_ring *r, void *const *obj_table, unsigned int n,
                                        unsigned int *free_space);
/** rte_ring_dequeue_burst: dequeue up to n pointers; returns how many; available may be NULL. */
unsigned int mos_rte_ring_dequeue_burst(struct rte_ring *r, void **obj_table, unsigned int n,
                                        unsigned int *available);
/** rte_ring_count: entries currently in the ring. */
unsigned int mos_rte_ring_count(const struct rte_ring *r);

/* ---- per-thread state and time ---- */

/** rte_lcore_id: this thread's lcore id, LCORE_ID_ANY (UINT32_MAX) in a non-EAL thread. */
unsigned int mos_rte_lcore_id(void);
/** rte_errno: this thread's last DPDK error (a positive errno or E_RTE_*). */
int mos_rte_errno(void);
/** Set this thread's rte_errno (e.g. to 0 before a call whose failure is only seen there). */
void mos_rte_set_errno(int value);
/** rte_rdtsc: the CPU's time-stamp counter; rte_get_tsc_hz() gives its frequency. */
uint64_t mos_rte_rdtsc(void);

#endif /* MOS_DPDK_SHIM_H */
