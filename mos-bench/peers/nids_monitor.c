/*
 * nids_monitor: the libnids equivalent of mos-bench's midstat app, for the side-by-side
 * benchmark (peers/run.sh).
 *
 * Every TCP connection libnids tracks is collected in both directions (reassembly on); per
 * connection it counts the reassembled bytes of each direction and finds the HTTP requests in
 * the client's stream (method, Host and URI of each request head, request bodies skipped by
 * Content-Length), folding each request into the same 64-bit digest mos-bench uses:
 * FNV-1a over "method \xff host \xff uri", summed. At the end it prints one JSON line.
 *
 * libnids settings: n_tcp_streams raised to 2^17 (a hash of that size, up to 3/4 of it in
 * streams at once), port-scan detection off (scan_num_hosts = 0). libnids verifies IP and TCP
 * checksums by default; --no-checksum turns that off for every address.
 *
 * Known differences from mos and the ground truth, none of which the comparison hides:
 * libnids tracks IPv4 only, reports a connection only once its three-way handshake
 * completed (refused connections are not seen), and on some connections where a segment was
 * lost after the tap while the sender went on (bulk uploads with retransmissions in the
 * workloads) it delivers fewer bytes than were sent: the segments it dropped are not
 * retransmitted, since the receiver had them.
 *
 * Build: cc -O2 -o nids_monitor nids_monitor.c -lnids -lpcap -lnet -lgthread-2.0 -lglib-2.0
 * Usage: nids_monitor [--no-checksum] FILE.pcap
 */
#include <nids.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct conn {
    uint64_t bytes[2]; /* [client->server, server->client] */
    uint64_t requests;
    uint64_t digest;
    uint64_t body_left; /* request body bytes still to skip */
    int not_http;
};

static struct {
    uint64_t packets, connections, closed, reset, timed_out, exiting;
    uint64_t bytes_client, bytes_server, http_requests, http_digest;
} total;

static const char *methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS",
                                "TRACE", "PATCH", "PROPFIND", "PROPPATCH", "MKCOL", "COPY",
                                "MOVE", "LOCK", "UNLOCK"};

static uint64_t fnv(uint64_t h, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* Length of a method followed by a space at the start of p (0: none). */
static size_t method_len(const char *p, size_t n) {
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
        size_t m = strlen(methods[i]);
        if (n > m && memcmp(p, methods[i], m) == 0 && p[m] == ' ')
            return m;
    }
    return 0;
}

/* Could p still become a method and a space (a request split before its first space)? */
static int method_prefix(const char *p, size_t n) {
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
        size_t m = strlen(methods[i]);
        if (n <= m && memcmp(p, methods[i], n) == 0)
            return 1;
    }
    return 0;
}

/* The end of the request head starting at p (just past the blank line), or 0. */
static size_t head_end(const char *p, size_t n) {
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i] != '\n')
            continue;
        if (p[i + 1] == '\n')
            return i + 2;
        if (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* Trimmed value of header `name` (with its colon) in the head [p, p+n), or NULL. */
static const char *header(const char *p, size_t n, const char *name, size_t *len) {
    size_t k = strlen(name);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && p[i - 1] != '\n')
            continue;
        if (i + k <= n && strncasecmp(p + i, name, k) == 0) {
            size_t s = i + k, e;
            while (s < n && (p[s] == ' ' || p[s] == '\t'))
                s++;
            e = s;
            while (e < n && p[e] != '\r' && p[e] != '\n')
                e++;
            while (e > s && (p[e - 1] == ' ' || p[e - 1] == '\t'))
                e--;
            *len = e - s;
            return p + s;
        }
    }
    return NULL;
}

/* Parses the complete request heads in the client's unread bytes; returns how many bytes
 * may be discarded (an incomplete head stays for the next callback). */
static size_t parse_requests(struct conn *c, const char *p, size_t n) {
    size_t pos = 0;
    while (pos < n && !c->not_http) {
        if (c->body_left > 0) {
            size_t skip = n - pos < c->body_left ? n - pos : c->body_left;
            c->body_left -= skip;
            pos += skip;
            continue;
        }
        const char *q = p + pos;
        size_t left = n - pos;
        size_t m = method_len(q, left);
        if (m == 0) {
            if (!method_prefix(q, left))
                c->not_http = 1;
            break;
        }
        size_t end = head_end(q, left);
        if (end == 0)
            break; /* incomplete head: keep it */
        const char *uri = q + m + 1;
        const char *sp = memchr(uri, ' ', end - m - 1);
        size_t uri_len = sp ? (size_t)(sp - uri) : 0;
        size_t host_len = 0, cl_len = 0;
        const char *host = header(q, end, "host:", &host_len);
        const char *cl = header(q, end, "content-length:", &cl_len);
        uint64_t h = 0xcbf29ce484222325ULL;
        h = fnv(h, q, m);
        h = fnv(h, "\xff", 1);
        h = fnv(h, host ? host : "", host ? host_len : 0);
        h = fnv(h, "\xff", 1);
        h = fnv(h, uri, uri_len);
        c->digest += h;
        c->requests++;
        if (cl)
            c->body_left = strtoull(cl, NULL, 10);
        pos += end;
    }
    return c->not_http ? n : pos;
}

static void fold(struct conn *c) {
    total.bytes_client += c->bytes[0];
    total.bytes_server += c->bytes[1];
    total.http_requests += c->requests;
    total.http_digest += c->digest;
}

static void tcp_callback(struct tcp_stream *a, void **unused) {
    (void)unused;
    struct conn *c = a->user;
    switch (a->nids_state) {
    case NIDS_JUST_EST:
        c = calloc(1, sizeof *c);
        if (!c) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
        a->user = c;
        a->client.collect++;
        a->server.collect++;
        total.connections++;
        return;
    case NIDS_DATA:
        if (!c)
            return;
        if (a->server.count_new) {
            /* Bytes the client sent: the server's half holds them. */
            c->bytes[0] += a->server.count_new;
            size_t unread = a->server.count - a->server.offset;
            nids_discard(a, (int)parse_requests(c, a->server.data, unread));
        }
        if (a->client.count_new)
            c->bytes[1] += a->client.count_new;
        return;
    default:
        if (!c)
            return;
        if (a->nids_state == NIDS_CLOSE)
            total.closed++;
        else if (a->nids_state == NIDS_RESET)
            total.reset++;
        else if (a->nids_state == NIDS_TIMED_OUT)
            total.timed_out++;
        else
            total.exiting++;
        fold(c);
        free(c);
        a->user = NULL;
    }
}

static void ip_frag_callback(void *pkt, int len) {
    (void)pkt;
    (void)len;
    total.packets++;
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

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    int checksums = 1;
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no-checksum") == 0)
            checksums = 0;
        else
            file = argv[i];
    }
    if (!file) {
        fprintf(stderr, "usage: nids_monitor [--no-checksum] FILE.pcap\n");
        return 2;
    }
    double t0 = now();
    nids_params.filename = (char *)file;
    nids_params.n_tcp_streams = 1 << 17;
    nids_params.scan_num_hosts = 0;
    nids_params.pcap_filter = NULL;
    if (!nids_init()) {
        fprintf(stderr, "nids_init: %s\n", nids_errbuf);
        return 1;
    }
    if (!checksums) {
        static struct nids_chksum_ctl all = {0, 0, NIDS_DONT_CHKSUM, 0};
        nids_register_chksum_ctl(&all, 1);
    }
    nids_register_ip_frag(ip_frag_callback);
    nids_register_tcp(tcp_callback);
    double t1 = now();
    nids_run();
    nids_exit(); /* NIDS_EXITING for the connections still open */
    double t2 = now();
    printf("{\"tool\":\"libnids\",\"checksums\":%s,\"packets\":%llu,\"connections\":%llu,"
           "\"closed\":%llu,\"reset\":%llu,\"timed_out\":%llu,\"exiting\":%llu,"
           "\"bytes_client\":%llu,\"bytes_server\":%llu,\"http_requests\":%llu,"
           "\"http_digest\":%llu,\"loop_seconds\":%.6f,\"startup_seconds\":%.6f,"
           "\"peak_rss_bytes\":%ld}\n",
           checksums ? "true" : "false", (unsigned long long)total.packets,
           (unsigned long long)total.connections, (unsigned long long)total.closed,
           (unsigned long long)total.reset, (unsigned long long)total.timed_out,
           (unsigned long long)total.exiting, (unsigned long long)total.bytes_client,
           (unsigned long long)total.bytes_server, (unsigned long long)total.http_requests,
           (unsigned long long)total.http_digest, t2 - t1, t1 - t0, vm_hwm_kb() * 1024);
    return 0;
}
