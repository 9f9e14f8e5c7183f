/*
 * ceiling: the least a flow monitor must do, for the side-by-side benchmark (peers/run.sh).
 *
 * Walks every frame of a classic pcap file and hashes its 5-tuple, direction-free (the two
 * endpoints ordered before mixing), as a flow table would before its lookup; nothing else.
 * The sum of the hashes is printed so the work cannot be optimised away.
 *
 *   ceiling FILE            the file mapped into memory (no copy, no read calls) and walked
 *                           in place: the ceiling of any in-memory replay
 *   ceiling --libpcap FILE  the same, with libpcap's offline reader (pcap_next_ex), the read
 *                           loop every libpcap-based monitor starts from
 *
 * Ethernet with up to two VLAN tags, IPv4 and IPv6 (no extension headers), TCP and UDP ports.
 * Build: cc -O2 -o ceiling ceiling.c -lpcap
 */
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t mix(uint64_t a, uint64_t b) {
    __uint128_t p = (__uint128_t)(a ^ 0x224225eacc4dc569ULL) * (b ^ 0x2a61deb1f272c43fULL);
    return (uint64_t)p ^ (uint64_t)(p >> 64);
}

static uint64_t load64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* The direction-free hash of a frame's 5-tuple, 0 when it has none. */
static uint64_t flow_hash(const unsigned char *f, uint32_t len) {
    uint32_t off = 14;
    if (len < 14)
        return 0;
    uint16_t type = (uint16_t)(f[12] << 8 | f[13]);
    for (int tags = 0; (type == 0x8100 || type == 0x88a8) && tags < 2; tags++) {
        if (len < off + 4)
            return 0;
        type = (uint16_t)(f[off + 2] << 8 | f[off + 3]);
        off += 4;
    }
    uint64_t a0, a1, b0, b1;
    uint8_t proto;
    uint32_t l4;
    if (type == 0x0800) {
        if (len < off + 20)
            return 0;
        uint32_t ihl = (f[off] & 15u) * 4;
        proto = f[off + 9];
        uint32_t s, d;
        memcpy(&s, f + off + 12, 4);
        memcpy(&d, f + off + 16, 4);
        a0 = s, a1 = 0, b0 = d, b1 = 0;
        l4 = off + ihl;
    } else if (type == 0x86dd) {
        if (len < off + 40)
            return 0;
        proto = f[off + 6];
        a0 = load64(f + off + 8), a1 = load64(f + off + 16);
        b0 = load64(f + off + 24), b1 = load64(f + off + 32);
        l4 = off + 40;
    } else {
        return 0;
    }
    uint16_t sp = 0, dp = 0;
    if ((proto == 6 || proto == 17) && len >= l4 + 4) {
        sp = (uint16_t)(f[l4] << 8 | f[l4 + 1]);
        dp = (uint16_t)(f[l4 + 2] << 8 | f[l4 + 3]);
    }
    /* Order the endpoints so both directions hash alike. */
    int swap = a0 > b0 || (a0 == b0 && (a1 > b1 || (a1 == b1 && sp > dp)));
    if (swap) {
        uint64_t t0 = a0, t1 = a1;
        uint16_t tp = sp;
        a0 = b0, a1 = b1, sp = dp;
        b0 = t0, b1 = t1, dp = tp;
    }
    uint64_t x = mix(a0, a1);
    uint64_t y = mix(b0, b1);
    uint64_t z = mix((uint64_t)sp | (uint64_t)dp << 16 | (uint64_t)proto << 32, x);
    return mix(y ^ z, x);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static long vm_hwm_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

int main(int argc, char **argv) {
    int use_pcap = argc == 3 && strcmp(argv[1], "--libpcap") == 0;
    const char *file = argv[argc - 1];
    if (argc < 2 || (argc == 3 && !use_pcap)) {
        fprintf(stderr, "usage: ceiling [--libpcap] FILE.pcap\n");
        return 2;
    }
    uint64_t packets = 0, sum = 0, bytes = 0;
    double t0 = now(), t1, t2;
    if (use_pcap) {
        char err[PCAP_ERRBUF_SIZE];
        pcap_t *p = pcap_open_offline(file, err);
        if (!p) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        struct pcap_pkthdr *h;
        const u_char *data;
        t1 = now();
        while (pcap_next_ex(p, &h, &data) == 1) {
            packets++;
            bytes += h->caplen;
            sum += flow_hash(data, h->caplen);
        }
        t2 = now();
        pcap_close(p);
    } else {
        int fd = open(file, O_RDONLY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) {
            perror(file);
            return 1;
        }
        size_t n = (size_t)st.st_size;
        const unsigned char *m = mmap(NULL, n, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (m == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        uint32_t magic;
        memcpy(&magic, m, 4);
        if (n < 24 || (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d)) {
            fprintf(stderr, "%s: not a little-endian classic pcap\n", file);
            return 1;
        }
        t1 = now();
        for (size_t off = 24; off + 16 <= n;) {
            uint32_t caplen;
            memcpy(&caplen, m + off + 8, 4);
            if (off + 16 + caplen > n)
                break;
            packets++;
            bytes += caplen;
            sum += flow_hash(m + off + 16, caplen);
            off += 16 + caplen;
        }
        t2 = now();
        munmap((void *)m, n);
        close(fd);
    }
    printf("{\"tool\":\"%s\",\"packets\":%llu,\"bytes\":%llu,\"hash_sum\":%llu,"
           "\"loop_seconds\":%.6f,\"startup_seconds\":%.6f,\"peak_rss_bytes\":%ld}\n",
           use_pcap ? "libpcap-loop" : "ceiling", (unsigned long long)packets,
           (unsigned long long)bytes, (unsigned long long)sum, t2 - t1, t1 - t0,
           vm_hwm_kb() * 1024);
    return 0;
}
