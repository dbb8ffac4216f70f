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

/* ------------------------------------------------------------ classes */

static void cls_range(vp_bclass *c, unsigned lo, unsigned hi)
{
    memset(c, 0, sizeof(*c));
    for (unsigned b = lo; b <= hi; b++)
        c->bits[b >> 3] |= (uint8_t)(1u << (b & 7));
}

static int cls_has(const vp_bclass *c, unsigned b)
{
    return (c->bits[b >> 3] >> (b & 7)) & 1;
}

static int cls_empty(const vp_bclass *c)
{
    for (int i = 0; i < 32; i++)
        if (c->bits[i])
            return 0;
    return 1;
}

static int cls_full(const vp_bclass *c)
{
    for (int i = 0; i < 32; i++)
        if (c->bits[i] != 0xff)
            return 0;
    return 1;
}

/* ------------------------------------------------------------ sequence sets */

void vp_bseqs_free(vp_bseqs *s)
{
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* Appends a sequence of s->len classes; -1 on OOM.  Counts past the bound
 * are refused by the callers. */
static int push(vp_bseqs *s, const vp_bclass *seq)
{
    vp_bclass *v = realloc(s->v, (s->count + 1) * s->len * sizeof(vp_bclass));
    if (!v)
        return -1;
    s->v = v;
    memcpy(s->v + s->count * s->len, seq, s->len * sizeof(vp_bclass));
    s->count++;
    return 0;
}

typedef struct builder {
    vp_bseqs *s;
    vp_bclass prefix[VP_BT_MAX_BYTES];
    int oom;
} builder;

static void emit(builder *g)
{
    if (!g->oom && push(g->s, g->prefix) != 0)
        g->oom = 1;
}

static void any_from(builder *g, unsigned pos)
{
    for (unsigned k = pos; k < g->s->len; k++)
        cls_range(&g->prefix[k], 0, 255);
    emit(g);
}

/* The numbers lo..hi of the bytes pos..n-1 (lo <= hi). */
static void range_from(builder *g, unsigned pos, uint64_t lo, uint64_t hi)
{
    unsigned n = (unsigned)g->s->len;
    if (pos == n) {
        emit(g);
        return;
    }
    unsigned shift = 8 * (n - pos - 1); /* at most 56 */
    uint64_t low = shift ? (UINT64_C(1) << shift) - 1 : 0;
    unsigned lb = (unsigned)(lo >> shift), hb = (unsigned)(hi >> shift);
    uint64_t lr = lo & low, hr = hi & low;
    if (lb == hb) {
        cls_range(&g->prefix[pos], lb, lb);
        range_from(g, pos + 1, lr, hr);
        return;
    }
    unsigned a = lb, b = hb;
    if (lr != 0) { /* lb followed by lr..all */
        cls_range(&g->prefix[pos], lb, lb);
        range_from(g, pos + 1, lr, low);
        a = lb + 1;
    }
    int tail = hr != low;
    if (tail)
        b = hb - 1;
    if (a <= b) { /* whole blocks in between */
        cls_range(&g->prefix[pos], a, b);
        any_from(g, pos + 1);
    }
    if (tail) { /* hb followed by 0..hr */
        cls_range(&g->prefix[pos], hb, hb);
        range_from(g, pos + 1, 0, hr);
    }
}

/* Bit tests: the mask byte of each position, most significant first. */
static void add_bits(builder *g, uint64_t mask, int any)
{
    unsigned n = (unsigned)g->s->len;
    for (unsigned k = 0; k < n; k++) {
        unsigned m = (unsigned)(mask >> (8 * (n - 1 - k))) & 0xff;
        if (any) { /* some position has a bit of m: one sequence per position */
            if (!m)
                continue;
            for (unsigned j = 0; j < n; j++)
                cls_range(&g->prefix[j], 0, 255);
            memset(&g->prefix[k], 0, sizeof(vp_bclass));
            for (unsigned b = 0; b < 256; b++)
                if (b & m)
                    g->prefix[k].bits[b >> 3] |= (uint8_t)(1u << (b & 7));
            emit(g);
        } else { /* no position has a bit of its m */
            memset(&g->prefix[k], 0, sizeof(vp_bclass));
            for (unsigned b = 0; b < 256; b++)
                if (!(b & m))
                    g->prefix[k].bits[b >> 3] |= (uint8_t)(1u << (b & 7));
        }
    }
    if (!any)
        emit(g);
}

int vp_bseqs_bytetest(vp_bseqs *out, unsigned n, int little, int op, uint64_t value)
{
    memset(out, 0, sizeof(*out));
    if (n < 1 || n > VP_BT_MAX_BYTES || op < 0 || op >= VP_BT_N_OPS)
        return -1;
    out->len = n;
    builder g = {out, {{{0}}}, 0};
    uint64_t max = n == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * n)) - 1;
    switch (op) {
    case VP_BT_EQ:
        if (value <= max)
            range_from(&g, 0, value, value);
        break;
    case VP_BT_NE:
        if (value > max) {
            range_from(&g, 0, 0, max);
        } else {
            if (value > 0)
                range_from(&g, 0, 0, value - 1);
            if (value < max)
                range_from(&g, 0, value + 1, max);
        }
        break;
    case VP_BT_LT:
        if (value > 0)
            range_from(&g, 0, 0, value - 1 < max ? value - 1 : max);
        break;
    case VP_BT_LE:
        range_from(&g, 0, 0, value < max ? value : max);
        break;
    case VP_BT_GT:
        if (value < max)
            range_from(&g, 0, value + 1, max);
        break;
    case VP_BT_GE:
        if (value <= max)
            range_from(&g, 0, value, max);
        break;
    case VP_BT_AND:
        if (value & max)
            add_bits(&g, value & max, 1);
        break;
    default: /* VP_BT_NAND */
        add_bits(&g, value & max, 0);
        break;
    }
    if (g.oom) {
        vp_bseqs_free(out);
        return -1;
    }
    if (little) { /* the least significant byte comes first */
        for (size_t i = 0; i < out->count; i++) {
            vp_bclass *q = out->v + i * n;
            for (unsigned k = 0; k < n / 2; k++) {
                vp_bclass t = q[k];
                q[k] = q[n - 1 - k];
                q[n - 1 - k] = t;
            }
        }
    }
    return out->count == 0 ? 1 : 0; /* at most 4n-2 sequences */
}

int vp_bseqs_literal(vp_bseqs *out, const uint8_t *bytes, size_t n, int nocase)
{
    memset(out, 0, sizeof(*out));
    if (n == 0 || n > VP_BSEQ_MAX_LEN)
        return 1;
    vp_bclass *seq = calloc(n, sizeof(vp_bclass));
    if (!seq)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned b = bytes[i];
        cls_range(&seq[i], b, b);
        if (nocase && ((b | 0x20) >= 'a' && (b | 0x20) <= 'z'))
            seq[i].bits[(b ^ 0x20) >> 3] |= (uint8_t)(1u << ((b ^ 0x20) & 7));
    }
    out->len = n;
    int rc = push(out, seq);
    free(seq);
    if (rc)
        vp_bseqs_free(out);
    return rc;
}

int vp_bseqs_and_at(const vp_bseqs *s, const vp_bseqs *t, long at_signed, vp_bseqs *out,
                    size_t *grown_front)
{
    if (at_signed < -(long)VP_BSEQ_MAX_LEN || at_signed > (long)VP_BSEQ_MAX_LEN)
        return 1;
    size_t front = at_signed < 0 ? (size_t)-at_signed : 0; /* s moves right by this */
    size_t at = (size_t)(at_signed + (long)front);             /* t's place in the result */
    size_t len = at + t->len > s->len + front ? at + t->len : s->len + front;
    if (len > VP_BSEQ_MAX_LEN || s->count * t->count > VP_BSEQ_MAX_SEQS)
        return 1;
    *grown_front = front;
    vp_bseqs r = {len, 0, NULL};
    vp_bclass *seq = calloc(len, sizeof(vp_bclass));
    if (!seq)
        return -1;
    for (size_t i = 0; i < s->count; i++)
        for (size_t j = 0; j < t->count; j++) {
            const vp_bclass *a = s->v + i * s->len, *b = t->v + j * t->len;
            int dead = 0;
            for (size_t k = 0; k < len && !dead; k++) {
                vp_bclass c;
                if (k >= front && k < front + s->len)
                    c = a[k - front];
                else
                    cls_range(&c, 0, 255);
                if (k >= at && k < at + t->len)
                    for (int q = 0; q < 32; q++)
                        c.bits[q] &= b[k - at].bits[q];
                dead = cls_empty(&c);
                seq[k] = c;
            }
            if (!dead && push(&r, seq) != 0) {
                free(seq);
                vp_bseqs_free(&r);
                return -1;
            }
        }
    free(seq);
    if (r.count == 0) {
        vp_bseqs_free(&r);
        return 1;
    }
    *out = r;
    return 0;
}

/* ------------------------------------------------------------ writing */

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

static void put_class(out *o, const vp_bclass *c)
{
    char tmp[16];
    unsigned count = 0, only = 0;
    for (unsigned b = 0; b < 256; b++)
        if (cls_has(c, b))
            count++, only = b;
    if (count == 1) {
        snprintf(tmp, sizeof tmp, "\\x%02x", only);
        put(o, tmp);
        return;
    }
    put(o, "[");
    for (unsigned b = 0; b < 256;) {
        if (!cls_has(c, b)) {
            b++;
            continue;
        }
        unsigned e = b;
        while (e + 1 < 256 && cls_has(c, e + 1))
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

char *vp_bseqs_expr(const vp_bseqs *s)
{
    out o = {NULL, 0, 0, 0};
    char tmp[32];
    put(&o, s->count > 1 ? "(?:" : "");
    for (size_t i = 0; i < s->count; i++) {
        if (i)
            put(&o, "|");
        const vp_bclass *q = s->v + i * s->len;
        for (size_t k = 0; k < s->len;) {
            size_t run = 1; /* runs of any byte as one bounded repeat */
            while (cls_full(&q[k]) && k + run < s->len && cls_full(&q[k + run]))
                run++;
            put_class(&o, &q[k]);
            if (run > 1) {
                snprintf(tmp, sizeof tmp, "{%zu}", run);
                put(&o, tmp);
            }
            k += run;
        }
    }
    put(&o, s->count > 1 ? ")" : "");
    if (o.oom) {
        free(o.p);
        return NULL;
    }
    return o.p;
}

char *vp_bytetest_expr(unsigned n, int little, int op, uint64_t value, int *empty)
{
    vp_bseqs s;
    int rc = vp_bseqs_bytetest(&s, n, little, op, value);
    *empty = rc == 1;
    if (rc != 0)
        return NULL;
    char *e = vp_bseqs_expr(&s);
    vp_bseqs_free(&s);
    return e;
}
