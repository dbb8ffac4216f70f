/* Streams: one direction of one flow, scanned chunk by chunk. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int rule_applies(const vp_mrule *r, const vp_model *m, vp_proto proto, uint16_t port,
                        vp_direction dir)
{
    if (r->proto != proto)
        return 0;
    if (r->direction != VP_DIR_ANY && r->direction != dir)
        return 0;
    if (r->port_count == 0)
        return 1;
    for (uint32_t i = 0; i < r->port_count; i++) {
        const vp_port_range *pr = &m->ports[r->port_first + i];
        if (port >= pr->lo && port <= pr->hi)
            return 1;
    }
    return 0;
}

VP_API vp_status vp_stream_open(const vp_engine_t *e, vp_proto proto, uint16_t port,
                                vp_direction dir, vp_event_cb cb, void *ctx, vp_stream_t **out)
{
    if (!out)
        return VP_E_INVALID;
    *out = NULL;
    if (!e || (proto != VP_PROTO_TCP && proto != VP_PROTO_UDP) ||
        (dir != VP_DIR_TO_SERVER && dir != VP_DIR_TO_CLIENT))
        return VP_E_INVALID;
    /* One block for the stream, its bitmaps and its element state: streams
     * are opened per flow, never on the per-chunk path. */
    vp_stream_t *s = calloc(1, e->stream_size);
    if (!s)
        return VP_E_NOMEM;
    const vp_bundle_t *b = e->bundle;
    s->engine = e;
    s->bundle = b;
    s->cb = cb;
    s->ctx = ctx;
    s->direction = (uint8_t)dir;
    s->raw.buf = VP_BUF_STREAM;
    s->rule_off = (uint8_t *)(s + 1);
    s->rule_done = s->rule_off + e->rule_bytes;
    s->chain_done = s->rule_done + e->rule_bytes;
    s->chain_started = s->chain_done + e->chain_bytes;
    s->neg_killed = s->chain_started + e->chain_bytes;
    if (e->fbit_bytes) {
        s->fbits_own = s->neg_killed + e->neg_bytes;
        s->fbits = s->fbits_own;
        s->rule_wait = s->fbits_own + e->fbit_bytes;
    }
    for (size_t r = 0; r < b->m.n_rules; r++) {
        if (!e->enabled[r] || !rule_applies(&b->m.rules[r], &b->m, proto, port, dir))
            vp_bit_set(s->rule_off, r);
        else if (b->plan.rule_http[r])
            s->wants_http = 1;
    }
    if (e->dbs[VP_BUF_STREAM] && hs_open_stream(e->dbs[VP_BUF_STREAM], 0, &s->hs) != HS_SUCCESS) {
        free(s);
        return VP_E_NOMEM;
    }
    /* The stream keeps its engine alive: a host may replace and free the
     * engine while this stream finishes on it. */
    vp_engine_acquire((vp_engine_t *)e);
    *out = s;
    return VP_OK;
}

static int on_hs_match(unsigned int id, unsigned long long from, unsigned long long to,
                       unsigned int flags, void *ctx)
{
    (void)from;
    (void)flags;
    vp_stream_t *s = ctx;
    /* A database that does not belong to the atoms cannot make us read out
     * of bounds. */
    if (id >= s->bundle->m.n_atoms)
        return 0;
    /* After a gap Hyperscan starts over, so ^ and \A would match at the
     * first byte after the gap, which is not the start of the stream. */
    if (s->raw.seg_base && (s->bundle->m.atoms[id].flags & VP_A_START_ANCHORED))
        return 0;
    vp_chain_on_match(s, &s->raw, id, s->raw.seg_base + to);
    return 0;
}

/* Takes the scratch for this call; refuses concurrent or foreign use. */
static vp_status scratch_acquire(vp_stream_t *s, vp_scratch_t *scratch)
{
    if (!scratch)
        return VP_E_INVALID;
    size_t i = 0;
    while (i < scratch->n_bundles && scratch->bundles[i] != s->engine->db_key)
        i++;
    if (i == scratch->n_bundles)
        return VP_E_SCRATCH_MISMATCH;
    if (atomic_flag_test_and_set(&scratch->busy))
        return VP_E_SCRATCH_IN_USE;
    return VP_OK;
}

static void scratch_release(vp_scratch_t *scratch)
{
    atomic_flag_clear(&scratch->busy);
}

static vp_status check_usable(const vp_stream_t *s)
{
    if (!s)
        return VP_E_INVALID;
    if (s->closed)
        return VP_E_STREAM_CLOSED;
    return VP_OK;
}

VP_API vp_status vp_stream_scan(vp_stream_t *s, const void *data, size_t len,
                                vp_scratch_t *scratch)
{
    vp_status st = check_usable(s);
    if (st != VP_OK)
        return st;
    if (!data && len)
        return VP_E_INVALID;
    if (len > INT64_MAX - s->raw.pos)
        return VP_E_INVALID;
    st = scratch_acquire(s, scratch);
    if (st != VP_OK)
        return st;
    if (s->engine->has_service) {
        vp_service_feed(s, data, len);
        vp_service_poll(s);
    }
    const char *p = data;
    size_t left = s->hs ? len : 0; /* without raw-stream patterns only offsets move */
    s->chunk = data;
    s->chunk_at = s->raw.pos;
    s->chunk_len = len;
    while (left) {
        /* Hyperscan takes an unsigned int length. */
        unsigned int n = left > UINT_MAX ? UINT_MAX : (unsigned int)left;
        if (hs_scan_stream(s->hs, p, n, 0, scratch->hs, on_hs_match, s) != HS_SUCCESS) {
            st = VP_E_HYPERSCAN;
            break;
        }
        p += n;
        left -= n;
    }
    uint64_t start = s->raw.pos;
    s->raw.pos += len - left;
    /* A match ending exactly here may still come from the end of the stream
     * ($ anchors), so only deadlines strictly before are decided now. */
    vp_chain_flush(s, &s->raw, s->raw.pos, 0);
    if (s->bundle->plan.has_jump)
        vp_chain_keep_carry(s, data, len - left, start);
    s->chunk = NULL;
    if (st == VP_OK && len && s->wants_http && !s->http_failed)
        st = vp_stream_http_scan(s, data, len, start, scratch);
    if (st == VP_OK && s->oom) {
        s->oom = 0; /* reported once per occurrence */
        st = VP_E_NOMEM;
    }
    scratch_release(scratch);
    return st;
}

VP_API vp_status vp_stream_gap(vp_stream_t *s, uint64_t len, vp_scratch_t *scratch)
{
    vp_status st = check_usable(s);
    if (st != VP_OK)
        return st;
    if (len > (uint64_t)INT64_MAX - s->raw.pos)
        return VP_E_INVALID;
    if (len == 0)
        return VP_OK;
    st = scratch_acquire(s, scratch);
    if (st != VP_OK)
        return st;
    vp_service_end(s);
    vp_service_poll(s);
    vp_chain_gap(s, &s->raw, s->raw.pos, s->raw.pos + len);
    if (s->hs && hs_reset_stream(s->hs, 0, scratch->hs, NULL, NULL) != HS_SUCCESS)
        st = VP_E_HYPERSCAN;
    s->raw.pos += len;
    s->raw.seg_base = s->raw.pos;
    /* HTTP framing cannot survive lost bytes: raw-stream rules carry on. */
    vp_stream_http_gap(s);
    scratch_release(scratch);
    return st;
}

VP_API vp_status vp_stream_close(vp_stream_t *s, vp_scratch_t *scratch)
{
    vp_status st = check_usable(s);
    if (st != VP_OK)
        return st;
    st = scratch_acquire(s, scratch);
    if (st != VP_OK)
        return st;
    vp_service_end(s);
    vp_service_poll(s);
    vp_stream_http_close(s, scratch);
    if (s->hs && hs_close_stream(s->hs, scratch->hs, on_hs_match, s) != HS_SUCCESS)
        st = VP_E_HYPERSCAN;
    s->hs = NULL;
    vp_chain_close(s, &s->raw);
    s->closed = 1;
    scratch_release(scratch);
    return st;
}

VP_API vp_verdict vp_stream_verdict(const vp_stream_t *s)
{
    return s ? (vp_verdict)s->verdict : VP_VERDICT_ALLOW;
}

VP_API uint64_t vp_stream_offset(const vp_stream_t *s)
{
    return s ? s->raw.pos : 0;
}

VP_API vp_status vp_stream_link(vp_stream_t *to_server, vp_stream_t *to_client)
{
    if (!to_server || !to_client || to_server == to_client ||
        to_server->direction != VP_DIR_TO_SERVER || to_client->direction != VP_DIR_TO_CLIENT)
        return VP_E_INVALID;
    if (to_server->peer) {
        vp_flowbits_detach(to_server->peer);
        to_server->peer->peer = NULL;
    }
    if (to_client->peer) {
        vp_flowbits_detach(to_client);
        to_client->peer->peer = NULL;
    }
    to_server->peer = to_client;
    to_client->peer = to_server;
    vp_flowbits_share(to_server, to_client);
    /* The response parser learns the request methods from the request side,
     * even when no HTTP rule inspects requests. */
    if (to_client->wants_http)
        to_server->wants_http = 1;
    vp_status st = vp_stream_http_prepare(to_server);
    if (st == VP_OK)
        st = vp_stream_http_prepare(to_client);
    if (to_server->http && to_client->http)
        vp_http_link(to_server->http->parser, to_client->http->parser);
    return st;
}

VP_API void vp_stream_free(vp_stream_t *s)
{
    if (!s)
        return;
    if (s->hs)
        hs_close_stream(s->hs, NULL, NULL, NULL);
    if (s->peer) {
        vp_flowbits_detach(s->peer);
        s->peer->peer = NULL;
    }
    vp_stream_http_free(s);
    vp_state_free(s);
    free(s->deferred);
    vp_engine_t *e = (vp_engine_t *)s->engine;
    free(s);
    vp_engine_release(e);
}

VP_API vp_status vp_scan_datagram(const vp_engine_t *e, vp_proto proto, uint16_t port,
                                  vp_direction dir, const void *data, size_t len,
                                  vp_scratch_t *scratch, vp_event_cb cb, void *ctx,
                                  vp_verdict *verdict)
{
    if (verdict)
        *verdict = VP_VERDICT_ALLOW;
    vp_stream_t *s;
    vp_status st = vp_stream_open(e, proto, port, dir, cb, ctx, &s);
    if (st != VP_OK)
        return st;
    st = vp_stream_scan(s, data, len, scratch);
    if (st == VP_OK)
        st = vp_stream_close(s, scratch);
    if (st == VP_OK && verdict)
        *verdict = vp_stream_verdict(s);
    vp_stream_free(s);
    return st;
}
