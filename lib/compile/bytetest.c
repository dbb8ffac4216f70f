/*
 * From a byte_test to an expression: the values that pass are one or two
 * ranges (or, for the bit tests, a condition on each byte); a range of
 * n-byte numbers is a union of at most 2n-1 sequences of byte ranges, most
 * significant byte first (as for decimal ranges in a regex, in base 256).
 * Little-endian values are the same sequences read backwards.
 */
#include "bytetest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cls {
    uint8_t bits[32]; /* the bytes this position accepts */
} cls;

#define MAX_SEQS 64

typedef struct seqs {
    unsigned n;              /* bytes per sequence */
    size_t count;
    cls v[MAX_SEQS][VP_BT_MAX_BYTES];
} seqs;

static const char *const op_names[VP_BT_N_OPS] = {"=", "!=", "<", "<=", ">", ">=", "&", "!&"};

const char *vp_bt_op_name(int op)
{
    return op >= 0 && op < VP_BT_N_OPS ? op_names[op] : "?";
}

int vp_bt_op_of(const char *name)
{
    for (int i = 0; i < VP_BT_N_OPS; i++)
        if (strcmp(name, op_names[i]) == 0)
            return i;
    return -1;
}

static void cls_range(cls *c, unsigned lo, unsigned hi)
{
    memset(c, 0, sizeof(*c));
    for (unsigned b = lo; b <= hi; b++)
        c->bits[b >> 3] |= (uint8_t)(1u << (b & 7));
}

static void push(seqs *s, const cls *prefix)
{
    if (s->count < MAX_SEQS)
        memcpy(s->v[s->count], prefix, s->n * sizeof(cls));
    s->count++; /* counted even when full: the caller refuses overflow */
}

static void any_from(seqs *s, cls *prefix, unsigned pos)
{
    for (unsigned k = pos; k < s->n; k++)
        cls_range(&prefix[k], 0, 255);
    push(s, prefix);
}

/* The numbers lo..hi of the bytes pos..n-1 (lo <= hi). */
static void range_from(seqs *s, cls *prefix, unsigned pos, uint64_t lo, uint64_t hi)
{
    if (pos == s->n) {
        push(s, prefix);
        return;
    }
    unsigned shift = 8 * (s->n - pos - 1); /* at most 56 */
    uint64_t low = shift ? (UINT64_C(1) << shift) - 1 : 0;
    unsigned lb = (unsigned)(lo >> shift), hb = (unsigned)(hi >> shift);
    uint64_t lr = lo & low, hr = hi & low;
    if (lb == hb) {
        cls_range(&prefix[pos], lb, lb);
        range_from(s, prefix, pos + 1, lr, hr);
        return;
    }
    unsigned a = lb, b = hb;
    if (lr != 0) { /* lb followed by lr..all */
        cls_range(&prefix[pos], lb, lb);
        range_from(s, prefix, pos + 1, lr, low);
        a = lb + 1;
    }
    int tail = hr != low;
    if (tail)
        b = hb - 1;
    if (a <= b) { /* whole blocks in between */
        cls_range(&prefix[pos], a, b);
        any_from(s, prefix, pos + 1);
    }
    if (tail) { /* hb followed by 0..hr */
        cls_range(&prefix[pos], hb, hb);
        range_from(s, prefix, pos + 1, 0, hr);
    }
}

static void add_range(seqs *s, uint64_t lo, uint64_t hi)
{
    cls prefix[VP_BT_MAX_BYTES];
    range_from(s, prefix, 0, lo, hi);
}

/* Bit tests: the mask byte of each position, most significant first. */
static void add_bits(seqs *s, uint64_t mask, int any)
{
    cls prefix[VP_BT_MAX_BYTES];
    for (unsigned k = 0; k < s->n; k++) {
        unsigned m = (unsigned)(mask >> (8 * (s->n - 1 - k))) & 0xff;
        if (any) { /* some position has a bit of m: one sequence per position */
            if (!m)
                continue;
            for (unsigned j = 0; j < s->n; j++)
                cls_range(&prefix[j], 0, 255);
            memset(&prefix[k], 0, sizeof(cls));
            for (unsigned b = 0; b < 256; b++)
                if (b & m)
                    prefix[k].bits[b >> 3] |= (uint8_t)(1u << (b & 7));
            push(s, prefix);
        } else { /* no position has a bit of its m */
            memset(&prefix[k], 0, sizeof(cls));
            for (unsigned b = 0; b < 256; b++)
                if (!(b & m))
                    prefix[k].bits[b >> 3] |= (uint8_t)(1u << (b & 7));
        }
    }
    if (!any)
        push(s, prefix);
}

typedef struct out {
    char *p;
    size_t len, cap;
    int oom;
} out;

static void put(out *o, const char *text)
{
    size_t n = strlen(text);
    if (o->len + n + 1 > o->cap) {
        size_t cap = (o->len + n + 1) * 2;
        char *p = realloc(o->p, cap);
        if (!p) {
            o->oom = 1;
            return;
        }
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->len, text, n + 1);
    o->len += n;
}

static int has(const cls *c, unsigned b)
{
    return (c->bits[b >> 3] >> (b & 7)) & 1;
}

static void put_class(out *o, const cls *c)
{
    char tmp[16];
    unsigned count = 0;
    for (unsigned b = 0; b < 256; b++)
        count += (unsigned)has(c, b);
    if (count == 1) {
        for (unsigned b = 0; b < 256; b++)
            if (has(c, b)) {
                snprintf(tmp, sizeof tmp, "\\x%02x", b);
                put(o, tmp);
            }
        return;
    }
    put(o, "[");
    for (unsigned b = 0; b < 256;) {
        if (!has(c, b)) {
            b++;
            continue;
        }
        unsigned e = b;
        while (e + 1 < 256 && has(c, e + 1))
            e++;
        if (e == b)
            snprintf(tmp, sizeof tmp, "\\x%02x", b);
        else
            snprintf(tmp, sizeof tmp, "\\x%02x-\\x%02x", b, e);
        put(o, tmp);
        b = e + 1;
    }
    put(o, "]");
}

char *vp_bytetest_expr(unsigned n, int little, int op, uint64_t value, int *empty)
{
    *empty = 0;
    if (n < 1 || n > VP_BT_MAX_BYTES || op < 0 || op >= VP_BT_N_OPS)
        return NULL;
    seqs *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->n = n;
    uint64_t max = n == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * n)) - 1;
    switch (op) {
    case VP_BT_EQ:
        if (value <= max)
            add_range(s, value, value);
        break;
    case VP_BT_NE:
        if (value > max) {
            add_range(s, 0, max);
        } else {
            if (value > 0)
                add_range(s, 0, value - 1);
            if (value < max)
                add_range(s, value + 1, max);
        }
        break;
    case VP_BT_LT:
        if (value > 0)
            add_range(s, 0, value - 1 < max ? value - 1 : max);
        break;
    case VP_BT_LE:
        add_range(s, 0, value < max ? value : max);
        break;
    case VP_BT_GT:
        if (value < max)
            add_range(s, value + 1, max);
        break;
    case VP_BT_GE:
        if (value <= max)
            add_range(s, value, max);
        break;
    case VP_BT_AND:
        if (value & max)
            add_bits(s, value & max, 1);
        break;
    default: /* VP_BT_NAND */
        add_bits(s, value & max, 0);
        break;
    }
    if (s->count == 0 || s->count > MAX_SEQS) {
        *empty = s->count == 0;
        free(s);
        return NULL; /* more than MAX_SEQS cannot happen: at most 4n-2 */
    }
    out o = {NULL, 0, 0, 0};
    put(&o, s->count > 1 ? "(?:" : "");
    for (size_t i = 0; i < s->count; i++) {
        if (i)
            put(&o, "|");
        for (unsigned k = 0; k < n; k++)
            put_class(&o, &s->v[i][little ? n - 1 - k : k]);
    }
    put(&o, s->count > 1 ? ")" : "");
    free(s);
    if (o.oom) {
        free(o.p);
        return NULL;
    }
    return o.p;
}
