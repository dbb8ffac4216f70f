/*
 * Rules -> Hyperscan.  Every condition becomes one expression ("atom") in a
 * single streaming database; identical expressions are shared.  A literal
 * becomes an escaped byte string, so its match start is its end minus its
 * length and every window check can be exact.  A regex with an `offset` gets
 * an anchored prefix \A(?s:.){N,} so that Hyperscan itself guarantees a start
 * at or after N (it only reports match ends).
 */
#include <hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/chainplan.h"
#include "../common/buffers.h"
#include "../common/dbvariants.h"
#include "../common/hsflags.h"
#include "plan.h"
#include "bytetest.h"

/* ------------------------------------------------------------ growable arrays */

typedef struct strpool {
    char *buf;
    size_t len, cap;
    int oom;
} strpool;

static uint32_t pool_add(strpool *p, const char *s)
{
    if (!s || !*s)
        return 0;
    size_t n = strlen(s) + 1;
    if (p->len + n > p->cap) {
        size_t ncap = (p->len + n) * 2;
        char *nb = realloc(p->buf, ncap);
        if (!nb) {
            p->oom = 1;
            return 0;
        }
        p->buf = nb;
        p->cap = ncap;
    }
    memcpy(p->buf + p->len, s, n);
    uint32_t off = (uint32_t)p->len;
    p->len += n;
    return off;
}

/* Offset 0 is the empty string, so absent strings need no special case. */
static void pool_init(strpool *p)
{
    p->buf = calloc(1, 64);
    p->cap = p->buf ? 64 : 0;
    p->len = p->buf ? 1 : 0;
    p->oom = !p->buf;
}

#define GROW(arr, n, cap, oomflag)                                                        \
    do {                                                                                  \
        if ((n) == (cap)) {                                                               \
            size_t ncap_ = (cap) ? (cap) * 2 : 16;                                        \
            void *na_ = realloc((arr), ncap_ * sizeof(*(arr)));                           \
            if (!na_) {                                                                   \
                (oomflag) = 1;                                                            \
                break;                                                                    \
            }                                                                             \
            (arr) = na_;                                                                  \
            (cap) = ncap_;                                                                \
        }                                                                                 \
    } while (0)

/* ------------------------------------------------------------ atoms */

typedef struct atom_src {
    char *expr;          /* Hyperscan expression text */
    uint32_t flags;      /* VP_A_* */
    uint64_t hash;
    int single_ok;       /* every user only needs the first match */
    const vp_src_cond *first_user;
    const vp_src_rule *first_rule;
} atom_src;

typedef struct builder {
    strpool pool;
    vp_model *m;
    size_t cap_rules, cap_conds, cap_strlist, cap_ports, cap_atoms, cap_flowbits, cap_thresholds,
        cap_jumps;
    atom_src *atoms;
    size_t n_atoms;
    uint32_t *hash_slots; /* open addressing, atom index + 1 */
    size_t n_slots;
    int oom;
} builder;

static uint64_t fnv1a(const char *s, uint32_t flags)
{
    uint64_t h = 1469598103934665603ull ^ flags;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static char *literal_expr(const uint8_t *bytes, size_t len)
{
    char *out = malloc(len * 4 + 1);
    if (!out)
        return NULL;
    char *p = out;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = bytes[i];
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            *p++ = (char)c;
        } else {
            sprintf(p, "\\x%02x", c);
            p += 4;
        }
    }
    *p = '\0';
    return out;
}

static char *regex_expr(const vp_src_cond *c)
{
    const char *text = (const char *)c->bytes;
    int extended = (c->atom_flags & VP_A_EXTENDED) != 0;
    char prefix[64] = "";
    if ((c->flags & VP_C_HAS_OFFSET) && c->offset > 0)
        snprintf(prefix, sizeof(prefix), "\\A(?s:.){%u,}", c->offset);
    /* (?x) is scoped to the group; the newline ends a trailing # comment. */
    size_t n = strlen(prefix) + strlen(text) + 16;
    char *out = malloc(n);
    if (!out)
        return NULL;
    snprintf(out, n, "%s(?:%s%s%s)", prefix, extended ? "(?x)" : "", text, extended ? "\n" : "");
    return out;
}

/* Whether a regex can assert the start of data (^ or \A outside a class).
 * Errs towards yes: such atoms are only switched off after a gap. */
static int regex_start_anchored(const char *re)
{
    int in_class = 0;
    for (const char *p = re; *p; p++) {
        if (*p == '\\') {
            if (p[1] == 'A' && !in_class)
                return 1;
            if (p[1])
                p++;
        } else if (in_class) {
            if (*p == ']')
                in_class = 0;
        } else if (*p == '[') {
            in_class = 1;
            if (p[1] == '^')
                p++;
            if (p[1] == ']')
                p++;
        } else if (*p == '^') {
            return 1;
        }
    }
    return 0;
}

/* Appends to a growable C string; returns -1 on OOM. */
static int str_cat(char **s, size_t *len, size_t *cap, const char *add)
{
    size_t n = strlen(add);
    if (*len + n + 1 > *cap) {
        size_t ncap = (*len + n + 1) * 2;
        char *p = realloc(*s, ncap);
        if (!p)
            return -1;
        *s = p;
        *cap = ncap;
    }
    memcpy(*s + *len, add, n + 1);
    *len += n;
    return 0;
}

/* One condition as a part of a composite: its pattern under its own flags. */
static int cat_pattern(char **s, size_t *len, size_t *cap, const vp_src_cond *c)
{
    char *body = c->is_regex || c->is_bytetest ? strdup((const char *)c->bytes)
                                               : literal_expr(c->bytes, c->len);
    if (!body)
        return -1;
    char open[16] = "(?";
    if (c->is_regex) {
        if (c->atom_flags & VP_A_CASELESS)
            strcat(open, "i");
        if (c->atom_flags & VP_A_DOTALL)
            strcat(open, "s");
        if (c->atom_flags & VP_A_MULTILINE)
            strcat(open, "m");
        if (c->atom_flags & VP_A_EXTENDED)
            strcat(open, "x");
    } else if (c->flags & VP_C_NOCASE) {
        strcat(open, "i");
    }
    strcat(open, ":");
    int extended = c->is_regex && (c->atom_flags & VP_A_EXTENDED);
    int rc = str_cat(s, len, cap, open) || str_cat(s, len, cap, body) ||
             str_cat(s, len, cap, extended ? "\n)" : ")");
    free(body);
    return rc ? -1 : 0;
}

/* Between lo and hi arbitrary bytes; Hyperscan refuses a {0,0} repeat. */
static void gap_expr(char *out, size_t cap, const char *lead, uint32_t lo, size_t hi)
{
    if (hi == 0)
        snprintf(out, cap, "%s", lead);
    else if (lo == hi)
        snprintf(out, cap, "%s(?s:.){%u}", lead, lo);
    else
        snprintf(out, cap, "%s(?s:.){%u,%zu}", lead, lo, hi);
}

/* A relative regex at conds[k] becomes one expression of its whole chain
 * (conds[h..k]): `\A(?s:.){N,}` for the first condition's window, then each
 * pattern separated by `(?s:.){d,}` (or `{d,d+w-len}` for a literal with
 * within).  Hyperscan then reports exactly the ends where some assignment of
 * the chain holds, which the engine cannot find from a regex's end alone.
 * The reader has checked that the chain is of this form. */
static char *composite_expr(const vp_src_rule *r, size_t k)
{
    size_t h = k;
    while (h > 0 && (r->conds[h].flags & VP_C_RELATIVE))
        h--;
    char *s = NULL, tmp[96];
    size_t len = 0, cap = 0;
    int rc = str_cat(&s, &len, &cap, "");
    for (size_t i = h; rc == 0 && i <= k; i++) {
        const vp_src_cond *c = &r->conds[i];
        tmp[0] = '\0';
        if (i == h) {
            uint32_t n = (c->flags & VP_C_HAS_OFFSET) ? c->offset : 0;
            if (c->flags & VP_C_HAS_DEPTH)
                gap_expr(tmp, sizeof(tmp), "\\A", n, (size_t)n + c->depth - c->len);
            else if (n)
                snprintf(tmp, sizeof(tmp), "\\A(?s:.){%u,}", n);
        } else {
            uint32_t d = (c->flags & VP_C_HAS_DISTANCE) ? (uint32_t)c->distance : 0;
            if (c->flags & VP_C_HAS_WITHIN)
                gap_expr(tmp, sizeof(tmp), "", d, (size_t)d + c->within - c->len);
            else if (d)
                snprintf(tmp, sizeof(tmp), "(?s:.){%u,}", d);
            else
                snprintf(tmp, sizeof(tmp), "(?s:.)*");
        }
        rc = str_cat(&s, &len, &cap, tmp) || cat_pattern(&s, &len, &cap, c);
    }
    if (rc) {
        free(s);
        return NULL;
    }
    return s;
}

static int is_composite(const vp_src_cond *c)
{
    return c->is_regex && (c->flags & VP_C_RELATIVE);
}

/* A rule with flowbit checks may fire at a later match of its patterns
 * (rule-format.md, Flowbits), so its atoms need every match. */
static int has_flowbit_checks(const vp_src_rule *r)
{
    for (size_t i = 0; i < r->n_flowbits; i++)
        if (r->flowbits[i].op == VP_FB_ISSET || r->flowbits[i].op == VP_FB_ISNOTSET)
            return 1;
    return 0;
}

static int atom_uses_only_first_match(const vp_src_rule *r, size_t k)
{
    const vp_src_cond *c = &r->conds[k];
    if (has_flowbit_checks(r))
        return 0;
    int alone = !(c->flags & VP_C_RELATIVE) &&
                !(k + 1 < r->n_conds && (r->conds[k + 1].flags & VP_C_RELATIVE));
    int windowless = !(c->flags & (VP_C_HAS_OFFSET | VP_C_HAS_DEPTH));
    return alone && windowless;
}

static int slots_grow(builder *b)
{
    size_t n = b->n_slots ? b->n_slots * 2 : 1024;
    uint32_t *slots = calloc(n, sizeof(uint32_t));
    if (!slots)
        return -1;
    for (size_t i = 0; i < b->n_atoms; i++) {
        size_t j = b->atoms[i].hash & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = (uint32_t)i + 1;
    }
    free(b->hash_slots);
    b->hash_slots = slots;
    b->n_slots = n;
    return 0;
}

/* Returns the atom index for the condition, adding it when new; -1 on OOM.
 * `own`, when not NULL, is the expression to use instead of the condition's
 * (taken over), with its flags `own_flags`. */
static int64_t atom_intern(builder *b, const vp_src_rule *r, size_t k, char *own,
                           uint32_t own_flags)
{
    const vp_src_cond *c = &r->conds[k];
    uint32_t flags = c->is_regex ? (VP_A_REGEX | c->atom_flags)
                                 : ((c->flags & VP_C_NOCASE) ? VP_A_CASELESS : 0);
    char *expr;
    if (own) {
        flags = own_flags;
        expr = own;
    } else if (c->is_anomaly) {
        flags = VP_A_ANOMALY;
        expr = strdup((const char *)c->bytes);
    } else if (c->is_anybyte) {
        flags = VP_A_ANYBYTE;
        expr = strdup("");
    } else if (c->is_jump) {
        flags = VP_A_JUMP;
        expr = strdup("");
    } else if (is_composite(c)) {
        flags = VP_A_REGEX; /* flags live inside the expression */
        expr = composite_expr(r, k);
    } else if (c->is_bytetest) {
        /* every match is len bytes long: a literal to the engine */
        expr = strdup((const char *)c->bytes);
    } else {
        expr = c->is_regex ? regex_expr(c) : literal_expr(c->bytes, c->len);
    }
    flags |= c->flags & VP_BUF_MASK;
    if (!expr)
        return -1;
    if (c->is_regex && regex_start_anchored(expr))
        flags |= VP_A_START_ANCHORED;
    uint64_t h = fnv1a(expr, flags);
    if ((b->n_atoms + 1) * 2 > b->n_slots && slots_grow(b) != 0) {
        free(expr);
        return -1;
    }
    size_t j = h & (b->n_slots - 1);
    for (; b->hash_slots[j]; j = (j + 1) & (b->n_slots - 1)) {
        atom_src *a = &b->atoms[b->hash_slots[j] - 1];
        if (a->hash == h && a->flags == flags && strcmp(a->expr, expr) == 0) {
            free(expr);
            a->single_ok &= atom_uses_only_first_match(r, k);
            return b->hash_slots[j] - 1;
        }
    }
    size_t cap = b->cap_atoms;
    GROW(b->atoms, b->n_atoms, cap, b->oom);
    b->cap_atoms = cap;
    if (b->oom) {
        free(expr);
        return -1;
    }
    atom_src *a = &b->atoms[b->n_atoms];
    a->expr = expr;
    a->flags = flags;
    a->hash = h;
    a->single_ok = atom_uses_only_first_match(r, k);
    a->first_user = c;
    a->first_rule = r;
    b->hash_slots[j] = (uint32_t)++b->n_atoms;
    return (int64_t)b->n_atoms - 1;
}

/* ------------------------------------------------------------ checks */

static void check_regex(const vp_src_rule *r, const vp_src_cond *c, vp_diags *d)
{
    char *expr = regex_expr(c);
    if (!expr) {
        d->oom = 1;
        return;
    }
    uint32_t aflags = VP_A_REGEX | c->atom_flags;
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *cerr = NULL;
    if (hs_expression_info(expr, vp_hs_flags_of(aflags), &info, &cerr) != HS_SUCCESS) {
        vp_diag_add(d, VP_DIAG_ERROR, VP_D_REGEX, r->file, c->pattern_mark, r->id,
                    "regex is not supported by Hyperscan: %s",
                    cerr && cerr->message ? cerr->message : "unknown error");
        hs_free_compile_error(cerr);
    } else if (info->min_width == 0) {
        vp_diag_add(d, VP_DIAG_ERROR, VP_D_REGEX, r->file, c->pattern_mark, r->id,
                    "regex can match an empty string, which would match everywhere");
    }
    free(info);
    free(expr);
}

static void check_duplicate_ids(vp_src_file *files, size_t n_files, vp_diags *d)
{
    for (size_t f = 0; f < n_files; f++)
        for (size_t i = 0; i < files[f].n_rules; i++) {
            const vp_src_rule *r = &files[f].rules[i];
            if (!r->id)
                continue;
            /* Only across files: the reader reports duplicates within one. */
            for (size_t g = 0; g < f; g++)
                for (size_t j = 0; j < files[g].n_rules; j++) {
                    const vp_src_rule *o = &files[g].rules[j];
                    if (o->id == r->id) {
                        vp_diag_add(d, VP_DIAG_ERROR, VP_D_DUPLICATE_ID, r->file, r->id_mark,
                                    r->id, "duplicate rule id %u (first defined at %s:%u:%u)",
                                    r->id, o->file, o->id_mark.line, o->id_mark.col);
                        goto next;
                    }
                }
        next:;
        }
}

/* ------------------------------------------------------------ model */

/* ------------------------------------------------------------ byte_test atoms */

/*
 * A byte_test alone would be found by Hyperscan at nearly every byte (it is
 * a few byte classes).  When it is pinned right after a literal (or after a
 * byte_test so combined), its atom becomes that literal followed by the
 * tested bytes, one fixed-length expression that Hyperscan finds through the
 * literal; the condition then spans from the literal's start (distance
 * -L, within the combined length).  Pinned at a fixed absolute place, it is
 * anchored to the stream start instead.
 */
typedef struct bt_chain {
    vp_bseqs prev;      /* strings the previous condition's match is one of */
    int have_prev;
    int32_t adjust;     /* added to the next relative condition's distance */
} bt_chain;

static int bt_seqs_of(const vp_src_cond *c, vp_bseqs *out)
{
    if (c->is_bytetest)
        return vp_bseqs_bytetest(out, (unsigned)c->len, c->bt_little, c->bt_op, c->bt_value);
    return vp_bseqs_literal(out, c->bytes, c->len, (c->flags & VP_C_NOCASE) != 0);
}

/* A byte_test pinned at place P: anchored, `\A`, P bytes, the test. */
static int bt_pinned_at_place(const vp_src_cond *c)
{
    uint32_t pos = c->flags & (VP_C_RELATIVE | VP_C_HAS_OFFSET | VP_C_HAS_DEPTH);
    return c->is_bytetest && pos == (VP_C_HAS_OFFSET | VP_C_HAS_DEPTH) && c->depth == c->len &&
           c->offset <= 65535;
}

static char *bt_anchored_expr(const vp_src_cond *c)
{
    const char *test = (const char *)c->bytes;
    size_t n = strlen(test) + 48;
    char *e = malloc(n);
    if (e && c->offset)
        snprintf(e, n, "\\A[\\x00-\\xff]{%u}(?:%s)", (unsigned)c->offset, test);
    else if (e)
        snprintf(e, n, "\\A(?:%s)", test);
    return e;
}

/* Combines byte_test k, pinned after the previous condition, with that
 * condition's strings (ch->prev) into *out, and fills the model condition's
 * position fields and ch->adjust.  1 combined, 0 not, -1 OOM. */
static int bt_combine(const vp_src_rule *r, size_t k, bt_chain *ch, int32_t distance,
                      vp_bseqs *out, vp_mcond *mc)
{
    const vp_src_cond *c = &r->conds[k];
    if (!c->is_bytetest || (c->flags & (VP_C_HAS_OFFSET | VP_C_HAS_DEPTH)) ||
        !(c->flags & VP_C_HAS_WITHIN) || c->within != c->len || !ch->have_prev || k == 0 ||
        (r->conds[k - 1].flags & VP_C_NEGATE) ||
        VP_BUF_OF(r->conds[k - 1].flags) != VP_BUF_OF(c->flags))
        return 0;
    /* a combined match counts from before its predecessor's end, which a
     * byte_jump later in the chain cannot follow (its bytes must lie ahead) */
    for (size_t q = k + 1; q < r->n_conds && (r->conds[q].flags & VP_C_RELATIVE); q++)
        if (r->conds[q].is_jump)
            return 0;
    vp_bseqs t;
    int rc = vp_bseqs_bytetest(&t, (unsigned)c->len, c->bt_little, c->bt_op, c->bt_value);
    size_t front = 0;
    if (rc == 0) /* its first byte may be before prev's start */
        rc = vp_bseqs_and_at(&ch->prev, &t, (long)ch->prev.len + distance, out, &front);
    vp_bseqs_free(&t);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    /* the combined match starts `front` bytes before prev's; the byte_test
     * ends at prev end + distance + n, the combined match at prev end +
     * start + out->len: the next relative condition counts from the former */
    int64_t start = -(int64_t)ch->prev.len - (int64_t)front;
    int64_t adjust = distance + (int64_t)c->len - (start + (int64_t)out->len);
    /* an isdataat after it cannot count from before the combined end */
    if (adjust < 0 && k + 1 < r->n_conds && r->conds[k + 1].is_anybyte &&
        (r->conds[k + 1].flags & VP_C_RELATIVE)) {
        vp_bseqs_free(out);
        return 0;
    }
    ch->adjust = (int32_t)adjust;
    mc->flags = (c->flags & (VP_C_NEGATE | VP_BUF_MASK)) | VP_C_HAS_DISTANCE | VP_C_HAS_WITHIN;
    mc->offset = mc->depth = 0;
    mc->distance = (int32_t)start;
    mc->within = (uint32_t)out->len;
    mc->length = (uint32_t)out->len;
    return 1;
}

/* What the next condition may be combined with: this one's strings. */
static int bt_chain_next(const vp_src_cond *c, bt_chain *ch)
{
    vp_bseqs_free(&ch->prev);
    ch->have_prev = 0;
    if ((c->flags & VP_C_NEGATE) || c->is_regex || c->is_anybyte || c->is_anomaly ||
        c->is_jump || c->len == 0 || c->len > VP_BSEQ_MAX_LEN)
        return 0;
    int rc = bt_seqs_of(c, &ch->prev);
    if (rc < 0)
        return -1;
    ch->have_prev = rc == 0;
    return 0;
}

/* A byte_test the engine can read instead of finding: positive, pinned at
 * distance >= 0 after the previous match, on the stream. */
static int test_read_ok(const vp_src_cond *c, int32_t distance)
{
    uint32_t pos = c->flags & (VP_C_RELATIVE | VP_C_HAS_OFFSET | VP_C_HAS_DEPTH | VP_C_NEGATE);
    return c->is_bytetest && (pos & ~(uint32_t)VP_C_HAS_DISTANCE) == VP_C_HAS_WITHIN &&
           c->within == c->len && distance >= 0 && VP_BUF_OF(c->flags) == VP_BUF_STREAM;
}

/* The JUMPS record of a byte_jump, or of a byte_test read as a test. */
static vp_mjump read_record(const vp_src_cond *c, uint32_t cond)
{
    _Static_assert((int)VP_BT_EQ == (int)VP_TEST_EQ && (int)VP_BT_NAND == (int)VP_TEST_NAND &&
                       (int)VP_BT_N_OPS == (int)VP_TEST_N_OPS,
                   "byte_test operators are stored as they are numbered");
    vp_mjump j;
    memset(&j, 0, sizeof j);
    j.cond = cond;
    j.bytes = (uint8_t)c->len;
    if (c->is_jump) {
        j.flags = (uint8_t)((c->bj_little ? VP_J_LITTLE : 0) | (c->bj_align ? VP_J_ALIGN : 0));
        j.multiplier = c->bj_mult;
        j.post_offset = c->bj_post;
    } else {
        j.flags = (uint8_t)(VP_J_TEST | (c->bt_little ? VP_J_LITTLE : 0));
        j.op = (uint8_t)c->bt_op;
        j.multiplier = 1;
        j.value = c->bt_value;
    }
    return j;
}

static void add_rule(builder *b, const vp_src_rule *r)
{
    vp_model *m = b->m;
    GROW(m->rules, m->n_rules, b->cap_rules, b->oom);
    if (b->oom)
        return;
    vp_mrule *mr = &m->rules[m->n_rules];
    memset(mr, 0, sizeof(*mr));
    mr->id = r->id;
    mr->severity = (uint8_t)r->severity;
    mr->action = (uint8_t)r->action;
    mr->proto = (uint8_t)r->proto;
    mr->direction = (uint8_t)r->direction;
    mr->service = (uint8_t)r->service;
    mr->flags = (uint8_t)((r->noalert ? VP_R_NOALERT : 0) | (r->n_flowbits ? VP_R_FLOWBITS : 0) |
                          (r->threshold_type ? VP_R_THRESHOLD : 0));
    if (r->threshold_type) {
        GROW(m->thresholds, m->n_thresholds, b->cap_thresholds, b->oom);
        if (b->oom)
            return;
        m->thresholds[m->n_thresholds++] = (vp_mthreshold){
            (uint32_t)m->n_rules, (uint8_t)r->threshold_type, (uint8_t)r->threshold_track,
            r->threshold_count, r->threshold_seconds};
    }
    for (size_t i = 0; i < r->n_flowbits; i++) {
        GROW(m->flowbits, m->n_flowbits, b->cap_flowbits, b->oom);
        if (b->oom)
            return;
        vp_mflowbit *fb = &m->flowbits[m->n_flowbits++];
        fb->rule = (uint32_t)m->n_rules;
        fb->name = pool_add(&b->pool, r->flowbits[i].name);
        fb->op = (uint8_t)r->flowbits[i].op;
    }
    mr->modes = (uint8_t)r->modes;
    mr->cvss10 = r->has_cvss ? (int16_t)(r->cvss * 10.0 + 0.5) : -1;
    mr->name = pool_add(&b->pool, r->name);
    mr->description = pool_add(&b->pool, r->description);

    char **lists[3] = {r->cves, r->refs, r->tags};
    size_t counts[3] = {r->n_cves, r->n_refs, r->n_tags};
    uint32_t *firsts[3] = {&mr->cve_first, &mr->ref_first, &mr->tag_first};
    uint32_t *ns[3] = {&mr->cve_count, &mr->ref_count, &mr->tag_count};
    for (int l = 0; l < 3; l++) {
        *firsts[l] = (uint32_t)m->n_strlist;
        *ns[l] = (uint32_t)counts[l];
        for (size_t i = 0; i < counts[l]; i++) {
            GROW(m->strlist, m->n_strlist, b->cap_strlist, b->oom);
            if (b->oom)
                return;
            m->strlist[m->n_strlist++] = pool_add(&b->pool, lists[l][i]);
        }
    }
    mr->port_first = (uint32_t)m->n_ports;
    mr->port_count = (uint32_t)r->n_ports;
    for (size_t i = 0; i < r->n_ports; i++) {
        GROW(m->ports, m->n_ports, b->cap_ports, b->oom);
        if (b->oom)
            return;
        m->ports[m->n_ports++] = r->ports[i];
    }
    mr->cond_first = (uint32_t)m->n_conds;
    mr->cond_count = (uint32_t)r->n_conds;
    bt_chain ch = {{0, 0, NULL}, 0, 0};
    int chain_back = 0; /* some condition of this chain so far counts backwards */
    for (size_t k = 0; k < r->n_conds; k++) {
        const vp_src_cond *c = &r->conds[k];
        if (!(c->flags & VP_C_RELATIVE))
            chain_back = 0;
        /* a relative condition after a combined byte_test counts from it */
        int32_t distance = c->distance;
        if ((c->flags & VP_C_RELATIVE) && !is_composite(c))
            distance += ch.adjust;
        ch.adjust = 0;
        vp_mcond own_mc;
        memset(&own_mc, 0, sizeof(own_mc));
        vp_bseqs merged = {0, 0, NULL};
        char *own = NULL;
        uint32_t own_flags = c->flags & VP_BUF_MASK;
        int combined = 0, as_read = 0;
        if (bt_pinned_at_place(c)) {
            own = bt_anchored_expr(c);
            own_flags |= VP_A_START_ANCHORED;
        } else {
            combined = bt_combine(r, k, &ch, distance, &merged, &own_mc);
            if (combined == 1)
                own = vp_bseqs_expr(&merged);
            /* a pinned byte_test with no literal to go with (after a regex,
             * a jump, another such test) is read by the engine: as a pattern
             * it would match nearly everywhere */
            as_read = !combined && !chain_back && test_read_ok(c, distance);
            if (as_read) {
                own = strdup("");
                own_flags |= VP_A_JUMP;
            }
        }
        int oom = combined < 0 || ((as_read || bt_pinned_at_place(c) || combined) && !own);
        int64_t atom = oom ? -1 : atom_intern(b, r, k, own, own_flags);
        GROW(m->conds, m->n_conds, b->cap_conds, b->oom);
        if (!oom && combined && !(c->flags & VP_C_NEGATE)) { /* the next may extend it */
            vp_bseqs_free(&ch.prev);
            ch.prev = merged;
            ch.have_prev = 1;
        } else {
            vp_bseqs_free(&merged);
            oom = oom || bt_chain_next(c, &ch) < 0;
        }
        if (oom || atom < 0 || b->oom) {
            vp_bseqs_free(&ch.prev);
            b->oom = 1;
            return;
        }
        vp_mcond *mc = &m->conds[m->n_conds++];
        memset(mc, 0, sizeof(*mc));
        mc->atom = (uint32_t)atom;
        if (combined) {
            own_mc.atom = (uint32_t)atom;
            *mc = own_mc;
            chain_back |= own_mc.distance < 0;
            continue;
        }
        mc->flags = c->flags | (c->is_regex ? VP_C_REGEX : 0);
        if (distance != c->distance || as_read)
            mc->flags |= VP_C_HAS_DISTANCE;
        if (is_composite(c)) {
            /* Its chain is inside the expression: it starts a chain of its
             * own, which the conditions after it extend as usual. */
            mc->flags &= ~(uint32_t)(VP_C_RELATIVE | VP_C_HAS_OFFSET | VP_C_HAS_DEPTH);
            chain_back = 0;
            mc->atom = (uint32_t)atom;
            mc->length = 0;
            mc->offset = mc->depth = mc->within = 0;
            mc->distance = 0;
            continue;
        }
        if (c->is_regex)
            mc->flags &= ~(uint32_t)VP_C_NOCASE;
        if (c->is_jump || as_read) {
            GROW(m->jumps, m->n_jumps, b->cap_jumps, b->oom);
            if (b->oom) {
                vp_bseqs_free(&ch.prev);
                return;
            }
            m->jumps[m->n_jumps++] = read_record(c, (uint32_t)(m->n_conds - 1));
        }
        mc->length = c->is_regex ? 0 : (uint32_t)c->len;
        mc->offset = c->offset;
        mc->depth = c->depth;
        mc->distance = distance;
        mc->within = c->within;
        chain_back |= (mc->flags & VP_C_HAS_DISTANCE) && distance < 0;
    }
    vp_bseqs_free(&ch.prev);
    m->n_rules++;
}

static const vp_src_rule *rule_at_index(vp_src_file *files, size_t n_files, size_t idx)
{
    for (size_t f = 0; f < n_files; f++) {
        if (idx < files[f].n_rules)
            return &files[f].rules[idx];
        idx -= files[f].n_rules;
    }
    return NULL;
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Each flow keeps one bit per distinct flowbit name of the bundle. */
static void check_flowbit_names(vp_src_file *files, size_t n_files, vp_diags *d)
{
    size_t n = 0;
    const vp_src_rule *first = NULL;
    for (size_t f = 0; f < n_files; f++)
        for (size_t i = 0; i < files[f].n_rules; i++) {
            n += files[f].rules[i].n_flowbits;
            if (!first && files[f].rules[i].n_flowbits)
                first = &files[f].rules[i];
        }
    if (n <= VP_MAX_FLOWBIT_NAMES)
        return;
    const char **names = malloc(n * sizeof(*names));
    if (!names) {
        d->oom = 1;
        return;
    }
    size_t k = 0;
    for (size_t f = 0; f < n_files; f++)
        for (size_t i = 0; i < files[f].n_rules; i++)
            for (size_t j = 0; j < files[f].rules[i].n_flowbits; j++)
                names[k++] = files[f].rules[i].flowbits[j].name;
    qsort(names, n, sizeof(*names), cmp_str_ptr);
    size_t distinct = 1;
    for (size_t i = 1; i < n; i++)
        distinct += strcmp(names[i], names[i - 1]) != 0;
    free(names);
    if (distinct > VP_MAX_FLOWBIT_NAMES)
        vp_diag_add(d, VP_DIAG_ERROR, VP_D_LIMIT, first->file, first->flowbits[0].mark, first->id,
                    "the rules use %zu distinct flowbit names, more than the %u a bundle may use",
                    distinct, VP_MAX_FLOWBIT_NAMES);
}

/* ------------------------------------------------------------ flowbit kinds */

/* One flowbit operation with what decides when it happens. */
typedef struct fb_use {
    const char *name;
    const vp_src_rule *rule;
    const vp_src_flowbit *fb;
    int http;       /* the rule inspects HTTP buffers (else the stream) */
    int dirs;       /* 1 to_server, 2 to_client, 3 both */
    int writes;     /* set, unset, toggle (else a check) */
} fb_use;

static int cmp_fb_use(const void *a, const void *b)
{
    const fb_use *x = a, *y = b;
    return strcmp(x->name, y->name);
}

static int rule_inspects(const vp_src_rule *r, int http)
{
    for (size_t k = 0; k < r->n_conds; k++)
        if ((VP_BUF_OF(r->conds[k].flags) != VP_BUF_STREAM) == http)
            return 1;
    return 0;
}

/* The stream bytes of a chunk are scanned before its HTTP buffers, so
 * within one stream the order of a stream rule and an HTTP rule depends on
 * how the host cut the data.  Flowbits must not depend on it: a rule with
 * flowbits inspects one of the two, and a bit changed by one kind is checked
 * by the same kind in a direction both can see (rule-format.md, Flowbits). */
static void check_flowbit_kinds(vp_src_file *files, size_t n_files, vp_diags *d)
{
    size_t n = 0;
    for (size_t f = 0; f < n_files; f++)
        for (size_t i = 0; i < files[f].n_rules; i++)
            n += files[f].rules[i].n_flowbits;
    if (n == 0)
        return;
    fb_use *u = calloc(n, sizeof(*u));
    if (!u) {
        d->oom = 1;
        return;
    }
    size_t k = 0;
    for (size_t f = 0; f < n_files; f++)
        for (size_t i = 0; i < files[f].n_rules; i++) {
            const vp_src_rule *r = &files[f].rules[i];
            if (!r->n_flowbits)
                continue;
            int http = rule_inspects(r, 1);
            if (http && rule_inspects(r, 0))
                vp_diag_add(d, VP_DIAG_ERROR, VP_D_UNSUPPORTED, r->file, r->flowbits[0].mark,
                            r->id, "a rule with flowbits inspects either the stream or HTTP "
                            "buffers, not both (the order of the two within a stream depends "
                            "on how the host cuts the data)");
            int dirs = r->direction == VP_DIR_ANY ? 3 : r->direction == VP_DIR_TO_CLIENT ? 2 : 1;
            for (size_t j = 0; j < r->n_flowbits; j++) {
                int op = r->flowbits[j].op;
                u[k++] = (fb_use){r->flowbits[j].name, r, &r->flowbits[j], http, dirs,
                                  op != VP_FB_ISSET && op != VP_FB_ISNOTSET};
            }
        }
    qsort(u, n, sizeof(*u), cmp_fb_use);
    for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b < n && strcmp(u[b].name, u[a].name) == 0)
            b++;
        for (size_t x = a; x < b; x++) {
            if (u[x].writes)
                continue;
            for (size_t y = a; y < b; y++)
                if (u[y].writes && u[y].http != u[x].http && (u[y].dirs & u[x].dirs)) {
                    vp_diag_add(d, VP_DIAG_ERROR, VP_D_UNSUPPORTED, u[x].rule->file, u[x].fb->mark,
                                u[x].rule->id,
                                "flowbit '%s' is checked by this rule, which inspects %s, and "
                                "changed by rule %u, which inspects %s, in the same direction: "
                                "within one stream their order would depend on how the host "
                                "cuts the data", u[x].name, u[x].http ? "HTTP buffers" : "the stream",
                                u[y].rule->id, u[y].http ? "HTTP buffers" : "the stream");
                    break;
                }
        }
        a = b;
    }
    free(u);
}

static void check_lookback(vp_src_file *files, size_t n_files, const vp_model *m, vp_diags *d)
{
    vp_chainplan plan;
    size_t bad_rule = 0, bad_cond = 0;
    int rc = vp_chainplan_build(m, &plan, &bad_rule, &bad_cond);
    if (rc == -1) {
        d->oom = 1;
        return;
    }
    if (rc == -2) {
        const vp_src_rule *r = rule_at_index(files, n_files, bad_rule);
        vp_diag_add(d, VP_DIAG_ERROR, VP_D_LIMIT, r->file, r->conds[bad_cond].mark, r->id,
                    "this chain of relative conditions needs more than %u bytes of stream "
                    "history; shorten distance/within",
                    VP_MAX_LOOKBACK);
        return;
    }
    vp_chainplan_free(&plan);
}

/* The Hyperscan inputs for the atoms of one buffer; returns how many. */
static unsigned collect_atoms(const vp_model *m, int buf, const char **exprs, unsigned *flags,
                              unsigned *ids)
{
    unsigned n = 0;
    for (size_t i = 0; i < m->n_atoms; i++) {
        uint32_t f = m->atoms[i].flags;
        if ((int)VP_BUF_OF(f) != buf || (f & VP_A_NOT_PATTERN))
            continue;
        exprs[n] = vp_model_str(m, m->atoms[i].expr);
        flags[n] = vp_hs_flags_of(f);
        ids[n++] = (unsigned)i;
    }
    return n;
}

/* Compiles one buffer's atoms for a platform.  Returns the database (NULL
 * when the buffer has no atoms or on failure; *failed then tells). */
static hs_database_t *compile_buffer(const vp_model *m, int buf,
                                     const hs_platform_info_t *platform, hs_compile_error_t **cerr,
                                     unsigned *failed_atom, int *failed)
{
    size_t cap = m->n_atoms ? m->n_atoms : 1;
    const char **exprs = calloc(cap, sizeof(char *));
    unsigned *flags = calloc(cap, sizeof(unsigned));
    unsigned *ids = calloc(cap, sizeof(unsigned));
    hs_database_t *db = NULL;
    *failed = 0;
    *cerr = NULL;
    if (!exprs || !flags || !ids) {
        *failed = -1;
    } else {
        unsigned n = collect_atoms(m, buf, exprs, flags, ids);
        if (n && hs_compile_multi(exprs, flags, ids, n, HS_MODE_STREAM, platform, &db, cerr) !=
                     HS_SUCCESS) {
            *failed = 1;
            db = NULL;
            if (*cerr && (*cerr)->expression >= 0 && (unsigned)(*cerr)->expression < n)
                *failed_atom = ids[(*cerr)->expression];
            else
                *failed_atom = UINT32_MAX;
        }
    }
    free(exprs), free(flags), free(ids);
    return db;
}

static int serialize(hs_database_t *db, uint8_t **out, size_t *len)
{
    char *bytes = NULL;
    int rc = hs_serialize_database(db, &bytes, len) == HS_SUCCESS ? 0 : -1;
    hs_free_database(db);
    if (rc == 0) {
        *out = malloc(*len);
        if (*out)
            memcpy(*out, bytes, *len);
        else
            rc = -1;
    }
    free(bytes);
    return rc;
}

/* A generic x86-64 target: the bundle must load on any CPU Hyperscan runs on. */
static void baseline_platform(hs_platform_info_t *p)
{
    memset(p, 0, sizeof(*p));
    p->tune = HS_TUNE_FAMILY_GENERIC;
}

static int compile_database(builder *b, vp_diags *d)
{
    vp_model *m = b->m;
    hs_platform_info_t platform;
    baseline_platform(&platform);
    vp_buffer_db dbs[VP_MAX_BUFFER_DBS];
    uint8_t *blobs[VP_BUF_COUNT] = {NULL};
    size_t n_dbs = 0;
    int rc = 0;
    for (int buf = 0; buf < VP_BUF_COUNT && rc == 0; buf++) {
        if (!vp_buf_has_patterns(buf))
            continue;
        hs_compile_error_t *cerr;
        unsigned bad_atom = 0;
        int failed;
        hs_database_t *db = compile_buffer(m, buf, &platform, &cerr, &bad_atom, &failed);
        if (failed < 0) {
            rc = -1;
            break;
        }
        if (failed) {
            const char *msg = cerr && cerr->message ? cerr->message : "unknown error";
            if (bad_atom < b->n_atoms)
                vp_diag_add(d, VP_DIAG_ERROR, VP_D_REGEX, b->atoms[bad_atom].first_rule->file,
                            b->atoms[bad_atom].first_user->pattern_mark,
                            b->atoms[bad_atom].first_rule->id,
                            "pattern cannot be compiled by Hyperscan: %s", msg);
            else
                vp_diag_add(d, VP_DIAG_ERROR, VP_D_INTERNAL, "", (vp_mark){0, 0}, 0,
                            "Hyperscan cannot build the %s database: %s", vp_buf_name(buf), msg);
            hs_free_compile_error(cerr);
            continue;
        }
        if (!db)
            continue;
        size_t len = 0;
        uint8_t *bytes = NULL;
        if (serialize(db, &bytes, &len) != 0) {
            rc = -1;
            break;
        }
        if (buf == VP_BUF_STREAM) {
            m->hs_stream_db = bytes;
            m->hs_stream_db_len = len;
        } else {
            blobs[buf] = bytes;
            dbs[n_dbs].buf = (uint32_t)buf;
            dbs[n_dbs].db = bytes;
            dbs[n_dbs].size = len;
            n_dbs++;
        }
    }
    if (rc == 0 && n_dbs) {
        m->hs_buffer_dbs = vp_buffer_dbs_write(dbs, n_dbs, &m->hs_buffer_dbs_len);
        if (!m->hs_buffer_dbs)
            rc = -1;
    }
    for (int buf = 0; buf < VP_BUF_COUNT; buf++)
        free(blobs[buf]);
    return rc;
}

static void builder_free(builder *b)
{
    for (size_t i = 0; i < b->n_atoms; i++)
        free(b->atoms[i].expr);
    free(b->atoms);
    free(b->hash_slots);
    free(b->pool.buf);
}

int vp_plan_build(vp_src_file *files, size_t n_files, uint64_t serial, vp_model *out,
                  vp_diags *d)
{
    memset(out, 0, sizeof(*out));
    check_duplicate_ids(files, n_files, d);
    for (size_t f = 0; f < n_files; f++)
        for (size_t i = 0; i < files[f].n_rules; i++) {
            const vp_src_rule *r = &files[f].rules[i];
            for (size_t k = 0; k < r->n_conds; k++)
                if (r->conds[k].is_regex && r->conds[k].bytes)
                    check_regex(r, &r->conds[k], d);
        }
    if (d->errors)
        return d->oom ? -1 : 0;

    builder b;
    memset(&b, 0, sizeof(b));
    b.m = out;
    pool_init(&b.pool);
    out->serial = serial;
    for (size_t f = 0; f < n_files && !b.oom; f++) {
        if (files[f].ruleset && !out->ruleset)
            out->ruleset = pool_add(&b.pool, files[f].ruleset);
        for (size_t i = 0; i < files[f].n_rules && !b.oom; i++)
            add_rule(&b, &files[f].rules[i]);
    }
    if (!b.oom) {
        out->atoms = calloc(b.n_atoms ? b.n_atoms : 1, sizeof(vp_matom));
        b.oom = !out->atoms;
    }
    for (size_t i = 0; !b.oom && i < b.n_atoms; i++) {
        out->atoms[i].expr = pool_add(&b.pool, b.atoms[i].expr);
        int single = b.atoms[i].single_ok && !(b.atoms[i].flags & VP_A_NOT_PATTERN);
        out->atoms[i].flags = b.atoms[i].flags | (single ? VP_A_SINGLEMATCH : 0);
    }
    out->n_atoms = b.n_atoms;
    if (b.pool.oom)
        b.oom = 1;
    if (!b.oom) {
        out->strings = b.pool.buf;
        out->strings_len = b.pool.len;
        b.pool.buf = NULL;
        check_lookback(files, n_files, out, d);
        check_flowbit_names(files, n_files, d);
        check_flowbit_kinds(files, n_files, d);
    }
    if (!b.oom && !d->errors && compile_database(&b, d) != 0)
        b.oom = 1;
    builder_free(&b);
    if (b.oom || d->oom || d->errors) {
        vp_model_free(out);
        return b.oom || d->oom ? -1 : 0;
    }
    return 0;
}

/* ------------------------------------------------------------ CPU variants */

static hs_database_t *compile_for(const vp_model *m, const hs_platform_info_t *platform)
{
    hs_compile_error_t *cerr;
    unsigned bad;
    int failed;
    hs_database_t *db = compile_buffer(m, VP_BUF_STREAM, platform, &cerr, &bad, &failed);
    hs_free_compile_error(cerr);
    return db;
}

int vp_plan_cpu_variants(const vp_model *m, uint8_t **section, size_t *len)
{
    static const struct {
        unsigned long long features;
        unsigned tune;
    } targets[] = {
        {HS_CPU_FEATURES_AVX2, HS_TUNE_FAMILY_HSW},
        {HS_CPU_FEATURES_AVX2 | HS_CPU_FEATURES_AVX512, HS_TUNE_FAMILY_SKX},
    };
    *section = NULL;
    *len = 0;
    if (m->hs_stream_db_len == 0)
        return 0;
    vp_db_variant v[sizeof(targets) / sizeof(targets[0])];
    char *bytes[sizeof(targets) / sizeof(targets[0])] = {NULL};
    size_t n = 0;
    int rc = 0;
    for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
        hs_platform_info_t platform;
        memset(&platform, 0, sizeof(platform));
        platform.cpu_features = targets[t].features;
        platform.tune = targets[t].tune;
        /* A Hyperscan built without a target's support just skips it. */
        hs_database_t *db = compile_for(m, &platform);
        if (!db)
            continue;
        size_t sz = 0;
        hs_error_t err = hs_serialize_database(db, &bytes[n], &sz);
        hs_free_database(db);
        if (err != HS_SUCCESS) {
            rc = -1;
            break;
        }
        memset(&v[n], 0, sizeof(v[n]));
        v[n].cpu_features = targets[t].features;
        v[n].tune = targets[t].tune;
        snprintf(v[n].hs_version, sizeof(v[n].hs_version), "%s", hs_version());
        v[n].db = (const uint8_t *)bytes[n];
        v[n].size = sz;
        n++;
    }
    if (rc == 0 && n) {
        *section = vp_db_variants_write(v, n, len);
        rc = *section ? 0 : -1;
    }
    for (size_t i = 0; i < n; i++)
        free(bytes[i]);
    return rc;
}
