/*
 * Differential testing: random rule sets and streams, run through the real
 * engine and through the oracle; see diffcase.h.
 */
#include "diffcase.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "vpatch/vpatch_compile.h"

/* ------------------------------------------------------------ PRNG */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t next64(rng *r) /* splitmix64 */
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static rng rng_of(uint64_t a, uint64_t b, uint64_t c)
{
    rng r = {a};
    r.s = next64(&r) ^ b;
    r.s = next64(&r) ^ c;
    next64(&r);
    return r;
}

/* uniform in [lo, hi] */
static int64_t range(rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(next64(r) % (uint64_t)(hi - lo + 1));
}

/* 1 with probability pct/100 */
static int chance(rng *r, int pct) { return (int)(next64(r) % 100) < pct; }

#define PICK(r, arr) ((arr)[next64(r) % (sizeof(arr) / sizeof((arr)[0]))])

/* ------------------------------------------------------------ patterns */

/* In these tables '@' stands for the byte 0x00 and '#' for 0xff. */
static const char *const contents[] = {
    "a", "ab", "ba", "abc", "bab", "aB", "xy", "d", "@#", "abab", "Ba", "cd", "a\nb",
};

typedef struct regex_kind {
    const char *re;
    const char *must_flags; /* flags it needs to mean what it says */
    const char *samples[3]; /* strings it matches */
    const char *near[3];    /* strings it almost matches */
} regex_kind;

static const regex_kind regexes[] = {
    {"a[bc]+d", "", {"abd", "acbcd", "abbbd"}, {"ad", "abx", "aBd"}},
    {"(ab|ba)c", "", {"abc", "bac", "babc"}, {"aac", "bc", "abac"}},
    {"x.y", "", {"xay", "x\ny", "xxy"}, {"xy", "xaay", "yx"}},
    {"b+a", "", {"ba", "bbba", "Ba"}, {"a", "b", "bxa"}},
    {"[ab]{2,3}c", "", {"abc", "baac", "bbbc"}, {"ac", "c", "aaaac"}},
    {"a b+ c", "x", {"abc", "abbc", "abbbbc"}, {"ac", "a b c", "abd"}},
    {"AB+", "i", {"ab", "ABB", "aBb"}, {"a", "B", "aXb"}},
    {"\\x00\\xff+", "", {"@#", "@##", "a@#"}, {"#@", "@", "@a#"}},
    {"a.{0,3}b", "", {"ab", "axxb", "a\nb"}, {"axxxxb", "a", "ba"}},
    {"(a|b)c?d", "", {"ad", "bcd", "acd"}, {"cd", "ab", "d"}},
    {"y[^a]x", "", {"ybx", "y\nx", "y#x"}, {"yax", "yx", "y"}},
    {"c(ab)+", "", {"cab", "cabab", "cabx"}, {"cba", "ca", "c"}},
};

static const char alphabet[] = "abcABxyd\n #@";

static uint8_t byte_of(char ch)
{
    return ch == '@' ? 0x00 : ch == '#' ? 0xff : (uint8_t)ch;
}

/* ------------------------------------------------------------ rule sets */

static void relink(dc_set *set)
{
    for (size_t i = 0; i < set->n_rules; i++) {
        dc_rule *r = &set->rules[i];
        for (size_t k = 0; k < r->n_conds; k++) {
            r->conds[k].pattern = r->pat[k];
            r->conds[k].flags = r->flags[k][0] ? r->flags[k] : NULL;
        }
    }
}

static void gen_ports(rng *g, dc_rule *r)
{
    r->port_any = 0;
    r->n_ranges = 0;
    switch (range(g, 0, 7)) {
    case 0: case 1: case 2:
        r->port_any = 1;
        strcpy(r->ports_yaml, chance(g, 50) ? "any" : "");
        break;
    case 3: {
        static const uint16_t ports[] = {80, 443, 8080, 22};
        uint16_t p = PICK(g, ports);
        snprintf(r->ports_yaml, sizeof(r->ports_yaml), "%u", p);
        r->lo[0] = r->hi[0] = p;
        r->n_ranges = 1;
        break;
    }
    case 4:
        strcpy(r->ports_yaml, "\"80,443\"");
        r->lo[0] = r->hi[0] = 80;
        r->lo[1] = r->hi[1] = 443;
        r->n_ranges = 2;
        break;
    case 5:
        strcpy(r->ports_yaml, "\"8000-8100\"");
        r->lo[0] = 8000;
        r->hi[0] = 8100;
        r->n_ranges = 1;
        break;
    case 6:
        strcpy(r->ports_yaml, "[22, \"80-81\"]");
        r->lo[0] = r->hi[0] = 22;
        r->lo[1] = 80;
        r->hi[1] = 81;
        r->n_ranges = 2;
        break;
    default:
        strcpy(r->ports_yaml, "[443, any]");
        r->port_any = 1;
        break;
    }
}

static void gen_cond(rng *g, const dc_set *set, dc_rule *r, size_t k)
{
    orc_cond *c = &r->conds[k];
    memset(c, 0, sizeof(*c));
    r->flags[k][0] = '\0';
    r->as_hex[k] = 0;
    /* Relative only after a positive condition that does not end its chain
     * (isdataat, endswith), and never a regex. */
    const orc_cond *prev = k > 0 ? &r->conds[k - 1] : NULL;
    int relative = prev && !prev->negate && !prev->is_dataat && !prev->endswith &&
                   chance(g, 60);
    int64_t scale = set->big ? 100 : 1;
    if (chance(g, 10)) {
        r->pat[k][0] = '\0';
        c->is_dataat = 1;
        if (relative) {
            c->has_distance = 1;
            c->distance = range(g, 0, 15 * scale);
        } else {
            c->dataat = chance(g, 50) ? range(g, 0, 40 * scale) : range(g, 0, 400 * scale);
        }
        c->negate = chance(g, 40);
        return;
    }
    c->is_regex = !relative && chance(g, 25);
    if (c->is_regex) {
        const regex_kind *rk = &PICK(g, regexes);
        snprintf(r->pat[k], sizeof(r->pat[k]), "%s", rk->re);
        c->len = strlen(rk->re);
        char *f = r->flags[k];
        if (chance(g, 30) || strchr(rk->must_flags, 'i'))
            *f++ = 'i';
        if (chance(g, 40))
            *f++ = 's';
        if (chance(g, 15))
            *f++ = 'm';
        if (chance(g, 15) || strchr(rk->must_flags, 'x'))
            *f++ = 'x';
        *f = '\0';
    } else {
        const char *t = PICK(g, contents);
        c->len = strlen(t);
        for (size_t i = 0; i < c->len; i++)
            r->pat[k][i] = (char)byte_of(t[i]);
        r->pat[k][c->len] = '\0';
        c->nocase = chance(g, 30);
        r->as_hex[k] = chance(g, 15);
    }
    int64_t minlen = c->is_regex ? 1 : (int64_t)c->len;
    if (relative) {
        int which = (int)range(g, 0, 2); /* distance, within, both */
        if (which != 1) {
            c->has_distance = 1;
            c->distance = chance(g, 35) ? range(g, -10 * scale, -1) : range(g, 0, 15 * scale);
        }
        if (which != 0) {
            c->has_within = 1;
            c->within = range(g, minlen, minlen + 15 * scale);
            /* Looking back: make windows that end at, just before or just
             * after E frequent. */
            if (c->has_distance && c->distance < 0 && chance(g, 40))
                c->within = -c->distance + range(g, -2, 1);
            if (c->within < minlen)
                c->within = minlen;
        }
        if (chance(g, 10)) {
            c->has_offset = 1;
            c->offset = range(g, 0, 30 * scale);
        }
        if (chance(g, 10)) {
            c->has_depth = 1;
            c->depth = range(g, minlen, minlen + 40 * scale);
        }
    } else {
        /* A regex with an offset misses matches after a gap (a documented
         * limit): only in sets whose streams have no gaps. */
        if (chance(g, 30) && !(c->is_regex && set->allow_gaps)) {
            c->has_offset = 1;
            c->offset = chance(g, 85) ? range(g, 0, 30 * scale) : range(g, 0, 320 * scale);
        }
        if (chance(g, 30)) {
            c->has_depth = 1;
            c->depth = range(g, minlen, minlen + 30 * scale);
        }
    }
    c->negate = chance(g, relative ? 30 : 20);
    c->endswith = !c->negate && chance(g, 8);
}

/* Can a relative condition follow condition k? */
static int extendable(const orc_cond *c)
{
    return !c->negate && !c->is_dataat && !c->endswith;
}

/* Some rules get a byte_jump: after a condition that can be extended, and
 * followed by a positive relative condition with distance >= 0; no negative
 * distance before it in its chain (the compiler's rules). */
static void gen_jumps(dc_set *set)
{
    rng g = rng_of(set->seed, set->index, UINT64_C(1) << 44);
    for (size_t i = 0; i < set->n_rules; i++) {
        dc_rule *r = &set->rules[i];
        if (!chance(&g, 18))
            continue;
        /* often the whole rule: its first condition, the jump, one after */
        if (chance(&g, 50) && extendable(&r->conds[0]) && !r->conds[0].is_regex)
            r->n_conds = 1;
        /* the jump goes at k: the last condition, or one whose successor is relative */
        size_t k = (size_t)range(&g, 1, (int64_t)r->n_conds);
        if (k < r->n_conds && !(r->conds[k].has_distance || r->conds[k].has_within))
            k = r->n_conds;
        if (!extendable(&r->conds[k - 1]))
            continue;
        if (k == r->n_conds || k + 1 == r->n_conds) {
            if (k + 2 > DC_MAX_CONDS)
                continue;
            /* the jump and one relative condition after it: gen_cond makes
             * one relative after an extendable condition (any will do) */
            dc_rule saved = *r;
            r->n_conds = k + 2;
            r->conds[k] = r->conds[k - 1];
            int found = 0;
            for (int tries = 0; tries < 50 && !found; tries++) {
                gen_cond(&g, set, r, k + 1);
                const orc_cond *n = &r->conds[k + 1];
                found = (n->has_distance || n->has_within) && !n->negate && !n->endswith;
            }
            if (!found) {
                *r = saved;
                continue;
            }
        }
        orc_cond *next = &r->conds[k + 1];
        if (!(next->has_distance || next->has_within))
            continue;
        next->negate = 0;
        next->endswith = 0;
        if (next->has_distance && next->distance < 0)
            next->distance = -next->distance;
        orc_cond *c = &r->conds[k];
        memset(c, 0, sizeof(*c));
        r->pat[k][0] = '\0';
        r->flags[k][0] = '\0';
        r->as_hex[k] = 0;
        static const int sizes[] = {1, 1, 1, 2, 2, 4};
        static const uint32_t mults[] = {1, 1, 1, 2, 4};
        c->is_jump = 1;
        c->bj_bytes = PICK(&g, sizes);
        c->bj_little = chance(&g, 40);
        c->bj_align = chance(&g, 25);
        c->bj_mult = PICK(&g, mults);
        c->bj_post = chance(&g, 30) ? (uint32_t)range(&g, 0, 3) : 0;
        c->len = (size_t)c->bj_bytes;
        c->has_distance = c->has_within = 1;
        c->distance = range(&g, 0, 3);
        c->within = c->bj_bytes;
        /* no negative distance before it in its chain */
        size_t h = k;
        while (h > 0 && (r->conds[h].has_distance || r->conds[h].has_within))
            h--;
        for (size_t q = h; q < k; q++)
            if (r->conds[q].has_distance && r->conds[q].distance < 0)
                r->conds[q].distance = -r->conds[q].distance;
    }
}

void dc_gen_set(uint64_t seed, uint64_t index, dc_set *set)
{
    static const char *const severities[] = {"low", "medium", "high", "critical"};
    static const char *const modes[] = {NULL, "[security]", "[performance, security]",
                                        "[performance]", "[security, performance]"};
    rng g = rng_of(seed, index, 0);
    memset(set, 0, sizeof(*set));
    set->seed = seed;
    set->index = index;
    set->allow_gaps = chance(&g, 60);
    set->big = chance(&g, 8);
    set->n_rules = (size_t)range(&g, 1, DC_MAX_RULES);
    for (size_t i = 0; i < set->n_rules; i++) {
        dc_rule *r = &set->rules[i];
        r->id = 100 + (uint32_t)i * (uint32_t)range(&g, 1, 3) + (uint32_t)i * 10;
        r->proto = chance(&g, 10) ? VP_PROTO_UDP : VP_PROTO_TCP;
        int d = (int)range(&g, 0, 3);
        r->dir = d <= 1 ? VP_DIR_TO_SERVER : d == 2 ? VP_DIR_TO_CLIENT : VP_DIR_ANY;
        r->action = chance(&g, 50) ? VP_ACTION_BLOCK : VP_ACTION_DETECT;
        r->severity = PICK(&g, severities);
        r->modes = PICK(&g, modes);
        gen_ports(&g, r);
        r->n_conds = (size_t)range(&g, 1, DC_MAX_CONDS);
        for (size_t k = 0; k < r->n_conds; k++)
            gen_cond(&g, set, r, k);
    }
    /* Some contents become byte_tests of as many bytes (their windows stay). */
    rng bt = rng_of(seed, index, UINT64_C(1) << 43);
    for (size_t i = 0; i < set->n_rules; i++) {
        dc_rule *r = &set->rules[i];
        for (size_t k = 0; k < r->n_conds; k++) {
            orc_cond *c = &r->conds[k];
            if (c->is_regex || c->is_dataat || !chance(&bt, 15))
                continue;
            static const uint64_t values[] = {0, 1, 0x0a, 0x61, 0x62, 0x6162, 0x4142, 0xff,
                                              0x100, 0xffff, 0x616261, 0x80};
            c->is_bytetest = 1;
            c->bt_bytes = (int)range(&bt, 1, 4);
            c->bt_op = (int)range(&bt, ORC_BT_EQ, ORC_BT_NAND);
            c->bt_little = chance(&bt, 40);
            c->bt_value = PICK(&bt, values) + (uint64_t)range(&bt, 0, 2) - (chance(&bt, 50) ? 1 : 0);
            /* keep it satisfiable: the compiler refuses a test no value passes */
            uint64_t max = (UINT64_C(1) << (8 * c->bt_bytes)) - 1;
            c->bt_value &= max;
            if (c->bt_op == ORC_BT_GT && c->bt_value == max)
                c->bt_value--;
            if ((c->bt_op == ORC_BT_LT || c->bt_op == ORC_BT_AND) && c->bt_value == 0)
                c->bt_value = 1;
            c->len = (size_t)c->bt_bytes;
            c->nocase = 0;
            r->as_hex[k] = 0;
            if (c->has_within && c->within < (int64_t)c->len)
                c->within = (int64_t)c->len;
            if (c->has_depth && c->depth < (int64_t)c->len)
                c->depth = (int64_t)c->len;
            int relative = c->has_distance || c->has_within;
            if (relative && chance(&bt, 60)) { /* pinned after the match before */
                c->has_within = 1;
                c->within = (int64_t)c->len;
                c->has_offset = c->has_depth = 0;
                if (chance(&bt, 40)) {
                    c->has_distance = 1;
                    c->distance = range(&bt, -6, 6);
                }
            } else if (!relative && !set->allow_gaps && chance(&bt, 50)) {
                /* pinned at a place: anchored, found before the first gap
                 * only (a documented limit), so only in sets without gaps */
                c->has_offset = c->has_depth = 1;
                c->offset = range(&bt, 0, 12);
                c->depth = (int64_t)c->len;
            } else if (!relative && set->allow_gaps && c->has_offset && c->has_depth &&
                       c->depth == (int64_t)c->len) {
                c->depth++;
            }
        }
    }
    gen_jumps(set);
    /* A stream of its own, so older seeds keep generating the same rules. */
    rng h = rng_of(seed, index, UINT64_C(1) << 40);
    for (size_t i = 0; i < set->n_rules; i++)
        set->rules[i].service_http = set->rules[i].proto == VP_PROTO_TCP && chance(&h, 15);
    /* Flowbits on two names, in sets of several rules. */
    rng fbr = rng_of(seed, index, UINT64_C(1) << 42);
    for (size_t i = 0; set->n_rules > 1 && i < set->n_rules; i++) {
        dc_rule *r = &set->rules[i];
        if (!chance(&fbr, 40))
            continue;
        r->n_fb = (size_t)range(&fbr, 1, 2);
        int writes = 0;
        for (size_t k = 0; k < r->n_fb; k++) {
            static const int ops[] = {DC_FB_SET, DC_FB_SET, DC_FB_UNSET, DC_FB_TOGGLE,
                                      DC_FB_ISSET, DC_FB_ISSET, DC_FB_ISNOTSET};
            r->fb_op[k] = PICK(&fbr, ops);
            r->fb_name[k] = chance(&fbr, 60) ? 'x' : 'y';
            writes |= r->fb_op[k] <= DC_FB_TOGGLE;
        }
        if (writes && chance(&fbr, 40)) {
            r->noalert = 1;
            r->action = VP_ACTION_DETECT;
        }
    }
    /* Often a plain setter and a plain checker, whose patterns recur in the
     * streams: the checker's conditions hold before and after the bit. */
    if (set->n_rules > 1 && chance(&fbr, 50)) {
        size_t a = (size_t)range(&fbr, 0, (int64_t)set->n_rules - 1);
        size_t b = (a + (size_t)range(&fbr, 1, (int64_t)set->n_rules - 1)) % set->n_rules;
        for (int w = 0; w < 2; w++) {
            dc_rule *r = &set->rules[w ? b : a];
            for (int tries = 0; tries < 50; tries++) {
                gen_cond(&fbr, set, r, 0);
                const orc_cond *c0 = &r->conds[0];
                if (!c0->negate && !c0->is_dataat && !c0->has_offset && !c0->has_depth &&
                    !c0->endswith)
                    break;
            }
            r->n_conds = 1;
            r->proto = VP_PROTO_TCP;
            r->service_http = 0;
            r->n_fb = 1;
            r->fb_name[0] = 'x';
            r->fb_op[0] = w ? (chance(&fbr, 70) ? DC_FB_ISSET : DC_FB_ISNOTSET)
                            : (chance(&fbr, 80) ? DC_FB_SET : DC_FB_TOGGLE);
            if (!w && chance(&fbr, 25)) { /* order matters: set, then toggle back */
                r->n_fb = 2;
                r->fb_op[0] = DC_FB_SET;
                r->fb_op[1] = DC_FB_TOGGLE;
                r->fb_name[1] = 'x';
            }
            r->noalert = !w && chance(&fbr, 50);
            if (r->noalert)
                r->action = VP_ACTION_DETECT;
        }
    }
    relink(set);
}

/* ------------------------------------------------------------ streams */

typedef struct buf {
    uint8_t *b;
    size_t n, cap;
} buf;

static void put(buf *o, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n && o->n < o->cap; i++)
        o->b[o->n++] = p[i];
}

static void put_table_string(rng *g, buf *o, const char *t, int flip_case)
{
    for (; *t && o->n < o->cap; t++) {
        uint8_t ch = byte_of(*t);
        if (flip_case && chance(g, 50) && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
            ch ^= 0x20;
        o->b[o->n++] = ch;
    }
}

/* An occurrence (near = 0) or a near miss (near = 1) of some pattern of the set. */
static void plant_cond(rng *g, const dc_rule *r, size_t k, buf *o, int near, int from_jump);

static void put_filler(rng *g, buf *o, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        uint8_t ch = byte_of(PICK(g, alphabet));
        put(o, &ch, 1);
    }
}

/* A byte_jump with what it needs around it, mostly right: the condition
 * before, its distance, a value, the bytes it moves over and the condition
 * after (off by one byte now and then). */
static void plant_jump(rng *g, const dc_rule *r, size_t k, buf *o, int near, int from_jump)
{
    const orc_cond *c = &r->conds[k];
    if (k > 0 && !from_jump && chance(g, 80))
        plant_cond(g, r, k - 1, o, 0, 0);
    put_filler(g, o, c->distance);
    uint64_t v = chance(g, 90) ? (uint64_t)range(g, 0, 8) : next64(g);
    uint8_t b[8];
    for (int i = 0; i < c->bj_bytes; i++)
        b[c->bj_little ? i : c->bj_bytes - 1 - i] = (uint8_t)(v >> (8 * i));
    put(o, b, (size_t)c->bj_bytes);
    if (k + 1 >= r->n_conds || v > 8 || !chance(g, 80))
        return;
    int64_t move = (int64_t)(v * c->bj_mult);
    if (c->bj_align)
        move = (move + 3) / 4 * 4;
    move += c->bj_post;
    const orc_cond *n = &r->conds[k + 1];
    move += n->has_distance ? n->distance : 0;
    if (near)
        move += range(g, -1, 1);
    put_filler(g, o, move < 0 ? 0 : move);
    plant_cond(g, r, k + 1, o, 0, 1);   /* a jump after: without its predecessor again */
}

static void plant(rng *g, const dc_set *set, buf *o, int near)
{
    const dc_rule *r = &set->rules[next64(g) % set->n_rules];
    size_t k = (size_t)(next64(g) % r->n_conds);
    plant_cond(g, r, k, o, near, 0);
}

static void plant_cond(rng *g, const dc_rule *r, size_t k, buf *o, int near, int from_jump)
{
    const orc_cond *c = &r->conds[k];
    if (c->is_dataat)
        return; /* any byte */
    if (c->is_jump) {
        plant_jump(g, r, k, o, near, from_jump);
        return;
    }
    if (c->is_bytetest) { /* the value (or a neighbour) in the test's byte order */
        uint64_t v = c->bt_value + (near ? (uint64_t)range(g, -1, 1) : 0);
        if (!near && chance(g, 30))
            v = next64(g);
        uint8_t b[8];
        for (int i = 0; i < c->bt_bytes; i++)
            b[c->bt_little ? i : c->bt_bytes - 1 - i] = (uint8_t)(v >> (8 * i));
        put(o, b, (size_t)c->bt_bytes);
        return;
    }
    if (c->is_regex) {
        for (size_t i = 0; i < sizeof(regexes) / sizeof(regexes[0]); i++)
            if (strcmp(regexes[i].re, c->pattern) == 0) {
                const char *t = near ? PICK(g, regexes[i].near) : PICK(g, regexes[i].samples);
                put_table_string(g, o, t, chance(g, 30));
            }
        return;
    }
    uint8_t tmp[DC_MAX_PAT];
    size_t n = c->len;
    memcpy(tmp, c->pattern, n);
    for (size_t i = 0; i < n; i++)
        if (chance(g, c->nocase ? 50 : 10) && ((tmp[i] | 0x20) >= 'a' && (tmp[i] | 0x20) <= 'z'))
            tmp[i] ^= 0x20;
    if (near) {
        if (n > 1 && chance(g, 50))
            n = (size_t)range(g, 1, (int64_t)n - 1); /* a prefix */
        else
            tmp[next64(g) % n] = byte_of(PICK(g, alphabet));
    }
    put(o, tmp, n);
}

static void gen_chunking(rng *g, const dc_stream *st, int mode, dc_chunking *ch)
{
    ch->n = 0;
    for (size_t s = 0; s < st->n_segs; s++) {
        size_t left = st->segs[s].len;
        while (left) {
            size_t n = mode == 0 ? left : mode == 1 ? 1 : (size_t)range(g, 1, mode == 2 ? 8 : 64);
            if (n > left)
                n = left;
            ch->len[ch->n++] = (uint16_t)n;
            left -= n;
        }
    }
}

void dc_gen_stream(const dc_set *set, uint64_t k, dc_stream *st)
{
    static const uint16_t ports[] = {80, 443, 8080, 22, 81};
    rng g = rng_of(set->seed, set->index, k + 1);
    memset(st, 0, sizeof(*st));
    st->proto = chance(&g, 12) ? VP_PROTO_UDP : VP_PROTO_TCP;
    st->port = PICK(&g, ports);
    st->dir = chance(&g, 70) ? VP_DIR_TO_SERVER : VP_DIR_TO_CLIENT;

    static const int64_t max_len[] = {3, 40, 40, 40, 40, 120, 120, 120, 300, 300};
    size_t len = (size_t)range(&g, 0, set->big ? DC_MAX_BYTES : PICK(&g, max_len));
    buf o = {st->bytes, 0, len};
    size_t starts[DC_MAX_BYTES]; /* where planted pieces start: good places for a gap */
    size_t n_starts = 0;
    while (o.n < len) {
        int what = (int)range(&g, 0, 9);
        if (what >= 4 && what <= 8)
            starts[n_starts++] = o.n;
        if (what <= 3) {
            for (int64_t i = range(&g, 1, 6); i > 0; i--) {
                uint8_t ch = byte_of(PICK(&g, alphabet));
                put(&o, &ch, 1);
            }
        } else if (what <= 6) {
            plant(&g, set, &o, 0);
        } else if (what <= 8) {
            plant(&g, set, &o, 1);
        } else if (o.n) { /* repeat something recent */
            size_t n = (size_t)range(&g, 1, o.n < 8 ? (int64_t)o.n : 8);
            uint8_t tmp[8];
            memcpy(tmp, o.b + o.n - n, n);
            put(&o, tmp, n);
        }
    }

    /* Sometimes a start that HTTP recognition looks at (or almost). */
    rng h = rng_of(set->seed, set->index, (k + 1) | (UINT64_C(1) << 41));
    if (chance(&h, 35)) {
        static const char *const starts_http[] = {
            "GET ", "POST\t", "PUT /", "BASELINE-CONTROL a", "MKCOL ", "GET", "get /", "GETX ",
            "OPTIONS", " GET ", "HTTP/1.1", "HTTP/1.0 2", "HTTP/0.9", "HTTP/2.0", "HTTP/1.",
            /* nocase contents such as "d", "ab" or "Ba" hold before the blank */
            "DELETE ", "HEAD\tab", "PATCH ", "UPDATE ", "BASELINE-CONTROL\t", "LABEL ",
        };
        const char *p = PICK(&h, starts_http);
        size_t pn = strlen(p);
        if (len + pn <= DC_MAX_BYTES) {
            memmove(st->bytes + pn, st->bytes, len);
            memcpy(st->bytes, p, pn);
            len += pn;
            for (size_t i = 0; i < n_starts; i++)
                starts[i] += pn;
        }
    }

    /* Cut into segments separated by gaps. */
    size_t cuts[DC_MAX_SEGS + 1];
    size_t n_segs = 1;
    int lead = 0;
    if (st->proto == VP_PROTO_TCP && set->allow_gaps && chance(&g, 45)) {
        lead = chance(&g, 15);
        n_segs = (size_t)range(&g, 2, DC_MAX_SEGS - 1);
        for (size_t i = 1; i < n_segs; i++) {
            cuts[i] = (size_t)range(&g, 0, (int64_t)len);
            if (n_starts && chance(&g, 60)) /* a segment that starts or ends with a pattern */
                cuts[i] = starts[next64(&g) % n_starts] + (size_t)(chance(&g, 50) ? 0 : range(&g, 1, 4));
            if (cuts[i] > len)
                cuts[i] = len;
        }
        for (size_t i = 1; i < n_segs; i++) /* sort */
            for (size_t j = i + 1; j < n_segs; j++)
                if (cuts[j] < cuts[i]) {
                    size_t t = cuts[i];
                    cuts[i] = cuts[j];
                    cuts[j] = t;
                }
    }
    cuts[0] = 0;
    cuts[n_segs] = len;
    if (lead) { /* the stream starts with a gap */
        st->segs[st->n_segs++] = (orc_segment){st->bytes, 0, (uint64_t)range(&g, 1, 20)};
    }
    for (size_t i = 0; i < n_segs; i++) {
        orc_segment *s = &st->segs[st->n_segs++];
        s->data = st->bytes + cuts[i];
        s->len = cuts[i + 1] - cuts[i];
        if (i + 1 < n_segs)
            s->gap = chance(&g, set->big ? 50 : 85) ? (uint64_t)range(&g, 1, 40)
                                                    : (uint64_t)range(&g, 41, 2000);
        else if (st->proto == VP_PROTO_TCP && set->allow_gaps && chance(&g, 10))
            s->gap = (uint64_t)range(&g, 1, 30); /* the stream ends with a gap */
    }
    gen_chunking(&g, st, (int)range(&g, 1, 3), &st->chunks[0]);
    gen_chunking(&g, st, k % 2 ? 0 : (chance(&g, 50) ? 1 : 0), &st->chunks[1]);
}

/* ------------------------------------------------------------ YAML */

typedef struct out {
    char *p;
    size_t n, cap;
    int overflow;
} out;

static void emit(out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->p + o->n, o->cap - o->n, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->n) {
        o->overflow = 1;
        o->n = o->cap - 1;
    } else {
        o->n += (size_t)n;
    }
}

static void emit_quoted_bytes(out *o, const char *p, size_t n)
{
    emit(o, "\"");
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = (uint8_t)p[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
            emit(o, "%c", ch);
        else
            emit(o, "\\x%02x", ch);
    }
    emit(o, "\"");
}

int dc_set_yaml(const dc_set *set, char *dst, size_t cap)
{
    out o = {dst, 0, cap, 0};
    emit(&o, "format: 1\nruleset: diff-%" PRIu64 "-%" PRIu64 "\nrules:\n", set->seed, set->index);
    for (size_t i = 0; i < set->n_rules; i++) {
        const dc_rule *r = &set->rules[i];
        emit(&o, "  - id: %u\n    name: rule %u\n    severity: %s\n", r->id, r->id, r->severity);
        if (r->modes)
            emit(&o, "    modes: %s\n", r->modes);
        emit(&o, "    action: %s\n", r->action == VP_ACTION_BLOCK ? "block" : "detect");
        emit(&o, "    protocol: %s\n", r->proto == VP_PROTO_UDP ? "udp" : "tcp");
        if (r->ports_yaml[0])
            emit(&o, "    ports: %s\n", r->ports_yaml);
        emit(&o, "    direction: %s\n",
             r->dir == VP_DIR_TO_SERVER ? "to_server" : r->dir == VP_DIR_TO_CLIENT ? "to_client" : "any");
        if (r->service_http)
            emit(&o, "    service: http\n");
        if (r->n_fb) {
            static const char *const names[] = {"", "set", "unset", "toggle", "isset", "isnotset"};
            emit(&o, "    flowbits: [");
            for (size_t k = 0; k < r->n_fb; k++)
                emit(&o, "%s{%s: %c}", k ? ", " : "", names[r->fb_op[k]], r->fb_name[k]);
            emit(&o, "]\n");
        }
        if (r->noalert)
            emit(&o, "    noalert: true\n");
        emit(&o, "    match:\n");
        for (size_t k = 0; k < r->n_conds; k++) {
            const orc_cond *c = &r->conds[k];
            if (c->is_dataat) {
                emit(&o, "      - isdataat: %" PRId64 "\n", c->has_distance ? c->distance : c->dataat);
                if (c->has_distance)
                    emit(&o, "        relative: true\n");
                if (c->negate)
                    emit(&o, "        negate: true\n");
                continue;
            }
            if (c->is_jump) {
                emit(&o, "      - byte_jump: {bytes: %d%s, multiplier: %" PRIu32 "%s, "
                         "post_offset: %" PRIu32 "}\n        distance: %" PRId64 "\n",
                     c->bj_bytes, c->bj_little ? ", endian: little" : "", c->bj_mult,
                     c->bj_align ? ", align: true" : "", c->bj_post, c->distance);
                continue;
            }
            if (c->is_bytetest) {
                static const char *const ops[] = {"=", "!=", "<", "<=", ">", ">=", "&", "!&"};
                emit(&o, "      - byte_test: {bytes: %d, op: \"%s\", value: %" PRIu64 "%s}\n",
                     c->bt_bytes, ops[c->bt_op], c->bt_value, c->bt_little ? ", endian: little" : "");
            } else if (c->is_regex) {
                emit(&o, "      - regex: '%s'\n", c->pattern);
                if (c->flags)
                    emit(&o, "        flags: %s\n", c->flags);
            } else if (r->as_hex[k]) {
                emit(&o, "      - hex: \"");
                for (size_t i = 0; i < c->len; i++)
                    emit(&o, "%s%02x", i ? " " : "", (uint8_t)c->pattern[i]);
                emit(&o, "\"\n");
            } else {
                emit(&o, "      - content: ");
                emit_quoted_bytes(&o, c->pattern, c->len);
                emit(&o, "\n");
            }
            if (c->nocase)
                emit(&o, "        nocase: true\n");
            if (c->has_offset)
                emit(&o, "        offset: %" PRId64 "\n", c->offset);
            if (c->has_depth)
                emit(&o, "        depth: %" PRId64 "\n", c->depth);
            if (c->has_distance)
                emit(&o, "        distance: %" PRId64 "\n", c->distance);
            if (c->has_within)
                emit(&o, "        within: %" PRId64 "\n", c->within);
            if (c->negate)
                emit(&o, "        negate: true\n");
            if (c->endswith)
                emit(&o, "        endswith: true\n");
        }
    }
    return o.overflow ? -1 : 0;
}

/* ------------------------------------------------------------ engine */

int dc_engine_build(const char *yaml, dc_engine *e, char *err, size_t err_len)
{
    memset(e, 0, sizeof(*e));
    err[0] = '\0';
    vp_compiler_t *c = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;
    vp_engine_options_t *opts = NULL;
    vp_error_t *verr = NULL;
    if (vp_compiler_create(&c) != VP_OK) {
        snprintf(err, err_len, "vp_compiler_create failed");
        return -1;
    }
    vp_compiler_set_run_tests(c, 0);
    vp_compiler_set_serial(c, 1);
    vp_compiler_add_memory(c, "diff.yaml", yaml, strlen(yaml));
    vp_status st = vp_compiler_build(c, &bytes, &len);
    if (st != VP_OK) {
        size_t at = (size_t)snprintf(err, err_len, "compile: %s", vp_status_str(st));
        for (size_t i = 0; i < vp_compiler_diag_count(c) && at < err_len; i++) {
            at += (size_t)snprintf(err + at, err_len - at, "\n  ");
            if (at < err_len)
                at += vp_compiler_diag_format(c, i, err + at, err_len - at);
        }
        vp_compiler_free(c);
        return -1;
    }
    vp_compiler_free(c);
    st = vp_bundle_load_memory(bytes, len, &e->bundle, &verr);
    vp_compiler_bundle_free(bytes);
    if (st == VP_OK && (st = vp_engine_options_create(&opts)) == VP_OK) {
        for (size_t i = 0; i < vp_bundle_rule_count(e->bundle) && st == VP_OK; i++) {
            vp_rule_info_t info = {.size = sizeof(info)};
            if ((st = vp_bundle_rule_at(e->bundle, i, &info)) == VP_OK)
                st = vp_engine_options_enable(opts, &info.id, 1);
        }
        if (st == VP_OK)
            st = vp_engine_create(e->bundle, opts, &e->engine, &verr);
        if (st == VP_OK)
            st = vp_scratch_alloc(e->engine, &e->scratch);
    }
    vp_engine_options_free(opts);
    if (st != VP_OK) {
        snprintf(err, err_len, "load: %s %s", vp_status_str(st), verr ? vp_error_message(verr) : "");
        vp_error_free(verr);
        dc_engine_free(e);
        return -1;
    }
    return 0;
}

void dc_engine_free(dc_engine *e)
{
    vp_scratch_free(e->scratch);
    vp_engine_free(e->engine);
    vp_bundle_free(e->bundle);
    memset(e, 0, sizeof(*e));
}

static void collect(const vp_event_t *ev, void *ctx)
{
    dc_events *o = ctx;
    if (o->n < DC_MAX_EVENTS)
        o->ev[o->n++] = *ev;
    else
        o->dropped++;
}

void dc_engine_run(const dc_engine *e, const dc_stream *st, int chunking, dc_events *o)
{
    memset(o, 0, sizeof(*o));
    if (st->proto == VP_PROTO_UDP) {
        const orc_segment *s = &st->segs[0];
        if (vp_scan_datagram(e->engine, VP_PROTO_UDP, st->port, st->dir, s->data, s->len,
                             e->scratch, collect, o, &o->verdict) != VP_OK)
            o->api_error = 1;
        return;
    }
    vp_stream_t *s = NULL;
    if (vp_stream_open(e->engine, VP_PROTO_TCP, st->port, st->dir, collect, o, &s) != VP_OK) {
        o->api_error = 1;
        return;
    }
    const dc_chunking *ch = &st->chunks[chunking];
    size_t c = 0;
    for (size_t i = 0; i < st->n_segs; i++) {
        size_t done = 0;
        while (done < st->segs[i].len) {
            size_t n = ch->len[c++];
            if (vp_stream_scan(s, st->segs[i].data + done, n, e->scratch) != VP_OK)
                o->api_error = 1;
            done += n;
        }
        if (st->segs[i].gap && vp_stream_gap(s, st->segs[i].gap, e->scratch) != VP_OK)
            o->api_error = 1;
    }
    if (vp_stream_close(s, e->scratch) != VP_OK)
        o->api_error = 1;
    o->verdict = vp_stream_verdict(s);
    vp_stream_free(s);
}

/* Where the stream is recognised as HTTP (rule-format.md, Services): its
 * bytes before the first gap start with a method and a blank (to_server) or
 * an HTTP/0.9-1.1 version (to_client).  -1 when it is not. */
static int64_t http_recognised_at(const dc_stream *st)
{
    static const char *const methods[] = {
        "GET", "PUT", "POST", "HEAD", "TRACE", "OPTIONS", "CONNECT", "DELETE", "PATCH",
        "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "CHECKOUT",
        "UNCHECKOUT", "CHECKIN", "UPDATE", "LABEL", "REPORT", "MKWORKSPACE", "MKACTIVITY",
        "MERGE", "INVALID", "VERSION-CONTROL", "BASELINE-CONTROL",
    };
    static const char *const versions[] = {"HTTP/0.9", "HTTP/1.0", "HTTP/1.1"};
    if (st->n_segs == 0)
        return -1;
    const uint8_t *p = st->segs[0].data;
    size_t n = st->segs[0].len; /* a leading gap makes this 0 */
    if (st->dir == VP_DIR_TO_SERVER) {
        for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
            size_t L = strlen(methods[i]);
            if (n > L && memcmp(p, methods[i], L) == 0 && (p[L] == ' ' || p[L] == '\t'))
                return (int64_t)L + 1;
        }
        return -1;
    }
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
        if (n >= 8 && memcmp(p, versions[i], 8) == 0)
            return 8;
    return -1;
}

int dc_expected(const dc_rule *r, const dc_stream *st, orc_result *out, char *err,
                size_t err_len)
{
    if (orc_eval(r->conds, r->n_conds, st->segs, st->n_segs, out, err, err_len))
        return -1;
    if (r->service_http && out->fires) {
        int64_t at = http_recognised_at(st);
        if (at < 0) {
            out->fires = 0;
            out->offset = -1;
        } else if (out->offset < at) {
            out->offset = at;
        }
    }
    return 0;
}

/* Where rule r is checked: its holding point, then every later end of a
 * match of one of its positive patterns in that pattern's own window. */
static int check_points(const dc_rule *r, const dc_stream *st, int64_t hold, int64_t **pts,
                        size_t *n, char *err, size_t err_len)
{
    size_t cap = 1;
    *pts = malloc(sizeof(int64_t));
    if (!*pts)
        return -1;
    (*pts)[0] = hold;
    *n = 1;
    for (size_t k = 0; k < r->n_conds; k++) {
        int64_t *ends;
        size_t m;
        if (orc_match_ends(&r->conds[k], st->segs, st->n_segs, &ends, &m, err, err_len))
            return -1;
        for (size_t i = 0; i < m; i++) {
            if (ends[i] < hold)
                continue;
            if (*n == cap) {
                cap *= 2;
                int64_t *p = realloc(*pts, cap * sizeof(int64_t));
                if (!p) {
                    free(ends);
                    return -1;
                }
                *pts = p;
            }
            (*pts)[(*n)++] = ends[i];
        }
        free(ends);
    }
    /* sort (small lists) */
    for (size_t i = 1; i < *n; i++)
        for (size_t j = i; j > 0 && (*pts)[j - 1] > (*pts)[j]; j--) {
            int64_t t = (*pts)[j];
            (*pts)[j] = (*pts)[j - 1];
            (*pts)[j - 1] = t;
        }
    return 0;
}

static int checks_hold(const dc_rule *r, const int bits[2])
{
    for (size_t k = 0; k < r->n_fb; k++) {
        int b = bits[r->fb_name[k] == 'y'];
        if ((r->fb_op[k] == DC_FB_ISSET && !b) || (r->fb_op[k] == DC_FB_ISNOTSET && b))
            return 0;
    }
    return 1;
}

static void apply_ops(const dc_rule *r, int bits[2])
{
    for (size_t k = 0; k < r->n_fb; k++) {
        int *b = &bits[r->fb_name[k] == 'y'];
        if (r->fb_op[k] == DC_FB_SET)
            *b = 1;
        else if (r->fb_op[k] == DC_FB_UNSET)
            *b = 0;
        else if (r->fb_op[k] == DC_FB_TOGGLE)
            *b = !*b;
    }
}

int dc_expected_set(const dc_set *set, const dc_stream *st, orc_result out[DC_MAX_RULES],
                    int *ambiguous, char *err, size_t err_len)
{
    *ambiguous = 0;
    int any_fb = 0;
    for (size_t i = 0; i < set->n_rules; i++) {
        out[i] = (orc_result){0, -1};
        if (dc_rule_applies(&set->rules[i], st)) {
            if (dc_expected(&set->rules[i], st, &out[i], err, err_len))
                return -1;
            any_fb |= set->rules[i].n_fb > 0 && out[i].fires;
        }
    }
    if (!any_fb)
        return 0;
    /* Play the rules that hold out in offset order. */
    int64_t *pts[DC_MAX_RULES] = {0};
    size_t n_pts[DC_MAX_RULES] = {0}, next[DC_MAX_RULES] = {0};
    int done[DC_MAX_RULES] = {0};
    int bits[2] = {0, 0}, rc = 0;
    for (size_t i = 0; i < set->n_rules && !rc; i++) {
        if (!out[i].fires)
            done[i] = 1;
        else if (set->rules[i].n_fb)
            rc = check_points(&set->rules[i], st, out[i].offset, &pts[i], &n_pts[i], err,
                              err_len);
    }
    while (!rc) {
        int64_t best = INT64_MAX;
        size_t who = 0, at_best = 0;
        for (size_t i = 0; i < set->n_rules; i++) {
            if (done[i])
                continue;
            int64_t p = set->rules[i].n_fb ? pts[i][next[i]] : out[i].offset;
            if (p < best) {
                best = p;
                who = i;
                at_best = 0;
            }
            if (p == best && set->rules[i].n_fb)
                at_best++;
        }
        if (best == INT64_MAX)
            break;
        if (at_best > 1)
            *ambiguous = 1;
        const dc_rule *r = &set->rules[who];
        if (!r->n_fb) {
            done[who] = 1;
            continue;
        }
        if (checks_hold(r, bits)) {
            apply_ops(r, bits);
            out[who].offset = best;
            done[who] = 1;
            if (r->noalert)
                out[who] = (orc_result){0, -1};
        } else if (++next[who] == n_pts[who]) {
            out[who] = (orc_result){0, -1};
            done[who] = 1;
        }
    }
    for (size_t i = 0; i < set->n_rules; i++)
        free(pts[i]);
    return rc;
}

int dc_rule_applies(const dc_rule *r, const dc_stream *st)
{
    if (r->proto != st->proto)
        return 0;
    if (r->dir != VP_DIR_ANY && r->dir != st->dir)
        return 0;
    if (r->port_any)
        return 1;
    for (size_t i = 0; i < r->n_ranges; i++)
        if (st->port >= r->lo[i] && st->port <= r->hi[i])
            return 1;
    return 0;
}

/* ------------------------------------------------------------ printing */

void dc_print_stream(FILE *f, const dc_stream *st)
{
    fprintf(f, "stream: %s port %u %s\n", st->proto == VP_PROTO_UDP ? "udp datagram" : "tcp",
            st->port, st->dir == VP_DIR_TO_SERVER ? "to_server" : "to_client");
    int64_t at = 0;
    for (size_t i = 0; i < st->n_segs; i++) {
        const orc_segment *s = &st->segs[i];
        fprintf(f, "  segment %zu at %" PRId64 ", %zu bytes:", i, at, s->len);
        for (size_t k = 0; k < s->len; k++)
            fprintf(f, " %02x", s->data[k]);
        fprintf(f, "\n    text: \"");
        for (size_t k = 0; k < s->len; k++) {
            uint8_t ch = s->data[k];
            if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
                fputc(ch, f);
            else
                fprintf(f, "\\x%02x", ch);
        }
        fprintf(f, "\"\n");
        at += (int64_t)s->len;
        if (s->gap) {
            fprintf(f, "  gap of %" PRIu64 " bytes at %" PRId64 "\n", s->gap, at);
            at += (int64_t)s->gap;
        }
    }
    fprintf(f, "  end at %" PRId64 "\n", at);
    if (st->proto == VP_PROTO_TCP)
        for (int c = 0; c < 2; c++) {
            fprintf(f, "  chunking %d:", c);
            for (size_t i = 0; i < st->chunks[c].n; i++)
                fprintf(f, " %u", st->chunks[c].len[i]);
            fprintf(f, "\n");
        }
}

/* ------------------------------------------------------------ comparing */

typedef struct verdict_of_rule {
    int fires;
    int64_t offset;
} verdict_of_rule;

/* Engine bugs already reported, with a failing reproducer in regressions.c.
 * A rule that has the feature involved is still run and compared, but a
 * disagreement on it counts as "known" rather than failed (unless strict), so
 * that the differential test keeps looking for new bugs.  Remove an entry when
 * its bug is fixed.  Returns the name of the issue, or NULL. */
/* Engine bugs that are known but not fixed yet, by rule shape: none now.
 * (The relative negation decided when its E appears, found by this suite,
 * is fixed; its cases are in regressions.c.)  Keep the hook so a newly found
 * bug can be fenced while it is being fixed. */
static const char *known_issue(const dc_rule *r)
{
    (void)r;
    return NULL;
}

/* Compares one case; returns the number of disagreements, writing them to
 * `why` (one line each). */
static size_t compare(const dc_set *set, const dc_stream *st, const dc_engine *e, out *why,
                      dc_stats *stats, int strict)
{
    size_t bad = 0;
    verdict_of_rule expect[DC_MAX_RULES];
    int expect_block = 0;
    orc_result all[DC_MAX_RULES];
    int ambiguous = 0;
    char err[256];
    if (dc_expected_set(set, st, all, &ambiguous, err, sizeof(err))) {
        emit(why, "oracle error: %s\n", err);
        return bad + 1;
    }
    for (size_t i = 0; i < set->n_rules; i++) {
        const dc_rule *r = &set->rules[i];
        const orc_result res = all[i];
        expect[i].fires = res.fires;
        expect[i].offset = res.offset;
        if (!dc_rule_applies(r, st))
            continue;
        if (res.fires) {
            stats->fired++;
            expect_block |= r->action == VP_ACTION_BLOCK;
        } else {
            stats->not_fired++;
        }
    }
    int known_seen = 0;
    int runs = st->proto == VP_PROTO_UDP ? 1 : 2;
    for (int c = 0; c < runs; c++) {
        dc_events ev;
        dc_engine_run(e, st, c, &ev);
        if (ev.api_error) {
            emit(why, "chunking %d: a vp_* call failed\n", c);
            bad++;
        }
        if (ev.dropped) {
            emit(why, "chunking %d: more than %d events\n", c, DC_MAX_EVENTS);
            bad++;
        }
        for (size_t k = 0; k < ev.n; k++) {
            int known = 0;
            for (size_t i = 0; i < set->n_rules; i++)
                known |= ev.ev[k].rule_id == set->rules[i].id;
            if (!known) {
                emit(why, "chunking %d: event for unknown rule %u\n", c, ev.ev[k].rule_id);
                bad++;
            }
        }
        for (size_t i = 0; i < set->n_rules; i++) {
            const dc_rule *r = &set->rules[i];
            size_t n = 0;
            const vp_event_t *first = NULL;
            for (size_t k = 0; k < ev.n; k++)
                if (ev.ev[k].rule_id == r->id && n++ == 0)
                    first = &ev.ev[k];
            if (n > 1) {
                emit(why, "rule %u (chunking %d): fired %zu times\n", r->id, c, n);
                bad++;
            }
            int got = first != NULL;
            int64_t got_at = first ? (int64_t)first->offset : -1;
            if (ambiguous && r->n_fb) {
                stats->ambiguous++;
                continue;
            }
            if (got != expect[i].fires || got_at != expect[i].offset) {
                const char *known = strict ? NULL : known_issue(r);
                emit(why, "rule %u (chunking %d): oracle %s %" PRId64 ", engine %s %" PRId64 "%s%s%s\n",
                     r->id, c, expect[i].fires ? "fires at" : "does not fire", expect[i].offset,
                     got ? "fires at" : "does not fire", got_at,
                     dc_rule_applies(r, st) ? "" : " (rule does not apply to this stream)",
                     known ? " -- known issue: " : "", known ? known : "");
                if (known)
                    known_seen = 1;
                else
                    bad++;
            }
            if (first && (first->action != r->action || first->direction != st->dir)) {
                emit(why, "rule %u (chunking %d): event has action %d direction %d\n", r->id, c,
                     first->action, first->direction);
                bad++;
            }
        }
        vp_verdict want = expect_block ? VP_VERDICT_BLOCK : VP_VERDICT_ALLOW;
        if (ev.verdict != want && !known_seen && !ambiguous) {
            emit(why, "chunking %d: verdict %s, expected %s\n", c, vp_verdict_str(ev.verdict),
                 vp_verdict_str(want));
            bad++;
        }
    }
    if (known_seen)
        stats->known++;
    return bad;
}

void dc_run_set(const dc_config *cfg, uint64_t index, dc_stats *stats)
{
    static char yaml[16384];
    static char why_buf[8192];
    dc_set set;
    dc_gen_set(cfg->seed, index, &set);
    if (dc_set_yaml(&set, yaml, sizeof(yaml))) {
        if (cfg->log)
            fprintf(cfg->log, "set %" PRIu64 ": YAML too long\n", index);
        stats->cases += cfg->streams_per_set;
        stats->failed += cfg->streams_per_set;
        return;
    }
    dc_engine e;
    char err[2048];
    if (dc_engine_build(yaml, &e, err, sizeof(err))) {
        stats->cases += cfg->one_stream ? 1 : cfg->streams_per_set;
        stats->failed += cfg->one_stream ? 1 : cfg->streams_per_set;
        if (cfg->log)
            fprintf(cfg->log,
                    "=== set %" PRIu64 " (seed %" PRIu64 ") does not compile: %s\n%s\n"
                    "    replay: diffrun --seed %" PRIu64 " --set %" PRIu64 "\n",
                    index, cfg->seed, err, yaml, cfg->seed, index);
        return;
    }
    for (unsigned k = 0; k < cfg->streams_per_set; k++) {
        if (cfg->one_stream && k != cfg->stream)
            continue;
        dc_stream st;
        dc_gen_stream(&set, k, &st);
        out why = {why_buf, 0, sizeof(why_buf), 0};
        why_buf[0] = '\0';
        size_t bad = compare(&set, &st, &e, &why, stats, cfg->strict);
        stats->cases++;
        if (bad)
            stats->failed++;
        else
            stats->passed++;
        if (cfg->log && (cfg->verbose || (bad && stats->printed < cfg->max_printed))) {
            if (bad)
                stats->printed++;
            fprintf(cfg->log,
                    "=== %s: seed %" PRIu64 " set %" PRIu64 " stream %u\n"
                    "    replay: diffrun --seed %" PRIu64 " --set %" PRIu64 " --stream %u\n%s",
                    bad ? "DISAGREEMENT" : "case", cfg->seed, index, k, cfg->seed, index, k, yaml);
            dc_print_stream(cfg->log, &st);
            fputs(why_buf, cfg->log);
            if (!bad) {
                orc_result res[DC_MAX_RULES];
                int amb = 0;
                char oerr[256];
                if (dc_expected_set(&set, &st, res, &amb, oerr, sizeof(oerr)) == 0)
                    for (size_t i = 0; i < set.n_rules; i++)
                        fprintf(cfg->log, "  rule %u: %s %" PRId64 "%s\n", set.rules[i].id,
                                res[i].fires ? "fires at" : "no event", res[i].offset,
                                amb && set.rules[i].n_fb ? " (flowbits: order not defined)" : "");
            }
        }
    }
    dc_engine_free(&e);
}

/* ------------------------------------------------------------ shrinking */

static void stream_relink(dc_stream *st)
{
    size_t at = 0;
    for (size_t i = 0; i < st->n_segs; i++) {
        st->segs[i].data = st->bytes + at;
        at += st->segs[i].len;
    }
}

static int rule_valid(const dc_rule *r)
{
    if (r->n_conds == 0)
        return 0;
    for (size_t k = 0; k < r->n_conds; k++) {
        const orc_cond *c = &r->conds[k];
        int rel = c->has_distance || c->has_within;
        if (rel && (k == 0 || r->conds[k - 1].negate || c->is_regex ||
                    r->conds[k - 1].is_dataat || r->conds[k - 1].endswith))
            return 0;
        if (c->is_dataat && (c->has_within || c->has_offset || c->has_depth || c->distance < 0))
            return 0;
        if (c->is_jump && (k + 1 == r->n_conds || !(r->conds[k + 1].has_distance ||
                                                    r->conds[k + 1].has_within) ||
                           r->conds[k + 1].negate || r->conds[k + 1].distance < 0))
            return 0;
        if (c->is_jump) {
            for (size_t q = k; q > 0 && (r->conds[q].has_distance || r->conds[q].has_within); q--)
                if (q < k && r->conds[q].distance < 0)
                    return 0;
        }
        if (!c->is_regex && ((c->has_within && c->within < (int64_t)c->len) ||
                             (c->has_depth && c->depth < (int64_t)c->len)))
            return 0;
    }
    return 1;
}

static int shrink_strict = 1; /* known issues count when shrinking */

/* Does the case still disagree?  (Quiet; a set that does not compile does not.) */
static int still_fails(const dc_set *set, const dc_stream *st)
{
    static char yaml[16384];
    static char why_buf[8192];
    for (size_t i = 0; i < set->n_rules; i++)
        if (!rule_valid(&set->rules[i]))
            return 0;
    static char cached_yaml[16384];
    static dc_engine e; /* the engine of cached_yaml, kept while only the stream changes */
    static int have_engine;
    if (set->n_rules == 0 || dc_set_yaml(set, yaml, sizeof(yaml)))
        return 0;
    if (!have_engine || strcmp(yaml, cached_yaml)) {
        if (have_engine)
            dc_engine_free(&e);
        have_engine = 0;
        char err[1024];
        if (dc_engine_build(yaml, &e, err, sizeof(err)))
            return 0;
        have_engine = 1;
        strcpy(cached_yaml, yaml);
    }
    out why = {why_buf, 0, sizeof(why_buf), 0};
    dc_stats stats = {0};
    return compare(set, st, &e, &why, &stats, shrink_strict) > 0;
}

static void simple_chunks(dc_stream *st)
{
    rng g = {1};
    gen_chunking(&g, st, 0, &st->chunks[0]);
    gen_chunking(&g, st, 1, &st->chunks[1]);
}

/* One pass of shrinking steps; returns 1 when something got smaller. */
static int shrink_step(dc_set *set, dc_stream *st)
{
    static dc_set s2;
    static dc_stream t2;
    int progress = 0;
#define TRY_SET(mutation)                                                                          \
    do {                                                                                           \
        s2 = *set;                                                                                 \
        relink(&s2);                                                                               \
        mutation;                                                                                  \
        relink(&s2);                                                                               \
        if (still_fails(&s2, st)) {                                                                \
            *set = s2;                                                                             \
            relink(set);                                                                           \
            progress = 1;                                                                          \
        }                                                                                          \
    } while (0)
#define TRY_STREAM(mutation)                                                                       \
    do {                                                                                           \
        t2 = *st;                                                                                  \
        stream_relink(&t2);                                                                        \
        mutation;                                                                                  \
        stream_relink(&t2);                                                                        \
        simple_chunks(&t2);                                                                        \
        if (still_fails(set, &t2)) {                                                               \
            *st = t2;                                                                              \
            stream_relink(st);                                                                     \
            progress = 1;                                                                          \
        }                                                                                          \
    } while (0)

    /* rules */
    for (size_t i = 0; set->n_rules > 1 && i < set->n_rules; i++)
        TRY_SET({
            memmove(&s2.rules[i], &s2.rules[i + 1], (s2.n_rules - i - 1) * sizeof(dc_rule));
            s2.n_rules--;
        });
    for (size_t i = 0; i < set->n_rules; i++) {
        for (size_t k = 0; set->rules[i].n_conds > 1 && k < set->rules[i].n_conds; k++)
            TRY_SET({
                dc_rule *r = &s2.rules[i];
                memmove(&r->conds[k], &r->conds[k + 1], (r->n_conds - k - 1) * sizeof(orc_cond));
                memmove(&r->pat[k], &r->pat[k + 1], (r->n_conds - k - 1) * sizeof(r->pat[0]));
                memmove(&r->flags[k], &r->flags[k + 1], (r->n_conds - k - 1) * sizeof(r->flags[0]));
                memmove(&r->as_hex[k], &r->as_hex[k + 1], (r->n_conds - k - 1) * sizeof(int));
                r->n_conds--;
            });
        for (size_t k = 0; k < set->rules[i].n_conds; k++) {
            orc_cond *c = &set->rules[i].conds[k];
#define FIELD(f) s2.rules[i].conds[k].f
            if (c->has_offset)
                TRY_SET(FIELD(has_offset) = 0);
            if (c->has_offset && c->offset > 0)
                TRY_SET(FIELD(offset) = FIELD(offset) / 2);
            if (c->has_depth)
                TRY_SET(FIELD(has_depth) = 0);
            if (c->has_distance)
                TRY_SET(FIELD(has_distance) = 0);
            if (c->has_distance && c->distance != 0)
                TRY_SET(FIELD(distance) = FIELD(distance) / 2);
            if (c->has_within)
                TRY_SET(FIELD(has_within) = 0);
            if (c->nocase)
                TRY_SET(FIELD(nocase) = 0);
            if (c->negate)
                TRY_SET(FIELD(negate) = 0);
            if (c->endswith)
                TRY_SET(FIELD(endswith) = 0);
            if (set->rules[i].as_hex[k])
                TRY_SET(s2.rules[i].as_hex[k] = 0);
            if (set->rules[i].flags[k][0])
                TRY_SET(s2.rules[i].flags[k][0] = '\0');
#undef FIELD
        }
        dc_rule *r = &set->rules[i];
        if (r->proto != VP_PROTO_TCP || r->dir != VP_DIR_TO_SERVER || !r->port_any || r->modes ||
            r->ports_yaml[0])
            TRY_SET({
                dc_rule *q = &s2.rules[i];
                q->proto = VP_PROTO_TCP;
                q->dir = VP_DIR_TO_SERVER;
                q->port_any = 1;
                q->ports_yaml[0] = '\0';
                q->modes = NULL;
            });
    }
    /* stream */
    if (st->proto != VP_PROTO_TCP || st->port != 80 || st->dir != VP_DIR_TO_SERVER)
        TRY_STREAM({
            t2.port = 80;
            t2.dir = VP_DIR_TO_SERVER;
        });
    for (size_t i = 0; i < st->n_segs; i++) {
        if (st->segs[i].gap > 1)
            TRY_STREAM(t2.segs[i].gap = 1);
        if (st->segs[i].gap > 1)
            TRY_STREAM(t2.segs[i].gap = t2.segs[i].gap / 2);
        if (st->segs[i].gap && i + 1 < st->n_segs)
            TRY_STREAM({ /* merge segment i+1 into i */
                t2.segs[i].len += t2.segs[i + 1].len;
                t2.segs[i].gap = t2.segs[i + 1].gap;
                memmove(&t2.segs[i + 1], &t2.segs[i + 2], (t2.n_segs - i - 2) * sizeof(orc_segment));
                t2.n_segs--;
            });
        if (st->segs[i].gap && i + 1 == st->n_segs)
            TRY_STREAM(t2.segs[i].gap = 0);
        if (st->segs[i].len == 0 && st->n_segs > 1)
            TRY_STREAM({
                if (i > 0)
                    t2.segs[i - 1].gap += t2.segs[i].gap;
                memmove(&t2.segs[i], &t2.segs[i + 1], (t2.n_segs - i - 1) * sizeof(orc_segment));
                t2.n_segs--;
            });
    }
    size_t total = 0;
    for (size_t i = 0; i < st->n_segs; i++)
        total += st->segs[i].len;
    /* drop bytes, last to first (a deletion does not move earlier bytes) */
    for (size_t at = total; at-- > 0;) {
        size_t seg = 0, seg_start = 0;
        while (at >= seg_start + st->segs[seg].len)
            seg_start += st->segs[seg++].len;
        TRY_STREAM({
            memmove(t2.bytes + at, t2.bytes + at + 1, total - at - 1);
            t2.segs[seg].len--;
        });
        total = 0;
        for (size_t i = 0; i < st->n_segs; i++)
            total += st->segs[i].len;
    }
    /* make bytes plainer */
    for (size_t at = 0; at < total; at++)
        if (st->bytes[at] != '-')
            TRY_STREAM(t2.bytes[at] = '-');
#undef TRY_SET
#undef TRY_STREAM
    return progress;
}

int dc_case_fails(uint64_t seed, uint64_t index, unsigned k, int strict)
{
    shrink_strict = strict;
    static dc_set set;
    static dc_stream st;
    dc_gen_set(seed, index, &set);
    dc_gen_stream(&set, k, &st);
    return still_fails(&set, &st);
}

void dc_shrink(const dc_config *cfg, uint64_t index, unsigned k, FILE *f)
{
    shrink_strict = cfg->strict;
    static dc_set set;
    static dc_stream st;
    dc_gen_set(cfg->seed, index, &set);
    dc_gen_stream(&set, k, &st);
    if (!still_fails(&set, &st)) {
        fprintf(f, "set %" PRIu64 " stream %u: no disagreement\n", index, k);
        return;
    }
    /* Prefer plain chunking if it still fails. */
    static dc_stream t;
    t = st;
    stream_relink(&t);
    simple_chunks(&t);
    if (still_fails(&set, &t)) {
        st = t;
        stream_relink(&st);
    }
    while (shrink_step(&set, &st))
        ;
    static char yaml[16384];
    static char why_buf[8192];
    dc_set_yaml(&set, yaml, sizeof(yaml));
    fprintf(f, "=== shrunk from seed %" PRIu64 " set %" PRIu64 " stream %u\n%s", cfg->seed, index, k, yaml);
    dc_print_stream(f, &st);
    dc_engine e;
    char err[1024];
    if (dc_engine_build(yaml, &e, err, sizeof(err)) == 0) {
        out why = {why_buf, 0, sizeof(why_buf), 0};
        dc_stats stats = {0};
        compare(&set, &st, &e, &why, &stats, 1);
        fputs(why_buf, f);
        dc_engine_free(&e);
    }
}
