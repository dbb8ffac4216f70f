/*
 * Reader: one YAML rule source -> vp_src_file.
 *
 * libyaml's document API loads the whole source into a node graph; this file
 * walks that graph at the fixed depth the rule language has (file, rule,
 * condition, test), checks every field and records every problem with the
 * position of the node at fault.  Nothing stops at the first error, and the
 * diagnostics of one source end up sorted by position.
 *
 * Two things libyaml cannot do for us are done here:
 *  - double-quoted `content` and test `data` are decoded again from the
 *    source text, because the rule language gives `\xHH` the meaning "the
 *    byte HH" where YAML gives it "the character U+00HH";
 *  - aliases let a small source describe a huge tree, so the walk runs on a
 *    work budget proportional to the size of the source.
 */
#include "../common/buffers.h"
#include "../common/hex.h"
#include "ast.h"
#include "bytetest.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "vpatch/vpatch.h"

#define SHOW_MAX 48         /* bytes of a value quoted in a message */
#define MESSAGE_MAX 1024
#define WORK_PER_BYTE 16u   /* a source without aliases needs a few units per byte */
#define WORK_BASE 65536u
#define CHECKPOINT_SHIFT 8  /* one char->byte checkpoint every 256 characters */
#define MAX_PORT 65535
#define MAX_YAML_DEPTH 64u       /* rule files need 6 levels; libyaml is quadratic in it */
#define MAX_YAML_ANCHORS 1024u   /* libyaml resolves aliases by linear search */
#define MAX_YAML_ALIASES 65536u

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* Source span and id of a rule that was read: lets the final duplicate-key pass
 * name the rule a stray mapping belongs to. */
typedef struct rule_span {
    size_t start, end;
    uint32_t id;
} rule_span;

typedef struct reader {
    const char *file;           /* out->path */
    const uint8_t *text;
    size_t len;
    int source_usable;          /* marks can be mapped back into text (UTF-8 input) */
    size_t source_base;         /* bytes libyaml skipped before its index 0 (a BOM) */
    size_t *checkpoints;        /* byte offset of every 256th character, built on demand */
    size_t n_checkpoints;
    yaml_document_t *doc;
    size_t n_nodes;
    uint8_t *keys_checked;      /* per node: duplicate keys already reported */
    rule_span *spans;
    size_t n_spans;
    vp_diags *diags;
    uint32_t rule_id;           /* id of the rule being read, 0 when unknown */
    uint64_t budget;            /* work left for the walk */
    int stop;                   /* budget exhausted: the walk winds down */
} reader;

/* ------------------------------------------------------------ diagnostics */

static vp_mark mark_of(yaml_mark_t m)
{
    vp_mark v;
    v.line = m.line < UINT32_MAX - 1 ? (uint32_t)m.line + 1 : UINT32_MAX;
    v.col = m.column < UINT32_MAX - 1 ? (uint32_t)m.column + 1 : UINT32_MAX;
    return v;
}

static void report_v(reader *r, vp_diag_severity sev, vp_diag_code code, vp_mark at,
                     const char *fmt, va_list ap)
{
    char message[MESSAGE_MAX];
    vsnprintf(message, sizeof message, fmt, ap);
    vp_diag_add(r->diags, sev, code, r->file, at, r->rule_id, "%s", message);
}

static void PRINTF_LIKE(4, 5) error_at(reader *r, vp_diag_code code, vp_mark at,
                                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report_v(r, VP_DIAG_ERROR, code, at, fmt, ap);
    va_end(ap);
}

static void PRINTF_LIKE(4, 5) error_on(reader *r, vp_diag_code code, const yaml_node_t *n,
                                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report_v(r, VP_DIAG_ERROR, code, mark_of(n->start_mark), fmt, ap);
    va_end(ap);
}

static void PRINTF_LIKE(4, 5) warning_on(reader *r, vp_diag_code code, const yaml_node_t *n,
                                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report_v(r, VP_DIAG_WARNING, code, mark_of(n->start_mark), fmt, ap);
    va_end(ap);
}

/* A value as quoted in messages: escaped, cut after SHOW_MAX bytes. */
typedef struct shown {
    char text[SHOW_MAX * 4 + 8];
} shown;

static void escape_into(char *dst, const uint8_t *s, size_t n)
{
    size_t keep = n;
    if (keep > SHOW_MAX) {
        keep = SHOW_MAX;
        while (keep > 0 && (s[keep] & 0xC0) == 0x80) /* do not split a character */
            keep--;
    }
    char *o = dst;
    for (size_t i = 0; i < keep; i++) {
        uint8_t c = s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        } else if (c == '\t') {
            *o++ = '\\';
            *o++ = 't';
        } else if (c == '\r') {
            *o++ = '\\';
            *o++ = 'r';
        } else if (c < 0x20 || c == 0x7f) {
            o += sprintf(o, "\\x%02x", c);
        } else {
            *o++ = (char)c;
        }
    }
    if (keep < n) {
        memcpy(o, "...", 3);
        o += 3;
    }
    *o = '\0';
}

/* Scalar text escaped, without quotes (for names inside '...'). */
static const char *show_raw(const yaml_node_t *n, shown *buf)
{
    if (n->type != YAML_SCALAR_NODE) {
        strcpy(buf->text, "?");
        return buf->text;
    }
    escape_into(buf->text, n->data.scalar.value, n->data.scalar.length);
    return buf->text;
}

/* What a message says it got: "text" for a scalar, else the kind of node. */
static const char *show(const yaml_node_t *n, shown *buf)
{
    switch (n->type) {
    case YAML_SCALAR_NODE:
        buf->text[0] = '"';
        escape_into(buf->text + 1, n->data.scalar.value, n->data.scalar.length);
        strcat(buf->text, "\"");
        return buf->text;
    case YAML_SEQUENCE_NODE:
        return n->data.sequence.items.top == n->data.sequence.items.start ? "an empty list"
                                                                          : "a list";
    case YAML_MAPPING_NODE:
        return n->data.mapping.pairs.top == n->data.mapping.pairs.start ? "an empty mapping"
                                                                        : "a mapping";
    default:
        return "nothing";
    }
}

/* "<field> must be <what>, got <value>": a type error for a scalar, a
 * structure error when the node is of the wrong kind altogether. */
static void bad_value(reader *r, const yaml_node_t *v, const char *field, const char *what)
{
    shown sh;
    vp_diag_code code = v->type == YAML_SCALAR_NODE ? VP_D_TYPE : VP_D_STRUCTURE;
    error_on(r, code, v, "%s must be %s, got %s", field, what, show(v, &sh));
}

/* Same wording, for a field that must be a list or mapping. */
static void bad_kind(reader *r, const yaml_node_t *v, const char *field, const char *what)
{
    shown sh;
    error_on(r, VP_D_STRUCTURE, v, "%s must be %s, got %s", field, what, show(v, &sh));
}

/* ------------------------------------------------------------ nodes */

static yaml_node_t *raw_node(const reader *r, int index)
{
    return yaml_document_get_node(r->doc, index);
}

static size_t seq_len(const yaml_node_t *n)
{
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static size_t map_len(const yaml_node_t *n)
{
    return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

static uint64_t node_cost(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return 1 + (uint64_t)n->data.scalar.length;
    case YAML_SEQUENCE_NODE:
        return 1 + (uint64_t)seq_len(n);
    case YAML_MAPPING_NODE:
        return 1 + (uint64_t)map_len(n);
    default:
        return 1;
    }
}

/* Fetches a node for the walk and charges it to the budget.  The node is
 * returned even past the budget (the caller finishes it, which is bounded);
 * every loop checks r->stop. */
static yaml_node_t *visit(reader *r, int index)
{
    yaml_node_t *n = raw_node(r, index);
    if (!n)
        return NULL;
    uint64_t cost = node_cost(n);
    if (cost <= r->budget) {
        r->budget -= cost;
        return n;
    }
    r->budget = 0;
    if (!r->stop) {
        r->stop = 1;
        error_on(r, VP_D_LIMIT, n,
                 "aliases expand this document to more than %u times its size; "
                 "reading stopped here", WORK_PER_BYTE);
    }
    return n;
}

static int is_scalar(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE;
}

static int is_plain(const yaml_node_t *n)
{
    return is_scalar(n) && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static const char *text_of(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static size_t text_len(const yaml_node_t *n)
{
    return n->data.scalar.length;
}

/* Exact text comparison (scalar values may hold NUL bytes). */
static int text_is(const yaml_node_t *n, const char *s)
{
    size_t k = strlen(s);
    return is_scalar(n) && text_len(n) == k && memcmp(text_of(n), s, k) == 0;
}

static int is_null(const yaml_node_t *n)
{
    return is_plain(n) && (text_len(n) == 0 || text_is(n, "~") || text_is(n, "null") ||
                           text_is(n, "Null") || text_is(n, "NULL"));
}

/* Extension fields (`x-...`) are accepted anywhere and ignored. */
static int is_extension_key(const yaml_node_t *key)
{
    return is_scalar(key) && text_len(key) >= 2 && text_of(key)[0] == 'x' &&
           text_of(key)[1] == '-';
}

/* ------------------------------------------------------------ scalar values */

/* Plain YAML integer: [-+]?(0|[1-9][0-9]*) or [-+]?0x[0-9a-fA-F]+.  Leading
 * zeros are refused: YAML 1.1 reads them as octal.  Huge values saturate, so
 * that the caller's range check rejects them.  Returns 1 when it is one. */
static int parse_int(const yaml_node_t *n, int64_t *out)
{
    if (!is_plain(n))
        return 0;
    const char *s = text_of(n), *end = s + text_len(n);
    int negative = 0;
    if (s < end && (*s == '-' || *s == '+'))
        negative = *s++ == '-';
    unsigned base = 10;
    if (end - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    } else if (end - s > 1 && s[0] == '0') {
        return 0;
    }
    if (s == end)
        return 0;
    const uint64_t limit = (uint64_t)INT64_MAX + 1;
    uint64_t magnitude = 0;
    for (; s < end; s++) {
        int d = base == 16 ? vp_hex_digit((unsigned char)*s)
                           : (*s >= '0' && *s <= '9' ? *s - '0' : -1);
        if (d < 0)
            return 0;
        if (magnitude <= limit)
            magnitude = magnitude * base + (unsigned)d;
    }
    if (magnitude > limit)
        magnitude = limit;
    if (negative)
        *out = magnitude == limit ? INT64_MIN : -(int64_t)magnitude;
    else
        *out = magnitude >= limit ? INT64_MAX : (int64_t)magnitude;
    return 1;
}

/* Plain decimal (7, 9.8, .5).  At most 15 digits, so mantissa / 10^k with one
 * correctly rounded division gives the same double as strtod, without
 * depending on the locale. */
static int parse_decimal(const yaml_node_t *n, double *out)
{
    if (!is_plain(n))
        return 0;
    const char *s = text_of(n), *end = s + text_len(n);
    uint64_t mantissa = 0;
    int digits = 0, fraction_digits = 0, seen_dot = 0;
    for (; s < end; s++) {
        if (*s == '.' && !seen_dot) {
            seen_dot = 1;
            continue;
        }
        if (*s < '0' || *s > '9' || ++digits > 15)
            return 0;
        mantissa = mantissa * 10 + (uint64_t)(*s - '0');
        fraction_digits += seen_dot;
    }
    if (digits == 0)
        return 0;
    double scale = 1.0;
    while (fraction_digits-- > 0)
        scale *= 10.0;
    *out = (double)mantissa / scale;
    return 1;
}

static int parse_bool(const yaml_node_t *n, int *out)
{
    if (!is_plain(n))
        return 0;
    if (text_is(n, "true") || text_is(n, "True") || text_is(n, "TRUE")) {
        *out = 1;
        return 1;
    }
    if (text_is(n, "false") || text_is(n, "False") || text_is(n, "FALSE")) {
        *out = 0;
        return 1;
    }
    return 0;
}

/* "90 90 4a" or "90904a": pairs of hex digits, whitespace between pairs.
 * out needs n / 2 bytes.  Returns 1 when well formed. */
static int decode_hex_pairs(const uint8_t *s, size_t n, uint8_t *out, size_t *out_len)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
            i++;
            continue;
        }
        int hi = vp_hex_digit(s[i]);
        int lo = i + 1 < n ? vp_hex_digit(s[i + 1]) : -1;
        if (hi < 0 || lo < 0)
            return 0;
        out[k++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    *out_len = k;
    return 1;
}

/* ------------------------------------------------------------ double-quoted source text
 *
 * The same algorithm as libyaml's scanner (escapes and line folding), run on
 * the bytes between the quotes, except that \xHH yields the byte HH. */

typedef struct byte_sink {
    uint8_t *p;
    size_t len, cap;
} byte_sink;

static int sink_put(byte_sink *o, const uint8_t *b, size_t n)
{
    if (n > o->cap - o->len)
        return 0;
    memcpy(o->p + o->len, b, n);
    o->len += n;
    return 1;
}

static int sink_byte(byte_sink *o, uint8_t b)
{
    return sink_put(o, &b, 1);
}

static int is_blank(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* Width of the line break at s[i] (CR LF, CR, LF, NEL, LS, PS), 0 when none. */
static size_t break_width(const uint8_t *s, size_t n, size_t i)
{
    if (i >= n)
        return 0;
    if (s[i] == '\r')
        return i + 1 < n && s[i + 1] == '\n' ? 2 : 1;
    if (s[i] == '\n')
        return 1;
    if (s[i] == 0xC2 && i + 1 < n && s[i + 1] == 0x85)
        return 2;
    if (s[i] == 0xE2 && i + 2 < n && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9))
        return 3;
    return 0;
}

/* A line break as YAML reads it: LS and PS stay, every other break is LF. */
static int sink_break(byte_sink *o, const uint8_t *s, size_t width)
{
    return width == 3 ? sink_put(o, s, 3) : sink_byte(o, '\n');
}

static int sink_utf8(byte_sink *o, uint32_t cp)
{
    uint8_t b[4];
    size_t n;
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xC0 | cp >> 6);
        b[1] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xE0 | cp >> 12);
        b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        b[2] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xF0 | cp >> 18);
        b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
        b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        b[3] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return sink_put(o, b, n);
}

/* Decodes the escape sequence at s[i] == '\\' (not an escaped line break).
 * Returns the source bytes it used, 0 when malformed. */
static size_t decode_escape(const uint8_t *s, size_t n, size_t i, byte_sink *o)
{
    static const uint8_t nel[] = {0xC2, 0x85}, nbsp[] = {0xC2, 0xA0};
    static const uint8_t ls[] = {0xE2, 0x80, 0xA8}, ps[] = {0xE2, 0x80, 0xA9};
    if (i + 1 >= n)
        return 0;
    int ok;
    size_t digits = 0;
    switch (s[i + 1]) {
    case '0': ok = sink_byte(o, 0x00); break;
    case 'a': ok = sink_byte(o, 0x07); break;
    case 'b': ok = sink_byte(o, 0x08); break;
    case 't': case '\t': ok = sink_byte(o, 0x09); break;
    case 'n': ok = sink_byte(o, 0x0A); break;
    case 'v': ok = sink_byte(o, 0x0B); break;
    case 'f': ok = sink_byte(o, 0x0C); break;
    case 'r': ok = sink_byte(o, 0x0D); break;
    case 'e': ok = sink_byte(o, 0x1B); break;
    case ' ': case '"': case '/': case '\'': case '\\': ok = sink_byte(o, s[i + 1]); break;
    case 'N': ok = sink_put(o, nel, 2); break;
    case '_': ok = sink_put(o, nbsp, 2); break;
    case 'L': ok = sink_put(o, ls, 3); break;
    case 'P': ok = sink_put(o, ps, 3); break;
    case 'x': digits = 2; ok = 1; break;
    case 'u': digits = 4; ok = 1; break;
    case 'U': digits = 8; ok = 1; break;
    default: return 0;
    }
    if (!ok)
        return 0;
    if (digits == 0)
        return 2;
    if (n - (i + 2) < digits)
        return 0;
    uint32_t value = 0;
    for (size_t k = 0; k < digits; k++) {
        int d = vp_hex_digit(s[i + 2 + k]);
        if (d < 0)
            return 0;
        value = value << 4 | (uint32_t)d;
    }
    /* The point of decoding from the source: \xHH is the byte HH. */
    ok = digits == 2 ? sink_byte(o, (uint8_t)value) : sink_utf8(o, value);
    return ok ? 2 + digits : 0;
}

/* Emits the line breaks in s[from, to) (blanks between them are dropped). */
static int sink_breaks_in(byte_sink *o, const uint8_t *s, size_t from, size_t to)
{
    for (size_t i = from; i < to;) {
        size_t w = break_width(s, to, i);
        if (w == 0) {
            i++;
            continue;
        }
        if (!sink_break(o, s + i, w))
            return 0;
        i += w;
    }
    return 1;
}

/* Decodes the body of a double-quoted scalar (the bytes between the quotes).
 * Returns 1, or 0 when the text is not what libyaml accepted (the caller then
 * falls back to libyaml's value). */
static int decode_double_quoted(const uint8_t *s, size_t n, byte_sink *o)
{
    size_t i = 0;
    while (i < n) {
        int leading_blanks = 0;
        /* A run of non-blank characters, with escapes. */
        while (i < n && !is_blank(s[i]) && !break_width(s, n, i)) {
            if (s[i] == '"')
                return 0; /* an unescaped quote: we are not where libyaml was */
            if (s[i] == '\\' && break_width(s, n, i + 1)) {
                /* Escaped line break: joins the lines, keeps no space. */
                i += 1 + break_width(s, n, i + 1);
                leading_blanks = 1;
                break;
            }
            if (s[i] == '\\') {
                size_t used = decode_escape(s, n, i, o);
                if (used == 0)
                    return 0;
                i += used;
                continue;
            }
            if (!sink_byte(o, s[i++]))
                return 0;
        }
        if (i >= n)
            break;

        /* Blanks and line breaks: blanks before the first break are kept if
         * no break follows; the first break folds, later ones are kept. */
        size_t blanks_start = i, trailing_start = i, first_break = 0, first_break_width = 0;
        size_t trailing_breaks = 0;
        while (i < n) {
            size_t w;
            if (is_blank(s[i])) {
                i++;
            } else if ((w = break_width(s, n, i)) != 0) {
                if (!leading_blanks) {
                    leading_blanks = 1;
                    first_break = i;
                    first_break_width = w;
                    trailing_start = i + w;
                } else {
                    trailing_breaks++;
                }
                i += w;
            } else {
                break;
            }
        }

        int ok = 1;
        if (!leading_blanks) {
            ok = sink_put(o, s + blanks_start, i - blanks_start);
        } else if (first_break_width != 0 && first_break_width != 3) {
            /* A plain line break folds to a space, or to the empty lines after it. */
            ok = trailing_breaks == 0 ? sink_byte(o, ' ')
                                      : sink_breaks_in(o, s, trailing_start, i);
        } else {
            /* After an escaped break (or an LS/PS) the breaks stay as they are. */
            if (first_break_width == 3)
                ok = sink_break(o, s + first_break, 3);
            ok = ok && sink_breaks_in(o, s, trailing_start, i);
        }
        if (!ok)
            return 0;
    }
    return 1;
}

static size_t utf8_width(uint8_t lead)
{
    if (lead < 0x80)
        return 1;
    if ((lead & 0xE0) == 0xC0)
        return 2;
    if ((lead & 0xF0) == 0xE0)
        return 3;
    if ((lead & 0xF8) == 0xF0)
        return 4;
    return 1;
}

/* libyaml marks count characters, not bytes: a checkpoint table makes the
 * conversion cheap whatever order the nodes are visited in. */
static int build_checkpoints(reader *r)
{
    size_t n = (r->len >> CHECKPOINT_SHIFT) + 2;
    r->checkpoints = malloc(n * sizeof *r->checkpoints);
    if (!r->checkpoints)
        return -1;
    size_t chars = 0, k = 0;
    for (size_t b = r->source_base; k < n; chars++) {
        if ((chars & ((1u << CHECKPOINT_SHIFT) - 1)) == 0)
            r->checkpoints[k++] = b;
        if (b >= r->len)
            break;
        b += utf8_width(r->text[b]);
        if (b > r->len)
            b = r->len;
    }
    r->n_checkpoints = k;
    return 0;
}

/* Byte offset of libyaml character index idx; SIZE_MAX when out of the text. */
static size_t source_offset(const reader *r, size_t idx)
{
    size_t k = idx >> CHECKPOINT_SHIFT;
    if (k >= r->n_checkpoints)
        return SIZE_MAX;
    size_t b = r->checkpoints[k];
    for (size_t left = idx & ((1u << CHECKPOINT_SHIFT) - 1); left > 0; left--) {
        if (b >= r->len)
            return SIZE_MAX;
        b += utf8_width(r->text[b]);
    }
    return b <= r->len ? b : SIZE_MAX;
}

/* Decodes a double-quoted scalar from the source.  Returns 1 with *out set
 * (owned, NUL-terminated), 0 when the source cannot be used, -1 on OOM. */
static int decode_from_source(reader *r, const yaml_node_t *n, uint8_t **out, size_t *out_len)
{
    if (!r->source_usable)
        return 0;
    if (!r->checkpoints && build_checkpoints(r) < 0)
        return -1;
    size_t start = source_offset(r, n->start_mark.index);
    size_t end = source_offset(r, n->end_mark.index);
    if (start == SIZE_MAX || end == SIZE_MAX || end <= start || r->text[end - 1] != '"')
        return 0;
    /* start may sit on an anchor or tag; neither can contain a quote. */
    const uint8_t *open = memchr(r->text + start, '"', end - 1 - start);
    if (!open)
        return 0;
    const uint8_t *body = open + 1;
    size_t body_len = (size_t)(r->text + end - 1 - body);
    byte_sink o = {NULL, 0, body_len + body_len / 2 + 1};
    o.p = malloc(o.cap + 1);
    if (!o.p)
        return -1;
    if (!decode_double_quoted(body, body_len, &o)) {
        free(o.p);
        return 0;
    }
    o.p[o.len] = 0;
    *out = o.p;
    *out_len = o.len;
    return 1;
}

/* The bytes of a string scalar, owned and NUL-terminated.  -1 on OOM. */
static int scalar_bytes(reader *r, const yaml_node_t *n, uint8_t **out, size_t *out_len)
{
    if (n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE) {
        int rc = decode_from_source(r, n, out, out_len);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
    }
    /* Plain, single-quoted and block scalars have no escapes: libyaml's value is it. */
    *out = malloc(text_len(n) + 1);
    if (!*out)
        return -1;
    memcpy(*out, n->data.scalar.value, text_len(n));
    (*out)[text_len(n)] = 0;
    *out_len = text_len(n);
    return 0;
}

/* ------------------------------------------------------------ mappings */

typedef struct map_iter {
    const yaml_node_t *map;
    uint8_t *skip;          /* per pair: a repeated or unusable key */
    size_t next, n;
} map_iter;

typedef struct key_ref {
    const uint8_t *text;
    size_t len, pair;
} key_ref;

static int compare_keys(const void *a, const void *b)
{
    const key_ref *x = a, *y = b;
    size_t common = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->text, y->text, common);
    if (c != 0)
        return c;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->pair < y->pair ? -1 : x->pair > y->pair;
}

/* Marks the pairs whose key is not a scalar or repeats an earlier key, and
 * reports them when `report` (once per mapping node).  Sorting keeps this
 * O(n log n) for huge mappings.  -1 on OOM. */
static int mark_bad_keys(reader *r, const yaml_node_t *map, uint8_t *skip, int report)
{
    size_t n = map_len(map), m = 0;
    key_ref *keys = malloc(n * sizeof *keys);
    if (!keys)
        return -1;
    shown sh;
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *k = raw_node(r, map->data.mapping.pairs.start[i].key);
        if (k && is_scalar(k)) {
            keys[m].text = k->data.scalar.value;
            keys[m].len = text_len(k);
            keys[m].pair = i;
            m++;
            continue;
        }
        skip[i] = 1;
        if (report)
            error_on(r, VP_D_STRUCTURE, k ? k : map, "mapping keys must be names, got %s",
                     k ? show(k, &sh) : "nothing");
    }
    qsort(keys, m, sizeof *keys, compare_keys);
    size_t first = 0;
    for (size_t j = 1; j < m; j++) {
        if (keys[j].len != keys[first].len ||
            memcmp(keys[j].text, keys[first].text, keys[j].len) != 0) {
            first = j;
            continue;
        }
        skip[keys[j].pair] = 1;
        if (!report)
            continue;
        const yaml_node_t *dup = raw_node(r, map->data.mapping.pairs.start[keys[j].pair].key);
        const yaml_node_t *orig = raw_node(r, map->data.mapping.pairs.start[keys[first].pair].key);
        vp_mark at = mark_of(orig->start_mark);
        error_on(r, VP_D_DUPLICATE_KEY, dup,
                 "duplicate key '%s' (first at %" PRIu32 ":%" PRIu32 ")", show_raw(dup, &sh),
                 at.line, at.col);
    }
    free(keys);
    return 0;
}

static int map_begin(reader *r, const yaml_node_t *map, map_iter *it)
{
    it->map = map;
    it->skip = NULL;
    it->next = 0;
    it->n = map_len(map);
    if (it->n == 0)
        return 0;
    it->skip = calloc(it->n, 1);
    if (!it->skip)
        return -1;
    size_t index = (size_t)(map - r->doc->nodes.start);
    int report = !r->keys_checked[index];
    r->keys_checked[index] = 1;
    if (mark_bad_keys(r, map, it->skip, report) < 0) {
        free(it->skip);
        it->skip = NULL;
        return -1;
    }
    return 0;
}

/* Next usable pair; 0 at the end or when the walk must stop. */
static int map_next(reader *r, map_iter *it, const yaml_node_t **key, const yaml_node_t **value)
{
    while (it->next < it->n && !r->stop) {
        size_t i = it->next++;
        if (it->skip[i])
            continue;
        const yaml_node_pair_t *p = &it->map->data.mapping.pairs.start[i];
        yaml_node_t *k = visit(r, p->key);
        yaml_node_t *v = visit(r, p->value);
        if (!k || !v)
            continue;
        *key = k;
        *value = v;
        return 1;
    }
    return 0;
}

static void map_end(map_iter *it)
{
    free(it->skip);
    it->skip = NULL;
}

/* ------------------------------------------------------------ typed fields */

enum { TEXT_NONEMPTY = 1, TEXT_ONE_LINE = 2 };

/* Copies a string field into *out; reports and leaves NULL when it is not a
 * usable string.  -1 on OOM. */
static int read_text(reader *r, const yaml_node_t *v, const char *field, unsigned rules,
                     char **out)
{
    shown sh;
    *out = NULL;
    if (!is_scalar(v) || is_null(v)) {
        bad_value(r, v, field, rules & TEXT_NONEMPTY ? "a non-empty string" : "a string");
        return 0;
    }
    const char *s = text_of(v);
    size_t n = text_len(v);
    if ((rules & TEXT_NONEMPTY) && n == 0) {
        bad_value(r, v, field, "a non-empty string");
        return 0;
    }
    if (memchr(s, '\0', n)) {
        error_on(r, VP_D_TYPE, v, "%s must not contain NUL bytes, got %s", field, show(v, &sh));
        return 0;
    }
    if ((rules & TEXT_ONE_LINE) && (memchr(s, '\n', n) || memchr(s, '\r', n))) {
        bad_value(r, v, field, "a single line");
        return 0;
    }
    *out = malloc(n + 1);
    if (!*out)
        return -1;
    memcpy(*out, s, n + 1);
    return 0;
}

typedef struct enum_name {
    const char *name;
    int value;
} enum_name;

static const enum_name severity_names[] = {{"low", VP_SEV_LOW}, {"medium", VP_SEV_MEDIUM},
    {"high", VP_SEV_HIGH}, {"critical", VP_SEV_CRITICAL}, {NULL, 0}};
static const enum_name mode_names[] = {{"performance", VP_MODE_PERFORMANCE},
    {"security", VP_MODE_SECURITY}, {NULL, 0}};
static const enum_name action_names[] = {{"block", VP_ACTION_BLOCK},
    {"detect", VP_ACTION_DETECT}, {NULL, 0}};
static const enum_name protocol_names[] = {{"tcp", VP_PROTO_TCP}, {"udp", VP_PROTO_UDP},
    {NULL, 0}};
static const enum_name rule_direction_names[] = {{"to_server", VP_DIR_TO_SERVER},
    {"to_client", VP_DIR_TO_CLIENT}, {"any", VP_DIR_ANY}, {NULL, 0}};
static const enum_name service_names[] = {{"any", VP_SERVICE_ANY}, {"http", VP_SERVICE_HTTP},
    {NULL, 0}};
static const enum_name test_direction_names[] = {{"to_server", VP_DIR_TO_SERVER},
    {"to_client", VP_DIR_TO_CLIENT}, {NULL, 0}};
static const enum_name expect_names[] = {{"match", 1}, {"nomatch", 0}, {NULL, 0}};

/* One of a fixed set of names; reports "<field> must be one of a, b, got X".
 * Returns 1 when *out was set. */
static int read_enum(reader *r, const yaml_node_t *v, const char *field, const enum_name *names,
                     int *out)
{
    for (const enum_name *e = names; e->name; e++) {
        if (text_is(v, e->name)) {
            *out = e->value;
            return 1;
        }
    }
    char what[128] = "one of ";
    for (const enum_name *e = names; e->name; e++) {
        strncat(what, e->name, sizeof what - strlen(what) - 1);
        if (e[1].name)
            strncat(what, ", ", sizeof what - strlen(what) - 1);
    }
    bad_value(r, v, field, what);
    return 0;
}

static int read_bool(reader *r, const yaml_node_t *v, const char *field, int *out)
{
    if (parse_bool(v, out))
        return 1;
    bad_value(r, v, field, "true or false");
    return 0;
}

/* A plain integer in min..max.  `what` names the expected syntax ("a
 * non-negative integer"); range problems name the violated bound. */
static int read_int_in(reader *r, const yaml_node_t *v, const char *field, const char *what,
                       int64_t min, int64_t max, int64_t *out)
{
    shown sh;
    int64_t x;
    if (!parse_int(v, &x) || (x < 0 && min >= 0)) {
        bad_value(r, v, field, what);
        return 0;
    }
    if (x < min) {
        error_on(r, VP_D_TYPE, v, "%s must be at least %" PRId64 ", got %s", field, min,
                 show(v, &sh));
        return 0;
    }
    if (x > max) {
        error_on(r, VP_D_TYPE, v, "%s must be at most %" PRId64 ", got %s", field, max,
                 show(v, &sh));
        return 0;
    }
    *out = x;
    return 1;
}

/* A list of strings, each optionally checked by `valid`.  -1 on OOM. */
typedef int (*text_check)(reader *r, const yaml_node_t *item, const char *text);

static int read_text_list(reader *r, const yaml_node_t *v, const char *field, const char *entry,
                          text_check valid, char ***out, size_t *n_out)
{
    if (v->type != YAML_SEQUENCE_NODE) {
        bad_kind(r, v, field, "a list of strings");
        return 0;
    }
    size_t n = seq_len(v);
    if (n == 0)
        return 0;
    *out = calloc(n, sizeof **out);
    if (!*out)
        return -1;
    for (size_t i = 0; i < n && !r->stop; i++) {
        const yaml_node_t *item = visit(r, v->data.sequence.items.start[i]);
        char *s;
        if (!item)
            continue;
        if (read_text(r, item, entry, TEXT_NONEMPTY, &s) < 0)
            return -1;
        if (s && valid && !valid(r, item, s)) {
            free(s);
            s = NULL;
        }
        if (s)
            (*out)[(*n_out)++] = s;
    }
    return 0;
}

/* CVE-YYYY-NNNN with four or more digits in the sequence number. */
static int check_cve(reader *r, const yaml_node_t *item, const char *s)
{
    size_t n = strlen(s), digits = 0;
    int ok = n >= 13 && memcmp(s, "CVE-", 4) == 0 && s[8] == '-';
    for (size_t i = 4; ok && i < 8; i++)
        ok = s[i] >= '0' && s[i] <= '9';
    for (size_t i = 9; ok && i < n; i++, digits++)
        ok = s[i] >= '0' && s[i] <= '9';
    if (ok && digits >= 4)
        return 1;
    shown sh;
    error_on(r, VP_D_TYPE, item, "malformed CVE id %s, expected CVE-YYYY-NNNN", show(item, &sh));
    return 0;
}

/* ------------------------------------------------------------ ports */

#define PORTS_WHAT "\"any\", a port 0..65535, a range like 8000-8100, or a list of those"

typedef struct port_set {
    vp_port_range *v;
    size_t n, cap;
    int any;
} port_set;

static int port_set_add(port_set *ps, unsigned lo, unsigned hi)
{
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 8;
        vp_port_range *v = realloc(ps->v, cap * sizeof *v);
        if (!v)
            return -1;
        ps->v = v;
        ps->cap = cap;
    }
    ps->v[ps->n].lo = (uint16_t)lo;
    ps->v[ps->n].hi = (uint16_t)hi;
    ps->n++;
    return 0;
}

static void skip_blanks(const char **p, const char *end)
{
    while (*p < end && (**p == ' ' || **p == '\t'))
        (*p)++;
}

/* Decimal port number; 0 when there is none or it exceeds 65535. */
static int scan_port(const char **p, const char *end, unsigned *out)
{
    unsigned v = 0;
    const char *s = *p;
    while (s < end && *s >= '0' && *s <= '9' && v <= MAX_PORT)
        v = v * 10 + (unsigned)(*s++ - '0');
    if (s == *p || v > MAX_PORT)
        return 0;
    *p = s;
    *out = v;
    return 1;
}

enum { PORTS_OK, PORTS_MALFORMED, PORTS_REVERSED };

/* "80, 443,8000-8100" or "any".  On a reversed range, lo and hi name it. */
static int parse_port_text(const char *s, size_t n, port_set *ps, unsigned *lo, unsigned *hi)
{
    const char *p = s, *end = s + n;
    for (;;) {
        skip_blanks(&p, end);
        if (end - p >= 3 && memcmp(p, "any", 3) == 0) {
            p += 3;
            ps->any = 1;
        } else {
            if (!scan_port(&p, end, lo))
                return PORTS_MALFORMED;
            *hi = *lo;
            skip_blanks(&p, end);
            if (p < end && *p == '-') {
                p++;
                skip_blanks(&p, end);
                if (!scan_port(&p, end, hi))
                    return PORTS_MALFORMED;
            }
            if (*hi < *lo)
                return PORTS_REVERSED;
            if (port_set_add(ps, *lo, *hi) < 0)
                return -1;
        }
        skip_blanks(&p, end);
        if (p == end)
            return PORTS_OK;
        if (*p++ != ',')
            return PORTS_MALFORMED;
    }
}

/* One scalar of `ports`: a plain integer, or a port text.  -1 on OOM. */
static int read_port_item(reader *r, const yaml_node_t *v, port_set *ps)
{
    int64_t x;
    if (!is_scalar(v)) {
        bad_value(r, v, "ports", PORTS_WHAT);
        return 0;
    }
    if (parse_int(v, &x)) {
        if (x < 0 || x > MAX_PORT) {
            bad_value(r, v, "ports", PORTS_WHAT);
            return 0;
        }
        return port_set_add(ps, (unsigned)x, (unsigned)x);
    }
    size_t keep_n = ps->n;
    int keep_any = ps->any;
    unsigned lo = 0, hi = 0;
    int rc = parse_port_text(text_of(v), text_len(v), ps, &lo, &hi);
    if (rc < 0)
        return -1;
    if (rc != PORTS_OK) { /* a bad text contributes nothing */
        ps->n = keep_n;
        ps->any = keep_any;
    }
    if (rc == PORTS_MALFORMED) {
        bad_value(r, v, "ports", PORTS_WHAT);
    } else if (rc == PORTS_REVERSED) {
        shown sh;
        error_on(r, VP_D_TYPE, v, "ports range %u-%u must start with the lower port, got %s", lo,
                 hi, show(v, &sh));
    }
    return 0;
}

static int compare_ranges(const void *a, const void *b)
{
    const vp_port_range *x = a, *y = b;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    return (x->hi > y->hi) - (x->hi < y->hi);
}

/* Sorts and merges overlapping or adjacent ranges in place. */
static size_t merge_ranges(vp_port_range *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, compare_ranges);
    size_t k = 0;
    for (size_t i = 1; i < n; i++) {
        if ((unsigned)v[i].lo <= (unsigned)v[k].hi + 1) {
            if (v[i].hi > v[k].hi)
                v[k].hi = v[i].hi;
        } else {
            v[++k] = v[i];
        }
    }
    return k + 1;
}

/* ------------------------------------------------------------ conditions */

enum { PAT_CONTENT, PAT_HEX, PAT_REGEX, PAT_ANOMALY, PAT_ISDATAAT, PAT_BYTETEST, PAT_BYTEJUMP,
       N_PATTERN_KINDS };
static const char *const pattern_names[N_PATTERN_KINDS] = {"content", "hex", "regex", "anomaly",
                                                           "isdataat", "byte_test", "byte_jump"};

/* What the walk over one condition mapping collects for the checks that
 * involve several of its fields (value nodes are set only for valid values). */
typedef struct cond_reading {
    const yaml_node_t *pattern[N_PATTERN_KINDS];
    int kinds[N_PATTERN_KINDS]; /* pattern kinds in source order */
    int n_kinds;
    const yaml_node_t *flags_key, *flags_value, *nocase_key;
    const yaml_node_t *depth, *distance, *within;
    const yaml_node_t *modifier_key; /* a modifier other than x- (anomaly takes none) */
    const yaml_node_t *window_key;   /* offset, depth, distance or within */
    const yaml_node_t *relative_key, *endswith_key;
    int relative;                    /* `relative: true` (isdataat) */
} cond_reading;

typedef int (*modifier_fn)(reader *r, vp_src_cond *c, cond_reading *cr, const yaml_node_t *key,
                           const yaml_node_t *value);

static int mod_nocase(reader *r, vp_src_cond *c, cond_reading *cr, const yaml_node_t *key,
                      const yaml_node_t *value)
{
    int on;
    cr->nocase_key = key;
    if (read_bool(r, value, "nocase", &on) && on)
        c->flags |= VP_C_NOCASE;
    return 0;
}

static int mod_negate(reader *r, vp_src_cond *c, cond_reading *cr, const yaml_node_t *key,
                      const yaml_node_t *value)
{
    int on;
    (void)cr;
    (void)key;
    if (read_bool(r, value, "negate", &on) && on)
        c->flags |= VP_C_NEGATE;
    return 0;
}

static int mod_offset(reader *r, vp_src_cond *c, cond_reading *cr, const yaml_node_t *key,
                      const yaml_node_t *value)
{
    int64_t x;
    cr->window_key = key;
    c->flags |= VP_C_HAS_OFFSET;
    if (read_int_in(r, value, "offset", "a non-negative integer", 0, VP_MAX_POSITION, &x))
        c->offset = (uint32_t)x;
    return 0;
}

static int mod_depth(reader *r, vp_src_cond *c, cond_reading *cr, const yaml_node_t *key,
                     const yaml_node_t *value)
{
    int64_t x;
    cr->window_key = key;
    c->flags |= VP_C_HAS_DEPTH;
    if (read_int_in(r, value, "depth", "a non-negative integer", 1, VP_MAX_POSITION, &x)) {
        c->depth = (uint32_t)x;
        cr->depth = value;
    }
    return 0;
}

static int mod_distance(reader *r, vp_src_cond *c, cond_reading *cr, const yaml_node_t *key,
                        const yaml_node_t *value)
{
    int64_t x;
    cr->window_key = key;
    c->flags |= VP_C_HAS_DISTANCE;
    if (read_int_in(r, value, "distance", "an integer", -(int64_t)VP_MAX_POSITION,
                    VP_MAX_POSITION, &x)) {
        c->distance = (int32_t)x;
        cr->distance = value;
    }
    return 0;
}

static int mod_within(reader *r, vp_src_cond *c, cond_reading *cr, const yaml_node_t *key,
                      const yaml_node_t *value)
{
    int64_t x;
    cr->window_key = key;
    c->flags |= VP_C_HAS_WITHIN;
    if (read_int_in(r, value, "within", "a positive integer", 1, VP_MAX_POSITION, &x)) {
        c->within = (uint32_t)x;
        cr->within = value;
    }
    return 0;
}

/* The raw stream or one of the HTTP buffers (lib/common/buffers.h). */
static int mod_buffer(reader *r, vp_src_cond *c, cond_reading *cr, const yaml_node_t *key,
                      const yaml_node_t *value)
{
    shown sh;
    (void)cr;
    (void)key;
    int buf = is_scalar(value) && !is_null(value) ? vp_buf_by_name(text_of(value)) : -1;
    if (!is_scalar(value) || is_null(value))
        bad_value(r, value, "buffer", "a buffer name");
    else if (buf < 0)
        error_on(r, VP_D_TYPE, value,
                 "unknown buffer '%s' (stream, http.method, http.uri, http.uri.raw, "
                 "http.request_line, http.header, http.header.raw, http.header_names, "
                 "http.host, http.user_agent, http.cookie, http.content_type, "
                 "http.request_body, http.stat_code or http.response_body)",
                 show_raw(value, &sh));
    else {
        c->flags = (c->flags & ~(uint32_t)VP_BUF_MASK) | ((uint32_t)buf << VP_BUF_SHIFT);
        c->buffer_mark = mark_of(value->start_mark);
    }
    return 0;
}

/* flags depend on the pattern kind: checked once the whole mapping is read. */
static int mod_flags(reader *r, vp_src_cond *c, cond_reading *cr, const yaml_node_t *key,
                     const yaml_node_t *value)
{
    (void)r;
    (void)c;
    cr->flags_key = key;
    cr->flags_value = value;
    return 0;
}

/* isdataat counts from the previous condition's match end. */
static int mod_relative(reader *r, vp_src_cond *c, cond_reading *cr, const yaml_node_t *key,
                        const yaml_node_t *value)
{
    int on;
    (void)c;
    cr->relative_key = key;
    if (read_bool(r, value, "relative", &on))
        cr->relative = on;
    return 0;
}

static int mod_endswith(reader *r, vp_src_cond *c, cond_reading *cr, const yaml_node_t *key,
                        const yaml_node_t *value)
{
    int on;
    cr->endswith_key = key;
    if (read_bool(r, value, "endswith", &on))
        c->endswith = on;
    return 0;
}

static const struct modifier {
    const char *name;
    modifier_fn read;
} modifiers[] = {
    {"nocase", mod_nocase}, {"offset", mod_offset}, {"depth", mod_depth},
    {"distance", mod_distance}, {"within", mod_within}, {"negate", mod_negate},
    {"buffer", mod_buffer}, {"flags", mod_flags}, {"relative", mod_relative},
    {"endswith", mod_endswith},
};

static int pattern_kind_of(const yaml_node_t *key)
{
    for (int k = 0; k < N_PATTERN_KINDS; k++)
        if (text_is(key, pattern_names[k]))
            return k;
    return -1;
}

static const struct modifier *find_modifier(const yaml_node_t *key)
{
    for (size_t i = 0; i < sizeof modifiers / sizeof modifiers[0]; i++)
        if (text_is(key, modifiers[i].name))
            return &modifiers[i];
    return NULL;
}

/* content: a non-empty string (double-quoted: \xHH is a byte).  -1 on OOM. */
static int read_content(reader *r, const yaml_node_t *v, uint8_t **bytes, size_t *len)
{
    if (!is_scalar(v) || is_null(v)) {
        bad_value(r, v, "content", "a non-empty string");
        return 0;
    }
    if (scalar_bytes(r, v, bytes, len) < 0)
        return -1;
    if (*len == 0) {
        free(*bytes);
        *bytes = NULL;
        bad_value(r, v, "content", "a non-empty string");
    }
    return 0;
}

/* hex: pairs of hex digits.  `allow_empty` for test data.  -1 on OOM. */
static int read_hex(reader *r, const yaml_node_t *v, int allow_empty, uint8_t **bytes,
                    size_t *len)
{
    static const char what[] = "pairs of hex digits like \"90 90 4a\"";
    if (!is_scalar(v) || (is_null(v) && !allow_empty)) {
        bad_value(r, v, "hex", what);
        return 0;
    }
    uint8_t *out = malloc(text_len(v) / 2 + 1);
    if (!out)
        return -1;
    if (!decode_hex_pairs(v->data.scalar.value, text_len(v), out, len) ||
        (*len == 0 && !allow_empty)) {
        free(out);
        bad_value(r, v, "hex", what);
        return 0;
    }
    out[*len] = 0;
    *bytes = out;
    return 0;
}

/* byte_test: {bytes: 1..8, op: OP, value: N, endian: big|little}, the
 * n-byte strings whose value passes; compiled to an expression of exactly n
 * bytes (bytetest.c).  Returns -1 on OOM; leaves *bytes NULL on errors. */
static int read_bytetest(reader *r, vp_src_cond *c, const yaml_node_t *v, uint8_t **bytes,
                         size_t *len)
{
    static const char what[] = "a mapping with bytes, op, value and optionally endian";
    static const enum_name endians[] = {{"big", 0}, {"little", 1}, {NULL, 0}};
    if (v->type != YAML_MAPPING_NODE) {
        bad_kind(r, v, "byte_test", what);
        return 0;
    }
    map_iter it;
    const yaml_node_t *key, *value, *op_node = NULL;
    int64_t n = 0, little = 0;
    uint64_t number = 0;
    int op = -1, have_n = 0, have_value = 0, ok = 1;
    shown sh;
    if (map_begin(r, v, &it) < 0)
        return -1;
    while (map_next(r, &it, &key, &value)) {
        if (text_is(key, "bytes")) {
            have_n = read_int_in(r, value, "byte_test bytes", "an integer 1..8", 1,
                                 VP_BT_MAX_BYTES, &n);
            ok &= have_n;
        } else if (text_is(key, "op")) {
            op_node = value;
            op = is_scalar(value) && !is_null(value) ? vp_bt_op_of(text_of(value)) : -1;
            if (op < 0) {
                bad_value(r, value, "byte_test op", "one of =, !=, <, <=, >, >=, &, !&");
                ok = 0;
            }
        } else if (text_is(key, "value")) {
            int64_t x;
            have_value = read_int_in(r, value, "byte_test value", "a non-negative integer", 0,
                                     INT64_MAX, &x);
            number = (uint64_t)x;
            ok &= have_value;
        } else if (text_is(key, "endian")) {
            int e = 0;
            ok &= read_enum(r, value, "byte_test endian", endians, &e);
            little = e;
        } else if (!is_extension_key(key)) {
            error_on(r, VP_D_UNKNOWN_FIELD, key, "unknown byte_test field '%s'",
                     show_raw(key, &sh));
            ok = 0;
        }
    }
    map_end(&it);
    if (!have_n || !op_node || !have_value) {
        if (ok)
            error_on(r, VP_D_MISSING, v, "byte_test needs bytes, op and value");
        return 0;
    }
    if (!ok)
        return 0;
    int empty;
    char *expr = vp_bytetest_expr((unsigned)n, (int)little, op, number, &empty);
    if (!expr) {
        if (!empty)
            return -1;
        error_on(r, VP_D_CONDITION, v, "byte_test %s %" PRIu64 " holds for no %" PRId64
                 "-byte value", vp_bt_op_name(op), number, n);
        return 0;
    }
    *bytes = (uint8_t *)expr;
    *len = (size_t)n;
    c->bt_op = op;
    c->bt_little = (int)little;
    c->bt_value = number;
    return 0;
}

/* byte_jump: {bytes, endian, multiplier, align, post_offset}; bytes required. */
static int read_bytejump(reader *r, vp_src_cond *c, const yaml_node_t *v, uint8_t **bytes,
                         size_t *len)
{
    static const char what[] = "a mapping with bytes and optionally endian, multiplier, align "
                               "and post_offset";
    static const enum_name endians[] = {{"big", 0}, {"little", 1}, {NULL, 0}};
    if (v->type != YAML_MAPPING_NODE) {
        bad_kind(r, v, "byte_jump", what);
        return 0;
    }
    map_iter it;
    const yaml_node_t *key, *value;
    int64_t n = 0, mult = 1, post = 0;
    int little = 0, align = 0, have_n = 0, ok = 1;
    shown sh;
    if (map_begin(r, v, &it) < 0)
        return -1;
    while (map_next(r, &it, &key, &value)) {
        if (text_is(key, "bytes")) {
            have_n = read_int_in(r, value, "byte_jump bytes", "an integer 1..8", 1, 8, &n);
            ok &= have_n;
        } else if (text_is(key, "endian")) {
            ok &= read_enum(r, value, "byte_jump endian", endians, &little);
        } else if (text_is(key, "multiplier")) {
            ok &= read_int_in(r, value, "byte_jump multiplier", "an integer 1..65535", 1,
                              VP_MAX_JUMP, &mult);
        } else if (text_is(key, "align")) {
            ok &= read_bool(r, value, "byte_jump align", &align);
        } else if (text_is(key, "post_offset")) {
            ok &= read_int_in(r, value, "byte_jump post_offset", "an integer 0..65535", 0,
                              VP_MAX_JUMP, &post);
        } else if (!is_extension_key(key)) {
            error_on(r, VP_D_UNKNOWN_FIELD, key, "unknown byte_jump field '%s'",
                     show_raw(key, &sh));
            ok = 0;
        }
    }
    map_end(&it);
    if (!have_n) {
        if (ok)
            error_on(r, VP_D_MISSING, v, "byte_jump needs bytes");
        return 0;
    }
    if (!ok)
        return 0;
    *bytes = calloc((size_t)n + 1, 1);
    if (!*bytes)
        return -1;
    *len = (size_t)n;
    c->bj_little = little;
    c->bj_align = align;
    c->bj_mult = (uint32_t)mult;
    c->bj_post = (uint32_t)post;
    return 0;
}

/* Reads the pattern of one kind into c (only the first kind keeps its value;
 * the others are read for their own diagnostics).  -1 on OOM. */
static int read_pattern(reader *r, vp_src_cond *c, int kind, const yaml_node_t *v)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = 0;
    if (kind == PAT_CONTENT) {
        rc = read_content(r, v, &bytes, &len);
    } else if (kind == PAT_ANOMALY) {
        char *text;
        shown sh;
        rc = read_text(r, v, "anomaly", TEXT_NONEMPTY, &text);
        if (text && vp_anomaly_by_name(text) < 0) {
            error_on(r, VP_D_TYPE, v, "unknown anomaly '%s' (see docs/rule-format.md)",
                     show_raw(v, &sh));
            free(text);
            text = NULL;
        }
        bytes = (uint8_t *)text;
        len = text ? 1 : 0; /* an anomaly is one event, not a span of bytes */
    } else if (kind == PAT_HEX) {
        rc = read_hex(r, v, 0, &bytes, &len);
    } else if (kind == PAT_BYTETEST) {
        rc = read_bytetest(r, c, v, &bytes, &len);
    } else if (kind == PAT_BYTEJUMP) {
        rc = read_bytejump(r, c, v, &bytes, &len);
    } else if (kind == PAT_ISDATAAT) {
        int64_t x;
        if (!read_int_in(r, v, "isdataat", "a non-negative integer", 0,
                         (int64_t)VP_MAX_POSITION - 1, &x))
            return 0;
        if (c->bytes)
            return 0;
        c->offset = (uint32_t)x; /* placed by finish_cond */
        bytes = calloc(1, 1);
        if (!bytes)
            return -1;
        len = 1; /* one byte, any value */
    } else {
        char *text;
        rc = read_text(r, v, "regex", TEXT_NONEMPTY, &text);
        bytes = (uint8_t *)text;
        len = text ? strlen(text) : 0;
    }
    if (rc < 0 || c->bytes || !bytes) {
        free(bytes);
        return rc;
    }
    c->bytes = bytes;
    c->len = len;
    return 0;
}

static void list_pattern_kinds(const cond_reading *cr, char *out, size_t cap)
{
    out[0] = 0;
    for (int i = 0; i < cr->n_kinds; i++) {
        if (i > 0)
            strncat(out, i + 1 == cr->n_kinds ? " and " : ", ", cap - strlen(out) - 1);
        strncat(out, pattern_names[cr->kinds[i]], cap - strlen(out) - 1);
    }
}

/* Regex flags: letters from i, s, m, x. */
static void read_regex_flags(reader *r, vp_src_cond *c, const yaml_node_t *v)
{
    static const char what[] = "letters from i, s, m, x";
    if (!is_scalar(v) || is_null(v)) {
        bad_value(r, v, "flags", what);
        return;
    }
    uint32_t flags = 0;
    for (size_t i = 0; i < text_len(v); i++) {
        switch (text_of(v)[i]) {
        case 'i': flags |= VP_A_CASELESS; break;
        case 's': flags |= VP_A_DOTALL; break;
        case 'm': flags |= VP_A_MULTILINE; break;
        case 'x': flags |= VP_A_EXTENDED; break;
        default: bad_value(r, v, "flags", what); return;
        }
    }
    c->atom_flags = flags;
}

/* isdataat N is the one-byte window [N, N+1] (or [E+N, E+N+1] when
 * relative) of a pattern that matches any byte: see docs/rule-format.md. */
static int finish_isdataat(reader *r, vp_src_cond *c, cond_reading *cr)
{
    if (cr->window_key)
        error_on(r, VP_D_CONDITION, cr->window_key,
                 "isdataat takes no offset, depth, distance or within (its value is the "
                 "position; relative: true counts it from the previous match)");
    if (cr->nocase_key)
        error_on(r, VP_D_CONDITION, cr->nocase_key, "nocase does not apply to isdataat");
    if (cr->flags_key)
        error_on(r, VP_D_CONDITION, cr->flags_key, "flags do not apply to isdataat");
    uint32_t n = c->offset;
    c->flags &= VP_C_NEGATE | VP_BUF_MASK;
    c->offset = c->depth = c->within = 0;
    c->distance = 0;
    if (cr->relative) {
        c->flags |= VP_C_HAS_DISTANCE | VP_C_HAS_WITHIN;
        c->distance = (int32_t)n;
        c->within = 1;
    } else {
        c->flags |= VP_C_HAS_OFFSET | VP_C_HAS_DEPTH;
        c->offset = n;
        c->depth = 1;
    }
    if (!c->bytes) {
        c->bytes = calloc(1, 1);
        if (!c->bytes)
            return -1;
        c->len = 1;
    }
    return 0;
}

/* byte_jump reads its bytes at `distance` after the previous match: the
 * window [E+distance, E+distance+bytes] is its own. */
static int finish_bytejump(reader *r, vp_src_cond *c, cond_reading *cr)
{
    if (cr->nocase_key)
        error_on(r, VP_D_CONDITION, cr->nocase_key, "nocase does not apply to byte_jump");
    if (cr->flags_key)
        error_on(r, VP_D_CONDITION, cr->flags_key, "flags do not apply to byte_jump");
    if (c->flags & VP_C_NEGATE)
        error_at(r, VP_D_CONDITION, c->mark, "a byte_jump cannot be negated");
    if (c->flags & (VP_C_HAS_OFFSET | VP_C_HAS_DEPTH | VP_C_HAS_WITHIN))
        error_at(r, VP_D_CONDITION, c->mark,
                 "byte_jump takes distance only (its bytes are read at the previous match's "
                 "end + distance; offset, depth and within do not apply)");
    else if (!(c->flags & VP_C_HAS_DISTANCE))
        error_at(r, VP_D_CONDITION, c->mark,
                 "byte_jump needs distance (where its bytes start after the previous match)");
    else if (c->distance < 0)
        error_at(r, VP_D_UNSUPPORTED, c->mark,
                 "a byte_jump reads at distance >= 0 in this version");
    if (c->bytes) {
        c->flags |= VP_C_HAS_WITHIN;
        c->within = (uint32_t)c->len;
    }
    return 0;
}

/* The checks that need the whole condition mapping.  -1 on OOM. */
static int finish_cond(reader *r, vp_src_cond *c, cond_reading *cr, const yaml_node_t *map)
{
    char kinds[64];
    if (cr->n_kinds == 0) {
        error_on(r, VP_D_CONDITION, map,
                 "a condition needs one of content, hex, regex, anomaly, isdataat, byte_test or "
                 "byte_jump");
    } else if (cr->n_kinds > 1) {
        list_pattern_kinds(cr, kinds, sizeof kinds);
        error_on(r, VP_D_CONDITION, map,
                 "a condition must have exactly one of content, hex, regex, anomaly, isdataat, "
                 "byte_test or byte_jump, got %s", kinds);
    }
    for (int i = 0; i < cr->n_kinds; i++)
        if (read_pattern(r, c, cr->kinds[i], cr->pattern[cr->kinds[i]]) < 0)
            return -1;
    if (cr->n_kinds > 0) {
        c->pattern_mark = mark_of(cr->pattern[cr->kinds[0]]->start_mark);
        c->is_regex = cr->kinds[0] == PAT_REGEX;
        c->is_anomaly = cr->kinds[0] == PAT_ANOMALY;
        c->is_anybyte = cr->kinds[0] == PAT_ISDATAAT;
        c->is_bytetest = cr->kinds[0] == PAT_BYTETEST;
        c->is_jump = cr->kinds[0] == PAT_BYTEJUMP;
    }
    if (cr->relative_key && !c->is_anybyte)
        error_on(r, VP_D_CONDITION, cr->relative_key,
                 "relative applies to isdataat only (use distance/within for a pattern)");
    if (cr->endswith_key && (c->is_anybyte || c->is_anomaly || c->is_jump || cr->n_kinds == 0))
        error_on(r, VP_D_CONDITION, cr->endswith_key,
                 "endswith applies to content, hex and regex only");
    else if (c->endswith && (c->flags & VP_C_NEGATE))
        error_on(r, VP_D_CONDITION, cr->endswith_key,
                 "endswith cannot be combined with negate: a pattern that does not occur has "
                 "no end to place");
    if (c->is_anybyte)
        return finish_isdataat(r, c, cr);
    if (c->is_jump)
        return finish_bytejump(r, c, cr);
    if (c->is_anomaly) {
        if (cr->modifier_key)
            error_on(r, VP_D_CONDITION, cr->modifier_key,
                     "an anomaly condition takes no modifiers");
        c->flags = (uint32_t)VP_BUF_ANOMALY << VP_BUF_SHIFT;
        return c->bytes ? 0 : ((c->bytes = calloc(1, 1)) ? 0 : -1);
    }
    if (c->is_bytetest) {
        if (cr->nocase_key)
            error_on(r, VP_D_CONDITION, cr->nocase_key, "nocase does not apply to byte_test");
        if (cr->flags_key)
            error_on(r, VP_D_CONDITION, cr->flags_key, "flags do not apply to byte_test");
    } else if (c->is_regex) {
        c->flags |= VP_C_REGEX;
        if (cr->flags_value)
            read_regex_flags(r, c, cr->flags_value);
        if (cr->nocase_key)
            error_on(r, VP_D_CONDITION, cr->nocase_key,
                     "nocase applies to content and hex only (use flags: i for a regex)");
    }
    if (!c->is_regex && !c->is_bytetest && cr->flags_key && cr->n_kinds > 0) {
        error_on(r, VP_D_CONDITION, cr->flags_key,
                 "flags apply to a regex only (use nocase: true for content or hex)");
    }
    if (!c->bytes) { /* the AST promises NUL-terminated bytes */
        c->bytes = calloc(1, 1);
        if (!c->bytes)
            return -1;
    }
    return 0;
}

static int read_cond(reader *r, vp_src_cond *c, cond_reading *cr, const yaml_node_t *map)
{
    shown sh;
    map_iter it;
    const yaml_node_t *key, *value;
    int rc = 0;
    c->mark = mark_of(map->start_mark);
    c->pattern_mark = c->mark;
    c->buffer_mark = c->mark;
    if (map_begin(r, map, &it) < 0)
        return -1;
    while (rc == 0 && map_next(r, &it, &key, &value)) {
        int kind = pattern_kind_of(key);
        const struct modifier *m;
        if (kind >= 0) {
            cr->pattern[kind] = value;
            cr->kinds[cr->n_kinds++] = kind;
        } else if ((m = find_modifier(key)) != NULL) {
            if (!cr->modifier_key)
                cr->modifier_key = key;
            rc = m->read(r, c, cr, key, value);
        } else if (!is_extension_key(key)) {
            error_on(r, VP_D_UNKNOWN_FIELD, key, "unknown condition field '%s'",
                     show_raw(key, &sh));
        }
    }
    map_end(&it);
    return rc == 0 ? finish_cond(r, c, cr, map) : rc;
}

/* A relative regex is compiled into one expression with the conditions its
 * chain starts with (plan.c), which bounds what those may be. */
static void check_relative_regex(reader *r, const vp_src_cond *conds, size_t k)
{
    const vp_src_cond *c = &conds[k];
    if (c->flags & VP_C_HAS_WITHIN) {
        error_at(r, VP_D_UNSUPPORTED, c->mark,
                 "within on a regex is not supported yet (use distance alone)");
        return;
    }
    if ((c->flags & VP_C_NEGATE) || c->distance < 0) {
        error_at(r, VP_D_UNSUPPORTED, c->mark,
                 "a relative regex must be positive with distance >= 0 in this version");
        return;
    }
    size_t h = k;
    while (h > 0 && (conds[h].flags & VP_C_RELATIVE))
        h--;
    for (size_t i = h; i < k; i++) {
        const vp_src_cond *p = &conds[i];
        int head = i == h;
        int ok = !(p->flags & VP_C_NEGATE) && !p->is_anomaly && !p->is_jump &&
                 (head ? !(p->is_regex && (p->flags & VP_C_HAS_DEPTH))
                       : !(p->flags & (VP_C_HAS_OFFSET | VP_C_HAS_DEPTH)) && p->distance >= 0);
        if (!ok) {
            error_at(r, VP_D_UNSUPPORTED, c->mark,
                     "a relative regex needs the conditions before it in its chain to be "
                     "positive, with distance >= 0 and no offset/depth after the first "
                     "(condition at %u:%u)", p->mark.line, p->mark.col);
            return;
        }
    }
}

/* A byte_jump's bytes must still be to come when its predecessor's end is
 * found, and the condition after it counts from a place that lies ahead. */
static void check_bytejump(reader *r, const vp_src_cond *conds, size_t k)
{
    const vp_src_cond *c = &conds[k];
    if (!c->is_jump) {  /* the condition after a byte_jump */
        if ((c->flags & VP_C_NEGATE) || c->is_regex || c->distance < 0)
            error_at(r, VP_D_UNSUPPORTED, c->mark,
                     "a condition relative to a byte_jump must be a positive content, hex, "
                     "byte_test, byte_jump or isdataat with distance >= 0 in this version");
        return;
    }
    if (VP_BUF_OF(c->flags) != VP_BUF_STREAM)
        error_at(r, VP_D_UNSUPPORTED, c->buffer_mark,
                 "byte_jump inspects the stream only in this version");
    if (!(c->flags & VP_C_RELATIVE) || k == 0)
        return; /* reported by finish_bytejump / the first-condition check */
    size_t h = k;
    while (h > 0 && (conds[h].flags & VP_C_RELATIVE))
        h--;
    for (size_t q = h + 1; q < k; q++)
        if ((conds[q].flags & VP_C_HAS_DISTANCE) && conds[q].distance < 0) {
            error_at(r, VP_D_UNSUPPORTED, c->mark,
                     "a byte_jump cannot follow a negative distance in its chain (condition at "
                     "%u:%u)", conds[q].mark.line, conds[q].mark.col);
            return;
        }
}

/* Checks of condition k against the rule's earlier conditions and the
 * engine's limits. */
static void check_cond_in_rule(reader *r, const vp_src_cond *conds, size_t k,
                               const cond_reading *cr)
{
    const vp_src_cond *c = &conds[k];
    int relative = (c->flags & VP_C_RELATIVE) != 0;
    if (relative && k == 0)
        error_at(r, VP_D_CONDITION, c->mark,
                 "the first condition cannot be relative (distance/within)");
    else if (relative && conds[k - 1].is_anybyte)
        error_at(r, VP_D_CONDITION, c->mark,
                 "a relative condition cannot follow isdataat or endswith: they end their chain");
    else if (relative && (conds[k - 1].flags & VP_C_NEGATE))
        error_at(r, VP_D_CONDITION, c->mark,
                 "a relative condition cannot follow a negated condition: "
                 "a negated condition has no match position");
    if (relative && c->is_regex)
        check_relative_regex(r, conds, k);
    if (c->is_jump || (relative && k > 0 && conds[k - 1].is_jump))
        check_bytejump(r, conds, k);
    if (relative && k > 0 && VP_BUF_OF(c->flags) != VP_BUF_OF(conds[k - 1].flags))
        error_at(r, VP_D_CONDITION, c->buffer_mark,
                 "a relative condition must inspect the same buffer as the condition before "
                 "it (%s, not %s)",
                 vp_buf_name((int)VP_BUF_OF(conds[k - 1].flags)),
                 vp_buf_name((int)VP_BUF_OF(c->flags)));
    if (c->is_regex || c->is_anybyte || c->len == 0)
        return;
    if (cr->within && c->within < c->len)
        error_on(r, VP_D_CONDITION, cr->within,
                 "within %" PRIu32 " is shorter than the %s (%zu bytes)", c->within,
                 c->is_bytetest ? "byte_test" : "content", c->len);
    if (cr->depth && c->depth < c->len)
        error_on(r, VP_D_CONDITION, cr->depth,
                 "depth %" PRIu32 " is shorter than the %s (%zu bytes)", c->depth,
                 c->is_bytetest ? "byte_test" : "content", c->len);
    /* Relative matches are found by looking back over the stream: bounded. */
    int distance_ok = cr->distance || !(c->flags & VP_C_HAS_DISTANCE);
    int64_t distance = cr->distance ? c->distance : 0;
    if (cr->within && distance_ok && distance + (int64_t)c->within > (int64_t)VP_MAX_LOOKBACK)
        error_on(r, VP_D_LIMIT, cr->within,
                 "distance + within = %" PRId64 " exceeds the lookback limit of %u bytes",
                 distance + (int64_t)c->within, VP_MAX_LOOKBACK);
    if (cr->distance && -distance > (int64_t)VP_MAX_LOOKBACK)
        error_on(r, VP_D_LIMIT, cr->distance,
                 "distance %" PRId64 " reaches back further than the lookback limit of %u bytes",
                 distance, VP_MAX_LOOKBACK);
}

/* ------------------------------------------------------------ tests */

typedef struct test_reading {
    int has_data, has_expect;
} test_reading;

static int read_test_field(reader *r, vp_src_test *t, test_reading *tr, const yaml_node_t *key,
                           const yaml_node_t *value)
{
    shown sh;
    int x;
    int64_t port;
    if (text_is(key, "data") || text_is(key, "hex")) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        int rc;
        if (text_is(key, "hex")) {
            rc = read_hex(r, value, 1, &bytes, &len);
        } else if (!is_scalar(value) || is_null(value)) {
            bad_value(r, value, "data", "a string");
            rc = 0;
        } else {
            rc = scalar_bytes(r, value, &bytes, &len);
        }
        if (tr->has_data++ > 0 || rc < 0 || !bytes) { /* only the first one counts */
            free(bytes);
            return rc;
        }
        t->data = bytes;
        t->len = len;
    } else if (text_is(key, "expect")) {
        tr->has_expect = 1;
        if (read_enum(r, value, "expect", expect_names, &x))
            t->expect_match = x;
    } else if (text_is(key, "direction")) {
        if (read_enum(r, value, "direction", test_direction_names, &x))
            t->direction = x;
    } else if (text_is(key, "port")) {
        if (read_int_in(r, value, "port", "an integer 0..65535", 0, MAX_PORT, &port)) {
            t->has_port = 1;
            t->port = (uint16_t)port;
        }
    } else if (!is_extension_key(key)) {
        error_on(r, VP_D_UNKNOWN_FIELD, key, "unknown test field '%s'", show_raw(key, &sh));
    }
    return 0;
}

static int read_test(reader *r, vp_src_test *t, const yaml_node_t *map)
{
    map_iter it;
    test_reading tr = {0, 0};
    const yaml_node_t *key, *value;
    int rc = 0;
    t->mark = mark_of(map->start_mark);
    if (map_begin(r, map, &it) < 0)
        return -1;
    while (rc == 0 && map_next(r, &it, &key, &value))
        rc = read_test_field(r, t, &tr, key, value);
    map_end(&it);
    if (rc < 0)
        return -1;
    if (!r->stop && tr.has_data == 0)
        error_on(r, VP_D_MISSING, map, "test is missing required field 'data' (or 'hex')");
    else if (tr.has_data > 1)
        error_on(r, VP_D_CONDITION, map, "a test must have exactly one of data or hex, not both");
    if (!r->stop && !tr.has_expect)
        error_on(r, VP_D_MISSING, map, "test is missing required field 'expect'");
    if (!t->data) { /* keep data always allocated */
        t->data = calloc(1, 1);
        if (!t->data)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ rules */

static int rule_id_field(reader *r, vp_src_rule *rule, const yaml_node_t *v)
{
    int64_t x;
    rule->id_mark = mark_of(v->start_mark);
    if (parse_int(v, &x) && x >= 1 && x <= (int64_t)UINT32_MAX)
        rule->id = (uint32_t)x;
    else
        bad_value(r, v, "id", "an integer 1..4294967295");
    return 0;
}

static int rule_name(reader *r, vp_src_rule *rule, const yaml_node_t *v)
{
    return read_text(r, v, "name", TEXT_NONEMPTY | TEXT_ONE_LINE, &rule->name);
}

static int rule_description(reader *r, vp_src_rule *rule, const yaml_node_t *v)
{
    return read_text(r, v, "description", 0, &rule->description);
}

static int rule_cve(reader *r, vp_src_rule *rule, const yaml_node_t *v)
{
    return read_text_list(r, v, "cve", "cve entry", check_cve, &rule->cves, &rule->n_cves);
}

static int rule_references(reader *r, vp_src_rule *rule, const yaml_node_t *v)
{
    return read_text_list(r, v, "references", "references entry", NULL, &rule->refs,
                          &rule->n_refs);
}

static int rule_tags(reader *r, vp_src_rule *rule, const yaml_node_t *v)
{
    return read_text_list(r, v, "tags", "tags entry", NULL, &rule->tags, &rule->n_tags);
}

static int rule_severity(reader *r, vp_src_rule *rule, const yaml_node_t *v)
{
    read_enum(r, v, "severity", severity_names, &rule->severity);
    return 0;
}

static int rule_cvss(reader *r, vp_src_rule *rule, const yaml_node_t *v)
{
    double x;
    if (parse_decimal(v, &x) && x <= 10.0) {
        rule->has_cvss = 1;
        rule->cvss = x;
    } else {
        bad_value(r, v, "cvss", "a number 0.0..10.0");
    }
    return 0;
}

static int rule_modes(reader *r, vp_src_rule *rule, const yaml_node_t *v)
{
    static const char what[] = "a non-empty list of performance, security";
    if (v->type != YAML_SEQUENCE_NODE || seq_len(v) == 0) {
        bad_kind(r, v, "modes", what);
        return 0;
    }
    unsigned bits = 0;
    int all_valid = 1;
    for (size_t i = 0; i < seq_len(v) && !r->stop; i++) {
        const yaml_node_t *item = visit(r, v->data.sequence.items.start[i]);
        int mode;
        if (item && read_enum(r, item, "modes entry", mode_names, &mode))
            bits |= VP_MODE_BIT(mode);
        else
            all_valid = 0;
    }
    if (bits)
        rule->modes = bits;
    if (all_valid && bits == VP_MODE_BIT(VP_MODE_PERFORMANCE))
        warning_on(r, VP_D_MODES, v, "rule is in performance mode but not in security mode");
    return 0;
}

static int rule_action(reader *r, vp_src_rule *rule, const yaml_node_t *v)
{
    read_enum(r, v, "action", action_names, &rule->action);
    return 0;
}

static int rule_protocol(reader *r, vp_src_rule *rule, const yaml_node_t *v)
{
    read_enum(r, v, "protocol", protocol_names, &rule->proto);
    return 0;
}

static int rule_direction(reader *r, vp_src_rule *rule, const yaml_node_t *v)
{
    read_enum(r, v, "direction", rule_direction_names, &rule->direction);
    return 0;
}

static int rule_service(reader *r, vp_src_rule *rule, const yaml_node_t *v)
{
    rule->service_mark = mark_of(v->start_mark);
    read_enum(r, v, "service", service_names, &rule->service);
    return 0;
}

static const enum_name flowbit_ops[] = {{"set", VP_FB_SET}, {"unset", VP_FB_UNSET},
    {"toggle", VP_FB_TOGGLE}, {"isset", VP_FB_ISSET}, {"isnotset", VP_FB_ISNOTSET}, {NULL, 0}};

/* A flowbit name: 1 to 255 printable ASCII characters without blanks. */
static int check_flowbit_name(reader *r, const yaml_node_t *item, const char *s)
{
    size_t n = strlen(s);
    int ok = n >= 1 && n <= 255;
    for (size_t i = 0; ok && i < n; i++)
        ok = s[i] > ' ' && s[i] < 0x7f;
    if (!ok) {
        shown sh;
        error_on(r, VP_D_TYPE, item,
                 "a flowbit name is 1 to 255 printable characters without blanks, got %s",
                 show(item, &sh));
    }
    return ok;
}

/* flowbits: a list of one-key mappings, {set: NAME} ... {isnotset: NAME}. */
static int rule_flowbits(reader *r, vp_src_rule *rule, const yaml_node_t *v)
{
    static const char what[] = "a non-empty list of {set|unset|toggle|isset|isnotset: NAME}";
    if (v->type != YAML_SEQUENCE_NODE || seq_len(v) == 0) {
        bad_kind(r, v, "flowbits", what);
        return 0;
    }
    size_t n = seq_len(v);
    rule->flowbits = calloc(n, sizeof *rule->flowbits);
    if (!rule->flowbits)
        return -1;
    for (size_t i = 0; i < n && !r->stop; i++) {
        const yaml_node_t *item = visit(r, v->data.sequence.items.start[i]);
        if (!item)
            continue;
        if (item->type != YAML_MAPPING_NODE) {
            bad_kind(r, item, "flowbits entry", "a mapping with one key, e.g. {isset: NAME}");
            continue;
        }
        if (map_len(item) != 1) {
            error_on(r, VP_D_STRUCTURE, item,
                     "a flowbits entry has one key (e.g. {isset: NAME}), got %zu", map_len(item));
            continue;
        }
        map_iter it;
        const yaml_node_t *key, *value;
        if (map_begin(r, item, &it) < 0)
            return -1;
        int rc = 0;
        while (rc == 0 && map_next(r, &it, &key, &value)) {
            int op = 0;
            char *name = NULL;
            if (!read_enum(r, key, "flowbits operation", flowbit_ops, &op))
                continue;
            rc = read_text(r, value, "flowbit name", TEXT_NONEMPTY, &name);
            if (name && !check_flowbit_name(r, value, name)) {
                free(name);
                name = NULL;
            }
            if (name) {
                vp_src_flowbit *fb = &rule->flowbits[rule->n_flowbits++];
                fb->mark = mark_of(item->start_mark);
                fb->op = op;
                fb->name = name;
            }
        }
        map_end(&it);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static const enum_name threshold_types[] = {{"limit", VP_THRESHOLD_LIMIT},
    {"threshold", VP_THRESHOLD_THRESHOLD}, {"both", VP_THRESHOLD_BOTH},
    {"detection_filter", VP_THRESHOLD_DETECTION_FILTER}, {NULL, 0}};
static const enum_name threshold_tracks[] = {{"by_src", VP_TRACK_BY_SRC},
    {"by_dst", VP_TRACK_BY_DST}, {"by_both", VP_TRACK_BY_BOTH}, {"by_rule", VP_TRACK_BY_RULE},
    {NULL, 0}};

/* threshold: {type, track, count, seconds}, all four required. */
static int rule_threshold(reader *r, vp_src_rule *rule, const yaml_node_t *v)
{
    static const char what[] = "a mapping with type, track, count and seconds";
    rule->threshold_mark = mark_of(v->start_mark);
    if (v->type != YAML_MAPPING_NODE) {
        bad_kind(r, v, "threshold", what);
        return 0;
    }
    map_iter it;
    const yaml_node_t *key, *value;
    int type = 0, track = 0, ok = 1, have = 0;
    int64_t count = 0, seconds = 0;
    shown sh;
    if (map_begin(r, v, &it) < 0)
        return -1;
    while (map_next(r, &it, &key, &value)) {
        int got = 0;
        if (text_is(key, "type")) {
            got = read_enum(r, value, "threshold type", threshold_types, &type);
            have |= got << 0;
        } else if (text_is(key, "track")) {
            got = read_enum(r, value, "threshold track", threshold_tracks, &track);
            have |= got << 1;
        } else if (text_is(key, "count")) {
            got = read_int_in(r, value, "threshold count", "a positive integer", 1, UINT32_MAX,
                              &count);
            have |= got << 2;
        } else if (text_is(key, "seconds")) {
            got = read_int_in(r, value, "threshold seconds", "a positive integer", 1,
                              UINT32_MAX, &seconds);
            have |= got << 3;
        } else if (is_extension_key(key)) {
            got = 1;
        } else {
            error_on(r, VP_D_UNKNOWN_FIELD, key, "unknown threshold field '%s'",
                     show_raw(key, &sh));
        }
        ok &= got;
    }
    map_end(&it);
    if (!ok)
        return 0;
    if (have != 0xf) {
        error_on(r, VP_D_MISSING, v, "threshold needs type, track, count and seconds");
        return 0;
    }
    rule->threshold_type = type;
    rule->threshold_track = track;
    rule->threshold_count = (uint32_t)count;
    rule->threshold_seconds = (uint32_t)seconds;
    return 0;
}

/* Thresholds thin out events; a verdict never waits for other streams, and a
 * rule without events has nothing to thin out. */
static void check_rule_threshold(reader *r, const vp_src_rule *rule)
{
    if (rule->threshold_type == VP_THRESHOLD_NONE)
        return;
    if (rule->action == VP_ACTION_BLOCK && rule->threshold_type != VP_THRESHOLD_LIMIT)
        error_at(r, VP_D_CONDITION, rule->threshold_mark,
                 "a block rule's threshold must be of type limit (the verdict of a stream "
                 "cannot wait for matches in other streams); use action: detect");
    if (rule->noalert)
        error_at(r, VP_D_CONDITION, rule->threshold_mark,
                 "a noalert rule has no events for a threshold to thin out");
}

static int rule_noalert(reader *r, vp_src_rule *rule, const yaml_node_t *v)
{
    rule->noalert_mark = mark_of(v->start_mark);
    read_bool(r, v, "noalert", &rule->noalert);
    return 0;
}

static int rule_ports(reader *r, vp_src_rule *rule, const yaml_node_t *v)
{
    port_set ps = {NULL, 0, 0, 0};
    int rc = 0;
    if (v->type == YAML_SEQUENCE_NODE) {
        if (seq_len(v) == 0)
            bad_kind(r, v, "ports", PORTS_WHAT);
        for (size_t i = 0; rc == 0 && i < seq_len(v) && !r->stop; i++) {
            const yaml_node_t *item = visit(r, v->data.sequence.items.start[i]);
            if (item)
                rc = read_port_item(r, item, &ps);
        }
    } else {
        rc = read_port_item(r, v, &ps);
    }
    if (rc < 0 || ps.any || ps.n == 0) { /* any port: no list */
        free(ps.v);
        return rc;
    }
    rule->ports = ps.v;
    rule->n_ports = merge_ranges(ps.v, ps.n);
    return 0;
}

/* `endswith: true` is the negated relative `isdataat: 0`: no byte right
 * after the match, so the match ends the buffer. */
static int append_endswith(vp_src_rule *rule)
{
    const vp_src_cond *c = &rule->conds[rule->n_conds - 1];
    vp_src_cond *e = &rule->conds[rule->n_conds];
    memset(e, 0, sizeof *e);
    e->mark = c->mark;
    e->pattern_mark = c->mark;
    e->buffer_mark = c->buffer_mark;
    e->is_anybyte = 1;
    e->bytes = calloc(1, 1);
    if (!e->bytes)
        return -1;
    e->len = 1;
    e->flags = VP_C_NEGATE | VP_C_HAS_DISTANCE | VP_C_HAS_WITHIN | (c->flags & VP_BUF_MASK);
    e->within = 1;
    rule->n_conds++;
    return 0;
}

static int rule_match(reader *r, vp_src_rule *rule, const yaml_node_t *v)
{
    shown sh;
    if (v->type != YAML_SEQUENCE_NODE || seq_len(v) == 0) {
        bad_kind(r, v, "match", "a non-empty list of conditions");
        return 0;
    }
    /* room for the check each endswith adds */
    rule->conds = calloc(seq_len(v) * 2, sizeof *rule->conds);
    if (!rule->conds)
        return -1;
    for (size_t i = 0; i < seq_len(v) && !r->stop; i++) {
        const yaml_node_t *item = visit(r, v->data.sequence.items.start[i]);
        if (!item)
            continue;
        if (item->type != YAML_MAPPING_NODE) {
            error_on(r, VP_D_STRUCTURE, item, "a condition must be a mapping, got %s",
                     show(item, &sh));
            continue;
        }
        cond_reading cr;
        memset(&cr, 0, sizeof cr);
        if (read_cond(r, &rule->conds[rule->n_conds++], &cr, item) < 0)
            return -1;
        check_cond_in_rule(r, rule->conds, rule->n_conds - 1, &cr);
        if (rule->conds[rule->n_conds - 1].endswith && append_endswith(rule) < 0)
            return -1;
    }
    for (size_t k = 0; k < rule->n_conds; k++)
        if (rule->conds[k].is_jump &&
            (k + 1 == rule->n_conds || !(rule->conds[k + 1].flags & VP_C_RELATIVE)))
            error_at(r, VP_D_CONDITION, rule->conds[k].mark,
                     "a byte_jump must be followed by a relative condition: it moves the "
                     "position that condition counts from");
    return 0;
}

static int rule_tests(reader *r, vp_src_rule *rule, const yaml_node_t *v)
{
    shown sh;
    if (v->type != YAML_SEQUENCE_NODE) {
        bad_kind(r, v, "tests", "a list of tests");
        return 0;
    }
    if (seq_len(v) == 0)
        return 0;
    rule->tests = calloc(seq_len(v), sizeof *rule->tests);
    if (!rule->tests)
        return -1;
    for (size_t i = 0; i < seq_len(v) && !r->stop; i++) {
        const yaml_node_t *item = visit(r, v->data.sequence.items.start[i]);
        if (!item)
            continue;
        if (item->type != YAML_MAPPING_NODE) {
            error_on(r, VP_D_STRUCTURE, item, "a test must be a mapping, got %s", show(item, &sh));
            continue;
        }
        if (read_test(r, &rule->tests[rule->n_tests++], item) < 0)
            return -1;
    }
    return 0;
}

typedef int (*rule_field_fn)(reader *r, vp_src_rule *rule, const yaml_node_t *value);

static const struct rule_field {
    const char *name;
    rule_field_fn read;
    int required;
} rule_fields[] = {
    {"id", rule_id_field, 1},          {"name", rule_name, 1},
    {"description", rule_description, 0}, {"cve", rule_cve, 0},
    {"references", rule_references, 0}, {"severity", rule_severity, 1},
    {"cvss", rule_cvss, 0},            {"tags", rule_tags, 0},
    {"modes", rule_modes, 0},          {"action", rule_action, 0},
    {"protocol", rule_protocol, 0},    {"ports", rule_ports, 0},
    {"direction", rule_direction, 0},  {"match", rule_match, 1},
    {"tests", rule_tests, 0},          {"service", rule_service, 0},
    {"flowbits", rule_flowbits, 0},    {"noalert", rule_noalert, 0},
    {"threshold", rule_threshold, 0},
};
#define N_RULE_FIELDS (sizeof rule_fields / sizeof rule_fields[0])

/* The rule's id before its fields are read, so that every diagnostic of the
 * rule can carry it whatever the field order.  0 when absent or invalid. */
static uint32_t peek_rule_id(const reader *r, const yaml_node_t *map)
{
    for (size_t i = 0; i < map_len(map); i++) {
        const yaml_node_t *k = raw_node(r, map->data.mapping.pairs.start[i].key);
        if (!k || !text_is(k, "id"))
            continue;
        const yaml_node_t *v = raw_node(r, map->data.mapping.pairs.start[i].value);
        int64_t x;
        if (v && parse_int(v, &x) && x >= 1 && x <= (int64_t)UINT32_MAX)
            return (uint32_t)x;
        return 0;
    }
    return 0;
}

/* A buffer that exists only in the other direction can never match. */
static void check_rule_buffers(reader *r, const vp_src_rule *rule)
{
    for (size_t k = 0; k < rule->n_conds; k++) {
        int buf = (int)VP_BUF_OF(rule->conds[k].flags);
        int dirs = vp_buf_directions(buf);
        if ((rule->direction == VP_DIR_TO_SERVER && !(dirs & VP_BUFDIR_SERVER)) ||
            (rule->direction == VP_DIR_TO_CLIENT && !(dirs & VP_BUFDIR_CLIENT)))
            error_at(r, VP_D_CONDITION, rule->conds[k].buffer_mark,
                     "buffer %s exists only %s, but the rule inspects %s", vp_buf_name(buf),
                     dirs & VP_BUFDIR_SERVER ? "to_server" : "to_client",
                     rule->direction == VP_DIR_TO_SERVER ? "to_server" : "to_client");
    }
}

/* A service is recognised on the raw stream: HTTP buffers need a message of
 * the HTTP parser anyway, and UDP has no stream start to recognise. */
static void check_rule_service(reader *r, const vp_src_rule *rule)
{
    if (rule->service != VP_SERVICE_HTTP)
        return;
    if (rule->proto != VP_PROTO_TCP)
        error_at(r, VP_D_UNSUPPORTED, rule->service_mark, "service http needs protocol tcp");
    for (size_t k = 0; k < rule->n_conds; k++) {
        int buf = (int)VP_BUF_OF(rule->conds[k].flags);
        if (buf != VP_BUF_STREAM)
            error_at(r, VP_D_CONDITION, rule->conds[k].buffer_mark,
                     "a rule with service http inspects the stream only, but this condition "
                     "inspects %s (HTTP buffers exist only in HTTP messages anyway)",
                     buf == VP_BUF_ANOMALY ? "HTTP anomalies" : vp_buf_name(buf));
    }
}

static int read_rule(reader *r, const vp_src_file *out, vp_src_rule *rule,
                     const yaml_node_t *map)
{
    shown sh;
    map_iter it;
    const yaml_node_t *key, *value;
    uint32_t seen = 0;
    int rc = 0;
    rule->mark = mark_of(map->start_mark);
    rule->id_mark = rule->mark;
    rule->file = out->path;
    rule->modes = VP_MODE_BIT(VP_MODE_SECURITY);
    rule->action = VP_ACTION_BLOCK;
    rule->proto = VP_PROTO_TCP;
    rule->direction = VP_DIR_TO_SERVER;
    r->rule_id = peek_rule_id(r, map);
    if (map_begin(r, map, &it) < 0)
        return -1;
    while (rc == 0 && map_next(r, &it, &key, &value)) {
        size_t f = 0;
        while (f < N_RULE_FIELDS && !text_is(key, rule_fields[f].name))
            f++;
        if (f < N_RULE_FIELDS) {
            seen |= 1u << f;
            rc = rule_fields[f].read(r, rule, value);
        } else if (!is_extension_key(key)) {
            error_on(r, VP_D_UNKNOWN_FIELD, key, "unknown rule field '%s'", show_raw(key, &sh));
        }
    }
    map_end(&it);
    for (size_t f = 0; rc == 0 && !r->stop && f < N_RULE_FIELDS; f++)
        if (rule_fields[f].required && !(seen & (1u << f)))
            error_at(r, VP_D_MISSING, rule->mark, "rule is missing required field '%s'",
                     rule_fields[f].name);
    if (rc == 0 && !rule->name) { /* consumers may print it even after errors */
        rule->name = calloc(1, 1);
        if (!rule->name)
            rc = -1;
    }
    if (rc == 0)
        check_rule_buffers(r, rule);
    if (rc == 0)
        check_rule_service(r, rule);
    if (rc == 0 && rule->noalert && rule->action == VP_ACTION_BLOCK)
        error_at(r, VP_D_CONDITION, rule->noalert_mark,
                 "noalert needs action: detect (a rule without events cannot block)");
    if (rc == 0)
        check_rule_threshold(r, rule);
    r->rule_id = 0;
    return rc;
}

static int read_rules(reader *r, vp_src_file *out, const yaml_node_t *seq)
{
    shown sh;
    if (seq->type != YAML_SEQUENCE_NODE) {
        bad_kind(r, seq, "rules", "a list of rules");
        return 0;
    }
    size_t n = seq_len(seq);
    if (n == 0)
        return 0;
    out->rules = calloc(n, sizeof *out->rules);
    r->spans = calloc(n, sizeof *r->spans);
    if (!out->rules || !r->spans)
        return -1;
    for (size_t i = 0; i < n && !r->stop; i++) {
        const yaml_node_t *item = visit(r, seq->data.sequence.items.start[i]);
        if (!item)
            continue;
        if (item->type != YAML_MAPPING_NODE) {
            error_on(r, VP_D_STRUCTURE, item, "a rule must be a mapping, got %s", show(item, &sh));
            continue;
        }
        vp_src_rule *rule = &out->rules[out->n_rules++];
        if (read_rule(r, out, rule, item) < 0)
            return -1;
        rule_span *span = &r->spans[r->n_spans++];
        span->start = item->start_mark.index;
        span->end = item->end_mark.index;
        span->id = rule->id;
    }
    return 0;
}

/* ------------------------------------------------------------ file */

static void read_format(reader *r, const yaml_node_t *v)
{
    shown sh;
    int64_t x;
    if (!is_scalar(v))
        bad_kind(r, v, "format", "1");
    else if (!parse_int(v, &x))
        error_on(r, VP_D_FORMAT, v, "unsupported format %s, expected 1", show(v, &sh));
    else if (x != 1)
        error_on(r, VP_D_FORMAT, v, "unsupported format %s, expected 1", show_raw(v, &sh));
}

static int read_file_mapping(reader *r, vp_src_file *out, const yaml_node_t *root)
{
    shown sh;
    map_iter it;
    const yaml_node_t *key, *value;
    int has_format = 0, has_rules = 0, rc = 0;
    if (map_begin(r, root, &it) < 0)
        return -1;
    while (rc == 0 && map_next(r, &it, &key, &value)) {
        if (text_is(key, "format")) {
            has_format = 1;
            read_format(r, value);
        } else if (text_is(key, "ruleset")) {
            rc = read_text(r, value, "ruleset", 0, &out->ruleset);
        } else if (text_is(key, "rules")) {
            has_rules = 1;
            rc = read_rules(r, out, value);
        } else if (!is_extension_key(key)) {
            error_on(r, VP_D_UNKNOWN_FIELD, key, "unknown top-level field '%s'",
                     show_raw(key, &sh));
        }
    }
    map_end(&it);
    if (rc == 0 && !r->stop && !has_format)
        error_on(r, VP_D_MISSING, root, "the file is missing required field 'format'");
    if (rc == 0 && !r->stop && !has_rules)
        error_on(r, VP_D_MISSING, root, "the file is missing required field 'rules'");
    return rc;
}

static int read_root(reader *r, vp_src_file *out)
{
    shown sh;
    yaml_node_t *root = yaml_document_get_root_node(r->doc);
    if (!root) {
        vp_mark start = {1, 1};
        error_at(r, VP_D_STRUCTURE, start,
                 "the file is empty: expected a mapping with 'format' and 'rules'");
        return 0;
    }
    root = visit(r, 1);
    if (root->type != YAML_MAPPING_NODE) {
        error_on(r, VP_D_STRUCTURE, root,
                 "the file must be a mapping with 'format' and 'rules', got %s", show(root, &sh));
        return 0;
    }
    return read_file_mapping(r, out, root);
}

/* ------------------------------------------------------------ whole-file checks */

static uint32_t enclosing_rule_id(const reader *r, size_t index)
{
    size_t lo = 0, hi = r->n_spans;
    while (lo < hi) { /* last span starting at or before index */
        size_t mid = lo + (hi - lo) / 2;
        if (r->spans[mid].start <= index)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0 && index < r->spans[lo - 1].end)
        return r->spans[lo - 1].id;
    return 0;
}

/* Duplicate keys in mappings the walk did not read (extension fields, values
 * of the wrong type): "anywhere" means anywhere.  -1 on OOM. */
static int check_unread_mappings(reader *r)
{
    for (size_t i = 0; i < r->n_nodes; i++) {
        const yaml_node_t *n = r->doc->nodes.start + i;
        if (n->type != YAML_MAPPING_NODE || r->keys_checked[i] || map_len(n) == 0)
            continue;
        r->keys_checked[i] = 1;
        uint8_t *skip = calloc(map_len(n), 1);
        if (!skip)
            return -1;
        r->rule_id = enclosing_rule_id(r, n->start_mark.index);
        int rc = mark_bad_keys(r, n, skip, 1);
        r->rule_id = 0;
        free(skip);
        if (rc < 0)
            return -1;
    }
    return 0;
}

typedef struct id_ref {
    uint32_t id;
    size_t rule;
} id_ref;

static int compare_ids(const void *a, const void *b)
{
    const id_ref *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return (x->rule > y->rule) - (x->rule < y->rule);
}

/* Rule ids are unique within the file (sorted: O(n log n)).  -1 on OOM. */
static int check_duplicate_ids(reader *r, const vp_src_file *out)
{
    if (out->n_rules < 2)
        return 0;
    id_ref *ids = malloc(out->n_rules * sizeof *ids);
    if (!ids)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < out->n_rules; i++)
        if (out->rules[i].id != 0)
            ids[n++] = (id_ref){out->rules[i].id, i};
    qsort(ids, n, sizeof *ids, compare_ids);
    for (size_t j = 1, first = 0; j < n; j++) {
        if (ids[j].id != ids[first].id) {
            first = j;
            continue;
        }
        const vp_src_rule *orig = &out->rules[ids[first].rule];
        r->rule_id = ids[j].id;
        error_at(r, VP_D_DUPLICATE_ID, out->rules[ids[j].rule].id_mark,
                 "duplicate rule id %" PRIu32 " (first defined at %" PRIu32 ":%" PRIu32 ")",
                 ids[j].id, orig->id_mark.line, orig->id_mark.col);
    }
    r->rule_id = 0;
    free(ids);
    return 0;
}

/* ------------------------------------------------------------ YAML errors */

/* Reader errors (bad UTF-8, control characters) come as a byte offset. */
static vp_mark mark_of_offset(const reader *r, size_t offset)
{
    vp_mark m = {1, 1};
    if (offset > r->len)
        offset = r->len;
    for (size_t i = 0; i < offset; i++) {
        if (r->text[i] == '\n') {
            m.line++;
            m.col = 1;
        } else if ((r->text[i] & 0xC0) != 0x80 && m.col < UINT32_MAX) {
            m.col++;
        }
    }
    return m;
}

/* -1 when libyaml ran out of memory, else 0 with a diagnostic. */
static int report_yaml_error(reader *r, const yaml_parser_t *p)
{
    const char *problem = p->problem ? p->problem : "YAML syntax error";
    /* libyaml's loader fails some allocations without recording an error. */
    if (p->error == YAML_MEMORY_ERROR || p->error == YAML_NO_ERROR)
        return -1;
    if (p->error == YAML_READER_ERROR) {
        vp_mark at = mark_of_offset(r, p->problem_offset);
        if (p->problem_value >= 0)
            error_at(r, VP_D_YAML, at, "%s (0x%02x)", problem, (unsigned)p->problem_value);
        else
            error_at(r, VP_D_YAML, at, "%s", problem);
        return 0;
    }
    vp_mark at = mark_of(p->problem_mark);
    vp_mark ctx = mark_of(p->context_mark);
    if (p->context && (ctx.line != at.line || ctx.col != at.col)) {
        error_at(r, VP_D_YAML, at, "%s (%s at %" PRIu32 ":%" PRIu32 ")", problem, p->context,
                 ctx.line, ctx.col);
    } else if (p->context) {
        error_at(r, VP_D_YAML, at, "%s (%s)", problem, p->context);
    } else {
        error_at(r, VP_D_YAML, at, "%s", problem);
    }
    return 0;
}

/* libyaml's scanner is quadratic in the flow nesting depth, and its loader
 * resolves each alias by a linear search over the anchors.  This event-level
 * pass (linear, since it stops at the limits) refuses such sources before a
 * document is built.  Syntax errors are left to the loader, which reports
 * them.  Returns 1 when the source may be loaded, 0 when refused (reported),
 * -1 on OOM. */
static int check_yaml_shape(reader *r)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return -1;
    yaml_parser_set_input_string(&p, r->len ? r->text : (const unsigned char *)"", r->len);
    size_t depth = 0, anchors = 0, aliases = 0;
    int verdict = 1, done = 0;
    while (!done && verdict == 1) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            verdict = p.error == YAML_MEMORY_ERROR ? -1 : 1;
            break;
        }
        const yaml_char_t *anchor = NULL;
        switch (ev.type) {
        case YAML_SEQUENCE_START_EVENT:
            anchor = ev.data.sequence_start.anchor;
            depth++;
            break;
        case YAML_MAPPING_START_EVENT:
            anchor = ev.data.mapping_start.anchor;
            depth++;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        case YAML_SCALAR_EVENT:
            anchor = ev.data.scalar.anchor;
            break;
        case YAML_ALIAS_EVENT:
            aliases++;
            break;
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        default:
            break;
        }
        anchors += anchor != NULL;
        vp_mark at = mark_of(ev.start_mark);
        if (depth > MAX_YAML_DEPTH) {
            error_at(r, VP_D_LIMIT, at, "YAML nesting is deeper than %u levels", MAX_YAML_DEPTH);
            verdict = 0;
        } else if (anchors > MAX_YAML_ANCHORS) {
            error_at(r, VP_D_LIMIT, at, "more than %u YAML anchors in one file", MAX_YAML_ANCHORS);
            verdict = 0;
        } else if (aliases > MAX_YAML_ALIASES) {
            error_at(r, VP_D_LIMIT, at, "more than %u YAML aliases in one file", MAX_YAML_ALIASES);
            verdict = 0;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return verdict;
}

/* A rule file is one document: anything after it is reported.  -1 on OOM. */
static int check_single_document(reader *r, yaml_parser_t *p)
{
    yaml_document_t next;
    if (!yaml_parser_load(p, &next))
        return report_yaml_error(r, p);
    const yaml_node_t *root = yaml_document_get_root_node(&next);
    if (root)
        error_on(r, VP_D_STRUCTURE, root,
                 "a rule file holds one YAML document; another one starts here");
    yaml_document_delete(&next);
    return 0;
}

static int read_document(reader *r, vp_src_file *out, yaml_parser_t *parser)
{
    yaml_document_t doc;
    if (!yaml_parser_load(parser, &doc))
        return report_yaml_error(r, parser);
    r->doc = &doc;
    r->n_nodes = (size_t)(doc.nodes.top - doc.nodes.start);
    r->keys_checked = calloc(r->n_nodes + 1, 1);
    int rc = r->keys_checked ? 0 : -1;
    int empty = yaml_document_get_root_node(&doc) == NULL;
    if (rc == 0)
        rc = read_root(r, out);
    if (rc == 0 && !empty)
        rc = check_single_document(r, parser);
    if (rc == 0)
        rc = check_unread_mappings(r);
    yaml_document_delete(&doc);
    r->doc = NULL;
    return rc;
}

/* ------------------------------------------------------------ entry points */

typedef struct sortable_diag {
    vp_diag diag;
    size_t seq;
} sortable_diag;

static int compare_diag_positions(const void *a, const void *b)
{
    const sortable_diag *x = a, *y = b;
    if (x->diag.line != y->diag.line)
        return x->diag.line < y->diag.line ? -1 : 1;
    if (x->diag.col != y->diag.col)
        return x->diag.col < y->diag.col ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Puts this source's diagnostics in source order (stable).  Some checks run
 * after the walk (duplicate ids, stray duplicate keys); sorting is simpler
 * than interleaving them.  Without memory the order is left as found. */
static void sort_diags_from(vp_diags *d, size_t from)
{
    size_t n = d->n - from;
    if (n < 2)
        return;
    sortable_diag *tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        return;
    for (size_t i = 0; i < n; i++) {
        tmp[i].diag = d->v[from + i];
        tmp[i].seq = i;
    }
    qsort(tmp, n, sizeof *tmp, compare_diag_positions);
    for (size_t i = 0; i < n; i++)
        d->v[from + i] = tmp[i].diag;
    free(tmp);
}

int vp_reader_parse(const char *path, const uint8_t *text, size_t len, vp_src_file *out,
                    vp_diags *diags)
{
    if (!out || !diags)
        return -1;
    memset(out, 0, sizeof *out);
    if (!text)
        len = 0;
    const char *name = path ? path : "";
    out->path = malloc(strlen(name) + 1);
    if (!out->path)
        return -1;
    strcpy(out->path, name);

    reader r;
    memset(&r, 0, sizeof r);
    r.file = out->path;
    r.text = text;
    r.len = len;
    r.diags = diags;
    /* libyaml transcodes UTF-16 (recognised by its BOM): then the source text
     * cannot be re-read, and libyaml's values are used as they are. */
    r.source_usable = !(len >= 2 && ((text[0] == 0xFE && text[1] == 0xFF) ||
                                     (text[0] == 0xFF && text[1] == 0xFE)));
    r.source_base = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    r.budget = (uint64_t)len * WORK_PER_BYTE + WORK_BASE;

    size_t first_diag = diags->n;
    int oom_before = diags->oom;
    int rc = -1;
    yaml_parser_t parser;
    rc = check_yaml_shape(&r);
    if (rc <= 0) {
        rc = rc < 0 ? -1 : 0;
    } else if (!yaml_parser_initialize(&parser)) {
        rc = -1;
    } else {
        yaml_parser_set_input_string(&parser, len ? text : (const unsigned char *)"", len);
        rc = read_document(&r, out, &parser);
        yaml_parser_delete(&parser);
    }
    if (rc == 0)
        rc = check_duplicate_ids(&r, out);
    sort_diags_from(diags, first_diag);
    free(r.checkpoints);
    free(r.keys_checked);
    free(r.spans);
    if (rc == 0 && diags->oom && !oom_before)
        rc = -1;
    if (rc != 0)
        vp_src_file_free(out);
    return rc;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void free_rule(vp_src_rule *rule)
{
    free(rule->name);
    free(rule->description);
    free_strings(rule->cves, rule->n_cves);
    free_strings(rule->refs, rule->n_refs);
    free_strings(rule->tags, rule->n_tags);
    free(rule->ports);
    for (size_t i = 0; i < rule->n_conds; i++)
        free(rule->conds[i].bytes);
    free(rule->conds);
    for (size_t i = 0; i < rule->n_tests; i++)
        free(rule->tests[i].data);
    free(rule->tests);
    for (size_t i = 0; i < rule->n_flowbits; i++)
        free(rule->flowbits[i].name);
    free(rule->flowbits);
}

void vp_src_file_free(vp_src_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_rules; i++)
        free_rule(&f->rules[i]);
    free(f->rules);
    free(f->path);
    free(f->ruleset);
    memset(f, 0, sizeof *f);
}
