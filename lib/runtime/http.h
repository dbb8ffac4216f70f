/*
 * A streaming HTTP/1.x message parser for one direction of a flow.  It turns
 * raw stream bytes into the inspection buffers of the rule language and
 * reports them to a sink: whole buffers (request line and header parts) when
 * they are complete, body bytes as they are de-chunked and decompressed.
 * Everything it keeps is bounded by the limits; it never allocates per chunk
 * (the header area at the first byte, a zlib state while a compressed body is
 * being read).  It knows nothing about rules: see http_glue.c.
 */
#ifndef VP_RUNTIME_HTTP_H
#define VP_RUNTIME_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "../common/buffers.h"

typedef struct vp_http_limits {
    size_t header_bytes;       /* start line + header block kept per message */
    size_t body_bytes;         /* decoded body bytes inspected per message */
    size_t decompressed_bytes; /* inflated bytes per message */
    uint32_t max_ratio;        /* inflated/compressed beyond this stops inflating */
} vp_http_limits;

#define VP_HTTP_DEFAULT_HEADER_BYTES 8192
#define VP_HTTP_DEFAULT_BODY_BYTES (1u << 20)
#define VP_HTTP_DEFAULT_DECOMPRESSED_BYTES (4u << 20)
#define VP_HTTP_DEFAULT_MAX_RATIO 1000

typedef struct vp_http_sink {
    void *ctx;
    /* A new message (transaction) starts: per-transaction state resets. */
    void (*message_begin)(void *ctx);
    /* A complete buffer, known once the raw stream reached raw_at. */
    void (*buffer)(void *ctx, int buf, const uint8_t *p, size_t n, uint64_t raw_at);
    /* Decoded body bytes.  one_to_one: byte i came from raw byte raw + i (so
     * it is known at raw + i + 1); otherwise all are known at raw. */
    void (*body)(void *ctx, int buf, const uint8_t *p, size_t n, uint64_t raw, int one_to_one);
    /* The message ended (its body, possibly empty, is complete). */
    void (*message_end)(void *ctx, uint64_t raw_at);
    void (*anomaly)(void *ctx, int anomaly, uint64_t raw_at);
} vp_http_sink;

typedef struct vp_http vp_http;

/* Creates a parser for requests (to_server) or responses (to_client).
 * NULL when out of memory. */
vp_http *vp_http_new(int to_client, const vp_http_limits *limits);
void vp_http_free(vp_http *h);
/* Lets a response parser see the request methods (HEAD, CONNECT) of the
 * other direction; `requests` must outlive `responses` or be unlinked. */
void vp_http_link(vp_http *requests, vp_http *responses);
/* Consumes raw bytes that start at stream offset `raw`. */
void vp_http_feed(vp_http *h, const uint8_t *p, size_t n, uint64_t raw, const vp_http_sink *sink);
/* The stream ended at raw offset `raw`: completes the message in progress. */
void vp_http_finish(vp_http *h, uint64_t raw, const vp_http_sink *sink);
/* Bytes were lost: HTTP parsing of this stream stops for good. */
void vp_http_abort(vp_http *h);

/* 1 while the stream is (still) parsed as HTTP, 0 once it is not or stopped. */
int vp_http_active(const vp_http *h);
typedef struct vp_http_counters {
    uint64_t messages;
    uint64_t limit_hits;      /* header, body or decompression limit reached */
    uint64_t anomalies;
} vp_http_counters;
void vp_http_counters_get(const vp_http *h, vp_http_counters *out);

/* URI normalization (http_uri.c): percent-decoding (also %uXXXX), overlong
 * UTF-8 folded, NUL bytes dropped, '\' as '/', path segments resolved.
 * Writes at most `cap` bytes (>= n suffices) and returns the length; sets a
 * bit (1 << vp_anomaly) in *anomalies for each anomaly seen. */
size_t vp_http_normalize_uri(const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                             uint32_t *anomalies);

#endif
