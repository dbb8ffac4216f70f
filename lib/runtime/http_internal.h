/* The parser's state, shared by http_parse.c (framing) and http_body.c. */
#ifndef VP_RUNTIME_HTTP_INTERNAL_H
#define VP_RUNTIME_HTTP_INTERNAL_H

#include <zlib.h>

#include "http.h"

enum http_state {
    H_LINE,         /* start line */
    H_HEADERS,
    H_BODY_LENGTH,  /* Content-Length body */
    H_CHUNK_SIZE,   /* chunk-size line */
    H_CHUNK_DATA,
    H_CHUNK_END,    /* CRLF after chunk data */
    H_TRAILERS,     /* trailer section after the last chunk */
    H_BODY_EOF,     /* body until the connection closes */
    H_DONE          /* not HTTP, tunnelled, or stopped */
};

enum { VP_ENC_NONE, VP_ENC_GZIP, VP_ENC_DEFLATE };

#define VP_HTTP_METHOD_QUEUE 16

struct vp_http {
    int to_client;
    vp_http_limits lim;
    enum http_state state;
    vp_http_counters counters;
    uint32_t reported;      /* anomalies already reported in this message */

    uint8_t *area;          /* start line + header block, grows to lim.header_bytes */
    size_t area_cap;
    uint8_t *derived;       /* normalized buffers, sized when needed */
    size_t derived_cap;
    int oom;                /* the area could not grow: bytes are dropped as over the limit */
    size_t used;            /* bytes kept in area */
    size_t line_len;        /* start line length, without its line ending */
    size_t header_start;    /* header block offset in area */
    int line_truncated, header_truncated, bare_lf;
    int last_cr, line_has_text;

    size_t method_len, target_off, target_len;
    int status;
    int is_head, is_connect;
    vp_http *peer;          /* the other direction, when linked */
    uint8_t methods[VP_HTTP_METHOD_QUEUE]; /* responses: 0 other, 1 HEAD, 2 CONNECT */
    size_t method_head, pending_methods;

    /* body */
    int body_buf;
    int encoding;
    uint64_t remaining;     /* Content-Length or chunk bytes left */
    size_t chunk_line;      /* chars of the chunk-size line read */
    uint64_t chunk_size;
    int chunk_ext;          /* inside a chunk extension */
    int chunk_digits;
    int trailer_text;       /* current trailer line has text */
    uint64_t body_seen;     /* decoded bytes handed out */
    uint64_t inflated, compressed;
    int inflate_failed, inflate_raw_tried;
    z_stream *z;
    int body_limited;
};

void vp_http_report(vp_http *h, const vp_http_sink *sink, int anomaly, uint64_t raw);

/* http_body.c */
void vp_http_body_begin(vp_http *h, const vp_http_sink *sink);
/* Consumes body framing and data; returns the bytes used (> 0 unless n == 0). */
size_t vp_http_body_feed(vp_http *h, const uint8_t *p, size_t n, uint64_t raw,
                         const vp_http_sink *sink);
void vp_http_body_finish(vp_http *h, uint64_t raw, const vp_http_sink *sink);
void vp_http_body_end(vp_http *h);

#endif
