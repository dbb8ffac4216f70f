/*
 * Traffic generator for vpbench: an in-memory corpus of HTTP-like flows
 * (requests, responses, TLS records), deterministic for a given seed, cut
 * into chunks that are scanned round-robin across the flows.
 */
#ifndef VPBENCH_TRAFFIC_H
#define VPBENCH_TRAFFIC_H

#include <stddef.h>
#include <stdint.h>

typedef struct bench_flow {
    size_t off, len;      /* bytes of the flow in the corpus */
    uint16_t port;        /* server port: 80, 443, 8080 or 8000 */
    uint8_t to_client;    /* 1: server-to-client stream (responses) */
    uint8_t tls;
    uint32_t triggers;    /* attack messages inserted */
} bench_flow;

typedef struct bench_chunk {
    const uint8_t *p;
    uint32_t flow;
    uint32_t len;
} bench_chunk;

typedef struct bench_corpus {
    uint8_t *data;
    size_t len;
    bench_flow *flows;
    size_t n_flows;
    bench_chunk *chunks;  /* round-robin: chunk k of every flow, then chunk k+1 ... */
    size_t n_chunks;
    size_t chunk_size;
    uint64_t triggers;    /* attack messages in the whole corpus */
} bench_corpus;

/* Generates about `bytes` bytes over `n_flows` flows.  Triggers are drawn for
 * rules 0..n_rules-1 (the largest rule set), small indices more often, so
 * that every rule set sees some events.  Returns 0 or -1 (out of memory). */
int corpus_generate(bench_corpus *c, size_t bytes, size_t n_flows, size_t chunk_size,
                    unsigned n_rules, uint64_t seed);
void corpus_free(bench_corpus *c);

/* A corpus read from a directory of byte streams, one flow per file named
 * "NAME.PORT.to_server" or "NAME.PORT.to_client" (other files are ignored),
 * in name order, cut into chunks like corpus_generate.  Returns 0 or -1
 * (unreadable, empty or out of memory). */
int corpus_load_dir(bench_corpus *c, const char *dir, size_t chunk_size);

/* The chunks of the flows f with f % parts == part, in the same order. */
bench_chunk *corpus_part(const bench_corpus *c, unsigned part, unsigned parts, size_t *n);

/* Writes flows 0..k-1 (the most that fit in max_payload bytes) as an Ethernet
 * pcap with a handshake, MSS-sized segments interleaved round-robin and FINs.
 * Returns 0 or -1; *payload gets the TCP payload bytes written. */
int corpus_write_pcap(const bench_corpus *c, const char *path, size_t max_payload,
                      uint64_t *payload, uint64_t *packets, uint64_t *file_bytes);

#endif
