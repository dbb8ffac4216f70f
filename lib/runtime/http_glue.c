/*
 * The HTTP side of a stream: feeds the raw bytes to the HTTP parser and scans
 * each buffer it produces with that buffer's Hyperscan database, evaluating
 * the chains on it like the raw stream's.  Made at the first byte of a stream
 * that HTTP rules apply to; streams without such rules never pay for it.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static vp_status http_start(vp_stream_t *s);

typedef struct hit_ctx {
    vp_stream_t *s;
    vp_bufctx *cx;
} hit_ctx;

static int on_buffer_match(unsigned int id, unsigned long long from, unsigned long long to,
                           unsigned int flags, void *ctx)
{
    (void)from;
    (void)flags;
    hit_ctx *h = ctx;
    if (id < h->s->bundle->m.n_atoms)
        vp_chain_on_match(h->s, h->cx, id, to);
    return 0;
}

static int buffer_used(const vp_stream_t *s, int buf)
{
    return s->bundle->bufs[buf].n_elems > 0;
}

/* Starts a buffer over: element state, evaluation context, Hyperscan stream. */
static void buffer_restart(vp_stream_t *s, int buf)
{
    vp_stream_http *h = s->http;
    vp_chain_reset_buffer(s, &h->ctx[buf]);
    if (h->hs[buf])
        hs_reset_stream(h->hs[buf], 0, h->scratch->hs, NULL, NULL);
}

static void buffer_scan(vp_stream_t *s, int buf, const uint8_t *p, size_t n)
{
    vp_stream_http *h = s->http;
    vp_bufctx *cx = &h->ctx[buf];
    hit_ctx hc = {s, cx};
    if (h->hs[buf] && n)
        hs_scan_stream(h->hs[buf], (const char *)p, (unsigned int)n, 0, h->scratch->hs,
                       on_buffer_match, &hc);
    cx->pos += n;
}

/* End of a buffer: end-anchored matches, then what only the end decides. */
static void buffer_end(vp_stream_t *s, int buf, uint64_t raw)
{
    vp_stream_http *h = s->http;
    vp_bufctx *cx = &h->ctx[buf];
    cx->map_const = 1;
    cx->map_r0 = raw;
    hit_ctx hc = {s, cx};
    if (h->hs[buf])
        hs_reset_stream(h->hs[buf], 0, h->scratch->hs, on_buffer_match, &hc);
    vp_chain_close(s, cx);
}

/* ------------------------------------------------------------ parser sink */

static void sink_message_begin(void *ctx)
{
    vp_stream_t *s = ctx;
    vp_chain_new_message(s);
    for (int buf = VP_BUF_STREAM + 1; buf < VP_BUF_COUNT; buf++)
        if (buffer_used(s, buf))
            buffer_restart(s, buf);
}

static void sink_buffer(void *ctx, int buf, const uint8_t *p, size_t n, uint64_t raw_at)
{
    vp_stream_t *s = ctx;
    if (!buffer_used(s, buf))
        return;
    buffer_restart(s, buf);
    vp_bufctx *cx = &s->http->ctx[buf];
    cx->map_const = 1;
    cx->map_r0 = raw_at;
    /* Buffers from the header area are bounded by the header limit. */
    buffer_scan(s, buf, p, n);
    buffer_end(s, buf, raw_at);
}

static void sink_body(void *ctx, int buf, const uint8_t *p, size_t n, uint64_t raw,
                      int one_to_one)
{
    vp_stream_t *s = ctx;
    if (!buffer_used(s, buf))
        return;
    vp_bufctx *cx = &s->http->ctx[buf];
    cx->map_const = !one_to_one;
    cx->map_d0 = cx->pos;
    cx->map_r0 = raw;
    while (n) {
        size_t piece = n > (1u << 30) ? (1u << 30) : n;
        buffer_scan(s, buf, p, piece);
        p += piece;
        n -= piece;
    }
    vp_chain_flush(s, cx, cx->pos, 0);
}

static void sink_message_end(void *ctx, uint64_t raw_at)
{
    vp_stream_t *s = ctx;
    int buf = s->direction == VP_DIR_TO_CLIENT ? VP_BUF_RESPONSE_BODY : VP_BUF_REQUEST_BODY;
    if (buffer_used(s, buf))
        buffer_end(s, buf, raw_at);
}

static void sink_anomaly(void *ctx, int anomaly, uint64_t raw_at)
{
    vp_stream_t *s = ctx;
    int32_t atom = s->bundle->anomaly_atom[anomaly];
    if (atom < 0)
        return;
    vp_bufctx *cx = &s->http->ctx[VP_BUF_ANOMALY];
    cx->map_const = 1;
    cx->map_r0 = raw_at;
    vp_chain_on_match(s, cx, (uint32_t)atom, 1);
}

static const vp_http_sink sink_template = {
    NULL, sink_message_begin, sink_buffer, sink_body, sink_message_end, sink_anomaly,
};

/* ------------------------------------------------------------ lifecycle */

void vp_stream_http_free(vp_stream_t *s)
{
    vp_stream_http *h = s->http;
    if (!h)
        return;
    vp_http_free(h->parser);
    for (int buf = 0; buf < VP_BUF_COUNT; buf++)
        if (h->hs[buf])
            hs_close_stream(h->hs[buf], NULL, NULL, NULL);
    free(h->pending);
    free(h);
    s->http = NULL;
}

vp_status vp_stream_http_prepare(vp_stream_t *s)
{
    if (s->http || !s->wants_http || s->http_failed)
        return VP_OK;
    vp_status st = http_start(s);
    if (st != VP_OK)
        s->http_failed = 1;
    return st;
}

static vp_status http_start(vp_stream_t *s)
{
    const vp_engine_t *e = s->engine;
    vp_stream_http *h = calloc(1, sizeof(*h));
    if (!h)
        return VP_E_NOMEM;
    s->http = h;
    h->pending = calloc(e->rule_bytes ? e->rule_bytes : 1, 1);
    h->parser = vp_http_new(s->direction == VP_DIR_TO_CLIENT, &e->http_limits);
    int ok = h->pending && h->parser;
    int dir_bit = s->direction == VP_DIR_TO_CLIENT ? VP_BUFDIR_CLIENT : VP_BUFDIR_SERVER;
    for (int buf = 0; buf < VP_BUF_COUNT; buf++) {
        h->ctx[buf].buf = (uint8_t)buf;
        /* buffers of the other direction never arrive on this stream */
        if (ok && e->dbs[buf] && buf != VP_BUF_STREAM && (vp_buf_directions(buf) & dir_bit))
            ok = hs_open_stream(e->dbs[buf], 0, &h->hs[buf]) == HS_SUCCESS;
    }
    if (!ok) {
        vp_stream_http_free(s);
        return VP_E_NOMEM;
    }
    if (s->peer && s->peer->http) {
        vp_stream_t *req = s->direction == VP_DIR_TO_SERVER ? s : s->peer;
        vp_stream_t *resp = s->direction == VP_DIR_TO_SERVER ? s->peer : s;
        vp_http_link(req->http->parser, resp->http->parser);
    }
    return VP_OK;
}

vp_status vp_stream_http_scan(vp_stream_t *s, const uint8_t *p, size_t n, uint64_t raw,
                              struct vp_scratch *scratch)
{
    if (!s->http) {
        if (http_start(s) != VP_OK) {
            s->http_failed = 1; /* raw-stream rules go on without HTTP */
            return VP_E_NOMEM;
        }
    }
    vp_stream_http *h = s->http;
    if (!vp_http_active(h->parser))
        return VP_OK;
    vp_http_sink sink = sink_template;
    sink.ctx = s;
    h->scratch = scratch;
    vp_http_feed(h->parser, p, n, raw, &sink);
    return VP_OK;
}

void vp_stream_http_gap(vp_stream_t *s)
{
    /* Framing cannot survive lost bytes, whether or not parsing had begun
     * (regression: a gap before the first scanned byte left HTTP on, so the
     * result depended on whether an empty scan came first). */
    if (s->http)
        vp_http_abort(s->http->parser);
    else
        s->http_failed = 1;
}

void vp_stream_http_close(vp_stream_t *s, struct vp_scratch *scratch)
{
    vp_stream_http *h = s->http;
    if (!h || !vp_http_active(h->parser))
        return;
    vp_http_sink sink = sink_template;
    sink.ctx = s;
    h->scratch = scratch;
    vp_http_finish(h->parser, s->raw.pos, &sink);
}

VP_API vp_status vp_stream_stats(const vp_stream_t *s, vp_stream_stats_t *out)
{
    if (!s || !out || out->size < sizeof(size_t))
        return VP_E_INVALID;
    vp_stream_stats_t st;
    memset(&st, 0, sizeof(st));
    st.size = out->size;
    st.bytes = s->raw.pos;
    st.state_bytes = vp_state_bytes(s);
    if (s->http) {
        vp_http_counters c;
        vp_http_counters_get(s->http->parser, &c);
        st.http = vp_http_active(s->http->parser) && c.messages > 0;
        st.http_messages = c.messages;
        st.http_limit_hits = c.limit_hits;
        st.http_anomalies = c.anomalies;
        st.http_bytes = sizeof(vp_stream_http) + 2 * s->engine->http_limits.header_bytes + 64 +
                        s->engine->rule_bytes;
        for (int buf = 0; buf < VP_BUF_COUNT; buf++) {
            size_t sz = 0;
            if (s->http->hs[buf] && hs_stream_size(s->engine->dbs[buf], &sz) == HS_SUCCESS)
                st.http_bytes += sz;
        }
    }
    memcpy(out, &st, out->size < sizeof(st) ? out->size : sizeof(st));
    return VP_OK;
}
