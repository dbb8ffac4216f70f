/*
 * fuzz_diff: differential check of the streaming engine against itself.
 *
 * The rule language promises that results do not depend on how a stream is
 * cut into chunks.  This target scans the same stream three ways, with the
 * same gaps at the same places:
 *   A  each gap-free segment in one call,
 *   B  in the pieces the fuzz input chooses,
 *   C  one byte per call (streams up to 1 KiB),
 * and aborts when the events (rule, offset, verdict), the final verdict or
 * the stream offset differ.  When built with the reference evaluator of
 * tests/oracle (FZ_WITH_ORACLE, see meson.build), a generated rule's result
 * must also be the oracle's: same decision, same offset.  The oracle is
 * skipped for anchored regexes (outside the subset PCRE2 and Hyperscan agree
 * on) and for a regex with `offset` on a stream with gaps (a documented
 * limitation of the engine).
 *
 * Input layout (missing bytes read as 0):
 *   byte 0      bit 0: 0 = a rule generated from the input, 1 = the fixed
 *               rich set of fuzz_rules.h; bit 1: direction to_client;
 *               bits 4-7: port index (rich set)
 *   generated rule only:
 *     byte      bits 0-1 conditions - 1, bit 2 protocol udp, bit 3 direction any,
 *               bit 4 `service: http` (tcp), bits 5-7 a start put before the
 *               stream data (service_starts[], unmapped)
 *     per condition: a kind byte, a pattern byte, then one byte per parameter
 *       present (distance/within only where the language allows them)
 *       kind: bits 0-1 content/isdataat/hex/regex, bit 2 negate, bit 3 nocase,
 *             bits 4-7 offset/depth/distance/within present (isdataat: bit
 *             6 relative, no parameter bytes; its position is the pattern
 *             byte); pattern byte bit 7 (content, hex) or bit 4 (regex):
 *             endswith, when not negated
 *   8 bytes     chunk program (fuzz_common.h)
 *   the rest    stream data; for a generated rule each byte outside the
 *               alphabet {a, b, A, B, c, \n} is mapped onto it, so that its
 *               patterns occur often
 *
 * Generated rules use small patterns over {a, b, A, B, \n} and small windows
 * (distance -12..20), so chains, negative distances, negations and gaps
 * interact on short streams.  Combinations the language refuses are mostly
 * avoided; the rest fail to compile and the input is skipped.
 */
#include "fuzz_common.h"
#include "fuzz_rules.h"

#include <stdarg.h>

#ifdef FZ_WITH_ORACLE
#include "tests/oracle/oracle.h"
#endif

#define MAX_CONDS 4
#define BYTEWISE_MAX 1024
#define ORACLE_MAX 512

static const char alphabet[6] = {'a', 'b', 'A', 'B', '\n', 'c'};

/* Bytes of the alphabet stay as they are (seeds are readable), others map. */
static uint8_t to_alphabet(uint8_t c)
{
    return memchr(alphabet, c, sizeof(alphabet)) ? c : (uint8_t)alphabet[c % sizeof(alphabet)];
}

/* Regexes over the alphabet; none can match the empty string.  The oracle
 * (PCRE2) and Hyperscan agree on the ones without anchors. */
static const struct {
    const char *text;
    int anchored;
} regexes[16] = {
    {"a+b", 0},   {"ab|ba", 0},     {"^a", 1},        {"b$", 1},
    {"a.b", 0},   {"a[^b]{0,3}b", 0}, {"b{2,}", 0},   {"\\na", 0},
    {"^b", 1},    {"a$", 1},        {"(?:ab){2}", 0}, {"a\\nb|ba", 0},
    {"A", 0},     {"ba?b", 0},      {"\\Aab", 1},   {"b\\z", 1},
};

static const uint16_t rich_ports[16] = {80, 443, 8080, 53, 0, 21, 5985, 5986,
                                        8000, 8100, 8101, 65535, 1, 22, 5353, 3389};

/* ------------------------------------------------------------ rule generation */

typedef struct gen {
    char *buf;
    size_t n, cap;
} gen;

static void put(gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(gen *g, const char *fmt, ...)
{
    if (!g->buf) {
        g->cap = 512;
        g->buf = malloc(g->cap);
        FUZZ_CHECK(g->buf != NULL);
    }
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(g->buf + g->n, g->cap - g->n, fmt, ap);
        va_end(ap);
        FUZZ_CHECK(k >= 0);
        if ((size_t)k < g->cap - g->n) {
            g->n += (size_t)k;
            return;
        }
        size_t cap = (g->cap + (size_t)k) * 2;
        char *b = realloc(g->buf, cap);
        FUZZ_CHECK(b != NULL);
        g->buf = b;
        g->cap = cap;
    }
}

/* One generated condition, kept to write the YAML and to ask the oracle. */
typedef struct gcond {
    int is_regex, negate, nocase;
    int is_dataat, endswith; /* isdataat: `offset` (absolute) or `distance` holds N */
    int is_jump;             /* byte_jump at `distance`: */
    int bj_bytes, bj_little, bj_align, bj_mult, bj_post;
    char pat[16];         /* content bytes (hex decoded) or the regex text */
    size_t len;
    const char *flags;    /* regex only; NULL for none */
    int anchored;         /* regex uses ^, $, \A or \z */
    int as_hex;           /* content written as hex */
    int has_offset, has_depth, has_distance, has_within;
    int64_t offset, depth, distance, within;
} gcond;

/* Starts put before the stream of a service rule, and where each makes the
 * stream HTTP (docs/rule-format.md, Services; the alphabet has no blank, so
 * "GET" followed by stream data stays unrecognised).  -1: never. */
static const struct {
    const char *text;
    int at;
} service_starts[8] = {
    {"", -1}, {"GET ", 4}, {"HEAD\t", 5}, {"GET", -1}, {"get ", -1}, {"PATCH ", 6},
    {"BASELINE-CONTROL ", 17}, {"HTTP/1.1", -1},
};

typedef struct grule {
    int udp, any_direction;
    int service_http, start; /* start: index into service_starts */
    size_t n;
    gcond c[MAX_CONDS];
} grule;

/* Reads one rule from the input. */
static void generate_rule(fz_input *in, grule *r)
{
    memset(r, 0, sizeof(*r));
    uint8_t head = fz_u8(in);
    r->n = 1 + (head & 3);
    r->udp = (head & 4) != 0;
    r->any_direction = (head & 8) != 0;
    r->service_http = !r->udp && (head & 16) != 0;
    r->start = r->service_http ? head >> 5 : 0;
    for (size_t i = 0; i < r->n; i++) {
        gcond *c = &r->c[i];
        uint8_t kind = fz_u8(in), pat = fz_u8(in);
        c->is_regex = (kind & 3) == 3;
        c->negate = (kind & 4) != 0;
        const gcond *prev = i > 0 ? &r->c[i - 1] : NULL;
        int after_positive = prev && !prev->negate && !prev->is_dataat && !prev->endswith;
        if ((kind & 3) == 1 && (kind & 0x80) && after_positive) {
            /* byte_jump (kept only where the language allows it: below) */
            c->is_jump = 1;
            c->negate = 0;
            c->bj_bytes = 1 + (pat & 1);
            c->bj_little = (pat & 2) != 0;
            c->bj_align = (pat & 4) != 0;
            c->bj_mult = (pat & 8) ? 2 : 1;
            c->bj_post = (pat >> 4) & 3;
            c->has_distance = c->has_within = 1;
            c->distance = (pat >> 6) & 3;
            c->within = c->bj_bytes;
            c->len = (size_t)c->bj_bytes;
            continue;
        }
        if ((kind & 3) == 1) {
            /* isdataat N: the byte at N, or at E + N when relative */
            c->is_dataat = 1;
            if ((kind & 0x40) && after_positive) {
                c->has_distance = 1;
                c->distance = pat % 16;
            } else {
                c->offset = pat % 40;
            }
            continue;
        }
        if (c->is_regex) {
            static const char *const flags[4] = {NULL, "i", "m", "ims"};
            c->len = strlen(regexes[pat & 15].text);
            memcpy(c->pat, regexes[pat & 15].text, c->len);
            c->anchored = regexes[pat & 15].anchored;
            c->flags = flags[pat >> 6];
        } else {
            c->len = 1 + (pat & 3);
            for (size_t k = 0; k < c->len; k++)
                c->pat[k] = (kind & 3) == 2 ? "ab\nA"[(pat >> (2 + 2 * k % 6)) & 3]
                                            : "ab"[(pat >> (2 + k)) & 1];
            c->nocase = (kind & 8) != 0;
            c->as_hex = (kind & 3) == 2;
        }
        c->endswith = !c->negate && (pat & (c->is_regex ? 0x10 : 0x80)) != 0;
        int64_t minlen = c->is_regex ? 1 : (int64_t)c->len;
        if (kind & 0x10) {
            c->has_offset = 1;
            c->offset = fz_u8(in) % 24;
        }
        if (kind & 0x20) {
            c->has_depth = 1;
            c->depth = 1 + fz_u8(in) % 24;
            if (c->depth < minlen)
                c->depth = minlen;
        }
        /* Relative modifiers only where the language allows them. */
        int may_be_relative = after_positive && !c->is_regex;
        if ((kind & 0x40) && may_be_relative) {
            c->has_distance = 1;
            c->distance = (int64_t)(fz_u8(in) % 33) - 12;
        }
        if ((kind & 0x80) && may_be_relative) {
            c->has_within = 1;
            c->within = 1 + fz_u8(in) % 24;
            if (c->within < minlen)
                c->within = minlen;
        }
    }
}

/* A byte_jump needs a positive relative non-regex condition with distance
 * >= 0 after it and no negative distance before it in its chain; one that
 * lacks them becomes the content "a" in the same place (so that what
 * follows stays valid). */
static void settle_jumps(grule *r)
{
    for (size_t i = 0; i < r->n; i++) {
        gcond *c = &r->c[i];
        if (!c->is_jump)
            continue;
        const gcond *next = i + 1 < r->n ? &r->c[i + 1] : NULL;
        int ok = next && (next->has_distance || next->has_within) && !next->negate &&
                 !next->is_regex && !(next->has_distance && next->distance < 0);
        for (size_t q = i; ok && q > 0 && (r->c[q].has_distance || r->c[q].has_within); q--)
            ok = q == i || !(r->c[q].has_distance && r->c[q].distance < 0);
        if (ok)
            continue;
        c->is_jump = 0;
        c->pat[0] = 'a';
        c->len = 1;
        c->within = 1;
    }
}

static void write_yaml(const grule *r, gen *g)
{
    put(g, "format: 1\nrules:\n  - id: 1\n    name: generated\n    severity: low\n");
    put(g, "    protocol: %s\n    direction: %s\n", r->udp ? "udp" : "tcp",
        r->any_direction ? "any" : "to_server");
    if (r->service_http)
        put(g, "    service: http\n");
    put(g, "    match:\n");
    for (size_t i = 0; i < r->n; i++) {
        const gcond *c = &r->c[i];
        if (c->is_jump) {
            put(g, "      - byte_jump: {bytes: %d, endian: %s, multiplier: %d, align: %s, "
                   "post_offset: %d}\n        distance: %lld\n",
                c->bj_bytes, c->bj_little ? "little" : "big", c->bj_mult,
                c->bj_align ? "true" : "false", c->bj_post, (long long)c->distance);
            continue;
        }
        if (c->is_dataat) {
            put(g, "      - isdataat: %lld\n",
                (long long)(c->has_distance ? c->distance : c->offset));
            if (c->has_distance)
                put(g, "        relative: true\n");
            if (c->negate)
                put(g, "        negate: true\n");
            continue;
        }
        if (c->is_regex) {
            put(g, "      - regex: '%.*s'\n", (int)c->len, c->pat);
            if (c->flags)
                put(g, "        flags: %s\n", c->flags);
        } else if (c->as_hex) {
            put(g, "      - hex: \"");
            for (size_t k = 0; k < c->len; k++)
                put(g, "%02x", (unsigned)(unsigned char)c->pat[k]);
            put(g, "\"\n");
        } else {
            put(g, "      - content: \"");
            for (size_t k = 0; k < c->len; k++)
                put(g, "%c", c->pat[k]); /* content letters are a and b */
            put(g, "\"\n");
        }
        if (c->nocase)
            put(g, "        nocase: true\n");
        if (c->negate)
            put(g, "        negate: true\n");
        if (c->has_offset)
            put(g, "        offset: %lld\n", (long long)c->offset);
        if (c->has_depth)
            put(g, "        depth: %lld\n", (long long)c->depth);
        if (c->has_distance)
            put(g, "        distance: %lld\n", (long long)c->distance);
        if (c->has_within)
            put(g, "        within: %lld\n", (long long)c->within);
        if (c->endswith)
            put(g, "        endswith: true\n");
    }
}

/* ------------------------------------------------------------ engines */

typedef struct cached {
    char *yaml;       /* NULL: the rich set */
    vp_bundle_t *bundle;
    fz_engine e;
} cached;

static cached rich, last;

static const fz_engine *rich_engine(void)
{
    if (!rich.bundle) {
        const char *yaml = fz_rich_rules();
        FUZZ_OK(fz_compile_load(yaml, strlen(yaml), 1, 1, &rich.bundle));
        FUZZ_OK(fz_engine_make(rich.bundle, FZ_ENGINE_ALL_RULES, &rich.e, NULL));
    }
    return &rich.e;
}

/* The engine of a generated rule, compiled once per distinct rule text. */
static const fz_engine *generated_engine(const char *yaml)
{
    if (last.yaml && strcmp(last.yaml, yaml) == 0)
        return last.bundle ? &last.e : NULL;
    fz_engine_free(&last.e);
    vp_bundle_free(last.bundle);
    free(last.yaml);
    memset(&last, 0, sizeof(last));
    last.yaml = strdup(yaml);
    FUZZ_CHECK(last.yaml != NULL);
    if (fz_compile_load(yaml, strlen(yaml), 0, 0, &last.bundle) != VP_OK)
        return NULL;
    FUZZ_OK(fz_engine_make(last.bundle, FZ_ENGINE_ALL_RULES, &last.e, NULL));
    return &last.e;
}

/* ------------------------------------------------------------ runs */

typedef struct outcome {
    fz_events ev;
    vp_verdict verdict;
    uint64_t offset;
} outcome;

static void run(const fz_engine *e, vp_proto proto, uint16_t port, vp_direction dir,
                const fz_op *ops, size_t n_ops, const uint8_t *data, outcome *out)
{
    fz_events_clear(&out->ev);
    vp_stream_t *s = NULL;
    FUZZ_OK(vp_stream_open(e->engine, proto, port, dir, fz_collect, &out->ev, &s));
    for (size_t i = 0; i < n_ops; i++) {
        if (ops[i].kind == FZ_OP_SCAN)
            FUZZ_OK(vp_stream_scan(s, data + ops[i].at, (size_t)ops[i].len, e->scratch));
        else
            FUZZ_OK(vp_stream_gap(s, ops[i].len, e->scratch));
    }
    FUZZ_OK(vp_stream_close(s, e->scratch));
    out->verdict = vp_stream_verdict(s);
    out->offset = vp_stream_offset(s);
    vp_stream_free(s);
    fz_events_sort(&out->ev);
}

/* The same script with each gap-free stretch of scans merged into one. */
static size_t merge_segments(const fz_script *sc, fz_op *out)
{
    size_t n = 0;
    for (size_t i = 0; i < sc->n_ops; i++) {
        const fz_op *op = &sc->ops[i];
        if (op->kind == FZ_OP_SCAN && n > 0 && out[n - 1].kind == FZ_OP_SCAN)
            out[n - 1].len += op->len;
        else
            out[n++] = *op;
    }
    return n;
}

/* One byte per call, same gaps. */
static size_t split_bytes(const fz_script *sc, fz_op *out)
{
    size_t n = 0;
    for (size_t i = 0; i < sc->n_ops; i++) {
        const fz_op *op = &sc->ops[i];
        if (op->kind == FZ_OP_GAP) {
            out[n++] = *op;
            continue;
        }
        for (uint64_t k = 0; k < op->len; k++)
            out[n++] = (fz_op){FZ_OP_SCAN, op->at + (size_t)k, 1};
    }
    return n;
}

static void print_ops(const char *label, const fz_op *ops, size_t n)
{
    fprintf(stderr, "%s:", label);
    for (size_t i = 0; i < n; i++) {
        if (ops[i].kind == FZ_OP_SCAN)
            fprintf(stderr, " %llu", (unsigned long long)ops[i].len);
        else
            fprintf(stderr, " gap(%llu)", (unsigned long long)ops[i].len);
    }
    fprintf(stderr, "\n");
}

static void print_data(const uint8_t *p, size_t n)
{
    fprintf(stderr, "stream (%zu bytes): \"", n);
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n')
            fprintf(stderr, "\\n");
        else if (p[i] < 0x20 || p[i] > 0x7e || p[i] == '"' || p[i] == '\\')
            fprintf(stderr, "\\x%02x", p[i]);
        else
            fputc(p[i], stderr);
    }
    fprintf(stderr, "\"\n");
}

static void compare(const char *yaml, const uint8_t *stream, size_t len, const char *name_a,
                    const outcome *a, const fz_op *ops_a, size_t n_a, const char *name_b,
                    const outcome *b, const fz_op *ops_b, size_t n_b)
{
    if (fz_events_equal(&a->ev, &b->ev) && a->verdict == b->verdict && a->offset == b->offset)
        return;
    fprintf(stderr, "chunking changed the result\nrules:\n%s\n", yaml);
    print_data(stream, len);
    print_ops(name_a, ops_a, n_a);
    print_ops(name_b, ops_b, n_b);
    fz_events_print(name_a, &a->ev);
    fz_events_print(name_b, &b->ev);
    fprintf(stderr, "verdict %d / %d, offset %llu / %llu\n", a->verdict, b->verdict,
            (unsigned long long)a->offset, (unsigned long long)b->offset);
    abort();
}

#ifdef FZ_WITH_ORACLE
/* Asks tests/oracle what the generated rule does on the stream (the same
 * segments and gaps) and compares with the engine's whole-stream run. */
static void check_oracle(const grule *r, const char *yaml, const fz_script *sc,
                         const uint8_t *stream, size_t len, const outcome *got)
{
    int regex_offset = 0;
    orc_cond conds[MAX_CONDS];
    memset(conds, 0, sizeof(conds));
    for (size_t i = 0; i < r->n; i++) {
        const gcond *c = &r->c[i];
        if (c->is_regex && c->anchored)
            return; /* outside the regex subset the oracle shares with Hyperscan */
        regex_offset |= c->is_regex && c->has_offset;
        orc_cond *o = &conds[i];
        o->is_regex = c->is_regex;
        o->pattern = c->pat;
        o->len = c->len;
        o->nocase = c->nocase;
        o->flags = c->flags;
        o->has_offset = c->has_offset;
        o->has_depth = c->has_depth;
        o->has_distance = c->has_distance;
        o->has_within = c->has_within;
        o->offset = c->offset;
        o->depth = c->depth;
        o->distance = c->distance;
        o->within = c->within;
        o->negate = c->negate;
        o->endswith = c->endswith;
        if (c->is_dataat) {
            o->is_dataat = 1;
            o->has_offset = 0;
            o->offset = 0;
            o->dataat = c->offset;
        }
        if (c->is_jump) {
            o->is_jump = 1;
            o->bj_bytes = c->bj_bytes;
            o->bj_little = c->bj_little;
            o->bj_align = c->bj_align;
            o->bj_mult = (uint32_t)c->bj_mult;
            o->bj_post = (uint32_t)c->bj_post;
        }
    }
    /* Segments: the data between gaps, each followed by its gap. */
    size_t n_segs = 0;
    orc_segment *segs = calloc(sc->n_ops + 1, sizeof(*segs));
    FUZZ_CHECK(segs != NULL);
    segs[0].data = stream;
    for (size_t i = 0; i < sc->n_ops; i++) {
        const fz_op *op = &sc->ops[i];
        if (op->kind == FZ_OP_SCAN) {
            if (segs[n_segs].len == 0)
                segs[n_segs].data = stream + op->at;
            segs[n_segs].len += (size_t)op->len;
        } else {
            segs[n_segs].gap += op->len;
            n_segs++;
            segs[n_segs].data = stream;
        }
    }
    n_segs++;
    int has_gap = n_segs > 1;
    /* Documented limitation (docs/rule-format.md): after a gap a regex with
     * `offset` may miss matches, on the safe side. */
    if (regex_offset && has_gap) {
        free(segs);
        return;
    }
    orc_result want;
    char err[256];
    if (orc_eval(conds, r->n, segs, n_segs, &want, err, sizeof(err)) != 0) {
        fprintf(stderr, "oracle error: %s\nrules:\n%s\n", err, yaml);
        abort();
    }
    if (r->service_http && want.fires) {
        int at = service_starts[r->start].at;
        if (at < 0 || segs[0].len < (size_t)at) {
            want.fires = 0;
            want.offset = -1;
        } else if (want.offset < at) {
            want.offset = at;
        }
    }
    free(segs);
    int fires = got->ev.n > 0;
    int64_t offset = fires ? (int64_t)got->ev.v[0].offset : -1;
    if (got->ev.n <= 1 && fires == want.fires && (!fires || offset == want.offset))
        return;
    fprintf(stderr, "engine and oracle disagree\nrules:\n%s\n", yaml);
    print_data(stream, len);
    print_ops("script", sc->ops, sc->n_ops);
    fz_events_print("engine", &got->ev);
    fprintf(stderr, "oracle: %s at %lld\n", want.fires ? "fires" : "no event",
            (long long)want.offset);
    abort();
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input in = {data, size};
    uint8_t head = fz_u8(&in);
    vp_direction dir = (head & 2) ? VP_DIR_TO_CLIENT : VP_DIR_TO_SERVER;
    const fz_engine *e;
    const char *yaml;
    vp_proto proto = VP_PROTO_TCP;
    uint16_t port = 80;
    gen g = {0};
    grule rule;
    int generated = !(head & 1);
    if (!generated) {
        e = rich_engine();
        yaml = "(the rich set of fuzz_rules.h)";
        port = rich_ports[head >> 4];
    } else {
        generate_rule(&in, &rule);
        settle_jumps(&rule);
        write_yaml(&rule, &g);
        proto = rule.udp ? VP_PROTO_UDP : VP_PROTO_TCP;
        dir = VP_DIR_TO_SERVER;
        yaml = g.buf;
        e = generated_engine(yaml);
        if (!e) {
            free(g.buf);
            return 0;
        }
    }
    uint8_t program[FZ_PROGRAM_LEN];
    for (int i = 0; i < FZ_PROGRAM_LEN; i++)
        program[i] = fz_u8(&in);
    const char *start = generated ? service_starts[rule.start].text : "";
    size_t skip = strlen(start);
    size_t len = skip + in.n;
    uint8_t *stream = malloc(len ? len : 1);
    FUZZ_CHECK(stream != NULL);
    memcpy(stream, start, skip);
    for (size_t i = skip; i < len; i++)
        stream[i] = generated ? to_alphabet(in.p[i - skip]) : in.p[i - skip];

    fz_script sc;
    fz_script_make(program, len, 1, &sc);
    fz_op *whole = calloc(sc.n_ops ? sc.n_ops : 1, sizeof(fz_op));
    FUZZ_CHECK(whole != NULL);
    size_t n_whole = merge_segments(&sc, whole);

    outcome a = {0}, b = {0};
    run(e, proto, port, dir, whole, n_whole, stream, &a);
    run(e, proto, port, dir, sc.ops, sc.n_ops, stream, &b);
    compare(yaml, stream, len, "whole", &a, whole, n_whole, "chunked", &b, sc.ops, sc.n_ops);
    if (len <= BYTEWISE_MAX) {
        fz_op *bytes = calloc(len + sc.n_ops + 1, sizeof(fz_op));
        FUZZ_CHECK(bytes != NULL);
        size_t n_bytes = split_bytes(&sc, bytes);
        run(e, proto, port, dir, bytes, n_bytes, stream, &b);
        compare(yaml, stream, len, "whole", &a, whole, n_whole, "bytewise", &b, bytes, n_bytes);
        free(bytes);
    }
#ifdef FZ_WITH_ORACLE
    if (generated && len <= ORACLE_MAX)
        check_oracle(&rule, yaml, &sc, stream, len, &a);
#endif

    fz_events_free(&a.ev);
    fz_events_free(&b.ev);
    free(whole);
    fz_script_free(&sc);
    free(stream);
    free(g.buf);
    return 0;
}
