/*
 * fuzz_scan: the streaming engine on a fixed, rich rule set (fuzz_rules.h:
 * raw-stream rules of every kind, every HTTP buffer and anomaly), with the
 * input read as a scan script.
 *
 * Input layout (missing bytes read as 0):
 *   byte 0      flags: bit 0 direction (0 to_server, 1 to_client)
 *                      bit 1 protocol (0 tcp stream, 1 udp datagrams)
 *                      bits 2-3 engine (FZ_ENGINE_*: security, performance,
 *                               detect-only, all rules enabled)
 *                      bit 4 free the tcp streams without closing them
 *                      bit 5 tcp: both directions, linked (vp_stream_link)
 *   byte 1      server port, index into `ports` below
 *   bytes 2-9   chunk program (fuzz_common.h): chunk sizes and gaps
 *   bit 5 only: 2 bytes (little-endian) the length of the to_server part;
 *               the rest of the data goes to_client, and the two streams are
 *               fed alternately, each cut by the chunk program
 *   the rest    stream data (tcp), or data cut into datagrams by the program
 *
 * Besides the sanitizers, every event is checked against what the API
 * promises: a known enabled rule, an offset the stream has reached, the
 * stream's direction, the rule's action, a verdict that follows action and
 * detect-only, at most one event per stream for a raw-stream rule, and the
 * offset accounting of gaps (offset and stats).
 */
#include "fuzz_common.h"
#include "fuzz_rules.h"

#define MAX_RULE_ID 256

static const uint16_t ports[16] = {80, 443, 8080, 53, 0, 21, 5985, 5986,
                                   8000, 8100, 8101, 65535, 1, 22, 5353, 3389};

static fz_engine engines[FZ_ENGINE_VARIANTS];
static vp_bundle_t *rich_bundle;

static void init_once(void)
{
    if (rich_bundle)
        return;
    /* Tests on: the rule set is checked once per process. */
    const char *yaml = fz_rich_rules();
    FUZZ_OK(fz_compile_load(yaml, strlen(yaml), 1, 1, &rich_bundle));
    for (int v = 0; v < FZ_ENGINE_VARIANTS; v++)
        FUZZ_OK(fz_engine_make(rich_bundle, v, &engines[v], NULL));
}

/* Checks what one call reported; `seen` marks raw-stream rules that fired. */
static void check_events(const fz_engine *e, const fz_events *ev, size_t from, uint64_t reached,
                         vp_direction dir, uint8_t *seen)
{
    for (size_t i = from; i < ev->n; i++) {
        const vp_event_t *x = &ev->v[i];
        vp_rule_info_t info;
        memset(&info, 0, sizeof(info));
        info.size = sizeof(info);
        FUZZ_OK(vp_bundle_rule_by_id(rich_bundle, x->rule_id, &info));
        FUZZ_CHECK(vp_engine_rule_enabled(e->engine, x->rule_id) == 1);
        FUZZ_CHECK(x->offset <= reached);
        FUZZ_CHECK(x->direction == dir);
        FUZZ_CHECK(info.direction == VP_DIR_ANY || info.direction == dir);
        FUZZ_CHECK(x->action == info.action);
        FUZZ_CHECK(x->verdict == ((info.action == VP_ACTION_BLOCK && !e->detect_only)
                                      ? VP_VERDICT_BLOCK
                                      : VP_VERDICT_ALLOW));
        FUZZ_CHECK(x->rule_id < MAX_RULE_ID);
        if (x->rule_id < FZ_FIRST_HTTP_RULE) {
            FUZZ_CHECK(!seen[x->rule_id]);
            seen[x->rule_id] = 1;
        }
    }
}

static int any_block(const fz_events *ev)
{
    for (size_t i = 0; i < ev->n; i++)
        if (ev->v[i].verdict == VP_VERDICT_BLOCK)
            return 1;
    return 0;
}

/* One direction of a tcp flow and its script. */
typedef struct lane {
    vp_stream_t *s;
    vp_direction dir;
    fz_script sc;
    const uint8_t *data;
    size_t next;          /* next op */
    uint64_t pos;
    fz_events ev;
    uint8_t seen[MAX_RULE_ID];
} lane;

static void check_lane(const fz_engine *e, lane *l, size_t before)
{
    FUZZ_CHECK(vp_stream_offset(l->s) == l->pos);
    vp_stream_stats_t st;
    memset(&st, 0, sizeof(st));
    st.size = sizeof(st);
    FUZZ_OK(vp_stream_stats(l->s, &st));
    FUZZ_CHECK(st.bytes == l->pos);
    check_events(e, &l->ev, before, l->pos, l->dir, l->seen);
    FUZZ_CHECK(vp_stream_verdict(l->s) == (any_block(&l->ev) ? VP_VERDICT_BLOCK : VP_VERDICT_ALLOW));
}

/* Runs the next op of a lane; 0 when it has none left. */
static int step(const fz_engine *e, lane *l)
{
    if (l->next == l->sc.n_ops)
        return 0;
    const fz_op *op = &l->sc.ops[l->next++];
    size_t before = l->ev.n;
    if (op->kind == FZ_OP_SCAN)
        FUZZ_OK(vp_stream_scan(l->s, l->data + op->at, (size_t)op->len, e->scratch));
    else
        FUZZ_OK(vp_stream_gap(l->s, op->len, e->scratch));
    l->pos += op->len;
    check_lane(e, l, before);
    return 1;
}

static void finish(const fz_engine *e, lane *l, int abandon)
{
    if (!abandon) {
        size_t before = l->ev.n;
        FUZZ_OK(vp_stream_close(l->s, e->scratch));
        check_lane(e, l, before);
        /* A closed stream refuses everything but queries. */
        size_t after = l->ev.n;
        FUZZ_CHECK(vp_stream_scan(l->s, "x", 1, e->scratch) == VP_E_STREAM_CLOSED);
        FUZZ_CHECK(vp_stream_gap(l->s, 1, e->scratch) == VP_E_STREAM_CLOSED);
        FUZZ_CHECK(vp_stream_close(l->s, e->scratch) == VP_E_STREAM_CLOSED);
        FUZZ_CHECK(l->ev.n == after);
    }
}

static void lane_open(const fz_engine *e, lane *l, vp_direction dir, uint16_t port,
                      const uint8_t program[FZ_PROGRAM_LEN], const uint8_t *data, size_t len)
{
    memset(l, 0, sizeof(*l));
    l->dir = dir;
    l->data = data;
    fz_script_make(program, len, 1, &l->sc);
    FUZZ_OK(vp_stream_open(e->engine, VP_PROTO_TCP, port, dir, fz_collect, &l->ev, &l->s));
}

static void lane_free(lane *l)
{
    vp_stream_free(l->s);
    fz_script_free(&l->sc);
    fz_events_free(&l->ev);
}

static void run_tcp(const fz_engine *e, vp_direction dir, uint16_t port, int abandon,
                    const uint8_t program[FZ_PROGRAM_LEN], const uint8_t *data, size_t len)
{
    lane *l = malloc(sizeof(*l));
    FUZZ_CHECK(l != NULL);
    lane_open(e, l, dir, port, program, data, len);
    while (step(e, l))
        ;
    finish(e, l, abandon);
    lane_free(l);
    free(l);
}

/* Both directions of one flow, linked, fed alternately. */
static void run_pair(const fz_engine *e, uint16_t port, int abandon,
                     const uint8_t program[FZ_PROGRAM_LEN], const uint8_t *data, size_t len,
                     size_t request_len)
{
    if (request_len > len)
        request_len = len;
    lane *l = malloc(2 * sizeof(*l));
    FUZZ_CHECK(l != NULL);
    lane_open(e, &l[0], VP_DIR_TO_SERVER, port, program, data, request_len);
    lane_open(e, &l[1], VP_DIR_TO_CLIENT, port, program, data + request_len, len - request_len);
    FUZZ_OK(vp_stream_link(l[0].s, l[1].s));
    int more;
    do {
        more = step(e, &l[0]);
        more |= step(e, &l[1]);
    } while (more);
    finish(e, &l[0], abandon);
    finish(e, &l[1], abandon);
    /* Freeing either one unlinks the other. */
    lane_free(&l[abandon ? 0 : 1]);
    lane_free(&l[abandon ? 1 : 0]);
    free(l);
}

static void run_udp(const fz_engine *e, vp_direction dir, uint16_t port, const fz_script *sc,
                    const uint8_t *data)
{
    uint8_t seen[MAX_RULE_ID];
    fz_events ev = {0};
    for (size_t i = 0; i < sc->n_ops; i++) {
        const fz_op *op = &sc->ops[i];
        if (op->kind != FZ_OP_SCAN)
            continue;
        fz_events_clear(&ev);
        memset(seen, 0, sizeof(seen));
        vp_verdict v = VP_VERDICT_BLOCK;
        FUZZ_OK(vp_scan_datagram(e->engine, VP_PROTO_UDP, port, dir, data + op->at,
                                 (size_t)op->len, e->scratch, fz_collect, &ev, &v));
        check_events(e, &ev, 0, op->len, dir, seen);
        FUZZ_CHECK(v == (any_block(&ev) ? VP_VERDICT_BLOCK : VP_VERDICT_ALLOW));
    }
    fz_events_free(&ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    fz_input in = {data, size};
    uint8_t flags = fz_u8(&in);
    uint16_t port = ports[fz_u8(&in) & 15];
    uint8_t program[FZ_PROGRAM_LEN];
    for (int i = 0; i < FZ_PROGRAM_LEN; i++)
        program[i] = fz_u8(&in);
    vp_direction dir = (flags & 1) ? VP_DIR_TO_CLIENT : VP_DIR_TO_SERVER;
    const fz_engine *e = &engines[(flags >> 2) & 3];
    int abandon = (flags >> 4) & 1;
    if (flags & 2) {
        fz_script sc;
        fz_script_make(program, in.n, 0, &sc);
        run_udp(e, dir, port, &sc, in.p);
        fz_script_free(&sc);
    } else if (flags & 0x20) {
        size_t request_len = fz_u16(&in);
        run_pair(e, port, abandon, program, in.p, in.n, request_len);
    } else {
        run_tcp(e, dir, port, abandon, program, in.p, in.n);
    }
    return 0;
}
