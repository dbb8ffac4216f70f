/*
 * Message bodies: Content-Length, chunked and until-close framing, gzip and
 * deflate decoding, inspection limits.  Compressed input is inflated one raw
 * byte at a time so that every decoded byte is tied to the raw byte that
 * produced it: events then carry the same offsets however the stream was cut.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/hex.h"
#include "http_internal.h"

#define INFLATE_CHUNK 4096
#define RATIO_GRACE (64u * 1024u) /* small bodies never trip the ratio check */

void vp_http_body_end(vp_http *h)
{
    if (h->z) {
        inflateEnd(h->z);
        free(h->z);
        h->z = NULL;
    }
}

void vp_http_body_begin(vp_http *h, const vp_http_sink *sink)
{
    (void)sink;
    h->body_seen = 0;
    h->inflated = 0;
    h->compressed = 0;
    h->inflate_failed = 0;
    h->body_limited = 0;
    /* chunk framing starts over with every message */
    h->chunk_line = 0;
    h->chunk_size = 0;
    h->chunk_ext = 0;
    h->chunk_digits = 0;
    h->trailer_text = 0;
}

static void message_done(vp_http *h, uint64_t raw, const vp_http_sink *sink)
{
    vp_http_body_end(h);
    sink->message_end(sink->ctx, raw);
    h->state = (!h->to_client && h->is_connect) ? H_DONE : H_LINE;
    h->used = 0;
}

/* Hands decoded bytes to the sink up to the inspection depth. */
static void hand_out(vp_http *h, const uint8_t *p, size_t n, uint64_t raw, int one_to_one,
                     const vp_http_sink *sink)
{
    uint64_t room = h->lim.body_bytes > h->body_seen ? h->lim.body_bytes - h->body_seen : 0;
    if (n > room) {
        n = (size_t)room;
        if (!h->body_limited) {
            h->body_limited = 1;
            h->counters.limit_hits++;
        }
    }
    if (n) {
        sink->body(sink->ctx, h->body_buf, p, n, raw, one_to_one);
        h->body_seen += n;
    }
}

/* zlib or gzip when the first byte looks like a header, raw deflate otherwise. */
static int start_inflate(vp_http *h, uint8_t first)
{
    h->z = calloc(1, sizeof(z_stream));
    if (!h->z)
        return -1;
    int zlib_header = (first & 0x0f) == 8 && (first >> 4) <= 7;
    int bits = h->encoding == VP_ENC_GZIP || zlib_header ? 15 + 32 : -15;
    if (inflateInit2(h->z, bits) != Z_OK) {
        free(h->z);
        h->z = NULL;
        return -1;
    }
    return 0;
}

static void inflate_stop(vp_http *h, int anomaly, uint64_t raw, const vp_http_sink *sink)
{
    h->inflate_failed = 1;
    vp_http_report(h, sink, anomaly, raw);
    vp_http_body_end(h);
}

static void inflate_bytes(vp_http *h, const uint8_t *p, size_t n, uint64_t raw,
                          const vp_http_sink *sink)
{
    uint8_t out[INFLATE_CHUNK];
    for (size_t i = 0; i < n && !h->inflate_failed && !h->body_limited; i++) {
        if (!h->z && start_inflate(h, p[i]) != 0) {
            inflate_stop(h, VP_AN_BODY_DECOMPRESSION_FAILED, raw + i + 1, sink);
            return;
        }
        h->z->next_in = (Bytef *)(p + i);
        h->z->avail_in = 1;
        h->compressed++;
        int rc;
        do {
            h->z->next_out = out;
            h->z->avail_out = sizeof(out);
            rc = inflate(h->z, Z_NO_FLUSH);
            size_t got = sizeof(out) - h->z->avail_out;
            h->inflated += got;
            if (h->inflated > h->lim.decompressed_bytes ||
                (h->inflated > RATIO_GRACE && h->inflated / h->compressed > h->lim.max_ratio)) {
                inflate_stop(h, VP_AN_BODY_DECOMPRESSION_LIMIT, raw + i + 1, sink);
                return;
            }
            hand_out(h, out, got, raw + i + 1, 0, sink);
        } while (rc == Z_OK && h->z->avail_out == 0 && !h->body_limited);
        if (rc == Z_STREAM_END) {
            vp_http_body_end(h);
            h->inflate_failed = 1; /* trailing bytes after the stream are ignored */
            return;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            inflate_stop(h, VP_AN_BODY_DECOMPRESSION_FAILED, raw + i + 1, sink);
            return;
        }
    }
}

static void deliver(vp_http *h, const uint8_t *p, size_t n, uint64_t raw,
                    const vp_http_sink *sink)
{
    if (h->encoding == VP_ENC_NONE)
        hand_out(h, p, n, raw, 1, sink);
    else if (!h->inflate_failed)
        inflate_bytes(h, p, n, raw, sink);
}

static void chunk_invalid(vp_http *h, uint64_t raw, const vp_http_sink *sink)
{
    vp_http_report(h, sink, VP_AN_BODY_INVALID_CHUNK, raw);
    vp_http_body_end(h);
    sink->message_end(sink->ctx, raw);
    h->state = H_DONE; /* framing lost: the raw stream rules carry on alone */
}

static void chunk_size_byte(vp_http *h, uint8_t c, uint64_t raw, const vp_http_sink *sink)
{
    if (++h->chunk_line > 1024) {
        chunk_invalid(h, raw, sink);
        return;
    }
    if (c == '\n') {
        if (!h->chunk_digits) {
            chunk_invalid(h, raw, sink);
            return;
        }
        h->state = h->chunk_size ? H_CHUNK_DATA : H_TRAILERS;
        h->remaining = h->chunk_size;
        h->trailer_text = 0;
        return;
    }
    if (h->chunk_ext || c == '\r')
        return;
    if (c == ';') {
        h->chunk_ext = 1;
        return;
    }
    if ((c == ' ' || c == '\t') && h->chunk_digits) {
        h->chunk_ext = 1;
        return;
    }
    int d = vp_hex_digit(c);
    if (d < 0 || h->chunk_size >> 56) {
        chunk_invalid(h, raw, sink);
        return;
    }
    h->chunk_size = h->chunk_size * 16 + (uint64_t)d;
    h->chunk_digits = 1;
}

static void start_chunk_line(vp_http *h)
{
    h->state = H_CHUNK_SIZE;
    h->chunk_line = 0;
    h->chunk_size = 0;
    h->chunk_ext = 0;
    h->chunk_digits = 0;
}

size_t vp_http_body_feed(vp_http *h, const uint8_t *p, size_t n, uint64_t raw,
                         const vp_http_sink *sink)
{
    size_t take;
    switch (h->state) {
    case H_BODY_LENGTH:
        take = n < h->remaining ? n : (size_t)h->remaining;
        deliver(h, p, take, raw, sink);
        h->remaining -= take;
        if (h->remaining == 0)
            message_done(h, raw + take, sink);
        return take;
    case H_BODY_EOF:
        deliver(h, p, n, raw, sink);
        return n;
    case H_CHUNK_SIZE:
        if (h->chunk_line == 0 && h->chunk_size == 0 && !h->chunk_digits && !h->chunk_ext)
            h->chunk_size = 0;
        chunk_size_byte(h, p[0], raw, sink);
        return 1;
    case H_CHUNK_DATA:
        take = n < h->remaining ? n : (size_t)h->remaining;
        deliver(h, p, take, raw, sink);
        h->remaining -= take;
        if (h->remaining == 0)
            h->state = H_CHUNK_END;
        return take;
    case H_CHUNK_END:
        if (p[0] == '\n')
            start_chunk_line(h);
        else if (p[0] != '\r')
            chunk_invalid(h, raw, sink);
        return 1;
    case H_TRAILERS:
        if (p[0] == '\n') {
            if (!h->trailer_text)
                message_done(h, raw + 1, sink);
            h->trailer_text = 0;
        } else if (p[0] != '\r') {
            h->trailer_text = 1;
        }
        return 1;
    default:
        return n;
    }
}

void vp_http_body_finish(vp_http *h, uint64_t raw, const vp_http_sink *sink)
{
    vp_http_body_end(h);
    sink->message_end(sink->ctx, raw);
}
