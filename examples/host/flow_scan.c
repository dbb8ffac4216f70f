/* Capture-driven host: flows, reassembly, libvpatch streams, events.
 * See flow_scan.h. */
#include "flow_scan.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "event_log.h"
#include "flow_table.h"

enum { TO_SERVER = 0, TO_CLIENT = 1 };

typedef struct side {
    tr_dir r;
    vp_stream_t *s;       /* opened at the first byte of this direction */
} side;

typedef struct flow {
    fs_host *host;
    uint8_t proto;
    uint8_t server;       /* index in the key of the server endpoint */
    uint8_t ended;        /* streams finished; the entry only absorbs late packets */
    uint8_t blocked;
    side dir[2];          /* [TO_SERVER], [TO_CLIENT] */
} flow;

struct fs_host {
    const vp_engine_t *engine;
    vp_scratch_t *scratch;
    const vp_bundle_t *bundle;
    FILE *out;
    fs_config cfg;
    ft_table *flows;
    tr_pool pool;
    fs_stats st;
    const char *source;
    uint64_t now;         /* capture time given to events */
    vp_alert_filter_t *filter;  /* NULL: every event is logged */
};

/* Reassembler callback context: lives on the stack for one call. */
typedef struct side_ctx {
    fs_host *h;
    flow *f;
    int d;
} side_ctx;

static vp_direction vp_dir(int d) { return d == TO_SERVER ? VP_DIR_TO_SERVER : VP_DIR_TO_CLIENT; }

static uint16_t server_port(const flow *f) { return ft_key_of(f)->port[f->server]; }

static void on_event(const vp_event_t *ev, void *ctx)
{
    flow *f = ctx;
    fs_host *h = f->host;
    const ft_key *k = ft_key_of(f);
    int srv = f->server, cli = !f->server;
    int from = ev->direction == VP_DIR_TO_CLIENT ? srv : cli;
    if (h->filter) {
        vp_address_t a[2];
        for (int i = 0; i < 2; i++) {
            a[i].family = k->family;
            memset(a[i].bytes, 0, sizeof a[i].bytes);
            memcpy(a[i].bytes, k->addr[i], k->family == 4 ? 4 : 16);
        }
        int report = 1;
        if (vp_alert_filter_check(h->filter, ev, &a[from], &a[!from], h->now / 1000000u,
                                  &report) != VP_OK)
            h->st.scan_errors++;
        if (!report) {
            h->st.events_thresholded++;
            return;
        }
    }
    ev_origin o = {
        .ts_us = h->now,
        .family = k->family,
        .proto = k->proto,
        .src_ip = k->addr[from],
        .dest_ip = k->addr[!from],
        .src_port = k->port[from],
        .dest_port = k->port[!from],
        .pcap_file = h->source,
    };
    if (ev_write(h->out, h->bundle, ev, &o) == 0)
        h->st.events++;
}

static void mark_blocked(fs_host *h, flow *f)
{
    if (!f->blocked) {
        f->blocked = 1;
        h->st.blocked_flows++;
    }
}

static vp_stream_t *ensure_stream(fs_host *h, flow *f, int d)
{
    side *sd = &f->dir[d];
    if (sd->s)
        return sd->s;
    if (vp_stream_open(h->engine, VP_PROTO_TCP, server_port(f), vp_dir(d), on_event, f,
                       &sd->s) != VP_OK) {
        sd->s = NULL;
        h->st.scan_errors++;
        return NULL;
    }
    /* Both directions open: pair them, so that the HTTP response parser
     * knows the request methods (HEAD, CONNECT). */
    vp_stream_t *other = f->dir[!d].s;
    if (other && vp_stream_link(d == TO_SERVER ? sd->s : other,
                                d == TO_SERVER ? other : sd->s) != VP_OK)
        h->st.scan_errors++;
    return sd->s;
}

static void on_data(void *ctx, const uint8_t *p, size_t n)
{
    side_ctx *c = ctx;
    if (c->f->blocked)
        return;
    vp_stream_t *s = ensure_stream(c->h, c->f, c->d);
    if (!s)
        return;
    if (vp_stream_scan(s, p, n, c->h->scratch) != VP_OK)
        c->h->st.scan_errors++;
    c->h->st.bytes += n;
    if (vp_stream_verdict(s) == VP_VERDICT_BLOCK)
        mark_blocked(c->h, c->f);
}

static void on_gap(void *ctx, uint64_t n)
{
    side_ctx *c = ctx;
    if (c->f->blocked)
        return;
    vp_stream_t *s = ensure_stream(c->h, c->f, c->d);
    if (s && vp_stream_gap(s, n, c->h->scratch) != VP_OK)
        c->h->st.scan_errors++;
}

static const tr_ops reasm_ops = {on_data, on_gap};

/* Ends a direction's stream: end-of-stream conditions are decided unless the
 * flow is blocked; the stream's memory is released either way. */
static void close_side(fs_host *h, flow *f, int d)
{
    side *sd = &f->dir[d];
    if (!sd->s)
        return;
    if (!f->blocked) {
        if (vp_stream_close(sd->s, h->scratch) != VP_OK)
            h->st.scan_errors++;
        if (vp_stream_verdict(sd->s) == VP_VERDICT_BLOCK)
            mark_blocked(h, f);
    }
    vp_stream_free(sd->s);
    sd->s = NULL;
}

/* Releases everything a flow holds; later packets only hit the entry. */
static void drop_state(fs_host *h, flow *f)
{
    for (int d = 0; d < 2; d++) {
        tr_release(&f->dir[d].r, &h->pool);
        vp_stream_free(f->dir[d].s);
        f->dir[d].s = NULL;
    }
    f->ended = 1;
}

/* RST, both FINs, timeout, eviction, end of capture: whatever is missing
 * becomes a gap, then both streams are closed. */
static void end_flow(fs_host *h, flow *f)
{
    if (f->ended)
        return;
    for (int d = 0; d < 2 && f->proto == 6; d++) {
        if (f->blocked)
            break;
        side_ctx c = {h, f, d};
        tr_finish(&f->dir[d].r, &h->pool, &reasm_ops, &c);
        close_side(h, f, d);
    }
    drop_state(h, f);
}

static void on_release(void *user, const ft_key *key, ft_reason why, void *ctx)
{
    (void)key;
    fs_host *h = ctx;
    flow *f = user;
    if (!f->host)
        return;   /* never initialised (out of memory path) */
    uint64_t saved = h->now;
    if (why == FT_FLUSHED)
        h->now = ft_last_seen(f);
    else if (why == FT_TIMEOUT)
        h->now = ft_last_seen(f) + h->cfg.idle_timeout_us;
    if (f->proto == 6 && !f->ended) {
        if (why == FT_EVICTED)
            h->st.flows_evicted++;
        else if (why == FT_TIMEOUT)
            h->st.flows_timed_out++;
    }
    end_flow(h, f);
    h->now = saved;
}

fs_host *fs_create(const vp_engine_t *engine, vp_scratch_t *scratch, const vp_bundle_t *bundle,
                   const fs_config *cfg, FILE *out)
{
    fs_host *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->engine = engine;
    h->scratch = scratch;
    h->bundle = bundle;
    h->out = out;
    h->cfg = *cfg;
    h->pool.max_dir_bytes = cfg->ooo_dir_bytes;
    h->pool.max_total_bytes = cfg->ooo_total_bytes;
    h->flows = ft_create(cfg->max_flows, sizeof(flow), on_release, h);
    if (!h->flows || (!cfg->all_events &&
                      vp_alert_filter_create(bundle, 0, &h->filter, NULL) != VP_OK)) {
        fs_destroy(h);
        return NULL;
    }
    return h;
}

void fs_end_capture(fs_host *h)
{
    ft_flush(h->flows);
    vp_alert_filter_reset(h->filter);
}

void fs_destroy(fs_host *h)
{
    if (!h)
        return;
    ft_destroy(h->flows);
    vp_alert_filter_free(h->filter);
    free(h);
}

void fs_set_source(fs_host *h, const char *name) { h->source = name; }
const fs_stats *fs_get_stats(const fs_host *h) { return &h->st; }
const tr_stats *fs_get_reasm_stats(const fs_host *h) { return &h->pool.stats; }
size_t fs_peak_flows(const fs_host *h) { return ft_get_stats(h->flows)->peak; }

static void init_flow(fs_host *h, flow *f, uint8_t proto, uint8_t server)
{
    memset(f, 0, sizeof(*f));
    f->host = h;
    f->proto = proto;
    f->server = server;
    tr_init(&f->dir[0].r);
    tr_init(&f->dir[1].r);
    h->st.flows++;
    if (proto == 6)
        h->st.tcp_flows++;
    else
        h->st.udp_flows++;
}

/* Server endpoint when nothing better is known: the lower port; equal ports:
 * the receiver.  `si` is the sender's index in the key. */
static uint8_t server_by_port(const pd_packet *p, int si)
{
    if (p->sport < p->dport)
        return (uint8_t)si;
    return (uint8_t)!si;
}

static void tcp_packet(fs_host *h, flow *f, int created, int si, const pd_packet *p)
{
    uint8_t fl = p->tcp_flags;
    int syn = (fl & PD_SYN) != 0, ack = (fl & PD_ACK) != 0;
    int fin = (fl & PD_FIN) != 0, rst = (fl & PD_RST) != 0;
    if (!created && !f->blocked && syn && !ack && !rst) {
        /* A SYN on a known flow is a retransmission, or a new connection
         * reusing the 5-tuple (the old one ended, or its end was not seen). */
        const tr_dir *r = &f->dir[si == f->server ? TO_CLIENT : TO_SERVER].r;
        if (f->ended || (r->synced && p->seq + 1 != r->next)) {
            end_flow(h, f);
            created = 1;
        }
    }
    if (created) {
        uint8_t server;
        if (syn && !ack)
            server = (uint8_t)!si;
        else if (syn && ack)
            server = (uint8_t)si;
        else
            server = server_by_port(p, si);
        init_flow(h, f, 6, server);
    }
    if (f->blocked) {
        h->st.blocked_packets++;
        return;
    }
    if (f->ended)
        return;   /* late ACKs and retransmissions after the end */
    int d = si == f->server ? TO_CLIENT : TO_SERVER;
    side *sd = &f->dir[d];
    side *other = &f->dir[!d];
    if (rst) {
        if (sd->r.synced && !sd->r.done) {
            int32_t diff = (int32_t)(p->seq - sd->r.next);
            if (diff < -(int32_t)(1 << 24) || (diff > 0 && (uint32_t)diff > TR_MAX_AHEAD)) {
                h->st.rst_ignored++;
                return;
            }
        }
        end_flow(h, f);
        return;
    }
    uint32_t seq = p->seq;
    if (syn) {
        tr_syn(&sd->r, p->seq);
        if (ack)
            tr_syn(&other->r, p->ack - 1);   /* the SYN-ACK acknowledges the client's ISN */
        seq = p->seq + 1;
    }
    if (ack)
        tr_ack(&other->r, p->ack);
    if (p->payload_len || fin) {
        side_ctx c = {h, f, d};
        if (tr_segment(&sd->r, &h->pool, seq, p->payload, p->payload_len, fin, &reasm_ops, &c) ==
            TR_END)
            close_side(h, f, d);
    }
    /* A FIN the peer acknowledged: the peer has every byte before it, so a
     * hole still open in the capture will never be filled. */
    for (int i = 0; i < 2 && !f->blocked; i++) {
        tr_dir *r = &f->dir[i].r;
        if (!r->done && r->fin_seen && r->ack_seen && !tr_seq_lt(r->acked, r->fin_seq + 1)) {
            side_ctx c = {h, f, i};
            tr_finish(r, &h->pool, &reasm_ops, &c);
            close_side(h, f, i);
        }
    }
    if (f->blocked || (f->dir[0].r.done && f->dir[1].r.done))
        drop_state(h, f);
}

static void udp_packet(fs_host *h, flow *f, int created, int si, const pd_packet *p)
{
    if (created)
        init_flow(h, f, 17, server_by_port(p, si));
    if (f->blocked) {
        h->st.blocked_packets++;
        return;
    }
    int d = si == f->server ? TO_CLIENT : TO_SERVER;
    vp_verdict v = VP_VERDICT_ALLOW;
    if (vp_scan_datagram(h->engine, VP_PROTO_UDP, server_port(f), vp_dir(d), p->payload,
                         p->payload_len, h->scratch, on_event, f, &v) != VP_OK)
        h->st.scan_errors++;
    h->st.bytes += p->payload_len;
    if (v == VP_VERDICT_BLOCK)
        mark_blocked(h, f);
}

void fs_packet(fs_host *h, int dlt, const uint8_t *frame, size_t caplen, uint64_t ts_us)
{
    h->st.packets++;
    pd_packet p;
    pd_result r = pd_decode(dlt, frame, caplen, &p);
    h->st.decode[r < PD_RESULT_COUNT ? r : PD_TRUNCATED]++;
    if (r != PD_OK)
        return;
    h->now = ts_us;
    ft_expire(h->flows, ts_us, h->cfg.idle_timeout_us);
    if (p.payload_len < p.wire_len)
        h->st.snap_truncated++;
    ft_key k;
    int si = ft_key_make(&k, p.family, p.proto, p.src, p.sport, p.dst, p.dport);
    int created;
    flow *f = ft_get(h->flows, &k, ts_us, &created);
    if (!f) {
        h->st.scan_errors++;
        return;
    }
    if (p.proto == 6)
        tcp_packet(h, f, created, si, &p);
    else
        udp_packet(h, f, created, si, &p);
}

void fs_print_counters(const fs_host *h, FILE *out)
{
    const fs_stats *s = &h->st;
    const tr_stats *t = &h->pool.stats;
    fprintf(out, " packets=%" PRIu64, s->packets);
    for (int r = 1; r < PD_RESULT_COUNT; r++)
        fprintf(out, " %s=%" PRIu64, pd_result_str((pd_result)r), s->decode[r]);
    fprintf(out,
            " snap_truncated=%" PRIu64 " tcp_flows=%" PRIu64 " udp_flows=%" PRIu64
            " peak_flows=%zu flows_evicted=%" PRIu64 " flows_timed_out=%" PRIu64
            " blocked_packets=%" PRIu64 " ooo_segments=%" PRIu64 " retransmissions=%" PRIu64
            " overlap_bytes=%" PRIu64 " overlap_conflicts=%" PRIu64 " ooo_overflows=%" PRIu64
            " gaps=%" PRIu64 " gap_bytes=%" PRIu64 " out_of_window=%" PRIu64
            " after_fin_bytes=%" PRIu64 " ooo_peak_bytes=%" PRIu64 " rst_ignored=%" PRIu64
            " scan_errors=%" PRIu64 " events_thresholded=%" PRIu64,
            s->snap_truncated, s->tcp_flows, s->udp_flows, fs_peak_flows(h), s->flows_evicted,
            s->flows_timed_out, s->blocked_packets, t->ooo_segments, t->retrans_segments,
            t->overlap_bytes, t->overlap_conflicts, t->ooo_overflows, t->gaps, t->gap_bytes,
            t->out_of_window, t->after_fin_bytes, t->peak_total_bytes, s->rst_ignored,
            s->scan_errors, s->events_thresholded);
}
